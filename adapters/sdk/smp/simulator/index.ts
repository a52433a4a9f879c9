// SMP + CertPub simulator (sdk.md §3; style.md convention 6): an OASIS BDXR SMP 1.0 REST service over HTTPS
// serving an unsigned ServiceGroup and, per participant and document id, a SignedServiceMetadata with the
// receiving AP endpoint and the Digg CertPub extension, signed as SMP servers sign it (enveloped, inclusive
// C14N, RSA-SHA256, X509SubjectName + X509Certificate). Written independently of the SMP client's mapper.
import { X509Certificate } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { SignedXml } from 'xml-crypto';
import { MESSAGE_DOCUMENT_ID, PROCESS_ID, PROCESS_ID_SCHEME, RECEIPT_DOCUMENT_ID } from '../../../../src/domain/sdk/constants.js';
import { reply, startHttpsServer, type ReceivedRequest } from '../../../shared/https-server.js';

const NS_SMP = 'http://docs.oasis-open.org/bdxr/ns/SMP/2016/05';
const NS_SMC = 'http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents';
const NS_SMB = 'http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents';
const CERTPUB_EXTENSION = 'urn:fdc:digg.se:edelivery:xml-extension:smp-certpub:1.0';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';

export interface SmpSimParticipant {
  /** Participant id `<ICD>:<id>` (scheme iso6523-actorid-upis). */
  id: string;
  /** Document ids it is registered for. Default: the SDK message and receipt document ids. */
  documentIds?: readonly string[];
  /** Its receiving access point. */
  endpoint: { url: string; certificatePem: string; transportProfile?: string };
  /** CertPub O2O certificates (PEM). */
  certificates: { signingPem: readonly string[]; encryptionPem: readonly string[] };
}

export interface SmpSimulatorOptions {
  port?: number;
  host?: string;
  /** HTTPS server material; client certificates are requested only when requireClientCert is true. */
  tls: { keyPem: string; certPem: string; caPem: string; requireClientCert?: boolean };
  /** The SMP's metadata signing key and certificate (PEM). */
  signer: { keyPem: string; certPem: string };
  participants: readonly SmpSimParticipant[];
  /** Test hook: change a signed answer before it is sent (e.g. to tamper with it). */
  afterSign?: (xml: string, path: string) => string;
}

