// Delivery and lookup decisions from operator/FaR failures (../shared/specs/digital-post.md §5.4, §6.5, §6.7;
// checklist §11 #11, #12, #29–#34).
import {
  classifyDeliveryFailure,
  classifyDeliveryResult,
  classifyLookupFailure,
  classifyOperatorFault,
  DIGITAL_POST_REASONS,
  DigitalPostError,
  REACHABILITY_ORDER,
  UNREACHABLE_REASONS,
} from '../../../src/domain/digital-post.js';

describe('operator fault table (§6.7)', () => {
  it.each([
    [5000, { kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' }],
    [5004, { kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' }],
    [5001, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
    [5002, { kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true }],
    [5012, { kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true }],
    [5003, { kind: 'paper', reason: 'OPERATOR_REJECTED', invalidateLookup: true, relookupFirst: true }],
    [5005, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
    [5014, { kind: 'hold', reason: 'OPERATOR_SENDER_REJECTED', alert: true }],
    [5019, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
    [6004, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
    [6007, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
    [7001, { kind: 'paper', reason: 'OPERATOR_REJECTED' }],
  ])('fault %i → %j', (code, expected) => {
    expect(classifyOperatorFault(code)).toMatchObject({ ...expected, faultCode: code });
  });
});

describe('delivery failures', () => {
  it('retries a request that never reached the operator, and sends it to paper only after the budget', () => {
    expect(classifyDeliveryFailure(new DigitalPostError('OPERATOR_UNAVAILABLE', 'x'))).toEqual({ kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' });
  });

  it('never prints while the outcome is unknown (§11 #34)', () => {
    expect(classifyDeliveryFailure(new DigitalPostError('OUTCOME_UNKNOWN', 'x'))).toEqual({ kind: 'retry', reason: 'OUTCOME_UNKNOWN', whenExhausted: 'hold' });
    expect(classifyDeliveryFailure(new Error('something unexpected'))).toEqual({ kind: 'retry', reason: 'OUTCOME_UNKNOWN', whenExhausted: 'hold' });
  });

  it('holds an answer without our recipient instead of treating it as delivered (§11 #31)', () => {
    expect(classifyDeliveryFailure(new DigitalPostError('OPERATOR_PROTOCOL_ERROR', 'x'))).toEqual({ kind: 'hold', reason: 'OUTCOME_UNKNOWN', alert: true });
  });

  it('sends a Client fault without detail to paper with an alert (our bug)', () => {
    expect(classifyDeliveryFailure(new DigitalPostError('OPERATOR_CLIENT_FAULT', 'x'))).toEqual({ kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true });
  });

  it('classifies a fault by its code, also from a plain object that crossed a process boundary', () => {
    const e = JSON.parse(JSON.stringify({ code: 'OPERATOR_FAULT', details: { faultCode: 5014, callId: 'SIM-1' } })) as unknown;
    expect(classifyDeliveryFailure(e)).toMatchObject({ kind: 'hold', reason: 'OPERATOR_SENDER_REJECTED', faultCode: 5014 });
  });

  it('marks transient operator faults retryable on the AppError', () => {
    expect(new DigitalPostError('OPERATOR_FAULT', 'x', { faultCode: 5000 }).retryable).toBe(true);
    expect(new DigitalPostError('OPERATOR_FAULT', 'x', { faultCode: 5002 }).retryable).toBe(false);
  });

  it('maps Delivered=true/false (§11 #29–#30)', () => {
    expect(classifyDeliveryResult(true)).toEqual({ kind: 'delivered', reason: 'DELIVERED' });
    expect(classifyDeliveryResult(false)).toEqual({ kind: 'paper', reason: 'NOT_DELIVERED', invalidateLookup: true });
  });
});

describe('lookup failures (§5.4)', () => {
  it('retries FaR outages and holds letters of a rejected sender', () => {
    expect(classifyLookupFailure(new DigitalPostError('FAR_UNAVAILABLE', 'x'))).toEqual({ kind: 'retry', reason: 'FAR_UNAVAILABLE' });
    expect(classifyLookupFailure(new DigitalPostError('FAR_SENDER_REJECTED', 'x', { faultCode: 5014 }))).toEqual({ kind: 'hold', reason: 'FAR_SENDER_REJECTED', faultCode: 5014, alert: true });
    expect(classifyLookupFailure(new DigitalPostError('FAR_REQUEST_REJECTED', 'x', { faultCode: 5001 }))).toMatchObject({ kind: 'hold', faultCode: 5001 });
    expect(classifyLookupFailure(new TypeError('bug'))).toEqual({ kind: 'retry', reason: 'FAR_UNAVAILABLE' });
  });
});

describe('closed reason sets', () => {
  it('evaluates reachability in the §5.4 order', () => {
    expect(REACHABILITY_ORDER).toEqual([...Object.keys(UNREACHABLE_REASONS), 'REACHABLE']);
  });

  it('lists every status reason of §6.7 exactly once', () => {
    expect(new Set(DIGITAL_POST_REASONS).size).toBe(DIGITAL_POST_REASONS.length);
    expect(DIGITAL_POST_REASONS).toHaveLength(24);
  });
});
