import { AsyncLocalStorage } from 'node:async_hooks';
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | Buffer | Uint8Array | null;
export type Row = Record<string, unknown>;

/**
 * A promise wrapper over one sqlite3 connection. sqlite3 serialises statements per connection, so
 * `transaction` also holds a JS-side lock: statements issued by other callers during a transaction
 * would otherwise interleave into it.
 */
export class Db {
  private lock: Promise<void> = Promise.resolve();
  private inTransaction = false;
  // Marks the async context of the running transaction: its own statements pass, others wait.
  private readonly txContext = new AsyncLocalStorage<true>();

  private constructor(
    readonly path: string,
    private readonly raw: sqlite3.Database,
  ) {}

  static open(path: string, mode = sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE): Promise<Db> {
    return new Promise((resolve, reject) => {
      const raw = new sqlite3.Database(path, mode, (err) => {
        if (err) reject(new Error(`${path}: cannot open library database (${err.message})`));
        else resolve(new Db(path, raw));
      });
    });
  }

  private async outsideTransaction(): Promise<void> {
    if (this.inTransaction && !this.txContext.getStore()) await this.lock;
  }

  async run(sql: string, params: SqlValue[] = []): Promise<{ lastID: number; changes: number }> {
    await this.outsideTransaction();
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  async get<T = Row>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    await this.outsideTransaction();
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined)));
    });
  }

  async all<T = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    await this.outsideTransaction();
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.raw.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  /** Runs `fn` inside BEGIN IMMEDIATE .. COMMIT; any throw rolls everything back. Not re-entrant. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.txContext.getStore()) throw new Error('nested transaction');
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await previous;
    this.inTransaction = true;
    return this.txContext.run(true, async () => {
      try {
        await this.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn();
          await this.exec('COMMIT');
          return out;
        } catch (err) {
          await this.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } finally {
        this.inTransaction = false;
        release();
      }
    });
  }

  /** Prepared statement for hot loops (chunk writes); finalize when done. */
  prepare(sql: string): Statement {
    return new Statement(this.raw.prepare(sql));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.raw.close((err) => (err ? reject(err) : resolve())));
  }

  /** Busy-waits inside SQLite (not JS) when another connection holds the write lock. */
  configureBusyTimeout(ms: number): void {
    this.raw.configure('busyTimeout', ms);
  }
}

export class Statement {
  constructor(private readonly raw: sqlite3.Statement) {}

  run(params: SqlValue[]): Promise<void> {
    return new Promise((resolve, reject) => this.raw.run(params, (err) => (err ? reject(err) : resolve())));
  }

  all<T = Row>(params: SqlValue[]): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.raw.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
    );
  }

  finalize(): Promise<void> {
    return new Promise((resolve) => this.raw.finalize(() => resolve()));
  }
}
