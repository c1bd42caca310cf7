import type { BadFrameRange, FitSummary, UserKeypoint } from '../../preload/api';
import type { Db } from './db';
import { getFit, listFits } from './fits';

/**
 * A session's fit corrections (migration 7): frame ranges the user marked bad (listed in the export
 * manifest and shown in the review), user keypoints (a joint dragged in a camera view: a detection the refit trusts
 * far more than the detector's, refit-window.ts) and the fit version the session exports.
 *
 * Frames are session (video) frames. Every write checks its input first and throws an Error naming the
 * session (and camera, frame, joint) without changing anything.
 */

export type { UserKeypoint };
export type BadRange = BadFrameRange;

export interface UserKeypointInput {
  cameraId: number;
  frame: number;
  joint: number;
  u: number;
  v: number;
  confidence?: number;
}

export const DEFAULT_USER_CONFIDENCE = 1;

interface SessionFrames {
  where: string;
  /** Frames [0, frames) of the session: its videos, or its keypoints where they run longer. */
  frames: number;
}

/** The session's name and frame extent; throws for a missing or partial session. */
async function sessionFrames(db: Db, sessionId: number): Promise<SessionFrames> {
  const s = await db.get<{ name: string; frame_count: number; kp_end: number | null }>(
    `SELECT s.name, s.frame_count,
            (SELECT MAX(t.first_frame + t.frame_count) FROM tracks t
              WHERE t.session_id = s.id AND t.kind = 'keypoints2d') AS kp_end
       FROM sessions s WHERE s.id = ? AND s.state = 'ready'`,
    [sessionId],
  );
  if (!s) throw new Error(`session #${sessionId} does not exist`);
  return { where: `session #${sessionId} (${s.name})`, frames: Math.max(s.frame_count, s.kp_end ?? 0) };
}

function checkFrame(where: string, what: string, frame: number, frames: number, end = false): void {
  const last = end ? frames : frames - 1;
  if (!Number.isInteger(frame) || frame < 0 || frame > last)
    throw new Error(`${where}: ${what} ${frame} is not a frame of the session's ${frames} frames`);
}

// ---- bad frame ranges ----------------------------------------------------------------------------

interface BadRangeRow {
  id: number;
  session_id: number;
  start_frame: number;
  end_frame: number;
  note: string;
  created_at: string;
}

const toBadRange = (r: BadRangeRow): BadRange => ({
  id: r.id,
  sessionId: r.session_id,
  start: r.start_frame,
  end: r.end_frame,
  note: r.note,
  createdAt: r.created_at,
});

/** Marks session frames [start, end) bad. Ranges may overlap (badRangeUnion merges them). */
export async function markBadRange(
  db: Db,
  sessionId: number,
  start: number,
  end: number,
  note = '',
): Promise<BadRange> {
  const { where, frames } = await sessionFrames(db, sessionId);
  checkFrame(where, 'bad range start', start, frames);
  checkFrame(where, 'bad range end', end, frames, true);
  if (end <= start) throw new Error(`${where}: bad range [${start}, ${end}) is empty`);
  if (typeof note !== 'string') throw new Error(`${where}: a bad range's note must be text`);
  const { lastID } = await db.run(
    'INSERT INTO fit_bad_ranges (session_id, start_frame, end_frame, note, created_at) VALUES (?, ?, ?, ?, ?)',
    [sessionId, start, end, note, new Date().toISOString()],
  );
  return toBadRange((await db.get<BadRangeRow>('SELECT * FROM fit_bad_ranges WHERE id = ?', [lastID]))!);
}

/** The session's bad ranges by start frame. */
export async function listBadRanges(db: Db, sessionId: number): Promise<BadRange[]> {
  await sessionFrames(db, sessionId);
  const rows = await db.all<BadRangeRow>(
    'SELECT * FROM fit_bad_ranges WHERE session_id = ? ORDER BY start_frame, end_frame, id',
    [sessionId],
  );
  return rows.map(toBadRange);
}

