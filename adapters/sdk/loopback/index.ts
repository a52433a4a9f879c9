// sdk.md §1 (interface C, MT↔AP) and §8 (AS4 essentials): an in-process access-point network that connects
// organisations configured in one process, for tests and demos before the AS4 adapter exists. It behaves
// like a pair of access points: it checks the routing against the XHE as a receiving AP does, refuses a
// participant nobody serves (EBMS:0004 NOT_SERVICED), copies the bytes as a wire would, retries a receiver
// whose handler fails and reports ACKNOWLEDGED / RETRY_SCHEDULED / SEND_FAILED events.
import { randomUUID } from 'node:crypto';
import { sameParticipant } from '../../../src/domain/sdk/identifiers.js';
import type { AccessPoint, AccessPointEvent, AccessPointRouting, AccessPointSubmission, InboundEnvelopeHandler } from '../../../src/ports/sdk.port.js';
import { criterion, readXheFields } from '../xhe/xhe.mapper.js';
import { parseUntrustedXml } from '../xml/safe-xml.js';

export interface LoopbackOptions {
  /** Delivery attempts before SEND_FAILED (default 3). */
  maxAttempts?: number;
  /** Delay between attempts in ms (default 10). */
  retryDelayMs?: number;
}

export interface LoopbackNetwork {
  /** An access point serving the given participant ids (one per organisation, or several). */
  accessPoint(participants: readonly string[]): AccessPoint;
  /** Resolves when every delivery started so far has finished (for tests: wait on events, not sleeps). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Node {
  participants: readonly string[];
  handler?: InboundEnvelopeHandler;
  listeners: Set<(e: AccessPointEvent) => void>;
  closed: boolean;
}

/** Checks a receiving AP makes before accepting a user message (sdk.md §8 "AP-side rules"). */
function routingProblem(envelope: Uint8Array, routing: AccessPointRouting): string | null {
  try {
    const { doc } = parseUntrustedXml(envelope);
    const f = readXheFields(doc);
    if (f === null || f.id === undefined || f.from === undefined || f.to === undefined) return 'the payload is not an XHE with routing data';
    if (!sameParticipant(f.to, routing.finalRecipient)) return 'finalRecipient does not match the XHE ToParty';
    if (!sameParticipant(f.from, routing.originalSender)) return 'originalSender does not match the XHE FromParty';
    if (criterion(f, 'DOCUMENTID') !== routing.documentId) return 'the action does not match the XHE document id';
    if (criterion(f, 'PROCESSID') !== routing.processId) return 'the service does not match the XHE process id';
    if (f.id !== routing.xheId) return 'the XHE id does not match the submission';
    return null;
  } catch {
    return 'the payload is not well-formed XML';
  }
}

export function createLoopbackNetwork(opts: LoopbackOptions = {}): LoopbackNetwork {
  const maxAttempts = opts.maxAttempts ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 10;
  const nodes: Node[] = [];
  const pending = new Set<Promise<void>>();
  // Pending retry delays; close() ends them early so no delivery is left hanging.
  const timers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const emit = (node: Node, e: AccessPointEvent): void => {
    for (const l of node.listeners) {
      try {
        l(e);
      } catch {
        // A failing listener must not break delivery to the others.
      }
    }
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });

  async function deliver(from: Node, envelope: Uint8Array, routing: AccessPointRouting, transportMessageId: string): Promise<void> {
    await Promise.resolve();
    const failed = (errorCode: string, detail: string, retryable: boolean): void =>
      emit(from, { type: 'SEND_FAILED', transportMessageId, xheId: routing.xheId, at: new Date(), errorCode, detail, retryable });
    const target = nodes.find((n) => !n.closed && n.participants.some((p) => sameParticipant(p, routing.finalRecipient)));
    if (target === undefined) return failed('EBMS:0004', 'NOT_SERVICED', false);
    const problem = routingProblem(envelope, routing);
    if (problem !== null) return failed('EBMS:0003', problem, false);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (closed || target.closed) return failed('EBMS:0005', 'the receiving access point is not available', true);
      try {
        if (target.handler === undefined) throw new Error('no inbound handler registered');
        await target.handler({ envelope: new Uint8Array(envelope), routing: { ...routing }, transportMessageId, receivedAt: new Date() });
        emit(from, { type: 'ACKNOWLEDGED', transportMessageId, xheId: routing.xheId, at: new Date() });
        return;
      } catch {
        if (attempt === maxAttempts) return failed('EBMS:0005', 'the receiving access point did not take the message', true);
        emit(from, { type: 'RETRY_SCHEDULED', transportMessageId, xheId: routing.xheId, at: new Date(), nextAttemptAt: new Date(Date.now() + retryDelayMs) });
        await sleep(retryDelayMs);
      }
    }
  }

  return {
    accessPoint(participants) {
      const node: Node = { participants: [...participants], listeners: new Set(), closed: false };
      nodes.push(node);
      const ap: AccessPoint = {
        async send(envelope: Uint8Array, routing: AccessPointRouting): Promise<AccessPointSubmission> {
          if (closed || node.closed) throw new Error('the loopback access point is closed');
          const transportMessageId = `${randomUUID()}@loopback.sandebud`;
          // Copy now: the caller may reuse its buffer, and the wire carries the bytes as they were at send time.
          const p = deliver(node, new Uint8Array(envelope), routing, transportMessageId).finally(() => pending.delete(p));
          pending.add(p);
          return { transportMessageId };
        },
        onInbound(handler) {
          node.handler = handler;
        },
        onStatus(listener) {
          node.listeners.add(listener);
          return () => node.listeners.delete(listener);
        },
        async close() {
          node.closed = true;
          node.listeners.clear();
        },
      };
      return ap;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      closed = true;
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
      await Promise.allSettled([...pending]);
      for (const n of nodes) n.closed = true;
    },
  };
}
