import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openLibrary, libraryPath, schemaVersion, CorruptLibraryError } from '../../main/store/library';
import { SCHEMA_VERSION } from '../../main/store/migrations';
import { findTrack, readTrack, readTrackRange, writeTrack } from '../../main/store/tracks';
import { cleanupTempDirs, tempDir } from './fixtures';

describe('library store', () => {
  afterAll(() => cleanupTempDirs());

  it('creates a WAL library at the current schema version with foreign keys on', async () => {
    const dir = tempDir();
    const db = await openLibrary(dir);
    expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect((await db.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('wal');
    expect((await db.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))!.foreign_keys).toBe(1);
    await db.close();
    // Reopening does not re-run migrations.
    const again = await openLibrary(dir);
    expect((await again.all('SELECT * FROM schema_version')).length).toBe(SCHEMA_VERSION);
    await again.close();
  });

  it('round-trips per-frame float32 chunks across chunk boundaries, NaN included', async () => {
    const db = await openLibrary(tempDir());
    const { lastID: sessionId } = await db.run(
      `INSERT INTO sessions (name, source_path, format, state, created_at) VALUES ('s', '/x', 'test', 'ready', 'now')`,
    );
    const frames = 1000;
    const data = new Float32Array(frames * 25 * 3).map((_, i) => (i % 97 === 0 ? NaN : Math.sin(i) * 1000));
    await db.transaction(() =>
      writeTrack(
        db,
        { sessionId, cameraId: null, kind: 'k', layout: 'BODY_25', names: [], frameShape: [25, 3] },
        data,
        256,
      ),
    );
    const track = (await findTrack(db, sessionId, null, 'k'))!;
    expect(track.frame_count).toBe(frames);
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM chunks'))!.n).toBe(4);
    const shapes = await db.all<{ shape: string }>('SELECT shape FROM chunks ORDER BY chunk_index');
    expect(shapes.map((s) => JSON.parse(s.shape))).toEqual([
      [256, 25, 3],
      [256, 25, 3],
      [256, 25, 3],
      [232, 25, 3],
    ]);
    const all = await readTrack(db, track);
    expect(Buffer.from(all.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    const mid = await readTrackRange(db, track, 250, 20);
    expect(mid.count).toBe(20);
    expect(Buffer.from(mid.data.buffer).equals(Buffer.from(data.buffer, 250 * 75 * 4, 20 * 75 * 4))).toBe(
      true,
    );
    const tail = await readTrackRange(db, track, 990, 50);
    expect(tail.count).toBe(10);
    // Deleting the session removes its tracks and chunks (ON DELETE CASCADE).
    await db.run('DELETE FROM sessions WHERE id = ?', [sessionId]);
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM chunks'))!.n).toBe(0);
    await db.close();
  });

  it('rolls a failed transaction back completely', async () => {
    const db = await openLibrary(tempDir());
    await expect(
      db.transaction(async () => {
        await db.run(
          `INSERT INTO sessions (name, source_path, format, state, created_at) VALUES ('a', '/a', 't', 'ready', 'now')`,
        );
        await db.run(
          `INSERT INTO sessions (name, source_path, format, state, created_at) VALUES ('b', '/a', 't', 'ready', 'now')`,
        );
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions'))!.n).toBe(0);
    await db.close();
  });

  it('refuses to open a corrupt library with a message naming the file', async () => {
    const dir = tempDir();
    const db = await openLibrary(dir);
    for (let i = 0; i < 200; i++) {
      await db.run(
        `INSERT INTO sessions (name, source_path, format, state, created_at) VALUES (?, ?, 't', 'ready', 'now')`,
        [`s${i}`.repeat(50), `/p${i}`],
      );
    }
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await db.close();
    const path = libraryPath(dir);
    const bytes = readFileSync(path);
    // Scribble over the middle pages, keeping the header so SQLite still recognises the file.
    for (let i = 4096 * 2; i < Math.min(bytes.length, 4096 * 6); i++) bytes[i] = (i * 31) & 0xff;
    writeFileSync(path, bytes);
    const err = await openLibrary(dir).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(CorruptLibraryError);
    expect(err!.message).toContain(path);
    // The damaged file was not modified by the attempt.
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a file that is not a database at all', async () => {
    const dir = tempDir();
    writeFileSync(libraryPath(dir), 'this is not sqlite'.repeat(100));
    await expect(openLibrary(dir)).rejects.toThrow(/corrupt or not a library|integrity/);
  });
});
