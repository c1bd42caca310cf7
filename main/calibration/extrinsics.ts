import type { CameraCalibration } from '../../preload/api';
import { cameraCentre, projectPoint, worldToCamera } from '../geometry/camera';
import { mat3MulABt, mat3MulVec } from '../geometry/rotation';
import {
  boardCornersLocal,
  CharucoBoardDetector,
  type BoardSpec,
  type CharucoDetection,
  type LensIntrinsics,
} from './charuco-board';
import { withScope, type GrayImage, type OpenCv } from './opencv';

/**
 * Room-camera extrinsics from one ChArUco board seen by several cameras of known intrinsics. Each camera
 * solves the board's pose by PnP on its own; the world frame is the board's spec'd pose (X_w = R_b X_b + t_b),
 * so a board lying on the floor with its measured pose puts every camera in room coordinates at once.
 */

/** Board -> camera pose (X_c = R X_b + t) fitted to detected ChArUco corners. */
export interface BoardPose {
  R: number[];
  t: number[];
  /** RMS reprojection error of the fitted corners, pixels. */
  rms: number;
}

/**
 * Planar PnP: IPPE (exact for a plane, picks the better of the two mirror-ambiguous poses) refined by
 * Levenberg-Marquardt (SOLVEPNP_ITERATIVE with the IPPE guess) to the minimum reprojection error.
 * objectPoints: xyz per point (board frame, z = 0); imagePoints: (u, v) per point; at least 4 points.
 */
export function solveBoardPose(
  cv: OpenCv,
  lens: LensIntrinsics,
  objectPoints: ArrayLike<number>,
  imagePoints: ArrayLike<number>,
): BoardPose {
  const n = imagePoints.length / 2;
  if (n < 4 || objectPoints.length !== 3 * n) {
    throw new Error(
      `solveBoardPose: needs >= 4 matching points, got ${n} image / ${objectPoints.length / 3} object`,
    );
  }
  const { R, t } = withScope((keep) => {
    const obj = keep(cv.matFromArray(n, 1, cv.CV_32FC3, objectPoints));
    const img = keep(cv.matFromArray(n, 1, cv.CV_32FC2, imagePoints));
    const K = keep(cv.matFromArray(3, 3, cv.CV_64FC1, lens.K));
    const dist = keep(cv.matFromArray(1, lens.dist.length, cv.CV_64FC1, lens.dist));
    const rvec = keep(new cv.Mat());
    const tvec = keep(new cv.Mat());
    const Rm = keep(new cv.Mat());
    cv.solvePnP(obj, img, K, dist, rvec, tvec, false, cv.SOLVEPNP_IPPE);
    cv.solvePnP(obj, img, K, dist, rvec, tvec, true, cv.SOLVEPNP_ITERATIVE);
    cv.Rodrigues(rvec, Rm);
    return { R: Array.from(Rm.data64F), t: Array.from(tvec.data64F) };
  });
  const cam: CameraCalibration = { width: 0, height: 0, K: lens.K, dist: lens.dist, R, t };
  return { R, t, rms: reprojectionRms(cam, objectPoints, imagePoints) };
}

/** sqrt(mean |project(X_i) - x_i|^2) over the points; Infinity when a point falls behind the camera. */
function reprojectionRms(
  cam: CameraCalibration,
  objectPoints: ArrayLike<number>,
  imagePoints: ArrayLike<number>,
): number {
  const n = imagePoints.length / 2;
  const X = new Float64Array(3);
  const uv = new Float64Array(2);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    X[0] = objectPoints[3 * i];
    X[1] = objectPoints[3 * i + 1];
    X[2] = objectPoints[3 * i + 2];
    projectPoint(cam, X, uv);
    const du = uv[0] - imagePoints[2 * i];
    const dv = uv[1] - imagePoints[2 * i + 1];
    sum += du * du + dv * dv;
  }
  return Number.isNaN(sum) ? Infinity : Math.sqrt(sum / n);
}

