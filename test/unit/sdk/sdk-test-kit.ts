// Test kit for the SDK message-service core: the dev PKI parties of two organisations, fixture loading,
// and a "raw" sealer that envelopes ANY payload bytes (also invalid ones) the way a sending MT would, so the
// receiving pipeline can be fed each crafted fixture. Not a test file itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevPki, type DevParty, type DevPki } from '../../../scripts/dev-pki.js';
import { randomUUID } from 'node:crypto';
import { FUNCTION_ADDRESS_ROOT, MESSAGE_DOCUMENT_ID, MESSAGE_DOCUMENT_TYPE_CODE } from '../../../src/domain/sdk/constants.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import type { FunctionAddress, MessageId, ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { CertificateDirectory, DirectoryCertificate, InboundLookups } from '../../../src/ports/sdk.port.js';
import type { InboundMessageContext } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { buildXhe, type XheHeaderInput } from '../../../adapters/sdk/xhe/xhe.mapper.js';
import { encryptPayload, type DecryptionKey } from '../../../adapters/sdk/xhe/xml-enc.js';
import { signEnvelope, type SigningKey } from '../../../adapters/sdk/xhe/xml-dsig.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(here, '../../..');
export const FIXTURES = path.join(ROOT_DIR, 'test/fixtures/sdk');
export const REFERENCE = path.resolve(ROOT_DIR, '../shared/reference/sdk');
export const referenceAvailable = fs.existsSync(REFERENCE);

export const OURS = { participant: '0203:sandebud.dev.example' as ParticipantId, orgnr: '2120000000', inbox: 'sdk:inkorg:0203:sandebud.dev.example' as FunctionAddress };
export const PEER1 = { participant: '0203:region.dev.example' as ParticipantId, orgnr: '2321000016', outbox: 'sdk:utkorg:0203:region.dev.example' as FunctionAddress };
export const PEER2 = { participant: '0203:grannkommun.dev.example' as ParticipantId, orgnr: '2021000001' };

export interface Pki {
  pki: DevPki;
  read(file: string): string;
  key(party: DevParty): SigningKey;
  decryptionKey(party: DevParty): DecryptionKey;
  cert(party: DevParty): string;
  caBundle: string;
  orgCrl: string;
}

export async function loadPki(): Promise<Pki> {
  const pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
  const read = (f: string): string => fs.readFileSync(f, 'utf8');
  return {
    pki,
    read,
    key: (p) => ({ privateKeyPem: read(pki.key(p)), certificatePem: read(pki.cert(p)) }),
    decryptionKey: (p) => ({ privateKeyPem: read(pki.key(p)), certificatePem: read(pki.cert(p)) }),
    cert: (p) => read(pki.cert(p)),
    caBundle: read(pki.caBundleFile),
    orgCrl: read(pki.crlFile('org')),
  };
}

/**
 * A message from PEER1's outbox to our inbox: a fresh message id (also the conversation id), now as its
 * creation time, one document `d1`. Tests pass what they care about.
 */
export function peerMessage(m: { label: string; confidentiality?: boolean; files?: SdkMessage['documents'][number]['files']; texts?: string[]; documentId?: string }, overrides: Partial<SdkMessage> = {}): SdkMessage {
  const id = randomUUID() as MessageId;
  return {
    creationDateTime: new Date().toISOString(),
    messageId: id,
    conversationId: id,
    label: m.label,
    confidentiality: m.confidentiality ?? true,
    recipient: { id: OURS.participant, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: OURS.inbox } } } },
    sender: { id: PEER1.participant, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: PEER1.outbox } } } },
    documents: [{ documentId: m.documentId ?? 'd1', files: m.files ?? [], texts: m.texts ?? [] }],
    ...overrides,
  };
}

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

/** A CertPub stand-in: participant → certificates, as the lead's SMP adapter will provide them. */
export function directory(entries: Record<string, { signing: DirectoryCertificate[]; encryption?: DirectoryCertificate }>): CertificateDirectory {
  return {
    async encryptionCertificate(p) {
      return entries[p.toLowerCase()]?.encryption ?? null;
    },
    async signingCertificates(p) {
      return entries[p.toLowerCase()]?.signing ?? [];
    },
  };
}

