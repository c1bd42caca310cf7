import type { MotifProposals, MotifSegment } from '../../preload/api';
import type { Db, SqlValue } from './db';

/**
 * A4Mer proposal tracks (migration 5): per session and model, the Action Atoms (start, end, k-means
 * code) and Action Motifs (start, end, mined pattern, family) of one extraction, in session frames
 * [start, end). One `motif_proposals` row per (session, model) and one `motif_segments` row per segment.
 *
 * Replace semantics: saving a session's proposals from a model replaces that model's earlier set for
 * the session; sets from other models are kept (to compare models), and the newest save is what
 * readMotifProposals returns unless a model is named. Deleting a session or a model removes its sets.
 */

export type SegmentLevel = 'atom' | 'motif';

export interface NewMotifProposals {
  sessionId: number;
  modelId: number;
  /** ONNX Runtime execution provider that ran the extraction. */
  provider: string;
  /**
   * Sorted by start, not overlapping, each within the session's frames, integer frames with
   * end > start; atoms need `code` (integer >= 0), motifs `pattern` (integer >= -1) and `family`
   * (integer >= 0).
   */
  atoms: MotifSegment[];
  motifs: MotifSegment[];
  /** The extraction job that made them. */
  jobId?: number | null;
}

export interface FamilyOccurrence {
  sessionId: number;
  sessionName: string;
  start: number;
  end: number;
}

interface SegmentRow {
  level: SegmentLevel;
  start_frame: number;
  end_frame: number;
  code: number | null;
  pattern: number | null;
  family: number | null;
}

