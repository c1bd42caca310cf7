import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLibrary } from '../../main/store/library';
import { findTrack, readTrack, writeTrack } from '../../main/store/tracks';

/** One hour of 30 fps per-frame parameters: 108,000 frames x 75 float32 (targets: write < 1 s, read < 0.2 s). */
export async function benchStore(): Promise<Record<string, number>> {
  const frames = 108_000;
  const per = 75;
  const data = new Float32Array(frames * per);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001);
  const dir = mkdtempSync(join(tmpdir(), 'studio-bench-'));
  try {
    const db = await openLibrary(dir);
    const { lastID: sessionId } = await db.run(
      `INSERT INTO sessions (name, source_path, format, state, created_at) VALUES ('bench', '/bench', 'bench', 'ready', 'now')`,
    );
    const t0 = performance.now();
    await db.transaction(() =>
      writeTrack(
        db,
        { sessionId, cameraId: null, kind: 'fit', layout: 'params75', names: [], frameShape: [per] },
        data,
      ),
    );
    const writeHourS = (performance.now() - t0) / 1000;
    const track = (await findTrack(db, sessionId, null, 'fit'))!;
    const t1 = performance.now();
    const back = await readTrack(db, track);
    const readHourS = (performance.now() - t1) / 1000;
    if (back.length !== data.length || back[12345] !== data[12345]) throw new Error('read back differs');
    await db.close();
    return {
      writeHourS: round(writeHourS),
      readHourS: round(readHourS),
      frames,
      valuesPerFrame: per,
      megabytes: round(data.byteLength / 1e6),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
