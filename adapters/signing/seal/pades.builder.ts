// PAdES-B-B preparation and embedding: ../shared/specs/signing.md §6.2 (signature dictionary as an
// incremental update — never rewrite an already-signed PDF; /SubFilter ETSI.CAdES.detached; ByteRange
// hole = the /Contents hex string; store the prepared bytes, embed later without regenerating them).
// @cantoo/pdf-lib only reads the object graph; the update section is written here so no existing object
// is re-serialized except the catalog/page/AcroForm dictionaries that must gain a reference.
import { createHash } from 'node:crypto';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRef, type PDFObject } from '@cantoo/pdf-lib';

export class PdfInputError extends Error {}

/** Bytes reserved for the CMS in /Contents (hex doubles it): room for a 3-certificate chain (§6.2 step 1). */
export const DEFAULT_CONTENTS_BYTES = 12 * 1024;
const BR_PLACEHOLDER = '/ByteRange [0 /********** /********** /**********]';

export interface PreparedPdf {
  /** The whole prepared file; signing embeds into exactly these bytes. */
  bytes: Buffer;
  byteRange: [number, number, number, number];
  /** SHA-256 over the two byte ranges: the CMS messageDigest. */
  digest: Buffer;
}

const pdfString = (s: string): string => `(${s.replace(/[\\()]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')})`;

function pdfDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

export interface PreparePdfOptions {
  /** /M: the claimed signing time (PAdES keeps the time here, not in a signing-time attribute). */
  signingTime: Date;
  reason?: string;
  /** Name shown as the signer (/Name); optional. */
  name?: string;
  contentsBytes?: number;
}

