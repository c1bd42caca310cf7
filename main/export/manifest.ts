import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BodyModel } from '../body/model';
import { findAppRoot } from '../cli/paths';
import type { SegmentCounts } from './babel';
import { BVH_UNITS } from './bvh';
import { canonicalJson, sha256Hex } from './canonical-json';
import type { ExportFormat } from './formats';
import type { PlannedSession } from './plan';
import { splitNames, type SplitSpec } from './splits';
import type { StagedFile } from './staging';

/**
 * manifest.json: provenance of an export. Everything in it follows from the library and the request,
 * except `exportedAt` (SOURCE_DATE_EPOCH when set, for reproducible builds), so two exports of the
 * same input differ in that one field. Files are listed by path with size and sha256 (the manifest
 * itself is not listed).
 */

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;

/** package.json's version of the running app. */
export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(join(findAppRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Now, or SOURCE_DATE_EPOCH (seconds since 1970) when the environment sets it. */
export function exportTime(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch.trim() !== '') {
    if (!/^\d+$/.test(epoch.trim()))
      throw new Error(`SOURCE_DATE_EPOCH "${epoch}" is not a whole number of seconds`);
    return new Date(Number(epoch) * 1000).toISOString();
  }
  return new Date().toISOString();
}

/** sha256 of the fit config's canonical JSON (keys sorted, no spaces). */
export function configHash(config: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(config));
}

const CONVENTIONS: Record<ExportFormat, string> = {
  amass:
    '<sequence>_poses.npz: poses (T x 3J float64 axis-angle, model joint order, root first), trans (T x 3 metres), ' +
    'betas, gender, mocap_framerate; world Z-up',
  bvh: `<sequence>.bvh: ${BVH_UNITS.length}, ${BVH_UNITS.up}-up, channels ${BVH_UNITS.rotations}; offsets are the rest joints for the fit's betas; leaves end in an End Site at offset 0`,
  glb: '<sequence>.glb: Y-up metres; shaped rest mesh skinned to one bone per joint (up to 8 influences), animation "motion" at the session frame rate',
  npy: '<sequence>_joints.npy: T x J x 3 float32 posed joints, metres, world Z-up, model joint order',
  babel:
    'babel.json per split: per sequence frame_ann.labels with start_t/end_t seconds from the sequence start',
  csv: 'annotations.csv per split: sequence,tier,start_frame,end_frame,start_s,end_s,label,source',
  coco: 'coco/<camera>.json: COCO keypoints, one image per sequence frame; v = 2 detected, 0 missing',
};

export interface ManifestSession {
  planned: PlannedSession;
  counts: SegmentCounts;
  motifModels: { id: number; name: string | null }[];
  /** Frame ranges the annotator marked bad, [start, end) in SEQUENCE frames, clipped to the sequence. */
  badFrames: [number, number][];
}

export interface ManifestInput {
  formats: readonly ExportFormat[];
  split?: SplitSpec;
  sessions: readonly ManifestSession[];
  models: ReadonlyMap<string, { model: BodyModel; file: string }>;
  files: readonly StagedFile[];
  exportedAt: string;
  version: string;
}

function splitRule(spec: SplitSpec | undefined): Record<string, unknown> {
  if (!spec) return { rule: 'none' };
  if (spec.kind === 'subjects') return { rule: 'subjects', lists: spec.lists };
  return {
    rule: 'ratios',
    ratios: spec.ratios,
    order: spec.seed === undefined ? 'subject name' : 'seeded shuffle',
    seed: spec.seed ?? null,
  };
}

export function buildManifest(m: ManifestInput): Record<string, unknown> {
  const splits: Record<string, { subjects: string[]; sequences: string[] }> = {};
  for (const name of splitNames(m.split)) splits[name] = { subjects: [], sequences: [] };
  for (const { planned: p } of m.sessions) {
    const s = splits[p.split];
    if (!s.subjects.includes(p.subject)) s.subjects.push(p.subject);
    s.sequences.push(p.sequence);
  }
  const bodyModels: Record<string, unknown> = {};
  for (const [key, { model, file }] of m.models)
    bodyModels[key] = {
      name: model.name,
      sha256: sha256Hex(readFileSync(file)),
      joints: model.jointNames,
      parents: Array.from(model.parents),
      betaNames: model.betaNames,
      upAxis: model.upAxis,
    };
  return {
    manifestVersion: MANIFEST_VERSION,
    app: { name: 'motion-studio', version: m.version },
    exportedAt: m.exportedAt,
    formats: [...m.formats],
    conventions: {
      frames:
        'a sequence is the frames of its fit (else of its session): sequence frame 0 is session frame firstFrame; ' +
        'segments are [start, end) in sequence frames; seconds = frame / fps',
      ...Object.fromEntries(m.formats.map((f) => [f, CONVENTIONS[f]])),
    },
    split: { ...splitRule(m.split), splits },
    bodyModels,
    sessions: m.sessions.map(({ planned: p, counts, motifModels, badFrames }) => ({
      sessionId: p.session.id,
      name: p.session.name,
      sequence: p.sequence,
      subject: p.subject,
      split: p.split,
      fps: p.session.fps,
      sessionFrames: p.session.frameCount,
      firstFrame: p.firstFrame,
      frameCount: p.frameCount,
      badFrames,
      fit: p.fit && {
        id: p.fit.id,
        label: p.fit.label,
        createdAt: p.fit.createdAt,
        configHash: configHash(p.fit.config),
        bodyModel: p.fit.bodyModel,
        betas: p.fit.betas,
      },
      motifModels,
      annotations: counts,
      cameras: p.session.cameras.map((c) => ({
        name: c.name,
        role: c.role,
        keypoints: c.keypoints?.layout ?? null,
      })),
    })),
    files: m.files,
  };
}

export function manifestText(manifest: Record<string, unknown>): string {
  return canonicalJson(manifest, 2) + '\n';
}