/** Removes one of the session's bad ranges; returns what it removed. */
export async function removeBadRange(db: Db, sessionId: number, rangeId: number): Promise<BadRange> {
  const { where } = await sessionFrames(db, sessionId);
  const row = await db.get<BadRangeRow>('SELECT * FROM fit_bad_ranges WHERE id = ? AND session_id = ?', [
    rangeId,
    sessionId,
  ]);
  if (!row) throw new Error(`${where}: bad range #${rangeId} does not exist`);
  await db.run('DELETE FROM fit_bad_ranges WHERE id = ?', [rangeId]);
  return toBadRange(row);
}

/** Overlapping or touching ranges merged: disjoint [start, end) pairs by start (what an export skips). */
export function badRangeUnion(ranges: readonly { start: number; end: number }[]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last[1]) last[1] = Math.max(last[1], r.end);
    else out.push([r.start, r.end]);
  }
  return out;
}

// ---- user keypoints ------------------------------------------------------------------------------

interface UserKeypointRow {
  session_id: number;
  camera_id: number;
  frame: number;
  joint: number;
  u: number;
  v: number;
  confidence: number;
  created_at: string;
}

const toUserKeypoint = (r: UserKeypointRow): UserKeypoint => ({
  sessionId: r.session_id,
  cameraId: r.camera_id,
  frame: r.frame,
  joint: r.joint,
  u: r.u,
  v: r.v,
  confidence: r.confidence,
  createdAt: r.created_at,
});

/** The camera (of this session) and the joint count of its keypoint layout. */
async function keypointCamera(
  db: Db,
  where: string,
  sessionId: number,
  cameraId: number,
): Promise<{ name: string; joints: number }> {
  const cam = await db.get<{ name: string; session_id: number; names: string | null }>(
    `SELECT c.name, c.session_id, t.names FROM cameras c
       LEFT JOIN tracks t ON t.camera_id = c.id AND t.kind = 'keypoints2d'
      WHERE c.id = ?`,
    [cameraId],
  );
  if (!cam || cam.session_id !== sessionId)
    throw new Error(`${where}: camera #${cameraId} is not a camera of the session`);
  if (cam.names === null)
    throw new Error(`${where}: camera ${cam.name} has no 2D keypoints, so no keypoint layout to correct`);
  return { name: cam.name, joints: (JSON.parse(cam.names) as string[]).length };
}

/**
 * Adds a user keypoint, replacing the one of the same camera, frame and joint; returns it as stored.
 */
