// sdk.md §10, §13, §16.22 and migration 0004: the PostgreSQL SdkStore (src/ports/sdk-store.port.ts). SDK rows,
// their events, inbound envelopes and — through the foundation's repositories, in the same transaction —
// deliveries, receipts, outbox rows and audit events. Rows read back are parsed, never cast (style.md §3).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { parseJsonBytes } from '../lib/large-json.js';
import { attachmentsInPayload } from '../domain/sdk/attachments-in-payload.js';
import type { SdkMessage } from '../domain/sdk/message.js';
import { canTransition, isMessageStatus, type MessageStatus } from '../domain/sdk/status.js';
import type { Queryable } from '../ports/queryable.port.js';
import type { AccessPointRouting } from '../ports/sdk.port.js';
import type {
  InboundEnvelopeHead, InboundEnvelopeRecord, InboundEnvelopeUpdate, NewSdkEventLine, NewSdkMessage, SdkListQuery, SdkMessageEvent, SdkMessageRecord,
  SdkMessageSummary, SdkStore, SdkUnitOfWork,
} from '../ports/sdk-store.port.js';
import { recordAudit } from './audit-sql.js';
import { withTransaction } from './database.js';
import { PARTED_WRITE_FROM_BYTES, writeBytea } from './large-value.js';
import { addReceipt, getDelivery, insertDelivery, transition } from './delivery.repository.js';
import { insertOutbox, markOutboxDone } from './outbox.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const MessageRow = z.object({
  id: z.string(),
  direction: z.enum(['out', 'in']),
  delivery_id: z.string().nullable(),
  message_id: z.string(),
  conversation_id: z.string(),
  ref_to_message_id: z.string().nullable(),
  sender: z.string(),
  recipient: z.string(),
  sender_address: z.string().nullable(),
  recipient_address: z.string(),
  own_address: z.string(),
  confidentiality: z.boolean(),
  creation_date_time: z.string(),
  status: z.string().refine(isMessageStatus, 'unknown SDK status'),
  transport_message_id: z.string().nullable(),
  stored_at: z.date(),
  updated_at: z.date(),
  deleted_at: z.date().nullable(),
});

const COLS = `id, direction, delivery_id, message_id, conversation_id, ref_to_message_id, sender, recipient, sender_address,
  recipient_address, own_address, confidentiality, creation_date_time, status, transport_message_id, stored_at, updated_at, deleted_at`;

function toRecord(raw: unknown): SdkMessageRecord {
  const r = MessageRow.parse(raw);
  return {
    id: r.id, direction: r.direction, deliveryId: r.delivery_id, messageId: r.message_id, conversationId: r.conversation_id,
    refToMessageId: r.ref_to_message_id, sender: r.sender, recipient: r.recipient, senderAddress: r.sender_address,
    recipientAddress: r.recipient_address, ownAddress: r.own_address, confidentiality: r.confidentiality,
    creationDateTime: r.creation_date_time, status: r.status as MessageStatus, transportMessageId: r.transport_message_id,
    storedAt: r.stored_at, updatedAt: r.updated_at, deletedAt: r.deleted_at,
  };
}

const Routing = z.object({
  originalSender: z.string(), finalRecipient: z.string(), documentId: z.string(), processId: z.string(), xheId: z.string(), conversationId: z.string().optional(),
});
const toRouting = (v: unknown): AccessPointRouting => Routing.parse(v) as AccessPointRouting;

// The stored message is our own serialization of the domain type; only its shape is checked here.
const StoredMessage = z.object({ messageId: z.string(), conversationId: z.string(), confidentiality: z.boolean(), recipient: z.object({}).passthrough(), sender: z.object({}).passthrough() }).passthrough();
const toMessage = (v: unknown): SdkMessage => StoredMessage.parse(v) as unknown as SdkMessage;

