import type { CameraCalibration } from '../../../preload/api';
import type { BoardSpec } from '../../calibration/charuco-board';
import { FOOT_CAMERA_INTRINSICS } from './foot-camera';

/**
 * The embedded sample's room, modelled on the AMD setup: a 6 x 5 x 2.6 m room (world x in [0, 6],
 * y in [0, 5], z up, floor z = 0), a desk against the north side with panels on three sides (so legs
 * behind it are hidden from the south, east and west), ChArUco boards on the ceiling, under the desk
 * top and on the floor, 8 ceiling-edge room cameras and a wide-angle camera on each foot.
 */

export const ROOM = { min: [0, 0, 0], max: [6, 5, 2.6] };
export const DESK = {
  centre: [3.2, 3.95] as [number, number],
  size: [1.6, 0.8] as [number, number],
  top: 0.75,
  thickness: 0.03,
};
export const DESK_PANEL = 0.02;

/** Board frame: x along squaresX, y along squaresY, z into the board (away from the printed face). */
const FACING_DOWN = [1, 0, 0, 0, 1, 0, 0, 0, 1]; // printed face looks down (ceiling, desk underside)
const FACING_UP = [1, 0, 0, 0, -1, 0, 0, 0, -1]; // printed face looks up (floor)

export function sampleBoards(): BoardSpec[] {
  const boards: BoardSpec[] = [];
  // 12 ceiling boards of 4 x 3 squares (1.2 x 0.9 m), 6 markers each: big enough for a foot camera
  // 2.5 m below (about 4 px per marker cell).
  const ceiling = { squaresX: 4, squaresY: 3, squareLength: 0.3, markerLength: 0.22 };
  const xs = [0.4, 1.8, 3.2, 4.6];
  const ys = [0.5, 2.1, 3.9];
  let id = 0;
  ys.forEach((y, r) =>
    xs.forEach((x, c) => {
      boards.push({
        name: `ceiling-${r * xs.length + c + 1}`,
        dictionary: 'DICT_4X4_250',
        ...ceiling,
        legacyPattern: false,
        firstMarkerId: id,
        pose: { R: FACING_DOWN, t: [x, y, ROOM.max[2] - 0.001] },
      });
      id += 6;
    }),
  );
  // Under the desk top, near its open (north) edge where a standing person's feet look up at it.
  const under = DESK.top - DESK.thickness - 0.001;
  boards.push({
    name: 'under-desk',
    dictionary: 'DICT_4X4_250',
    squaresX: 5,
    squaresY: 3,
    squareLength: 0.08,
    markerLength: 0.06,
    legacyPattern: false,
    firstMarkerId: id,
    pose: { R: FACING_DOWN, t: [DESK.centre[0] - 0.2, DESK.centre[1] + 0.1, under] },
  });
  id += 7;
  // On the floor, for the room cameras' extrinsics: 7 x 5 squares of 0.2 m.
  boards.push({
    name: 'floor',
    dictionary: 'DICT_4X4_250',
    squaresX: 7,
    squaresY: 5,
    squareLength: 0.2,
    markerLength: 0.15,
    legacyPattern: false,
    firstMarkerId: id,
    pose: { R: FACING_UP, t: [2.3, 2.6, 0.001] },
  });
  return boards;
}

/** World -> camera rotation and translation for a camera at `eye` looking at `target` (OpenCV axes). */
export function lookAt(eye: number[], target: number[]): { R: number[]; t: number[] } {
  const z = normalise([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
  const x = normalise(cross(z, [0, 0, 1]));
  const y = cross(z, x);
  const R = [...x, ...y, ...z];
  const t = [0, 1, 2].map((r) => -(R[r * 3] * eye[0] + R[r * 3 + 1] * eye[1] + R[r * 3 + 2] * eye[2]));
  return { R, t };
}

/** 8 room cameras on the ceiling edges, 1280x720, f = 800 px (77 degree field), mild barrel distortion. */
export function roomCameras(): { name: string; calibration: CameraCalibration }[] {
  const h = 2.5;
  const placements: Array<[string, number[], number[]]> = [
    ['room-1', [0.6, 0.15, h], [3.2, 3.0, 0.6]],
    ['room-2', [3.0, 0.15, h], [3.0, 3.2, 0.6]],
    ['room-3', [5.4, 0.15, h], [2.8, 3.0, 0.6]],
    ['room-4', [5.85, 2.5, h], [2.6, 3.2, 0.6]],
    ['room-5', [5.4, 4.85, h], [2.6, 2.4, 0.6]],
    ['room-6', [3.0, 4.85, h], [3.0, 2.0, 0.4]],
    ['room-7', [0.6, 4.85, h], [3.2, 2.4, 0.6]],
    ['room-8', [0.15, 2.5, h], [3.4, 3.2, 0.6]],
  ];
  return placements.map(([name, eye, target], i) => ({
    name,
    calibration: {
      width: 1280,
      height: 720,
      // Slightly different lenses per camera, as in a real rig.
      K: [800 + 6 * i, 0, 640 + (i % 3) - 1, 0, 800 + 6 * i, 360 + (i % 2), 0, 0, 1],
      dist: [-0.12 - 0.005 * i, 0.04, 0, 0, 0],
      ...lookAt(eye, target),
    },
  }));
}

/**
 * Foot camera mounts, as strapped on: on the instep, looking the way the wearer faces and `pitchDeg`
 * up, image x to the wearer's right. The rigid transform in the foot joint's frame (what the ground
 * truth records) is fixed at the sequence's first frame, where the subject stands.
 */
export interface FootMount {
  name: string;
  role: 'foot-left' | 'foot-right';
  joint: string;
  pitchDeg: number;
  /** camera centre from the foot joint at the reference frame: forward, left, up (metres) */
  place: [number, number, number];
  /** camera -> foot-joint-frame rotation (row-major) and centre offset in that frame; set by computeFrames */
  R?: number[];
  offset?: number[];
}

export function footMounts(): FootMount[] {
  return (['left', 'right'] as const).map((side) => ({
    name: `foot-${side}`,
    role: side === 'left' ? 'foot-left' : 'foot-right',
    joint: side === 'left' ? 'LeftFoot' : 'RightFoot',
    pitchDeg: 60,
    place: [0.07, 0, 0.02],
  }));
}

/**
 * Camera -> world rotation (columns = camera axes) for a camera facing `heading` (radians from +x in
 * the floor plane) pitched up by `pitch`, image x to the right of that heading.
 */
export function headingCamera(heading: number, pitch: number): number[] {
  const f = [Math.cos(heading), Math.sin(heading), 0];
  const zc = [f[0] * Math.cos(pitch), f[1] * Math.cos(pitch), Math.sin(pitch)];
  const xc = [Math.sin(heading), -Math.cos(heading), 0];
  const yc = cross(zc, xc);
  return [xc[0], yc[0], zc[0], xc[1], yc[1], zc[1], xc[2], yc[2], zc[2]];
}

export const FOOT_INTRINSICS = FOOT_CAMERA_INTRINSICS;

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function normalise(v: number[]): number[] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}
