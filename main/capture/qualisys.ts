import { XMLParser } from 'fast-xml-parser';
import type { CameraCalibration } from '../../preload/api';
import { ImportError } from './errors';

export interface QcaCamera {
  serial: string;
  calibration: CameraCalibration;
}

/** Qualisys stores sub-pixel quantities (focal length, principal point, sensor extent) in 1/64 pixel. */
const QUALISYS_SUBPIXEL = 64;

/**
 * Reads a Qualisys `.qca.txt` calibration and converts it to our conventions.
 *
 * Conversion (the same one Pose2Sim's calib_qca_to_toml applies):
 * - `transform` gives the camera position C in mm in a world frame that is already Z-up with the floor
 *   at z = 0, and a matrix M = [r11 r12 r13; r21 r22 r23; r31 r32 r33] that maps world to Qualisys
 *   camera axes: x right, y UP, z BACKWARD (the camera looks along -z).
 * - OpenCV's camera has y down and z forward, i.e. a 180 degree turn about x: F = diag(1, -1, -1).
 *   So R = F M and t = -R C (C in metres).
 * - Intrinsics: f and c divided by 64; the principal point is relative to `fov_video`'s top-left;
 *   the image size is fov_video's extent (right - left + 1, bottom - top + 1).
 * - Distortion: radialDistortion1..3 and tangentalDistortion1..2 are the Brown-Conrady k1, k2, k3,
 *   p1, p2 in normalised coordinates, used unscaled (OpenCV order k1, k2, p1, p2, k3).
 */
export function parseQca(text: string, file: string): QcaCamera[] {
  let doc: Record<string, unknown>;
  try {
    doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text) as Record<
      string,
      unknown
    >;
  } catch (err) {
    throw new ImportError(file, `not valid XML (${(err as Error).message})`);
  }
  const calibration = doc.calibration as { cameras?: { camera?: unknown } } | undefined;
  const raw = calibration?.cameras?.camera;
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Record<
    string,
    Record<string, string> | string
  >[];
  if (list.length === 0) throw new ImportError(file, 'no <camera> entries in the Qualisys calibration');

  return list.map((cam, i) => {
    const where = `camera ${i + 1}`;
    const num = (node: unknown, key: string): number => {
      const v = (node as Record<string, string> | undefined)?.[key];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n)) {
        throw new ImportError(file, `${where}: attribute ${key} is missing or not a finite number`);
      }
      return n;
    };
    const serial = String(cam.serial ?? `cam_${i + 1}`);
    const fov = cam.fov_video;
    const tr = cam.transform;
    const intr = cam.intrinsic;
    if (!fov || !tr || !intr)
      throw new ImportError(file, `${where}: needs fov_video, transform and intrinsic`);

    const left = num(fov, 'left');
    const top = num(fov, 'top');
    const width = num(fov, 'right') - left + 1;
    const height = num(fov, 'bottom') - top + 1;

    const fx = num(intr, 'focalLengthU') / QUALISYS_SUBPIXEL;
    const fy = num(intr, 'focalLengthV') / QUALISYS_SUBPIXEL;
    const cx = num(intr, 'centerPointU') / QUALISYS_SUBPIXEL - left;
    const cy = num(intr, 'centerPointV') / QUALISYS_SUBPIXEL - top;
    const dist = [
      num(intr, 'radialDistortion1'),
      num(intr, 'radialDistortion2'),
      num(intr, 'tangentalDistortion1'),
      num(intr, 'tangentalDistortion2'),
      num(intr, 'radialDistortion3'),
    ];

    const M = ['r11', 'r12', 'r13', 'r21', 'r22', 'r23', 'r31', 'r32', 'r33'].map((k) => num(tr, k));
    const C = [num(tr, 'x') / 1000, num(tr, 'y') / 1000, num(tr, 'z') / 1000];
    // R = diag(1, -1, -1) * M
    const R = [M[0], M[1], M[2], -M[3], -M[4], -M[5], -M[6], -M[7], -M[8]];
    const t = [0, 1, 2].map((r) => -(R[3 * r] * C[0] + R[3 * r + 1] * C[1] + R[3 * r + 2] * C[2]));
    assertRotation(R, file, where);
    return {
      serial,
      calibration: { width, height, K: [fx, 0, cx, 0, fy, cy, 0, 0, 1], dist, R, t },
    };
  });
}

function assertRotation(R: number[], file: string, where: string): void {
  const det =
    R[0] * (R[4] * R[8] - R[5] * R[7]) -
    R[1] * (R[3] * R[8] - R[5] * R[6]) +
    R[2] * (R[3] * R[7] - R[4] * R[6]);
  if (Math.abs(det - 1) > 1e-3) {
    throw new ImportError(file, `${where}: transform is not a rotation (determinant ${det.toFixed(4)})`);
  }
}
