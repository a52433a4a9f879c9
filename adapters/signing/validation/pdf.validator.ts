// PAdES / PDF signature validation: ../shared/specs/signing.md §6.2 (ByteRange shape), §9.1 (PAdES B-B),
// §10 "PDF" (USF, ISA, SWA) and §13 items 34–35. No JS library validates PDF signatures, so the
// signature dictionaries are located here and the CMS is verified by cms.validator over the byte ranges.
import { createHash } from 'node:crypto';
import type { SignatureReport } from '../../../src/domain/signing.js';
import { checkSignerInfos, CmsFormatError, parseSignedData, type CmsCheckOptions } from './cms.validator.js';
import { buildReport, formatFailure, NO_TIME, UNKNOWN_REVOCATION, type ReportParts } from './report.js';

export const isPdf = (bytes: Uint8Array): boolean => Buffer.from(bytes.subarray(0, 1024)).toString('latin1').includes('%PDF-');

interface SigDict {
  objStart: number;
  objEnd: number;
  body: string;
}

/** Start of the indirect object (`N G obj`) that encloses `pos`, or null when `pos` is outside every object. */
function enclosingObjectStart(text: string, pos: number): number | null {
  for (let at = text.lastIndexOf('obj', pos); at !== -1; at = text.lastIndexOf('obj', at - 1)) {
    if (text.slice(at - 3, at) === 'end') return null; // the nearest keyword closes an object: pos is between objects
    const header = /(\d+)\s+(\d+)\s+$/.exec(text.slice(Math.max(0, at - 24), at));
    if (header) return at - header[0].length;
  }
  return null;
}

/** Every indirect object whose dictionary looks like a signature (has /ByteRange or /Type /Sig). */
function signatureDictionaries(text: string): SigDict[] {
  const out: SigDict[] = [];
  const seen = new Set<number>();
  const marker = /\/ByteRange\b|\/Type\s*\/Sig\b/g;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    const objStart = enclosingObjectStart(text, m.index);
    if (objStart === null || seen.has(objStart)) continue;
    const objEnd = text.indexOf('endobj', m.index);
    if (objEnd === -1) continue;
    seen.add(objStart);
    out.push({ objStart, objEnd, body: text.slice(objStart, objEnd) });
  }
  return out;
}