/** The look-ups the receiving MT (us) answers in these tests. */
export const LOOKUPS: InboundLookups = {
  async isKnownFunctionAddress(a) {
    return a === OURS.inbox;
  },
  async isDuplicateMessage(_s, id) {
    return id.toLowerCase() === 'd0d0d0d0-0000-4000-8000-00000000dddd';
  },
  async referencedMessageState(id) {
    return id.toLowerCase() === 'bad0bad0-0000-4000-8000-00000000bad0' ? 'rejected' : 'unknown';
  },
  isSupportedContentType(ct) {
    return ['application/pdf', 'text/plain', 'image/png', 'image/jpeg'].includes(ct.toLowerCase());
  },
  async scanAttachment(f) {
    return Buffer.from(f.content).includes('SANDEBUD-TEST-MALWARE-MARKER') ? 'infected' : 'clean';
  },
};

/** Our receiving context: peer1 and peer2 are registered senders; we decrypt with org-enc. */
export function receiverContext(k: Pki, overrides: Partial<InboundMessageContext> = {}): InboundMessageContext {
  return {
    certificates: directory({
      [PEER1.participant]: { signing: [{ pem: k.cert('peer1-sign'), organizationNumber: PEER1.orgnr }] },
      [PEER2.participant]: { signing: [{ pem: k.cert('peer2-sign'), organizationNumber: PEER2.orgnr }] },
    }),
    trust: { anchors: [k.caBundle], crls: [k.orgCrl] },
    decryptionKeys: [k.decryptionKey('org-enc')],
    lookups: LOOKUPS,
    ownParticipants: [OURS.participant],
    ...overrides,
  };
}

export function messageIdOf(payload: Buffer): MessageId {
  const m = /<tns:messageId>([^<]*)<\/tns:messageId>/.exec(payload.toString('utf8'));
  return (m?.[1] ?? '00000000-0000-4000-8000-000000000000') as MessageId;
}

export function functionAddressOf(payload: Buffer): string {
  const m = /<tns:recipient>[\s\S]*?<tns:subOrganization>[\s\S]*?<tns:extension>([^<]*)<\/tns:extension>/.exec(payload.toString('utf8'));
  return m?.[1] ?? OURS.inbox;
}

export interface RawSealOptions {
  header?: Partial<XheHeaderInput>;
  signer?: DevParty;
  encryptTo?: DevParty;
  /** Put the payload in clear instead of encrypting it. */
  clear?: boolean;
}

/**
 * Envelope any payload bytes as peer1 sending to us: strip the XML declaration, encrypt to org-enc, build
 * the XHE with the payload's messageId and function address, sign with peer1-sign. Returns the exact bytes.
 */
export function sealRaw(k: Pki, payload: Buffer, opts: RawSealOptions = {}): Buffer {
  const element = payload.toString('utf8').replace(/^\uFEFF?<\?xml[^?]*\?>\s*/, '');
  const header: XheHeaderInput = {
    id: messageIdOf(payload),
    creationDateTime: '2026-11-20T10:00:01.000Z',
    documentId: MESSAGE_DOCUMENT_ID,
    from: PEER1.participant,
    to: OURS.participant,
    documentTypeCode: MESSAGE_DOCUMENT_TYPE_CODE,
    handlingServiceId: functionAddressOf(payload),
    ...opts.header,
  };
  const xhe = opts.clear
    ? buildXhe(header, { kind: 'xml', xml: element })
    : buildXhe(header, { kind: 'encrypted', encrypted: encryptPayload(Buffer.from(element, 'utf8'), k.cert(opts.encryptTo ?? 'org-enc')) });
  return Buffer.from(signEnvelope(xhe, k.key(opts.signer ?? 'peer1-sign')), 'utf8');
}

/** The embedded XHE of a Domibus submitRequest reference example (base64 in payload/value). */
export function embeddedXheOf(soap: Buffer): Buffer {
  const m = /<value>([^<]*)<\/value>/.exec(soap.toString('utf8'));
  if (!m?.[1]) throw new Error('no payload value');
  return Buffer.from(m[1], 'base64');
}

/** The signer certificate (PEM) in the KeyInfo of an enveloped XHE signature. */
export function keyInfoCertificateOf(xhe: Buffer): string {
  const text = xhe.toString('utf8');
  const sig = text.slice(text.lastIndexOf('Signature '));
  const m = /X509Certificate>([^<]+)</.exec(sig);
  if (!m?.[1]) throw new Error('no KeyInfo certificate');
  const b64 = m[1].replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function skipNotice(what: string): void {
  console.warn(`SKIPPED: ${what} — ../shared/reference/sdk is not available`);
}
