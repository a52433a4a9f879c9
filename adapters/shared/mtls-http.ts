// Outbound HTTP over mutual TLS for every adapter (../shared/specs/digital-post.md §4 transport; style.md
// "adapters/shared: SOAP/HTTP kit"). undici 7 Agent with our client certificate and the configured CA
// set; connect and read timeouts; a response size cap; and a classification of transport failures into
// "the request never reached the server" versus "the outcome is unknown" (§6.7 needs the difference:
// only the first may ever lead to paper).
import { Agent, request, errors as undiciErrors } from 'undici';

/** PEM material for mutual TLS. Strings/Buffers are PEM contents, never file paths. */
export interface TlsClientMaterial {
  /** Our private key (PEM). */
  key: string | Buffer;
  /** Our certificate, optionally followed by its intermediates (PEM). */
  cert: string | Buffer;
  /** CA certificates we trust for the server (PEM bundle). Nothing else is trusted. */
  ca: string | Buffer | ReadonlyArray<string | Buffer>;
}

export interface MtlsAgentOptions {
  tls: TlsClientMaterial;
  /** TCP + TLS handshake limit. Default 5,000 ms (Sundsvall's connect timeout). */
  connectTimeoutMs?: number;
  /** Time to wait for response headers, and between body chunks. Default 120,000 ms (Sundsvall's read timeout). */
  readTimeoutMs?: number;
  /** Connections per origin. Default 8. */
  connections?: number;
}

export function createMtlsAgent(opts: MtlsAgentOptions): Agent {
  const readTimeout = opts.readTimeoutMs ?? 120_000;
  return new Agent({
    connect: {
      key: opts.tls.key,
      cert: opts.tls.cert,
      ca: Array.isArray(opts.tls.ca) ? [...(opts.tls.ca as ReadonlyArray<string | Buffer>)] : (opts.tls.ca as string | Buffer),
      rejectUnauthorized: true,
      timeout: opts.connectTimeoutMs ?? 5_000,
    },
    headersTimeout: readTimeout,
    bodyTimeout: readTimeout,
    connections: opts.connections ?? 8,
  });
}

/**
 * Where a failed exchange stands:
 * - `not-sent`: the server cannot have processed the request (refused connection, DNS, TLS handshake
 *   or a TLS alert from the server, connect timeout);
 * - `unknown`: the request may have been processed (read timeout, reset after connecting, abort).
 */
export type TransportPhase = 'not-sent' | 'unknown';

export class TransportError extends Error {
  constructor(
    readonly phase: TransportPhase,
    readonly kind: 'timeout' | 'tls' | 'connection' | 'too-large' | 'aborted',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
// OpenSSL verification results for the server's certificate (our side refused the handshake).
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 6 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

/** Map an undici/Node error to a TransportError with the right phase. */
export function classifyTransportError(e: unknown): TransportError {
  if (e instanceof TransportError) return e;
  const codes = errorCodes(e);
  const tls = codes.some((c) => c.startsWith('ERR_TLS_') || c.startsWith('ERR_SSL_'));
  if (e instanceof undiciErrors.ConnectTimeoutError || codes.includes('UND_ERR_CONNECT_TIMEOUT')) {
    return new TransportError('not-sent', 'timeout', 'connect timeout', { cause: e });
  }
  const certificate = codes.some((c) => CERTIFICATE_CODES.has(c));
  if (tls || certificate || codes.some((c) => NOT_SENT_CODES.has(c))) {
    // A TLS alert from the server (unknown CA, certificate required) means it refused the connection
    // before reading the request.
    return new TransportError('not-sent', tls || certificate ? 'tls' : 'connection', `connection failed (${codes[0] ?? 'unknown'})`, { cause: e });
  }
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError || codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_BODY_TIMEOUT')) {
    return new TransportError('unknown', 'timeout', 'read timeout', { cause: e });
  }
  if (codes.includes('UND_ERR_ABORTED') || (e instanceof Error && e.name === 'AbortError')) {
    return new TransportError('unknown', 'aborted', 'request aborted', { cause: e });
  }
  // Reset, closed socket, anything else after connecting: the server may have processed it.
  return new TransportError('unknown', 'connection', `connection lost (${codes[0] ?? 'unknown'})`, { cause: e });
}

export interface HttpExchange {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Largest accepted response body. Default 4 MiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP exchange through `agent`. Throws TransportError; any HTTP status is an answer. */
export async function httpExchange(agent: Agent, x: HttpExchange): Promise<HttpAnswer> {
  const max = x.maxResponseBytes ?? 4 * 1024 * 1024;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(x.url, { dispatcher: agent, method: x.method, headers: x.headers, body: x.body, signal: x.signal });
  } catch (e) {
    throw classifyTransportError(e);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += b.length;
      if (size > max) {
        res.body.destroy();
        throw new TransportError('unknown', 'too-large', `response larger than ${max} bytes`);
      }
      chunks.push(b);
    }
  } catch (e) {
    throw classifyTransportError(e);
  }
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
}