/** Board-frame object points (xyz) of the detected ChArUco corner ids. */
export function detectedObjectPoints(spec: BoardSpec, ids: Int32Array): Float64Array {
  const local = boardCornersLocal(spec);
  const out = new Float64Array(3 * ids.length);
  for (let i = 0; i < ids.length; i++) out.set(local.subarray(3 * ids[i], 3 * ids[i] + 3), 3 * i);
  return out;
}

/** A room camera to place: its name, one grayscale image showing the board, and its intrinsics. */
export interface RoomCameraView extends LensIntrinsics {
  name: string;
  image: GrayImage;
}

/** World -> camera extrinsics of one camera (X_c = R X_w + t), with its fit quality. */
export interface RoomCameraPose {
  name: string;
  R: number[];
  t: number[];
  /** RMS reprojection error of the board corners, pixels. */
  rms: number;
  /** ChArUco corners used. */
  corners: number;
}

export interface RoomExtrinsics {
  board: string;
  /** 'board-pose': world = the spec's pose (room coordinates, Z up); 'board': the spec has the identity pose. */
  worldFrame: 'board-pose' | 'board';
  cameras: RoomCameraPose[];
  /** Cameras that did not see enough of the board: no pose, not an error. */
  unseen: { name: string; corners: number; reason: string }[];
}

export interface ExtrinsicsOptions {
  /** Fewest ChArUco corners for a pose (default 6). */
  minCorners?: number;
}

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** True when the spec's pose is the identity: there is no room frame to map into. */
export function hasWorldPose(spec: BoardSpec): boolean {
  const { R, t } = spec.pose;
  return !(R.every((v, i) => Math.abs(v - IDENTITY[i]) < 1e-12) && t.every((v) => v === 0));
}

/**
 * Places every camera in the world of `spec`'s pose from its view of the board. Cameras that see fewer
 * than minCorners corners are listed in `unseen`; a pose failing a sanity check (see checkCameraPose)
 * throws an Error naming the camera.
 */
export function calibrateRoomCameras(
  cv: OpenCv,
  spec: BoardSpec,
  views: RoomCameraView[],
  opts: ExtrinsicsOptions = {},
): RoomExtrinsics {
  const minCorners = opts.minCorners ?? 6;
  const worldFrame = hasWorldPose(spec) ? 'board-pose' : 'board';
  const result: RoomExtrinsics = { board: spec.name, worldFrame, cameras: [], unseen: [] };
  for (const view of views) {
    const detector = new CharucoBoardDetector(cv, spec, { K: view.K, dist: view.dist });
    let det: CharucoDetection;
    try {
      det = detector.detect(view.image);
    } finally {
      detector.delete();
    }
    const corners = det.ids.length;
    if (corners < minCorners) {
      const reason =
        corners === 0
          ? `board "${spec.name}" not found (${det.markerIds.length} of its markers seen)`
          : `only ${corners} ChArUco corners of board "${spec.name}" (need ${minCorners})`;
      result.unseen.push({ name: view.name, corners, reason });
      continue;
    }
    result.cameras.push(placeCamera(cv, spec, view, det));
  }
  return result;
}

/** One camera's world pose from its detection: PnP in the board frame, then through the board's pose. */
export function placeCamera(
  cv: OpenCv,
  spec: BoardSpec,
  view: RoomCameraView,
  det: CharucoDetection,
): RoomCameraPose {
  const object = detectedObjectPoints(spec, det.ids);
  const board = solveBoardPose(cv, view, object, det.corners);
  const { R, t } = hasWorldPose(spec) ? composeWorldToCamera(board, spec.pose) : { R: board.R, t: board.t };
  checkCameraPose(view.name, spec, R, t, worldPoints(spec, object));
  return { name: view.name, R, t, rms: board.rms, corners: det.ids.length };
}

