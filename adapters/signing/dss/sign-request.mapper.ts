// dss:SignRequest builder: ../shared/specs/signing.md §3 ("We send" column), §3.1 (SignMessage), §3.2
// (SignTasks) and §4 (POST binding form). Element order follows EidCentralSigDssExt-1.1.3.
import { DSS_BINDING, DSS_PROFILE, ENTITY_FORMAT, NS, SAML_ATTR, URI_NAME_FORMAT } from './dss.constants.js';
import { signDssMessage, type MessageSigningKey } from './envelope-signature.js';

export interface SignTaskRequest {
  taskId: string;
  sigType: 'XML' | 'PDF' | 'CMS';
  adesType: 'None' | 'BES';
  toBeSignedBytes: Uint8Array;
  /** XML tasks: the Id of the future ds:Signature (AdESObject/SignatureId). */
  signatureId?: string;
}

export interface SignRequestParams {
  requestId: string;
  requestTime: Date;
  version: string;
  /** Response URL (Conditions/AudienceRestriction/Audience). */
  audience: string;
  personalIdentityNumber: string;
  identityProvider: string;
  signRequester: string;
  signService: string;
  signatureAlgorithm: string;
  certType: 'PKC' | 'QC' | 'QC/SSCD';
  loa: readonly string[];
  /** UTF-8 text shown to the signer (MimeType text, MustShow true). */
  signMessage: string;
  tasks: readonly SignTaskRequest[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** xs:dateTime in UTC with milliseconds and Z (§12 item 3). */
export const utc = (d: Date): string => d.toISOString();

function requestedCertAttributes(): string {
  const attr = (ref: string, friendly: string, required: boolean, names: string[], def?: string): string =>
    `<csig:RequestedCertAttribute CertAttributeRef="${ref}" CertNameType="rdn" FriendlyName="${friendly}"${def ? ` DefaultValue="${def}"` : ''} Required="${required}">` +
    names.map((n, i) => `<csig:SamlAttributeName${names.length > 1 ? ` Order="${i}"` : ''}>${n}</csig:SamlAttributeName>`).join('') +
    `</csig:RequestedCertAttribute>`;
  return (
    `<csig:RequestedCertAttributes>` +
    attr('2.5.4.5', 'serialNumber', true, [SAML_ATTR.personalIdentityNumber]) +
    attr('2.5.4.42', 'givenName', true, [SAML_ATTR.givenName]) +
    attr('2.5.4.4', 'surname', true, [SAML_ATTR.surname]) +
    attr('2.5.4.3', 'commonName', false, [SAML_ATTR.displayName, SAML_ATTR.commonName]) +
    attr('2.5.4.6', 'country', false, [SAML_ATTR.country], 'SE') +
    `</csig:RequestedCertAttributes>`
  );
}

/** The unsigned dss:SignRequest. */
export function buildSignRequestXml(p: SignRequestParams): string {
  const notBefore = new Date(p.requestTime.getTime() - 60_000);
  const notOnOrAfter = new Date(p.requestTime.getTime() + 5 * 60_000);
  const tasks = p.tasks
    .map(
      (t) =>
        `<csig:SignTaskData SignTaskId="${esc(t.taskId)}" SigType="${t.sigType}" AdESType="${t.adesType}">` +
        `<csig:ToBeSignedBytes>${Buffer.from(t.toBeSignedBytes).toString('base64')}</csig:ToBeSignedBytes>` +
        (t.signatureId ? `<csig:AdESObject><csig:SignatureId>${esc(t.signatureId)}</csig:SignatureId></csig:AdESObject>` : '') +
        `</csig:SignTaskData>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<dss:SignRequest xmlns:dss="${NS.dss}" Profile="${DSS_PROFILE}" RequestID="${esc(p.requestId)}">` +
    `<dss:OptionalInputs>` +
    `<csig:SignRequestExtension xmlns:csig="${NS.csig}" xmlns:saml="${NS.saml2}" Version="${esc(p.version)}">` +
    `<csig:RequestTime>${utc(p.requestTime)}</csig:RequestTime>` +
    `<saml:Conditions NotBefore="${utc(notBefore)}" NotOnOrAfter="${utc(notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${esc(p.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<csig:Signer><saml:Attribute Name="${SAML_ATTR.personalIdentityNumber}" NameFormat="${URI_NAME_FORMAT}">` +
    `<saml:AttributeValue xmlns:xs="${NS.xs}" xmlns:xsi="${NS.xsi}" xsi:type="xs:string">${esc(p.personalIdentityNumber)}</saml:AttributeValue></saml:Attribute></csig:Signer>` +
    `<csig:IdentityProvider Format="${ENTITY_FORMAT}">${esc(p.identityProvider)}</csig:IdentityProvider>` +
    `<csig:SignRequester Format="${ENTITY_FORMAT}">${esc(p.signRequester)}</csig:SignRequester>` +
    `<csig:SignService Format="${ENTITY_FORMAT}">${esc(p.signService)}</csig:SignService>` +
    `<csig:RequestedSignatureAlgorithm>${esc(p.signatureAlgorithm)}</csig:RequestedSignatureAlgorithm>` +
    `<csig:CertRequestProperties CertType="${p.certType}">` +
    p.loa.map((l) => `<saml:AuthnContextClassRef>${esc(l)}</saml:AuthnContextClassRef>`).join('') +
    requestedCertAttributes() +
    `</csig:CertRequestProperties>` +
    `<csig:SignMessage MustShow="true" MimeType="text"><csig:Message>${Buffer.from(p.signMessage, 'utf8').toString('base64')}</csig:Message></csig:SignMessage>` +
    `</csig:SignRequestExtension>` +
    `</dss:OptionalInputs>` +
    `<dss:InputDocuments><dss:Other><csig:SignTasks xmlns:csig="${NS.csig}">${tasks}</csig:SignTasks></dss:Other></dss:InputDocuments>` +
    `</dss:SignRequest>`
  );
}

/** Build and sign the SignRequest (signature is the last child of dss:OptionalInputs, §3). */
export function buildSignedSignRequest(p: SignRequestParams, signer: MessageSigningKey): string {
  return signDssMessage(buildSignRequestXml(p), 'OptionalInputs', signer);
}

/** The hidden fields of the auto-submitting POST (§4): RelayState MUST be the RequestID. */
export function signRequestFormFields(signedXml: string, requestId: string): { Binding: string; RelayState: string; EidSignRequest: string } {
  return { Binding: DSS_BINDING, RelayState: requestId, EidSignRequest: Buffer.from(signedXml, 'utf8').toString('base64') };
}

const attrEsc = (s: string): string => esc(s).replace(/'/g, '&#39;');

/**
 * XHTML page that posts the form on load, with a <noscript> Continue button (§4). The caller's CSP must
 * allow this inline script through `nonce`.
 */
export function autoPostFormHtml(action: string, fields: Record<string, string>, nonce: string): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${attrEsc(k)}" value="${attrEsc(v)}"/>`)
    .join('');
  return (
    `<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" lang="sv"><head><meta charset="utf-8"/><title>Underskrift</title></head>` +
    `<body><form id="sign-form" method="post" action="${attrEsc(action)}">${inputs}<noscript><button type="submit">Fortsätt</button></noscript></form>` +
    `<script nonce="${attrEsc(nonce)}">document.getElementById('sign-form').submit();</script></body></html>`
  );
}
