// sdk.md §11 (≤ 30 MB per message; larger ⇒ 400 "must not be larger than 30 MB", detail code too-long), §15
// ("the API request body for a 30 MB message is about 30 MB of JSON") and dependencies.md XML rule 3 (limits
// before parsing): the body of POST /v1/sdk/messages is read here, in front of the Express app.
//
// Why in front of the app: the app's global JSON parser (JSON_BODY_LIMIT, 5 MB by default) runs before any
// router, so a route cannot raise its own limit, and a 413 from it would not be the SDK's too-long answer. This
// wrapper handles exactly that one route: a declared Content-Length over the limit is refused before a byte is
// read; a chunked body is counted while it streams and refused the moment it passes the limit, so at most
// limit + one chunk is ever held. A body within the limit is parsed and handed to the app as `req.body` with the
// stream fully consumed, which the app's body parsers treat as already parsed. Every other request goes straight
// to the app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptOrCreateCorrelationId } from '../../lib/correlation.js';
import { AppError } from '../../domain/errors.js';
import { parseJsonBytes } from '../../lib/large-json.js';
import { releaseAfterLarge, youngGarbageRelease } from '../../lib/memory.js';
import { tooLongRequest } from '../../use-cases/sdk/sdk-deps.js';
import { sdkProblemBody } from './sdk.problem.js';

export const SDK_MESSAGES_PATH = '/v1/sdk/messages';

export interface SdkBodyLimitOptions {
  /** Largest accepted request body in bytes. */
  limitBytes: number;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

function isJson(req: IncomingMessage): boolean {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(ct);
}

/** How long the rest of a refused body is read and thrown away (so the client reads our answer) before the socket is cut. */
export const LINGER_MS = 5000;

/**
 * Answer at once, then keep reading and discarding what the client still sends — never buffering it — for at most
 * LINGER_MS. Closing the socket right away would make most clients fail with EPIPE/ECONNRESET while still
 * uploading, before they read the answer ("lingering close", as web servers do); the timer bounds the cost.
 */
function refuse(req: IncomingMessage, res: ServerResponse, err: AppError): void {
  const correlationId = acceptOrCreateCorrelationId(typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined);
  const body = JSON.stringify(sdkProblemBody(err, correlationId));
  res.writeHead(err.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), 'x-request-id': correlationId });
  res.end(body);
  if (req.complete) return;
  // No `Connection: close`: Node would end the socket as soon as the answer is flushed, i.e. while the client
  // is still uploading (measured: the client then fails with EPIPE and never sees the answer).
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
  timer.unref();
  req.on('end', () => clearTimeout(timer));
  req.on('close', () => clearTimeout(timer));
  req.on('data', () => undefined);
  req.resume();
}

/**
 * The JSON value of a request body received as `chunks` (`total` bytes). Throws SyntaxError when it is not
 * JSON. The base64 attachments are copied once, straight from the bytes (src/lib/large-json.ts).
 */
export function parseSdkMessageBody(chunks: Buffer[], total: number): unknown {
  return parseJsonBytes(chunks.length === 1 ? chunks[0]!.subarray(0, total) : Buffer.concat(chunks, total));
}

/** Wrap the app's request listener with the streaming body limit for POST /v1/sdk/messages. */
export function withSdkBodyLimit(app: Listener, opts: SdkBodyLimitOptions): Listener {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== SDK_MESSAGES_PATH || !isJson(req)) {
      app(req, res);
      return;
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      refuse(req, res, new AppError('UNSUPPORTED_CONTENT_ENCODING', 'Send the message without Content-Encoding.', { status: 415 }));
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > opts.limitBytes) {
      refuse(req, res, tooLongRequest('/body'));
      return;
    }
    // Memory (issue 7): with a declared length the body is copied once into its final buffer as it arrives,
    // and parsed from there without a full-size text (src/lib/large-json.ts); the buffer is let go at once.
    // The listeners stay on `req` for the whole request: they let go of the bytes as soon as they are parsed.
    let preallocated = declared !== undefined && /^\d+$/.test(declared) ? Buffer.allocUnsafe(Number(declared)) : undefined;
    let chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    // The socket's pieces are garbage once copied: collected as they come (src/lib/memory.ts).
    const release = youngGarbageRelease(preallocated?.length ?? 0);
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      release(chunk.length);
      if (total > opts.limitBytes || (preallocated !== undefined && total > preallocated.length)) {
        done = true;
        chunks.length = 0;
        req.off('data', onData);
        refuse(req, res, total > opts.limitBytes ? tooLongRequest('/body') : new AppError('MALFORMED_JSON', 'The request body is longer than its Content-Length.', { status: 400, errors: [{ field: '/body', message: 'length mismatch' }] }));
        return;
      }
      if (preallocated !== undefined) chunk.copy(preallocated, total - chunk.length);
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('error', () => {
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      // The body is referenced only inside `take`'s own frame: once it returns, nothing (not even a leftover
      // interpreter register of this function) holds the bytes, so the collection below frees them before
      // the payload is built (issue 7 memory: otherwise body, attachment text and payload coexist).
      const take = (): unknown => {
        const body = preallocated !== undefined ? preallocated.subarray(0, total) : Buffer.concat(chunks, total);
        chunks = [];
        preallocated = undefined;
        return parseSdkMessageBody([body], total);
      };
      let parsed: unknown;
      try {
        parsed = take();
      } catch {
        releaseAfterLarge(total);
        refuse(req, res, new AppError('MALFORMED_JSON', 'The request body is not valid JSON.', { status: 400, errors: [{ field: '/body', message: 'not valid JSON' }] }));
        return;
      }
      (req as IncomingMessage & { body?: unknown }).body = parsed;
      // The body's bytes are garbage now; the message (and soon its payload) is what stays (src/lib/memory.ts).
      releaseAfterLarge(total);
      app(req, res);
    });
  };
}
