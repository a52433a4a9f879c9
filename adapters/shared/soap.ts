// SOAP 1.1 framing shared by the SOAP adapters and simulators (../shared/specs/digital-post.md §4: SOAP 1.1
// document/literal, soapAction "", text/xml; faults as soap:Fault with HTTP 500, §6.7). Generic: it knows
// the envelope, not any payload.
import type { Agent } from 'undici';
import type { Element } from '@xmldom/xmldom';
import { httpExchange, type HttpAnswer } from './mtls-http.js';
import { childElements, escapeXmlText, isNamed, optionalChild, parseXmlSafely, textOf, XmlSafetyError, type SafeParseOptions } from './xml-safe-parse.js';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP11_CONTENT_TYPE = 'text/xml; charset=UTF-8';

/** Wrap body content (one or more serialised elements) in a SOAP 1.1 envelope. */
export function soapEnvelope(bodyContent: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>${bodyContent}</soap:Body></soap:Envelope>`;
}

export interface SoapFaultInput {
  /** `soap:Server` (application errors) or `soap:Client` (the request did not unmarshal). */
  faultcode: 'soap:Server' | 'soap:Client';
  faultstring: string;
  /** Serialised detail children (already escaped XML), if any. */
  detailXml?: string;
}

/** A complete SOAP 1.1 fault envelope (send it with HTTP 500). */
export function soapFaultEnvelope(f: SoapFaultInput): string {
  const detail = f.detailXml === undefined ? '' : `<detail>${f.detailXml}</detail>`;
  return soapEnvelope(`<soap:Fault><faultcode>${f.faultcode}</faultcode><faultstring>${escapeXmlText(f.faultstring)}</faultstring>${detail}</soap:Fault>`);
}

export type SoapMessage =
  | { kind: 'body'; payload: Element }
  | { kind: 'fault'; faultcode: string; faultstring: string; detail: Element[] };

/**
 * Parse a SOAP 1.1 message safely. Returns the single Body child, or the Fault. Throws XmlSafetyError
 * when it is not a SOAP 1.1 envelope or the Body does not hold exactly one element.
 */
export function parseSoapMessage(xml: string | Buffer, opts?: SafeParseOptions): SoapMessage {
  const doc = parseXmlSafely(xml, opts);
  const env = doc.documentElement!;
  if (!isNamed(env, SOAP11_NS, 'Envelope')) throw new XmlSafetyError('not a SOAP 1.1 envelope');
  const body = optionalChild(env, SOAP11_NS, 'Body');
  if (!body) throw new XmlSafetyError('SOAP envelope without Body');
  const children = childElements(body);
  if (children.length !== 1) throw new XmlSafetyError(`SOAP Body must hold exactly one element, found ${children.length}`);
  const first = children[0]!;
  if (isNamed(first, SOAP11_NS, 'Fault')) {
    // faultcode/faultstring/detail are unqualified in SOAP 1.1.
    const fc = optionalChild(first, null, 'faultcode');
    const fs = optionalChild(first, null, 'faultstring');
    const detail = optionalChild(first, null, 'detail');
    return {
      kind: 'fault',
      faultcode: fc ? textOf(fc).trim() : '',
      faultstring: fs ? textOf(fs).trim() : '',
      detail: detail ? childElements(detail) : [],
    };
  }
  return { kind: 'body', payload: first };
}

/** The local part of a QName-valued faultcode ("S:Client" → "Client"). */
export function faultCodeLocalName(faultcode: string): string {
  const i = faultcode.indexOf(':');
  return i >= 0 ? faultcode.slice(i + 1) : faultcode;
}

export interface SoapPostOptions {
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** Extra headers (e.g. a correlation id). */
  headers?: Record<string, string>;
}

/** POST a SOAP 1.1 request (soapAction "") through an mTLS agent. Throws TransportError. */
export function postSoap(agent: Agent, url: string, envelope: string | Buffer, opts: SoapPostOptions = {}): Promise<HttpAnswer> {
  return httpExchange(agent, {
    url,
    method: 'POST',
    headers: { 'content-type': SOAP11_CONTENT_TYPE, soapaction: '""', accept: 'text/xml', ...opts.headers },
    body: envelope,
    maxResponseBytes: opts.maxResponseBytes,
    signal: opts.signal,
  });
}

/** True when an HTTP answer claims to carry XML (SOAP 1.1 uses text/xml). */
export function looksLikeXml(answer: HttpAnswer): boolean {
  const ct = answer.headers['content-type'];
  const v = Array.isArray(ct) ? ct.join(',') : (ct ?? '');
  return /xml/i.test(v) || answer.body.subarray(0, 200).toString('utf8').trimStart().startsWith('<');
}
