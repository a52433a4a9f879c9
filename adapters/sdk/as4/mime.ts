// sdk.md §8 ("SOAP 1.2 with attachments"): the MIME multipart/related packaging of an AS4 user message
// (SOAP with Attachments). Building returns a list of buffers so a large attachment is never copied into one
// body buffer; parsing works on subarrays of the received body (no copies) and refuses anything ambiguous.
import { randomUUID } from 'node:crypto';

export interface MimePart {
  /** Content-ID without angle brackets (`message` for `cid:message`). */
  contentId: string;
  contentType: string;
  body: Uint8Array;
}

export interface BuiltMultipart {
  /** The HTTP Content-Type header value. */
  contentType: string;
  /** The body, in order; concatenate (or stream) to send. */
  chunks: Buffer[];
  length: number;
}

const CRLF = '\r\n';

function containsBoundary(parts: readonly { body: Uint8Array }[], boundary: string): boolean {
  const needle = Buffer.from(`--${boundary}`, 'latin1');
  return parts.some((p) => Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength).indexOf(needle) !== -1);
}

/**
 * Package the SOAP envelope (root part) and attachments as multipart/related with type application/soap+xml
 * (SOAP 1.2, as Domibus sends it). Content-Transfer-Encoding is binary: the bytes travel as they are.
 */
export function buildMultipart(root: { contentId: string; body: Uint8Array }, attachments: readonly MimePart[]): BuiltMultipart {
  let boundary = `MIMEBoundary_${randomUUID().replace(/-/g, '')}`;
  // A random boundary inside the payload is astronomically unlikely, but cheap to rule out.
  while (containsBoundary([root, ...attachments], boundary)) boundary = `MIMEBoundary_${randomUUID().replace(/-/g, '')}`;
  const chunks: Buffer[] = [];
  const push = (b: Buffer): void => {
    chunks.push(b);
  };
  const header = (ct: string, cid: string): Buffer =>
    Buffer.from(`--${boundary}${CRLF}Content-Type: ${ct}${CRLF}Content-Transfer-Encoding: binary${CRLF}Content-ID: <${cid}>${CRLF}${CRLF}`, 'latin1');
  push(header('application/soap+xml; charset=UTF-8', root.contentId));
  push(Buffer.from(root.body.buffer, root.body.byteOffset, root.body.byteLength));
  for (const a of attachments) {
    push(Buffer.from(CRLF, 'latin1'));
    push(header(a.contentType, a.contentId));
    push(Buffer.from(a.body.buffer, a.body.byteOffset, a.body.byteLength));
  }
  push(Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'latin1'));
  const contentType = `multipart/related; type="application/soap+xml"; boundary="${boundary}"; start="<${root.contentId}>"; start-info="application/soap+xml"`;
  return { contentType, chunks, length: chunks.reduce((n, c) => n + c.length, 0) };
}

export class MimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MimeError';
  }
}

/** A parsed Content-Type: lower-cased media type and parameters (values unquoted). */
export interface ParsedContentType {
  mediaType: string;
  params: Record<string, string>;
}

export function parseContentType(value: string | undefined): ParsedContentType {
  if (value === undefined || value.trim() === '') throw new MimeError('missing Content-Type');
  const [type, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = v;
  }
  return { mediaType: (type ?? '').trim().toLowerCase(), params };
}

/** Split on `;` outside quotes. */
function splitParams(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' && s[i - 1] !== '\\') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export interface ParsedPart {
  headers: Record<string, string>;
  contentId?: string;
  contentType: string;
  body: Buffer;
}

export interface ParsedMultipart {
  root: ParsedPart;
  attachments: ParsedPart[];
}

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8192;

function stripAngles(v: string): string {
  const t = v.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
}

/**
 * Parse a multipart/related body. The root part is the one named by `start` (or the first part). Parts use
 * binary/8bit/7bit transfer encoding or base64; anything else is refused. Part bodies are subarrays of `body`.
 */
export function parseMultipart(contentType: ParsedContentType, body: Buffer): ParsedMultipart {
  if (contentType.mediaType !== 'multipart/related') throw new MimeError('not multipart/related');
  const boundary = contentType.params.boundary;
  if (boundary === undefined || boundary.length === 0 || boundary.length > 200) throw new MimeError('missing or invalid boundary');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw new MimeError('no MIME boundary in body');
  const parts: ParsedPart[] = [];
  for (;;) {
    let after = pos + delimiter.length;
    // "--" after the delimiter closes the multipart.
    if (body[after] === 0x2d && body[after + 1] === 0x2d) break;
    // Skip transport padding and the CRLF after the delimiter line.
    while (body[after] === 0x20 || body[after] === 0x09) after++;
    if (body[after] === 0x0d && body[after + 1] === 0x0a) after += 2;
    else if (body[after] === 0x0a) after += 1;
    else throw new MimeError('malformed boundary line');
    const headerEnd = body.indexOf('\r\n\r\n', after, 'latin1');
    if (headerEnd === -1 || headerEnd - after > MAX_HEADER_BYTES) throw new MimeError('malformed part headers');
    const headers = parseHeaders(body.subarray(after, headerEnd).toString('latin1'));
    const start = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), start);
    if (next === -1) throw new MimeError('unterminated MIME part');
    let content = body.subarray(start, next);
    const cte = (headers['content-transfer-encoding'] ?? 'binary').trim().toLowerCase();
    if (cte === 'base64') content = Buffer.from(content.toString('latin1').replace(/\s+/g, ''), 'base64');
    else if (cte !== 'binary' && cte !== '8bit' && cte !== '7bit') throw new MimeError(`unsupported Content-Transfer-Encoding ${cte}`);
    const cid = headers['content-id'];
    parts.push({ headers, contentType: headers['content-type'] ?? 'text/plain', body: content, ...(cid !== undefined ? { contentId: stripAngles(cid) } : {}) });
    if (parts.length > MAX_PARTS) throw new MimeError('too many MIME parts');
    pos = next + 2;
  }
  if (parts.length === 0) throw new MimeError('no MIME parts');
  const start = contentType.params.start === undefined ? undefined : stripAngles(contentType.params.start);
  const rootIndex = start === undefined ? 0 : parts.findIndex((p) => p.contentId === start);
  if (rootIndex === -1) throw new MimeError('the start part is missing');
  const ids = parts.map((p) => p.contentId).filter((c): c is string => c !== undefined);
  if (new Set(ids).size !== ids.length) throw new MimeError('duplicate Content-ID');
  return { root: parts[rootIndex]!, attachments: parts.filter((_, i) => i !== rootIndex) };
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Unfold continuation lines (RFC 5322 §2.2.3).
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MimeError('malformed part header');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name in out) throw new MimeError(`repeated part header ${name}`);
    out[name] = line.slice(colon + 1).trim();
  }
  return out;
}