/** PDF date `D:YYYYMMDDHHmmSSOHH'mm'` → ISO string, or null. */
export function pdfDateToIso(s: string): string | null {
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?/.exec(s);
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', tz, tzh = '00', tzm = '00'] = m;
  const offset = !tz || tz === 'Z' || tz === 'z' ? 'Z' : `${tz}${tzh}:${tzm}`;
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${se}${offset}`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** DER length of the element at the start of `buf` (the /Contents hole is zero-padded). */
function derLength(buf: Buffer): number {
  if (buf.length < 2) return -1;
  const first = buf[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || buf.length < 2 + n) return -1;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i]!;
  return 2 + n + len;
}

export type PdfValidationOptions = CmsCheckOptions;

export async function validatePdfSignatures(bytes: Uint8Array, opts: PdfValidationOptions): Promise<SignatureReport[]> {
  const buf = Buffer.from(bytes);
  const text = buf.toString('latin1');
  const reports: SignatureReport[] = [];
  let n = 0;
  for (const dict of signatureDictionaries(text)) {
    const id = `sig-${++n}`;
    const subFilter = /\/SubFilter\s*\/([A-Za-z0-9._#-]+)/.exec(dict.body)?.[1] ?? null;
    if (subFilter === 'ETSI.RFC3161') {
      // Document time-stamps are evidence for others, not signatures of a person; not validated here.
      n--;
      continue;
    }
    const brMatches = [...dict.body.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
    const contentsKeys = [...dict.body.matchAll(/\/Contents\s*</g)];
    // USF (§10): a signature dictionary missing or with malformed /ByteRange or /Contents is never a signature.
    if (brMatches.length !== 1 || contentsKeys.length !== 1) {
      reports.push(formatFailure(id, 'PDF', 'signature dictionary without exactly one numeric /ByteRange and one hex /Contents'));
      continue;
    }
    const [a, b, c, d] = brMatches[0]!.slice(1, 5).map(Number) as [number, number, number, number];
    const contentsKey = contentsKeys[0]!;
    const holeStart = dict.objStart + contentsKey.index + contentsKey[0].length - 1;
    // SWA (§10, §13 item 35): two ranges from 0, the hole exactly this dictionary's /Contents string.
    if (a !== 0 || b !== holeStart || c <= b || buf[c - 1] !== 0x3e || c > dict.objEnd || c + d > buf.length || !/^<[0-9A-Fa-f\s]*>$/.test(text.slice(b, c))) {
      reports.push(formatFailure(id, 'PDF', 'ByteRange does not leave exactly the /Contents string unsigned'));
      continue;
    }
    const revisionEnd = c + d;
    if (!/%%EOF\s*$/.test(text.slice(Math.max(0, revisionEnd - 12), revisionEnd))) {
      reports.push(formatFailure(id, 'PDF', 'ByteRange does not end at the end of a revision (%%EOF)'));
      continue;
    }
    const hex = text.slice(b + 1, c - 1).replace(/\s+/g, '');
    const raw = Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
    const len = derLength(raw);
    const m = /\/M\s*\((D:[^)]*)\)/.exec(dict.body);
    const claimedM = m ? pdfDateToIso(m[1]!) : null;
    const signed = Buffer.concat([buf.subarray(0, b), buf.subarray(c, revisionEnd)]);
    const wholeDocument = revisionEnd === buf.length || /^\s*$/.test(text.slice(revisionEnd));
    const covers = {
      wholeDocument,
      parts: [{ type: 'byte-range' as const, ranges: [[a, b], [c, d]] as Array<[number, number]>, revisionEnd }],
      signedContentSha256: createHash('sha256').update(signed).digest('hex'),
    };
    const format = subFilter === 'ETSI.CAdES.detached' ? ('PAdES' as const) : ('PDF' as const);
    const base: ReportParts = { id, format, level: 'none', signer: null, signedAt: { ...NO_TIME, claimed: claimedM }, chain: [], revocation: UNKNOWN_REVOCATION, algorithms: {}, covers };
    if (subFilter !== 'ETSI.CAdES.detached' && subFilter !== 'adbe.pkcs7.detached') {
      reports.push(buildReport(base, 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE', `SubFilter ${subFilter ?? '(none)'} is not accepted`));
      continue;
    }
    if (len <= 0 || len > raw.length || raw.subarray(len).some((x) => x !== 0)) {
      reports.push(buildReport(base, 'FORMAT_FAILURE', '/Contents does not hold one DER CMS object followed by zero padding'));
      continue;
    }
    let sd;
    try {
      sd = parseSignedData(raw.subarray(0, len));
    } catch (e) {
      reports.push(buildReport(base, 'FORMAT_FAILURE', e instanceof CmsFormatError ? e.message : 'CMS in /Contents could not be parsed'));
      continue;
    }
    if (sd.signerInfos.length !== 1 || sd.encapContentInfo.eContent) {
      reports.push(buildReport(base, 'FORMAT_FAILURE', 'PDF CMS must be detached with exactly one SignerInfo'));
      continue;
    }
    const [check] = await checkSignerInfos(sd, signed, opts);
    const r = check!;
    // PAdES B-B: signed content-type, message-digest and ESS signing-certificate-v2, and no signing-time (§9.1).
    const padesBB = format === 'PAdES' && r.attrs.signed && r.attrs.contentType && r.attrs.messageDigest && r.attrs.essV2 && r.attrs.signingTime === null;
    const parts: ReportParts = {
      ...r.parts,
      id,
      format,
      level: padesBB ? 'B-B' : 'none',
      covers,
      signedAt: { ...r.parts.signedAt, claimed: claimedM ?? r.parts.signedAt.claimed },
    };
    if (r.failure) reports.push(buildReport(parts, r.failure, r.detail));
    // ISA (§10): bytes after the signed revision are unsigned; we do not classify "safe" updates yet.
    else if (!wholeDocument) reports.push(buildReport(parts, 'PARTIALLY_SIGNED', `the signature covers revision ending at byte ${revisionEnd} of ${buf.length}`));
    else reports.push(buildReport(parts, 'TOTAL_PASSED'));
  }
  return reports;
}
