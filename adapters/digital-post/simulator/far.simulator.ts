// FaR simulator: the Recipient service's isReachable over HTTPS with mutual TLS (../shared/specs/digital-post.md
// §5.1–5.3 and §5.7; style.md convention 6). Validates each request against contracts/digital-post, answers
// from a script keyed by recipient id (README.md lists it), in JAX-WS style: arbitrary prefixes, unused
// namespace declarations, entries in reverse request order (clients must match by RecipientId).
import type { ServerResponse } from 'node:http';
import { startHttpsServer, reply, type ReceivedRequest, type TlsServerMaterial } from '../../shared/https-server.js';
import { childrenNamed, isNamed, textOf } from '../../shared/xml-safe-parse.js';
import { parseSoapMessage } from '../../shared/soap.js';
import { DEFAULT_FAR_SCRIPT, SIM_OPERATORS, TEST_REJECTED_SENDER, type FarScript, type SimOperator } from './scripted-data.js';
import { contractValidator, delay, escapeXml, sendApplicationFault, sendClientFault, SIM_NS } from './sim-support.js';

export interface FarSimulatorOptions {
  /** 0 (default) for a free port. */
  port?: number;
  host?: string;
  /** Server certificate and key (PEM contents) and the CAs whose client certificates are accepted. */
  tls: TlsServerMaterial;
  /** ServiceAdress of each simulated operator (the mailbox simulators' serviceAddress). */
  operators: Record<SimOperator, { serviceAddress: string; uiAddress?: string }>;
  /** Extra or replacing scripted recipients; merged over DEFAULT_FAR_SCRIPT. */
  script?: Readonly<Record<string, FarScript>>;
  /** Answer for ids not in the script. Default: an entry with Type=Not. */
  unscripted?: FarScript;
  /** senderOrgNr values (16-prefixed) refused with fault 5014. Default [TEST_REJECTED_SENDER]. */
  rejectedSenders?: readonly string[];
  /** Delay of a "slow" answer. Default 2,000 ms. */
  slowMs?: number;
  /** Our contract entry schema; default contracts/digital-post/digital-post.xsd. */
  contractXsd?: string;
}

/** One isReachable call as the simulator saw it (kept in memory for test assertions only). */
export interface FarSimulatorCall {
  at: Date;
  path: string;
  senderOrgNr?: string;
  recipientIds: string[];
  clientSubject?: string;
  /** What the simulator did. */
  result: 'answered' | 'fault' | 'invalid' | 'http-error' | 'wrong-element';
  faultCode?: number;
  schemaErrors?: string[];
}

export interface FarSimulator {
  url: string;
  calls: FarSimulatorCall[];
  close(): Promise<void>;
}

const CALL_LEVEL = new Set<FarScript['kind']>(['fault', 'slow', 'wrong-element', 'http-error']);

export async function startFarSimulator(opts: FarSimulatorOptions): Promise<FarSimulator> {
  const calls: FarSimulatorCall[] = [];
  const script: Record<string, FarScript> = { ...DEFAULT_FAR_SCRIPT, ...opts.script };
  const unscripted: FarScript = opts.unscripted ?? { kind: 'not-registered' };
  const rejected = new Set(opts.rejectedSenders ?? [TEST_REJECTED_SENDER]);
  const validator = contractValidator(opts.contractXsd);
  const slowMs = opts.slowMs ?? 2000;

  const handle = async (req: ReceivedRequest, res: ServerResponse): Promise<void> => {
    const call: FarSimulatorCall = { at: new Date(), path: req.path, recipientIds: [], clientSubject: req.clientSubject, result: 'answered' };
    calls.push(call);
    if (req.method !== 'POST') {
      call.result = 'http-error';
      reply(res, 405, 'text/plain', 'POST only');
      return;
    }
    const check = validator.validate(req.body);
    let payload;
    try {
      const msg = parseSoapMessage(req.body);
      if (msg.kind !== 'body') throw new Error('fault as request');
      payload = msg.payload;
    } catch {
      call.result = 'invalid';
      sendClientFault(res, 'Unmarshalling Error');
      return;
    }
    if (!isNamed(payload, SIM_NS.RECIPIENT_V3, 'isReachable')) {
      call.result = 'invalid';
      sendClientFault(res, 'Cannot find dispatch method');
      return;
    }
    call.senderOrgNr = childrenNamed(payload, SIM_NS.RECIPIENT_V3, 'senderOrgNr').map((e) => textOf(e).trim())[0];
    call.recipientIds = childrenNamed(payload, SIM_NS.RECIPIENT_V3, 'recipientId').map((e) => textOf(e).trim());
    if (!check.valid) {
      // More than 1,000 ids, a 10-digit senderOrgNr, a malformed id: the request is schema-invalid.
      call.result = 'invalid';
      call.schemaErrors = check.errors;
      call.faultCode = 5001;
      sendApplicationFault(res, 5001, 'soap:Client');
      return;
    }
    if (call.senderOrgNr !== undefined && rejected.has(call.senderOrgNr)) {
      call.result = 'fault';
      call.faultCode = 5014;
      sendApplicationFault(res, 5014);
      return;
    }
    const scripts = call.recipientIds.map((id) => script[id] ?? unscripted);
    const callLevel = scripts.filter((s) => CALL_LEVEL.has(s.kind));
    if (callLevel.some((s) => s.kind === 'http-error')) {
      call.result = 'http-error';
      reply(res, 503, 'text/html', '<html><body><h1>503 Service Unavailable</h1></body></html>');
      return;
    }
    const fault = callLevel.find((s): s is Extract<FarScript, { kind: 'fault' }> => s.kind === 'fault');
    if (fault) {
      call.result = 'fault';
      call.faultCode = fault.code;
      sendApplicationFault(res, fault.code);
      return;
    }
    if (callLevel.some((s) => s.kind === 'slow')) await delay(slowMs);
    if (callLevel.some((s) => s.kind === 'wrong-element')) {
      call.result = 'wrong-element';
      reply(res, 200, 'text/xml; charset=UTF-8', isRegisteredAnswer(call.recipientIds, opts));
      return;
    }
    const entries: string[] = [];
    call.recipientIds.forEach((id, i) => {
      const e = entryXml(id, scripts[i]!, opts);
      if (e) entries.push(e);
    });
    entries.reverse();
    reply(
      res,
      200,
      'text/xml; charset=UTF-8',
      `<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S="${SIM_NS.SOAP}"><S:Body>` +
        `<ns1:isReachableResponse xmlns:ns1="${SIM_NS.RECIPIENT_V3}" xmlns:ns15="${SIM_NS.RECIPIENT}" xmlns:ns17="${SIM_NS.SENDER}">` +
        entries.join('') +
        `</ns1:isReachableResponse></S:Body></S:Envelope>`,
    );
  };

  const server = await startHttpsServer({ port: opts.port, host: opts.host, tls: opts.tls, requireClientCert: true }, handle);
  return { url: `${server.url}/far/Recipient`, calls, close: server.close };
}

