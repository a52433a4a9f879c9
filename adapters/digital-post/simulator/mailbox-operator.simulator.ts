// Mailbox-operator simulator: the Service contract's deliverSecure over HTTPS with mutual TLS
// (../shared/specs/digital-post.md §6.3–6.7, §10 #11/#12/#19; checklist §11 #37–#38; style.md convention 6).
// For each request: schema validation against contracts/digital-post; the seal verified on a re-rooted
// standalone SealedDelivery, then the sender signature on the SignedDelivery taken out of what the seal
// covered; both certificate chains to the configured CAs only; sender certificate = Header/Sender/Id;
// attachment checksums. A bad signature gets fault 5002 "Access denied". Accepted deliveries are recorded
// and de-duplicated by Message/Header/Id (a retry gets the first TransId back).
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { DOMImplementation, XMLSerializer, type Element } from '@xmldom/xmldom';
import { startHttpsServer, reply, type ReceivedRequest, type TlsServerMaterial } from '../../shared/https-server.js';
import { childElements, childrenNamed, isNamed, parseXmlSafely, requiredChild, textOf } from '../../shared/xml-safe-parse.js';
import { parseSoapMessage } from '../../shared/soap.js';
import { SignatureVerificationError, verifyEnvelopedDocument } from '../../shared/xml-dsig.js';
import { createTrustStore, organisationNumberOf } from '../../shared/x509-trust.js';
import { DEFAULT_OPERATOR_SCRIPT, type OperatorScript } from './scripted-data.js';
import { contractValidator, delay, sendApplicationFault, sendClientFault, SIM_NS } from './sim-support.js';

export interface MailboxOperatorSimulatorOptions {
  port?: number;
  host?: string;
  /** Server certificate and key (PEM contents) and the CAs whose TLS client certificates are accepted. */
  tls: TlsServerMaterial;
  /** CA certificates (PEM bundle) trusted for the sender signature and the seal. Nothing else is trusted. */
  signatureTrust: string | Buffer;
  /** For logs and calls[]; e.g. "A". */
  name?: string;
  /** Extra or replacing scripted recipients; merged over DEFAULT_OPERATOR_SCRIPT. */
  script?: Readonly<Record<string, OperatorScript>>;
  /** Delay of a "slow" answer. Default 2,000 ms. */
  slowMs?: number;
  /** Require organisation number of the sender certificate = Header/Sender/Id (§10 #12). Default true. */
  checkSenderIdentity?: boolean;
  contractXsd?: string;
  now?: () => Date;
}

export interface AcceptedDelivery {
  deliveryId: string;
  recipient: string;
  senderId: string;
  senderName: string;
  subject: string;
  transId: string;
  delivered: boolean;
  receivedDate: string;
  attachments: Array<{ filename: string; contentType: string; bytes: number; md5: string }>;
  senderCertificateSubject: string;
  sealCertificateSubject: string;
  /** SHA-256 (hex) of the request body as received. */
  requestSha256: string;
}

export interface MailboxOperatorCall {
  at: Date;
  path: string;
  clientSubject?: string;
  result: 'accepted' | 'duplicate' | 'fault' | 'client-fault';
  faultCode?: number;
  /** Why a signature or content check failed (a stable reason code). */
  reason?: string;
  deliveryId?: string;
  requestSha256: string;
}

