// Attachments are stored once (docs/sdk.md "Storage"; issue 7 memory). The payload XML stored next to an SDK
// message carries every attachment's base64 text verbatim; the message (jsonb) would carry it a second time.
// An attachment of LARGE_CONTENT_CHARS or more whose exact text is found in the payload is therefore kept as
// `content: ""` plus `contentInPayload: {offset, length}` — a byte range of the payload, checked byte for byte
// here — and put back from the payload when read. Pure: no I/O.
import type { SdkMessage } from './message.js';

export const LARGE_CONTENT_CHARS = 64 * 1024;

export interface PayloadRange { offset: number; length: number }

/** Where `content` stands verbatim in `payload`, or undefined. */
export function findInPayload(payload: Uint8Array, content: string): PayloadRange | undefined {
  if (!/^[\x20-\x7e]*$/.test(content)) return undefined;
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const head = Buffer.from(content.slice(0, 64), 'latin1');
  const piece = 64 * 1024;
  // One scratch buffer for the whole comparison: a new Buffer per piece would leave the attachment's size
  // behind as garbage (issue 7 memory).
  const scratch = Buffer.allocUnsafe(Math.min(piece, content.length));
  for (let at = bytes.indexOf(head); at !== -1; at = bytes.indexOf(head, at + 1)) {
    if (at + content.length > bytes.length) return undefined;
    let same = true;
    for (let i = 0; i < content.length && same; i += piece) {
      const n = scratch.write(content.slice(i, i + piece), 'latin1');
      same = bytes.compare(scratch, 0, n, at + i, at + i + n) === 0;
    }
    if (same) return { offset: at, length: content.length };
  }
  return undefined;
}

/**
 * True when `range` lies inside `payload` and holds only ASCII text a stored attachment may be (printable,
 * tab, LF, CR): what the store reads back as the attachment's text.
 */
export function isTextRange(payload: Uint8Array, range: PayloadRange): boolean {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > payload.length) return false;
  for (let i = offset; i < offset + length; i++) {
    const c = payload[i]!;
    if (c > 0x7e || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return false;
  }
  return true;
}

/**
 * The message as stored next to `payload`: each large attachment found verbatim in it becomes `content: ""`
 * plus its byte range. Attachments already in that form (a received message: the parser left them in the
 * payload) are checked to be text inside it; small ones and ones not found stay as they are.
 */
export function attachmentsInPayload(msg: SdkMessage, payload: Uint8Array): SdkMessage {
  return {
    ...msg,
    documents: msg.documents.map((d) => ({
      ...d,
      files: d.files.map((f) => {
        if (f.contentInPayload !== undefined) {
          if (f.content !== '' || !isTextRange(payload, f.contentInPayload)) throw new RangeError('an attachment range is not text of this payload');
          return f;
        }
        const range = f.content.length >= LARGE_CONTENT_CHARS ? findInPayload(payload, f.content) : undefined;
        return range === undefined ? f : { ...f, content: '', contentInPayload: range };
      }),
    })),
  };
}

/**
 * The message with every attachment held as a payload range given its text again (a copy of those bytes of
 * `payload`, which must be the payload the ranges were taken from). The inverse of attachmentsInPayload, for
 * readers that want the texts (the simulated peer, tests); the store does the same from the stored payload.
 */
export function withAttachmentTexts(msg: SdkMessage, payload: Uint8Array): SdkMessage {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return {
    ...msg,
    documents: msg.documents.map((d) => ({
      ...d,
      files: d.files.map((f) => {
        if (f.contentInPayload === undefined) return f;
        const { offset, length } = f.contentInPayload;
        if (!isTextRange(bytes, f.contentInPayload)) throw new RangeError('an attachment range is not text of this payload');
        const { contentInPayload: _range, ...file } = f;
        return { ...file, content: bytes.toString('latin1', offset, offset + length) };
      }),
    })),
  };
}
