// Test kit for the issue-7 adapters (AS4 access point, SMP/CertPub, address book): the dev PKI parties of three
// organisations, access points started on real sockets with mutual TLS, and SDK messages sealed by the real
// message-service core. Not a test file itself.
import 'reflect-metadata';
import { randomUUID, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as x509 from '@peculiar/x509';
import { request } from 'undici';
import { ensureDevPki, type DevParty, type DevPki } from '../../../scripts/dev-pki.js';
import { FUNCTION_ADDRESS_ROOT } from '../../../src/domain/sdk/constants.js';
import type { FunctionAddress, MessageId, ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import type { CertificateDirectory, DirectoryCertificate, InboundLookups } from '../../../src/ports/sdk.port.js';
import { createAs4AccessPoint, type As4AccessPoint, type As4AccessPointOptions, type As4Peer } from '../../../adapters/sdk/as4/index.js';
import { createSdkMessageService, type SdkMessageService } from '../../../adapters/sdk/index.js';
import { userMessagingXml } from '../../../adapters/sdk/as4/ebms.mapper.js';
import { buildMultipart } from '../../../adapters/sdk/as4/mime.js';
import { actionForDocument, defaultPmode } from '../../../adapters/sdk/as4/pmode.js';
import { secureEnvelope } from '../../../adapters/sdk/as4/wss.js';
import { createMtlsAgent } from '../../../adapters/shared/mtls-http.js';

export const OURS = { participant: '0203:sandebud.dev.example' as ParticipantId, orgnr: '2120000000', inbox: 'sdk:inkorg:0203:sandebud.dev.example' as FunctionAddress };
export const PEER1 = { participant: '0203:region.dev.example' as ParticipantId, orgnr: '2321000016', inbox: 'sdk:inkorg:0203:region.dev.example' as FunctionAddress, outbox: 'sdk:utkorg:0203:region.dev.example' as FunctionAddress };
export const PEER2 = { participant: '0203:grannkommun.dev.example' as ParticipantId, orgnr: '2021000001' };

/** AS4 party ids = CN of each AP certificate (sdk.md §2). */
export const AP_PARTY = { ours: 'Sändebuds kommun (dev) access point', peer1: 'Region Dev access point', peer2: 'Grannkommun (dev) access point' } as const;
export type Org = keyof typeof AP_PARTY;
const TLS_PARTY: Record<Org, DevParty> = { ours: 'org-tls-server', peer1: 'peer1-tls', peer2: 'peer2-tls' };
const PARTICIPANT: Record<Org, ParticipantId> = { ours: OURS.participant, peer1: PEER1.participant, peer2: PEER2.participant };

export interface Kit {
  pki: DevPki;
  read(file: string): string;
  cert(p: DevParty): string;
  key(p: DevParty): string;
  caBundle: string;
  orgCrl: string;
}

export async function loadKit(): Promise<Kit> {
  const pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
  const read = (f: string): string => fs.readFileSync(f, 'utf8');
  return { pki, read, cert: (p) => read(pki.cert(p)), key: (p) => read(pki.key(p)), caBundle: read(pki.caBundleFile), orgCrl: read(pki.crlFile('org')) };
}

/** A peer table the tests fill in as access points start (URLs are known only after listen). */
export class PeerTable {
  readonly entries = new Map<string, As4Peer>();
  constructor(private readonly kit: Kit) {}
  set(org: Org, url: string, certificatePem?: string): void {
    this.entries.set(PARTICIPANT[org].toLowerCase(), { endpointUrl: url, partyId: AP_PARTY[org], certificatePem: certificatePem ?? this.kit.cert(TLS_PARTY[org]) });
  }
  resolver = async (participant: string): Promise<As4Peer | null> => this.entries.get(participant.toLowerCase()) ?? null;
}

/** An access point for `org` with its own dev certificates (the AP certificate signs and does TLS). */
export async function startAp(kit: Kit, org: Org, peers: PeerTable, over: Partial<As4AccessPointOptions> = {}): Promise<As4AccessPoint> {
  const tlsParty = TLS_PARTY[org];
  const ap = await createAs4AccessPoint({
    partyId: AP_PARTY[org],
    servedParticipants: [PARTICIPANT[org]],
    signing: { privateKeyPem: kit.key(tlsParty), certificatePem: kit.cert(tlsParty) },
    tls: { keyPem: kit.key(tlsParty), certPem: kit.cert(tlsParty), caPem: kit.caBundle },
    trustedCaPem: kit.caBundle,
    peers: peers.resolver,
    listen: { host: '127.0.0.1', port: 0 },
    retry: { nextDelayMs: (n) => (n < 3 ? 100 : null) },
    ...over,
  });
  if (ap.url !== undefined && over.signing === undefined) peers.set(org, ap.url);
  return ap;
}

/** CertPub stand-in for the message-service core: participant → O2O certificates. */
export function directoryFor(kit: Kit): CertificateDirectory {
  const entries: Record<string, { signing: DirectoryCertificate[]; encryption: DirectoryCertificate }> = {
    [OURS.participant]: { signing: [{ pem: kit.cert('org-sign'), organizationNumber: OURS.orgnr }], encryption: { pem: kit.cert('org-enc'), organizationNumber: OURS.orgnr } },
    [PEER1.participant]: { signing: [{ pem: kit.cert('peer1-sign'), organizationNumber: PEER1.orgnr }], encryption: { pem: kit.cert('peer1-enc'), organizationNumber: PEER1.orgnr } },
    [PEER2.participant]: { signing: [{ pem: kit.cert('peer2-sign'), organizationNumber: PEER2.orgnr }], encryption: { pem: kit.cert('peer2-enc'), organizationNumber: PEER2.orgnr } },
  };
  return {
    async encryptionCertificate(p) {
      return entries[p.toLowerCase()]?.encryption ?? null;
    },
    async signingCertificates(p) {
      return entries[p.toLowerCase()]?.signing ?? [];
    },
  };
}

export const LOOKUPS: InboundLookups = {
  async isKnownFunctionAddress(a) {
    return a === OURS.inbox || a === PEER1.inbox;
  },
  async isDuplicateMessage() {
    return false;
  },
  async referencedMessageState() {
    return 'unknown';
  },
  isSupportedContentType(ct) {
    return ct.toLowerCase() === 'application/pdf';
  },
};

export function messageService(kit: Kit, org: 'ours' | 'peer1', directory: CertificateDirectory = directoryFor(kit)): SdkMessageService {
  const sign: DevParty = org === 'ours' ? 'org-sign' : 'peer1-sign';
  const enc: DevParty = org === 'ours' ? 'org-enc' : 'peer1-enc';
  return createSdkMessageService({
    ownParticipants: [PARTICIPANT[org]],
    signingKey: { privateKeyPem: kit.key(sign), certificatePem: kit.cert(sign) },
    decryptionKeys: [{ privateKeyPem: kit.key(enc), certificatePem: kit.cert(enc) }],
    certificates: directory,
    lookups: LOOKUPS,
    trust: { anchors: [kit.caBundle], crls: [kit.orgCrl] },
  });
}

/** An SDK message from us to peer1's inbox with one small PDF. */
export function messageToPeer1(pdfBytes = 64): SdkMessage {
  return sdkMessage('ours', 'peer1', pdfBytes);
}

const INBOX: Record<'ours' | 'peer1', FunctionAddress> = { ours: OURS.inbox, peer1: PEER1.inbox };

/** An SDK message between our organisation and peer1 (either direction) with one PDF of `pdfBytes`. */
export function sdkMessage(from: 'ours' | 'peer1', to: 'ours' | 'peer1', pdfBytes = 64): SdkMessage {
  const id = randomUUID() as MessageId;
  return {
    creationDateTime: new Date().toISOString(),
    messageId: id,
    conversationId: id,
    label: 'Remiss',
    confidentiality: false,
    recipient: { id: PARTICIPANT[to], attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: INBOX[to] } } } },
    sender: { id: PARTICIPANT[from], attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: INBOX[from] } } } },
    documents: [{ documentId: 'd1', files: [{ fileName: 'remiss.pdf', contentType: 'application/pdf', content: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(pdfBytes, 0x41)]).toString('base64') }], texts: ['Hej'] }],
  };
}

