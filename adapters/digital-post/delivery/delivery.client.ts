// Transport to a mailbox operator's Service endpoint (../shared/specs/digital-post.md §4, §6.7): SOAP 1.1
// deliverSecure over mutual TLS to the ServiceAdress FaR gave, prepared bytes sent unchanged, timeouts,
// fault framing. Mapping of the answer is in delivery.mapper.ts.
import { currentCorrelationId } from '../../../src/lib/correlation.js';
import type { Agent } from 'undici';
import type { Element } from '@xmldom/xmldom';
import { DigitalPostError } from '../../../src/domain/digital-post.js';
import { TransportError } from '../../shared/mtls-http.js';
import { looksLikeXml, parseSoapMessage, postSoap } from '../../shared/soap.js';
import { XmlSafetyError } from '../../shared/xml-safe-parse.js';
import { readApplicationFault } from '../shared/application-fault.js';
import { operatorFaultError, operatorHttpError, operatorTransportError } from './errors.js';

export interface OperatorAnswer {
  payload: Element;
  raw: string;
  httpStatus: number;
}

export async function postDeliverSecure(agent: Agent, serviceAddress: string, soapRequest: Buffer, opts: { signal?: AbortSignal; correlationId?: string } = {}): Promise<OperatorAnswer> {
  let answer;
  try {
    answer = await postSoap(agent, serviceAddress, soapRequest, {
      signal: opts.signal,
      // The request's correlation id travels upstream (issue 3 §5): explicit, or the one of the job being run.
      headers: correlationHeader(opts.correlationId),
    });
  } catch (e) {
    if (e instanceof TransportError) throw operatorTransportError(e);
    throw e;
  }
  if (!looksLikeXml(answer)) throw operatorHttpError(answer.status);
  let msg;
  try {
    msg = parseSoapMessage(answer.body);
  } catch (e) {
    if (e instanceof XmlSafetyError) {
      if (answer.status >= 500) throw operatorHttpError(answer.status);
      throw new DigitalPostError('OPERATOR_PROTOCOL_ERROR', 'The mailbox operator answered with something that is not a SOAP message.', { httpStatus: answer.status }, e);
    }
    throw e;
  }
  if (msg.kind === 'fault') throw operatorFaultError(msg.faultcode, readApplicationFault(msg.detail), answer.status);
  if (answer.status !== 200) throw operatorHttpError(answer.status);
  return { payload: msg.payload, raw: answer.body.toString('utf8'), httpStatus: answer.status };
}

function correlationHeader(explicit: string | undefined): Record<string, string> | undefined {
  const id = explicit ?? currentCorrelationId();
  return id === undefined ? undefined : { 'x-request-id': id };
}
