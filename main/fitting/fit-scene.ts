import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { CameraCalibration, CameraInfo, FitFrame, FitScene, FitSummary } from '../../preload/api';
import { createWorkspace, evaluateBody, type LbsWorkspace } from '../body/lbs';
import { loadBodyModel } from '../body/load-model';
import type { BodyModel } from '../body/model';
import { FOOT_POSE_TRACK } from '../calibration/localize-job';
import { findAppRoot } from '../cli/paths';
import { cameraCentre, projectPoint } from '../geometry/camera';
import type { Db } from '../store/db';
import { readFitPose, readFitQuality, readFitTrack } from '../store/fits';
import { getSession, getSessionBoards } from '../store/sessions';
import { findTrack, readTrackRange } from '../store/tracks';

/**
 * What the fit review shows, computed from a stored fit: the posed body at a frame (mesh and joints,
 * optionally projected into a camera with its distortion) and the scene around it (topology, cameras,
 * boards, floor). Float arrays travel as base64 of their bytes: little-endian, as on every platform
 * Node runs on.
 */

/** The open default model, relative to the native folder (what a subject without a model gets). */
export const OPEN_MODEL = 'models/anny-cmu31.npz';

/** The app's native/ folder, found from this file (sources or out/main). */
export function defaultNativeDir(): string {
  return join(findAppRoot(), 'native');
}

/** A fit's body_model as a file: relative to native/ (the shipped models) or the user's absolute path. */
export function bodyModelPath(nativeDir: string, bodyModel: string): string {
  return isAbsolute(bodyModel) ? bodyModel : join(nativeDir, bodyModel);
}

interface CachedModel {
  stamp: string;
  model: BodyModel;
  ws: LbsWorkspace;
}

/** Loaded models by file, reused while the file's size and mtime stay the same. */
const models = new Map<string, CachedModel>();

function cachedModel(file: string): CachedModel {
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch (err) {
    throw new Error(`${file}: cannot read the body model (${(err as Error).message})`, { cause: err });
  }
  const hit = models.get(file);
  if (hit?.stamp === stamp) return hit;
  const model = loadBodyModel(file);
  const entry = { stamp, model, ws: createWorkspace(model) };
  models.set(file, entry);
  return entry;
}

/** The body model in `file`, loaded once per process (and again only when the file changes). */
export function loadFitModel(file: string): BodyModel {
  return cachedModel(file).model;
}

/** Base64 of a typed array's bytes. */
export function typedBase64(a: Float32Array | Uint32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Posed mesh (V x 3) and joints (J x 3), world metres: M(beta, theta) + transl (lbs.ts). */
export function poseBody(
  file: string,
  betas: ArrayLike<number>,
  theta: ArrayLike<number>,
  transl: ArrayLike<number>,
): { vertices: Float32Array; joints: Float32Array } {
  const { model, ws } = cachedModel(file);
  if (theta.length !== model.numJoints * 3)
    throw new Error(`${file}: a pose of ${theta.length / 3} joints does not fit ${model.numJoints} joints`);
  const vertices = new Float32Array(model.numVertices * 3);
  evaluateBody(model, ws, { betas, theta, transl }, vertices);
  return { vertices, joints: Float32Array.from(ws.joints) };
}

/** N x 3 world points -> N x 2 pixels with the camera's distortion; NaN for points behind it. */
export function projectPoints(cal: CameraCalibration, points: Float32Array): Float32Array {
  const n = points.length / 3;
  const out = new Float32Array(n * 2);
  const X = new Float64Array(3);
  const px = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    X[0] = points[i * 3];
    X[1] = points[i * 3 + 1];
    X[2] = points[i * 3 + 2];
    projectPoint(cal, X, px);
    out[i * 2] = px[0];
    out[i * 2 + 1] = px[1];
  }
  return out;
}

/**
 * The camera's calibration at a session frame: room cameras are static; a foot camera's extrinsics
 * are its localised pose at that frame (undefined where it has none).
 */
export async function calibrationAtFrame(
  db: Db,
  sessionId: number,
  camera: Pick<CameraInfo, 'id' | 'role' | 'calibration'>,
  frame: number,
): Promise<CameraCalibration | undefined> {
  if (camera.role === 'room') return camera.calibration;
  const track = await findTrack(db, sessionId, camera.id, FOOT_POSE_TRACK);
  if (!track) return undefined;
  const row = (await readTrackRange(db, track, frame - track.first_frame, 1)).data;
  // FOOT_POSE_FIELDS: R (9, world -> camera) then t (3).
  if (row.length === 0 || !row.subarray(0, 12).every(Number.isFinite)) return undefined;
  return { ...camera.calibration, R: Array.from(row.subarray(0, 9)), t: Array.from(row.subarray(9, 12)) };
}

