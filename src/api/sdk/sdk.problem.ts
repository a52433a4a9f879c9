// sdk.md §10 ("Errors"): problems of the MT–MK API. A 400 is `urn:problem-type:sdk:badRequest` (RFC 7807 plus
// the SDK extension `eventIssues[]` of {typeCode, title, detail, in, dateTime}); every other status keeps the
// house problem (src/api/problem.ts). Both also carry the house fields `code`, `correlationId` and `errors[]`,
// so one client library reads every Sändebud error. Served as application/problem+json (§10 note).
import type { ErrorRequestHandler, Response, Router } from 'express';
import { AppError } from '../../domain/errors.js';
import type { Logger } from '../../lib/logger.js';
import { normaliseError, toProblem } from '../problem.js';
import { SdkRequestError, TOO_LONG_CODE, type SdkIssue } from '../../use-cases/sdk/sdk-deps.js';

export const SDK_BAD_REQUEST = 'urn:problem-type:sdk:badRequest';

/** The eventIssues of a 400: the use case's own issues, or one per field error (schema validation). */
function issuesOf(err: AppError): SdkIssue[] {
  if (err instanceof SdkRequestError) return err.issues;
  if (err.errors.length > 0) return err.errors.map((e) => ({ in: e.field, title: "Input isn't valid with respect to schema", detail: e.message }));
  return [{ in: 'body', title: "Input isn't valid", detail: err.message }];
}

/** The problem body for `err` on an SDK route. */
export function sdkProblemBody(err: AppError, correlationId: string | undefined, instance?: string): Record<string, unknown> {
  const base = toProblem(err, correlationId);
  if (err.status !== 400) return { ...base, ...(instance !== undefined ? { instance } : {}) };
  const at = new Date().toISOString();
  return {
    ...base,
    type: SDK_BAD_REQUEST,
    title: err.code === TOO_LONG_CODE ? 'Payload Too Large' : 'Bad Request',
    // The SDK's problem fields are short (detail ≤128, title ≤120 characters).
    detail: (base.detail ?? '').slice(0, 128),
    instance: instance ?? correlationId ?? 'request',
    eventIssues: issuesOf(err).map((i) => ({ typeCode: 'MESSAGE_EXCHANGE_ERROR', title: i.title.slice(0, 120), detail: i.detail.slice(0, 128), in: i.in, dateTime: at })),
  };
}

export function sendSdkProblem(res: Response, err: AppError): void {
  const correlationId = typeof res.locals.correlationId === 'string' ? res.locals.correlationId : undefined;
  if (err.status === 401 && !res.hasHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', 'Bearer realm="sandebud"');
  res.status(err.status).type('application/problem+json').send(JSON.stringify(sdkProblemBody(err, correlationId)));
}

/**
 * The error handler for /v1/sdk. It is registered as an application-level error middleware on that path (an
 * entry of createHttpApp's `routers`), so it also formats what happens before the SDK router runs — the
 * contract validator's 400s and the guards' 401/403. Express calls a four-argument function only for errors;
 * `stack: []` lets listRoutes (the contract drift test) see that it serves no route of its own.
 */
export function createSdkProblemHandler(logger: Logger): Router {
  const handler: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appErr = normaliseError(err);
    const log = { event: 'REQUEST_FAILED', code: appErr.code, status: appErr.status, method: req.method, route: `${req.baseUrl}${typeof req.route?.path === 'string' ? req.route.path : ''}`, correlationId: res.locals.correlationId };
    if (appErr.status >= 500) logger.error({ ...log, err: appErr.cause ?? appErr }, 'request failed');
    else logger.debug(log, 'request rejected');
    sendSdkProblem(res, appErr);
  };
  return Object.assign(handler, { stack: [] }) as unknown as Router;
}
