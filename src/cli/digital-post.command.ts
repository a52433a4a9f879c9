// `sandebud digital-post` (issue 5, "CLI"; digital-post.md §5.4 reasons): check reachability and send a letter
// through a running gateway's REST API (contracts/api/parts/digital-post.yaml). Talks HTTP only: it never opens
// the database or the adapters, so it works against any gateway it can reach.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KEYS } from '../config/index.js';
import { FINAL_STATUSES, type DeliveryStatus } from '../domain/delivery-status.js';
import { AppError } from '../domain/errors.js';

/** Where the command writes (the dispatcher's Io; declared here so this module does not import the dispatcher). */
export interface CliIo { stdout: (s: string) => void; stderr: (s: string) => void }
type Env = Record<string, string | undefined>;

const SCOPE_SEND = 'urn:sandebud:digital-post:send';
const SCOPE_READ = 'urn:sandebud:digital-post:read';
const DEFAULT_URL = 'http://localhost:3000';
/** The gateway's default API_AUDIENCE, and the default OIDC_ISSUER: the dev identity provider of `npm start`. */
const DEFAULT_RESOURCE = KEYS.API_AUDIENCE.default;
const DEFAULT_ISSUER = KEYS.OIDC_ISSUER.default;
/**
 * Development fallback (no SANDEBUD_CLIENT_ID/SECRET): the dev identity provider's case-system client.
 * Used only against a gateway on a loopback address, i.e. `npm start` on this machine.
 */
const DEV_CLIENT = { id: 'case-system', secret: 'dev-case-secret' } as const;
/** The reachability API takes at most this many ids per call; the CLI splits longer lists. */
const REACHABILITY_CHUNK = 1000;
const DEFAULT_SUPPORT_TEXT = 'Kontakta avsändaren om du har frågor om brevet.';

export const DIGITAL_POST_USAGE = `Usage:
  sandebud digital-post reachability <id>… [--json] [--url URL] [auth options]
  sandebud digital-post send --to <id> --subject <text> --file <path> [options] [--url URL] [auth options]

reachability   Ask FaR (through the gateway) whether each recipient can get digital post; sends nothing.
               --json prints one JSON array:
                 [{"recipient":"…","reachable":true|false,"reason":"…","operator":"<name>"|null}]
               reason is one of REACHABLE, NOT_REGISTERED, ACCOUNT_NOT_SECURE, SENDER_NOT_ACCEPTED, PENDING,
               NO_SERVICE_SUPPLIER, NO_SERVICE_ADDRESS, OPERATOR_NOT_ALLOWED, RECIPIENT_UNDER_18 (digital-post.md §5.4).

send           Send one letter (digitally when reachable, otherwise on paper).
  --to <id>                 personnummer, samordningsnummer (12 digits) or organisation number
  --subject <text>          at most 255 characters
  --file <path>             the body: .pdf → application/pdf, .html/.htm → text/html, anything else → text/plain (UTF-8)
  --address-name, --street, --postal-code, --town
                            postal address for the paper fallback (all four, or none)
  --support-text <text>     support information shown with the letter (default: a generic Swedish sentence)
  --support-phone, --support-email, --support-url
  --unit <name>             the sending function/unit, e.g. "Socialtjänsten"
  --reference <text>        sender's reference (never a personnummer)
  --digital-only            no paper fallback: fail with DIGITAL_ONLY_NOT_REACHABLE instead
  --idempotency-key <key>   default: a fresh random key (printed, so a retry can reuse it)
  --wait                    poll until the letter is final (or HELD) and print the outcome
  --timeout <seconds>       how long --wait waits (default 300)
  --json                    print the answer (and with --wait the final letter) as JSON

Common options:
  --url <url>               the gateway (default ${DEFAULT_URL})
  --issuer <url>            OpenID Provider issuing the client-credentials token
                            (default: $SANDEBUD_ISSUER, else $OIDC_ISSUER, else ${DEFAULT_ISSUER},
                            the development identity provider of \`npm start\`)
  --resource <uri>          the API audience (default ${DEFAULT_RESOURCE})

Authentication: client credentials from SANDEBUD_CLIENT_ID / SANDEBUD_CLIENT_SECRET. Without them, and only for a
gateway on localhost, the CLI uses the development identity provider's "${DEV_CLIENT.id}" client (development only).

Exit codes: 0 done (send --wait: DELIVERED or PRINTED); 1 the gateway, the provider or the letter failed
(send --wait: FAILED, REJECTED, CANCELLED, HELD or timeout); 2 usage error.
`;