const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

/** A CA nobody configured, and a leaf under it that names peer1's AP: trusted by no one. */
export async function rogueAccessPointCertificate(cn: string = AP_PARTY.peer1): Promise<{ certPem: string; keyPem: string }> {
  const caKeys = (await webcrypto.subtle.generateKey(rsaAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'C=SE, O=Rogue, CN=Rogue CA',
    keys: caKeys,
    signingAlgorithm: rsaAlg,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(rsaAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    subject: `C=SE, O=Region Dev, CN=${cn}`,
    issuer: ca.subjectName,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: rsaAlg,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true)],
  });
  return { certPem: `${leaf.toString('pem')}\n${ca.toString('pem')}\n`, keyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}

/** Wait until `cond` holds (tests wait on state, never on fixed sleeps). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Hand-made AS4 requests (the builder pieces the AP itself uses), to replay, tamper with and post directly.

export interface CraftOptions {
  /** The XHE to carry (exact bytes). */
  xhe: Uint8Array;
  documentId: string;
  originalSender: string;
  finalRecipient: string;
  fromParty: string;
  toParty: string;
  signer: { keyPem: string; certPem: string };
  messageId?: string;
  /** Change the SOAP text after signing. */
  tamperSoap?: (soap: string) => string;
  /** Change the (compressed) attachment after signing. */
  tamperAttachment?: (gz: Buffer) => Buffer;
  /** Leave the attachment out of the signature (sign with no attachment). */
  unsignedAttachment?: boolean;
  now?: Date;
}

