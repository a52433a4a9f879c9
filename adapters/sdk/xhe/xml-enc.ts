// sdk.md §7 "XML Encryption" and §15 (CBC padding, IV placement, rsa-oaep-mgf1p = OAEP/SHA-1/MGF1-SHA-1):
// encrypt an SDK payload for the recipient organisation and decrypt one addressed to us, with Node crypto.
// Decryption failures are deliberately uniform (one error, no detail) so that nothing about the padding or
// key can leak back to a sender (padding-oracle protection; sdk.md §5, §14.11).
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import type { Element as XElement } from '@xmldom/xmldom';
import type { create } from 'xmlbuilder2';

type XMLBuilder = ReturnType<typeof create>;
import { ALG, NS } from '../../../src/domain/sdk/constants.js';
import { childElements, firstChild, stringValue } from '../xml/dom.js';
import { base64BinaryProblem, base64Chunks, base64Length, decodeBase64Chunks, decodedBase64Length, type LargeTexts } from '../xml/large-text.js';
import { certificateDer, leafPem } from './trust.js';
import { youngGarbageRelease } from '../../../src/lib/memory.js';

export interface EncryptedPayload {
  encryptedDataId: string;
  encryptedKeyId: string;
  /** base64(IV ‖ AES-256-CBC ciphertext). */
  cipherValue: string;
  /** base64 of the RSA-OAEP wrapped content key. */
  encryptedKeyValue: string;
  /** base64 DER of the recipient's encryption certificate, embedded in the EncryptedKey. */
  recipientCertificate: string;
}

/** An encrypted payload whose CipherValue text is produced on demand instead of being held. */
export interface EncryptedPayloadParts extends Omit<EncryptedPayload, 'cipherValue'> {
  /**
   * base64(IV ‖ AES-256-CBC ciphertext), `length` ASCII bytes, produced chunk by chunk by encrypting the
   * plaintext again on every call (same key and IV, so the same text): a payload-sized ciphertext is never held.
   */
  cipherText: { length: number; produce: () => Iterable<Buffer> };
  /** Wipe the content key; `produce` fails afterwards. */
  dispose(): void;
}

/** Plaintext piece per cipher call: a multiple of 16 and 3, and small enough for V8's young generation. */
const ENCRYPT_PIECE = 48 * 1024;

/**
 * Encrypt a serialized XML element (the whole `messagePayload`, carrying its own namespace declarations)
 * with a fresh AES-256 key and IV, and wrap the key for the recipient's encryption certificate. The
 * plaintext must stay unchanged until `dispose()`.
 */
export function encryptPayloadParts(plaintext: Uint8Array, recipientEncryptionCertPem: string): EncryptedPayloadParts {
  const certPem = leafPem(recipientEncryptionCertPem);
  const publicKey = new X509Certificate(certPem).publicKey;
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  let disposed = false;
  // Node's PKCS#7 padding is one valid instance of XML-Enc padding (last byte = pad length).
  const ciphertext = function* produce(): Iterable<Buffer> {
    if (disposed) throw new Error('the content key was disposed');
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    // The cipher's pieces and their base64 are let go as the caller goes; collect them as we go (issue 7).
    const release = youngGarbageRelease(plaintext.length);
    yield iv;
    for (let i = 0; i < plaintext.length; i += ENCRYPT_PIECE) {
      yield cipher.update(plaintext.subarray(i, i + ENCRYPT_PIECE));
      release(ENCRYPT_PIECE);
    }
    yield cipher.final();
  };
  const cipherBytes = 16 + (Math.floor(plaintext.length / 16) + 1) * 16;
  return {
    encryptedDataId: `ED-${randomUUID()}`,
    encryptedKeyId: `EK-${randomUUID()}`,
    cipherText: { length: base64Length(cipherBytes), produce: base64Chunks(ciphertext, cipherBytes) },
    encryptedKeyValue: wrapped.toString('base64'),
    recipientCertificate: certificateDer(certPem).toString('base64'),
    dispose() {
      disposed = true;
      key.fill(0);
    },
  };
}

/**
 * Encrypt a serialized XML element (the whole `messagePayload`, carrying its own namespace declarations)
 * with a fresh AES-256 key and IV, and wrap the key for the recipient's encryption certificate.
 */
