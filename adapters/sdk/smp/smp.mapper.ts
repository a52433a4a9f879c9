// sdk.md §3 (SMP 1.0 SignedServiceMetadata with the CertPub extension) and §16.16: verify the SMP's XML-DSig
// signature against configured trust, then read participant, document, endpoints and CertPub certificates —
// only from the signed content (dependencies.md XML rule 6). Shape and signature only; transport is smp.client.ts.
import { X509Certificate } from 'node:crypto';
import type { Element as XElement } from '@xmldom/xmldom';
import { verifyCertificateChain, type TrustStore } from '../../shared/x509-trust.js';
import { checkSignatureShape, verifyEnvelopeSignature } from '../xhe/xml-dsig.js';
import { derToPem } from '../xhe/trust.js';
import { parseUntrustedXml } from '../xml/safe-xml.js';

export const SMP_NS = {
  smp: 'http://docs.oasis-open.org/bdxr/ns/SMP/2016/05',
  smc: 'http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents',
  smb: 'http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents',
} as const;

export const CERTPUB = {
  extensionId: 'urn:fdc:digg.se:edelivery:xml-extension:smp-certpub:1.0',
  signing: 'urn:fdc:digg.se:edelivery:certpub:signing-cert',
  encryption: 'urn:fdc:digg.se:edelivery:certpub:encryption-cert',
} as const;

export const PARTICIPANT_SCHEME = 'iso6523-actorid-upis';
export const DOCUMENT_SCHEME = 'busdox-docid-qns';

export interface SmpEndpoint {
  transportProfile: string;
  url: string;
  /** The receiving AP's certificate (PEM); its CN is the AS4 To party. */
  certificatePem: string;
  activation?: Date;
  expiration?: Date;
}

export interface ServiceMetadata {
  participant: string;
  document: string;
  processes: Array<{ processId: string; processScheme?: string; endpoints: SmpEndpoint[] }>;
  /** CertPub O2O certificates (PEM), in document order. */
  certpub: { signing: string[]; encryption: string[] };
  /** The certificate that signed the metadata (chain-checked). */
  smpSigner: X509Certificate;
}

export class SmpMetadataError extends Error {
  /** Stable reason: NOT_XML, SIGNATURE, UNTRUSTED_SIGNER, SHAPE, MISMATCH. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'SmpMetadataError';
    this.reason = reason;
  }
}

export interface SmpTrust {
  /** CAs (roots and intermediates) the SMP signing certificate must chain to. */
  store: TrustStore;
  /** When given, the SMP signing certificate must be one of these (pinning). */
  signerCertificates?: readonly X509Certificate[];
}

const kids = (el: XElement, ns: string, local: string): XElement[] => {
  const out: XElement[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as XElement).namespaceURI === ns && (c as XElement).localName === local) out.push(c as XElement);
  return out;
};
const one = (el: XElement, local: string, ns: string = SMP_NS.smp): XElement => {
  const found = kids(el, ns, local);
  if (found.length !== 1) throw new SmpMetadataError('SHAPE', `expected exactly one ${local}`);
  return found[0]!;
};
const opt = (el: XElement, local: string, ns: string = SMP_NS.smp): XElement | undefined => {
  const found = kids(el, ns, local);
  if (found.length > 1) throw new SmpMetadataError('SHAPE', `expected at most one ${local}`);
  return found[0];
};
const text = (el: XElement): string => (el.textContent ?? '').trim();

function descendants(el: XElement, ns: string, local: string): XElement[] {
  const out: XElement[] = [];
  const stack: XElement[] = [el];
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const e = c as XElement;
      if (e.namespaceURI === ns && e.localName === local) out.push(e);
      else stack.push(e);
    }
  }
  return out;
}

/** A certificate given as base64 DER, tolerating PEM armour and line breaks (sdk.md §3). */
export function certificateFromBase64(value: string): string {
  const body = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    throw new SmpMetadataError('SHAPE', 'a certificate in the metadata cannot be read');
  }
  return derToPem(der);
}

function optionalDate(el: XElement | undefined): Date | undefined {
  if (el === undefined) return undefined;
  const d = new Date(text(el));
  if (Number.isNaN(d.getTime())) throw new SmpMetadataError('SHAPE', 'an endpoint date is not an xs:dateTime');
  return d;
}

/**
 * Verify a SignedServiceMetadata document and read it. `expect` names the participant and document the
 * caller asked for: metadata about anything else is refused (a valid signature over the wrong resource).
 */
