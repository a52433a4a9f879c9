// Central signing service adapter (Sweden Connect DSS extension): ../shared/specs/signing.md §2 (flow),
// §3 (SignRequest), §5.3 (what we check, in that order, fail closed) and §6 (assembly). Implements the
// CentralSigningService port; storing `pending` and consuming it once (replay, §13 item 14) is the caller's job.
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { AppError } from '../../../src/domain/errors.js';
import { DEFAULT_ACCEPTED_LOA, LOA, parsePersonalIdentityNumber, personalIdentityNumberFromSerialNumber, SIGNING_ERROR_CODES, type SigningErrorCode } from '../../../src/domain/signing.js';
import type { CentralSigningService, CompleteSigningInput, CompletedSigning, PendingSignRequest, SignedDocumentResult, StartedSigning, StartSigningInput } from '../../../src/ports/signing.port.js';
import { buildTrustContext, validateSignatures, type SignatureValidatorOptions } from '../validation/index.js';
import { certFromDer, parseCertificates, pemBlocks, validatePath, type Cert } from '../validation/pki.js';
import { signatureUriFor } from '../validation/xmldsig-algorithms.js';
import { DSS_PROFILE, MINOR_TO_ERROR, RESULT_MAJOR, SAML_ATTR } from './dss.constants.js';
import { verifyDssMessage, type MessageSigningKey } from './envelope-signature.js';
import { buildSignedSignRequest, signRequestFormFields } from './sign-request.mapper.js';
import { DssFormatError, parseSignResponse, readResponseForm } from './sign-response.mapper.js';
import { assembleSignedTask, prepareSignTask, SignTaskError } from './sign-task.mapper.js';

export { autoPostFormHtml, buildSignRequestXml, buildSignedSignRequest, signRequestFormFields, type SignRequestParams, type SignTaskRequest } from './sign-request.mapper.js';
export { parseSignResponse, readResponseForm, DssFormatError, type ParsedSignResponse, type ParsedSignTask } from './sign-response.mapper.js';
export { signDssMessage, verifyDssMessage, type MessageSigningKey } from './envelope-signature.js';
export * from './dss.constants.js';

export interface CentralSigningOptions {
  /** Where the browser posts the SignRequest (form action). */
  signServiceUrl: string;
  /** csig:SignService: the service's SAML entityID. */
  signServiceEntityId: string;
  /** csig:SignRequester: our entityID. */
  signRequesterEntityId: string;
  /** Our response endpoint: Conditions/Audience, and the only URL the response may be posted to. */
  responseUrl: string;
  /** Default csig:IdentityProvider (SAML entityID); a tenant may override per request. */
  identityProvider: string;
  /** Key and certificate (PEM; leaf first) that sign our SignRequests. */
  requestSigner: { certificatePem: string; keyPem: string };
  /** Pinned certificates of the service's response-signing key (§5.3 step 2). Never from the response itself. */
  signServiceCertificates: ReadonlyArray<string | Uint8Array>;
  /** CA certificates the signer certificates must chain to (§5.3 step 10); the returned root is ignored. */
  signerTrustAnchors: ReadonlyArray<string | Uint8Array>;
  signerCrls?: ReadonlyArray<string | Uint8Array>;
  /** Default loa3 + loa4 (§7); exact match. */
  acceptedLoa?: readonly string[];
  /** Map deprecated `loaN-sigmessage` to its base level (§7 legacy switch, default off). */
  legacySigmessageLoa?: boolean;
  /** DSS-EXT version we send; 1.5 by default (§3). */
  version?: '1.5' | '1.4';
  certType?: 'PKC' | 'QC' | 'QC/SSCD';
  /** Require the signMessageDigest attribute (§12 item 7); default false (verified when present). */
  requireSignMessageDigest?: boolean;
  clockSkewMs?: number;
  maxResponseAgeMs?: number;
  maxRoundTripMs?: number;
  maxResponseBytes?: number;
  clock?: () => Date;
}

const err = (code: SigningErrorCode | 'VALIDATION_FAILED', message: string, status = 400, retryable = false): AppError => new AppError(code, message, { status, retryable });

function signMessageText(input: StartSigningInput): string {
  const lines = input.documents.map((d) => {
    const fp = createHash('sha256').update(d.bytes).digest('hex').slice(0, 16).replace(/(.{4})(?!$)/g, '$1 ');
    return `- ${d.title} (SHA-256 ${fp})`;
  });
  const intro = input.caseReference ? `Jag skriver under följande dokument i ärende ${input.caseReference}:` : 'Jag skriver under följande dokument:';
  return [intro, ...lines].join('\n');
}

