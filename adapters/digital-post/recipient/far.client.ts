// Transport to FaR's Recipient service (../shared/specs/digital-post.md §4): SOAP 1.1 over mutual TLS, connect
// and read timeouts, fault framing. Returns the SOAP Body payload element; mapping is in far.mapper.ts.
import { currentCorrelationId } from '../../../src/lib/correlation.js';
import type { Agent } from 'undici';
import type { Element } from '@xmldom/xmldom';
import { TransportError } from '../../shared/mtls-http.js';
import { looksLikeXml, parseSoapMessage, postSoap } from '../../shared/soap.js';
import { XmlSafetyError } from '../../shared/xml-safe-parse.js';
import { readApplicationFault } from '../shared/application-fault.js';
import { farFaultError, farHttpError, farTransportError } from './errors.js';
import { DigitalPostError } from '../../../src/domain/digital-post.js';

export interface FarCallResult {
  payload: Element;
  httpStatus: number;
}

/** POST one isReachable envelope; throw DigitalPostError for every failure. */
export async function callFar(agent: Agent, url: string, envelope: string, opts: { signal?: AbortSignal; correlationId?: string } = {}): Promise<FarCallResult> {
  let answer;
  try {
    answer = await postSoap(agent, url, envelope, {
      signal: opts.signal,
      // The request's correlation id travels upstream (issue 3 §5): explicit, or the one of the job being run.
      headers: correlationHeader(opts.correlationId),
    });
  } catch (e) {
    if (e instanceof TransportError) throw farTransportError(e);
    throw e;
  }
  if (!looksLikeXml(answer)) throw farHttpError(answer.status);
  let msg;
  try {
    msg = parseSoapMessage(answer.body);
  } catch (e) {
    if (e instanceof XmlSafetyError) throw new DigitalPostError('FAR_UNAVAILABLE', 'FaR answered with something that is not a SOAP message.', { httpStatus: answer.status }, e);
    throw e;
  }
  if (msg.kind === 'fault') throw farFaultError(readApplicationFault(msg.detail), answer.status);
  if (answer.status !== 200) throw farHttpError(answer.status);
  return { payload: msg.payload, httpStatus: answer.status };
}

function correlationHeader(explicit: string | undefined): Record<string, string> | undefined {
  const id = explicit ?? currentCorrelationId();
  return id === undefined ? undefined : { 'x-request-id': id };
}