function isIntAtLeast(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

/** Checks one track; the Error names the segment (`atoms[3]`) and the problem. */
function checkSegments(where: string, level: SegmentLevel, segs: MotifSegment[], frameCount: number): void {
  const name = level === 'atom' ? 'atoms' : 'motifs';
  if (!Array.isArray(segs)) throw new Error(`${where}: ${name} is not a list`);
  let prevEnd = 0;
  segs.forEach((s, i) => {
    const at = `${where}: ${name}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new Error(`${at} is not a segment`);
    if (!isIntAtLeast(s.start, 0)) throw new Error(`${at} has start ${s.start}, not a frame index`);
    if (!isIntAtLeast(s.end, 0)) throw new Error(`${at} has end ${s.end}, not a frame index`);
    if (s.end <= s.start) throw new Error(`${at} has end ${s.end} <= start ${s.start}`);
    if (frameCount > 0 && s.end > frameCount)
      throw new Error(`${at} ends at ${s.end}, past the session's ${frameCount} frames`);
    if (s.start < prevEnd)
      throw new Error(
        `${at} starts at ${s.start}, before the previous one ends (${prevEnd}): not sorted or overlapping`,
      );
    prevEnd = s.end;
    if (level === 'atom') {
      if (!isIntAtLeast(s.code, 0)) throw new Error(`${at} has code ${s.code}, not an integer >= 0`);
    } else {
      if (!isIntAtLeast(s.pattern, -1))
        throw new Error(`${at} has pattern ${s.pattern}, not an integer >= -1`);
      if (!isIntAtLeast(s.family, 0)) throw new Error(`${at} has family ${s.family}, not an integer >= 0`);
    }
  });
}

/**
 * Stores a session's proposals from a model, replacing that model's earlier set for the session, in
 * one transaction. Everything is checked first: a bad segment raises an Error naming it and nothing
 * (not even the removal of the earlier set) is stored.
 */
export async function saveMotifProposals(db: Db, p: NewMotifProposals): Promise<void> {
  const where = `motif proposals of session #${p.sessionId} from model #${p.modelId}`;
  if (typeof p.provider !== 'string' || p.provider === '') throw new Error(`${where}: the provider is empty`);
  await db.transaction(async () => {
    const session = await db.get<{ frame_count: number }>(
      `SELECT frame_count FROM sessions WHERE id = ? AND state = 'ready'`,
      [p.sessionId],
    );
    if (!session) throw new Error(`${where}: session #${p.sessionId} does not exist`);
    if (!(await db.get('SELECT 1 FROM motif_models WHERE id = ?', [p.modelId])))
      throw new Error(`${where}: model #${p.modelId} does not exist`);
    checkSegments(where, 'atom', p.atoms, session.frame_count);
    checkSegments(where, 'motif', p.motifs, session.frame_count);

    // The cascade removes the earlier set's segments; the new header gets the highest rowid (newest).
    await db.run('DELETE FROM motif_proposals WHERE session_id = ? AND model_id = ?', [
      p.sessionId,
      p.modelId,
    ]);
    await db.run(
      `INSERT INTO motif_proposals (session_id, model_id, job_id, created_at, provider) VALUES (?, ?, ?, ?, ?)`,
      [p.sessionId, p.modelId, p.jobId ?? null, new Date().toISOString(), p.provider],
    );
    const row = (level: SegmentLevel, i: number, g: MotifSegment): SqlValue[] => {
      const atom = level === 'atom';
      return [p.sessionId, p.modelId, level, i, g.start, g.end, atom ? g.code! : null].concat(
        atom ? [null, null] : [g.pattern!, g.family!],
      );
    };
    const rows = [...p.atoms.map((a, i) => row('atom', i, a)), ...p.motifs.map((m, i) => row('motif', i, m))];
    await insertSegments(db, rows);
  });
}

const SEGMENT_COLUMNS = 9;
/** Rows per INSERT: 9 columns x 100 stays under SQLite's oldest limit of 999 parameters. */
const BATCH_ROWS = 100;

/**
 * Multi-row INSERTs, a prepared one for the full batches: ~7x faster than a statement per row (an hour
 * of 30 fps proposals, 9600 segments: 70 ms, not 500).
 */
async function insertSegments(db: Db, rows: SqlValue[][]): Promise<void> {
  const sql = (n: number) =>
    `INSERT INTO motif_segments (session_id, model_id, level, idx, start_frame, end_frame, code, pattern, family)
     VALUES ${Array.from({ length: n }, () => `(${new Array(SEGMENT_COLUMNS).fill('?').join(', ')})`).join(', ')}`;
  const full = Math.floor(rows.length / BATCH_ROWS) * BATCH_ROWS;
  if (full > 0) {
    const stmt = db.prepare(sql(BATCH_ROWS));
    try {
      for (let r = 0; r < full; r += BATCH_ROWS) await stmt.run(rows.slice(r, r + BATCH_ROWS).flat());
    } finally {
      await stmt.finalize();
    }
  }
  if (full < rows.length) await db.run(sql(rows.length - full), rows.slice(full).flat());
}

function toSegment(r: SegmentRow): MotifSegment {
  return r.level === 'atom'
    ? { start: r.start_frame, end: r.end_frame, code: r.code! }
    : { start: r.start_frame, end: r.end_frame, pattern: r.pattern!, family: r.family! };
}

/**
 * The session's newest proposals (or those of `modelId`); undefined when there are none. Sessions
 * still importing have none.
 */
export async function readMotifProposals(
  db: Db,
  sessionId: number,
  modelId?: number,
): Promise<MotifProposals | undefined> {
  const head = await db.get<{ model_id: number; created_at: string; provider: string }>(
    `SELECT p.model_id, p.created_at, p.provider FROM motif_proposals p
       JOIN sessions s ON s.id = p.session_id AND s.state = 'ready'
      WHERE p.session_id = ? ${modelId === undefined ? '' : 'AND p.model_id = ?'}
      ORDER BY p.rowid DESC LIMIT 1`,
    modelId === undefined ? [sessionId] : [sessionId, modelId],
  );
  if (!head) return undefined;
  const rows = await db.all<SegmentRow>(
    `SELECT level, start_frame, end_frame, code, pattern, family FROM motif_segments
      WHERE session_id = ? AND model_id = ? ORDER BY level, idx`,
    [sessionId, head.model_id],
  );
  return {
    sessionId,
    modelId: head.model_id,
    createdAt: head.created_at,
    provider: head.provider,
    atoms: rows.filter((r) => r.level === 'atom').map(toSegment),
    motifs: rows.filter((r) => r.level === 'motif').map(toSegment),
  };
}

/** Every motif of a family across the library (a model's sets of ready sessions), by session then start. */
export async function familyOccurrences(
  db: Db,
  modelId: number,
  family: number,
): Promise<FamilyOccurrence[]> {
  return db.all<FamilyOccurrence>(
    `SELECT g.session_id AS sessionId, s.name AS sessionName, g.start_frame AS start, g.end_frame AS "end"
       FROM motif_segments g JOIN sessions s ON s.id = g.session_id
      WHERE g.model_id = ? AND g.family = ? AND g.level = 'motif' AND s.state = 'ready'
      ORDER BY g.session_id, g.start_frame`,
    [modelId, family],
  );
}
