// ../shared/specs/signing.md §2, §5.3 and §13 item 43, migration 0005: the PostgreSQL SigningStore
// (src/ports/signing-store.port.ts). Signing requests, the SignRequests sent for them (consumed once), and the
// validation evidence — with the foundation's delivery, receipt and audit rows in the same transaction.
// Rows read back are parsed, never cast (style.md §3).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import type { DocumentValidationReport } from '../domain/signing.js';
import type { Queryable } from '../ports/queryable.port.js';
import type {
  ConsumeResult, FailedOutcome, NewValidation, SignedOutcome, SignerDetails, SigningRequestRecord, SigningStore, ValidationRecord,
} from '../ports/signing-store.port.js';
import { recordAudit } from './audit-sql.js';
import { withTransaction } from './database.js';
import { addReceipt, insertDelivery, transition } from './delivery.repository.js';

export const SIGNING_KIND = 'signing';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The report is our own serialization of the domain type; its shape is checked, the rest passes through.
const Report = z.object({
  verdict: z.enum(['valid', 'invalid', 'indeterminate']),
  reason: z.string(),
  documentSha256: z.string(),
  validatorVersion: z.string(),
  validatedAt: z.string(),
  signatures: z.array(z.object({ status: z.enum(['valid', 'invalid', 'indeterminate']), reason: z.string() }).passthrough()),
}).passthrough();
const toReport = (v: unknown): DocumentValidationReport => Report.parse(v) as unknown as DocumentValidationReport;

const SignerInfo = z.object({
  givenName: z.string().optional(), surname: z.string().optional(), displayName: z.string().optional(),
  loa: z.string(), identityProvider: z.string(), authnInstant: z.string(),
});