export interface MailboxOperatorSimulator {
  url: string;
  /** The deliverSecure endpoint to put in FaR's ServiceAdress. */
  serviceAddress: string;
  calls: MailboxOperatorCall[];
  deliveries: AcceptedDelivery[];
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 2_097_152;

class Refusal extends Error {
  constructor(readonly code: number, readonly reason: string) {
    super(reason);
  }
}

/** Put element children under a fresh `<SealedDelivery xmlns="…/Message/v3">` root and serialise it (§6.6 (a)). */
function reRootSealedDelivery(children: Element[]): string {
  const doc = new DOMImplementation().createDocument(SIM_NS.MESSAGE_V3, 'SealedDelivery', null);
  for (const c of children) doc.documentElement!.appendChild(doc.importNode(c, true));
  return new XMLSerializer().serializeToString(doc);
}

function text(parent: Element, ns: string, local: string): string {
  return textOf(requiredChild(parent, ns, local)).trim();
}

export async function startMailboxOperatorSimulator(opts: MailboxOperatorSimulatorOptions): Promise<MailboxOperatorSimulator> {
  const calls: MailboxOperatorCall[] = [];
  const deliveries: AcceptedDelivery[] = [];
  const seen = new Map<string, AcceptedDelivery>();
  const script: Record<string, OperatorScript> = { ...DEFAULT_OPERATOR_SCRIPT, ...opts.script };
  const trust = createTrustStore(opts.signatureTrust);
  const validator = contractValidator(opts.contractXsd);
  const now = opts.now ?? (() => new Date());
  const slowMs = opts.slowMs ?? 2000;
  const checkIdentity = opts.checkSenderIdentity ?? true;

  const answer = (res: ServerResponse, d: Pick<AcceptedDelivery, 'transId' | 'recipient' | 'delivered'>): void => {
    reply(
      res,
      200,
      'text/xml; charset=UTF-8',
      `<soap:Envelope xmlns:soap="${SIM_NS.SOAP}"><soap:Body><ns8:deliverSecureResponse xmlns:ns8="${SIM_NS.SERVICE_V3}" xmlns:ns10="${SIM_NS.SERVICE}" xmlns:ns4="${SIM_NS.MESSAGE_V3}">` +
        `<ns8:return><ns10:TransId>${d.transId}</ns10:TransId><ns10:Status><ns10:RecipientId>${d.recipient}</ns10:RecipientId>` +
        `<ns10:Delivered>${d.delivered}</ns10:Delivered></ns10:Status></ns8:return></ns8:deliverSecureResponse></soap:Body></soap:Envelope>`,
    );
  };

  const handle = async (req: ReceivedRequest, res: ServerResponse): Promise<void> => {
    const call: MailboxOperatorCall = {
      at: now(),
      path: req.path,
      clientSubject: req.clientSubject,
      result: 'client-fault',
      requestSha256: createHash('sha256').update(req.body).digest('hex'),
    };
    calls.push(call);
    if (req.method !== 'POST') {
      reply(res, 405, 'text/plain', 'POST only');
      return;
    }
    if (req.body.length > MAX_REQUEST_BYTES) {
      call.result = 'fault';
      call.faultCode = 5005;
      sendApplicationFault(res, 5005);
      return;
    }
    // 1. The request must match our contract (JAX-WS would fail to unmarshal otherwise: S:Client).
    const check = validator.validate(req.body);
    let inner: Element;
    try {
      if (!check.valid) throw new Error(check.errors.join('; '));
      const msg = parseSoapMessage(req.body, { maxBytes: MAX_REQUEST_BYTES });
      if (msg.kind !== 'body' || !isNamed(msg.payload, SIM_NS.SERVICE_V3, 'deliverSecure')) throw new Error('not deliverSecure');
      inner = requiredChild(msg.payload, SIM_NS.SERVICE_V3, 'deliverSecure');
    } catch (e) {
      call.reason = e instanceof Error ? e.message.slice(0, 300) : 'unreadable';
      sendClientFault(res, 'Unmarshalling Error');
      return;
    }

    try {
      const at = now();
      // 2. The seal, verified on the standalone SealedDelivery rebuilt from the three children.
      const sealed = verifyEnvelopedDocument(reRootSealedDelivery(childElements(inner)), { trust, at });
      // Read only what the seal covered (dependencies.md rule 6).
      const sealedRoot = parseXmlSafely(sealed.signedContent).documentElement!;
      const signedDeliveryEl = requiredChild(sealedRoot, SIM_NS.MESSAGE_V3, 'SignedDelivery');
      const seal = requiredChild(sealedRoot, SIM_NS.MESSAGE_V3, 'Seal');
      // 3. The sender signature, on SignedDelivery taken out as its own document (§6.6 (b)).
      const signedXml = new XMLSerializer().serializeToString(signedDeliveryEl);
      const signed = verifyEnvelopedDocument(signedXml, { trust, at });
      const deliveryRoot = parseXmlSafely(signed.signedContent).documentElement!;
      const delivery = requiredChild(deliveryRoot, SIM_NS.MESSAGE_V3, 'Delivery');
      const header = requiredChild(delivery, SIM_NS.MESSAGE_V3, 'Header');
      const sender = requiredChild(header, SIM_NS.MESSAGE_V2, 'Sender');
      const senderId = text(sender, SIM_NS.SENDER, 'Id');
      const recipient = text(header, SIM_NS.MESSAGE_V2, 'Recipient');
      // 4. The sender certificate must belong to the sender named in the header (inferred, §10 #12).
      if (checkIdentity && organisationNumberOf(signed.signer) !== senderId.replace(/^16/, '')) throw new Refusal(5002, 'SENDER_CERTIFICATE_MISMATCH');
      if (text(seal, SIM_NS.MESSAGE_V1, 'SignaturesOK') !== 'true') throw new Refusal(5012, 'SIGNATURES_NOT_OK');
      const receivedDate = text(seal, SIM_NS.MESSAGE_V1, 'ReceivedTime');
      const messages = childrenNamed(delivery, SIM_NS.MESSAGE_V3, 'Message');
      const first = messages[0]!;
      const mh = requiredChild(first, SIM_NS.MESSAGE_V3, 'Header');
      const deliveryId = text(mh, SIM_NS.MESSAGE_V3, 'Id');
      call.deliveryId = deliveryId;
      // 5. Attachment checksums: MD5 hex, compared case-insensitively; a non-hex value is tolerated (§10 #7).
      const attachments: AcceptedDelivery['attachments'] = [];
      for (const m of messages) {
        for (const a of childrenNamed(m, SIM_NS.MESSAGE_V3, 'Attachment')) {
          const bytes = Buffer.from(text(a, SIM_NS.MESSAGE_V1, 'Body'), 'base64');
          const md5 = createHash('md5').update(bytes).digest('hex');
          const claimed = text(a, SIM_NS.MESSAGE_V1, 'Checksum');
          if (/^[0-9a-fA-F]{32}$/.test(claimed) && claimed.toLowerCase() !== md5) throw new Refusal(5001, 'CHECKSUM_MISMATCH');
          attachments.push({ filename: text(a, SIM_NS.MESSAGE_V1, 'Filename'), contentType: text(a, SIM_NS.MESSAGE_V1, 'ContentType'), bytes: bytes.length, md5 });
        }
      }

      // 6. Duplicates (same message id) get the first answer again.
      const earlier = seen.get(deliveryId);
      if (earlier) {
        call.result = 'duplicate';
        answer(res, earlier);
        return;
      }
      const scripted = script[recipient];
      if (scripted?.kind === 'fault') throw new Refusal(scripted.code, 'SCRIPTED_FAULT');
      const record: AcceptedDelivery = {
        deliveryId,
        recipient,
        senderId,
        senderName: text(sender, SIM_NS.SENDER, 'Name'),
        subject: text(mh, SIM_NS.MESSAGE_V3, 'Subject'),
        transId: randomUUID(),
        delivered: scripted?.kind !== 'not-delivered',
        receivedDate,
        attachments,
        senderCertificateSubject: signed.signer.subject,
        sealCertificateSubject: sealed.signer.subject,
        requestSha256: call.requestSha256,
      };
      seen.set(deliveryId, record);
      if (record.delivered) deliveries.push(record);
      call.result = 'accepted';
      if (scripted?.kind === 'slow') await delay(slowMs);
      if (scripted?.kind === 'foreign-status') {
        answer(res, { ...record, recipient: '189001019802' });
        return;
      }
      answer(res, record);
    } catch (e) {
      call.result = 'fault';
      if (e instanceof Refusal) {
        call.faultCode = e.code;
        call.reason = e.reason;
        sendApplicationFault(res, e.code);
        return;
      }
      // Any signature or certificate problem: "Ogiltig signatur" is 5002 Access denied in MM-COMMON (§10 #19).
      call.faultCode = 5002;
      call.reason = e instanceof SignatureVerificationError ? e.reason : 'INVALID_DELIVERY';
      sendApplicationFault(res, 5002);
    }
  };

  const server = await startHttpsServer({ port: opts.port, host: opts.host, tls: opts.tls, requireClientCert: true }, handle);
  return { url: server.url, serviceAddress: `${server.url}/service/v3`, calls, deliveries, close: server.close };
}