export function encryptPayload(plaintext: Uint8Array, recipientEncryptionCertPem: string): EncryptedPayload {
  const parts = encryptPayloadParts(plaintext, recipientEncryptionCertPem);
  try {
    const { cipherText, dispose: _dispose, ...rest } = parts;
    return { ...rest, cipherValue: Buffer.concat([...cipherText.produce()]).toString('latin1') };
  } finally {
    parts.dispose();
  }
}

/** Append `xenc:EncryptedData` (structure of sdk.md §7 and the Inera example) under `parent`. */
export function appendEncryptedData(parent: XMLBuilder, enc: EncryptedPayload): void {
  const ed = parent.ele(NS.xenc, 'xenc:EncryptedData', { Id: enc.encryptedDataId, Type: ALG.encTypeElement });
  ed.ele(NS.xenc, 'xenc:EncryptionMethod', { Algorithm: ALG.aes256cbc });
  const ki = ed.ele(NS.ds, 'ds:KeyInfo');
  const ek = ki.ele(NS.xenc, 'xenc:EncryptedKey', { Id: enc.encryptedKeyId });
  ek.ele(NS.xenc, 'xenc:EncryptionMethod', { Algorithm: ALG.rsaOaepMgf1p }).ele(NS.ds, 'ds:DigestMethod', { Algorithm: ALG.sha1 });
  ek.ele(NS.ds, 'ds:KeyInfo').ele(NS.ds, 'ds:X509Data').ele(NS.ds, 'ds:X509Certificate').txt(enc.recipientCertificate);
  ek.ele(NS.xenc, 'xenc:CipherData').ele(NS.xenc, 'xenc:CipherValue').txt(enc.encryptedKeyValue);
  ed.ele(NS.xenc, 'xenc:CipherData').ele(NS.xenc, 'xenc:CipherValue').txt(enc.cipherValue);
}

export interface DecryptionKey {
  /** PKCS#8 PEM of our organisation's encryption key. */
  privateKeyPem: string;
  /** Its certificate (PEM), used to pick the key the sender wrapped for. */
  certificatePem: string;
}

/** The one error every decryption failure becomes (no reason is ever exposed). */
export class PayloadDecryptionError extends Error {
  constructor() {
    super('the payload could not be decrypted');
    this.name = 'PayloadDecryptionError';
  }
}

function algorithmOf(el: XElement | undefined): string | undefined {
  const m = el === undefined ? undefined : firstChild(el, NS.xenc, 'EncryptionMethod');
  return m?.getAttribute('Algorithm') ?? undefined;
}

/**
 * AES-256-CBC decryption of base64 text `IV ‖ ciphertext` given as chunks, without ever holding the text or
 * the ciphertext whole: the base64 is decoded window by window into the decipher, whose output is written
 * into one Buffer of the final size. Returns the plaintext with the XML-Enc padding still on.
 */
function decryptBase64Chunks(text: () => Iterable<Buffer>, contentKey: Buffer): Buffer {
  if (base64BinaryProblem(text()) !== null) throw new Error('cipher value');
  const dataLength = decodedBase64Length(text());
  if (dataLength < 32 || dataLength % 16 !== 0) throw new Error('cipher length');
  const out = Buffer.allocUnsafe(dataLength - 16);
  // Decoded windows and decipher output are garbage at once; collect them as we go (issue 7 memory).
  const release = youngGarbageRelease(dataLength);
  let at = 0;
  let iv: Buffer | undefined;
  let decipher: ReturnType<typeof createDecipheriv> | undefined;
  const pending: Buffer[] = [];
  decodeBase64Chunks(text(), (chunk) => {
    let data = chunk;
    if (decipher === undefined) {
      pending.push(chunk);
      const head = Buffer.concat(pending);
      if (head.length < 16) return;
      iv = head.subarray(0, 16);
      decipher = createDecipheriv('aes-256-cbc', contentKey, iv);
      decipher.setAutoPadding(false);
      data = head.subarray(16);
      pending.length = 0;
    }
    at += decipher.update(data).copy(out, at);
    release(chunk.length);
  });
  if (decipher === undefined) throw new Error('cipher length');
  at += decipher.final().copy(out, at);
  if (at !== out.length) throw new Error('cipher length');
  return out;
}

