import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
import { Db } from './db';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';

export const LIBRARY_FILE = 'library.sqlite';

/** Default data directory for the CLI; the Electron entry passes app.getPath('userData') instead. */
export function defaultDataDir(): string {
  return process.env.MOTION_STUDIO_DATA_DIR ?? join(homedir(), '.motion-studio');
}

export function libraryPath(dataDir: string): string {
  return join(resolve(dataDir), LIBRARY_FILE);
}

export class CorruptLibraryError extends Error {}

/**
 * Opens (creating if needed) the library of a data directory: WAL, foreign keys, integrity check,
 * migrations. A library that fails integrity_check is refused rather than written to, so a damaged
 * file is never made worse.
 */
export async function openLibrary(dataDir: string, opts: { readonly?: boolean } = {}): Promise<Db> {
  mkdirSync(resolve(dataDir), { recursive: true });
  const path = libraryPath(dataDir);
  const mode = opts.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
  const db = await Db.open(path, mode);
  try {
    db.configureBusyTimeout(10_000);
    let check: { integrity_check: string }[];
    try {
      check = await db.all<{ integrity_check: string }>('PRAGMA integrity_check');
    } catch (err) {
      throw new CorruptLibraryError(
        `${path}: the library file is corrupt or not a library (${(err as Error).message}); ` +
          'restore it from a backup or move it away to start a new library',
      );
    }
    const problems = check.map((r) => r.integrity_check).filter((m) => m !== 'ok');
    if (problems.length > 0) {
      throw new CorruptLibraryError(
        `${path}: integrity check failed (${problems.slice(0, 3).join('; ')}); ` +
          'the library was not opened so nothing is made worse — restore it from a backup',
      );
    }
    if (!opts.readonly) {
      await db.exec('PRAGMA journal_mode = WAL');
      await db.exec('PRAGMA synchronous = NORMAL');
    }
    await db.exec('PRAGMA foreign_keys = ON');
    if (!opts.readonly) await migrate(db);
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export async function schemaVersion(db: Db): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = await db.get<{ version: number }>('SELECT MAX(version) AS version FROM schema_version');
  return row?.version ?? 0;
}

async function migrate(db: Db): Promise<void> {
  const current = await schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${db.path}: library schema version ${current} is newer than this app (${SCHEMA_VERSION}); update the app`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    await db.transaction(async () => {
      await db.exec(MIGRATIONS[v]);
      await db.run('INSERT INTO schema_version (version) VALUES (?)', [v + 1]);
    });
  }
}
