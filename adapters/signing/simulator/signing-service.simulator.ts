// Central signing service simulator (Sweden Connect DSS extension): ../shared/specs/signing.md §2 steps 4–5,
// §4 (POST binding), §5 (SignResponse), §8 (signer certificate profile) and style.md convention 6 (real
// protocol over a real socket; never imports our mappers or clients, so the two cannot share a bug).
// It accepts a SignRequest, authenticates the signer at an OpenID provider (the dev identity provider, LoA3) or,
// without the `oidc` option, through a pluggable function, issues a short-lived
// signer certificate from the configured issuing CA, signs every task and posts back a signed SignResponse.
import 'reflect-metadata';
import { createHash, createPrivateKey, generateKeyPair, randomBytes, sign as cryptoSign, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as jose from 'jose';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DSS = 'urn:oasis:names:tc:dss:1.0:core:schema';
const CSIG = 'http://id.elegnamnden.se/csig/1.1/dss-ext/ns';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const PROFILE = 'http://id.elegnamnden.se/csig/1.1/dss-ext/profile';
const BINDING = 'POST/XML/1.0';
const ENTITY = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
const PNR_ATTR = 'urn:oid:1.2.752.29.4.13';
/** OIDC Swedish claims and scopes (CLAIMS-SE), as the dev identity provider issues them. */
const CLAIMS_SE = 'https://id.oidc.se/claim/';
const SCOPE_SE = 'https://id.oidc.se/scope/';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const MAX_REQUEST_AGE_MS = 3 * 60_000;
const SKEW_MS = 30_000;

/** Sweden Connect status codes the simulator can answer with (§5.2). */
export type SimulatedFailure = 'user-cancel' | 'req-expired' | 'user-mismatch' | 'unsupported-loa' | 'sigmessage-error' | 'authn-failed' | 'security-violation';

const MINOR: Record<SimulatedFailure, { major: 'RequesterError' | 'ResponderError'; minor: string }> = {
  'user-cancel': { major: 'ResponderError', minor: 'http://id.elegnamnden.se/sig-status/1.0/user-cancel' },
  'req-expired': { major: 'RequesterError', minor: 'http://id.elegnamnden.se/sig-status/1.0/req-expired' },
  'user-mismatch': { major: 'ResponderError', minor: 'http://id.elegnamnden.se/sig-status/1.0/user-mismatch' },
  'unsupported-loa': { major: 'ResponderError', minor: 'http://id.elegnamnden.se/sig-status/1.0/unsupported-loa' },
  'sigmessage-error': { major: 'ResponderError', minor: 'http://id.elegnamnden.se/sig-status/1.0/sigmessage-error' },
  'authn-failed': { major: 'ResponderError', minor: 'http://id.swedenconnect.se/sig-status/1.1/authn-failed' },
  'security-violation': { major: 'ResponderError', minor: 'http://id.swedenconnect.se/sig-status/1.1/security-violation' },
};

export interface SignRequestSummary {
  requestId: string;
  version: string;
  requestTime: string;
  audience: string;
  identityProvider: string;
  signService: string;
  /** Personnummer from csig:Signer, if the requester named the signer. */
  requestedSigner: string | null;
  loa: string[];
  certType: string;
  /** Decoded plain sign message (UTF-8), if any. */
  signMessage: string | null;
  tasks: Array<{ taskId: string; sigType: string; adesType: string }>;
}

export interface AuthenticatedSigner {
  personalIdentityNumber: string;
  givenName: string;
  surname: string;
  displayName?: string;
  /** LoA URI the IdP asserted. */
  loa: string;
  authnInstant?: Date;
}

export type AuthenticationResult = { ok: true; signer: AuthenticatedSigner } | { ok: false; failure: SimulatedFailure };

export interface AuthenticationContext {
  request: SignRequestSummary;
  /** The POSTed form fields (besides Binding/RelayState/EidSignRequest, test parameters such as `signer`). */
  form: Record<string, string>;
  query: URLSearchParams;
}

/** The IdP step when no `oidc` option is set (§2 step 4). */
export type Authenticate = (ctx: AuthenticationContext) => Promise<AuthenticationResult>;

/**
 * Test authentication: the `signer` parameter (query or form) is the personnummer that "logged in";
 * optional `givenName`, `surname`, `loa`, and `scenario` (a SimulatedFailure) script the outcome.
 */
export const authenticateFromSignerParameter: Authenticate = async ({ form, query, request }) => {
  const get = (k: string): string | undefined => form[k] ?? query.get(k) ?? undefined;
  const scenario = get('scenario');
  if (scenario) return { ok: false, failure: scenario as SimulatedFailure };
  const pnr = get('signer');
  if (!pnr) return { ok: false, failure: 'authn-failed' };
  const givenName = get('givenName') ?? 'Tess';
  const surname = get('surname') ?? 'Testsson';
  return { ok: true, signer: { personalIdentityNumber: pnr, givenName, surname, displayName: `${givenName} ${surname}`, loa: get('loa') ?? request.loa[0] ?? 'http://id.elegnamnden.se/loa/1.0/loa3' } };
};

/** The signer's login at an OpenID provider (the dev identity provider), code flow + PKCE (§2 step 4). */
export interface SigningServiceOidcOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** acr values accepted (and asked for as essential); anything else is answered with unsupported-loa. */
  requiredAcr: string[];
}

