// Letters and batches on PostgreSQL (migration 0003): implements LetterTx / LetterStore.
import { conflict } from '../domain/errors.js';
import type { Queryable } from '../ports/queryable.port.js';
import type { LetterRecord, LetterStore, LetterTx, NewLetter } from '../ports/letter-store.port.js';
import type { PostalAddress } from '../ports/digital-post.port.js';

interface Raw {
  id: string; batch_id: string | null; batch_index: number | null; recipient: string; sender_org: string; sender_name: string; subject: string;
  body_type: NewLetter['bodyType']; body: Buffer | null; attachments: { filename: string; contentType: string; content: string }[];
  support_info: NewLetter['supportInfo']; language: string; reference: string | null; postal_address: PostalAddress | null; paper_allowed: boolean;
  operator_id: string | null; operator_name: string | null; service_address: string | null; prepared_request: Buffer | null; request_sha256: string | null; received_at: Date;
}

const toRecord = (r: Raw): LetterRecord => ({
  id: r.id, batchId: r.batch_id ?? undefined, batchIndex: r.batch_index ?? undefined, recipient: r.recipient, senderOrg: r.sender_org, senderName: r.sender_name,
  subject: r.subject, bodyType: r.body_type, body: r.body ?? Buffer.alloc(0), attachments: (Array.isArray(r.attachments) ? r.attachments : []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
  supportInfo: r.support_info, language: r.language, reference: r.reference ?? undefined, postalAddress: r.postal_address ?? undefined, paperAllowed: r.paper_allowed,
  operatorId: r.operator_id, operatorName: r.operator_name, serviceAddress: r.service_address, preparedRequest: r.prepared_request, requestSha256: r.request_sha256, receivedAt: r.received_at,
});

async function getLetter(db: Queryable, id: string): Promise<LetterRecord | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  // Batch letters share the batch's content (stored once).
  const { rows } = await db.query<Raw>(
    `SELECT l.id, l.batch_id, l.batch_index, l.recipient, l.sender_org, l.sender_name, l.subject, COALESCE(b.body_type, l.body_type) AS body_type,
            COALESCE(l.body, b.body) AS body, CASE WHEN l.batch_id IS NULL THEN l.attachments ELSE b.attachments END AS attachments,
            l.support_info, l.language, l.reference, l.postal_address, l.paper_allowed, l.operator_id, l.operator_name, l.service_address,
            l.prepared_request, l.request_sha256, l.received_at
       FROM letters l LEFT JOIN letter_batches b ON b.id = l.batch_id WHERE l.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

async function setPrepared(db: Queryable, id: string, p: { request: Buffer; sha256: string }): Promise<void> {
  // First bytes win: two workers preparing the same letter must not make a retry send different bytes.
  await db.query('UPDATE letters SET prepared_request = $2, request_sha256 = $3 WHERE id = $1 AND prepared_request IS NULL', [id, p.request, p.sha256]);
}

const encodeAttachments = (a: NewLetter['attachments']) => JSON.stringify(a.map((x) => ({ filename: x.filename, contentType: x.contentType, content: x.content.toString('base64') })));

export function letterTx(db: Queryable): LetterTx {
  return {
    async insert(l) {
      await db.query(
        `INSERT INTO letters (id, batch_id, batch_index, recipient, sender_org, sender_name, subject, body_type, body, attachments, support_info, language, reference, postal_address, paper_allowed)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
        [l.id, l.batchId ?? null, l.batchIndex ?? null, l.recipient, l.senderOrg, l.senderName, l.subject, l.bodyType, l.body,
          encodeAttachments(l.attachments),
          JSON.stringify(l.supportInfo), l.language, l.reference ?? null, l.postalAddress ? JSON.stringify(l.postalAddress) : null, l.paperAllowed]);
    },
    get: (id) => getLetter(db, id),
    async setTarget(id, t) {
      await db.query('UPDATE letters SET operator_id = $2, operator_name = $3, service_address = $4 WHERE id = $1', [id, t.operatorId, t.operatorName, t.serviceAddress]);
    },
    async setTargets(items) {
      if (items.length === 0) return;
      await db.query(
        `UPDATE letters l SET operator_id = i.operator_id, operator_name = i.operator_name, service_address = i.service_address
           FROM jsonb_to_recordset($1::jsonb) AS i(id uuid, operator_id text, operator_name text, service_address text) WHERE l.id = i.id`,
        [JSON.stringify(items.map((t) => ({ id: t.id, operator_id: t.operatorId, operator_name: t.operatorName, service_address: t.serviceAddress })))]);
    },
    setPrepared: (id, p) => setPrepared(db, id, p),
    async insertBatch(b) {
      const ins = await db.query<{ id: string }>(
        `INSERT INTO letter_batches (id, owner, idempotency_key, request_hash, size, body_type, body, attachments) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
         ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING id`, [b.id, b.owner, b.idempotencyKey, b.requestHash, b.size, b.bodyType, b.body, encodeAttachments(b.attachments)]);
      if (ins.rows[0]) return { id: b.id, created: true };
      const ex = await db.query<{ id: string; request_hash: string }>('SELECT id, request_hash FROM letter_batches WHERE owner = $1 AND idempotency_key = $2', [b.owner, b.idempotencyKey]);
      const row = ex.rows[0];
      if (!row || row.request_hash !== b.requestHash) throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body.');
      return { id: row.id, created: false };
    },
    async insertBatchLetters(owner, correlationId, letters) {
      const rows = letters.map((l) => ({
        id: l.id, batch_id: l.batchId ?? null, batch_index: l.batchIndex ?? null, recipient: l.recipient, sender_org: l.senderOrg, sender_name: l.senderName,
        subject: l.subject, body_type: l.bodyType, support_info: l.supportInfo, language: l.language, reference: l.reference ?? null,
        postal_address: l.postalAddress ?? null, paper_allowed: l.paperAllowed,
      }));
      const json = JSON.stringify(rows);
      await db.query(
        `INSERT INTO deliveries (id, kind, status, owner, correlation_id)
         SELECT r.id, 'letter', 'RECEIVED', $2, $3 FROM jsonb_to_recordset($1::jsonb) AS r(id uuid)`, [json, owner, correlationId ?? null]);
      await db.query(
        `INSERT INTO delivery_events (delivery_id, status) SELECT r.id, 'RECEIVED' FROM jsonb_to_recordset($1::jsonb) AS r(id uuid)`, [json]);
      await db.query(
        `INSERT INTO letters (id, batch_id, batch_index, recipient, sender_org, sender_name, subject, body_type, support_info, language, reference, postal_address, paper_allowed)
         SELECT r.id, r.batch_id, r.batch_index, r.recipient, r.sender_org, r.sender_name, r.subject, r.body_type, r.support_info, r.language, r.reference, r.postal_address, r.paper_allowed
           FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, batch_id uuid, batch_index int, recipient text, sender_org text, sender_name text, subject text,
                body_type text, support_info jsonb, language text, reference text, postal_address jsonb, paper_allowed boolean)`, [json]);
    },
  };
}