export interface SmpSimulator {
  url: string;
  /** Paths requested so far (decoded), in order. */
  requests: string[];
  /** The registrations served now (a copy). */
  participants(): SmpSimParticipant[];
  /** Replace the registrations (e.g. a certificate roll-over). */
  setParticipants(participants: readonly SmpSimParticipant[]): void;
  close(): Promise<void>;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const b64 = (pem: string): string => new X509Certificate(pem).raw.toString('base64');

function serviceGroup(base: string, p: SmpSimParticipant): string {
  const refs = (p.documentIds ?? [MESSAGE_DOCUMENT_ID, RECEIPT_DOCUMENT_ID])
    .map((d) => `<ServiceMetadataReference href="${esc(`${base}/${encodeURIComponent(`iso6523-actorid-upis::${p.id}`)}/services/${encodeURIComponent(`busdox-docid-qns::${d}`)}`)}"/>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><ServiceGroup xmlns="${NS_SMP}"><ParticipantIdentifier scheme="iso6523-actorid-upis">${esc(p.id)}</ParticipantIdentifier><ServiceMetadataReferenceCollection>${refs}</ServiceMetadataReferenceCollection></ServiceGroup>`;
}

function serviceMetadata(p: SmpSimParticipant, documentId: string): string {
  const certs = [
    ...p.certificates.signingPem.map((c) => ['urn:fdc:digg.se:edelivery:certpub:signing-cert', c] as const),
    ...p.certificates.encryptionPem.map((c) => ['urn:fdc:digg.se:edelivery:certpub:encryption-cert', c] as const),
  ]
    .map(([type, pem]) => `<smc:Certificate><smb:TypeCode>${type}</smb:TypeCode><smb:ContentBinaryObject mimeCode="application/base64">${b64(pem)}</smb:ContentBinaryObject></smc:Certificate>`)
    .join('');
  return (
    `<SignedServiceMetadata xmlns="${NS_SMP}"><ServiceMetadata><ServiceInformation>` +
    `<ParticipantIdentifier scheme="iso6523-actorid-upis">${esc(p.id)}</ParticipantIdentifier>` +
    `<DocumentIdentifier scheme="busdox-docid-qns">${esc(documentId)}</DocumentIdentifier>` +
    `<ProcessList><Process><ProcessIdentifier scheme="${PROCESS_ID_SCHEME}">${PROCESS_ID}</ProcessIdentifier><ServiceEndpointList>` +
    `<Endpoint transportProfile="${esc(p.endpoint.transportProfile ?? 'digg-transport-as4-v1_0')}"><EndpointURI>${esc(p.endpoint.url)}</EndpointURI>` +
    `<RequireBusinessLevelSignature>false</RequireBusinessLevelSignature><Certificate>${b64(p.endpoint.certificatePem)}</Certificate>` +
    `<ServiceDescription>Sändebud simulated access point</ServiceDescription><TechnicalContactUrl>https://example.invalid/contact</TechnicalContactUrl></Endpoint>` +
    `</ServiceEndpointList></Process></ProcessList>` +
    `<Extension><ExtensionID>${CERTPUB_EXTENSION}</ExtensionID><ExtensionName>CertPub</ExtensionName>` +
    `<smc:Certificates xmlns:smc="${NS_SMC}" xmlns:smb="${NS_SMB}">${certs}</smc:Certificates></Extension>` +
    `</ServiceInformation></ServiceMetadata></SignedServiceMetadata>`
  );
}

function sign(xml: string, signer: SmpSimulatorOptions['signer']): string {
  const cert = new X509Certificate(signer.certPem);
  const subject = cert.subject.split('\n').reverse().join(', ');
  const sig = new SignedXml({
    privateKey: signer.keyPem,
    publicCert: signer.certPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: C14N,
    getKeyInfoContent: () => `<X509Data><X509SubjectName>${esc(subject)}</X509SubjectName><X509Certificate>${cert.raw.toString('base64')}</X509Certificate></X509Data>`,
  });
  sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature'], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true });
  sig.computeSignature(xml, { location: { reference: '/*', action: 'append' } });
  return `<?xml version="1.0" encoding="UTF-8"?>${sig.getSignedXml()}`;
}

export async function startSmpSimulator(opts: SmpSimulatorOptions): Promise<SmpSimulator> {
  let participants = [...opts.participants];
  const requests: string[] = [];
  let base = '';
  const handler = (req: ReceivedRequest, res: ServerResponse): void => {
    if (req.method !== 'GET') return reply(res, 405, 'text/plain', 'GET only');
    const segments = req.path.split('?')[0]!.split('/').filter((s) => s.length > 0);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return reply(res, 400, 'text/plain', 'bad path');
    }
    requests.push(`/${decoded.join('/')}`);
    const pid = /^iso6523-actorid-upis::(.+)$/i.exec(decoded[0] ?? '')?.[1];
    const p = pid === undefined ? undefined : participants.find((x) => x.id.toLowerCase() === pid.toLowerCase());
    if (p === undefined) return reply(res, 404, 'text/plain', 'participant not found');
    if (decoded.length === 1) return reply(res, 200, 'text/xml; charset=UTF-8', serviceGroup(base, p));
    const doc = decoded.length === 3 && decoded[1] === 'services' ? /^busdox-docid-qns::(.+)$/.exec(decoded[2]!)?.[1] : undefined;
    if (doc === undefined || !(p.documentIds ?? [MESSAGE_DOCUMENT_ID, RECEIPT_DOCUMENT_ID]).includes(doc)) return reply(res, 404, 'text/plain', 'service metadata not found');
    let xml = sign(serviceMetadata(p, doc), opts.signer);
    if (opts.afterSign) xml = opts.afterSign(xml, req.path);
    return reply(res, 200, 'text/xml; charset=UTF-8', xml);
  };
  const server = await startHttpsServer(
    { port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', tls: { key: opts.tls.keyPem, cert: opts.tls.certPem, ca: opts.tls.caPem }, requireClientCert: opts.tls.requireClientCert ?? false },
    handler,
  );
  base = server.url;
  return {
    url: server.url,
    requests,
    participants: () => [...participants],
    setParticipants(next) {
      participants = [...next];
    },
    close: () => server.close(),
  };
}
