// Persistence of letters (digital post, issue 5): content kept until delivered or printed, the prepared
// request resent unchanged on retries (digital-post.md §6.6 rule 7), and mass-mailing batches.
import type { PostalAddress } from './digital-post.port.js';

export interface LetterAttachment { filename: string; contentType: string; content: Buffer }

export interface NewLetter {
  id: string;
  batchId?: string;
  batchIndex?: number;
  /** Wire form: 12 digits, or 16 + organisation number. */
  recipient: string;
  senderOrg: string;
  senderName: string;
  subject: string;
  bodyType: 'text/plain' | 'text/html' | 'application/pdf';
  body: Buffer;
  attachments: LetterAttachment[];
  supportInfo: { text: string; url?: string; phoneNumber?: string; emailAddress?: string };
  language: string;
  reference?: string;
  postalAddress?: PostalAddress;
  paperAllowed: boolean;
}

export interface LetterRecord extends NewLetter {
  operatorId: string | null;
  operatorName: string | null;
  serviceAddress: string | null;
  preparedRequest: Buffer | null;
  requestSha256: string | null;
  receivedAt: Date;
}

export interface DeliveryTargetRow { operatorId: string; operatorName: string; serviceAddress: string }

export interface LetterTx {
  insert(letter: NewLetter): Promise<void>;
  get(id: string): Promise<LetterRecord | undefined>;
  setTarget(id: string, t: { operatorId: string; operatorName: string; serviceAddress: string }): Promise<void>;
  /** setTarget for many letters in one statement (a routed batch). */
  setTargets(items: readonly ({ id: string } & DeliveryTargetRow)[]): Promise<void>;
  setPrepared(id: string, p: { request: Buffer; sha256: string }): Promise<void>;
  /** A batch row with the shared content, or the existing one for the same owner + key (409 when the body differs). */
  insertBatch(b: { id: string; owner: string; idempotencyKey: string; requestHash: string; size: number; bodyType: NewLetter['bodyType']; body: Buffer; attachments: LetterAttachment[] }): Promise<{ id: string; created: boolean }>;
  /**
   * Insert the letters of a batch (deliveries in RECEIVED, their first event, and the letter rows) in a few
   * set-based statements. The letters' own body/attachments are ignored: batch letters read the batch's content.
   */
  insertBatchLetters(owner: string, correlationId: string | undefined, letters: NewLetter[]): Promise<void>;
}

export interface LetterStore {
  get(id: string): Promise<LetterRecord | undefined>;
  /**
   * Store the signed request bytes once (one statement, no transaction of its own): every retry resends
   * exactly them (digital-post.md §6.6 rule 7). A second call for the same letter keeps the first bytes.
   */
  setPrepared(id: string, p: { request: Buffer; sha256: string }): Promise<void>;
  batchOwner(batchId: string): Promise<string | undefined>;
  /** Letter ids, recipients and their delivery status, in request order. */
  /** Letters of a batch still in one of `statuses`, with their recipients, in request order. */
  batchPending(batchId: string, statuses: string[]): Promise<{ id: string; recipient: string }[]>;
  batchLetters(batchId: string): Promise<{ id: string; index: number; recipient: string; status: string; reason: string | null; channel: string | null }[]>;
}