// ---------------------------------------------------------------------------------------------------------
// Large values (issue 7 "Must show": peak memory ≤ 3 × a 30 MB message). node-postgres reads a whole DataRow
// into one buffer that grows by doubling and hands bytea over as hex text, so one 40 MB envelope read in one
// piece costs about ten times its size. Values above LARGE_VALUE_BYTES are therefore read as pieces — one
// query, one row per piece, each copied at its offset into a Buffer of the final size — and large values are
// written one per statement (a Bind message holding two of them grows its buffer by copying).

/** Values larger than this are read in pieces. */
export const LARGE_VALUE_BYTES = 1024 * 1024;
/**
 * Size of one piece: a multiple of 3 (its base64 text has no padding inside the value) and small enough that
 * its text and the socket buffers it arrives in stay in V8's young generation and are collected as they go.
 */
const PIECE_BYTES = 48 * 1024;

type Client = Pick<pg.PoolClient, 'query'>;

/**
 * Stream the pieces of the bytea `expr` (an SQL expression over `source`, which selects exactly one row) to
 * `onPiece` as text: base64 (`encode`), or the bytes themselves when `ascii` (the value is known to be ASCII).
 * One query, one row per piece, nothing accumulated; bytea never travels as hex (twice its size).
 */
async function streamPieces(client: Client, expr: string, source: string, params: unknown[], ascii: boolean, onPiece: (at: number, total: number, text: string) => void): Promise<void> {
  const n = params.length;
  const piece = ascii ? `convert_from(substring(v.b FROM g.i FOR $${n + 1}), 'UTF8')` : `encode(substring(v.b FROM g.i FOR $${n + 1}), 'base64')`;
  // MATERIALIZED: the value is computed (detoasted, converted) once, not once per piece.
  const sql = `WITH v AS MATERIALIZED (SELECT ${expr} AS b ${source})
    SELECT g.i AS at, octet_length(v.b) AS total, ${piece} AS part
    FROM v CROSS JOIN LATERAL generate_series(1, greatest(octet_length(v.b), 1), $${n + 1}) AS g(i)`;
  await new Promise<void>((resolve, reject) => {
    const q = new pg.Query<{ at: number; total: number; part: string | null }>(sql, [...params, PIECE_BYTES]);
    q.on('row', (row: { at: number; total: number; part: string | null }) => onPiece(row.at - 1, row.total, row.part ?? ''));
    q.on('error', reject);
    q.on('end', () => resolve());
    void (client.query as unknown as (q: pg.Query) => unknown)(q);
  });
}

/** The bytea `expr` of the one row `source` selects, read in pieces into a Buffer of its size; null without a row. */
async function readInPieces(client: Client, expr: string, source: string, params: unknown[]): Promise<Buffer | null> {
  let out: Buffer | null = null;
  let filled = 0;
  await streamPieces(client, expr, source, params, false, (at, total, text) => {
    out ??= Buffer.allocUnsafe(total);
    filled += out.write(text, at, 'base64');
  });
  const result = out as Buffer | null;
  if (result !== null && filled !== result.length) throw new AppError('SDK_STORE_READ_INCOMPLETE', 'a large value was read incompletely', { retryable: true });
  return result;
}

/**
 * Like readInPieces for a bytea known to hold ASCII text, returned as that text (no Buffer in between); null
 * without a row or when the value is NULL.
 */
async function readAsciiInPieces(client: Client, expr: string, source: string, params: unknown[]): Promise<string | null> {
  const parts: string[] = [];
  let size: number | null = -1;
  let filled = 0;
  await streamPieces(client, expr, source, params, true, (at, total, text) => {
    if (at !== filled) throw new AppError('SDK_STORE_READ_INCOMPLETE', 'pieces of a large value arrived out of order', { retryable: true });
    size = total;
    parts.push(text);
    filled += text.length;
  });
  if (size === -1 || size === null) return null;
  if (filled !== size) throw new AppError('SDK_STORE_READ_INCOMPLETE', 'a large value was read incompletely', { retryable: true });
  return parts.join('');
}

