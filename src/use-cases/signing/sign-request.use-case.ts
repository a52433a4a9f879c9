// Signing a document through the central signing service (issue 8; ../shared/specs/signing.md §2 flow, §4
// POST binding, §5.3 checks, §6 assembly, §13 item 14 "consume once"). A case system or a logged-in person
// asks; the named signer's browser opens the sign URL, which builds a fresh SignRequest (start) and posts it
// to the service; the service posts the SignResponse back to our response endpoint, which consumes the stored
// attempt exactly once, verifies and assembles (complete) and stores the result.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError, notFound, validationError } from '../../domain/errors.js';
import { SIGNING_ERROR_CODES, type PersonalIdentityNumber } from '../../domain/signing.js';
import { requestHash } from '../../domain/request-hash.js';
import type { CentralSigningService, PendingSignRequest, SignServiceForm } from '../../ports/signing.port.js';
import type { SigningRequestRecord, SigningStore } from '../../ports/signing-store.port.js';
import { parseSignRequest } from './signing-input.js';

export interface SignRequestDeps {
  store: SigningStore;
  central: CentralSigningService;
  /** Base URL of the gateway as browsers reach it (links in answers). */
  publicUrl: string;
  /** How long a request may wait for its signer. */
  requestTtlMs: number;
  /** SignRequests (sign URL visits) allowed per request. */
  maxAttempts: number;
  clock?: () => Date;
}

/** The one document of a request is task doc-1 (the adapter's default id). */
const TASK_ID = 'doc-1';

/**
 * Responses that prove nothing about the request they name (unsigned, malformed, or signed for another
 * request): they consume the attempt but leave the request PENDING, so a forged POST cannot fail someone
 * else's signing.
 */
const UNAUTHENTIC_RESPONSE: ReadonlySet<string> = new Set([SIGNING_ERROR_CODES.badForm, SIGNING_ERROR_CODES.badSignature, SIGNING_ERROR_CODES.requestIdMismatch]);

const now = (deps: { clock?: () => Date }): Date => (deps.clock ?? (() => new Date()))();

export const signUrlOf = (deps: Pick<SignRequestDeps, 'publicUrl'>, r: Pick<SigningRequestRecord, 'id' | 'signToken'>): string =>
  `${deps.publicUrl}/v1/signing/requests/${r.id}/sign?token=${r.signToken}`;

/** POST /v1/signing/requests: check the document can be signed, then store it PENDING (idempotent by key). */
export async function createSigningRequest(
  deps: SignRequestDeps, owner: string, idempotencyKey: string, body: unknown, correlationId?: string,
): Promise<{ request: SigningRequestRecord; created: boolean }> {
  const parsed = parseSignRequest(body);
  if (!parsed.ok) throw validationError(parsed.errors);
  const p = parsed.value;
  // Dry run of the adapter's preparation (XML parse, PDF placeholder): a document that cannot be signed is a
  // 400 now, not a failure when the signer arrives. Nothing from this run is kept or sent.
  try {
    await deps.central.start({ personalIdentityNumber: p.signer, documents: [{ taskId: TASK_ID, title: p.signMessage, format: p.format, bytes: p.document }], ...(p.caseReference ? { caseReference: p.caseReference } : {}) });
  } catch (e) {
    if (e instanceof AppError && e.status < 500) throw validationError([{ field: '/body/document/content', message: `cannot be signed as ${p.format.toUpperCase()}: ${e.message.replace(/^Document doc-1 cannot be signed: /, '')}` }]);
    throw e;
  }
  return deps.store.createRequest({
    owner, idempotencyKey, requestHash: requestHash(body), ...(correlationId ? { correlationId } : {}),
    signerPnr: p.signer, signMessage: p.signMessage, ...(p.caseReference ? { caseReference: p.caseReference } : {}),
    contentType: p.contentType, format: p.format, document: p.document, documentSha256: createHash('sha256').update(p.document).digest('hex'),
    signToken: randomBytes(32).toString('base64url'), expiresAt: new Date(now(deps).getTime() + deps.requestTtlMs),
  });
}

