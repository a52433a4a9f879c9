// The order in which the embedded PostgreSQL serves its socket connections (dependencies.md "Embedded default":
// PGlite is ONE session behind pglite-socket 0.2.17, pinned exactly).
//
// pglite-socket queues every protocol message on its own and serves the connections' messages in arrival order
// unless a transaction is open. node-postgres sends each parameterised query as Parse, Bind, Describe, Execute,
// Sync; when another connection's Parse is served between them, the Bind meets the wrong unnamed statement
// ("bind message supplies 13 parameters, but prepared statement "" requires 15") or a query quietly answers
// nothing (test/integration/embedded-database.test.ts). This queue keeps PGlite with one connection from the
// first message of an extended-protocol cycle until its Sync (and, as before, for a whole transaction). It
// implements the interface of pglite-socket's QueryQueueManager and is put in its place by openDatabase.
import type { PGlite } from '@electric-sql/pglite';

interface Item {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

// Frontend messages that leave an extended-protocol cycle open (PostgreSQL protocol §55.2.3): Parse, Bind,
// Describe, Execute, Flush, Close. Sync ends the cycle; a simple Query, Terminate and the untyped start-up
// message are cycles of their own.
const CYCLE_CONTINUES = new Set(['P', 'B', 'D', 'E', 'H', 'C'].map((c) => c.charCodeAt(0)));

export class CycleQueryQueue {
  private queue: Item[] = [];
  private processing = false;
  /** The connection PGlite stays with: mid-cycle, or inside its transaction. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A connection went away: drop its queued messages, and free PGlite if it was waiting for that connection. */
  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
    if (this.owner === handlerId && !this.db.isInTransaction()) this.owner = null;
    void this.process();
  }

  /** A connection went away inside its transaction: roll it back so the session is usable again. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        if (index === -1) break; // the owner's next message has not arrived yet; enqueue() resumes
        const item = this.queue.splice(index, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, { onRawData: (d: Uint8Array) => { bytes += d.length; item.onData(d); } }));
        } catch (err) {
          this.owner = this.db.isInTransaction() ? item.handlerId : null;
          item.reject(err);
          continue;
        }
        const open = CYCLE_CONTINUES.has(item.message[0] ?? 0) || this.db.isInTransaction();
        this.owner = open ? item.handlerId : null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}