/**
 * World -> camera from board -> camera (R_c, t_c) and board -> world (R_b, t_b):
 * X_c = R_c R_b^T (X_w - t_b) + t_c, so R = R_c R_b^T and t = t_c - R t_b.
 */
export function composeWorldToCamera(
  boardToCamera: { R: number[]; t: number[] },
  boardToWorld: { R: number[]; t: number[] },
): { R: number[]; t: number[] } {
  const R = new Array<number>(9);
  mat3MulABt(R, 0, boardToCamera.R, 0, boardToWorld.R, 0);
  const tb = boardToWorld.t;
  const t = [0, 1, 2].map(
    (r) => boardToCamera.t[r] - (R[3 * r] * tb[0] + R[3 * r + 1] * tb[1] + R[3 * r + 2] * tb[2]),
  );
  return { R, t };
}

/** Board-frame points mapped to the world of the spec's pose (or left in the board frame without one). */
function worldPoints(spec: BoardSpec, local: Float64Array): Float64Array {
  if (!hasWorldPose(spec)) return local;
  const { R, t } = spec.pose;
  const out = new Float64Array(local.length);
  for (let i = 0; i < local.length; i += 3) {
    mat3MulVec(out, i, R, 0, local, i);
    out[i] += t[0];
    out[i + 1] += t[1];
    out[i + 2] += t[2];
  }
  return out;
}

/** Height below which a flat board counts as lying on the floor, metres. */
const FLOOR_BOARD_HEIGHT = 0.05;

/**
 * Sanity checks that catch a mirrored or upside-down solution, each an Error naming the camera:
 * 1. every board corner in front of the camera (positive depth);
 * with a world pose (room frame, Z up, floor z = 0):
 * 2. a flat board at floor level must have its z axis (into the board) pointing down, so that world +Z
 *    points up out of the floor on the printed side where the cameras are;
 * 3. the camera centre C = -R^T t above the floor (z > 0).
 */
export function checkCameraPose(
  camera: string,
  spec: BoardSpec,
  R: number[],
  t: number[],
  worldCorners: ArrayLike<number>,
): void {
  const cal: CameraCalibration = { width: 0, height: 0, K: IDENTITY, dist: [], R, t };
  const Xc = new Float64Array(3);
  let minDepth = Infinity;
  for (let i = 0; i + 2 < worldCorners.length; i += 3) {
    worldToCamera(cal, [worldCorners[i], worldCorners[i + 1], worldCorners[i + 2]], Xc);
    minDepth = Math.min(minDepth, Xc[2]);
  }
  if (!(minDepth > 0)) {
    throw new Error(
      `camera ${camera}: board "${spec.name}" lies behind the camera (corner depth ${minDepth.toFixed(3)} m): ` +
        'the pose is a mirrored solution',
    );
  }
  if (!hasWorldPose(spec)) return;
  const Rb = spec.pose.R;
  const tb = spec.pose.t;
  // Third column of R_b = the board's z axis in the world.
  const zUp = Rb[8];
  if (zUp > Math.cos((10 * Math.PI) / 180) && Math.abs(tb[2]) < FLOOR_BOARD_HEIGHT) {
    throw new Error(
      `camera ${camera}: floor board "${spec.name}" has its z axis pointing up (pose.R[8] = ${zUp.toFixed(3)}), ` +
        'which puts the cameras under the floor: the board frame z points INTO the board, so a board lying ' +
        'face up on the floor needs z pointing down (e.g. R = diag(1, -1, -1)); its pose is mirrored',
    );
  }
  const C = cameraCentre(cal);
  if (!(C[2] > 0)) {
    throw new Error(
      `camera ${camera}: its centre (${[...C].map((v) => v.toFixed(3)).join(', ')}) m is not above the ` +
        `floor (z > 0): the pose of board "${spec.name}" is upside down or mirrored`,
    );
  }
}
