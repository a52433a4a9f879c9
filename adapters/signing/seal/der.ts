// Minimal DER writer for CMS assembly (RFC 5652 §5, X.690 §10): signed attributes and certificates are
// copied byte for byte, so the signature made over them keeps verifying (signing.md §6.2 step 4).
import * as asn1js from 'asn1js';

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with the given identifier octet. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content.map((c) => Buffer.from(c)));
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...c: Uint8Array[]): Buffer => tlv(0x30, ...c);
export const octetString = (b: Uint8Array): Buffer => tlv(0x04, b);
export const explicit0 = (...c: Uint8Array[]): Buffer => tlv(0xa0, ...c);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

export function oid(value: string): Buffer {
  return Buffer.from(new asn1js.ObjectIdentifier({ value }).toBER(false));
}

export function integer(n: number): Buffer {
  return Buffer.from(new asn1js.Integer({ value: n }).toBER(false));
}

/** X.690 §11.6: SET OF components in ascending order of their encodings. */
export function setOf(items: readonly Uint8Array[], tag = 0x31): Buffer {
  const sorted = [...items].map((i) => Buffer.from(i)).sort((a, b) => {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i] ?? 0;
      const y = b[i] ?? 0;
      if (x !== y) return x - y;
    }
    return 0;
  });
  return tlv(tag, ...sorted);
}

/** Elements of a DER SEQUENCE/SET as raw encodings (valueBeforeDecode), so nothing is re-encoded. */
export function rawChildren(der: Uint8Array): Buffer[] {
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Constructed)) throw new Error('not a constructed DER value');
  return parsed.result.valueBlock.value.map((v) => Buffer.from(v.valueBeforeDecodeView));
}

/** DER ECDSA signature → r||s of fixed width (XML-DSig §6.4.3). */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Buffer {
  const parts = rawChildren(der).map((p) => {
    const v = p.subarray(2); // INTEGER tag + one length byte: r and s are at most 66 bytes
    const trimmed = v[0] === 0 ? v.subarray(1) : v;
    return Buffer.concat([Buffer.alloc(Math.max(0, size - trimmed.length)), trimmed]);
  });
  return Buffer.concat(parts);
}