function requestSigningKey(opts: CentralSigningOptions): MessageSigningKey {
  const certs = pemBlocks(opts.requestSigner.certificatePem, ['CERTIFICATE']);
  if (certs.length === 0) throw new AppError('SIGNING_CONFIG_INVALID', 'The SignRequest signing certificate is missing.');
  const key = createPrivateKey(opts.requestSigner.keyPem);
  if (!new X509Certificate(certs[0]!).checkPrivateKey(key)) throw new AppError('SIGNING_CONFIG_INVALID', 'The SignRequest signing key does not match its certificate.');
  return { key, keyType: key.asymmetricKeyType === 'ec' ? 'EC' : 'RSA', certificate: certs[0]! };
}

export function createCentralSigningService(opts: CentralSigningOptions): CentralSigningService {
  const signer = requestSigningKey(opts);
  const serviceCerts: Cert[] = opts.signServiceCertificates.flatMap((c) => parseCertificates(c));
  const validatorOpts: SignatureValidatorOptions = { trustAnchors: opts.signerTrustAnchors, ...(opts.signerCrls ? { crls: opts.signerCrls } : {}), revocation: 'if-available' };
  // A just-issued signer certificate is rarely on a CRL yet (§5.3 step 10): check when possible, tolerate "not listed".
  const trust = buildTrustContext(validatorOpts);
  const acceptedLoa = opts.acceptedLoa ?? DEFAULT_ACCEPTED_LOA;
  const skew = opts.clockSkewMs ?? 60_000;
  const clock = opts.clock ?? (() => new Date());
  const signatureAlgorithm = signatureUriFor(signer.keyType === 'EC' ? 'EC' : 'RSA');

  return {
    async start(input: StartSigningInput): Promise<StartedSigning> {
      if (input.documents.length === 0) throw err('VALIDATION_FAILED', 'At least one document is required.');
      const now = input.now ?? clock();
      const requestId = randomBytes(24).toString('hex'); // ≥128 bits, ≥20 characters (§12 item 5)
      const ids = input.documents.map((d, i) => d.taskId ?? `doc-${i + 1}`);
      if (new Set(ids).size !== ids.length) throw err('VALIDATION_FAILED', 'Task ids must be unique.');
      const prepared = [];
      for (const [i, d] of input.documents.entries()) {
        try {
          prepared.push(await prepareSignTask(d, ids[i]!, signatureAlgorithm, now));
        } catch (e) {
          throw new AppError('SIGNING_DOCUMENT_INVALID', `Document ${ids[i]!} cannot be signed: ${e instanceof Error ? e.message.slice(0, 160) : 'unknown error'}`, { status: 422, cause: e });
        }
      }
      const version = opts.version ?? '1.5';
      const identityProvider = input.identityProvider ?? opts.identityProvider;
      const certType = input.certType ?? opts.certType ?? 'PKC';
      const signMessage = signMessageText(input);
      const xml = buildSignedSignRequest(
        {
          requestId,
          requestTime: now,
          version,
          audience: opts.responseUrl,
          personalIdentityNumber: input.personalIdentityNumber,
          identityProvider,
          signRequester: opts.signRequesterEntityId,
          signService: opts.signServiceEntityId,
          signatureAlgorithm,
          certType,
          loa: acceptedLoa,
          signMessage,
          tasks: prepared.map((p) => p.request),
        },
        signer,
      );
      const pending: PendingSignRequest = {
        requestId,
        requestTime: now.toISOString(),
        version,
        personalIdentityNumber: input.personalIdentityNumber,
        identityProvider,
        signService: opts.signServiceEntityId,
        audience: opts.responseUrl,
        acceptedLoa: [...acceptedLoa],
        certType,
        signMessage,
        tasks: prepared.map((p) => p.pending),
      };
      return { requestId, form: { action: opts.signServiceUrl, fields: signRequestFormFields(xml, requestId) }, pending };
    },

    async complete(input: CompleteSigningInput): Promise<CompletedSigning> {
      const now = input.now ?? clock();
      const { pending } = input;
      // 1. Form, size, base64, no DOCTYPE, hardened parse.
      let form;
      try {
        form = readResponseForm(input.form, opts.maxResponseBytes);
      } catch (e) {
        throw err(SIGNING_ERROR_CODES.badForm, e instanceof DssFormatError ? e.message : 'The signing response is malformed.');
      }
      // 2. The response signature, with the configured certificates only; error responses too.
      const sig = verifyDssMessage(form.xml, form.doc, 'OptionalOutputs', serviceCerts);
      if (!sig.ok) throw err(SIGNING_ERROR_CODES.badSignature, `The signing response is not validly signed by the signing service: ${sig.detail}.`);
      let resp;
      try {
        resp = parseSignResponse(form.doc);
      } catch (e) {
        throw err(SIGNING_ERROR_CODES.badForm, e instanceof DssFormatError ? e.message : 'The signing response is malformed.');
      }
      // 3. Profile; RelayState == RequestID == our pending request.
      if (resp.profile !== DSS_PROFILE) throw err(SIGNING_ERROR_CODES.badForm, 'Unexpected SignResponse Profile.');
      if (resp.requestId !== pending.requestId || form.relayState !== pending.requestId) throw err(SIGNING_ERROR_CODES.requestIdMismatch, 'The response does not answer this signing request.');
      // 4. Result.
      if (resp.result.major !== RESULT_MAJOR.success) {
        const mapped = resp.result.minor ? MINOR_TO_ERROR[resp.result.minor] : undefined;
        if (mapped) throw err(mapped.code, mapped.message, mapped.status, mapped.retryable);
        throw err(SIGNING_ERROR_CODES.generalError, 'The signing service reported a failure.', 502, true);
      }
      // 5. Extension and version echo.
      const ext = resp.extension;
      if (!ext) throw err(SIGNING_ERROR_CODES.badForm, 'SignResponseExtension is missing.');
      if (ext.version !== pending.version) throw err(SIGNING_ERROR_CODES.versionMismatch, `The service answered version ${ext.version}, we asked for ${pending.version}.`);
      // 6. Time.
      const requestTime = Date.parse(pending.requestTime);
      const responseTime = Date.parse(ext.responseTime ?? '');
      if (Number.isNaN(responseTime)) throw err(SIGNING_ERROR_CODES.badForm, 'ResponseTime is missing or invalid.');
      if (now.getTime() - responseTime > (opts.maxResponseAgeMs ?? 180_000) + skew || responseTime > now.getTime() + skew) throw err(SIGNING_ERROR_CODES.stale, 'The signing response is too old or from the future.');
      if (now.getTime() - requestTime > (opts.maxRoundTripMs ?? 600_000)) throw err(SIGNING_ERROR_CODES.stale, 'The signing round trip took too long.');
      // 7. Signer assertion: IdP, instant, LoA (exact), AssertionRef.
      const sa = ext.signerAssertion;
      if (!sa) throw err(SIGNING_ERROR_CODES.badForm, 'SignerAssertionInfo is missing.');
      if (sa.identityProvider !== pending.identityProvider) throw err(SIGNING_ERROR_CODES.idpMismatch, 'The signer was authenticated by another identity provider.', 403);
      const authn = Date.parse(sa.authenticationInstant ?? '');
      if (Number.isNaN(authn) || authn < requestTime - skew || authn > responseTime + skew) throw err(SIGNING_ERROR_CODES.stale, 'AuthenticationInstant lies outside the request window.');
      let loa = sa.authnContextClassRef ?? '';
      if (opts.legacySigmessageLoa) loa = loa === LOA.loa3Sigmessage ? LOA.loa3 : loa === LOA.loa4Sigmessage ? LOA.loa4 : loa;
      if (!pending.acceptedLoa.includes(loa)) throw err(SIGNING_ERROR_CODES.loaMismatch, 'The signer was not authenticated at an accepted level of assurance.', 403);
      if (!sa.assertionRef) throw err(SIGNING_ERROR_CODES.badForm, 'AssertionRef is missing.');
      // 8. Identity: assertion, our request and the logged-in user agree; the certificate says the same.
      const asserted = sa.attributes[SAML_ATTR.personalIdentityNumber] ?? [];
      if (asserted.length !== 1 || asserted[0] !== pending.personalIdentityNumber || pending.personalIdentityNumber !== input.personalIdentityNumber) {
        throw err(SIGNING_ERROR_CODES.signerMismatch, 'The person who signed is not the person who asked to sign.', 403);
      }
      // 9. Sign message digest, when present (or required).
      const smd = sa.attributes[SAML_ATTR.signMessageDigest];
      const expectedDigest = `http://www.w3.org/2001/04/xmlenc#sha256;${createHash('sha256').update(pending.signMessage, 'utf8').digest('base64')}`;
      if ((smd && (smd.length !== 1 || smd[0] !== expectedDigest)) || (!smd && opts.requireSignMessageDigest)) {
        throw err(SIGNING_ERROR_CODES.signMessageDigest, 'The signing service did not prove that our sign message was shown.', 403);
      }
      // 10. Certificates: path to a configured anchor, validity now, key usage; the returned root is never an anchor.
      let chain: Cert[];
      try {
        chain = ext.certificateChain.map((d) => certFromDer(d));
      } catch {
        throw err(SIGNING_ERROR_CODES.certificate, 'SignatureCertificateChain holds an unreadable certificate.');
      }
      const leaf = chain[0];
      if (!leaf) throw err(SIGNING_ERROR_CODES.certificate, 'SignatureCertificateChain is empty.');
      const path = await validatePath(leaf, chain.slice(1), trust, now);
      if (path.failure) throw err(SIGNING_ERROR_CODES.certificate, `The signer certificate is not acceptable (${path.failure}).`, 403);
      const certPnr = personalIdentityNumberFromSerialNumber(leaf.px.subjectName.getField('2.5.4.5')[0]);
      if (certPnr !== pending.personalIdentityNumber) throw err(SIGNING_ERROR_CODES.signerMismatch, 'The signer certificate names another person.', 403);
      // 11. Exactly our tasks.
      if (resp.tasks.length !== pending.tasks.length || new Set(resp.tasks.map((t) => t.taskId)).size !== resp.tasks.length) {
        throw err(SIGNING_ERROR_CODES.tasks, 'The response does not hold exactly one result per document.');
      }
      // 12–13. Check each task's data, assemble, validate the result with our own validator.
      const documents: SignedDocumentResult[] = [];
      for (const task of pending.tasks) {
        const returned = resp.tasks.find((t) => t.taskId === task.taskId);
        if (!returned) throw err(SIGNING_ERROR_CODES.tasks, `No result for document ${task.taskId}.`);
        let assembled;
        try {
          assembled = assembleSignedTask(task, returned, { chain, requestTime: new Date(requestTime), responseTime: new Date(responseTime), skewMs: skew, signatureAlgorithm });
        } catch (e) {
          if (e instanceof SignTaskError) throw err(e.code, e.message, 502);
          throw new AppError(SIGNING_ERROR_CODES.assembly, `Document ${task.taskId} could not be assembled.`, { status: 500, cause: e });
        }
        const content = task.format === 'cms' ? input.contents?.[task.taskId] : undefined;
        if (task.format === 'cms' && !content) throw err('VALIDATION_FAILED', `The content of document ${task.taskId} is needed to validate its detached signature.`);
        if (content && createHash('sha256').update(content).digest('base64') !== (task.format === 'cms' ? task.contentSha256 : '')) {
          throw err('VALIDATION_FAILED', `The content given for document ${task.taskId} is not the one that was signed.`);
        }
        const report = await validateSignatures({ document: assembled.bytes, ...(content ? { detachedContent: content } : {}), at: now }, validatorOpts, trust);
        if (report.verdict !== 'valid') throw err(SIGNING_ERROR_CODES.assembly, `The assembled document ${task.taskId} did not validate (${report.reason}).`, 502);
        documents.push({ taskId: task.taskId, title: task.title, format: task.format, bytes: assembled.bytes, detached: assembled.detached, report });
      }
      const name = (attr: string): string | undefined => sa.attributes[attr]?.[0];
      const pnr = parsePersonalIdentityNumber(pending.personalIdentityNumber);
      if (!pnr) throw err(SIGNING_ERROR_CODES.signerMismatch, 'The pending request holds no valid personal identity number.');
      const givenName = name(SAML_ATTR.givenName);
      const surname = name(SAML_ATTR.surname);
      const displayName = name(SAML_ATTR.displayName);
      return {
        requestId: pending.requestId,
        signer: { personalIdentityNumber: pnr, ...(givenName ? { givenName } : {}), ...(surname ? { surname } : {}), ...(displayName ? { displayName } : {}) },
        identityProvider: sa.identityProvider,
        loa,
        authnInstant: new Date(authn).toISOString(),
        documents,
      };
    },
  };
}
