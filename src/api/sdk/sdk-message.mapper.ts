// sdk.md §10 (attributes → XML mapping of the MT–MK API), §12 (confidentiality carried unchanged), §13 and
// §16.3: the API's JSON:API-style message ↔ the domain SdkMessage. Responses are allow-listed field by field.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { validationError } from '../../domain/errors.js';
import { FUNCTION_ADDRESS_ROOT, type MessageId, type ParticipantId } from '../../domain/sdk/index.js';
import type { AttentionData, InstanceIdentifier, SdkDocument, SdkMessage } from '../../domain/sdk/message.js';
import type { SdkMessageEvent, SdkMessageRecord } from '../../ports/sdk-store.port.js';

export const API_VERSION = 'sdk api 1.0.0';
export const EVENT_TYPE_MESSAGE = 'urn:event-type:sdk:message';

// Narrowing only: express-openapi-validator has already checked the body against contracts/api/parts/sdk.yaml.
// Should the router run without it, a body of the wrong shape is still refused (400), never used.
const Ii = z.object({ root: z.string(), extension: z.string(), label: z.string().optional() });
const Attention = z.object({
  subOrganization: z.object({ root: z.string().optional(), extension: z.string(), label: z.string().optional() }),
  attentionPerson: z.array(Ii).optional(),
  referenceId: z.array(Ii).optional(),
});
const Document = z.object({
  documentId: z.string(),
  documentName: z.string().optional(),
  index: z.string().optional(),
  contentTextBody: z.array(z.string()).optional(),
  contentFiles: z.array(z.object({ fileName: z.string(), contentType: z.string(), content: z.string() })).optional(),
});
const CreateAttributes = z.object({
  creationDateTime: z.string().optional(),
  messageId: z.string().optional(),
  conversationId: z.string().optional(),
  refToMessageId: z.string().optional(),
  confidentiality: z.boolean(),
  generatingSystem: z.object({ root: z.string(), extension: z.string() }).optional(),
  recipientAttention: Attention,
  senderAttention: Attention.optional(),
  sender: z.string(),
  recipient: z.string(),
  label: z.string(),
  digitalDocument: z.array(Document).optional(),
});
const CreateBody = z.object({ data: z.object({ type: z.literal('messages').optional(), id: z.string().optional(), attributes: CreateAttributes }) });

type AttentionIn = z.infer<typeof Attention>;

function attentionIn(a: AttentionIn): AttentionData {
  return {
    subOrganization: { organizationId: { root: a.subOrganization.root ?? FUNCTION_ADDRESS_ROOT, extension: a.subOrganization.extension }, ...(a.subOrganization.label !== undefined ? { label: a.subOrganization.label } : {}) },
    persons: (a.attentionPerson ?? []).map((p) => ({ personId: { root: p.root, extension: p.extension }, ...(p.label !== undefined ? { label: p.label } : {}) })),
    references: (a.referenceId ?? []).map((r) => ({ referenceId: { root: r.root, extension: r.extension }, ...(r.label !== undefined ? { label: r.label } : {}) })),
  };
}

/**
 * The create request as a domain message. The MT fills what the client may leave out (§10): messageId (a new
 * UUID), conversationId (= messageId for a new conversation, §16.3) and creationDateTime (now, toISOString form).
 */
export function toDomainMessage(body: unknown, now: Date): SdkMessage {
  const parsed = CreateBody.safeParse(body);
  if (!parsed.success) {
    throw validationError(parsed.error.issues.slice(0, 20).map((i) => ({ field: `/body/${i.path.join('/')}`, message: i.message })));
  }
  const a = parsed.data.data.attributes;
  const messageId = (a.messageId ?? randomUUID()) as MessageId;
  const documents: SdkDocument[] = (a.digitalDocument ?? []).map((d) => ({
    documentId: d.documentId,
    ...(d.documentName !== undefined ? { documentName: d.documentName } : {}),
    ...(d.index !== undefined ? { index: d.index } : {}),
    files: (d.contentFiles ?? []).map((f) => ({ fileName: f.fileName, contentType: f.contentType, content: f.content })),
    texts: d.contentTextBody ?? [],
  }));
  return {
    creationDateTime: a.creationDateTime ?? now.toISOString(),
    messageId,
    conversationId: (a.conversationId ?? messageId) as MessageId,
    ...(a.refToMessageId !== undefined ? { refToMessageId: a.refToMessageId as MessageId } : {}),
    label: a.label,
    confidentiality: a.confidentiality,
    ...(a.generatingSystem !== undefined ? { generatingSystem: { root: a.generatingSystem.root, extension: a.generatingSystem.extension } } : {}),
    recipient: { id: a.recipient as ParticipantId, attention: attentionIn(a.recipientAttention) },
    sender: { id: a.sender as ParticipantId, ...(a.senderAttention !== undefined ? { attention: attentionIn(a.senderAttention) } : {}) },
    documents,
  };
}

