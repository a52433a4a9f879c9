// Shared pieces of the digital-post simulators (../shared/specs/digital-post.md §6.7 fault shape; style.md
// convention 6). Own namespace constants and fault builder, deliberately not shared with the adapter's
// mapper/client, so the two cannot share a bug; XSD validation against our contracts/digital-post files.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { loadXsdValidator, type XsdValidatorHandle } from '../../shared/xsd-validator.js';
import { reply } from '../../shared/https-server.js';
import { soapFaultEnvelope } from '../../shared/soap.js';
import { FAULT_DESCRIPTIONS } from './scripted-data.js';

export const SIM_NS = {
  SOAP: 'http://schemas.xmlsoap.org/soap/envelope/',
  SENDER: 'http://minameddelanden.gov.se/schema/Sender',
  RECIPIENT: 'http://minameddelanden.gov.se/schema/Recipient',
  RECIPIENT_V3: 'http://minameddelanden.gov.se/schema/Recipient/v3',
  MESSAGE_V1: 'http://minameddelanden.gov.se/schema/Message',
  MESSAGE_V2: 'http://minameddelanden.gov.se/schema/Message/v2',
  MESSAGE_V3: 'http://minameddelanden.gov.se/schema/Message/v3',
  SERVICE: 'http://minameddelanden.gov.se/schema/Service',
  SERVICE_V3: 'http://minameddelanden.gov.se/schema/Service/v3',
  COMMON_V3: 'http://minameddelanden.gov.se/schema/Common/v3',
  DSIG: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

/** Default location of our contract entry schema (whole SOAP messages). */
export const DEFAULT_CONTRACT_XSD = fileURLToPath(new URL('../../../contracts/digital-post/digital-post.xsd', import.meta.url));

const validators = new Map<string, XsdValidatorHandle>();

/** One compiled validator per schema file for the life of the process. */
export function contractValidator(xsdPath: string = DEFAULT_CONTRACT_XSD): XsdValidatorHandle {
  let v = validators.get(xsdPath);
  if (!v) {
    v = loadXsdValidator(xsdPath);
    validators.set(xsdPath, v);
  }
  return v;
}

/** A CallId as the real services send: 20–50 printable characters. */
export function newCallId(): string {
  return `SIM-${randomUUID()}`;
}

/** Answer with soap:Fault + c3:applicationFault (HTTP 500), as JAX-WS does. Returns the CallId. */
export function sendApplicationFault(res: ServerResponse, code: number, faultcode: 'soap:Server' | 'soap:Client' = 'soap:Server'): string {
  const callId = newCallId();
  const description = FAULT_DESCRIPTIONS[code] ?? 'Error';
  const detailXml =
    `<c3:applicationFault xmlns:c3="${SIM_NS.COMMON_V3}"><c3:ErrorCode>${code}</c3:ErrorCode>` +
    `<c3:Description>${description}</c3:Description><c3:CallId>${callId}</c3:CallId></c3:applicationFault>`;
  reply(res, 500, 'text/xml; charset=UTF-8', soapFaultEnvelope({ faultcode, faultstring: description, detailXml }));
  return callId;
}

/** soap:Client fault without detail: the request did not unmarshal (§6.7). */
export function sendClientFault(res: ServerResponse, faultstring: string): void {
  reply(res, 500, 'text/xml; charset=UTF-8', soapFaultEnvelope({ faultcode: 'soap:Client', faultstring }));
}

// Unref'd: a scripted slow answer must not keep a test process alive after the simulator closed.
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
