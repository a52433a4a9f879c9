// sdk.md: the SDK message-service domain (identifiers, message, receipt, status). Re-exports only.
export * from './identifiers.js';
export * from './constants.js';
export * from './message.js';
export * from './receipt.js';
export * from './status.js';
