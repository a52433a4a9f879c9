// RFC 7807 problem+json for every error (style.md convention 3; dept44 ProblemExceptionHandler,
// oidc-provider err_out: exposed errors as they are, everything else one generic 5xx).
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, isAppError, type FieldError } from '../domain/errors.js';
import type { Logger } from '../lib/logger.js';

export const PROBLEM_BASE = 'https://sandebud.se/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  correlationId?: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function toProblem(err: AppError, correlationId: string | undefined): Problem {
  const exposed = err.expose && err.status < 500;
  const problem: Problem = {
    type: `${PROBLEM_BASE}${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    // 5xx details are generic: upstream or internal text never reaches the caller.
    detail: exposed ? err.message : err.status === 504 ? 'An upstream system did not answer in time.' : err.status === 502 ? 'An upstream system failed.' : 'An internal error occurred.',
    code: err.code,
  };
  if (correlationId !== undefined) problem.correlationId = correlationId;
  if (exposed && err.errors.length > 0) problem.errors = err.errors;
  return problem;
}

export function sendProblem(res: Response, err: AppError): void {
  const correlationId = typeof res.locals.correlationId === 'string' ? res.locals.correlationId : undefined;
  const problem = toProblem(err, correlationId);
  // Keep a more specific RFC 6750 challenge (error="invalid_token") that the auth layer already set.
  if (err.status === 401 && !res.hasHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', 'Bearer realm="sandebud"');
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** Translate errors thrown by Express' own middleware (body-parser, openapi validator) into AppErrors. */
export function normaliseError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; errors?: unknown; message?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
    if (e.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { status: 413 });
    if (e.type === 'entity.parse.failed') return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.', { status: 400, errors: [{ field: '/body', message: 'not valid JSON' }] });
    if (Array.isArray(e.errors) && status !== undefined && status < 500) {
      // express-openapi-validator: errors[] with path like "/body/recipient" or ".body.recipient".
      const errors: FieldError[] = e.errors.map((x: unknown) => {
        const item = x as { path?: unknown; message?: unknown };
        const p = typeof item.path === 'string' ? item.path : '';
        const pointer = p.startsWith('.') ? p.replace(/\./g, '/') : p;
        // The contract names path parameters /path/<name>; the validator says /params/<name>.
        return { field: pointer.replace(/^\/params\//, '/path/'), message: typeof item.message === 'string' ? item.message : 'invalid' };
      });
      const code = status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'VALIDATION_FAILED';
      const msg = status === 404 ? 'No such resource.' : status === 405 ? 'Method not allowed on this resource.' : 'The request is invalid.';
      return new AppError(code, msg, { status, errors: status === 400 ? errors : [] });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return new AppError('BAD_REQUEST', 'The request could not be processed.', { status });
    }
  }
  return new AppError('INTERNAL', 'Internal error', { status: 500, cause: err });
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appErr = normaliseError(err);
    const log = { event: 'REQUEST_FAILED', code: appErr.code, status: appErr.status, method: req.method, route: req.route?.path ?? req.path, correlationId: res.locals.correlationId };
    if (appErr.status >= 500) logger.error({ ...log, err: appErr.cause ?? appErr }, 'request failed');
    else logger.debug(log, 'request rejected');
    sendProblem(res, appErr);
  };
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(new AppError('NOT_FOUND', 'No such resource.', { status: 404 }));
};