export interface SigningServiceSimulatorOptions {
  port?: number;
  /** HTTPS server certificate and key (PEM), e.g. certs-dev signing-service-tls. */
  tls: { cert: string; key: string };
  /** Issuing CA for signer certificates (PEM: CA certificate first, then its chain) and its PKCS#8 key. */
  issuer: { cert: string; key: string };
  /** Key and certificate that sign SignResponses (PEM). */
  responseSigner: { cert: string; key: string };
  authenticate?: Authenticate;
  /**
   * If set, the signer logs in at this OpenID provider: POST /sign redirects the browser there and GET /oidc/callback
   * (on the simulator's origin) continues; `authenticate` is then not used. A function is read per request, for a
   * provider started after the simulator (its client's redirect URI needs the simulator's port).
   */
  oidc?: SigningServiceOidcOptions | (() => SigningServiceOidcOptions | undefined);
  /** If given, the SignRequest signature must verify with one of these (PEM); the spec's MUST (§3 ds:Signature). */
  requesterCertificates?: string[];
  /** Lifetime of issued signer certificates (default 60 minutes). */
  certificateLifetimeMinutes?: number;
  clock?: () => Date;
}

export interface SigningServiceSimulator {
  /** POST endpoint for the SignRequest form (https://127.0.0.1:<port>/sign). */
  url: string;
  /** https://127.0.0.1:<port> (the OIDC redirect URI is <origin>/oidc/callback). */
  origin: string;
  /** Requests seen, in order (for tests: "received exactly the expected calls"). */
  received: SignRequestSummary[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Small XML helpers (own code on purpose)

const escXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const children = (el: Element | null | undefined, ns: string, local: string): Element[] => {
  const out: Element[] = [];
  for (let c = el?.firstChild ?? null; c; c = c.nextSibling) if (c.nodeType === 1 && (c as Element).namespaceURI === ns && (c as Element).localName === local) out.push(c as Element);
  return out;
};
const child = (el: Element | null | undefined, ns: string, local: string): Element | undefined => children(el, ns, local)[0];
const txt = (el: Element | undefined): string => {
  let s = '';
  const walk = (n: Element): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3 || c.nodeType === 4) s += (c as unknown as { data: string }).data;
      else if (c.nodeType === 1) walk(c as Element);
    }
  };
  if (el) walk(el);
  return s.trim();
};

class BadRequest extends Error {}

function parse(xml: string): Document {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new BadRequest('DOCTYPE not allowed');
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && errors.push(msg)) }).parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !doc.documentElement) throw new BadRequest('SignRequest is not well-formed XML');
  return doc;
}

const excC14n = (el: Element): string => new ExclusiveCanonicalization().process(el as unknown as Parameters<ExclusiveCanonicalization['process']>[0], {});

