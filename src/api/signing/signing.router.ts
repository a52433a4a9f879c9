// REST API and browser endpoints of the signing channel (issue 8; contracts/api/parts/signing.yaml;
// ../shared/specs/signing.md §2 flow, §4 binding, §9 validation, §6.4 seal).
// Systems: scope urn:sandebud:signing:sign (requests) / urn:sandebud:signing:validate (validations).
// People: role caseworker or admin to ask for signatures; any role to validate. Owners see their own rows,
// admins and auditors all of them; anyone else gets 404, never a hint that the id exists.
import { Router, type Request, type Response } from 'express';
import { AppError, isAppError, notFound, validationError } from '../../domain/errors.js';
import { principalId, type Principal } from '../../domain/principal.js';
import { beginSigning, createSigningRequest, currentSigningRequest, finishSigning, signUrlOf, type SignRequestDeps } from '../../use-cases/signing/sign-request.use-case.js';
import { sealedEvidence, type SealEvidenceDeps } from '../../use-cases/signing/seal-evidence.use-case.js';
import { validateDocument, type ValidateDeps } from '../../use-cases/signing/validate-signature.use-case.js';
import type { Logger } from '../../lib/logger.js';
import { scopeOrRole, type GuardSource } from '../guards.js';
import { principalOf } from '../principal.js';
import { sendAutoPostForm, sendResultPage } from './signing.pages.js';
import { signingRequestView, validationView } from './signing.mapper.js';

const SIGN = 'urn:sandebud:signing:sign';
const VALIDATE = 'urn:sandebud:signing:validate';

export interface SigningRouterDeps {
  auth: GuardSource;
  signing: SignRequestDeps;
  validation: ValidateDeps;
  evidence: SealEvidenceDeps;
  /** Renders the auto-posting form to the signing service (the adapter's autoPostFormHtml). */
  autoPostFormHtml(action: string, fields: Record<string, string>, nonce: string): string;
  logger?: Logger;
}

const canSee = (p: Principal, owner: string): boolean => principalId(p) === owner || (p.kind === 'person' && (p.roles.includes('auditor') || p.roles.includes('admin')));

export function createSigningRouter(deps: SigningRouterDeps): Router {
  const r = Router();
  const pageError = pageErrorHandler(deps.logger);
  const ask = scopeOrRole(deps.auth, SIGN, ['caseworker', 'admin']);
  const readRequests = scopeOrRole(deps.auth, SIGN, ['caseworker', 'admin', 'auditor']);
  const validate = scopeOrRole(deps.auth, VALIDATE, ['caseworker', 'admin', 'auditor']);

  r.post('/requests', ...ask, async (req, res) => {
    const key = req.get('idempotency-key');
    if (key === undefined) throw validationError([{ field: '/headers/idempotency-key', message: 'required' }]);
    const { request, created } = await createSigningRequest(deps.signing, principalId(principalOf(res)), key, req.body, String(res.locals.correlationId));
    res.status(created ? 202 : 200).location(`/v1/signing/requests/${request.id}`).json(signingRequestView(request, signUrlOf(deps.signing, request)));
  });

  r.get('/requests/:id', ...readRequests, async (req, res) => {
    const request = await currentSigningRequest(deps.signing, String(req.params.id));
    if (!request || !canSee(principalOf(res), request.owner)) throw notFound('The signing request');
    res.json(signingRequestView(request, signUrlOf(deps.signing, request)));
  });

  // Browser: the signer opens the sign URL. No login here: the token is the capability, and the signing service
  // authenticates the named signer at LoA3 (§2 step 4). Errors are pages, not JSON.
  r.get('/requests/:id/sign', async (req, res) => {
    try {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const begun = await beginSigning(deps.signing, String(req.params.id), token);
      if (begun.kind === 'form') {
        const { action, fields } = begun.form;
        sendAutoPostForm(res, (nonce) => deps.autoPostFormHtml(action, fields, nonce), action);
        return;
      }
      const s = begun.request.status;
      sendResultPage(res, 409, s, begun.request.errorCode ?? undefined, begun.request.errorMessage ?? undefined);
    } catch (e) {
      pageError(res, e);
    }
  });

  // Browser: the signing service posts the SignResponse here through the signer's browser (form-encoded,
  // cross-site). Exempt from session and CSRF checks by design; complete() verifies the response (§5.3).
  r.post('/responses', async (req, res) => {
    try {
      const form = Object.fromEntries(Object.entries(req.body as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const out = await finishSigning(deps.signing, form);
      if (out.kind === 'signed') sendResultPage(res, 200, 'SIGNED');
      else if (out.kind === 'failed') sendResultPage(res, out.status >= 500 ? 502 : out.status, 'FAILED', out.code, out.message);
      else sendResultPage(res, out.status, 'REFUSED', out.code, out.message);
    } catch (e) {
      pageError(res, e);
    }
  });

  r.post('/validations', ...validate, async (req, res) => {
    const v = await validateDocument(deps.validation, principalId(principalOf(res)), req.body);
    res.status(201).location(`/v1/signing/validations/${v.id}`).json(validationView(v));
  });

  const visibleValidation = async (req: Request, res: Response) => {
    const v = await deps.evidence.store.getValidation(String(req.params.id));
    if (!v || !canSee(principalOf(res), v.owner)) throw notFound('The validation');
    return v;
  };

  r.get('/validations/:id', ...validate, async (req, res) => {
    res.json(validationView(await visibleValidation(req, res)));
  });

  r.get('/validations/:id/evidence', ...validate, async (req, res) => {
    const v = await visibleValidation(req, res);
    const sealed = await sealedEvidence(deps.evidence, v, principalId(principalOf(res)));
    res.status(200).type('application/xml').setHeader('Content-Disposition', `attachment; filename="validation-${v.id}.xml"`);
    res.send(sealed);
  });

  return r;
}

/** Errors on the browser endpoints become pages with the stable code; 5xx details are logged, never shown. */
function pageErrorHandler(logger: Logger | undefined) {
  return (res: Response, e: unknown): void => {
    if (isAppError(e) && e.status < 500) {
      sendResultPage(res, e.status, 'REFUSED', e.code, e.message);
      return;
    }
    logger?.error({ event: 'SIGNING_PAGE_FAILED', code: e instanceof AppError ? e.code : 'INTERNAL', err: e, correlationId: res.locals.correlationId }, 'signing browser endpoint failed');
    sendResultPage(res, 500, 'FAILED', 'INTERNAL');
  };
}
