// Operator failures → domain errors (../shared/specs/digital-post.md §6.7 table; style.md convention 5).
// The decision (retry / paper / hold) is made by classifyDeliveryFailure in the domain; this file only says
// what happened: an applicationFault (with code), a Client fault without detail, a request that never
// reached the operator, or an unknown outcome.
import { DigitalPostError } from '../../../src/domain/digital-post.js';
import type { TransportError } from '../../shared/mtls-http.js';
import { faultCodeLocalName } from '../../shared/soap.js';
import type { ApplicationFault } from '../shared/application-fault.js';

export function operatorFaultError(faultcode: string, fault: ApplicationFault | undefined, httpStatus: number): DigitalPostError {
  const details = { faultCode: fault?.errorCode, callId: fault?.callId, httpStatus };
  if (fault?.errorCode !== undefined) return new DigitalPostError('OPERATOR_FAULT', `The mailbox operator refused the delivery (fault ${fault.errorCode}).`, details);
  if (faultCodeLocalName(faultcode) === 'Client') return new DigitalPostError('OPERATOR_CLIENT_FAULT', 'The mailbox operator could not read our request.', details);
  // A Server fault without an applicationFault: treat like 5000 "unknown error".
  return new DigitalPostError('OPERATOR_FAULT', 'The mailbox operator answered with a fault without error code.', { ...details, faultCode: 5000 });
}

export function operatorTransportError(e: TransportError): DigitalPostError {
  return e.phase === 'not-sent'
    ? new DigitalPostError('OPERATOR_UNAVAILABLE', `The mailbox operator could not be reached (${e.kind}).`, {}, e)
    : new DigitalPostError('OUTCOME_UNKNOWN', `No answer from the mailbox operator after sending (${e.kind}).`, {}, e);
}

/** HTTP ≥ 500 without a SOAP envelope: the operator's front end failed (§6.7: transient). */
export function operatorHttpError(httpStatus: number): DigitalPostError {
  return httpStatus >= 500
    ? new DigitalPostError('OPERATOR_UNAVAILABLE', 'The mailbox operator answered with an HTTP error.', { httpStatus })
    : new DigitalPostError('OPERATOR_PROTOCOL_ERROR', 'The mailbox operator answered with an unexpected HTTP status.', { httpStatus });
}