const RequestRow = z.object({
  id: z.string(),
  owner: z.string(),
  status: z.enum(['PENDING', 'SIGNED', 'FAILED', 'EXPIRED']),
  signer_pnr: z.string(),
  sign_message: z.string(),
  case_reference: z.string().nullable(),
  content_type: z.string(),
  format: z.enum(['xml', 'pdf', 'cms']),
  document: z.instanceof(Buffer),
  document_sha256: z.string(),
  sign_token: z.string(),
  expires_at: z.date(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  signed_document: z.instanceof(Buffer).nullable(),
  signed_detached: z.boolean().nullable(),
  signer_info: SignerInfo.nullable(),
  report: z.unknown(),
  validation_id: z.string().nullable(),
  signed_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});

function toRequest(raw: unknown): SigningRequestRecord {
  const r = RequestRow.parse(raw);
  const signerInfo: SignerDetails | null = r.signer_info === null ? null : Object.fromEntries(Object.entries(r.signer_info).filter(([, v]) => v !== undefined)) as unknown as SignerDetails;
  return {
    id: r.id, owner: r.owner, status: r.status, signerPnr: r.signer_pnr, signMessage: r.sign_message, caseReference: r.case_reference,
    contentType: r.content_type, format: r.format, document: r.document, documentSha256: r.document_sha256, signToken: r.sign_token,
    expiresAt: r.expires_at, errorCode: r.error_code, errorMessage: r.error_message, signedDocument: r.signed_document,
    signedDetached: r.signed_detached, signerInfo, report: r.report === null || r.report === undefined ? null : toReport(r.report),
    validationId: r.validation_id, signedAt: r.signed_at, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

const REQUEST_COLS = `id, owner, status, signer_pnr, sign_message, case_reference, content_type, format, document, document_sha256, sign_token,
  expires_at, error_code, error_message, signed_document, signed_detached, signer_info, report, validation_id, signed_at, created_at, updated_at`;

const ValidationRow = z.object({
  id: z.string(),
  owner: z.string(),
  source: z.enum(['api', 'signing']),
  signing_request_id: z.string().nullable(),
  document_sha256: z.string(),
  detached_content_sha256: z.string().nullable(),
  document_format: z.string(),
  verdict: z.enum(['valid', 'invalid', 'indeterminate']),
  reason: z.string(),
  validator_version: z.string(),
  policy: z.string(),
  validated_at: z.date(),
  report: z.unknown(),
  has_sealed: z.boolean(),
  created_at: z.date(),
});

function toValidation(raw: unknown): ValidationRecord {
  const r = ValidationRow.parse(raw);
  return {
    id: r.id, owner: r.owner, source: r.source, signingRequestId: r.signing_request_id, documentSha256: r.document_sha256,
    detachedContentSha256: r.detached_content_sha256, documentFormat: r.document_format, verdict: r.verdict, reason: r.reason,
    validatorVersion: r.validator_version, policy: r.policy, validatedAt: r.validated_at, report: toReport(r.report),
    hasSealedEvidence: r.has_sealed, createdAt: r.created_at,
  };
}

const VALIDATION_COLS = `id, owner, source, signing_request_id, document_sha256, detached_content_sha256, document_format, verdict, reason,
  validator_version, policy, validated_at, report, sealed_evidence IS NOT NULL AS has_sealed, created_at`;

async function getRequest(db: Queryable, id: string, forUpdate = false): Promise<SigningRequestRecord | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query(`SELECT ${REQUEST_COLS} FROM signing_requests WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toRequest(rows[0]) : undefined;
}

async function insertValidation(db: Queryable, v: NewValidation): Promise<ValidationRecord> {
  const id = randomUUID();
  const r = v.report;
  const { rows } = await db.query(
    `INSERT INTO signature_validations (id, owner, source, signing_request_id, document_sha256, detached_content_sha256, document_format, verdict,
       reason, validator_version, policy, validated_at, report)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${VALIDATION_COLS}`,
    [id, v.owner, v.source, v.signingRequestId ?? null, r.documentSha256, v.detachedContentSha256 ?? null, r.documentFormat, r.verdict, r.reason,
      r.validatorVersion, r.policy, r.validatedAt, JSON.stringify(r)]);
  // Audit facts only: verdict and hash, never the signer's personnummer.
  await recordAudit(db, {
    type: 'SIGNATURE_VALIDATED', actor: v.owner, subject: id, outcome: 'success',
    details: { source: v.source, verdict: r.verdict, reason: r.reason, documentSha256: r.documentSha256, signingRequestId: v.signingRequestId ?? null },
  });
  return toValidation(rows[0]);
}

/** The PostgreSQL SigningStore. */
export function createSigningStore(pool: pg.Pool): SigningStore {
  const tx = <T>(fn: (db: pg.PoolClient) => Promise<T>): Promise<T> => withTransaction(pool, fn);

  const finish = async (
    db: pg.PoolClient, requestId: string, to: 'SIGNED' | 'FAILED',
    apply: (current: SigningRequestRecord) => Promise<void>, receipt: { raw?: Buffer; dssRequestId?: string }, outcome: string,
  ): Promise<SigningRequestRecord | undefined> => {
    const current = await getRequest(db, requestId, true);
    if (!current || current.status !== 'PENDING') return undefined;
    await apply(current);
    await transition(db, requestId, to === 'SIGNED' ? 'DELIVERED' : 'FAILED', { reason: to === 'SIGNED' ? 'SIGNED' : outcome });
    if (receipt.raw && receipt.dssRequestId) {
      await addReceipt(db, requestId, { kind: 'sign-response', externalId: receipt.dssRequestId, data: { outcome }, raw: receipt.raw });
    }
    if (receipt.dssRequestId) await db.query('UPDATE signing_attempts SET outcome = $2 WHERE dss_request_id = $1', [receipt.dssRequestId, outcome]);
    return getRequest(db, requestId);
  };

  return {
    createRequest: (r) => tx(async (db) => {
      const ins = await insertDelivery(db, { kind: SIGNING_KIND, owner: r.owner, idempotencyKey: r.idempotencyKey, requestHash: r.requestHash, correlationId: r.correlationId });
      if (!ins.created) {
        const existing = await getRequest(db, ins.delivery.id);
        if (!existing) throw new AppError('CORRUPT_ROW', `signing delivery ${ins.delivery.id} has no signing request`);
        return { request: existing, created: false };
      }
      await db.query(
        `INSERT INTO signing_requests (id, owner, signer_pnr, sign_message, case_reference, content_type, format, document, document_sha256, sign_token, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [ins.delivery.id, r.owner, r.signerPnr, r.signMessage, r.caseReference ?? null, r.contentType, r.format, r.document, r.documentSha256, r.signToken, r.expiresAt]);
      await recordAudit(db, { type: 'SIGNING_REQUEST_ACCEPTED', actor: r.owner, subject: ins.delivery.id, outcome: 'success', details: { format: r.format, documentSha256: r.documentSha256 } });
      const request = await getRequest(db, ins.delivery.id);
      if (!request) throw new AppError('CORRUPT_ROW', 'signing request vanished');
      return { request, created: true };
    }),

    getRequest: (id) => getRequest(pool, id),

    addAttempt: (requestId, dssRequestId, pending, maxAttempts, actor) => tx(async (db) => {
      const current = await getRequest(db, requestId, true);
      if (!current || current.status !== 'PENDING') return 'not-pending';
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM signing_attempts WHERE request_id = $1', [requestId]);
      if (Number(rows[0]?.n ?? 0) >= maxAttempts) return 'too-many';
      await db.query('INSERT INTO signing_attempts (dss_request_id, request_id, pending) VALUES ($1, $2, $3)', [dssRequestId, requestId, JSON.stringify(pending)]);
      await recordAudit(db, { type: 'SIGNING_STARTED', actor, subject: requestId, outcome: 'success', details: { dssRequestId } });
      return 'added';
    }),

    consumeAttempt: async (dssRequestId): Promise<ConsumeResult> => {
      const { rows } = await pool.query<{ request_id: string; pending: unknown }>(
        'UPDATE signing_attempts SET consumed_at = now() WHERE dss_request_id = $1 AND consumed_at IS NULL RETURNING request_id, pending', [dssRequestId]);
      const row = rows[0];
      if (row) return { kind: 'consumed', requestId: row.request_id, pending: row.pending };
      const seen = await pool.query<{ request_id: string }>('SELECT request_id FROM signing_attempts WHERE dss_request_id = $1', [dssRequestId]);
      return seen.rows[0] ? { kind: 'already-consumed', requestId: seen.rows[0].request_id } : { kind: 'unknown' };
    },

    noteAttemptOutcome: (dssRequestId, outcome, actor) => tx(async (db) => {
      const { rows } = await db.query<{ request_id: string }>('UPDATE signing_attempts SET outcome = $2 WHERE dss_request_id = $1 RETURNING request_id', [dssRequestId, outcome]);
      await recordAudit(db, { type: 'SIGNING_RESPONSE_REFUSED', actor, subject: rows[0]?.request_id, outcome: 'failure', details: { code: outcome, dssRequestId } });
    }),

    markSigned: (requestId, o: SignedOutcome) => tx((db) => finish(db, requestId, 'SIGNED', async (current) => {
      const evidence = await insertValidation(db, { owner: current.owner, source: 'signing', signingRequestId: requestId, ...(o.detached ? { detachedContentSha256: current.documentSha256 } : {}), report: o.report });
      await db.query(
        `UPDATE signing_requests SET status = 'SIGNED', signed_document = $2, signed_detached = $3, signer_info = $4, report = $5, validation_id = $6,
           signed_at = now(), updated_at = now() WHERE id = $1`,
        [requestId, o.signedDocument, o.detached, JSON.stringify(o.signerInfo), JSON.stringify(o.report), evidence.id]);
      await recordAudit(db, { type: 'SIGNING_COMPLETED', actor: o.actor, subject: requestId, outcome: 'success', details: { dssRequestId: o.dssRequestId, loa: o.signerInfo.loa, validationId: evidence.id } });
    }, { raw: o.rawResponse, dssRequestId: o.dssRequestId }, 'SIGNED')),

    markFailed: (requestId, o: FailedOutcome) => tx((db) => finish(db, requestId, 'FAILED', async () => {
      await db.query(`UPDATE signing_requests SET status = 'FAILED', error_code = $2, error_message = $3, updated_at = now() WHERE id = $1`, [requestId, o.errorCode, o.errorMessage]);
      await recordAudit(db, { type: 'SIGNING_COMPLETED', actor: o.actor, subject: requestId, outcome: 'failure', details: { code: o.errorCode, dssRequestId: o.dssRequestId ?? null } });
    }, { ...(o.rawResponse ? { raw: o.rawResponse } : {}), ...(o.dssRequestId ? { dssRequestId: o.dssRequestId } : {}) }, o.errorCode)),

    markExpired: (requestId) => tx(async (db) => {
      const current = await getRequest(db, requestId, true);
      if (!current || current.status !== 'PENDING') return undefined;
      await db.query(`UPDATE signing_requests SET status = 'EXPIRED', error_code = 'SIGNING_REQUEST_EXPIRED', updated_at = now() WHERE id = $1`, [requestId]);
      await transition(db, requestId, 'CANCELLED', { reason: 'SIGNING_REQUEST_EXPIRED' });
      await recordAudit(db, { type: 'SIGNING_EXPIRED', actor: 'system', subject: requestId, outcome: 'failure' });
      return getRequest(db, requestId);
    }),

    insertValidation: (v) => tx((db) => insertValidation(db, v)),

    getValidation: async (id) => {
      if (!UUID.test(id)) return undefined;
      const { rows } = await pool.query(`SELECT ${VALIDATION_COLS} FROM signature_validations WHERE id = $1`, [id]);
      return rows[0] ? toValidation(rows[0]) : undefined;
    },

    getSealedEvidence: async (id) => {
      if (!UUID.test(id)) return undefined;
      const { rows } = await pool.query<{ sealed_evidence: Buffer | null }>('SELECT sealed_evidence FROM signature_validations WHERE id = $1', [id]);
      return rows[0]?.sealed_evidence ?? undefined;
    },

    storeSealedEvidence: (id, sealed, actor) => tx(async (db) => {
      const { rows } = await db.query<{ id: string }>('UPDATE signature_validations SET sealed_evidence = $2 WHERE id = $1 AND sealed_evidence IS NULL RETURNING id', [id, sealed]);
      if (rows[0]) {
        await recordAudit(db, { type: 'EVIDENCE_SEALED', actor, subject: id, outcome: 'success' });
        return sealed;
      }
      const existing = await db.query<{ sealed_evidence: Buffer | null }>('SELECT sealed_evidence FROM signature_validations WHERE id = $1', [id]);
      const stored = existing.rows[0]?.sealed_evidence;
      if (!stored) throw new AppError('NOT_FOUND', 'The validation was not found.', { status: 404 });
      return stored;
    }),
  };
}