const usageError = (message: string): AppError => new AppError('CLI_USAGE', `${message} (see \`sandebud digital-post --help\`)`, { status: 400 });

/** A gateway or identity-provider failure, already formatted for a person. */
class RemoteError extends Error {}

interface Common { url: string; issuer: string; resource: string; clientId: string; clientSecret: string; devFallback: boolean }

function isLoopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname.endsWith('.localhost');
}

function parseUrl(raw: string, option: string): URL {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw usageError(`${option}: not an http(s) URL: ${raw}`);
  }
}

function commonOptions(values: { url?: string; issuer?: string; resource?: string }, env: Env): Common {
  const url = parseUrl(values.url ?? DEFAULT_URL, '--url');
  const issuer = parseUrl(values.issuer ?? env.SANDEBUD_ISSUER ?? env.OIDC_ISSUER ?? DEFAULT_ISSUER, '--issuer');
  const base = { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, issuer: issuer.href.replace(/\/+$/, ''), resource: values.resource ?? DEFAULT_RESOURCE };
  const id = env.SANDEBUD_CLIENT_ID;
  const secret = env.SANDEBUD_CLIENT_SECRET;
  if ((id === undefined) !== (secret === undefined)) throw usageError('Set both SANDEBUD_CLIENT_ID and SANDEBUD_CLIENT_SECRET, or neither.');
  if (id !== undefined && secret !== undefined) return { ...base, clientId: id, clientSecret: secret, devFallback: false };
  if (!isLoopback(url)) throw usageError(`Set SANDEBUD_CLIENT_ID and SANDEBUD_CLIENT_SECRET: the development client is used only for a gateway on localhost (not ${url.host}).`);
  return { ...base, clientId: DEV_CLIENT.id, clientSecret: DEV_CLIENT.secret, devFallback: true };
}

const COMMON_OPTIONS = {
  url: { type: 'string' },
  issuer: { type: 'string' },
  resource: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** node:util parseArgs errors (unknown option, missing value) are usage errors. */
function parsing<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------

async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    throw new RemoteError(`${what} at ${new URL(url).origin} could not be reached${typeof cause === 'string' ? ` (${cause})` : ''}.`);
  }
}

/** Turn a problem+json answer (style.md convention 3) into lines for a person: title, detail, each field error. */
async function describeProblem(res: Response, what: string): Promise<string> {
  const text = await res.text();
  let p: unknown;
  try { p = JSON.parse(text); } catch { p = undefined; }
  const lines = [`${what} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`];
  if (typeof p === 'object' && p !== null) {
    const o = p as { title?: unknown; detail?: unknown; code?: unknown; errors?: unknown; correlationId?: unknown };
    if (typeof o.title === 'string') lines[0] = `${what} answered ${res.status}: ${o.title}${typeof o.code === 'string' ? ` (${o.code})` : ''}`;
    if (typeof o.detail === 'string') lines.push(`  ${o.detail}`);
    if (Array.isArray(o.errors)) {
      for (const e of o.errors as unknown[]) {
        const f = e as { field?: unknown; message?: unknown };
        lines.push(`  - ${typeof f.field === 'string' ? f.field : '?'}: ${typeof f.message === 'string' ? f.message : JSON.stringify(e)}`);
      }
    }
    if (typeof o.correlationId === 'string') lines.push(`  correlation id: ${o.correlationId}`);
  }
  return lines.join('\n');
}

async function accessToken(c: Common, scopes: string[]): Promise<string> {
  const metaRes = await request(`${c.issuer}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } }, 'The identity provider');
  if (!metaRes.ok) throw new RemoteError(`The identity provider ${c.issuer} has no discovery document (${metaRes.status}). Check --issuer.`);
  const meta = (await metaRes.json()) as { token_endpoint?: unknown };
  if (typeof meta.token_endpoint !== 'string') throw new RemoteError(`The identity provider ${c.issuer} names no token endpoint.`);
  const res = await request(meta.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: c.resource, scope: scopes.join(' ') }),
  }, 'The identity provider');
  const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown; error_description?: unknown };
  if (!res.ok || typeof body.access_token !== 'string') {
    const why = [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ');
    throw new RemoteError(`The identity provider refused client "${c.clientId}" (${res.status}${why ? `, ${why}` : ''}).`);
  }
  return body.access_token;
}

async function api(c: Common, token: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await request(`${c.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  }, 'The gateway');
  if (res.status >= 400) throw new RemoteError(await describeProblem(res, 'The gateway'));
  return { status: res.status, json: await res.json() };
}

