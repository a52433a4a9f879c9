// dss:SignResponse reader: ../shared/specs/signing.md §5.1 (fields) and §5.3 step 1 (form checks, hardened
// parsing). Structure only: trust decisions (signature, identity, time, chain) are made in sign-response.checks.ts.
import type { Document, Element } from '@xmldom/xmldom';
import { decodeXml, parseXmlSafely, XmlSafetyError } from '../validation/xml-safety.js';
import { childElements, textOf } from '../validation/xml.validator.js';
import { DSS_BINDING, NS } from './dss.constants.js';

export class DssFormatError extends Error {}

export interface ParsedSignTask {
  taskId: string;
  sigType: string;
  adesType: string;
  toBeSignedBytes: Buffer;
  signatureId?: string;
  adesObjectBytes?: Buffer;
  signature?: Buffer;
  signatureType?: string;
}

export interface ParsedSignResponse {
  profile: string | null;
  requestId: string | null;
  result: { major: string; minor?: string; message?: string };
  /** Absent extension → null (error responses may omit it). */
  extension: {
    version: string;
    responseTime: string | null;
    signerAssertion: {
      identityProvider: string | null;
      authenticationInstant: string | null;
      authnContextClassRef: string | null;
      assertionRef: string | null;
      attributes: Record<string, string[]>;
    } | null;
    certificateChain: Buffer[];
  } | null;
  tasks: ParsedSignTask[];
}

const one = (parent: Element | undefined, ns: string, local: string): Element | undefined => (parent ? childElements(parent, ns, local)[0] : undefined);
const text = (el: Element | undefined): string | null => (el ? textOf(el).trim() : null);
const b64 = (el: Element | undefined): Buffer | undefined => (el ? Buffer.from(textOf(el).replace(/\s+/g, ''), 'base64') : undefined);

/** Read the POSTed form (§4, §5.3 step 1): Binding, RelayState, and the base64 SignResponse within a size cap. */
export function readResponseForm(form: Record<string, string | undefined>, maxBytes = 512 * 1024): { relayState: string; xml: string; doc: Document } {
  if (form['Binding'] !== DSS_BINDING) throw new DssFormatError(`Binding must be ${DSS_BINDING}`);
  const relayState = form['RelayState'];
  const encoded = form['EidSignResponse'];
  if (!relayState) throw new DssFormatError('RelayState is missing');
  if (!encoded) throw new DssFormatError('EidSignResponse is missing');
  if (encoded.length > Math.ceil((maxBytes * 4) / 3) + 4) throw new DssFormatError('EidSignResponse is too large');
  if (!/^[A-Za-z0-9+/=\s]+$/.test(encoded)) throw new DssFormatError('EidSignResponse is not base64');
  const bytes = Buffer.from(encoded, 'base64');
  try {
    const xml = decodeXml(bytes, { maxBytes });
    return { relayState, xml, doc: parseXmlSafely(xml, { maxBytes }) };
  } catch (e) {
    throw new DssFormatError(e instanceof XmlSafetyError ? `SignResponse rejected: ${e.rejection}` : 'SignResponse cannot be parsed');
  }
}

/** Parse the structure of a SignResponse document. Throws DssFormatError for anything that is not one. */
export function parseSignResponse(doc: Document): ParsedSignResponse {
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== NS.dss || root.localName !== 'SignResponse') throw new DssFormatError('not a dss:SignResponse');
  const result = one(root, NS.dss, 'Result');
  const major = text(one(result, NS.dss, 'ResultMajor'));
  if (!major) throw new DssFormatError('dss:Result/ResultMajor is missing');
  const minor = text(one(result, NS.dss, 'ResultMinor'));
  const message = text(one(result, NS.dss, 'ResultMessage'));
  const outputs = one(root, NS.dss, 'OptionalOutputs');
  const extEl = one(outputs, NS.csig, 'SignResponseExtension');
  let extension: ParsedSignResponse['extension'] = null;
  if (extEl) {
    const sai = one(extEl, NS.csig, 'SignerAssertionInfo');
    const ci = one(sai, NS.csig, 'ContextInfo');
    const chainEl = one(extEl, NS.csig, 'SignatureCertificateChain');
    const attributes: Record<string, string[]> = {};
    const stmt = one(sai, NS.saml2, 'AttributeStatement');
    for (const a of stmt ? childElements(stmt, NS.saml2, 'Attribute') : []) {
      const name = a.getAttribute('Name') ?? '';
      attributes[name] = [...(attributes[name] ?? []), ...childElements(a, NS.saml2, 'AttributeValue').map((v) => textOf(v).trim())];
    }
    extension = {
      version: extEl.getAttribute('Version') || '1.1',
      responseTime: text(one(extEl, NS.csig, 'ResponseTime')),
      signerAssertion: sai
        ? {
            identityProvider: text(one(ci, NS.csig, 'IdentityProvider')),
            authenticationInstant: text(one(ci, NS.csig, 'AuthenticationInstant')),
            authnContextClassRef: text(one(ci, NS.saml2, 'AuthnContextClassRef')),
            assertionRef: text(one(ci, NS.csig, 'AssertionRef')),
            attributes,
          }
        : null,
      certificateChain: chainEl ? childElements(chainEl, NS.csig, 'X509Certificate').map((c) => b64(c)!) : [],
    };
  }
  const signTasks = one(one(one(root, NS.dss, 'SignatureObject'), NS.dss, 'Other'), NS.csig, 'SignTasks');
  const tasks: ParsedSignTask[] = (signTasks ? childElements(signTasks, NS.csig, 'SignTaskData') : []).map((t) => {
    const ades = one(t, NS.csig, 'AdESObject');
    const sigEl = one(t, NS.csig, 'Base64Signature');
    const tbs = b64(one(t, NS.csig, 'ToBeSignedBytes'));
    if (!tbs) throw new DssFormatError('SignTaskData without ToBeSignedBytes');
    const task: ParsedSignTask = {
      taskId: t.getAttribute('SignTaskId') ?? '',
      sigType: t.getAttribute('SigType') ?? '',
      adesType: t.getAttribute('AdESType') || 'None',
      toBeSignedBytes: tbs,
    };
    const sid = text(one(ades, NS.csig, 'SignatureId'));
    if (sid) task.signatureId = sid;
    const aob = b64(one(ades, NS.csig, 'AdESObjectBytes'));
    if (aob) task.adesObjectBytes = aob;
    if (sigEl) {
      task.signature = b64(sigEl)!;
      const type = sigEl.getAttribute('Type');
      if (type) task.signatureType = type;
    }
    return task;
  });
  return {
    profile: root.getAttribute('Profile'),
    requestId: root.getAttribute('RequestID'),
    result: { major, ...(minor ? { minor } : {}), ...(message ? { message } : {}) },
    extension,
    tasks,
  };
}