/**
 * Decrypt an `xenc:EncryptedData` of Type #Element: AES-256-CBC content, key transported with
 * rsa-oaep-mgf1p (SHA-1) to one of our encryption certificates. Returns the plaintext bytes (a serialized
 * element). Throws {@link PayloadDecryptionError} for every failure. With `large`, a CipherValue that was
 * cut out of the DOM (../xml/large-text.ts) is decrypted from its bytes, chunk by chunk.
 */
export function decryptEncryptedData(encryptedData: XElement, keys: readonly DecryptionKey[], large?: LargeTexts): Buffer {
  try {
    if (encryptedData.getAttribute('Type') !== ALG.encTypeElement) throw new Error('type');
    if (algorithmOf(encryptedData) !== ALG.aes256cbc) throw new Error('data algorithm');
    const keyInfos = childElements(encryptedData, NS.ds, 'KeyInfo');
    const eks = keyInfos.flatMap((ki) => childElements(ki, NS.xenc, 'EncryptedKey'));
    if (keyInfos.length !== 1 || eks.length !== 1) throw new Error('key info');
    const ek = eks[0] as XElement;
    if (algorithmOf(ek) !== ALG.rsaOaepMgf1p) throw new Error('key transport');
    const method = firstChild(ek, NS.xenc, 'EncryptionMethod') as XElement;
    const digests = childElements(method, NS.ds, 'DigestMethod');
    if (digests.some((d) => d.getAttribute('Algorithm') !== ALG.sha1) || digests.length > 1) throw new Error('oaep digest');
    const oaepParams = firstChild(method, NS.xenc, 'OAEPparams');
    const label = oaepParams === undefined ? undefined : Buffer.from(stringValue(oaepParams).replace(/\s+/g, ''), 'base64');

    const certEl = childElements(ek, NS.ds, 'KeyInfo')
      .flatMap((ki) => childElements(ki, NS.ds, 'X509Data'))
      .flatMap((xd) => childElements(xd, NS.ds, 'X509Certificate'))[0];
    let candidates = keys;
    if (certEl !== undefined) {
      const der = Buffer.from(stringValue(certEl).replace(/\s+/g, ''), 'base64');
      candidates = keys.filter((k) => certificateDer(k.certificatePem).equals(der));
    }
    const ekValue = childElements(ek, NS.xenc, 'CipherData').flatMap((cd) => childElements(cd, NS.xenc, 'CipherValue'))[0];
    const edValue = childElements(encryptedData, NS.xenc, 'CipherData').flatMap((cd) => childElements(cd, NS.xenc, 'CipherValue'))[0];
    if (ekValue === undefined || edValue === undefined) throw new Error('cipher data');
    const wrapped = Buffer.from(stringValue(ekValue).replace(/\s+/g, ''), 'base64');

    let contentKey: Buffer | undefined;
    for (const k of candidates) {
      try {
        contentKey = privateDecrypt({ key: k.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', ...(label ? { oaepLabel: label } : {}) }, wrapped);
        break;
      } catch {
        contentKey = undefined;
      }
    }
    if (contentKey === undefined || contentKey.length !== 32) throw new Error('content key');

    const edText = stringValue(edValue);
    let padded: Buffer;
    if (large !== undefined && large.isToken(edText)) {
      try {
        padded = decryptBase64Chunks(() => large.chunks(edText), contentKey);
      } finally {
        contentKey.fill(0);
      }
    } else {
      const data = Buffer.from(edText.replace(/\s+/g, ''), 'base64');
      if (data.length < 32 || data.length % 16 !== 0) throw new Error('cipher length');
      const decipher = createDecipheriv('aes-256-cbc', contentKey, data.subarray(0, 16));
      decipher.setAutoPadding(false);
      padded = Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
      contentKey.fill(0);
    }
    // XML-Enc padding: the last byte is the pad length (1..16); the filler bytes are arbitrary.
    const pad = padded[padded.length - 1] ?? 0;
    if (pad < 1 || pad > 16) throw new Error('padding');
    return padded.subarray(0, padded.length - pad);
  } catch {
    throw new PayloadDecryptionError();
  }
}
