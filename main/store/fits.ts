import type { FitQualityBlock, FitSummary } from '../../preload/api';
import type { FitResult } from '../fitting/types';
import type { Db } from './db';
import { findTrack, readTrackRange, writeTrack } from './tracks';

/**
 * Stored fit versions (migration 4). A fit is one `fits` row plus three session tracks (camera NULL)
 * of kind `fit:<id>:<name>`: theta (frames x J x 3 axis-angle), transl (frames x 3) and quality
 * (frames x fields). All frames here are session (video) frames; track frame 0 is the fit's first.
 */

export type FitTrackName = 'theta' | 'transl' | 'quality';

export function fitTrackKind(fitId: number, name: FitTrackName): string {
  return `fit:${fitId}:${name}`;
}

/** What saveFit needs beside the result: where the fit sits in the session and which model it posed. */
export interface FitMeta {
  /** Model file relative to the app's native/ folder, or the user's absolute path. */
  bodyModel: string;
  /** The model's joint names: theta's first axis. */
  jointNames: string[];
  firstFrame: number;
  frameCount: number;
  label: string;
}

interface FitRow {
  id: number;
  session_id: number;
  job_id: number | null;
  created_at: string;
  label: string;
  config: string;
  body_model: string;
  betas: string;
  first_frame: number;
  frame_count: number;
  quality_fields: string;
  stats: string;
}

function toSummary(r: FitRow): FitSummary {
  return {
    id: r.id,
    sessionId: r.session_id,
    createdAt: r.created_at,
    label: r.label,
    config: JSON.parse(r.config) as Record<string, unknown>,
    bodyModel: r.body_model,
    betas: JSON.parse(r.betas) as number[],
    firstFrame: r.first_frame,
    frameCount: r.frame_count,
    qualityFields: JSON.parse(r.quality_fields) as string[],
    stats: JSON.parse(r.stats) as FitSummary['stats'],
  };
}

/**
 * Stores a fit result as a new version of the session, in one transaction: every array is checked
 * against frameCount as it is written, and any failure rolls the whole fit back.
 */
