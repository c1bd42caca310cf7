import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BODY_MODEL_SLOTS, type BodyModelSlot, type FitSummary, type SessionDetail } from '../../preload/api';
import { FOOT_POSE_FIELDS, FOOT_POSE_TRACK, POSE_STATUS_CODES } from '../calibration/localize-job';
import { throwIfAborted } from '../capture/errors';
import type { JobContext } from '../capture/import-session';
import type { Db } from '../store/db';
import { getSessionSubject, saveFit } from '../store/fits';
import { getSession } from '../store/sessions';
import { getSettings } from '../store/settings';
import { findTrack, readTrackRange, type TrackRow } from '../store/tracks';
import { fitConfig, fitLabel } from './config';
import { bodyModelPath, defaultNativeDir, loadFitModel, OPEN_MODEL } from './fit-scene';
import { fitSequence } from './fit-sequence';
import type { FitFootCamera, FitInput, FitView } from './types';

/**
 * The body-fit job: reads a session out of the store into a FitInput (room-camera keypoints, localised
 * foot-camera poses, the subject's model and shape), runs fitSequence, and stores the result as a new
 * fit version in one transaction at the end, so a cancelled or failed job stores nothing.
 */

export interface FitJobParams {
  sessionId: number;
  ground?: boolean;
  footCameras?: boolean;
  /** Session frames [start, start + count); default the frames any room camera has keypoints for. */
  start?: number;
  count?: number;
}

export interface FitJobResult {
  fitId: number;
  sessionId: number;
  firstFrame: number;
  frameCount: number;
  views: string[];
  footCameras: string[];
  /** What the run changed from the request (e.g. foot cameras asked for but none localised). */
  notes: string[];
  stats: FitSummary['stats'];
}

/** A foot-pose frame's weight from its PnP quality: 1 / (1 + (rms / 2 px)^2), a quarter for interpolated. */
export const FOOT_RMS_SCALE_PX = 2;
export const INTERPOLATED_WEIGHT = 0.25;

const FOOT_FIELDS = FOOT_POSE_FIELDS.length;
const RMS = FOOT_POSE_FIELDS.indexOf('rms');
const STATUS = FOOT_POSE_FIELDS.indexOf('status');

/**
 * Foot-pose track rows (FOOT_POSE_FIELDS) -> FitFootCamera poses (R 9, t 3) and weights. An
 * interpolated frame has no rms of its own: it takes the larger rms of the nearest ok frames around it.
 * Poses are NaN wherever the weight is 0.
 */
export function footPoseWeights(rows: Float32Array): { poses: Float32Array; weights: Float32Array } {
  const n = rows.length / FOOT_FIELDS;
  const poses = new Float32Array(n * 12).fill(NaN);
  const weights = new Float32Array(n);
  const okRms = (i: number) =>
    rows[i * FOOT_FIELDS + STATUS] === POSE_STATUS_CODES.ok ? rows[i * FOOT_FIELDS + RMS] : NaN;
  // Nearest ok rms before each frame (forward pass) and after it (backward pass).
  const before = new Float32Array(n).fill(NaN);
  const after = new Float32Array(n).fill(NaN);
  for (let i = 1; i < n; i++) before[i] = Number.isFinite(okRms(i - 1)) ? okRms(i - 1) : before[i - 1];
  for (let i = n - 2; i >= 0; i--) after[i] = Number.isFinite(okRms(i + 1)) ? okRms(i + 1) : after[i + 1];
  for (let i = 0; i < n; i++) {
    const o = i * FOOT_FIELDS;
    const status = rows[o + STATUS];
    let rms: number;
    let scale = 1;
    if (status === POSE_STATUS_CODES.ok) rms = rows[o + RMS];
    else if (status === POSE_STATUS_CODES.interpolated) {
      const around = [before[i], after[i]].filter(Number.isFinite);
      rms = around.length > 0 ? Math.max(...around) : 0;
      scale = INTERPOLATED_WEIGHT;
    } else continue;
    const pose = rows.subarray(o, o + 12);
    if (!Number.isFinite(rms) || !pose.every(Number.isFinite)) continue;
    const r = rms / FOOT_RMS_SCALE_PX;
    weights[i] = scale / (1 + r * r);
    poses.set(pose, i * 12);
  }
  return { poses, weights };
}

/**
 * Session frames [start, start + count) of a track stored from `first_frame`, frame-major, NaN where the
 * track has no frame.
 */
async function readSessionFrames(
  db: Db,
  track: TrackRow,
  start: number,
  count: number,
): Promise<Float32Array> {
  const per = (JSON.parse(track.frame_shape) as number[]).reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * per).fill(NaN);
  const from = Math.max(start, track.first_frame);
  const block = await readTrackRange(db, track, from - track.first_frame, start + count - from);
  out.set(block.data, (block.start + track.first_frame - start) * per);
  return out;
}

/**
 * The subject's model as stored with the fit: a name of native/models (with or without .npz), a model
 * slot of the settings (smpl, smplh, smplx), or absent for the open default.
 */
async function resolveBodyModel(db: Db, session: SessionDetail, nativeDir: string, name?: string) {
  if (name === undefined || name === '') return OPEN_MODEL;
  if ((BODY_MODEL_SLOTS as readonly string[]).includes(name)) {
    const file = (await getSettings(db)).bodyModels[name as BodyModelSlot];
    if (file === null)
      throw new Error(
        `session #${session.id} (${session.name}): its subject uses the ${name} model, which is not set in the settings`,
      );
    return file;
  }
  if (isAbsolute(name)) return name;
  const rel = `models/${name.endsWith('.npz') ? name : `${name}.npz`}`;
  if (!existsSync(join(nativeDir, rel)))
    throw new Error(
      `session #${session.id} (${session.name}): its subject's body model "${name}" is not in ${join(nativeDir, 'models')}`,
    );
  return rel;
}