/** Append signature field + dictionary + placeholder as an incremental update and fix the ByteRange. */
export async function preparePdf(pdf: Uint8Array, opts: PreparePdfOptions): Promise<PreparedPdf> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdf, { updateMetadata: false });
  } catch (e) {
    throw new PdfInputError(`PDF cannot be read: ${e instanceof Error ? e.message.slice(0, 120) : 'unknown error'}`);
  }
  if (doc.isEncrypted) throw new PdfInputError('encrypted PDFs cannot be signed');
  const ctx = doc.context;
  const rootRef = ctx.trailerInfo.Root;
  if (!(rootRef instanceof PDFRef)) throw new PdfInputError('PDF trailer has no indirect /Root');
  if (doc.getPageCount() < 1) throw new PdfInputError('PDF has no pages');
  const page = doc.getPage(0);
  const prevXref = ctx.pdfFileDetails.prevStartXRef;
  const original = Buffer.from(pdf);
  const tail = original.subarray(Math.max(0, original.length - 1024)).toString('latin1');
  if (!/startxref\s+\d+\s+%%EOF\s*$/.test(tail)) throw new PdfInputError('PDF does not end with startxref/%%EOF');

  let next = ctx.largestObjectNumber + 1;
  const sigNum = next++;
  const widgetNum = next++;
  const objects = new Map<number, { gen: number; body: string }>();

  // Signature dictionary, written by hand so the placeholders sit at known places (ByteRange before Contents).
  const contentsHex = '0'.repeat(2 * (opts.contentsBytes ?? DEFAULT_CONTENTS_BYTES));
  objects.set(sigNum, {
    gen: 0,
    body:
      `<<\n/Type /Sig\n/Filter /Adobe.PPKLite\n/SubFilter /ETSI.CAdES.detached\n${BR_PLACEHOLDER}\n/Contents <${contentsHex}>\n/M ${pdfString(pdfDate(opts.signingTime))}` +
      `${opts.reason ? `\n/Reason ${pdfString(opts.reason)}` : ''}${opts.name ? `\n/Name ${pdfString(opts.name)}` : ''}\n>>`,
  });

  // Existing signature fields decide the new field's name.
  const acroRaw = doc.catalog.get(PDFName.of('AcroForm'));
  const acroDict = acroRaw instanceof PDFRef ? ctx.lookup(acroRaw, PDFDict) : acroRaw instanceof PDFDict ? acroRaw : undefined;
  const fieldsRaw = acroDict?.get(PDFName.of('Fields'));
  const fields = fieldsRaw instanceof PDFRef ? ctx.lookup(fieldsRaw, PDFArray) : fieldsRaw instanceof PDFArray ? fieldsRaw : undefined;
  const fieldName = `Signature${(fields?.size() ?? 0) + 1}`;
  objects.set(widgetNum, {
    gen: 0,
    body: `<<\n/Type /Annot\n/Subtype /Widget\n/FT /Sig\n/Rect [0 0 0 0]\n/V ${sigNum} 0 R\n/T ${pdfString(fieldName)}\n/F 132\n/P ${page.ref.objectNumber} ${page.ref.generationNumber} R\n>>`,
  });
  const widgetRef = PDFRef.of(widgetNum, 0);

  // Page /Annots gains the widget: rewrite the array object if indirect, else the page dictionary.
  const write = (ref: PDFRef, obj: PDFObject): void => void objects.set(ref.objectNumber, { gen: ref.generationNumber, body: obj.toString() });
  const annotsRaw = page.node.get(PDFName.of('Annots'));
  if (annotsRaw instanceof PDFRef) {
    const arr = ctx.lookup(annotsRaw, PDFArray).clone();
    arr.push(widgetRef);
    write(annotsRaw, arr);
  } else {
    const pageDict = page.node.clone();
    const arr = annotsRaw instanceof PDFArray ? annotsRaw.clone() : PDFArray.withContext(ctx);
    arr.push(widgetRef);
    pageDict.set(PDFName.of('Annots'), arr);
    write(page.ref, pageDict);
  }

  // AcroForm /Fields gains the widget (merged field/widget) and /SigFlags 3 (signatures exist, append only).
  const sigFlags = ctx.obj(3);
  if (fieldsRaw instanceof PDFRef && fields) {
    const arr = fields.clone();
    arr.push(widgetRef);
    write(fieldsRaw, arr);
  }
  const newAcro = (acroDict ?? PDFDict.withContext(ctx)).clone();
  if (!(fieldsRaw instanceof PDFRef)) {
    const arr = fields ? fields.clone() : PDFArray.withContext(ctx);
    arr.push(widgetRef);
    newAcro.set(PDFName.of('Fields'), arr);
  }
  newAcro.set(PDFName.of('SigFlags'), sigFlags);
  if (acroRaw instanceof PDFRef) {
    write(acroRaw, newAcro);
  } else {
    const catalog = doc.catalog.clone();
    const acroNum = next++;
    objects.set(acroNum, { gen: 0, body: newAcro.toString() });
    catalog.set(PDFName.of('AcroForm'), PDFRef.of(acroNum, 0));
    write(rootRef, catalog);
  }

  // The update section: objects, a classic xref subsection per run of numbers, trailer with /Prev.
  const chunks: Buffer[] = [original];
  let offset = original.length;
  if (original[original.length - 1] !== 0x0a) {
    chunks.push(Buffer.from('\n'));
    offset += 1;
  }
  const offsets = new Map<number, number>();
  for (const num of [...objects.keys()].sort((a, b) => a - b)) {
    const o = objects.get(num)!;
    const text = Buffer.from(`${num} ${o.gen} obj\n${o.body}\nendobj\n`, 'latin1');
    offsets.set(num, offset);
    chunks.push(text);
    offset += text.length;
  }
  const xrefOffset = offset;
  let xref = 'xref\n';
  const nums = [...offsets.keys()].sort((a, b) => a - b);
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    xref += `${nums[i]} ${j - i + 1}\n`;
    for (let k = i; k <= j; k++) xref += `${String(offsets.get(nums[k]!)).padStart(10, '0')} ${String(objects.get(nums[k]!)!.gen).padStart(5, '0')} n\r\n`;
    i = j + 1;
  }
  const size = Math.max(next, ctx.largestObjectNumber + 1);
  const info = ctx.trailerInfo.Info instanceof PDFRef ? `\n/Info ${ctx.trailerInfo.Info.toString()}` : '';
  const id = ctx.trailerInfo.ID ? `\n/ID ${ctx.trailerInfo.ID.toString()}` : '';
  xref += `trailer\n<<\n/Size ${size}\n/Root ${rootRef.toString()}${info}${id}\n/Prev ${prevXref}\n>>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  chunks.push(Buffer.from(xref, 'latin1'));
  const bytes = Buffer.concat(chunks);

  // Now the offsets are final: fill in the ByteRange (same width, so nothing moves).
  const sigStart = offsets.get(sigNum)!;
  const text = bytes.toString('latin1');
  const brAt = text.indexOf(BR_PLACEHOLDER, sigStart);
  const holeStart = text.indexOf('/Contents <', sigStart) + '/Contents '.length;
  const holeEnd = holeStart + contentsHex.length + 2;
  const byteRange: [number, number, number, number] = [0, holeStart, holeEnd, bytes.length - holeEnd];
  const filled = `/ByteRange [${byteRange.join(' ')}]`.padEnd(BR_PLACEHOLDER.length, ' ');
  if (brAt === -1 || filled.length !== BR_PLACEHOLDER.length) throw new PdfInputError('ByteRange placeholder could not be filled');
  bytes.write(filled, brAt, 'latin1');
  const digest = createHash('sha256').update(bytes.subarray(0, holeStart)).update(bytes.subarray(holeEnd)).digest();
  return { bytes, byteRange, digest };
}

/** Write the DER CMS into the /Contents hole of the prepared bytes (§6.2 step 4), padding with zeros. */
export function embedCms(prepared: Uint8Array, byteRange: readonly [number, number, number, number], cms: Uint8Array): Buffer {
  const out = Buffer.from(prepared);
  const [, b, c] = byteRange;
  const room = c - b - 2;
  const hex = Buffer.from(cms).toString('hex');
  if (out[b] !== 0x3c || out[c - 1] !== 0x3e) throw new PdfInputError('prepared PDF does not match its ByteRange');
  if (hex.length > room) throw new PdfInputError(`CMS of ${cms.length} bytes does not fit the ${room / 2}-byte placeholder`);
  out.write(hex, b + 1, 'latin1');
  return out;
}

/** SHA-256 over the ByteRange of prepared bytes (recomputed when embedding later from stored bytes). */
export function byteRangeDigest(prepared: Uint8Array, byteRange: readonly [number, number, number, number]): Buffer {
  const [a, b, c, d] = byteRange;
  return createHash('sha256').update(prepared.subarray(a, a + b)).update(prepared.subarray(c, c + d)).digest();
}
