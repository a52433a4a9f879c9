// FaR failures → domain errors (../shared/specs/digital-post.md §5.4 "a lookup that fails is not an outcome",
// §5.7 fault codes; style.md convention 5). Retryable: transport problems, HTTP errors, system faults ≤ 5000.
// Sender problems (5002 access denied, 5014 unknown sender) hold the sender's letters; other codes > 5000 mean
// our request was wrong.
import { DigitalPostError } from '../../../src/domain/digital-post.js';
import type { TransportError } from '../../shared/mtls-http.js';
import type { ApplicationFault } from '../shared/application-fault.js';

export function farFaultError(fault: ApplicationFault | undefined, httpStatus: number): DigitalPostError {
  const details = { faultCode: fault?.errorCode, callId: fault?.callId, httpStatus };
  const code = fault?.errorCode;
  if (code === 5002 || code === 5014) return new DigitalPostError('FAR_SENDER_REJECTED', 'FaR refused the sender.', details);
  if (code === undefined || code <= 5000) return new DigitalPostError('FAR_UNAVAILABLE', 'FaR answered with a system fault.', details);
  return new DigitalPostError('FAR_REQUEST_REJECTED', 'FaR refused the isReachable request.', details);
}

export function farTransportError(e: TransportError): DigitalPostError {
  return new DigitalPostError('FAR_UNAVAILABLE', `FaR could not be reached (${e.kind}).`, {}, e);
}

export function farHttpError(httpStatus: number): DigitalPostError {
  return new DigitalPostError('FAR_UNAVAILABLE', 'FaR answered with an HTTP error.', { httpStatus });
}
