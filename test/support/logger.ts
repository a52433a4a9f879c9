// A logger for tests that collects lines in memory (and can be asserted on) instead of printing.
import { createLogger, type Logger } from '../../src/lib/logger.js';

export function testLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'debug', destination: { write: (s: string) => { lines.push(s); if (process.env.TEST_LOG) process.stdout.write(s); } } });
  return { logger, lines };
}

/** Wait until `cond` holds, polling; fails with `what` after `timeoutMs`. Tests wait on state, never on fixed sleeps. */
export async function waitFor(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 20000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
