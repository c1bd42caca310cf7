import { beforeAll, describe, expect, it } from 'vitest';
import { boardImage, type BoardSpec } from '../../main/calibration/charuco-board';
import {
  calibrateRoomCameras,
  checkCameraPose,
  type RoomCameraView,
  type RoomExtrinsics,
} from '../../main/calibration/extrinsics';
import { loadOpenCv, type OpenCv } from '../../main/calibration/opencv';
import { deskBoxes } from '../../main/capture/sample/make-sample';
import { RoomRenderer, type StaticScene } from '../../main/capture/sample/room-render';
import { lookAt, ROOM, roomCameras, sampleBoards } from '../../main/capture/sample/scene';
import { cameraCentre } from '../../main/geometry/camera';
import type { CameraCalibration } from '../../preload/api';

/**
 * The sample's 8 room cameras look at its floor board, rendered as the sample renders it (floor, desk and
 * the board's image on a quad at its spec'd pose); each camera is placed from its own image alone.
 */

let cv: OpenCv;
let floor: BoardSpec;
let views: (RoomCameraView & { truth: CameraCalibration })[];
let solved: RoomExtrinsics;
let solveMs: number;

/** The room as the room cameras see it, with the floor board (as sample-worker's roomScene). */
function floorScene(spec: BoardSpec): StaticScene {
  const image = boardImage(cv, spec, 96);
  const { R, t } = spec.pose;
  const w = spec.squaresX * spec.squareLength;
  const h = spec.squaresY * spec.squareLength;
  const [x1, y1] = ROOM.max;
  return {
    quads: [
      { origin: [0, 0, 0], edgeU: [x1, 0, 0], edgeV: [0, y1, 0], rgb: [120, 100, 80], cellSize: 0.25 },
      {
        origin: [t[0], t[1], t[2]],
        edgeU: [R[0] * w, R[3] * w, R[6] * w],
        edgeV: [R[1] * h, R[4] * h, R[7] * h],
        texture: { width: image.width, height: image.height, channels: 1, data: image.data },
        cellSize: 0.1,
      },
    ],
    boxes: deskBoxes(),
  };
}

function renderGray(cal: CameraCalibration, scene: StaticScene): RoomCameraView['image'] {
  const r = new RoomRenderer(cal, scene);
  const rgb = r.background.colour;
  const data = new Uint8Array(r.width * r.height);
  // BT.601 luma
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  }
  return { width: r.width, height: r.height, data };
}

/** Angle of R_a R_b^T, degrees. */
function rotationDeg(Ra: number[], Rb: number[]): number {
  let trace = 0;
  for (let k = 0; k < 9; k++) trace += Ra[k] * Rb[k];
  return (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI;
}

beforeAll(async () => {
  cv = await loadOpenCv();
  floor = sampleBoards().find((b) => b.name === 'floor')!;
  const scene = floorScene(floor);
  // A ninth camera on the ceiling looking at the west wall: it cannot see the floor board.
  const blind = {
    name: 'blind',
    calibration: { ...roomCameras()[0].calibration, ...lookAt([3, 2.5, 2.5], [0, 2.5, 2.2]) },
  };
  views = [...roomCameras(), blind].map(({ name, calibration }) => ({
    name,
    image: renderGray(calibration, scene),
    K: calibration.K,
    dist: calibration.dist,
    truth: calibration,
  }));
  const t0 = performance.now();
  solved = calibrateRoomCameras(cv, floor, views);
  solveMs = performance.now() - t0;
});

describe('room-camera extrinsics from the floor board', () => {
  it('recovers all 8 sample room cameras within 1 cm and 0.3 degrees, and reports the blind one', () => {
    expect(solved.worldFrame).toBe('board-pose');
    expect(solved.cameras.map((c) => c.name)).toEqual(roomCameras().map((c) => c.name));
    for (const cam of solved.cameras) {
      const truth = views.find((v) => v.name === cam.name)!.truth;
      const C = cameraCentre({ ...truth, R: cam.R, t: cam.t });
      const Ct = cameraCentre(truth);
      expect(Math.hypot(C[0] - Ct[0], C[1] - Ct[1], C[2] - Ct[2]), cam.name).toBeLessThan(0.01);
      expect(Math.hypot(...cam.t.map((v, i) => v - truth.t[i])), cam.name).toBeLessThan(0.01);
      expect(rotationDeg(cam.R, truth.R), cam.name).toBeLessThan(0.3);
      expect(cam.corners, cam.name).toBeGreaterThanOrEqual(12);
      expect(cam.rms, cam.name).toBeLessThan(0.5);
    }
    expect(solved.unseen).toEqual([
      { name: 'blind', corners: 0, reason: expect.stringContaining('not found') },
    ]);
    expect(solveMs).toBeLessThan(10_000);
  });

  it('catches a mirrored board pose (z pointing up out of the floor) naming the camera', () => {
    const mirrored: BoardSpec = { ...floor, pose: { R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: floor.pose.t } };
    expect(() => calibrateRoomCameras(cv, mirrored, views)).toThrow(
      /camera room-1: floor board "floor" has its z axis pointing up .* its pose is mirrored/,
    );
  });

  it('catches a pose that puts the cameras under the floor, naming the camera', () => {
    // Rotated 180 degrees about x (printed face up) but 5 m below the floor.
    const sunk: BoardSpec = { ...floor, pose: { R: floor.pose.R, t: [2.3, 2.6, -5] } };
    expect(() => calibrateRoomCameras(cv, sunk, views.slice(1, 2))).toThrow(
      /camera room-2: its centre \(.*\) m is not above the floor/,
    );
  });

  it('catches a solution with the board behind the camera', () => {
    const truth = views[0].truth;
    // The camera turned 180 degrees about its own y axis: every board corner gets a negative depth.
    const turned = truth.R.map((v, k) => (k < 3 || k >= 6 ? -v : v));
    const t = [-truth.t[0], truth.t[1], -truth.t[2]];
    const corners = [2.5, 2.0, 0.001, 3.5, 2.4, 0.001];
    expect(() => checkCameraPose('room-1', floor, truth.R, truth.t, corners)).not.toThrow();
    expect(() => checkCameraPose('room-1', floor, turned, t, corners)).toThrow(
      /camera room-1: board "floor" lies behind the camera/,
    );
  });

  it('without a world pose in the spec, gives the poses in the board frame', () => {
    const local: BoardSpec = { ...floor, pose: { R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] } };
    const res = calibrateRoomCameras(cv, local, views.slice(2, 3));
    expect(res.worldFrame).toBe('board');
    const truth = views[2].truth;
    // board -> camera = (world -> camera) o (board -> world): R_c R_b, R_c t_b + t_c
    const { R: Rb, t: tb } = floor.pose;
    const R = [0, 1, 2].flatMap((i) =>
      [0, 1, 2].map((j) => [0, 1, 2].reduce((s, k) => s + truth.R[3 * i + k] * Rb[3 * k + j], 0)),
    );
    const t = [0, 1, 2].map(
      (i) => truth.t[i] + [0, 1, 2].reduce((s, k) => s + truth.R[3 * i + k] * tb[k], 0),
    );
    expect(rotationDeg(res.cameras[0].R, R)).toBeLessThan(0.3);
    expect(Math.hypot(...res.cameras[0].t.map((v, i) => v - t[i]))).toBeLessThan(0.01);
  });
});