function devNotice(c: Common, io: CliIo): void {
  if (c.devFallback) io.stderr(`sandebud: DEVELOPMENT: no SANDEBUD_CLIENT_ID set; using the dev identity provider's "${DEV_CLIENT.id}" client at ${c.issuer}\n`);
}

// ---------------------------------------------------------------------------------------------------
// reachability
// ---------------------------------------------------------------------------------------------------

export interface ReachabilityRow { recipient: string; reachable: boolean; reason: string; operator: string | null }

function table(rows: ReachabilityRow[]): string {
  const cells = [['RECIPIENT', 'REACHABLE', 'REASON', 'OPERATOR'], ...rows.map((r) => [r.recipient, r.reachable ? 'yes' : 'no', r.reason, r.operator ?? '-'])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join('  ').trimEnd()).join('\n') + '\n';
}

async function reachability(argv: string[], io: CliIo, env: Env): Promise<number> {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) { io.stdout(DIGITAL_POST_USAGE); return 0; }
  if (positionals.length === 0) throw usageError('reachability needs at least one recipient id.');
  const c = commonOptions(values, env);
  devNotice(c, io);
  const token = await accessToken(c, [SCOPE_READ]);
  const rows: ReachabilityRow[] = [];
  for (let i = 0; i < positionals.length; i += REACHABILITY_CHUNK) {
    const { json } = await api(c, token, 'POST', '/v1/digital-post/reachability', { recipients: positionals.slice(i, i + REACHABILITY_CHUNK) });
    if (!Array.isArray(json)) throw new RemoteError('The gateway answered reachability with something other than a list.');
    for (const x of json as unknown[]) {
      const r = x as { recipient?: unknown; reachable?: unknown; reason?: unknown; operator?: unknown };
      // Exactly the four documented fields, in this order (issue 5 "CLI").
      rows.push({ recipient: String(r.recipient), reachable: r.reachable === true, reason: String(r.reason), operator: typeof r.operator === 'string' ? r.operator : null });
    }
  }
  io.stdout(values.json ? `${JSON.stringify(rows)}\n` : table(rows));
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// send
// ---------------------------------------------------------------------------------------------------

