import { decodeGrayFrameAt } from '../capture/gray-frames';
import type { CameraCalibration, CameraInfo } from '../../preload/api';
import { cameraCentre } from '../geometry/camera';
import type { Db } from '../store/db';
import { getMedia, getSession } from '../store/sessions';
import type { BoardSpec } from './charuco-board';
import {
  calibrateRoomCameras,
  type RoomCameraPose,
  type RoomCameraView,
  type RoomExtrinsics,
} from './extrinsics';
import { sessionBoards } from './localize-job';
import { loadOpenCv } from './opencv';
import { rotationAngleDeg } from './pnp';

/**
 * `studio calibrate extrinsics`: the room cameras of a session in the library placed from one frame of
 * their videos by a board of the session (by default the one lying on the floor), compared with the
 * stored extrinsics and, when asked, written over them in one transaction.
 */

export interface SessionExtrinsicsOptions {
  /** Board name; default: the session's floor board (see isFloorBoard). */
  board?: string;
  /** Video frame to use (default 0). */
  frame?: number;
  /** Fewest ChArUco corners for a pose (default 6, as calibrateRoomCameras). */
  minCorners?: number;
  signal?: AbortSignal;
}

/** Change of a camera's extrinsics from the stored ones. */
export interface ExtrinsicsChange {
  /** |C_new - C_stored| of the camera centres C = -R^T t, millimetres. */
  centreMm: number;
  /** Angle of R_new R_stored^T, degrees. */
  rotationDeg: number;
}

export interface SessionCameraExtrinsics extends RoomCameraPose {
  cameraId: number;
  /** Camera centre -R^T t in the world, metres. */
  centre: number[];
  /** Against the stored extrinsics; null when none are stored (identity R and zero t). */
  change: ExtrinsicsChange | null;
}

export interface SessionExtrinsics {
  sessionId: number;
  session: string;
  board: string;
  frame: number;
  worldFrame: RoomExtrinsics['worldFrame'];
  cameras: SessionCameraExtrinsics[];
  /** Room cameras with no pose: the board not seen (or too little of it), or no video. */
  unseen: { cameraId: number; name: string; corners: number; reason: string }[];
  /** Wall time of decoding, detection and PnP, seconds. */
  seconds: number;
}

/** Height below which a board counts as lying on the floor, metres. */
const FLOOR_HEIGHT = 0.01;
/** The board's z axis (into the board) within 10 degrees of world -Z: printed face up, on the floor. */
const DOWN_COS = Math.cos((10 * Math.PI) / 180);

/** A board lying on the floor: |t_z| < 1 cm and its z axis (third column of R_b) pointing down. */
export function isFloorBoard(spec: BoardSpec): boolean {
  return Math.abs(spec.pose.t[2]) < FLOOR_HEIGHT && spec.pose.R[8] < -DOWN_COS;
}

/** The board named `name`, else the one floor board; errors name the session and list its boards. */
export function pickSessionBoard(label: string, boards: readonly BoardSpec[], name?: string): BoardSpec {
  if (boards.length === 0) throw new Error(`${label} has no ChArUco boards to calibrate from`);
  const names = boards.map((b) => b.name).join(', ');
  if (name !== undefined) {
    const spec = boards.find((b) => b.name === name);
    if (!spec) throw new Error(`${label} has no board "${name}" (boards: ${names})`);
    return spec;
  }
  const floor = boards.filter(isFloorBoard);
  if (floor.length === 1) return floor[0];
  throw new Error(
    floor.length === 0
      ? `${label} has no board lying on the floor (|t_z| < 1 cm, z axis down); name one with --board (boards: ${names})`
      : `${label} has ${floor.length} boards on the floor (${floor.map((b) => b.name).join(', ')}); name one with --board`,
  );
}

/** True when a calibration holds extrinsics: a 3x3 R and a 3-vector t that are not the identity pose. */
export function hasStoredExtrinsics(cal: CameraCalibration): boolean {
  const { R, t } = cal;
  if (!Array.isArray(R) || R.length !== 9 || !Array.isArray(t) || t.length !== 3) return false;
  if (![...R, ...t].every(Number.isFinite)) return false;
  const identity = R.every((v, i) => v === (i % 4 === 0 ? 1 : 0)) && t.every((v) => v === 0);
  return !identity;
}

/** Centre distance (mm) and rotation angle (deg) between two world -> camera poses. */
export function extrinsicsChange(
  next: { R: number[]; t: number[] },
  stored: CameraCalibration,
): ExtrinsicsChange {
  const C = cameraCentre({ ...stored, R: next.R, t: next.t });
  const Cs = cameraCentre(stored);
  return {
    centreMm: 1000 * Math.hypot(C[0] - Cs[0], C[1] - Cs[1], C[2] - Cs[2]),
    rotationDeg: rotationAngleDeg(next.R, stored.R),
  };
}

