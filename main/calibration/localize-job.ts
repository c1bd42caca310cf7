import type { Db } from '../store/db';
import { getMedia, getSession, getSessionBoards } from '../store/sessions';
import { writeTrack } from '../store/tracks';
import type { JobContext } from '../capture/import-session';
import { type BoardSpec, validateBoardSpec } from './charuco-board';
import { decodeGrayFrames } from '../capture/gray-frames';
import { type LocalizedFrame, charucoDetectFn, localizeFrames } from './localize';
import { loadOpenCv } from './opencv';
import type { BoardCorners } from './pnp';
import { concatFloat32 } from '../body/ndarray';

/**
 * The foot-camera localisation job: every foot camera of a session is localised from the session's
 * boards, and each camera's per-frame poses are stored as one track (kind `foot-pose`) in a single
 * transaction at the end, replacing an earlier run's, so a cancelled or failed job leaves the
 * previous result untouched.
 */

export const FOOT_POSE_TRACK = 'foot-pose';
/** One frame of a foot-pose track: R (9, world -> camera), t (3), rms (px), corners, status code, resolved. */
export const FOOT_POSE_FIELDS = [
  ...['r00', 'r01', 'r02', 'r10', 'r11', 'r12', 'r20', 'r21', 'r22'],
  ...['tx', 'ty', 'tz'],
  'rms',
  'corners',
  'status',
  'resolved',
];
export const FOOT_CORNERS_TRACK = 'foot-corners';
/** Detected corners kept per frame for review: (board index, corner id, u, v), NaN-padded. */
export const MAX_CORNERS_PER_FRAME = 96;
/** Status codes stored in the track (and shown in the UI's status strip). */
export const POSE_STATUS_CODES = { none: 0, ok: 1, ambiguous: 2, interpolated: 3 } as const;

export interface LocalizeJobParams {
  sessionId: number;
  /** Longest gap bridged by interpolation, frames (default 5). */
  maxGap?: number;
}

export interface LocalizeCameraSummary {
  cameraId: number;
  name: string;
  frames: number;
  counts: Record<string, number>;
  msPerFrame: number;
}

export async function localizeSession(
  db: Db,
  params: LocalizeJobParams,
  ctx: JobContext,
): Promise<{ sessionId: number; cameras: LocalizeCameraSummary[] }> {
  const session = await getSession(db, params.sessionId);
  if (!session) throw new Error(`session #${params.sessionId} does not exist`);
  const boards = await sessionBoards(db, params.sessionId);
  if (boards.length === 0)
    throw new Error(`session #${params.sessionId} (${session.name}) has no ChArUco boards to localise from`);
  const feet = session.cameras.filter((c) => c.role === 'foot-left' || c.role === 'foot-right');
  if (feet.length === 0)
    throw new Error(`session #${params.sessionId} (${session.name}) has no foot cameras`);
  const cv = await loadOpenCv();
  const results: Array<{
    camera: (typeof feet)[number];
    frames: LocalizedFrame[];
    corners: Float32Array;
    summary: LocalizeCameraSummary;
  }> = [];
  for (const [k, cam] of feet.entries()) {
    const media = await getMedia(db, params.sessionId, cam.id);
    if (!media || !cam.video)
      throw new Error(`camera ${cam.name} of session #${params.sessionId} has no video`);
    const { width, height, K, dist } = cam.calibration;
    const lens = { K, dist };
    const detector = charucoDetectFn(cv, boards, lens);
    // Keep what was detected in each frame (in decode order) for the review overlay.
    const seen: Float32Array[] = [];
    const detect = (gray: Parameters<typeof detector.detect>[0]) => {
      const found = detector.detect(gray);
      seen.push(packCorners(found, boards));
      return found;
    };
    try {
      const result = await localizeFrames(
        cv,
        lens,
        boards,
        decodeGrayFrames(media.path, width, height, ctx.signal),
        detect,
        { maxGap: params.maxGap ?? 5, frameCount: cam.video.frameCount },
        (f) => ctx.progress((k + f) / feet.length, `localising ${cam.name}`),
        ctx.signal,
      );
      results.push({
        camera: cam,
        frames: result.frames,
        corners: concatFloat32(seen),
        summary: {
          cameraId: cam.id,
          name: cam.name,
          frames: result.frames.length,
          counts: result.counts,
          msPerFrame: result.msPerFrame,
        },
      });
    } finally {
      detector.delete();
    }
  }
  ctx.progress(0.99, 'storing poses');
  await db.transaction(async () => {
    for (const { camera, frames, corners } of results) {
      await db.run('DELETE FROM tracks WHERE session_id = ? AND camera_id = ? AND kind IN (?, ?)', [
        params.sessionId,
        camera.id,
        FOOT_POSE_TRACK,
        FOOT_CORNERS_TRACK,
      ]);
      await writeTrack(
        db,
        {
          sessionId: params.sessionId,
          cameraId: camera.id,
          kind: FOOT_CORNERS_TRACK,
          layout: 'board-id-u-v',
          names: boards.map((b) => b.name),
          frameShape: [MAX_CORNERS_PER_FRAME, 4],
        },
        corners,
      );
      await writeTrack(
        db,
        {
          sessionId: params.sessionId,
          cameraId: camera.id,
          kind: FOOT_POSE_TRACK,
          layout: 'foot-pose-v1',
          names: FOOT_POSE_FIELDS,
          frameShape: [FOOT_POSE_FIELDS.length],
        },
        packPoses(frames),
      );
    }
  });
  return { sessionId: params.sessionId, cameras: results.map((r) => r.summary) };
}

/** Frames -> float32 rows of FOOT_POSE_FIELDS (NaN pose where there is none). */
export function packPoses(frames: readonly LocalizedFrame[]): Float32Array {
  const n = FOOT_POSE_FIELDS.length;
  const out = new Float32Array(frames.length * n).fill(NaN);
  frames.forEach((f, i) => {
    const o = i * n;
    if (f.status !== 'none') {
      for (let k = 0; k < 9; k++) out[o + k] = f.R[k];
      for (let k = 0; k < 3; k++) out[o + 9 + k] = f.t[k];
      out[o + 12] = f.rms;
    }
    out[o + 13] = f.corners;
    out[o + 14] = POSE_STATUS_CODES[f.status];
    out[o + 15] = f.resolved ? 1 : 0;
  });
  return out;
}

/** One frame's detections as MAX_CORNERS_PER_FRAME rows of (board index, corner id, u, v). */
function packCorners(found: readonly BoardCorners[], boards: readonly BoardSpec[]): Float32Array {
  const out = new Float32Array(MAX_CORNERS_PER_FRAME * 4).fill(NaN);
  let k = 0;
  for (const b of found) {
    const bi = boards.findIndex((s) => s.name === b.name);
    for (let i = 0; i < b.ids.length && k < MAX_CORNERS_PER_FRAME; i++, k++) {
      out.set([bi, b.ids[i], b.corners[2 * i], b.corners[2 * i + 1]], k * 4);
    }
  }
  return out;
}

/** The boards stored with a session (session.json's `boards`, as the store reads them), checked. */
export async function sessionBoards(db: Db, sessionId: number): Promise<BoardSpec[]> {
  const boards = ((await getSessionBoards(db, sessionId)) ?? []) as unknown as BoardSpec[];
  boards.forEach(validateBoardSpec);
  return boards;
}