function summarize(doc: Document): { summary: SignRequestSummary; tasks: Element[] } {
  const root = doc.documentElement!;
  if (root.namespaceURI !== DSS || root.localName !== 'SignRequest') throw new BadRequest('not a dss:SignRequest');
  if (root.getAttribute('Profile') !== PROFILE) throw new BadRequest('wrong Profile');
  const ext = child(child(root, DSS, 'OptionalInputs'), CSIG, 'SignRequestExtension');
  if (!ext) throw new BadRequest('SignRequestExtension missing');
  const signerAttr = children(child(ext, CSIG, 'Signer'), SAML, 'Attribute').find((a) => a.getAttribute('Name') === PNR_ATTR);
  const props = child(ext, CSIG, 'CertRequestProperties');
  const sm = child(ext, CSIG, 'SignMessage');
  const message = child(sm, CSIG, 'Message');
  const tasks = children(child(child(child(root, DSS, 'InputDocuments'), DSS, 'Other'), CSIG, 'SignTasks'), CSIG, 'SignTaskData');
  if (tasks.length === 0) throw new BadRequest('no SignTaskData');
  return {
    summary: {
      requestId: root.getAttribute('RequestID') ?? '',
      version: ext.getAttribute('Version') || '1.1',
      requestTime: txt(child(ext, CSIG, 'RequestTime')),
      audience: txt(child(child(child(ext, SAML, 'Conditions'), SAML, 'AudienceRestriction'), SAML, 'Audience')),
      identityProvider: txt(child(ext, CSIG, 'IdentityProvider')),
      signService: txt(child(ext, CSIG, 'SignService')),
      requestedSigner: signerAttr ? txt(child(signerAttr, SAML, 'AttributeValue')) : null,
      loa: children(props, SAML, 'AuthnContextClassRef').map((e) => txt(e)),
      certType: props?.getAttribute('CertType') || 'PKC',
      signMessage: message ? Buffer.from(txt(message), 'base64').toString('utf8') : null,
      tasks: tasks.map((t) => ({ taskId: t.getAttribute('SignTaskId') ?? '', sigType: t.getAttribute('SigType') ?? '', adesType: t.getAttribute('AdESType') || 'None' })),
    },
    tasks,
  };
}

function verifyRequestSignature(xml: string, doc: Document, certs: string[]): boolean {
  const sigs: Element[] = [];
  const walk = (el: Element): void => {
    if (el.namespaceURI === DS && el.localName === 'Signature') sigs.push(el);
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c as Element);
  };
  walk(doc.documentElement!);
  if (sigs.length !== 1) return false;
  const refs = children(child(sigs[0], DS, 'SignedInfo'), DS, 'Reference');
  if (refs.length !== 1 || refs[0]!.getAttribute('URI') !== '') return false;
  return certs.some((pem) => {
    try {
      const sx = new SignedXml({ publicCert: pem, getCertFromKeyInfo: () => null });
      sx.loadSignature(sigs[0] as unknown as Parameters<SignedXml['loadSignature']>[0]);
      return sx.checkSignature(xml);
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Certificates

const pemDers = (pem: string): Buffer[] => [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));

const newKeyPair = (): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> =>
  new Promise((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (e, publicKey, privateKey) => (e ? reject(e) : resolve({ publicKey, privateKey }))));

/** RFC 7773 AuthenticationContext extension (§8) with the SAML context our validator reports. */
function authContextExtension(signer: AuthenticatedSigner, idp: string, instant: Date, assertionRef: string, serviceId: string): x509.Extension {
  const xml =
    `<saci:SAMLAuthContext xmlns:saci="http://id.elegnamnden.se/auth-cont/1.0/saci">` +
    `<saci:AuthContextInfo IdentityProvider="${escXml(idp)}" AuthenticationInstant="${instant.toISOString()}" ServiceID="${escXml(serviceId)}" AuthnContextClassRef="${escXml(signer.loa)}" AssertionRef="${escXml(assertionRef)}"/>` +
    `<saci:IdAttributes><saci:AttributeMapping Type="rdn" Ref="2.5.4.5"><saml:Attribute xmlns:saml="${SAML}" Name="${PNR_ATTR}"><saml:AttributeValue>${escXml(signer.personalIdentityNumber)}</saml:AttributeValue></saml:Attribute></saci:AttributeMapping></saci:IdAttributes>` +
    `</saci:SAMLAuthContext>`;
  const value = new asn1js.Sequence({
    value: [new asn1js.Sequence({ value: [new asn1js.Utf8String({ value: 'http://id.elegnamnden.se/auth-cont/1.0/saci' }), new asn1js.Utf8String({ value: xml })] })],
  }).toBER(false);
  return new x509.Extension('1.2.752.201.5.1', false, value);
}

async function issueSignerCertificate(
  issuerCert: x509.X509Certificate,
  issuerKey: CryptoKey,
  signer: AuthenticatedSigner,
  ctx: { idp: string; instant: Date; assertionRef: string; serviceId: string; now: Date; lifetimeMs: number },
): Promise<{ cert: x509.X509Certificate; key: KeyObject }> {
  const { privateKey, publicKey } = await newKeyPair();
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const name: x509.JsonName = [{ '2.5.4.6': ['SE'] }, { '2.5.4.5': [signer.personalIdentityNumber] }, { '2.5.4.42': [signer.givenName] }, { '2.5.4.4': [signer.surname] }, { '2.5.4.3': [signer.displayName ?? `${signer.givenName} ${signer.surname}`] }];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: name,
    issuer: issuerCert.subjectName,
    notBefore: new Date(ctx.now.getTime() - 60_000),
    notAfter: new Date(ctx.now.getTime() + ctx.lifetimeMs),
    publicKey: spki,
    signingKey: issuerKey,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.nonRepudiation, true),
      await x509.SubjectKeyIdentifierExtension.create(spki),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId)] : []),
      authContextExtension(signer, ctx.idp, ctx.instant, ctx.assertionRef, ctx.serviceId),
    ],
  });
  return { cert, key: privateKey };
}