export async function setUserKeypoint(
  db: Db,
  sessionId: number,
  kp: UserKeypointInput,
): Promise<UserKeypoint> {
  const { where, frames } = await sessionFrames(db, sessionId);
  const cam = await keypointCamera(db, where, sessionId, kp.cameraId);
  const at = `${where}, camera ${cam.name}, frame ${kp.frame}`;
  checkFrame(`${where}, camera ${cam.name}`, 'frame', kp.frame, frames);
  if (!Number.isInteger(kp.joint) || kp.joint < 0 || kp.joint >= cam.joints)
    throw new Error(`${at}: joint ${kp.joint} is not one of the layout's ${cam.joints} keypoints`);
  if (!Number.isFinite(kp.u) || !Number.isFinite(kp.v))
    throw new Error(`${at}, joint ${kp.joint}: pixel (${kp.u}, ${kp.v}) is not finite`);
  const confidence = kp.confidence ?? DEFAULT_USER_CONFIDENCE;
  if (!(confidence > 0 && confidence <= 1))
    throw new Error(`${at}, joint ${kp.joint}: confidence ${confidence} is not in (0, 1]`);
  await db.run(
    `INSERT OR REPLACE INTO user_keypoints (session_id, camera_id, frame, joint, u, v, confidence, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [sessionId, kp.cameraId, kp.frame, kp.joint, kp.u, kp.v, confidence, new Date().toISOString()],
  );
  const row = await db.get<UserKeypointRow>(
    'SELECT * FROM user_keypoints WHERE camera_id = ? AND frame = ? AND joint = ?',
    [kp.cameraId, kp.frame, kp.joint],
  );
  return toUserKeypoint(row!);
}

/** The session's user keypoints in session frames [start, start + count) (default all), by frame, camera, joint. */
export async function listUserKeypoints(
  db: Db,
  sessionId: number,
  range: { start?: number; count?: number } = {},
): Promise<UserKeypoint[]> {
  const { where } = await sessionFrames(db, sessionId);
  const start = range.start ?? 0;
  const count = range.count ?? Number.MAX_SAFE_INTEGER - start;
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(count) || count < 0)
    throw new Error(
      `${where}: user keypoints of frames [${start}, ${start} + ${count}) is not a frame range`,
    );
  const rows = await db.all<UserKeypointRow>(
    `SELECT * FROM user_keypoints WHERE session_id = ? AND frame >= ? AND frame < ?
      ORDER BY frame, camera_id, joint`,
    [sessionId, start, start + count],
  );
  return rows.map(toUserKeypoint);
}

/** Removes the user keypoint of a camera, frame and joint; returns what it removed. */
export async function removeUserKeypoint(
  db: Db,
  sessionId: number,
  key: { cameraId: number; frame: number; joint: number },
): Promise<UserKeypoint> {
  const { where } = await sessionFrames(db, sessionId);
  const row = await db.get<UserKeypointRow>(
    'SELECT * FROM user_keypoints WHERE session_id = ? AND camera_id = ? AND frame = ? AND joint = ?',
    [sessionId, key.cameraId, key.frame, key.joint],
  );
  if (!row)
    throw new Error(
      `${where}: no user keypoint of camera #${key.cameraId} at frame ${key.frame}, joint ${key.joint}`,
    );
  await db.run('DELETE FROM user_keypoints WHERE camera_id = ? AND frame = ? AND joint = ?', [
    key.cameraId,
    key.frame,
    key.joint,
  ]);
  return toUserKeypoint(row);
}

// ---- the fit version a session exports -----------------------------------------------------------

/** Picks the fit version the session exports; the fit must be one of the session's. */
export async function pickFit(db: Db, sessionId: number, fitId: number): Promise<FitSummary> {
  const { where } = await sessionFrames(db, sessionId);
  const fit = await getFit(db, fitId);
  if (!fit) throw new Error(`${where}: fit #${fitId} does not exist`);
  if (fit.sessionId !== sessionId)
    throw new Error(`${where}: fit #${fitId} is a fit of session #${fit.sessionId}, not of this session`);
  await db.run('INSERT OR REPLACE INTO fit_picks (session_id, fit_id, picked_at) VALUES (?, ?, ?)', [
    sessionId,
    fitId,
    new Date().toISOString(),
  ]);
  return fit;
}

/** Drops the session's pick: it exports its newest fit again. Returns whether there was a pick. */
export async function clearFitPick(db: Db, sessionId: number): Promise<boolean> {
  await sessionFrames(db, sessionId);
  return (await db.run('DELETE FROM fit_picks WHERE session_id = ?', [sessionId])).changes > 0;
}

/**
 * The fit the session exports: the picked version, else the newest; undefined when it has no fit.
 * `picked` says which.
 */
export async function pickedFit(
  db: Db,
  sessionId: number,
): Promise<(FitSummary & { picked: boolean }) | undefined> {
  await sessionFrames(db, sessionId);
  const pick = await db.get<{ fit_id: number }>('SELECT fit_id FROM fit_picks WHERE session_id = ?', [
    sessionId,
  ]);
  const fit = pick ? await getFit(db, pick.fit_id) : undefined;
  if (fit) return { ...fit, picked: true };
  const newest = (await listFits(db, sessionId))[0];
  return newest ? { ...newest, picked: false } : undefined;
}