/** Run `fn` on a connection: the transaction's own, or one borrowed from the pool. */
async function withClient<T>(db: Queryable, fn: (c: Client) => Promise<T>): Promise<T> {
  if (typeof (db as Partial<pg.Pool>).totalCount === 'number') {
    const pool = db as pg.Pool;
    const c = await pool.connect();
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }
  return fn(db as unknown as Client);
}

/** The column as it would be selected, or NULL when larger than LARGE_VALUE_BYTES (then read it with readInPieces). */
const smallBytea = (col: string, as = col): string => `CASE WHEN octet_length(${col}) > ${LARGE_VALUE_BYTES} THEN NULL ELSE ${col} END AS ${as}, octet_length(${col}) AS ${as}_length`;
const smallJsonb = (col: string, as = col): string => `CASE WHEN pg_column_size(${col}) > ${LARGE_VALUE_BYTES} THEN NULL ELSE ${col} END AS ${as}, pg_column_size(${col}) > ${LARGE_VALUE_BYTES} AS ${as}_large`;

/**
 * Large values that never change once written, by row id, while some caller still holds them: reading the same
 * one again (the inbound job reads its envelope row several times while it holds the bytes) hands out the
 * same Buffer instead of a new 40 MB copy. Callers treat these Buffers as read-only, as they do all stored bytes.
 */
type ImmutableCache = Map<string, WeakRef<Buffer>>;

/** A bytea column of the row: from the row when small, else in pieces (or from `cache`, for immutable columns). */
async function byteaColumn(db: Queryable, row: Record<string, unknown>, col: string, table: string, id: string, cache?: ImmutableCache): Promise<Buffer | null> {
  const length = row[`${col}_length`] as number | null;
  if (length === null || length <= LARGE_VALUE_BYTES) return (row[col] as Buffer | null) ?? null;
  const key = `${table}.${col}.${id}`;
  const held = cache?.get(key)?.deref();
  if (held !== undefined && held.length === length) return held;
  const read = await withClient(db, (c) => readInPieces(c, col, `FROM ${table} WHERE id = $1`, [id]));
  if (read !== null && cache !== undefined) {
    for (const [k, ref] of cache) if (ref.deref() === undefined) cache.delete(k);
    cache.set(key, new WeakRef(read));
  }
  return read;
}

/** A jsonb column of the row: from the row when small, else as text in pieces, parsed once. */
async function jsonbColumn(db: Queryable, row: Record<string, unknown>, col: string, table: string, id: string): Promise<unknown> {
  if (row[`${col}_large`] !== true) return row[col];
  const text = await withClient(db, (c) => readInPieces(c, `convert_to(${col}::text, 'UTF8')`, `FROM ${table} WHERE id = $1`, [id]));
  // The attachments are copied once from the bytes, not through a full-size text (src/lib/large-json.ts).
  return text === null ? null : parseJsonBytes(text);
}

// ---------------------------------------------------------------------------------------------------------
// Attachments are stored once (src/domain/sdk/attachments-in-payload.ts): a large attachment found in the
// payload is stored as its byte range and read back from there. Payload and message are written together
// and cleared together.

/** The message as stored: large attachments found in the payload are replaced by their byte range. */
function storedMessageJson(msg: SdkMessage, payload: Buffer): string {
  return JSON.stringify(attachmentsInPayload(msg, payload));
}

const PayloadRangeSchema = z.object({ offset: z.number().int().nonnegative(), length: z.number().int().nonnegative() });

/**
 * Put the attachments stored as payload ranges back (see above). Undefined when the payload is gone: the
 * message was deleted between the two reads.
 */