/** The request as it stands now: a PENDING request past its expiry becomes EXPIRED on first read. */
export async function currentSigningRequest(deps: Pick<SignRequestDeps, 'store' | 'clock'>, id: string): Promise<SigningRequestRecord | undefined> {
  const r = await deps.store.getRequest(id);
  if (r && r.status === 'PENDING' && r.expiresAt.getTime() <= now(deps).getTime()) return (await deps.store.markExpired(id)) ?? deps.store.getRequest(id);
  return r;
}

const tokenMatches = (given: string, stored: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
};

export type BeginResult = { kind: 'form'; form: SignServiceForm } | { kind: 'final'; request: SigningRequestRecord };

/**
 * GET sign URL: a fresh SignRequest for a PENDING request (each visit is one attempt, at most maxAttempts).
 * The token is the capability; a wrong token looks exactly like an unknown id (404).
 */
export async function beginSigning(deps: SignRequestDeps, id: string, token: string): Promise<BeginResult> {
  const request = await currentSigningRequest(deps, id);
  if (!request || !tokenMatches(token, request.signToken)) throw notFound('The signing request');
  if (request.status !== 'PENDING') return { kind: 'final', request };
  let started;
  try {
    started = await deps.central.start({
      personalIdentityNumber: request.signerPnr as PersonalIdentityNumber,
      documents: [{ taskId: TASK_ID, title: request.signMessage, format: request.format, bytes: request.document }],
      ...(request.caseReference ? { caseReference: request.caseReference } : {}),
    });
  } catch (e) {
    if (e instanceof AppError && e.status < 500) {
      const failed = await deps.store.markFailed(id, { errorCode: e.code, errorMessage: e.message, actor: 'signer' });
      return { kind: 'final', request: failed ?? request };
    }
    throw e;
  }
  const added = await deps.store.addAttempt(id, started.requestId, started.pending, deps.maxAttempts, 'signer');
  if (added === 'too-many') throw new AppError('SIGNING_TOO_MANY_ATTEMPTS', 'This signing request has been opened too many times; ask for a new one.', { status: 409 });
  if (added === 'not-pending') {
    const again = await deps.store.getRequest(id);
    if (!again) throw notFound('The signing request');
    return { kind: 'final', request: again };
  }
  return { kind: 'form', form: started.form };
}

// The stored PendingSignRequest is our own serialization; its shape is checked before use (database output is input).
const Pending = z.object({
  requestId: z.string(), requestTime: z.string(), version: z.string(), personalIdentityNumber: z.string(), identityProvider: z.string(),
  signService: z.string(), audience: z.string(), acceptedLoa: z.array(z.string()), certType: z.enum(['PKC', 'QC', 'QC/SSCD']), signMessage: z.string(),
  tasks: z.array(z.object({ taskId: z.string(), title: z.string(), format: z.enum(['xml', 'pdf', 'cms']), toBeSignedBytes: z.string() }).passthrough()).min(1),
}).passthrough();

export type FinishResult =
  | { kind: 'signed'; request: SigningRequestRecord }
  | { kind: 'failed'; request: SigningRequestRecord; code: string; message: string; status: number }
  /** The response changed nothing (replayed, unknown, not authentic, or the request was already final). */
  | { kind: 'refused'; code: string; message: string; status: number };

const refused = (code: string, message: string, status: number): FinishResult => ({ kind: 'refused', code, message, status });

/** The decoded SignResponse, kept as a receipt when it proved authentic. Bounded like the adapter's own check. */
function rawResponseOf(form: Record<string, string | undefined>): Buffer | undefined {
  const v = form.EidSignResponse;
  if (typeof v !== 'string' || v.length > 4 * 1024 * 1024) return undefined;
  return Buffer.from(v, 'base64');
}

