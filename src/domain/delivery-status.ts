// The one documented delivery status set and its allowed transitions (style.md convention 7; Domibus
// MessageStatus). The same table is in the README. Each attempt ends in a closed outcome:
// delivered, retry later, diverted to paper, held for a person, or failed.

export const DELIVERY_STATUSES = {
  RECEIVED: 'Stored with its outbox row; waiting for a worker.',
  LOOKING_UP: 'Checking the recipient (FaR isReachable, SDK address book).',
  SENDING: 'Handed to the digital channel (deliverSecure, AS4); waiting for its answer.',
  RETRY_WAIT: 'A transient upstream error; the next attempt is scheduled.',
  DELIVERED: 'Final. The digital channel confirmed receipt (operator receipt, SDK ACCEPTED receipt).',
  PAPER_QUEUED: 'Not digitally reachable (named reason); queued for the print-and-post provider.',
  PRINTED: 'Final. The print provider confirmed the letter.',
  HELD: 'The digital outcome is unknown or needs a person; never printed automatically.',
  REJECTED: 'Final. The recipient side refused it (SDK REJECTED receipt, operator refused permanently).',
  FAILED: 'Final. No channel can deliver it (e.g. no usable postal address); the reason says why.',
  CANCELLED: 'Final. Withdrawn before it was sent.',
} as const;

export type DeliveryStatus = keyof typeof DELIVERY_STATUSES;

export const FINAL_STATUSES: ReadonlySet<DeliveryStatus> = new Set(['DELIVERED', 'PRINTED', 'REJECTED', 'FAILED', 'CANCELLED']);

/** Allowed transitions: from → to. Anything else is a bug and is refused by the store. */
export const TRANSITIONS: Readonly<Record<DeliveryStatus, readonly DeliveryStatus[]>> = {
  RECEIVED: ['LOOKING_UP', 'SENDING', 'PAPER_QUEUED', 'RETRY_WAIT', 'DELIVERED', 'FAILED', 'CANCELLED', 'HELD'],
  LOOKING_UP: ['SENDING', 'PAPER_QUEUED', 'RETRY_WAIT', 'FAILED', 'HELD'],
  SENDING: ['DELIVERED', 'REJECTED', 'RETRY_WAIT', 'PAPER_QUEUED', 'HELD', 'FAILED'],
  RETRY_WAIT: ['LOOKING_UP', 'SENDING', 'PAPER_QUEUED', 'DELIVERED', 'HELD', 'FAILED', 'REJECTED'],
  PAPER_QUEUED: ['PRINTED', 'RETRY_WAIT', 'FAILED', 'HELD'],
  HELD: ['SENDING', 'PAPER_QUEUED', 'DELIVERED', 'FAILED', 'CANCELLED'],
  DELIVERED: [],
  PRINTED: [],
  REJECTED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isDeliveryStatus(s: string): s is DeliveryStatus {
  return Object.prototype.hasOwnProperty.call(DELIVERY_STATUSES, s);
}
