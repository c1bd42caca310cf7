import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ImportError } from './errors';
import { layoutNames } from './keypoint-layouts';
import { listOpenPoseFolder } from './openpose';
import type { CameraPlan, SessionPlan } from './session-plan';
import { resolveInside } from './paths';
import { parseQca } from './qualisys';

const finite = z.number().finite();
const calibrationSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  K: z.array(finite).length(9),
  dist: z.array(finite).max(5),
  R: z.array(finite).length(9),
  t: z.array(finite).length(3),
});

/** `session.json`, version 1: the studio's own session format. All paths are relative to the folder. */
export const manifestSchema = z.object({
  version: z.literal(1),
  name: z.string().min(1).optional(),
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
  return { root, name: m.name ?? basename(root), format: 'studio', cameras };
}