/**
 * Places every room camera of session `sessionId` from frame `frame` of its video by one of the
 * session's boards (calibrateRoomCameras with each camera's stored K and dist) and compares with the
 * stored extrinsics. Reads only: see applySessionExtrinsics to store the result.
 */
export async function computeSessionExtrinsics(
  db: Db,
  sessionId: number,
  opts: SessionExtrinsicsOptions = {},
): Promise<SessionExtrinsics> {
  const t0 = performance.now();
  const session = await getSession(db, sessionId);
  if (!session) throw new Error(`session #${sessionId} does not exist`);
  const label = `session #${sessionId} (${session.name})`;
  const frame = opts.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0)
    throw new Error(`frame must be a non-negative integer, got ${opts.frame}`);
  let boards: BoardSpec[];
  try {
    boards = await sessionBoards(db, sessionId);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
  const spec = pickSessionBoard(label, boards, opts.board);
  const rooms = session.cameras.filter((c) => c.role === 'room');
  if (rooms.length === 0) throw new Error(`${label} has no room cameras`);

  const views: RoomCameraView[] = [];
  const unseen: SessionExtrinsics['unseen'] = [];
  for (const cam of rooms) {
    const media = await getMedia(db, sessionId, cam.id);
    if (!media || !cam.video) {
      unseen.push({ cameraId: cam.id, name: cam.name, corners: 0, reason: 'no video' });
      continue;
    }
    checkCamera(label, cam, media.path, frame);
    const image = await decodeGrayFrameAt(media.path, cam.video.width, cam.video.height, frame, opts.signal);
    views.push({ name: cam.name, image, K: cam.calibration.K, dist: cam.calibration.dist ?? [] });
  }

  let solved: RoomExtrinsics;
  try {
    solved = calibrateRoomCameras(await loadOpenCv(), spec, views, { minCorners: opts.minCorners });
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
  const byName = new Map(rooms.map((c) => [c.name, c]));
  return {
    sessionId,
    session: session.name,
    board: spec.name,
    frame,
    worldFrame: solved.worldFrame,
    cameras: solved.cameras.map((pose) => {
      const cam = byName.get(pose.name)!;
      const stored = cam.calibration;
      return {
        cameraId: cam.id,
        ...pose,
        centre: [...cameraCentre({ ...stored, R: pose.R, t: pose.t })],
        change: hasStoredExtrinsics(stored) ? extrinsicsChange(pose, stored) : null,
      };
    }),
    unseen: [...unseen, ...solved.unseen.map((u) => ({ cameraId: byName.get(u.name)!.id, ...u }))].sort(
      (a, b) => a.cameraId - b.cameraId,
    ),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The frame must exist, the intrinsics be a 3x3 K, and the calibration be for the video's size. */
function checkCamera(label: string, cam: CameraInfo, video: string, frame: number): void {
  const where = `${label}: camera ${cam.name}`;
  const { K, width, height } = cam.calibration;
  if (!Array.isArray(K) || K.length !== 9 || !(K[0] > 0 && K[4] > 0)) {
    throw new Error(`${where} has no usable intrinsics K (3x3, fx, fy > 0) in its calibration`);
  }
  const v = cam.video!;
  if (width > 0 && height > 0 && (width !== v.width || height !== v.height)) {
    throw new Error(
      `${where}: video ${video} is ${v.width}x${v.height} but the calibration is for ${width}x${height}`,
    );
  }
  if (frame >= v.frameCount) {
    throw new Error(`${where}: frame ${frame} is past the end of ${video} (${v.frameCount} frames)`);
  }
}

/**
 * Writes the new R, t of every placed camera into its stored calibration (K, dist and size kept), all
 * in one transaction. Returns the number of cameras written.
 */
export async function applySessionExtrinsics(db: Db, result: SessionExtrinsics): Promise<number> {
  return db.transaction(async () => {
    let written = 0;
    for (const cam of result.cameras) {
      const row = await db.get<{ calibration: string }>(
        'SELECT calibration FROM cameras WHERE id = ? AND session_id = ?',
        [cam.cameraId, result.sessionId],
      );
      if (!row) throw new Error(`session #${result.sessionId}: camera ${cam.name} no longer exists`);
      const calibration = { ...(JSON.parse(row.calibration) as CameraCalibration), R: cam.R, t: cam.t };
      await db.run('UPDATE cameras SET calibration = ? WHERE id = ?', [
        JSON.stringify(calibration),
        cam.cameraId,
      ]);
      written++;
    }
    return written;
  });
}