/**
 * The fitted body at a session frame inside the fit, with its quality row; with a camera of the fit's
 * session, the mesh and joints projected into it (all NaN when a foot camera has no pose there).
 */
export async function computeFitFrame(
  db: Db,
  nativeDir: string,
  fit: FitSummary,
  frame: number,
  camera?: Pick<CameraInfo, 'id' | 'role' | 'calibration'>,
): Promise<FitFrame> {
  const pose = await readFitPose(db, fit, frame);
  if (!pose)
    throw new Error(
      `fit #${fit.id}: frame ${frame} is outside its frames [${fit.firstFrame}, ${fit.firstFrame + fit.frameCount})`,
    );
  const body = poseBody(bodyModelPath(nativeDir, fit.bodyModel), fit.betas, pose.theta, pose.transl);
  const quality = (await readFitQuality(db, fit, frame, 1)).data;
  const out: FitFrame = {
    fitId: fit.id,
    frame,
    vertices: typedBase64(body.vertices),
    joints: typedBase64(body.joints),
    quality,
  };
  if (camera) {
    const cal = await calibrationAtFrame(db, fit.sessionId, camera, frame);
    const project = (p: Float32Array) =>
      cal ? projectPoints(cal, p) : new Float32Array((p.length / 3) * 2).fill(NaN);
    out.projected = {
      cameraId: camera.id,
      vertices: typedBase64(project(body.vertices)),
      joints: typedBase64(project(body.joints)),
    };
  }
  return out;
}

/** A board's four outer chessboard corners in world metres (X_w = R X_b + t), x y z each, in print order. */
export function boardOuterCorners(board: {
  squaresX: number;
  squaresY: number;
  squareLength: number;
  pose: { R: number[]; t: number[] };
}): number[] {
  const w = board.squaresX * board.squareLength;
  const h = board.squaresY * board.squareLength;
  const { R, t } = board.pose;
  const out: number[] = [];
  for (const [x, y] of [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ]) {
    out.push(R[0] * x + R[1] * y + t[0], R[3] * x + R[4] * y + t[1], R[6] * x + R[7] * y + t[2]);
  }
  return out;
}

/** Axis-aligned rectangle (x0, y0, x1, y1) around the finite (x, y) pairs, grown by `margin` metres. */
export function floorRect(xy: ArrayLike<number>, margin = 0.5): number[] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  if (x0 > x1) return [-margin, -margin, margin, margin];
  return [x0 - margin, y0 - margin, x1 + margin, y1 + margin];
}

/**
 * Topology of the fit's model and the scene of its session: cameras, boards (outer corners) and a floor
 * covering the room cameras, the boards and the fitted path. Undefined when the session is not ready.
 */
export async function computeFitScene(
  db: Db,
  nativeDir: string,
  fit: FitSummary,
): Promise<FitScene | undefined> {
  const session = await getSession(db, fit.sessionId);
  if (!session) return undefined;
  const model = loadFitModel(bodyModelPath(nativeDir, fit.bodyModel));
  const boards = ((await getSessionBoards(db, fit.sessionId)) ?? [])
    .filter((b) => typeof b.pose === 'object' && b.pose !== null)
    .map((b) => ({
      name: String(b.name),
      corners: boardOuterCorners(b as unknown as Parameters<typeof boardOuterCorners>[0]),
    }));
  const xy: number[] = [];
  const centre = new Float64Array(3);
  // Foot cameras' stored extrinsics are placeholders (their poses are per frame): room cameras only.
  for (const c of session.cameras)
    if (c.role === 'room') xy.push(...cameraCentre(c.calibration, centre).subarray(0, 2));
  for (const b of boards) for (let k = 0; k < 4; k++) xy.push(b.corners[k * 3], b.corners[k * 3 + 1]);
  const path = (await readFitTrack(db, fit, 'transl', fit.firstFrame, fit.frameCount)).data;
  for (let i = 0; i < path.length; i += 3) xy.push(path[i], path[i + 1]);
  return {
    faces: typedBase64(model.faces),
    parents: Array.from(model.parents),
    jointNames: model.jointNames,
    cameras: session.cameras.map((c) => ({
      id: c.id,
      name: c.name,
      role: c.role,
      calibration: c.calibration,
    })),
    boards,
    floor: floorRect(xy),
  };
}