function supplierXml(op: SimOperator, address: string, opts: FarSimulatorOptions): string {
  const o = SIM_OPERATORS[op];
  const ui = opts.operators[op].uiAddress ?? `https://${op.toLowerCase()}.mailbox.invalid/`;
  return (
    `<ns15:ServiceSupplier><ns15:Id>${o.id}</ns15:Id><ns15:Name>${escapeXml(o.name)}</ns15:Name>` +
    `<ns15:ServiceAdress>${escapeXml(address)}</ns15:ServiceAdress><ns15:UIAdress>${escapeXml(ui)}</ns15:UIAdress>` +
    `<ns15:InternalServiceAdress/></ns15:ServiceSupplier>`
  );
}

function entryXml(id: string, s: FarScript, opts: FarSimulatorOptions): string | undefined {
  const status = (type: string, pending: boolean, supplier: string, accepted: boolean): string =>
    `<ns1:return><ns15:AccountStatus><ns15:RecipientId>${id}</ns15:RecipientId><ns15:Type>${type}</ns15:Type>` +
    `<ns15:Pending>${pending}</ns15:Pending>${supplier}` +
    (type === 'Not' ? '' : '<ns15:LastRegistration>2021-12-16T14:37:35.708+01:00</ns15:LastRegistration>') +
    `</ns15:AccountStatus><ns15:SenderAccepted>${accepted}</ns15:SenderAccepted>` +
    (accepted ? '' : type === 'Not' ? '' : '<ns15:LastSenderAcceptChange>2024-02-01T10:00:00.000+01:00</ns15:LastSenderAcceptChange>') +
    `</ns1:return>`;
  const A = (op: SimOperator) => supplierXml(op, opts.operators[op].serviceAddress, opts);
  switch (s.kind) {
    case 'reachable':
      return status('Secure', false, A(s.operator), true);
    case 'slow':
      return status('Secure', false, A(s.operator), true);
    case 'not-registered':
      return status('Not', false, '', false);
    case 'omitted':
      return undefined;
    case 'anonymous':
      return status('Anonymous', false, A('A'), true);
    case 'sender-not-accepted':
      return status('Secure', false, A('A'), false);
    case 'pending':
      return status('Secure', true, A('B'), true);
    case 'pending-and-sender-not-accepted':
      return status('Secure', true, A('B'), false);
    case 'no-service-supplier':
      return status('Secure', false, '', true);
    case 'no-service-address':
      return status('Secure', false, supplierXml('A', '', opts), true);
    case 'invalid-service-address':
      return status('Secure', false, supplierXml('A', 'mailbox-a/service', opts), true);
    default:
      return status('Not', false, '', false);
  }
}

/** Sundsvall's "faulty" fixture shape: an isRegisteredResponse returned to an isReachable call. */
function isRegisteredAnswer(ids: string[], opts: FarSimulatorOptions): string {
  const items = ids
    .map((id) => `<ns1:return><ns15:RecipientId>${id}</ns15:RecipientId><ns15:Type>Secure</ns15:Type><ns15:Pending>false</ns15:Pending>${supplierXml('A', opts.operators.A.serviceAddress, opts)}</ns1:return>`)
    .join('');
  return `<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S="${SIM_NS.SOAP}"><S:Body><ns1:isRegisteredResponse xmlns:ns1="${SIM_NS.RECIPIENT_V3}" xmlns:ns15="${SIM_NS.RECIPIENT}">${items}</ns1:isRegisteredResponse></S:Body></S:Envelope>`;
}
