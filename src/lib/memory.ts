// Issue 7 "Must show" (peak RSS ≤ 3 × a 29 MB SDK message): give memory back after a large piece of work.
//
// Why: a 29 MB message passes through a few payload-sized Buffers (request body, payload, envelope, gzip) and
// each stage leaves its Buffers behind as garbage. V8 only counts their backing stores as "external memory"
// and starts a full collection after about 64 MB of it has accumulated, so two or three stages' garbage sits
// next to the next stage's live data and the resident set peaks at twice what is alive. Large messages are
// rare (most are a few KB), so after a stage that handled one (≥ MEMORY_RELEASE_BYTES) a full collection is
// cheap insurance (tens of ms against the seconds the message takes) and keeps the peak near the live data.
//
// `gc` is reached the way jest's leak detector does (jest-leak-detector): turn on --expose-gc at run time and
// take the function from a fresh context. Nothing else in V8's behaviour changes; when that is impossible
// (another runtime), releaseAfterLarge does nothing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type?: 'major' | 'minor' }) => void;
let collect: GcFunction | null | undefined;
let thresholdBytes = 8 * 1024 * 1024;

function gcFunction(): GcFunction | null {
  if (collect !== undefined) return collect;
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') {
    collect = existing as GcFunction;
    return collect;
  }
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    collect = typeof fn === 'function' ? (fn as GcFunction) : null;
  } catch {
    collect = null;
  }
  return collect;
}

/** Set the size from which releaseAfterLarge collects (config MEMORY_RELEASE_BYTES; 0 = never). */
export function setMemoryReleaseThreshold(bytes: number): void {
  thresholdBytes = bytes;
}

/**
 * After a stage that held `bytes` of one message: a full garbage collection when `bytes` reaches the threshold,
 * so the next stage does not sit on this one's garbage. Returns whether it collected (for tests).
 */
export function releaseAfterLarge(bytes: number): boolean {
  if (bytes < thresholdBytes) return false;
  return fullCollection();
}

/** A full collection unless memory release is off (threshold 0) or `gc` is out of reach; whether it ran. */
function fullCollection(): boolean {
  if (thresholdBytes <= 0) return false;
  const fn = gcFunction();
  if (fn === null) return false;
  fn();
  return true;
}

/**
 * Once the gateway has started: one full collection. Start-up leaves tens of MB of garbage on the V8 heap
 * (sources compiled, schemas and migrations read, simulators and keys set up) that V8 would otherwise keep
 * until some later collection — typically the first large message's, which then looks cheaper than it is
 * while the idle process looks larger. Off with MEMORY_RELEASE_BYTES=0, like the rest of this module.
 */
export function settleAfterStartup(): boolean {
  return fullCollection();
}

/** Bytes a streaming loop may leave behind as young garbage before youngGarbageRelease collects it. */
const YOUNG_RELEASE_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * For a loop that streams a value of `totalBytes` through small Buffers (socket chunks, cipher and base64
 * pieces, statement parts): call the returned function with each piece's size. Every few MB it runs a minor
 * collection (a scavenge, about a millisecond), which frees the pieces already let go — left alone they stay
 * allocated until V8's external-memory limit (~64 MB) is reached. Does nothing for values under the threshold.
 */
export function youngGarbageRelease(totalBytes: number): (pieceBytes: number) => void {
  if (thresholdBytes <= 0 || totalBytes < thresholdBytes) return () => undefined;
  let since = 0;
  return (pieceBytes) => {
    since += pieceBytes;
    if (since < YOUNG_RELEASE_EVERY_BYTES) return;
    since = 0;
    gcFunction()?.({ type: 'minor' });
  };
}
