// Print provider failures → domain errors (../shared/specs/digital-post.md §8.2, §11 #42; style.md convention 5).
// Unreachable or failing provider: retry (the letter id makes a resubmission safe). A refusal with a reason:
// final (FAILED with the provider's reason).
import { DigitalPostError } from '../../src/domain/digital-post.js';
import type { TransportError } from '../shared/mtls-http.js';

export const printTransportError = (e: TransportError): DigitalPostError =>
  new DigitalPostError('PRINT_UNAVAILABLE', `The print provider could not be reached (${e.kind}).`, {}, e);

export const printHttpError = (httpStatus: number): DigitalPostError =>
  new DigitalPostError('PRINT_UNAVAILABLE', 'The print provider answered with an unexpected status.', { httpStatus });

export const printRejected = (reason: string, httpStatus: number): DigitalPostError =>
  new DigitalPostError('PRINT_REJECTED', 'The print provider refused the letter.', { reason, httpStatus });