async function withContents(db: Queryable, id: string, stored: unknown): Promise<unknown> {
  const docs = (stored as { documents?: unknown }).documents;
  if (!Array.isArray(docs)) return stored;
  for (const d of docs as Array<{ files?: unknown }>) {
    if (!Array.isArray(d.files)) continue;
    for (const f of d.files as Array<Record<string, unknown>>) {
      if (f.contentInPayload === undefined) continue;
      const range = PayloadRangeSchema.parse(f.contentInPayload);
      // Checked to be printable ASCII when it was written: read as text, straight into the string.
      const text = await withClient(db, (c) => readAsciiInPieces(c, 'substring(payload FROM $2 FOR $3)', 'FROM sdk_messages WHERE id = $1', [id, range.offset + 1, range.length]));
      if (text === null) return undefined;
      if (text.length !== range.length) throw new AppError('SDK_STORE_READ_INCOMPLETE', 'an attachment could not be read back from the payload', { retryable: true });
      f.content = text;
      delete f.contentInPayload;
    }
  }
  return stored;
}

const EnvelopeHeadRow = z.object({
  id: z.string(),
  transport_message_id: z.string(),
  routing: z.unknown(),
  received_at: z.date(),
  state: z.enum(['received', 'judged', 'receipt-submitted', 'receipt-acknowledged', 'receipt-failed', 'no-receipt', 'receipt-applied', 'receipt-ignored', 'receipt-refused']),
  kind: z.enum(['message', 'receipt']).nullable(),
  xhe_id: z.string().nullable(),
  sender: z.string().nullable(),
  verdict: z.record(z.string(), z.unknown()).nullable(),
  receipt_envelope: z.instanceof(Buffer).nullable(),
  receipt_xhe_id: z.string().nullable(),
  receipt_routing: z.unknown().nullable(),
});
const ENV_HEAD_COLS = `id, transport_message_id, routing, received_at, state, kind, xhe_id, sender, verdict, ${smallBytea('receipt_envelope')}, receipt_xhe_id, receipt_routing`;
const ENV_COLS = `${ENV_HEAD_COLS}, ${smallBytea('envelope')}`;

/** An inbound envelope row with its large values read (see "Large values"; `envelope` is written once, at insert). */
async function toEnvelope(db: Queryable, raw: Record<string, unknown>, cache: ImmutableCache): Promise<InboundEnvelopeRecord> {
  const envelope = z.instanceof(Buffer).parse(await byteaColumn(db, raw, 'envelope', 'sdk_inbound_envelopes', String(raw.id), cache));
  return { ...(await toEnvelopeHead(db, raw)), envelope };
}

/** An inbound envelope row without the envelope (ENV_HEAD_COLS). */
async function toEnvelopeHead(db: Queryable, raw: Record<string, unknown>): Promise<InboundEnvelopeHead> {
  const id = String(raw.id);
  const r = EnvelopeHeadRow.parse({ ...raw, receipt_envelope: await byteaColumn(db, raw, 'receipt_envelope', 'sdk_inbound_envelopes', id) });
  return {
    id: r.id, transportMessageId: r.transport_message_id, routing: toRouting(r.routing), receivedAt: r.received_at,
    state: r.state, kind: r.kind, xheId: r.xhe_id, sender: r.sender, verdict: r.verdict, receiptEnvelope: r.receipt_envelope,
    receiptXheId: r.receipt_xhe_id, receiptRouting: r.receipt_routing === null ? null : toRouting(r.receipt_routing),
  };
}

async function getInboundEnvelopeHead(db: Queryable, id: string, forUpdate = false): Promise<InboundEnvelopeHead | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query(`SELECT ${ENV_HEAD_COLS} FROM sdk_inbound_envelopes WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] === undefined ? undefined : toEnvelopeHead(db, rows[0]);
}

async function getMessage(db: Queryable, id: string, forUpdate = false): Promise<SdkMessageRecord | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query(`SELECT ${COLS} FROM sdk_messages WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}

async function addEvent(db: Queryable, id: string, statusChange: boolean, e: NewSdkEventLine): Promise<void> {
  await db.query('INSERT INTO sdk_message_events (sdk_message_id, status_change, type_code, title, detail, location) VALUES ($1, $2, $3, $4, $5, $6)',
    [id, statusChange, e.typeCode, e.title, e.detail ?? null, e.location ?? null]);
}

