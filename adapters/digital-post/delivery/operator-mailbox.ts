// OperatorMailbox: the DigitalMailbox port over deliverSecure (../shared/specs/digital-post.md §6, §7.3
// idempotency, §10 #16; checklist §11 #27–#28, #33–#34). Signs and seals once per delivery id and resends the
// same bytes; concurrent calls for one delivery id share one attempt.
import type { Agent } from 'undici';
import { AppError } from '../../../src/domain/errors.js';
import type { DeliveryReceipt, DeliveryTarget, DigitalMailbox, LetterForDelivery, PreparedDelivery } from '../../../src/ports/digital-post.port.js';
import type { Logger } from '../../../src/lib/logger.js';
import type { RawSigner } from '../../shared/signer-pool.js';
import { mapDeliverSecureResponse, prepareDelivery, type SigningCredentials, type SigningEngine } from './delivery.mapper.js';
import { postDeliverSecure } from './delivery.client.js';

export interface OperatorMailboxOptions {
  agent: Agent;
  /** Our förmedlare seal credentials (also the sender's, for a direct sender). */
  seal: SigningCredentials;
  /** Hosted mode: signing credentials per sender organisation number (10 digits). When set, a sender without an entry is refused. */
  senders?: Readonly<Record<string, SigningCredentials>>;
  /** Where RSA runs; default the calling thread. */
  signer?: RawSigner;
  /** Signature engine; default `canonical` (see SigningEngine). */
  engine?: SigningEngine;
  /** Refuse a ServiceAdress that is not https (production, §4). Default false. */
  requireHttps?: boolean;
  /** Allowed operator host names (per environment, §4). Undefined or empty = any host. */
  allowedHosts?: readonly string[];
  /** Prepared deliveries and receipts kept in memory, by delivery id. Default 1,000. */
  memoSize?: number;
  logger?: Logger;
  now?: () => Date;
}

/** Small insertion-ordered map with a size cap. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly cap: number) {
    super();
  }
  override set(k: K, v: V): this {
    super.delete(k);
    super.set(k, v);
    while (this.size > this.cap) {
      const oldest = this.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    return this;
  }
}

export class OperatorMailbox implements DigitalMailbox {
  private readonly prepared: BoundedMap<string, Promise<PreparedDelivery>>;
  private readonly receipts: BoundedMap<string, DeliveryReceipt>;
  private readonly inFlight = new Map<string, Promise<DeliveryReceipt>>();
  private readonly now: () => Date;

  constructor(private readonly opts: OperatorMailboxOptions) {
    this.prepared = new BoundedMap(opts.memoSize ?? 1000);
    this.receipts = new BoundedMap(opts.memoSize ?? 1000);
    this.now = opts.now ?? (() => new Date());
  }

  prepare(letter: LetterForDelivery): Promise<PreparedDelivery> {
    const known = this.prepared.get(letter.deliveryId);
    if (known) return known;
    const p = prepareDelivery(letter, { sender: this.credentialsFor(letter), sealer: this.opts.seal, signer: this.opts.signer, engine: this.opts.engine });
    this.prepared.set(letter.deliveryId, p);
    p.catch(() => this.prepared.delete(letter.deliveryId));
    return p;
  }

  async send(prepared: PreparedDelivery, target: DeliveryTarget): Promise<DeliveryReceipt> {
    this.checkTarget(target.serviceAddress);
    const started = Date.now();
    try {
      const answer = await postDeliverSecure(this.opts.agent, target.serviceAddress, prepared.soapRequest);
      const result = mapDeliverSecureResponse(answer.payload, prepared.recipient);
      const receipt: DeliveryReceipt = {
        deliveryId: prepared.deliveryId,
        delivered: result.delivered,
        transId: result.transId,
        operatorId: target.operator.id,
        requestSha256: prepared.requestSha256,
        rawResponse: answer.raw,
        answeredAt: this.now(),
      };
      this.receipts.set(prepared.deliveryId, receipt);
      this.opts.logger?.info({ event: 'DELIVERY_ANSWERED', deliveryId: prepared.deliveryId, operatorId: target.operator.id, delivered: result.delivered, transId: result.transId, ms: Date.now() - started }, 'deliverSecure answered');
      return receipt;
    } catch (e) {
      const details = (e as { details?: { faultCode?: number; callId?: string; httpStatus?: number } }).details;
      this.opts.logger?.warn(
        { event: 'DELIVERY_FAILED', deliveryId: prepared.deliveryId, operatorId: target.operator.id, code: (e as { code?: unknown }).code, faultCode: details?.faultCode, callId: details?.callId, httpStatus: details?.httpStatus, ms: Date.now() - started },
        'deliverSecure failed',
      );
      throw e;
    }
  }

  deliverSecure(letter: LetterForDelivery, target: DeliveryTarget): Promise<DeliveryReceipt> {
    const done = this.receipts.get(letter.deliveryId);
    if (done) return Promise.resolve(done);
    const running = this.inFlight.get(letter.deliveryId);
    if (running) return running;
    const attempt = (async () => this.send(await this.prepare(letter), target))();
    this.inFlight.set(letter.deliveryId, attempt);
    const clear = () => this.inFlight.delete(letter.deliveryId);
    attempt.then(clear, clear);
    return attempt;
  }

  private credentialsFor(letter: LetterForDelivery): SigningCredentials {
    if (!this.opts.senders || Object.keys(this.opts.senders).length === 0) return this.opts.seal;
    const c = this.opts.senders[letter.sender.organisationNumber];
    if (!c) throw new AppError('SENDER_NOT_CONFIGURED', 'No signing certificate is configured for this sender.', { status: 500 });
    return c;
  }

  private checkTarget(serviceAddress: string): void {
    let u: URL;
    try {
      u = new URL(serviceAddress);
    } catch {
      throw new AppError('OPERATOR_ADDRESS_REFUSED', 'The operator service address is not a URL.', { status: 502 });
    }
    if (u.protocol !== 'https:' && (this.opts.requireHttps || u.protocol !== 'http:')) {
      throw new AppError('OPERATOR_ADDRESS_REFUSED', 'The operator service address is not https.', { status: 502 });
    }
    const hosts = this.opts.allowedHosts ?? [];
    if (hosts.length > 0 && !hosts.includes(u.hostname)) {
      throw new AppError('OPERATOR_ADDRESS_REFUSED', 'The operator service address is not on the allow-list.', { status: 502 });
    }
  }
}
