// The real `src/main.ts` as a child process, the way a user starts it: for the start-up and two-gateway
// tests and for bench:sdk. Embedded defaults unless the caller passes DATABASE_URL / REDIS_URL; PORT and
// simulator ports are free ports.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface MainProcess {
  url: string;
  pid: number;
  /** The dev identity provider's issuer, when the caller asked to wait for it. */
  issuer?: string;
  /** What the process printed (stdout, then stderr; the last 200,000 and 20,000 characters). */
  output(): string;
  stdout(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function baseEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', PORT: '0', SIMULATORS_PORT_BASE: '0', LOG_LEVEL: 'warn' };
  delete base.DATABASE_URL;
  delete base.REDIS_URL;
  return { ...base, ...env };
}

export interface StartOptions {
  /** Also wait until the dev identity provider's URL is logged (MainProcess.issuer). */
  waitForIssuer?: boolean;
  /** Node options before `--import tsx` (e.g. a preloaded probe). */
  nodeArgs?: string[];
  /** Called with every complete stdout line (pino JSON). */
  onStdoutLine?: (line: string) => void;
}

/** Start src/main.ts and resolve once its banner (and, with waitForIssuer, the identity provider's URL) is printed. */
export function startMainProcess(env: Record<string, string | undefined>, opts: StartOptions = {}): Promise<MainProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    // Bounded: a gateway logging at info for minutes must not grow this process without limit.
    out = (out + d.toString()).slice(-200_000);
    if (opts.onStdoutLine === undefined) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) opts.onStdoutLine(line);
  });
  child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20_000); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /Sändebud is running on (http:\/\/\S+)/.exec(out);
      const idp = /"identityProvider":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1] && (!opts.waitForIssuer || idp?.[1]) && child.pid !== undefined) {
        clearInterval(timer);
        resolve({ url: m[1], pid: child.pid, issuer: idp?.[1], output: () => out + err, stdout: () => out, stop: async () => { child.kill('SIGTERM'); return exited; } });
      }
    }, 100);
    void exited.then((code) => { clearInterval(timer); reject(new Error(`main exited with ${code}: ${(err || out).slice(0, 3000)}`)); });
  });
}

/** Run src/main.ts until it exits by itself (bad configuration); its exit code and stderr. The environment is taken as given. */
export function runMainProcess(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('exit', (code) => resolve({ code, stderr: err }));
  });
}

/** A TCP port nobody listens on right now (for processes that must know each other's ports in advance). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A client-credentials token from the dev identity provider at `issuer` for the dev `case-system` client. */
export async function caseSystemToken(issuer: string, scopes: readonly string[]): Promise<string> {
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('case-system:dev-case-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'urn:sandebud:api', scope: scopes.join(' ') }),
  });
  const json = (await res.json()) as { access_token?: string; error?: string };
  if (!json.access_token) throw new Error(`token request failed: ${json.error ?? res.status}`);
  return json.access_token;
}