const ii = (i: InstanceIdentifier, label: string | undefined): Record<string, string> => ({ root: i.root, extension: i.extension, ...(label !== undefined ? { label } : {}) });

function attentionOut(a: AttentionData): Record<string, unknown> {
  const so = a.subOrganization;
  return {
    subOrganization: ii(so.organizationId, so.label),
    attentionPerson: a.persons.map((p) => (p.personId !== undefined ? ii(p.personId, p.label) : { ...(p.label !== undefined ? { label: p.label } : {}) })),
    referenceId: a.references.map((r) => ii(r.referenceId, r.label)),
  };
}

function documentsOut(docs: SdkDocument[]): Record<string, unknown>[] {
  return docs.map((d) => ({
    documentId: d.documentId,
    ...(d.documentName !== undefined ? { documentName: d.documentName } : {}),
    ...(d.index !== undefined ? { index: d.index } : {}),
    contentTextBody: d.texts,
    contentFiles: d.files.map((f) => ({ fileName: f.fileName, contentType: f.contentType, content: f.content })),
  }));
}

/** The message's `events` (sdk.md §10): title = current status, one eventIssue per recorded event, newest first. */
export function eventsOut(rec: SdkMessageRecord, events: SdkMessageEvent[]): Record<string, unknown> {
  const lastStatus = events.find((e) => e.statusChange);
  return {
    type: EVENT_TYPE_MESSAGE,
    title: rec.status,
    ...(lastStatus?.detail ? { detail: lastStatus.detail } : {}),
    instance: rec.messageId,
    eventIssues: events.map((e) => ({
      typeCode: e.typeCode,
      title: e.title,
      ...(e.detail !== null ? { detail: e.detail } : {}),
      ...(e.location !== null ? { in: e.location } : {}),
      dateTime: e.at.toISOString(),
    })),
  };
}

export interface ResourceInput {
  record: SdkMessageRecord;
  message: Omit<SdkMessage, 'documents'> & { documents?: SdkDocument[] };
  /** Only GET by id returns the documents (sdk.md §16.27). */
  withDocuments: boolean;
  events?: SdkMessageEvent[];
}

/** One `data` item: {type, id, attributes} with allow-listed attributes. */
export function toResource(input: ResourceInput): Record<string, unknown> {
  const { record: rec, message: m } = input;
  const attributes: Record<string, unknown> = {
    messageStatus: rec.status,
    creationDateTime: m.creationDateTime,
    messageId: m.messageId,
    conversationId: m.conversationId,
    ...(m.refToMessageId !== undefined ? { refToMessageId: m.refToMessageId } : {}),
    confidentiality: m.confidentiality,
    ...(m.generatingSystem !== undefined ? { generatingSystem: { root: m.generatingSystem.root, extension: m.generatingSystem.extension } } : {}),
    recipientAttention: attentionOut(m.recipient.attention),
    ...(m.sender.attention !== undefined ? { senderAttention: attentionOut(m.sender.attention) } : {}),
    sender: m.sender.id,
    recipient: m.recipient.id,
    ...(m.label !== undefined ? { label: m.label } : {}),
    ...(input.withDocuments ? { digitalDocument: documentsOut(m.documents ?? []) } : {}),
    ...(input.events !== undefined ? { events: eventsOut(rec, input.events) } : {}),
  };
  return { type: 'messages', id: rec.id, attributes };
}
