// RSA/ECDSA signing on worker threads (../shared/specs/digital-post.md §7.3: "two RSA signatures per
// letter: sign on worker threads across cores"). Canonicalisation and digests stay on the caller's
// thread; only the private-key operation, which dominates the cost, moves to the pool. Keys arrive as PEM
// with each call (adapters never read key files) and are parsed once per worker and cached.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/** Sign `data` with the PEM private key; returns the raw signature bytes. */
export type RawSigner = (keyPem: string, data: string | Buffer, hash?: SignerHash) => Promise<Buffer>;
export type SignerHash = 'sha256' | 'sha384' | 'sha512';

export interface SignerPool {
  /** RSA PKCS#1 v1.5 (or ECDSA for an EC key) signature of `data` with `hash`, computed on a worker. */
  sign: RawSigner;
  /** Number of worker threads. */
  readonly size: number;
  /** Signatures completed per worker, for tests and metrics. */
  completedPerWorker(): number[];
  /** Terminate the workers; pending calls are rejected. */
  close(): Promise<void>;
}

export interface SignerPoolOptions {
  /** Worker threads; default: the number of cores (at least 1). */
  size?: number;
  /** Parsed keys cached per worker (LRU-ish). Default 32. */
  keyCacheSize?: number;
}

// The worker is evaluated from source (CommonJS) so it runs the same under tsx, jest and compiled code,
// with no loader for a .ts worker file. It holds parsed KeyObjects and never echoes key material.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const cache = new Map();
const max = workerData.keyCacheSize;
parentPort.on('message', (m) => {
  try {
    let key = cache.get(m.keyPem);
    if (!key) {
      key = crypto.createPrivateKey(m.keyPem);
      if (cache.size >= max) cache.delete(cache.keys().next().value);
      cache.set(m.keyPem, key);
    }
    const sig = crypto.sign(m.hash, typeof m.data === 'string' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data), key);
    parentPort.postMessage({ id: m.id, ok: true, sig });
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: (e && e.code) ? String(e.code) : 'SIGNING_FAILED' });
  }
});
`;

interface Pending {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
  completed: number;
}

type WorkerReply = { id: number; ok: true; sig: Uint8Array } | { id: number; ok: false; error: string };

export function createSignerPool(opts: SignerPoolOptions = {}): SignerPool {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const keyCacheSize = opts.keyCacheSize ?? 32;
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { keyCacheSize } });
    const slot: Slot = { worker, inFlight: new Map(), completed: 0 };
    worker.unref(); // an idle pool never keeps the process alive
    worker.on('message', (m: WorkerReply) => {
      const p = slot.inFlight.get(m.id);
      if (!p) return;
      slot.inFlight.delete(m.id);
      if (slot.inFlight.size === 0) worker.unref();
      if (m.ok) {
        slot.completed++;
        p.resolve(Buffer.from(m.sig));
      } else {
        p.reject(new Error(`signing failed (${m.error})`));
      }
    });
    const fail = (why: string) => {
      for (const p of slot.inFlight.values()) p.reject(new Error(`signing worker ${why}`));
      slot.inFlight.clear();
    };
    worker.on('error', () => fail('crashed'));
    worker.on('exit', () => {
      fail('exited');
      const i = slots.indexOf(slot);
      if (!closed && i >= 0) slots[i] = spawn(); // keep the pool at full size
    });
    return slot;
  };

  const slots: Slot[] = Array.from({ length: size }, spawn);

  const sign: RawSigner = (keyPem, data, hash = 'sha256') => {
    if (closed) return Promise.reject(new Error('signer pool is closed'));
    // Least-loaded worker; ties go to the first, which keeps a lone caller on one warm key cache.
    let slot = slots[0]!;
    for (const s of slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
    const id = nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      slot.inFlight.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, keyPem, data, hash });
    });
  };

  return {
    sign,
    size,
    completedPerWorker: () => slots.map((s) => s.completed),
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
