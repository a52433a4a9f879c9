// Operational endpoints (issue 3 §5): /healthz (liveness), /readyz (readiness), /metrics, /openapi.json, /docs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

type Doc = { paths?: Record<string, unknown>; components?: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/**
 * The API contract: `contracts/api/openapi.yaml` plus one part per feature in `contracts/api/parts/*.yaml`
 * (each holding `paths` and `components`), merged into one document. A name defined twice is an error,
 * so two features cannot silently overwrite each other's schemas.
 */
export function loadOpenApi(file: string): Record<string, unknown> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Doc;
  const partsDir = path.join(path.dirname(file), 'parts');
  const parts = existsSync(partsDir) ? readdirSync(partsDir).filter((f) => f.endsWith('.yaml')).sort() : [];
  for (const f of parts) {
    const part = parseYaml(readFileSync(path.join(partsDir, f), 'utf8')) as Doc;
    for (const [p, item] of Object.entries(part.paths ?? {})) {
      doc.paths ??= {};
      if (p in doc.paths) throw new Error(`OpenAPI part ${f}: path ${p} is already defined`);
      doc.paths[p] = item;
    }
    for (const [section, entries] of Object.entries(part.components ?? {})) {
      doc.components ??= {};
      const target = (doc.components[section] ??= {});
      for (const [name, value] of Object.entries(entries)) {
        if (name in target) throw new Error(`OpenAPI part ${f}: components.${section}.${name} is already defined`);
        target[name] = value;
      }
    }
  }
  return doc;
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
