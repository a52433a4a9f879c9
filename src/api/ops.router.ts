// Operational endpoints (issue 3 §5): /healthz (liveness), /readyz (readiness), /metrics, /openapi.json, /docs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import type { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';

export interface ReadinessCheck {
  name: string;
  /** Resolve with ok=false (or throw) when not ready. `detail` must not contain secrets. */
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export function loadOpenApi(file: string): Record<string, unknown> {
  return parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function createOpsRouter(deps: { checks: ReadinessCheck[]; registry: Registry; openApi: Record<string, unknown> }): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  r.get('/readyz', async (_req, res) => {
    const results = await Promise.all(deps.checks.map(async (c) => {
      try {
        const out = await withTimeout(c.check(), 5000);
        return { name: c.name, ok: out.ok, ...(out.detail !== undefined ? { detail: out.detail } : {}) };
      } catch {
        return { name: c.name, ok: false, detail: 'check failed' };
      }
    }));
    const ok = results.every((x) => x.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks: results });
  });
  r.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  r.get('/openapi.json', (_req, res) => { res.json(deps.openApi); });
  // Interactive docs: swagger-ui-dist assets plus our own initializer, so the CSP can stay 'self'-only.
  const require = createRequire(import.meta.url);
  const uiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  r.get('/docs', (_req, res) => {
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sändebud API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`);
  });
  r.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });\n");
  });
  r.use('/docs/assets', express.static(uiDir, { index: false, fallthrough: false }));
  return r;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error('check failed')); });
  });
}