export function readSignedServiceMetadata(bytes: Uint8Array, trust: SmpTrust, expect: { participant: string; documentId: string }, now: Date = new Date()): ServiceMetadata {
  let parsed;
  try {
    parsed = parseUntrustedXml(bytes);
  } catch {
    throw new SmpMetadataError('NOT_XML', 'the SMP answer is not acceptable XML');
  }
  const root = parsed.doc.documentElement;
  if (root === null || root.namespaceURI !== SMP_NS.smp || root.localName !== 'SignedServiceMetadata') throw new SmpMetadataError('SHAPE', 'not a SignedServiceMetadata document');
  const shape = checkSignatureShape(parsed.doc);
  if (!shape.ok) throw new SmpMetadataError('SIGNATURE', shape.problem);
  if (shape.shape.keyInfoCertificate === undefined) throw new SmpMetadataError('UNTRUSTED_SIGNER', 'the signature does not carry the SMP certificate');
  let signer: X509Certificate;
  try {
    signer = new X509Certificate(Buffer.from(shape.shape.keyInfoCertificate, 'base64'));
  } catch {
    throw new SmpMetadataError('UNTRUSTED_SIGNER', 'the SMP certificate cannot be read');
  }
  // Trust is configuration: the KeyInfo certificate counts only after its chain to the SMP CA is checked.
  const chain = verifyCertificateChain(signer, trust.store, { at: now });
  if (!chain.ok) throw new SmpMetadataError('UNTRUSTED_SIGNER', chain.reason);
  if (trust.signerCertificates !== undefined && !trust.signerCertificates.some((c) => c.raw.equals(signer.raw))) throw new SmpMetadataError('UNTRUSTED_SIGNER', 'the SMP certificate is not the configured one');
  const verified = verifyEnvelopeSignature(parsed.text, parsed.doc, signer.toString());
  if (!verified.ok) throw new SmpMetadataError('SIGNATURE', verified.problem);

  // From here on, only the signed content is read.
  const signedRoot = verified.signedDocument.documentElement!;
  const redirect = opt(one(signedRoot, 'ServiceMetadata'), 'Redirect');
  if (redirect !== undefined) throw new SmpMetadataError('SHAPE', 'SMP redirects are not supported');
  const info = one(one(signedRoot, 'ServiceMetadata'), 'ServiceInformation');
  const participantEl = one(info, 'ParticipantIdentifier');
  const documentEl = one(info, 'DocumentIdentifier');
  const participant = text(participantEl);
  const document = text(documentEl);
  if (participantEl.getAttribute('scheme') !== PARTICIPANT_SCHEME || participant.toLowerCase() !== expect.participant.toLowerCase()) throw new SmpMetadataError('MISMATCH', 'the metadata is about another participant');
  if (documentEl.getAttribute('scheme') !== DOCUMENT_SCHEME || document !== expect.documentId) throw new SmpMetadataError('MISMATCH', 'the metadata is about another document type');

  const processes = kids(one(info, 'ProcessList'), SMP_NS.smp, 'Process').map((p) => {
    const pid = one(p, 'ProcessIdentifier');
    const scheme = pid.getAttribute('scheme');
    const endpoints = kids(one(p, 'ServiceEndpointList'), SMP_NS.smp, 'Endpoint').map((e) => {
      const activation = optionalDate(opt(e, 'ServiceActivationDate'));
      const expiration = optionalDate(opt(e, 'ServiceExpirationDate'));
      return {
        transportProfile: e.getAttribute('transportProfile') ?? '',
        url: text(one(e, 'EndpointURI')),
        certificatePem: certificateFromBase64(text(one(e, 'Certificate'))),
        ...(activation ? { activation } : {}),
        ...(expiration ? { expiration } : {}),
      };
    });
    return { processId: text(pid), ...(scheme !== null && scheme !== '' ? { processScheme: scheme } : {}), endpoints };
  });

  const certpub = { signing: [] as string[], encryption: [] as string[] };
  for (const ext of kids(info, SMP_NS.smp, 'Extension')) {
    const id = opt(ext, 'ExtensionID');
    if (id === undefined || text(id) !== CERTPUB.extensionId) continue;
    for (const c of descendants(ext, SMP_NS.smc, 'Certificate')) {
      const type = text(one(c, 'TypeCode', SMP_NS.smb));
      const pem = certificateFromBase64(text(one(c, 'ContentBinaryObject', SMP_NS.smb)));
      if (type === CERTPUB.signing || type === 'signing-cert') certpub.signing.push(pem);
      else if (type === CERTPUB.encryption || type === 'encryption-cert') certpub.encryption.push(pem);
    }
  }
  return { participant, document, processes, certpub, smpSigner: signer };
}