async function insertMessage(db: Queryable, m: NewSdkMessage): Promise<{ record: SdkMessageRecord; created: boolean }> {
  const msg = m.message;
  const senderAddress = msg.sender.attention?.subOrganization.organizationId.extension ?? null;
  const recipientAddress = msg.recipient.attention.subOrganization.organizationId.extension;
  const ownAddress = m.direction === 'out' ? senderAddress : recipientAddress;
  if (ownAddress === null) throw new AppError('SDK_NO_SENDER_ADDRESS', 'An outbound message needs a sender function address.', { status: 400 });
  const creationTime = new Date(msg.creationDateTime);
  if (Number.isNaN(creationTime.getTime())) throw new AppError('SDK_BAD_TIMESTAMP', 'creationDateTime is not a date-time.', { status: 400 });
  // The resource id is the messageId unless another row holds it (our organisation sending to itself).
  const taken = await db.query('SELECT 1 FROM sdk_messages WHERE id = $1', [m.preferredId]);
  const id = taken.rows.length === 0 ? m.preferredId : randomUUID();
  const conflict = m.direction === 'in' ? 'ON CONFLICT ((lower(sender)), message_id) WHERE direction = \'in\' DO NOTHING' : '';
  // A large payload or envelope gets a statement of its own (see "Large values"); all is written in this
  // transaction before anyone can read the row.
  const separate = m.payload.length + (m.envelope?.length ?? 0) > LARGE_VALUE_BYTES;
  const { rows } = await db.query(
    `INSERT INTO sdk_messages (id, direction, delivery_id, inbound_envelope_id, message_id, conversation_id, ref_to_message_id, sender, recipient,
       sender_address, recipient_address, own_address, confidentiality, creation_date_time, creation_time, status, message, payload, envelope)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ${conflict}
     RETURNING ${COLS}`,
    [id, m.direction, m.deliveryId ?? null, m.inboundEnvelopeId ?? null, msg.messageId, msg.conversationId, msg.refToMessageId ?? null, msg.sender.id,
      msg.recipient.id, senderAddress, recipientAddress, ownAddress, msg.confidentiality, msg.creationDateTime, creationTime, m.status,
      storedMessageJson(msg, m.payload), separate ? null : m.payload, separate ? null : (m.envelope ?? null)]);
  if (rows[0] !== undefined) {
    if (separate) {
      await writeBytea(db, { table: 'sdk_messages', column: 'payload', id }, m.payload);
      if (m.envelope !== undefined) await writeBytea(db, { table: 'sdk_messages', column: 'envelope', id }, m.envelope);
    }
    await addEvent(db, id, true, { typeCode: m.status, title: m.title });
    return { record: toRecord(rows[0]), created: true };
  }
  const existing = await db.query(`SELECT ${COLS} FROM sdk_messages WHERE direction = 'in' AND lower(sender) = lower($1) AND message_id = $2`, [msg.sender.id, msg.messageId]);
  if (existing.rows[0] === undefined) throw new AppError('SDK_INSERT_RACE', 'the inbound message vanished', { retryable: true });
  return { record: toRecord(existing.rows[0]), created: false };
}

async function setStatus(db: Queryable, id: string, to: MessageStatus, title: string, lines: NewSdkEventLine[] = [], detail?: string): Promise<SdkMessageRecord> {
  const current = await getMessage(db, id, true);
  if (current === undefined) throw new AppError('NOT_FOUND', 'SDK message not found', { status: 404 });
  if (!canTransition(current.status, to)) throw new AppError('SDK_ILLEGAL_TRANSITION', `an SDK message cannot go from ${current.status} to ${to}`);
  const { rows } = await db.query(`UPDATE sdk_messages SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLS}`, [id, to]);
  // Detail lines first, then the status event: listed newest first, the change comes first and the lines that
  // explain it follow it, so eventIssues[0] is always the current status.
  for (const l of lines) await addEvent(db, id, false, l);
  await addEvent(db, id, true, { typeCode: to, title, ...(detail !== undefined ? { detail } : {}) });
  return toRecord(rows[0]);
}