/**
 * POST response endpoint (browser, form-encoded). Not protected by a session or CSRF token: the SignResponse
 * is authenticated by the DSS checks of complete() (service signature, RequestID = RelayState = a stored
 * attempt, signer identity, LoA, time). The attempt is consumed before anything else, so a replay never counts.
 */
export async function finishSigning(deps: SignRequestDeps, form: Record<string, string | undefined>): Promise<FinishResult> {
  const relayState = form.RelayState;
  if (typeof relayState !== 'string' || !/^[0-9A-Za-z_-]{16,128}$/.test(relayState)) return refused(SIGNING_ERROR_CODES.badForm, 'The signing response names no signing request.', 400);
  const consumed = await deps.store.consumeAttempt(relayState);
  if (consumed.kind === 'unknown') return refused(SIGNING_ERROR_CODES.requestIdMismatch, 'The signing response does not answer any signing request.', 400);
  if (consumed.kind === 'already-consumed') return refused('SIGNING_RESPONSE_REPLAYED', 'This signing response has already been used.', 409);
  const request = await deps.store.getRequest(consumed.requestId);
  if (!request) return refused(SIGNING_ERROR_CODES.requestIdMismatch, 'The signing request no longer exists.', 404);
  if (request.status !== 'PENDING') {
    await deps.store.noteAttemptOutcome(relayState, 'REQUEST_NOT_PENDING', 'signer');
    return refused('SIGNING_REQUEST_NOT_PENDING', `The signing request is already ${request.status.toLowerCase()}.`, 409);
  }
  const pendingParsed = Pending.safeParse(consumed.pending);
  if (!pendingParsed.success) throw new AppError('CORRUPT_ROW', `signing attempt ${relayState} holds an unreadable pending request`);
  const pending = pendingParsed.data as unknown as PendingSignRequest;

  let done;
  try {
    done = await deps.central.complete({
      form, pending, personalIdentityNumber: request.signerPnr as PersonalIdentityNumber,
      ...(request.format === 'cms' ? { contents: { [TASK_ID]: request.document } } : {}),
    });
  } catch (e) {
    if (!(e instanceof AppError)) throw e; // the attempt is consumed, the request stays PENDING: the signer may try again
    if (UNAUTHENTIC_RESPONSE.has(e.code)) {
      await deps.store.noteAttemptOutcome(relayState, e.code, 'signer');
      return refused(e.code, e.expose ? e.message : 'The signing response was refused.', e.status < 500 ? e.status : 400);
    }
    const raw = rawResponseOf(form);
    const failed = await deps.store.markFailed(request.id, { errorCode: e.code, errorMessage: e.expose ? e.message : 'The signed document could not be completed.', ...(raw ? { rawResponse: raw } : {}), dssRequestId: relayState, actor: 'signer' });
    if (!failed) return refused('SIGNING_REQUEST_NOT_PENDING', 'The signing request was completed by another response.', 409);
    return { kind: 'failed', request: failed, code: e.code, message: failed.errorMessage ?? e.message, status: e.status };
  }
  const doc = done.documents.find((d) => d.taskId === TASK_ID);
  if (!doc) throw new AppError(SIGNING_ERROR_CODES.tasks, 'the completed signing holds no document');
  const raw = rawResponseOf(form) ?? Buffer.alloc(0);
  const signed = await deps.store.markSigned(request.id, {
    signedDocument: Buffer.from(doc.bytes), detached: doc.detached, report: doc.report, rawResponse: raw, dssRequestId: relayState, actor: 'signer',
    signerInfo: {
      ...(done.signer.givenName ? { givenName: done.signer.givenName } : {}), ...(done.signer.surname ? { surname: done.signer.surname } : {}),
      ...(done.signer.displayName ? { displayName: done.signer.displayName } : {}), loa: done.loa, identityProvider: done.identityProvider, authnInstant: done.authnInstant,
    },
  });
  if (!signed) return refused('SIGNING_REQUEST_NOT_PENDING', 'The signing request was completed by another response.', 409);
  return { kind: 'signed', request: signed };
}