// ---------------------------------------------------------------------------------------------------------
// Signing the tasks (§3.2, §6.1 step 3, §6.2 step 2)

const derLen = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const b: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) b.unshift(v & 0xff);
  return Buffer.from([0x80 | b.length, ...b]);
};
const derTlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
const sortedSet = (items: Buffer[]): Buffer => derTlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));

/** ESS signing-certificate-v2 (RFC 5035): SHA-256 of the signer certificate, hashAlgorithm left at its default. */
function essV2(certDer: Buffer): Buffer {
  const hash = derTlv(0x04, createHash('sha256').update(certDer).digest());
  const certId = derTlv(0x30, hash);
  const value = derTlv(0x30, derTlv(0x30, certId));
  const oid = Buffer.from(new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.9.16.2.47' }).toBER(false));
  return derTlv(0x30, Buffer.concat([oid, derTlv(0x31, value)]));
}

function signAttributes(tbs: Buffer, bes: boolean, certDer: Buffer, key: KeyObject): { tbs: Buffer; signature: Buffer } {
  if (tbs[0] !== 0x31) throw new BadRequest('ToBeSignedBytes is not a DER SET of attributes');
  const parsed = asn1js.fromBER(new Uint8Array(tbs));
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Set)) throw new BadRequest('ToBeSignedBytes cannot be parsed');
  let attrs: Buffer[] = parsed.result.valueBlock.value.map((v) => Buffer.from(v.valueBeforeDecodeView));
  if (bes) {
    attrs = attrs.filter((a) => !a.includes(Buffer.from(new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.9.16.2.47' }).toBER(false))));
    attrs.push(essV2(certDer));
  }
  const out = sortedSet(attrs);
  return { tbs: out, signature: cryptoSign('sha256', out, key) };
}

function signXmlTask(tbs: Buffer, signatureId: string | null, bes: boolean, cert: Buffer, key: KeyObject, now: Date): { tbs: Buffer; objectXml: string | null; signature: Buffer } {
  const doc = parse(tbs.toString('utf8'));
  const si = doc.documentElement!;
  if (si.namespaceURI !== DS || si.localName !== 'SignedInfo') throw new BadRequest('XML ToBeSignedBytes is not ds:SignedInfo');
  let objectXml: string | null = null;
  if (bes) {
    if (!signatureId) throw new BadRequest('XAdES BES needs AdESObject/SignatureId');
    const spId = `xades-${signatureId}`;
    const objDoc = parse(
      `<ds:Object xmlns:ds="${DS}"><xades:QualifyingProperties xmlns:xades="${XADES}" Target="#${escXml(signatureId)}"><xades:SignedProperties Id="${escXml(spId)}"><xades:SignedSignatureProperties>` +
        `<xades:SigningTime>${now.toISOString().slice(0, 19)}Z</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest>` +
        `<ds:DigestMethod Algorithm="${SHA256_URI}"/><ds:DigestValue>${createHash('sha256').update(cert).digest('base64')}</ds:DigestValue>` +
        `</xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>`,
    );
    objectXml = excC14n(objDoc.documentElement!);
    const sp = children(child(objDoc.documentElement, XADES, 'QualifyingProperties'), XADES, 'SignedProperties')[0]!;
    const digest = createHash('sha256').update(excC14n(sp), 'utf8').digest('base64');
    const refDoc = parse(
      `<ds:Reference xmlns:ds="${DS}" Type="http://uri.etsi.org/01903#SignedProperties" URI="#${escXml(spId)}"><ds:Transforms><ds:Transform Algorithm="${EXC_C14N}"/></ds:Transforms>` +
        `<ds:DigestMethod Algorithm="${SHA256_URI}"/><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`,
    );
    si.appendChild(doc.importNode(refDoc.documentElement!, true));
  }
  const canonical = Buffer.from(excC14n(si), 'utf8');
  return { tbs: canonical, objectXml, signature: cryptoSign('sha256', canonical, key) };
}

// ---------------------------------------------------------------------------------------------------------
// Response

interface ResponseParts {
  request: SignRequestSummary;
  now: Date;
  failure?: SimulatedFailure;
  assertion?: { signer: AuthenticatedSigner; instant: Date; assertionRef: string };
  chain?: Buffer[];
  tasks?: Array<{ taskId: string; sigType: string; adesType: string; tbs: Buffer; signatureId: string | null; objectXml: string | null; signature: Buffer }>;
}

function responseXml(p: ResponseParts): string {
  const attr = (name: string, value: string): string =>
    `<saml:Attribute Name="${name}" NameFormat="${URI_FORMAT}"><saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${escXml(value)}</saml:AttributeValue></saml:Attribute>`;
  const result = p.failure
    ? `<dss:Result><dss:ResultMajor>urn:oasis:names:tc:dss:1.0:resultmajor:${MINOR[p.failure].major}</dss:ResultMajor><dss:ResultMinor>${MINOR[p.failure].minor}</dss:ResultMinor><dss:ResultMessage xml:lang="en">${p.failure}</dss:ResultMessage></dss:Result>`
    : `<dss:Result><dss:ResultMajor>urn:oasis:names:tc:dss:1.0:resultmajor:Success</dss:ResultMajor><dss:ResultMessage xml:lang="en">Successful</dss:ResultMessage></dss:Result>`;
  let sai = '';
  if (p.assertion) {
    const s = p.assertion.signer;
    const sm = p.request.signMessage;
    sai =
      `<csig:SignerAssertionInfo><csig:ContextInfo><csig:IdentityProvider Format="${ENTITY}">${escXml(p.request.identityProvider)}</csig:IdentityProvider>` +
      `<csig:AuthenticationInstant>${p.assertion.instant.toISOString()}</csig:AuthenticationInstant><saml:AuthnContextClassRef>${escXml(s.loa)}</saml:AuthnContextClassRef>` +
      `<csig:AssertionRef>${p.assertion.assertionRef}</csig:AssertionRef></csig:ContextInfo><saml:AttributeStatement>` +
      attr(PNR_ATTR, s.personalIdentityNumber) +
      attr('urn:oid:2.5.4.42', s.givenName) +
      attr('urn:oid:2.5.4.4', s.surname) +
      attr('urn:oid:2.16.840.1.113730.3.1.241', s.displayName ?? `${s.givenName} ${s.surname}`) +
      (sm !== null ? attr('urn:oid:1.2.752.201.3.14', `${SHA256_URI};${createHash('sha256').update(sm, 'utf8').digest('base64')}`) : '') +
      `</saml:AttributeStatement></csig:SignerAssertionInfo>`;
  }
  const chain = p.chain ? `<csig:SignatureCertificateChain>${p.chain.map((c) => `<csig:X509Certificate>${c.toString('base64')}</csig:X509Certificate>`).join('')}</csig:SignatureCertificateChain>` : '';
  const tasks = p.tasks
    ? `<dss:SignatureObject><dss:Other><csig:SignTasks xmlns:csig="${CSIG}">` +
      p.tasks
        .map(
          (t) =>
            `<csig:SignTaskData SignTaskId="${escXml(t.taskId)}" SigType="${escXml(t.sigType)}" AdESType="${escXml(t.adesType)}"><csig:ToBeSignedBytes>${t.tbs.toString('base64')}</csig:ToBeSignedBytes>` +
            (t.signatureId ? `<csig:AdESObject><csig:SignatureId>${escXml(t.signatureId)}</csig:SignatureId>${t.objectXml ? `<csig:AdESObjectBytes>${Buffer.from(t.objectXml, 'utf8').toString('base64')}</csig:AdESObjectBytes>` : ''}</csig:AdESObject>` : '') +
            `<csig:Base64Signature Type="${RSA_SHA256}">${t.signature.toString('base64')}</csig:Base64Signature></csig:SignTaskData>`,
        )
        .join('') +
      `</csig:SignTasks></dss:Other></dss:SignatureObject>`
    : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?><dss:SignResponse xmlns:dss="${DSS}" Profile="${PROFILE}" RequestID="${escXml(p.request.requestId)}">${result}` +
    `<dss:OptionalOutputs><csig:SignResponseExtension xmlns:csig="${CSIG}" xmlns:saml="${SAML}" Version="${escXml(p.request.version)}"><csig:ResponseTime>${p.now.toISOString()}</csig:ResponseTime>${sai}${chain}</csig:SignResponseExtension></dss:OptionalOutputs>` +
    `${tasks}</dss:SignResponse>`
  );
}

function signResponse(xml: string, signer: { cert: string; key: KeyObject }): string {
  const sx = new SignedXml({ privateKey: signer.key, publicCert: signer.cert, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
  sx.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N], digestAlgorithm: SHA256_URI, isEmptyUri: true });
  sx.computeSignature(xml, { prefix: 'ds', location: { reference: `/*/*[local-name(.)='OptionalOutputs']`, action: 'append' } });
  return sx.getSignedXml();
}

function responsePage(audience: string, requestId: string, signedXml: string): string {
  const field = (n: string, v: string): string => `<input type="hidden" name="${n}" value="${escXml(v)}"/>`;
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"/><title>Underskriftstjänst (simulator)</title></head><body onload="document.forms[0].submit()">` +
    `<form method="post" action="${escXml(audience)}">${field('Binding', BINDING)}${field('RelayState', requestId)}${field('EidSignResponse', Buffer.from(signedXml, 'utf8').toString('base64'))}` +
    `<noscript><button type="submit">Fortsätt</button></noscript></form></body></html>`
  );
}

/** Continue to the OP's authorization endpoint (meta refresh; no script). */
function loginRedirectPage(href: string): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"/><meta http-equiv="refresh" content="0;url=${escXml(href)}"/><title>Underskriftstjänst (simulator)</title></head>` +
    `<body><p><a id="to-login" href="${escXml(href)}">Fortsätt till inloggning / continue to sign in</a></p></body></html>`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Server

async function readForm(req: import('node:http').IncomingMessage, limit: number): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new BadRequest('request too large');
    chunks.push(c as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

/** Start the simulator on loopback HTTPS (port 0 = any free port). */
export async function startSigningServiceSimulator(opts: SigningServiceSimulatorOptions): Promise<SigningServiceSimulator> {
  const clock = opts.clock ?? (() => new Date());
  const authenticate = opts.authenticate ?? authenticateFromSignerParameter;
  const issuerDers = pemDers(opts.issuer.cert);
  if (issuerDers.length === 0) throw new Error('issuer certificate missing');
  const issuerCert = new x509.X509Certificate(new Uint8Array(issuerDers[0]!));
  const issuerKey = await webcrypto.subtle.importKey('pkcs8', new Uint8Array(createPrivateKey(opts.issuer.key).export({ type: 'pkcs8', format: 'der' })), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const responseSigner = { cert: `-----BEGIN CERTIFICATE-----\n${pemDers(opts.responseSigner.cert)[0]!.toString('base64')}\n-----END CERTIFICATE-----\n`, key: createPrivateKey(opts.responseSigner.key) };
  const lifetimeMs = (opts.certificateLifetimeMinutes ?? 60) * 60_000;
  const received: SignRequestSummary[] = [];

  type Reply = import('node:http').ServerResponse;
  interface Pending { summary: SignRequestSummary; tasks: Element[]; codeVerifier: string; nonce: string; expires: number }
  const pending = new Map<string, Pending>();
  const oidcOf = (): SigningServiceOidcOptions | undefined => (typeof opts.oidc === 'function' ? opts.oidc() : opts.oidc);
  let origin = '';
  const discovery = new Map<string, Promise<{ authorization_endpoint: string; token_endpoint: string; jwks: ReturnType<typeof jose.createRemoteJWKSet> }>>();
  const discover = (issuer: string) => {
    let d = discovery.get(issuer);
    if (d === undefined) {
      d = (async () => {
        const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`OpenID discovery at ${issuer} failed: ${res.status}`);
        const meta = (await res.json()) as { issuer: string; authorization_endpoint: string; token_endpoint: string; jwks_uri: string };
        if (meta.issuer !== issuer) throw new Error('OpenID discovery: issuer mismatch');
        return { authorization_endpoint: meta.authorization_endpoint, token_endpoint: meta.token_endpoint, jwks: jose.createRemoteJWKSet(new URL(meta.jwks_uri)) };
      })();
      d.catch(() => discovery.delete(issuer));
      discovery.set(issuer, d);
    }
    return d;
  };

  const answer = (res: Reply, summary: SignRequestSummary, now: Date, parts: Omit<ResponseParts, 'request' | 'now'>): void => {
    const signed = signResponse(responseXml({ request: summary, now, ...parts }), responseSigner);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(responsePage(summary.audience, summary.requestId, signed));
  };

  /** After authentication: the §3 checks, the signer certificate, the signed tasks, the SignResponse. */
  const complete = async (res: Reply, summary: SignRequestSummary, tasks: Element[], auth: AuthenticationResult): Promise<void> => {
    const now = clock();
    if (!auth.ok) return answer(res, summary, now, { failure: auth.failure });
    const signer = auth.signer;
    // §3 Signer: the service MUST match the named signer against the authenticated one.
    if (summary.requestedSigner !== null && summary.requestedSigner !== signer.personalIdentityNumber) return answer(res, summary, now, { failure: 'user-mismatch' });
    if (summary.loa.length > 0 && !summary.loa.includes(signer.loa)) return answer(res, summary, now, { failure: 'unsupported-loa' });
    const instant = signer.authnInstant ?? now;
    const assertionRef = `_${randomBytes(16).toString('hex')}`;
    const issued = await issueSignerCertificate(issuerCert, issuerKey, signer, { idp: summary.identityProvider, instant, assertionRef, serviceId: summary.signService, now, lifetimeMs });
    const certDer = Buffer.from(issued.cert.rawData);
    const signedTasks = tasks.map((t, i) => {
      const meta = summary.tasks[i]!;
      const tbs = Buffer.from(txt(child(t, CSIG, 'ToBeSignedBytes')).replace(/\s+/g, ''), 'base64');
      const signatureId = txt(child(child(t, CSIG, 'AdESObject'), CSIG, 'SignatureId')) || null;
      const bes = meta.adesType === 'BES';
      if (meta.sigType === 'XML') return { ...meta, signatureId, ...signXmlTask(tbs, signatureId, bes, certDer, issued.key, now) };
      if (meta.sigType === 'PDF' || meta.sigType === 'CMS') return { ...meta, signatureId, objectXml: null, ...signAttributes(tbs, bes, certDer, issued.key) };
      throw new BadRequest(`SigType ${meta.sigType} is not supported`);
    });
    const chain = [certDer, ...issuerDers];
    return answer(res, summary, now, { assertion: { signer, instant, assertionRef }, chain, tasks: signedTasks });
  };

  /** POST /sign with oidc: keep the request, send the browser on to the OP's login (code + PKCE, state, nonce, essential acr). */
  const redirectToLogin = async (res: Reply, oidc: SigningServiceOidcOptions, summary: SignRequestSummary, tasks: Element[]): Promise<void> => {
    const op = await discover(oidc.issuer);
    const state = randomBytes(32).toString('base64url');
    const nonce = randomBytes(32).toString('base64url');
    const codeVerifier = randomBytes(32).toString('base64url');
    const now = Date.now();
    for (const [k, p] of pending) if (p.expires < now) pending.delete(k);
    pending.set(state, { summary, tasks, codeVerifier, nonce, expires: now + 10 * 60_000 });
    const to = new URL(op.authorization_endpoint);
    to.search = new URLSearchParams({
      response_type: 'code',
      client_id: oidc.clientId,
      redirect_uri: `${origin}/oidc/callback`,
      scope: `openid ${SCOPE_SE}naturalPersonNumber ${SCOPE_SE}naturalPersonInfo`,
      state,
      nonce,
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      prompt: 'login',
      claims: JSON.stringify({ id_token: { acr: { essential: true, values: oidc.requiredAcr } } }),
      ...(summary.requestedSigner !== null ? { login_hint: summary.requestedSigner } : {}),
    }).toString();
    // A page that navigates on, not a 3xx: browsers apply the requester's CSP form-action to redirects of the form
    // post (our sign page allows posting to the signing service only), so a redirect to the OP would be blocked.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginRedirectPage(to.href));
  };

  /** GET /oidc/callback: redeem the code, verify the ID token, require the acr, read the personnummer claim. */
  const oidcLogin = async (oidc: SigningServiceOidcOptions, query: URLSearchParams, p: Pending): Promise<AuthenticationResult> => {
    const error = query.get('error');
    if (error !== null) return { ok: false, failure: error === 'access_denied' ? 'user-cancel' : error === 'unmet_authentication_requirements' ? 'unsupported-loa' : 'authn-failed' };
    const code = query.get('code');
    if (code === null) return { ok: false, failure: 'authn-failed' };
    const op = await discover(oidc.issuer);
    const tokenRes = await fetch(op.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(oidc.clientId)}:${encodeURIComponent(oidc.clientSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${origin}/oidc/callback`, code_verifier: p.codeVerifier }).toString(),
    });
    if (!tokenRes.ok) return { ok: false, failure: 'authn-failed' };
    const idToken = ((await tokenRes.json()) as { id_token?: unknown }).id_token;
    if (typeof idToken !== 'string') return { ok: false, failure: 'authn-failed' };
    let claims: jose.JWTPayload;
    try {
      ({ payload: claims } = await jose.jwtVerify(idToken, op.jwks, { issuer: oidc.issuer, audience: oidc.clientId, algorithms: ['RS256', 'ES256', 'PS256'], requiredClaims: ['exp', 'iat', 'sub'] }));
    } catch {
      return { ok: false, failure: 'authn-failed' };
    }
    if (claims.nonce !== p.nonce) return { ok: false, failure: 'security-violation' };
    if (typeof claims.acr !== 'string' || !oidc.requiredAcr.includes(claims.acr)) return { ok: false, failure: 'unsupported-loa' };
    const pnr = claims[`${CLAIMS_SE}personalIdentityNumber`];
    if (typeof pnr !== 'string' || pnr === '') return { ok: false, failure: 'authn-failed' };
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const givenName = str(claims.given_name);
    const surname = str(claims.family_name);
    return {
      ok: true,
      signer: {
        personalIdentityNumber: pnr, givenName, surname, displayName: str(claims.name) || `${givenName} ${surname}`, loa: claims.acr,
        ...(typeof claims.auth_time === 'number' ? { authnInstant: new Date(claims.auth_time * 1000) } : {}),
      },
    };
  };

  const handle = async (req: import('node:http').IncomingMessage, res: Reply): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const oidc = oidcOf();
    if (oidc && req.method === 'GET' && url.pathname === '/oidc/callback') {
      const state = url.searchParams.get('state');
      const p = state !== null ? pending.get(state) : undefined;
      if (state === null || p === undefined || p.expires < Date.now()) throw new BadRequest('unknown or expired state');
      pending.delete(state);
      return complete(res, p.summary, p.tasks, await oidcLogin(oidc, url.searchParams, p));
    }
    if (req.method !== 'POST' || url.pathname !== '/sign') {
      res.writeHead(404).end();
      return;
    }
    const form = await readForm(req, 1024 * 1024);
    if (form['Binding'] !== BINDING || !form['RelayState'] || !form['EidSignRequest']) throw new BadRequest('Binding, RelayState and EidSignRequest are required');
    const xml = Buffer.from(form['EidSignRequest'], 'base64').toString('utf8');
    const doc = parse(xml);
    if (opts.requesterCertificates && !verifyRequestSignature(xml, doc, opts.requesterCertificates)) throw new BadRequest('the SignRequest is not signed by a known requester');
    const { summary, tasks } = summarize(doc);
    if (summary.requestId !== form['RelayState']) throw new BadRequest('RelayState must equal RequestID');
    if (!/^https?:\/\//.test(summary.audience)) throw new BadRequest('Audience must be an http(s) URL');
    received.push(summary);
    const now = clock();
    const age = now.getTime() - Date.parse(summary.requestTime);
    if (Number.isNaN(age) || age > MAX_REQUEST_AGE_MS + SKEW_MS || age < -SKEW_MS) return answer(res, summary, now, { failure: 'req-expired' });
    if (oidc) return redirectToLogin(res, oidc, summary, tasks);
    return complete(res, summary, tasks, await authenticate({ request: summary, form, query: url.searchParams }));
  };

  const server = https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(e instanceof BadRequest ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(e instanceof BadRequest ? e.message : 'simulator error');
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `https://127.0.0.1:${port}`;
  return {
    url: `${origin}/sign`,
    origin,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** The subject of the issuing CA, for tests that check the chain. */
export const issuerSubject = (pem: string): string => new NodeX509(pemDers(pem)[0]!).subject;