function unitOfWork(tx: pg.PoolClient, cache: ImmutableCache): SdkUnitOfWork {
  return {
    insertDelivery: (d) => insertDelivery(tx, d),
    getDelivery: (id, o) => getDelivery(tx, id, o),
    transitionDelivery: (id, to, o) => transition(tx, id, to, o),
    addReceipt: (id, r) => addReceipt(tx, id, r),
    insertOutbox: (kind, refId, corr) => insertOutbox(tx, kind, refId, corr),
    completeOutbox: (id) => markOutboxDone(tx, id),
    audit: (e) => recordAudit(tx, e),

    insertMessage: (m) => insertMessage(tx, m),
    getMessage: (id, o) => getMessage(tx, id, o?.forUpdate ?? false),
    async getMessageByDelivery(deliveryId) {
      const { rows } = await tx.query(`SELECT ${COLS} FROM sdk_messages WHERE delivery_id = $1`, [deliveryId]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async findOutboundForUpdate(messageId) {
      if (!UUID.test(messageId)) return undefined;
      const { rows } = await tx.query(`SELECT ${COLS} FROM sdk_messages WHERE direction = 'out' AND message_id = $1 FOR UPDATE`, [messageId]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async getContent(id) {
      const { rows } = await tx.query<Record<string, unknown> & { routing: unknown; deleted_at: Date | null }>(
        `SELECT ${smallJsonb('message')}, ${smallBytea('envelope')}, routing, deleted_at FROM sdk_messages WHERE id = $1`, [id]);
      const r = rows[0];
      if (r === undefined || r.deleted_at !== null) return undefined;
      const message = await withContents(tx, id, await jsonbColumn(tx, r, 'message', 'sdk_messages', id));
      if (message === undefined) return undefined;
      return {
        message: toMessage(message),
        envelope: await byteaColumn(tx, r, 'envelope', 'sdk_messages', id),
        routing: r.routing === null ? null : toRouting(r.routing),
      };
    },
    async getSendContent(id) {
      const { rows } = await tx.query<Record<string, unknown> & { routing: unknown; deleted_at: Date | null; sealed: boolean }>(
        `SELECT ${smallJsonb('message')}, ${smallBytea('envelope')}, routing, deleted_at, envelope IS NOT NULL AS sealed,
           CASE WHEN envelope IS NULL AND octet_length(payload) <= ${LARGE_VALUE_BYTES} THEN payload END AS payload,
           CASE WHEN envelope IS NULL THEN octet_length(payload) END AS payload_length
         FROM sdk_messages WHERE id = $1`, [id]);
      const r = rows[0];
      if (r === undefined || r.deleted_at !== null) return undefined;
      const stored = await jsonbColumn(tx, r, 'message', 'sdk_messages', id);
      return {
        header: toMessage(stored),
        payload: r.sealed ? null : await byteaColumn(tx, r, 'payload', 'sdk_messages', id),
        envelope: await byteaColumn(tx, r, 'envelope', 'sdk_messages', id),
        routing: r.routing === null ? null : toRouting(r.routing),
      };
    },
    setStatus: (id, to, title, lines, detail) => setStatus(tx, id, to, title, lines, detail),
    async setEnvelope(id, envelope, routing) {
      await tx.query('UPDATE sdk_messages SET routing = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(routing)]);
      await writeBytea(tx, { table: 'sdk_messages', column: 'envelope', id }, envelope);
    },
    async setTransportMessageId(id, transportMessageId) {
      await tx.query('UPDATE sdk_messages SET transport_message_id = $2, updated_at = now() WHERE id = $1', [id, transportMessageId]);
    },
    async markDeleted(id) {
      await tx.query("UPDATE sdk_messages SET deleted_at = now(), message = '{}'::jsonb, payload = NULL, updated_at = now() WHERE id = $1", [id]);
    },

    async insertInboundEnvelope(e) {
      // A large envelope is written in parts right after the row (same transaction; see large-value.ts).
      const parted = e.envelope.length > PARTED_WRITE_FROM_BYTES;
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO sdk_inbound_envelopes (id, transport_message_id, envelope, routing, received_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (transport_message_id) DO NOTHING RETURNING id`,
        [e.id, e.transportMessageId, parted ? Buffer.alloc(0) : e.envelope, JSON.stringify(e.routing), e.receivedAt]);
      if (rows[0] !== undefined) {
        if (parted) await writeBytea(tx, { table: 'sdk_inbound_envelopes', column: 'envelope', id: rows[0].id }, e.envelope);
        return { id: rows[0].id, created: true };
      }
      const existing = await tx.query<{ id: string }>('SELECT id FROM sdk_inbound_envelopes WHERE transport_message_id = $1', [e.transportMessageId]);
      return { id: existing.rows[0]?.id ?? e.id, created: false };
    },
    async getInboundEnvelope(id, o) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await tx.query(`SELECT ${ENV_COLS} FROM sdk_inbound_envelopes WHERE id = $1${o?.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
      return rows[0] === undefined ? undefined : toEnvelope(tx, rows[0], cache);
    },
    getInboundEnvelopeHead: (id, o) => getInboundEnvelopeHead(tx, id, o?.forUpdate ?? false),
    async updateInboundEnvelope(id, u: InboundEnvelopeUpdate) {
      await tx.query(
        `UPDATE sdk_inbound_envelopes SET
           state = COALESCE($2, state), kind = COALESCE($3, kind), xhe_id = COALESCE($4, xhe_id), sender = COALESCE($5, sender),
           verdict = COALESCE($6::jsonb, verdict), no_receipt_reason = COALESCE($7, no_receipt_reason),
           receipt_envelope = COALESCE($8, receipt_envelope), receipt_xhe_id = COALESCE($9, receipt_xhe_id),
           receipt_routing = COALESCE($10::jsonb, receipt_routing), receipt_transport_message_id = COALESCE($11, receipt_transport_message_id),
           processed_at = CASE WHEN $12 THEN now() ELSE processed_at END
         WHERE id = $1`,
        [id, u.state ?? null, u.kind ?? null, u.xheId ?? null, u.sender ?? null, u.verdict === undefined ? null : JSON.stringify(u.verdict),
          u.noReceiptReason ?? null, u.receipt?.envelope ?? null, u.receipt?.xheId ?? null, u.receipt === undefined ? null : JSON.stringify(u.receipt.routing),
          u.receiptTransportMessageId ?? null, u.processed === true]);
    },
    async findByReceiptXheIdForUpdate(receiptXheId) {
      const { rows } = await tx.query(`SELECT ${ENV_HEAD_COLS} FROM sdk_inbound_envelopes WHERE receipt_xhe_id = $1 FOR UPDATE`, [receiptXheId]);
      return rows[0] === undefined ? undefined : toEnvelopeHead(tx, rows[0]);
    },
    async getMessageByInboundEnvelope(inboundEnvelopeId) {
      const { rows } = await tx.query(`SELECT ${COLS} FROM sdk_messages WHERE inbound_envelope_id = $1`, [inboundEnvelopeId]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
  };
}

/** The PostgreSQL SdkStore. */
export function createSdkStore(pool: pg.Pool): SdkStore {
  const cache: ImmutableCache = new Map();
  return {
    transaction: (fn) => withTransaction(pool, (tx) => fn(unitOfWork(tx, cache))),
    getMessage: (id) => getMessage(pool, id),
    async getContent(id) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await pool.query<Record<string, unknown> & { deleted_at: Date | null }>(`SELECT ${smallJsonb('message')}, deleted_at FROM sdk_messages WHERE id = $1`, [id]);
      const r = rows[0];
      if (r === undefined || r.deleted_at !== null) return undefined;
      const message = await withContents(pool, id, await jsonbColumn(pool, r, 'message', 'sdk_messages', id));
      return message === undefined ? undefined : { message: toMessage(message) };
    },
    async listMessages(q: SdkListQuery) {
      if (q.visibleAddresses.length === 0) return { items: [], total: 0 };
      const values: unknown[] = [q.visibleAddresses, q.hiddenInboundStatuses];
      const where = ['own_address = ANY($1::text[])', 'deleted_at IS NULL', "NOT (direction = 'in' AND status = ANY($2::text[]))"];
      const add = (sql: string, v: unknown): void => {
        values.push(v);
        where.push(sql.replace('?', `$${values.length}`));
      };
      if (q.status !== undefined) add('status = ?', q.status);
      if (q.recipientAddress !== undefined) add('recipient_address = ?', q.recipientAddress);
      if (q.senderAddress !== undefined) add('sender_address = ?', q.senderAddress);
      if (q.createdFrom !== undefined) add('creation_time >= ?', q.createdFrom);
      if (q.createdTo !== undefined) add('creation_time <= ?', q.createdTo);
      const filter = where.join(' AND ');
      const total = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sdk_messages WHERE ${filter}`, values);
      // Listings never carry the documents (sdk.md §16.27), so they are not even read.
      const { rows } = await pool.query<Record<string, unknown>>(
        `SELECT ${COLS}, message - 'documents' AS header FROM sdk_messages WHERE ${filter}
         ORDER BY creation_time DESC, id LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
        [...values, q.limit, q.offset]);
      const items: SdkMessageSummary[] = rows.map((r) => ({ ...toRecord(r), header: toMessage({ ...(r.header as object), documents: [] }) }));
      return { items, total: total.rows[0]?.n ?? 0 };
    },
    async listEvents(id) {
      const { rows } = await pool.query<{ status_change: boolean; type_code: string; title: string; detail: string | null; location: string | null; at: Date }>(
        'SELECT status_change, type_code, title, detail, location, at FROM sdk_message_events WHERE sdk_message_id = $1 ORDER BY id DESC', [id]);
      return rows.map((r): SdkMessageEvent => ({ statusChange: r.status_change, typeCode: r.type_code, title: r.title, detail: r.detail, location: r.location, at: r.at }));
    },
    async getInboundEnvelope(id) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await pool.query(`SELECT ${ENV_COLS} FROM sdk_inbound_envelopes WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toEnvelope(pool, rows[0], cache);
    },
    getInboundEnvelopeHead: (id) => getInboundEnvelopeHead(pool, id),
    async isOwnFunctionAddress(address) {
      const { rows } = await pool.query('SELECT 1 FROM function_addresses WHERE address = $1', [address]);
      return rows.length > 0;
    },
    async inboundExists(sender, messageId) {
      if (!UUID.test(messageId)) return false;
      const { rows } = await pool.query("SELECT 1 FROM sdk_messages WHERE direction = 'in' AND lower(sender) = lower($1) AND message_id = $2", [sender, messageId]);
      return rows.length > 0;
    },
    async referencedState(messageId) {
      if (!UUID.test(messageId)) return 'unknown';
      const rejected = await pool.query("SELECT 1 FROM sdk_inbound_envelopes WHERE kind = 'message' AND lower(xhe_id) = lower($1) AND verdict->>'status' = 'REJECTED' LIMIT 1", [messageId]);
      if (rejected.rows.length > 0) return 'rejected';
      const known = await pool.query('SELECT 1 FROM sdk_messages WHERE message_id = $1 LIMIT 1', [messageId]);
      return known.rows.length > 0 ? 'known' : 'unknown';
    },
    async overdueOutbound(before, limit) {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT m.id FROM sdk_messages m
          WHERE m.direction = 'out' AND m.status IN ('SUBMITTED', 'SCHEDULED_FOR_RESEND', 'ACKNOWLEDGE', 'WAITING_FOR_RECEIPT')
            AND (SELECT min(e.at) FROM sdk_message_events e WHERE e.sdk_message_id = m.id AND e.type_code = 'SUBMITTED') < $1
          ORDER BY m.stored_at LIMIT $2`,
        [before, limit]);
      return rows.map((r) => r.id);
    },
  };
}