export interface CraftedRequest {
  messageId: string;
  contentType: string;
  body: Buffer;
}

export function craftUserMessage(o: CraftOptions): CraftedRequest {
  const pmode = defaultPmode();
  const messageId = o.messageId ?? `${randomUUID()}@crafted.test`;
  const wsuId = `_m-${randomUUID()}`;
  const payload = gzipSync(o.xhe);
  const now = o.now ?? new Date();
  const messagingXml = userMessagingXml(
    pmode,
    { messageId, timestamp: now, fromPartyId: o.fromParty, toPartyId: o.toParty, action: actionForDocument(o.documentId), conversationId: randomUUID(), originalSender: o.originalSender, finalRecipient: o.finalRecipient, payloadCid: 'message', payloadMimeType: 'text/xml', compressed: true },
    wsuId,
  );
  const attachment = { contentId: 'message', contentType: 'application/gzip', body: payload };
  const secured = secureEnvelope({ messagingXml, messagingId: wsuId, attachments: o.unsignedAttachment ? [] : [attachment], key: { privateKey: o.signer.keyPem, certificatePem: o.signer.certPem }, now, ttlSeconds: 300 });
  const soap = o.tamperSoap ? o.tamperSoap(secured.xml) : secured.xml;
  const mp = buildMultipart({ contentId: 'root', body: Buffer.from(soap, 'utf8') }, [{ ...attachment, body: o.tamperAttachment ? o.tamperAttachment(payload) : payload }]);
  return { messageId, contentType: mp.contentType, body: Buffer.concat(mp.chunks) };
}

/** POST a crafted request over mutual TLS as `tlsParty`; returns status and body. */
export async function postRaw(kit: Kit, url: string, tlsParty: DevParty, req: { contentType: string; body: Buffer }): Promise<{ status: number; body: string }> {
  const agent = createMtlsAgent({ tls: { key: kit.key(tlsParty), cert: kit.cert(tlsParty), ca: kit.caBundle } });
  try {
    const res = await request(url, { dispatcher: agent, method: 'POST', headers: { 'content-type': req.contentType }, body: req.body });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}

/** The eb:Error code of an error answer (or undefined). */
export function ebmsErrorCode(body: string): string | undefined {
  return /errorCode="([^"]+)"/.exec(body)?.[1];
}
export function ebmsErrorDetail(body: string): string | undefined {
  return /<eb:ErrorDetail>([^<]*)<\/eb:ErrorDetail>/.exec(body)?.[1];
}
