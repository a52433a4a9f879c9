// sdk.md §5 row 4 and §11 (message larger than the federation limit → REJECTED/BV/too-long) and
// dependencies.md XML rule 3 (limits before parsing): size checks that work on a declared length or on a
// stream, so an oversized body is refused without ever holding all of it in memory.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { reason, type ReceiptReason } from '../../../src/domain/sdk/receipt.js';

export class SizeLimitExceededError extends Error {
  readonly limit: number;
  /** Bytes seen when the limit was crossed (at most limit + one chunk). */
  readonly seen: number;
  constructor(limit: number, seen: number) {
    super(`the message is larger than ${limit} bytes`);
    this.name = 'SizeLimitExceededError';
    this.limit = limit;
    this.seen = seen;
  }
}

/** The receipt reason for an oversized message (path: the document root when known, else "NA"). */
export function tooLongReason(limit: number, path = 'NA'): ReceiptReason {
  return reason('tooLong', path, `The message is larger than the federation limit of ${limit} bytes.`);
}

/**
 * Check a declared length (HTTP Content-Length, AS4 part size) before reading the body.
 * Returns the too-long reason when the declaration already exceeds the limit, otherwise null. A missing or
 * unparsable declaration returns null: the streaming guard then enforces the limit while reading.
 */
export function checkDeclaredSize(declared: number | string | undefined | null, limit: number): ReceiptReason | null {
  if (declared === undefined || declared === null || declared === '') return null;
  const n = typeof declared === 'number' ? declared : /^\d+$/.test(declared.trim()) ? Number(declared.trim()) : Number.NaN;
  if (!Number.isFinite(n)) return null;
  return n > limit ? tooLongReason(limit) : null;
}

/**
 * A pass-through stream that counts bytes and fails with {@link SizeLimitExceededError} as soon as more than
 * `limit` bytes have passed. Pipe a request body through it in front of any buffering consumer.
 */
export function createSizeLimitStream(limit: number): Transform & { readonly bytesSeen: number } {
  let seen = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) {
        cb(new SizeLimitExceededError(limit, seen));
        return;
      }
      cb(null, chunk);
    },
  });
  Object.defineProperty(t, 'bytesSeen', { get: () => seen });
  return t as Transform & { readonly bytesSeen: number };
}

export type ReadLimitedResult = { ok: true; bytes: Buffer } | { ok: false; reason: ReceiptReason; bytesRead: number };

/**
 * Read a stream into one Buffer, but stop (and destroy the source) as soon as it exceeds `limit`: at most
 * limit + one chunk is ever held. Other stream errors are rethrown.
 */
export async function readWithLimit(source: Readable | AsyncIterable<Uint8Array | string>, limit: number): Promise<ReadLimitedResult> {
  const chunks: Buffer[] = [];
  let total = 0;
  const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done === true) break;
      const buf = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      total += buf.length;
      if (total > limit) {
        chunks.length = 0;
        await iterator.return?.();
        const destroy = (source as Partial<Readable>).destroy;
        if (typeof destroy === 'function') destroy.call(source);
        return { ok: false, reason: tooLongReason(limit), bytesRead: total };
      }
      chunks.push(buf);
    }
  } catch (e: unknown) {
    if (e instanceof SizeLimitExceededError) return { ok: false, reason: tooLongReason(limit), bytesRead: e.seen };
    throw e;
  }
  return { ok: true, bytes: Buffer.concat(chunks, total) };
}