export function createLetterStore(db: Queryable): LetterStore {
  return {
    get: (id) => getLetter(db, id),
    setPrepared: (id, p) => setPrepared(db, id, p),
    async batchOwner(batchId) {
      if (!/^[0-9a-f-]{36}$/i.test(batchId)) return undefined;
      const { rows } = await db.query<{ owner: string }>('SELECT owner FROM letter_batches WHERE id = $1', [batchId]);
      return rows[0]?.owner;
    },
    async batchPending(batchId, statuses) {
      const { rows } = await db.query<{ id: string; recipient: string }>(
        `SELECT l.id, l.recipient FROM letters l JOIN deliveries d ON d.id = l.id WHERE l.batch_id = $1 AND d.status = ANY($2::text[]) ORDER BY l.batch_index`,
        [batchId, statuses]);
      return rows;
    },
    async batchLetters(batchId) {
      const { rows } = await db.query<{ id: string; batch_index: number; recipient: string; status: string; reason: string | null; channel: string | null }>(
        `SELECT l.id, l.batch_index, l.recipient, d.status, d.reason, d.channel FROM letters l JOIN deliveries d ON d.id = l.id
          WHERE l.batch_id = $1 ORDER BY l.batch_index`, [batchId]);
      return rows.map((r) => ({ id: r.id, index: r.batch_index, recipient: r.recipient, status: r.status, reason: r.reason, channel: r.channel }));
    },
  };
}
