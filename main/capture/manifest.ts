import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ImportError } from './errors';
import { layoutNames } from './keypoint-layouts';
import { listOpenPoseFolder } from './openpose';
import type { CameraPlan, SessionPlan } from './session-plan';
import { resolveInside } from './paths';
import { parseQca } from './qualisys';
import { ARUCO_DICTIONARIES } from '../calibration/charuco-board';

const finite = z.number().finite();
const calibrationSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  K: z.array(finite).length(9),
  dist: z.array(finite).max(5),
  R: z.array(finite).length(9),
  t: z.array(finite).length(3),
});

const boardSchema = z.object({
  name: z.string().min(1),
  dictionary: z.enum(ARUCO_DICTIONARIES),
  squaresX: z.number().int().min(2),
  squaresY: z.number().int().min(2),
  squareLength: z.number().positive(),
  markerLength: z.number().positive(),
  legacyPattern: z.boolean(),
  firstMarkerId: z.number().int().min(0),
  /** board -> world; board frame: x along squaresX, y along squaresY, z into the board */
  pose: z.object({ R: z.array(finite).length(9), t: z.array(finite).length(3) }),
});

/** `session.json`, version 1: the studio's own session format. All paths are relative to the folder. */
export const manifestSchema = z.object({
  version: z.literal(1),
  name: z.string().min(1).optional(),
  /** nominal frame rate; videos and keypoint files carry their own */
  fps: z.number().positive().optional(),
  /** ChArUco boards with known world poses (localisation of foot cameras, room extrinsics) */
  boards: z.array(boardSchema).optional(),
  /** who was captured: body model name (a file in native/models or Settings) and shape */
  subject: z
    .object({
      name: z.string().optional(),
      bodyModel: z.string().optional(),
      betas: z.array(finite).optional(),
      heightM: z.number().positive().optional(),
    })
    .optional(),
  /** ground truth of a synthetic session (the embedded sample), relative path */
  groundTruth: z.string().optional(),
  cameras: z
    .array(
      z.object({
        name: z.string().min(1),
        role: z.enum(['room', 'foot-left', 'foot-right']).default('room'),
        video: z.string().optional(),
        calibration: z.union([calibrationSchema, z.object({ qca: z.string(), serial: z.string() })]),
        keypoints: z
          .object({ format: z.literal('openpose'), layout: z.string(), dir: z.string() })
          .optional(),
      }),
    )
    .min(1),
});
export type SessionManifest = z.infer<typeof manifestSchema>;

/** The JSON Schema of session.json (committed as native/schemas/session.schema.json for editors and tools). */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { io: 'input' }),
    title: 'Motion Studio session.json (version 1)',
    description:
      'A capture session: cameras (room, foot-left, foot-right), videos, calibrations, ChArUco boards, keypoint sources, subject.',
  };
}

export function readManifestPlan(root: string, file: string): SessionPlan {
  const path = join(root, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ImportError(path, `malformed JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ImportError(path, `${issue.path.join('.') || 'manifest'}: ${issue.message}`);
  }
  const m = parsed.data;
  const names = new Set<string>();
  const cameras = m.cameras.map((cam, i): CameraPlan => {
    const where = `${path} (cameras[${i}])`;
    if (names.has(cam.name)) throw new ImportError(path, `camera name "${cam.name}" appears twice`);
    names.add(cam.name);
    let calibration;
    if ('qca' in cam.calibration) {
      const qcaPath = resolveInside(root, cam.calibration.qca, where);
      const serial = cam.calibration.serial;
      const hit = parseQca(readFileSync(qcaPath, 'utf8'), qcaPath).find((c) => c.serial === serial);
      if (!hit) throw new ImportError(qcaPath, `no camera with serial "${serial}"`);
      calibration = hit.calibration;
    } else {
      calibration = cam.calibration;
    }
    let keypoints: CameraPlan['keypoints'] = null;
    if (cam.keypoints) {
      const jointNames = layoutNames(cam.keypoints.layout);
      if (!jointNames) throw new ImportError(where, `unknown keypoint layout "${cam.keypoints.layout}"`);
      const dir = resolveInside(root, cam.keypoints.dir, where);
      keypoints = { layout: cam.keypoints.layout.toUpperCase(), jointNames, folder: listOpenPoseFolder(dir) };
    }
    return {
      name: cam.name,
      role: cam.role,
      calibration,
      videoPath: cam.video ? resolveInside(root, cam.video, where) : null,
      keypoints,
    };
  });
  const boardNames = new Set<string>();
  const ids: Array<[number, number, string]> = [];
  for (const b of m.boards ?? []) {
    if (boardNames.has(b.name)) throw new ImportError(path, `board name "${b.name}" appears twice`);
    boardNames.add(b.name);
    if (b.markerLength >= b.squareLength)
      throw new ImportError(path, `board "${b.name}": markerLength must be less than squareLength`);
    const n = Math.floor((b.squaresX * b.squaresY) / 2);
    const clash = ids.find(([a, z]) => b.firstMarkerId < z && a < b.firstMarkerId + n);
    if (clash) throw new ImportError(path, `board "${b.name}" reuses marker ids of board "${clash[2]}"`);
    ids.push([b.firstMarkerId, b.firstMarkerId + n, b.name]);
  }
  let groundTruth: string | undefined;
  if (m.groundTruth) {
    groundTruth = resolveInside(root, m.groundTruth, `${path} (groundTruth)`);
  }
  const meta = { boards: m.boards, subject: m.subject, groundTruth };
  return { root, name: m.name ?? basename(root), format: 'studio', cameras, meta };
}
