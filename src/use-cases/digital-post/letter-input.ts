// Validation of a letter from the API (issue 5; digital-post.md §3.3 identifiers, §6.4 content rules). The
// OpenAPI contract has already checked shapes and lengths; this checks what a schema cannot: identity numbers,
// decoded sizes, PDF and HTML content. Error messages never repeat personal data.
import type { FieldError } from '../../domain/errors.js';
import { parseRecipientId } from '../../domain/digital-post.js';
import type { PostalAddress } from '../../ports/digital-post.port.js';
import type { LetterAttachment, NewLetter } from '../../ports/letter-store.port.js';

/** Decoded body + attachments limit: base64 grows by 4/3, so the signed envelope stays below 2 MiB (§6.4). */
export const MAX_CONTENT_BYTES = 1_500_000;

export interface LetterContentInput {
  subject?: unknown;
  body?: { contentType?: unknown; content?: unknown };
  attachments?: { filename?: unknown; contentType?: unknown; content?: unknown }[];
  supportInfo?: { text?: unknown; url?: unknown; phoneNumber?: unknown; emailAddress?: unknown };
  language?: unknown;
  reference?: unknown;
  paperFallback?: unknown;
  sender?: { unit?: unknown };
}

export type LetterContent = Pick<NewLetter, 'subject' | 'bodyType' | 'body' | 'attachments' | 'supportInfo' | 'language' | 'reference' | 'paperAllowed'> & {
  senderUnit?: string;
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
// Line endings are normalised to LF in every text field before signing (§6.4, §6.6 rule 5).
const lf = (s: string): string => s.replace(/\r\n?/g, '\n');

const PNR_IN_TEXT = /(?<![0-9])(?:19|20)?[0-9]{6}[-+]?[0-9]{4}(?![0-9])/;

/**
 * Dangerous or external content in HTML bodies (§6.4: we reject scripts, event handlers, javascript: URLs,
 * embedding elements and external resource loads; operators' own sanitising is not documented).
 */
export function htmlProblems(html: string): string[] {
  const out: string[] = [];
  if (/<\s*script\b/i.test(html)) out.push('contains a <script> element');
  if (/<[^>]+\s on[a-z]+\s*=/i.test(html) || /<[^>]+\son[a-z]+\s*=/i.test(html)) out.push('contains an event-handler attribute');
  if (/javascript\s*:/i.test(html)) out.push('contains a javascript: URL');
  if (/<\s*(iframe|object|embed|form|frame|frameset|applet|base|meta\s+http-equiv)\b/i.test(html)) out.push('contains an embedding or form element');
  if (/<\s*link\b/i.test(html) || /\b(src|background|poster)\s*=\s*["']?\s*(https?:)?\/\//i.test(html) || /url\(\s*["']?\s*(https?:)?\/\//i.test(html) || /@import/i.test(html)) {
    out.push('loads an external resource (images must be embedded as data: URLs)');
  }
  return out;
}

function isPdf(b: Buffer): boolean {
  return b.subarray(0, 5).toString('latin1') === '%PDF-' && b.subarray(Math.max(0, b.length - 1024)).toString('latin1').includes('%%EOF');
}

function decodeBase64(v: unknown, field: string, errors: FieldError[]): Buffer | undefined {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(v)) {
    errors.push({ field, message: 'must be base64' });
    return undefined;
  }
  return Buffer.from(v, 'base64');
}

/** Check the shared content of a letter (or of every letter of a batch). `p` is the JSON Pointer prefix. */
export function parseLetterContent(input: LetterContentInput, p = '/body'): { ok: true; value: LetterContent } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const subject = lf(str(input.subject) ?? '');
  if (subject.trim().length === 0) errors.push({ field: `${p}/subject`, message: 'must not be empty' });
  if (subject.length > 255) errors.push({ field: `${p}/subject`, message: 'must be at most 255 characters' });

  const contentType = str(input.body?.contentType);
  let bodyType: LetterContent['bodyType'] = 'text/plain';
  let body: Buffer = Buffer.alloc(0);
  if (contentType === 'text/plain' || contentType === 'text/html') {
    bodyType = contentType;
    const text = lf(str(input.body?.content) ?? '');
    if (text.trim().length === 0) errors.push({ field: `${p}/body/content`, message: 'must not be empty' });
    if (contentType === 'text/html') for (const m of htmlProblems(text)) errors.push({ field: `${p}/body/content`, message: m });
    body = Buffer.from(text, 'utf8');
  } else if (contentType === 'application/pdf') {
    bodyType = contentType;
    const b = decodeBase64(input.body?.content, `${p}/body/content`, errors);
    if (b && !isPdf(b)) errors.push({ field: `${p}/body/content`, message: 'is not a PDF document' });
    if (b) body = b;
  } else {
    errors.push({ field: `${p}/body/contentType`, message: 'must be text/plain, text/html or application/pdf' });
  }

  const attachments: LetterAttachment[] = [];
  (input.attachments ?? []).forEach((a, i) => {
    const f = `${p}/attachments/${i}`;
    if (a.contentType !== 'application/pdf') errors.push({ field: `${f}/contentType`, message: 'only application/pdf attachments are accepted' });
    const filename = str(a.filename) ?? '';
    // eslint-disable-next-line no-control-regex -- control characters are exactly what a file name must not hold
    if (!/^[^\\/:*?"<>|\u0000-\u001f]{1,100}\.pdf$/i.test(filename)) errors.push({ field: `${f}/filename`, message: 'must be a plain file name ending in .pdf' });
    const content = decodeBase64(a.content, `${f}/content`, errors);
    if (content && !isPdf(content)) errors.push({ field: `${f}/content`, message: 'is not a PDF document' });
    if (content) attachments.push({ filename, contentType: 'application/pdf', content });
  });
  const total = body.length + attachments.reduce((n, a) => n + a.content.length, 0);
  if (total > MAX_CONTENT_BYTES) errors.push({ field: `${p}/body/content`, message: `body and attachments together must be at most ${MAX_CONTENT_BYTES} bytes (TOO_LARGE)` });

  const supportText = lf(str(input.supportInfo?.text) ?? '');
  if (supportText.trim().length === 0) errors.push({ field: `${p}/supportInfo/text`, message: 'must not be empty' });
  const reference = str(input.reference);
  // Reference may be shown to the recipient by some operators: never a personnummer (§6.8).
  if (reference !== undefined && PNR_IN_TEXT.test(reference)) errors.push({ field: `${p}/reference`, message: 'must not contain a personal identity number' });
  if (PNR_IN_TEXT.test(subject)) errors.push({ field: `${p}/subject`, message: 'must not contain a personal identity number' });

  if (errors.length > 0) return { ok: false, errors };
  const supportInfo: LetterContent['supportInfo'] = { text: supportText };
  const url = str(input.supportInfo?.url);
  const phone = str(input.supportInfo?.phoneNumber);
  const email = str(input.supportInfo?.emailAddress);
  if (url !== undefined) supportInfo.url = url;
  if (phone !== undefined) supportInfo.phoneNumber = phone;
  if (email !== undefined) supportInfo.emailAddress = email;
  return {
    ok: true,
    value: {
      subject, bodyType, body, attachments, supportInfo, language: str(input.language) ?? 'svSE', reference,
      paperAllowed: input.paperFallback !== false, senderUnit: str(input.sender?.unit),
    },
  };
}

/** Check one recipient and its optional postal address. */
export function parseRecipient(recipient: unknown, address: unknown, p: string): { ok: true; recipient: string; postalAddress?: PostalAddress } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const r = parseRecipientId(recipient, `${p}/recipient`);
  if (!r.ok) errors.push(r.error);
  let postalAddress: PostalAddress | undefined;
  if (address !== undefined && address !== null) {
    const a = address as Record<string, unknown>;
    const need = (k: string) => {
      const v = str(a[k]);
      if (v === undefined || v.trim() === '') errors.push({ field: `${p}/postalAddress/${k}`, message: 'is required' });
      return v ?? '';
    };
    const name = need('name');
    const street = need('street');
    const postalCode = need('postalCode');
    const town = need('town');
    const country = str(a.country);
    if ((country === undefined || /^(se|sverige|sweden)$/i.test(country)) && postalCode !== '' && !/^[0-9]{3} ?[0-9]{2}$/.test(postalCode)) {
      errors.push({ field: `${p}/postalAddress/postalCode`, message: 'must be NNN NN for a Swedish address' });
    }
    postalAddress = { name, street, postalCode, town };
    for (const k of ['careOf', 'apartment', 'country'] as const) {
      const v = str(a[k]);
      if (v !== undefined && v !== '') postalAddress[k] = v;
    }
  }
  if (errors.length > 0 || !r.ok) return { ok: false, errors };
  return { ok: true, recipient: r.value, ...(postalAddress ? { postalAddress } : {}) };
}