export async function saveFit(
  db: Db,
  sessionId: number,
  jobId: number | null,
  result: FitResult,
  meta: FitMeta,
): Promise<number> {
  const where = `fit of session #${sessionId}`;
  const frames = meta.frameCount;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`${where}: frame count ${frames} is not >= 1`);
  if (!Number.isInteger(meta.firstFrame) || meta.firstFrame < 0)
    throw new Error(`${where}: first frame ${meta.firstFrame} is not a frame index`);
  // mounts live in stats so a FitSummary carries them; NaN statistics are stored (and read) as null.
  const stats = { ...result.stats, mounts: result.stats.mounts ?? result.mounts };
  return db.transaction(async () => {
    const { lastID: fitId } = await db.run(
      `INSERT INTO fits (session_id, job_id, created_at, label, config, body_model, betas, first_frame,
                         frame_count, quality_fields, stats)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        sessionId,
        jobId,
        new Date().toISOString(),
        meta.label,
        JSON.stringify(result.config),
        meta.bodyModel,
        JSON.stringify(Array.from(result.betas)),
        meta.firstFrame,
        frames,
        JSON.stringify(result.qualityFields),
        JSON.stringify(stats),
      ],
    );
    const write = async (name: FitTrackName, names: string[], frameShape: number[], data: Float32Array) => {
      const per = frameShape.reduce((a, b) => a * b, 1);
      if (data.length !== frames * per)
        throw new Error(
          `${where}: ${name} has ${data.length} values, expected ${frames} frames x ${frameShape.join(' x ')} = ${frames * per}`,
        );
      await writeTrack(
        db,
        { sessionId, cameraId: null, kind: fitTrackKind(fitId, name), layout: 'fit-v1', names, frameShape },
        data,
      );
    };
    await write('theta', meta.jointNames, [meta.jointNames.length, 3], result.theta);
    await write('transl', ['x', 'y', 'z'], [3], result.transl);
    await write('quality', result.qualityFields, [result.qualityFields.length], result.quality);
    return fitId;
  });
}

/** The session's fit versions, newest first. */
export async function listFits(db: Db, sessionId: number): Promise<FitSummary[]> {
  const rows = await db.all<FitRow>('SELECT * FROM fits WHERE session_id = ? ORDER BY id DESC', [sessionId]);
  return rows.map(toSummary);
}

export async function getFit(db: Db, fitId: number): Promise<FitSummary | undefined> {
  const row = await db.get<FitRow>('SELECT * FROM fits WHERE id = ?', [fitId]);
  return row ? toSummary(row) : undefined;
}

/**
 * Session frames [start, start + count) of one of a fit's tracks, clamped to the fit; `start` of the
 * answer is a session frame.
 */
export async function readFitTrack(
  db: Db,
  fit: FitSummary,
  name: FitTrackName,
  start: number,
  count: number,
): Promise<{ start: number; count: number; data: Float32Array }> {
  const track = await findTrack(db, fit.sessionId, null, fitTrackKind(fit.id, name));
  if (!track) throw new Error(`fit #${fit.id} of session #${fit.sessionId}: its ${name} track is missing`);
  // Frames before the fit clip the count as well as the start.
  const from = Math.max(start, fit.firstFrame);
  const block = await readTrackRange(db, track, from - fit.firstFrame, start + count - from);
  return { start: block.start + fit.firstFrame, count: block.count, data: block.data };
}

export interface FitPoses {
  start: number;
  count: number;
  /** count x J x 3 axis-angle. */
  theta: Float32Array;
  /** count x 3. */
  transl: Float32Array;
}

export async function readFitPoses(db: Db, fit: FitSummary, start: number, count: number): Promise<FitPoses> {
  const theta = await readFitTrack(db, fit, 'theta', start, count);
  const transl = await readFitTrack(db, fit, 'transl', start, count);
  return { start: theta.start, count: theta.count, theta: theta.data, transl: transl.data };
}

/** The pose at one session frame; undefined outside the fit. */
export async function readFitPose(
  db: Db,
  fit: FitSummary,
  frame: number,
): Promise<{ theta: Float32Array; transl: Float32Array } | undefined> {
  const p = await readFitPoses(db, fit, frame, 1);
  return p.count === 1 ? { theta: p.theta, transl: p.transl } : undefined;
}

/** Quality rows over session frames [start, start + count) (clamped), NaN as null. */
export async function readFitQuality(
  db: Db,
  fit: FitSummary,
  start: number,
  count: number,
): Promise<FitQualityBlock> {
  const q = await readFitTrack(db, fit, 'quality', start, count);
  return {
    start: q.start,
    count: q.count,
    fields: fit.qualityFields,
    data: Array.from(q.data, (v) => (Number.isFinite(v) ? v : null)),
  };
}

/** The subject profile of a session's meta (session.json `subject`); undefined when the session is not ready. */
export async function getSessionSubject(
  db: Db,
  sessionId: number,
): Promise<{ bodyModel?: string; betas?: number[] } | undefined> {
  const row = await db.get<{ meta: string }>(`SELECT meta FROM sessions WHERE id = ? AND state = 'ready'`, [
    sessionId,
  ]);
  if (!row) return undefined;
  let subject: unknown;
  try {
    subject = (JSON.parse(row.meta) as { subject?: unknown }).subject;
  } catch {
    throw new Error(`session #${sessionId}: its stored meta is not JSON`);
  }
  if (typeof subject !== 'object' || subject === null) return {};
  const s = subject as Record<string, unknown>;
  return {
    bodyModel: typeof s.bodyModel === 'string' ? s.bodyModel : undefined,
    betas: Array.isArray(s.betas) ? s.betas.map(Number) : undefined,
  };
}