/** Everything a fit reads, out of the store; `bodyModel` is what the fit version records. */
export async function readFitInput(
  db: Db,
  params: FitJobParams,
  nativeDir: string,
): Promise<{ input: FitInput; bodyModel: string; notes: string[] }> {
  const session = await getSession(db, params.sessionId);
  if (!session) throw new Error(`session #${params.sessionId} does not exist`);
  const where = `session #${session.id} (${session.name})`;
  if (!(session.fps > 0)) throw new Error(`${where} has no frame rate (no camera has a video)`);
  const room = session.cameras.filter((c) => c.role === 'room' && c.keypoints !== null);
  if (room.length === 0) throw new Error(`${where} has no room camera with 2D keypoints`);
  const layouts = new Set(room.map((c) => `${c.keypoints!.layout}/${c.keypoints!.jointNames.length}`));
  if (layouts.size > 1)
    throw new Error(
      `${where}: room cameras have different keypoint layouts (${room.map((c) => `${c.name} ${c.keypoints!.layout}`).join(', ')})`,
    );

  // Frames: video frames. Default: the span any room camera has keypoints for.
  const kpStart = Math.min(...room.map((c) => c.keypoints!.firstFrame));
  const kpEnd = Math.max(...room.map((c) => c.keypoints!.firstFrame + c.keypoints!.frameCount));
  const extent = Math.max(session.frameCount, kpEnd);
  const start = params.start ?? kpStart;
  const count = params.count ?? kpEnd - start;
  if (params.count === undefined && count < 1)
    throw new Error(
      `${where}: no keypoint frames from frame ${start} on (keypoints cover [${kpStart}, ${kpEnd}))`,
    );
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(count) ||
    start < 0 ||
    count < 1 ||
    start + count > extent
  )
    throw new Error(
      `${where}: frames [${start}, ${start + count}) are outside the session's frames [0, ${extent})`,
    );

  const views: FitView[] = [];
  for (const cam of room) {
    const track = (await findTrack(db, session.id, cam.id, 'keypoints2d'))!;
    views.push({
      name: cam.name,
      calibration: cam.calibration,
      layout: cam.keypoints!.layout,
      keypoints: await readSessionFrames(db, track, start, count),
    });
  }

  const notes: string[] = [];
  const footCameras: FitFootCamera[] = [];
  if (params.footCameras !== false) {
    const feet = session.cameras.filter((c) => c.role !== 'room');
    for (const cam of feet) {
      const track = await findTrack(db, session.id, cam.id, FOOT_POSE_TRACK);
      if (!track) {
        notes.push(`foot camera ${cam.name} is not localised; fitted without it`);
        continue;
      }
      const { poses, weights } = footPoseWeights(await readSessionFrames(db, track, start, count));
      footCameras.push({
        name: cam.name,
        role: cam.role as FitFootCamera['role'],
        calibration: cam.calibration,
        poses,
        weights,
      });
    }
    if (footCameras.length === 0)
      notes.push(
        feet.length === 0
          ? `${where} has no foot cameras; fitted without the foot-camera term`
          : `no foot camera of ${where} is localised (run localize first); fitted without the foot-camera term`,
      );
  }

  const subject = (await getSessionSubject(db, session.id)) ?? {};
  const bodyModel = await resolveBodyModel(db, session, nativeDir, subject.bodyModel);
  const model = loadFitModel(bodyModelPath(nativeDir, bodyModel));
  let betas: Float64Array | null = null;
  if (subject.betas) {
    if (subject.betas.length !== model.numBetas || !subject.betas.every(Number.isFinite))
      throw new Error(
        `${where}: its subject has ${subject.betas.length} betas; ${model.name} (${bodyModel}) takes ${model.numBetas} finite values`,
      );
    betas = Float64Array.from(subject.betas);
  }
  return {
    input: { model, fps: session.fps, firstFrame: start, frameCount: count, betas, views, footCameras },
    bodyModel,
    notes,
  };
}

/** Runs a fit of a session and stores it as a new version. */
export async function runFitJob(
  db: Db,
  params: FitJobParams,
  ctx: JobContext,
  nativeDir = defaultNativeDir(),
): Promise<FitJobResult> {
  ctx.progress(0, 'reading keypoints');
  const { input, bodyModel, notes } = await readFitInput(db, params, nativeDir);
  const config = fitConfig({ ground: params.ground, footCameras: params.footCameras });
  // The stored config says what the fit really used.
  if (input.footCameras.length === 0) config.footCameras = false;
  throwIfAborted(ctx.signal);
  ctx.progress(0.05, 'fitting');
  const result = await fitSequence(input, config, (f, m) => ctx.progress(0.05 + 0.93 * f, m), ctx.signal);
  throwIfAborted(ctx.signal);
  ctx.progress(0.99, 'storing the fit');
  const fitId = await saveFit(db, params.sessionId, ctx.jobId, result, {
    bodyModel,
    jointNames: input.model.jointNames,
    firstFrame: input.firstFrame,
    frameCount: input.frameCount,
    label: fitLabel(result.config),
  });
  return {
    fitId,
    sessionId: params.sessionId,
    firstFrame: input.firstFrame,
    frameCount: input.frameCount,
    views: input.views.map((v) => v.name),
    footCameras: input.footCameras.map((c) => c.name),
    notes,
    stats: result.stats,
  };
}