const SEND_OPTIONS = {
  ...COMMON_OPTIONS,
  to: { type: 'string' },
  subject: { type: 'string' },
  file: { type: 'string' },
  'address-name': { type: 'string' },
  street: { type: 'string' },
  'postal-code': { type: 'string' },
  town: { type: 'string' },
  'support-text': { type: 'string' },
  'support-phone': { type: 'string' },
  'support-email': { type: 'string' },
  'support-url': { type: 'string' },
  unit: { type: 'string' },
  reference: { type: 'string' },
  'digital-only': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** The letter body from a file; the extension decides the content type (issue 5 "CLI"). */
export function bodyFromFile(file: string): { contentType: 'application/pdf' | 'text/html' | 'text/plain'; content: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw usageError(`--file: cannot read ${file} (${(err as { code?: string }).code ?? 'error'}).`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.pdf') return { contentType: 'application/pdf', content: bytes.toString('base64') };
  if (ext === '.html' || ext === '.htm') return { contentType: 'text/html', content: bytes.toString('utf8') };
  return { contentType: 'text/plain', content: bytes.toString('utf8') };
}

interface LetterView { id: string; status: string; channel: string | null; reason: string | null; paperReason?: string | null; operator: { id?: string; name?: string } | null }

const stopsWaiting = (s: string) => FINAL_STATUSES.has(s as DeliveryStatus) || s === 'HELD';
const succeeded = (s: string) => s === 'DELIVERED' || s === 'PRINTED';

async function send(argv: string[], io: CliIo, env: Env): Promise<number> {
  const { values: v, positionals } = parsing(() => parseArgs({ args: argv, options: SEND_OPTIONS, allowPositionals: true, strict: true }));
  if (v.help) { io.stdout(DIGITAL_POST_USAGE); return 0; }
  if (positionals.length > 0) throw usageError(`send takes no positional arguments (got "${positionals[0]}").`);
  const missing = (['to', 'subject', 'file'] as const).filter((k) => v[k] === undefined);
  if (missing.length > 0) throw usageError(`send needs ${missing.map((k) => `--${k}`).join(', ')}.`);
  const addressParts = { name: v['address-name'], street: v.street, postalCode: v['postal-code'], town: v.town };
  const given = Object.values(addressParts).filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 4) throw usageError('A postal address needs all of --address-name, --street, --postal-code and --town.');
  let timeoutS = 300;
  if (v.timeout !== undefined) {
    timeoutS = Number(v.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw usageError(`--timeout: not a positive number of seconds: ${v.timeout}`);
  }
  const body = bodyFromFile(v.file!);
  const c = commonOptions(v, env);
  const supportInfo: Record<string, string> = { text: v['support-text'] ?? DEFAULT_SUPPORT_TEXT };
  if (v['support-phone'] !== undefined) supportInfo.phoneNumber = v['support-phone'];
  if (v['support-email'] !== undefined) supportInfo.emailAddress = v['support-email'];
  if (v['support-url'] !== undefined) supportInfo.url = v['support-url'];
  const letter: Record<string, unknown> = {
    recipient: v.to, subject: v.subject, body, supportInfo,
    ...(given === 4 ? { postalAddress: addressParts } : {}),
    ...(v.unit !== undefined ? { sender: { unit: v.unit } } : {}),
    ...(v.reference !== undefined ? { reference: v.reference } : {}),
    ...(v['digital-only'] ? { paperFallback: false } : {}),
  };
  const key = v['idempotency-key'] ?? randomUUID();

  devNotice(c, io);
  const token = await accessToken(c, v.wait ? [SCOPE_SEND, SCOPE_READ] : [SCOPE_SEND]);
  const { status, json } = await api(c, token, 'POST', '/v1/digital-post/letters', letter, { 'idempotency-key': key });
  const accepted = json as { id?: unknown; status?: unknown; statusUrl?: unknown };
  if (typeof accepted.id !== 'string' || typeof accepted.statusUrl !== 'string' || !accepted.statusUrl.startsWith('/')) throw new RemoteError('The gateway accepted the letter but gave no id.');
  // statusUrl is an absolute path on the gateway (`/v1/digital-post/letters/{id}`).
  const statusPath = accepted.statusUrl;
  const statusUrl = `${c.url}${statusPath}`;
  if (!v.json) {
    io.stdout(`letter ${accepted.id} ${status === 200 ? 'was already accepted with this idempotency key' : 'accepted'} (${String(accepted.status)})\n`);
    io.stdout(`status: ${statusUrl}\n`);
    io.stdout(`idempotency key: ${key}\n`);
  }
  if (!v.wait) {
    if (v.json) io.stdout(`${JSON.stringify({ id: accepted.id, status: accepted.status, statusUrl, idempotencyKey: key, repeated: status === 200 })}\n`);
    return 0;
  }

  const deadline = Date.now() + timeoutS * 1000;
  let last: LetterView | undefined;
  for (;;) {
    const { json: l } = await api(c, token, 'GET', statusPath);
    last = l as LetterView;
    if (stopsWaiting(last.status)) break;
    if (Date.now() > deadline) {
      io.stderr(`sandebud digital-post: letter ${accepted.id} is still ${last.status} after ${timeoutS} s.\n`);
      if (v.json) io.stdout(`${JSON.stringify(last)}\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (v.json) io.stdout(`${JSON.stringify(last)}\n`);
  else {
    const op = last.operator?.name ?? last.operator?.id;
    io.stdout(`final: ${last.status}${last.channel ? ` via ${last.channel}` : ''}${last.reason ? `, reason ${last.reason}` : ''}${op ? `, operator ${op}` : ''}\n`);
  }
  return succeeded(last.status) ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------
// dispatcher entry
// ---------------------------------------------------------------------------------------------------

/** Run `sandebud digital-post …`; returns the exit code. Usage errors are thrown as AppError CLI_USAGE (exit 2). */
export async function runDigitalPost(argv: string[], io: CliIo, env: Env = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) { io.stderr(DIGITAL_POST_USAGE); return 2; }
  if (sub === '--help' || sub === '-h' || sub === 'help') { io.stdout(DIGITAL_POST_USAGE); return 0; }
  try {
    if (sub === 'reachability') return await reachability(rest, io, env);
    if (sub === 'send') return await send(rest, io, env);
  } catch (err) {
    if (err instanceof RemoteError) { io.stderr(`sandebud digital-post ${sub}: ${err.message}\n`); return 1; }
    throw err;
  }
  throw usageError(`unknown subcommand "${sub}".`);
}

export const digitalPostCommand = {
  summary: 'digital-post reachability <id>… | send --to … --subject … --file …   digital post through a running gateway',
  run: (argv: string[], io: CliIo) => runDigitalPost(argv, io),
};
