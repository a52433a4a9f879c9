// Signing and verifying whole DSS messages: ../shared/specs/signing.md §3 (ds:Signature last child of
// dss:OptionalInputs, Reference URI=""), §5.3 step 2 (exactly one signature, last child of
// dss:OptionalOutputs, one Reference URI="", enveloped + exc-c14n/c14n, allowlisted algorithms, verified
// with the configured certificate only) and dependencies.md XML rules 4–8.
import type { Document, Element } from '@xmldom/xmldom';
import type { KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import type { Cert } from '../validation/pki.js';
import { COMMENT_NODE, findInSubtree, PROCESSING_INSTRUCTION_NODE } from '../validation/xml-safety.js';
import { cryptoCheck, parseSignatureStructure, StructureError } from '../validation/xml.validator.js';
import { restrictAlgorithms, signatureUriFor, XMLDSIG } from '../validation/xmldsig-algorithms.js';
import { NS } from './dss.constants.js';

export type DssContainer = 'OptionalInputs' | 'OptionalOutputs';

const toPem = (der: Uint8Array): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

export interface MessageSigningKey {
  key: KeyObject;
  keyType: 'RSA' | 'EC';
  /** Signing certificate (DER), put into KeyInfo for the receiver's convenience; trust never comes from it. */
  certificate: Uint8Array;
}

/** Sign a DSS message: enveloped, exc-c14n, URI="", appended as the last child of the given container. */
export function signDssMessage(xml: string, container: DssContainer, signer: MessageSigningKey): string {
  const sx = restrictAlgorithms(
    new SignedXml({ privateKey: signer.key, publicCert: toPem(signer.certificate), signatureAlgorithm: signatureUriFor(signer.keyType), canonicalizationAlgorithm: XMLDSIG.excC14n }),
  );
  sx.addReference({ xpath: '/*', transforms: [XMLDSIG.enveloped, XMLDSIG.excC14n], digestAlgorithm: XMLDSIG.sha256, isEmptyUri: true });
  sx.computeSignature(xml, { prefix: 'ds', location: { reference: `/*/*[local-name(.)='${container}' and namespace-uri(.)='${NS.dss}']`, action: 'append' } });
  return sx.getSignedXml();
}

export type EnvelopeCheck = { ok: true; cert: Cert } | { ok: false; detail: string };

const ALLOWED_TRANSFORM_SETS = [
  [XMLDSIG.enveloped, XMLDSIG.excC14n],
  [XMLDSIG.enveloped, XMLDSIG.c14n],
].map((t) => t.join(' '));

/**
 * Verify the one enveloped signature of a DSS message against configured certificates. Unsigned or badly
 * signed messages (success or error) are protocol failures (§5.3 step 2).
 */
export function verifyDssMessage(text: string, doc: Document, container: DssContainer, trusted: readonly Cert[]): EnvelopeCheck {
  const root = doc.documentElement!;
  const all: Element[] = [];
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (el.namespaceURI === NS.ds && el.localName === 'Signature') all.push(el);
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) stack.push(c as Element);
  }
  if (all.length !== 1) return { ok: false, detail: `expected exactly one ds:Signature, found ${all.length}` };
  const sig = all[0]!;
  const parent = sig.parentNode as Element | null;
  if (!parent || parent.parentNode !== root || parent.namespaceURI !== NS.dss || parent.localName !== container) {
    return { ok: false, detail: `ds:Signature must be a child of dss:${container}` };
  }
  let last: Element | null = null;
  for (let c = parent.lastChild; c; c = c.previousSibling) {
    if (c.nodeType === 1) {
      last = c as Element;
      break;
    }
  }
  if (last !== sig) return { ok: false, detail: `ds:Signature must be the last child of dss:${container}` };
  // Rule 7: no processing instructions or comments inside what the signature covers (the whole message).
  if (findInSubtree(doc, PROCESSING_INSTRUCTION_NODE)) return { ok: false, detail: 'processing instruction in message' };
  if (findInSubtree(root, COMMENT_NODE)) return { ok: false, detail: 'comment inside the signed message' };
  let refs;
  try {
    refs = parseSignatureStructure(sig).references;
  } catch (e) {
    return { ok: false, detail: e instanceof StructureError ? e.message : 'signature structure could not be read' };
  }
  if (refs.length !== 1 || refs[0]!.uri !== '') return { ok: false, detail: 'signature must have exactly one Reference with URI=""' };
  if (!ALLOWED_TRANSFORM_SETS.includes(refs[0]!.transforms.join(' '))) return { ok: false, detail: 'Reference transforms must be enveloped-signature + C14N' };
  let sawHashFailure = false;
  for (const cert of trusted) {
    const out = cryptoCheck(text, sig, cert);
    if (out.kind === 'ok') return { ok: true, cert };
    if (out.kind === 'hash') sawHashFailure = true;
    if (out.kind === 'format') return { ok: false, detail: out.detail };
  }
  return { ok: false, detail: sawHashFailure ? 'the message was changed after it was signed' : 'the signature does not verify with a configured certificate' };
}
