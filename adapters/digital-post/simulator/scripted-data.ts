// Scripted test identities of the FaR and mailbox-operator simulators (../shared/specs/digital-post.md §5.4
// outcomes, §6.7 faults, §9 test data; style.md convention 6: test data selects the behaviour). Every
// number here passes the Luhn check; the six public test persons come from §9, the rest are synthetic
// 1890s numbers that no living person has. Documented in README.md next to this file.

/** Mailbox operators of the simulated world: ServiceSupplier/Id (16 + a Luhn-valid fake number) and name. */
export const SIM_OPERATORS = {
  A: { id: '165560000001', name: 'Brevlådeoperatör A (sim)' },
  B: { id: '165560000019', name: 'Brevlådeoperatör B (sim)' },
} as const;
export type SimOperator = keyof typeof SIM_OPERATORS;

/** How the FaR simulator answers for one recipient id. */
export type FarScript =
  | { kind: 'reachable'; operator: SimOperator }
  | { kind: 'not-registered' } // an entry with Type=Not
  | { kind: 'omitted' } // no entry at all for the id
  | { kind: 'anonymous' } // Type=Anonymous
  | { kind: 'sender-not-accepted' }
  | { kind: 'pending' }
  | { kind: 'pending-and-sender-not-accepted' }
  | { kind: 'no-service-supplier' }
  | { kind: 'no-service-address' } // ServiceAdress present but blank
  | { kind: 'invalid-service-address' } // ServiceAdress not an absolute URL
  // The following affect the whole isReachable call that contains the id.
  | { kind: 'fault'; code: number }
  | { kind: 'slow'; operator: SimOperator }
  | { kind: 'wrong-element' } // answers with an isRegisteredResponse
  | { kind: 'http-error' }; // HTTP 503 with an HTML page

/** How a mailbox-operator simulator answers deliverSecure for one recipient. */
export type OperatorScript =
  | { kind: 'deliver' }
  | { kind: 'not-delivered' }
  | { kind: 'fault'; code: number }
  | { kind: 'slow' } // accepts and records, then answers after slowMs
  | { kind: 'foreign-status' }; // answers with a status for another RecipientId

/** The scripted recipients (12-digit wire ids). */
export const TEST_RECIPIENTS = {
  REACHABLE_A: '195303231855',
  REACHABLE_B: '198101052382',
  REACHABLE_A_SAMORDNINGSNUMMER: '197010632391',
  REACHABLE_B_ORGANISATION: '162021003898',
  NOT_REGISTERED: '197710182382',
  NO_ENTRY: '189001019802',
  ANONYMOUS: '189001029801',
  SENDER_NOT_ACCEPTED: '192705178354',
  PENDING_AND_SENDER_NOT_ACCEPTED: '189001039800',
  PENDING: '198112189876',
  NO_SERVICE_SUPPLIER: '189001049809',
  NO_SERVICE_ADDRESS: '189001059808',
  INVALID_SERVICE_ADDRESS: '189001069807',
  FAR_FAULT_5000: '189001079806',
  FAR_SLOW: '189001089805',
  FAR_WRONG_ELEMENT: '189001099804',
  FAR_HTTP_ERROR: '189001109801',
  OPERATOR_NOT_DELIVERED: '189001119800',
  OPERATOR_FAULT_5003: '189001129809',
  OPERATOR_FAULT_5000: '189001139808',
  OPERATOR_SLOW: '189001149807',
  OPERATOR_FOREIGN_STATUS: '189001159806',
} as const;

/** A sender organisation (16-prefixed) that FaR refuses with fault 5014 "unknown sender". */
export const TEST_REJECTED_SENDER = '165590000005';

const R = TEST_RECIPIENTS;

export const DEFAULT_FAR_SCRIPT: Readonly<Record<string, FarScript>> = {
  [R.REACHABLE_A]: { kind: 'reachable', operator: 'A' },
  [R.REACHABLE_B]: { kind: 'reachable', operator: 'B' },
  [R.REACHABLE_A_SAMORDNINGSNUMMER]: { kind: 'reachable', operator: 'A' },
  [R.REACHABLE_B_ORGANISATION]: { kind: 'reachable', operator: 'B' },
  [R.NOT_REGISTERED]: { kind: 'not-registered' },
  [R.NO_ENTRY]: { kind: 'omitted' },
  [R.ANONYMOUS]: { kind: 'anonymous' },
  [R.SENDER_NOT_ACCEPTED]: { kind: 'sender-not-accepted' },
  [R.PENDING_AND_SENDER_NOT_ACCEPTED]: { kind: 'pending-and-sender-not-accepted' },
  [R.PENDING]: { kind: 'pending' },
  [R.NO_SERVICE_SUPPLIER]: { kind: 'no-service-supplier' },
  [R.NO_SERVICE_ADDRESS]: { kind: 'no-service-address' },
  [R.INVALID_SERVICE_ADDRESS]: { kind: 'invalid-service-address' },
  [R.FAR_FAULT_5000]: { kind: 'fault', code: 5000 },
  [R.FAR_SLOW]: { kind: 'slow', operator: 'A' },
  [R.FAR_WRONG_ELEMENT]: { kind: 'wrong-element' },
  [R.FAR_HTTP_ERROR]: { kind: 'http-error' },
  [R.OPERATOR_NOT_DELIVERED]: { kind: 'reachable', operator: 'A' },
  [R.OPERATOR_FAULT_5003]: { kind: 'reachable', operator: 'A' },
  [R.OPERATOR_FAULT_5000]: { kind: 'reachable', operator: 'A' },
  [R.OPERATOR_SLOW]: { kind: 'reachable', operator: 'A' },
  [R.OPERATOR_FOREIGN_STATUS]: { kind: 'reachable', operator: 'A' },
};

export const DEFAULT_OPERATOR_SCRIPT: Readonly<Record<string, OperatorScript>> = {
  [R.OPERATOR_NOT_DELIVERED]: { kind: 'not-delivered' },
  [R.OPERATOR_FAULT_5003]: { kind: 'fault', code: 5003 },
  [R.OPERATOR_FAULT_5000]: { kind: 'fault', code: 5000 },
  [R.OPERATOR_SLOW]: { kind: 'slow' },
  [R.OPERATOR_FOREIGN_STATUS]: { kind: 'foreign-status' },
};

/** Descriptions of the Mina meddelanden application error codes the simulators use (MM-COMMON names). */
export const FAULT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  5000: 'Unknown error',
  5001: 'Invalid input',
  5002: 'Access denied',
  5003: 'Object not found',
  5005: 'Max exceeded',
  5012: 'Signature error',
  5014: 'Sender is not registered as authorized sender',
};
