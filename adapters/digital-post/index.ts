// The digital-post adapters (../shared/specs/digital-post.md §5 FaR, §6 deliverSecure; style.md conventions 1
// and 5): one factory that takes plain options (URLs, PEM contents, timeouts) and returns the
// RecipientRegistry and DigitalMailbox ports. Adapters never read configuration or files themselves.
import type { Agent } from 'undici';
import type { Logger } from '../../src/lib/logger.js';
import type { DigitalMailbox, RecipientRegistry } from '../../src/ports/digital-post.port.js';
import { createMtlsAgent, type TlsClientMaterial } from '../shared/mtls-http.js';
import { createSignerPool, type SignerPool } from '../shared/signer-pool.js';
import { FarRecipientRegistry } from './recipient/far-recipient-registry.js';
import { CoalescingRecipientRegistry, type CoalescingOptions } from './recipient/coalescing-registry.js';
import type { ReachabilityPolicy } from './recipient/far.mapper.js';
import { OperatorMailbox } from './delivery/operator-mailbox.js';
import type { SigningCredentials, SigningEngine } from './delivery/delivery.mapper.js';

export type { ReachabilityPolicy } from './recipient/far.mapper.js';
export type { SigningCredentials, SigningEngine } from './delivery/delivery.mapper.js';
export type { TlsClientMaterial } from '../shared/mtls-http.js';

export interface DigitalPostAdapterOptions {
  /** Our organisation's TLS client certificate (PEM contents) and the CAs trusted for FaR and operator servers. */
  tls: TlsClientMaterial;
  far: {
    /** FaR Recipient service endpoint. */
    url: string;
    /** Per-sender answer cache lifetime; 0 disables. Default 300,000 ms, at most 3,600,000. */
    cacheTtlMs?: number;
    /** isReachable calls in flight at once per lookup. Default 2. */
    concurrency?: number;
    /** §5.4 rules 6–8 (https-only service addresses, operator allow-list, minimum age). */
    policy?: ReachabilityPolicy;
    /** Share one isReachable call among concurrent lookups of one sender (§5.6). Default { lingerMs: 25 }; false = off. */
    coalesce?: CoalescingOptions | false;
  };
  signing: {
    /** Our förmedlare seal certificate and key. A direct sender signs with these too. */
    seal: SigningCredentials;
    /** Hosted mode: per sender organisation number (10 digits) its own signing certificate and key. */
    senders?: Readonly<Record<string, SigningCredentials>>;
    /** Worker threads for RSA; default one per core. Pass an existing pool to share it (it is then not closed here). */
    pool?: SignerPool | { size?: number };
    /** `canonical` (default, DOM-free, fast) or `xml-crypto`; identical signatures. */
    engine?: SigningEngine;
  };
  operators?: {
    /** Refuse non-https ServiceAdress values (production). Default false. */
    requireHttps?: boolean;
    /** Allowed operator host names; empty = any. */
    allowedHosts?: readonly string[];
  };
  /** TCP + TLS handshake limit. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Response wait limit. Default 120,000 ms. */
  readTimeoutMs?: number;
  logger?: Logger;
}

export interface DigitalPostAdapters {
  recipientRegistry: RecipientRegistry;
  /** isReachable calls made so far (benchmark: far_calls ≤ ceil(letters / 1000) + retries). */
  farCalls(): number;
  mailbox: DigitalMailbox;
  /** The RSA worker pool in use (for metrics and tests). */
  signerPool: SignerPool;
  /** Close HTTP connections and (if created here) the signer pool. */
  close(): Promise<void>;
}

function isPool(p: SignerPool | { size?: number } | undefined): p is SignerPool {
  return p !== undefined && typeof (p as SignerPool).sign === 'function';
}

/** Build the FaR registry and the mailbox-operator client for the digital-post channel. */
export function createDigitalPostAdapters(opts: DigitalPostAdapterOptions): DigitalPostAdapters {
  const timeouts = { connectTimeoutMs: opts.connectTimeoutMs, readTimeoutMs: opts.readTimeoutMs };
  const farAgent: Agent = createMtlsAgent({ tls: opts.tls, ...timeouts });
  const operatorAgent: Agent = createMtlsAgent({ tls: opts.tls, ...timeouts });
  const ownPool = !isPool(opts.signing.pool);
  const pool: SignerPool = isPool(opts.signing.pool) ? opts.signing.pool : createSignerPool({ size: opts.signing.pool?.size });
  const far = new FarRecipientRegistry({
    agent: farAgent,
    url: opts.far.url,
    cacheTtlMs: opts.far.cacheTtlMs,
    concurrency: opts.far.concurrency,
    policy: opts.far.policy,
    logger: opts.logger,
  });
  const recipientRegistry: RecipientRegistry = opts.far.coalesce === false ? far : new CoalescingRecipientRegistry(far, opts.far.coalesce ?? {});
  const mailbox = new OperatorMailbox({
    agent: operatorAgent,
    seal: opts.signing.seal,
    senders: opts.signing.senders,
    signer: pool.sign,
    engine: opts.signing.engine,
    requireHttps: opts.operators?.requireHttps,
    allowedHosts: opts.operators?.allowedHosts,
    logger: opts.logger,
  });
  return {
    recipientRegistry,
    farCalls: () => far.farCalls,
    mailbox,
    signerPool: pool,
    async close() {
      await Promise.all([farAgent.close(), operatorAgent.close(), ownPool ? pool.close() : Promise.resolve()]);
    },
  };
}
