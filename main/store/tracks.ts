import type { Db } from './db';

/** Frames per BLOB chunk: ~77 kB for 25 joints x 3 channels, a good SQLite page-overflow size. */
export const CHUNK_FRAMES = 256;

export interface TrackHeader {
  sessionId: number;
  cameraId: number | null;
  kind: string;
  layout: string;
  /** Names along the first axis of a frame (e.g. joint names). */
  names: string[];
  /** Shape of one frame, e.g. [25, 3]. */
  frameShape: number[];
  firstFrame?: number;
}

export interface TrackRow {
  id: number;
  session_id: number;
  camera_id: number | null;
  kind: string;
  layout: string;
  names: string;
  frame_shape: string;
  frame_count: number;
  first_frame: number;
  chunk_frames: number;
}

function frameSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Float32 view of a BLOB: copies only when the Buffer is not 4-byte aligned. */
function asFloat32(buf: Buffer): Float32Array {
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new Float32Array(new Uint8Array(buf).buffer);
}

function asBuffer(data: Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a whole per-frame array as one track. `data` is frame-major, frames x frameSize(frameShape).
 * Call inside a transaction so a track is never half-written.
 */
export async function writeTrack(
  db: Db,
  header: TrackHeader,
  data: Float32Array,
  chunkFrames = CHUNK_FRAMES,
): Promise<number> {
  const per = frameSize(header.frameShape);
  if (data.length % per !== 0) {
    throw new Error(`track ${header.kind}: ${data.length} values is not a whole number of frames of ${per}`);
  }
  const frames = data.length / per;
  const { lastID: trackId } = await db.run(
    `INSERT INTO tracks (session_id, camera_id, kind, layout, names, frame_shape, frame_count, first_frame, chunk_frames)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      header.sessionId,
      header.cameraId,
      header.kind,
      header.layout,
      JSON.stringify(header.names),
      JSON.stringify(header.frameShape),
      frames,
      header.firstFrame ?? 0,
      chunkFrames,
    ],
  );
  const stmt = db.prepare(
    'INSERT INTO chunks (track_id, chunk_index, start_frame, shape, data) VALUES (?, ?, ?, ?, ?)',
  );
  try {
    for (let c = 0, start = 0; start < frames; c++, start += chunkFrames) {
      const n = Math.min(chunkFrames, frames - start);
      const slice = data.subarray(start * per, (start + n) * per);
      await stmt.run([trackId, c, start, JSON.stringify([n, ...header.frameShape]), asBuffer(slice)]);
    }
  } finally {
    await stmt.finalize();
  }
  return trackId;
}

export async function findTrack(
  db: Db,
  sessionId: number,
  cameraId: number | null,
  kind: string,
): Promise<TrackRow | undefined> {
  return db.get<TrackRow>(
    'SELECT * FROM tracks WHERE session_id = ? AND IFNULL(camera_id, -1) = IFNULL(?, -1) AND kind = ?',
    [sessionId, cameraId, kind],
  );
}

/**
 * Reads frames [start, start + count) of a track into one Float32Array (clamped to the track), reading
 * only the chunks that overlap the range.
 */
export async function readTrackRange(
  db: Db,
  track: TrackRow,
  start: number,
  count: number,
): Promise<{ start: number; count: number; data: Float32Array }> {
  const per = frameSize(JSON.parse(track.frame_shape) as number[]);
  const s = Math.max(0, Math.min(start, track.frame_count));
  const e = Math.max(s, Math.min(start + count, track.frame_count));
  const out = new Float32Array((e - s) * per);
  if (e === s) return { start: s, count: 0, data: out };
  const first = Math.floor(s / track.chunk_frames);
  const last = Math.floor((e - 1) / track.chunk_frames);
  const rows = await db.all<{ start_frame: number; data: Buffer }>(
    'SELECT start_frame, data FROM chunks WHERE track_id = ? AND chunk_index BETWEEN ? AND ? ORDER BY chunk_index',
    [track.id, first, last],
  );
  for (const row of rows) {
    const chunk = asFloat32(row.data);
    const chunkFrames = chunk.length / per;
    const from = Math.max(s, row.start_frame);
    const to = Math.min(e, row.start_frame + chunkFrames);
    out.set(chunk.subarray((from - row.start_frame) * per, (to - row.start_frame) * per), (from - s) * per);
  }
  return { start: s, count: e - s, data: out };
}

/** Reads a whole track (benchmarks, export). */
export async function readTrack(db: Db, track: TrackRow): Promise<Float32Array> {
  return (await readTrackRange(db, track, 0, track.frame_count)).data;
}
