// Errors with stable codes (style.md convention 3): `instanceof` does not survive a process boundary,
// so every error carries a string code that the problem+json writer and the job runner switch on.

export interface FieldError {
  /** JSON Pointer to the offending field, e.g. "/body/recipient" or "/header/idempotency-key". */
  field: string;
  message: string;
}

export interface AppErrorOptions {
  status?: number;
  expose?: boolean;
  retryable?: boolean;
  errors?: FieldError[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** When false, the caller sees only a generic message (always false for 5xx). */
  readonly expose: boolean;
  readonly retryable: boolean;
  readonly errors: FieldError[];

  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = opts.status ?? 500;
    this.expose = opts.expose ?? this.status < 500;
    this.retryable = opts.retryable ?? false;
    this.errors = opts.errors ?? [];
  }
}

export const validationError = (errors: FieldError[], message = 'The request is invalid.'): AppError =>
  new AppError('VALIDATION_FAILED', message, { status: 400, errors });

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} was not found.`, { status: 404 });

export const conflict = (code: string, message: string): AppError => new AppError(code, message, { status: 409 });

export const unauthorized = (message = 'Authentication is required.'): AppError =>
  new AppError('UNAUTHENTICATED', message, { status: 401 });

export const forbidden = (code = 'FORBIDDEN', message = 'You are not allowed to do this.'): AppError =>
  new AppError(code, message, { status: 403 });

/** An upstream system failed; retryable unless the caller says otherwise. Upstream text never reaches clients. */
export const upstreamError = (system: string, opts: { retryable?: boolean; timeout?: boolean; cause?: unknown } = {}): AppError =>
  new AppError(opts.timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_FAILED', `${system} did not answer as expected.`, {
    status: opts.timeout ? 504 : 502,
    retryable: opts.retryable ?? true,
    cause: opts.cause,
  });

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
