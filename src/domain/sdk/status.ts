// sdk.md §10 (KV Meddelandestatus) and §14.3/§14.12: the MT–MK message status set, which statuses are
// mandatory to expose and final, and the allowed transitions (modelled on Domibus MessageStatus).

export const MESSAGE_STATUSES = [
  'SCHEDULED',
  'SUBMITTED',
  'SCHEDULED_FOR_RESEND',
  'ACKNOWLEDGE',
  'WAITING_FOR_RECEIPT',
  'ACCEPTED',
  'REJECTED',
  'MESSAGE_EXCHANGE_ERROR',
  'RETRIEVED',
  'RECEIPT_SENT',
  'NEW',
  'ERROR',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type Direction = 'out' | 'in' | 'both';

export interface StatusInfo {
  direction: Direction;
  /** "M": must be observable via GET. */
  mandatory: boolean;
  /** "F": final; receipts and events no longer change it (§16.32). */
  final: boolean;
  /** DELETE is allowed only in these (§10, §16.28). */
  deletable: boolean;
  meaning: string;
}

export const STATUS_INFO: Readonly<Record<MessageStatus, StatusInfo>> = {
  SCHEDULED: { direction: 'out', mandatory: false, final: false, deletable: false, meaning: 'accepted from the MK after schema and address-book checks' },
  SUBMITTED: { direction: 'out', mandatory: false, final: false, deletable: false, meaning: 'enveloped, signed, encrypted and handed to the access point' },
  SCHEDULED_FOR_RESEND: { direction: 'out', mandatory: false, final: false, deletable: false, meaning: 'the receiving access point could not be reached; will retry' },
  ACKNOWLEDGE: { direction: 'out', mandatory: false, final: false, deletable: false, meaning: 'AS4 transport receipt received' },
  WAITING_FOR_RECEIPT: { direction: 'out', mandatory: true, final: false, deletable: false, meaning: 'waiting for the message receipt' },
  ACCEPTED: { direction: 'out', mandatory: true, final: true, deletable: true, meaning: 'ACCEPTED receipt received' },
  REJECTED: { direction: 'out', mandatory: true, final: false, deletable: false, meaning: 'REJECTED receipt received; ends in MESSAGE_EXCHANGE_ERROR (§14.3)' },
  MESSAGE_EXCHANGE_ERROR: { direction: 'both', mandatory: true, final: true, deletable: true, meaning: 'validation failure, no transport receipt, no message receipt in time, or unexpected error' },
  RETRIEVED: { direction: 'in', mandatory: false, final: false, deletable: false, meaning: 'received and validated, receipt pending' },
  RECEIPT_SENT: { direction: 'in', mandatory: false, final: false, deletable: false, meaning: 'transport receipt received for our receipt' },
  NEW: { direction: 'in', mandatory: true, final: true, deletable: true, meaning: 'receipted; available to the MK' },
  ERROR: { direction: 'both', mandatory: true, final: false, deletable: false, meaning: 'unexpected error; ends in MESSAGE_EXCHANGE_ERROR' },
};

// A message receipt can overtake the AS4 acknowledgement event (they travel on different paths), so the
// receipt outcomes are allowed from every outbound in-flight state, not only WAITING_FOR_RECEIPT.
const RECEIPT_OUTCOMES: MessageStatus[] = ['ACCEPTED', 'REJECTED'];
const FAILURES: MessageStatus[] = ['MESSAGE_EXCHANGE_ERROR', 'ERROR'];

export const STATUS_TRANSITIONS: Readonly<Record<MessageStatus, readonly MessageStatus[]>> = {
  SCHEDULED: ['SUBMITTED', 'SCHEDULED_FOR_RESEND', ...FAILURES],
  SUBMITTED: ['SCHEDULED_FOR_RESEND', 'ACKNOWLEDGE', 'WAITING_FOR_RECEIPT', ...RECEIPT_OUTCOMES, ...FAILURES],
  SCHEDULED_FOR_RESEND: ['SCHEDULED_FOR_RESEND', 'SUBMITTED', 'ACKNOWLEDGE', ...RECEIPT_OUTCOMES, ...FAILURES],
  ACKNOWLEDGE: ['WAITING_FOR_RECEIPT', ...RECEIPT_OUTCOMES, ...FAILURES],
  WAITING_FOR_RECEIPT: [...RECEIPT_OUTCOMES, ...FAILURES],
  ACCEPTED: [],
  // §14.3: REJECTED is recorded, then the message ends in MESSAGE_EXCHANGE_ERROR with the receipt lines as events.
  REJECTED: ['MESSAGE_EXCHANGE_ERROR'],
  MESSAGE_EXCHANGE_ERROR: [],
  RETRIEVED: ['RECEIPT_SENT', ...FAILURES],
  RECEIPT_SENT: ['NEW', ...FAILURES],
  NEW: [],
  ERROR: ['MESSAGE_EXCHANGE_ERROR'],
};

export function isMessageStatus(v: string): v is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(v);
}

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return STATUS_TRANSITIONS[from].includes(to);
}

export function isFinal(s: MessageStatus): boolean {
  return STATUS_INFO[s].final;
}

export function isDeletable(s: MessageStatus): boolean {
  return STATUS_INFO[s].deletable;
}

/** Initial status of an outbound message (accepted from the MK) and of an inbound one (validated). */
export const INITIAL_STATUS = { out: 'SCHEDULED', in: 'RETRIEVED' } as const satisfies Record<'out' | 'in', MessageStatus>;
