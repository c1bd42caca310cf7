import { join } from 'node:path';
import { encodeNpy } from '../body/npz';
import { CancelledError, throwIfAborted } from '../capture/errors';
import { defaultNativeDir } from '../fitting/fit-scene';
import { posedJoints } from '../fitting/joint-error';
import { listAnnotations } from '../store/annotations';
import type { Db } from '../store/db';
import { badRangeUnion, listBadRanges } from '../store/fit-corrections';
import { getMotifModel } from '../store/motif-models';
import {
  annotationsCsv,
  babelSequence,
  clipSegments,
  type SegmentCounts,
  type SequenceSegments,
} from './babel';
import { encodeBvh } from './bvh';
import { canonicalJson } from './canonical-json';
import { cocoDocument, readCameraKeypoints } from './coco';
import { type ExportFormat, parseFormats } from './formats';
import { encodeGlb } from './glb';
import {
  appVersion,
  buildManifest,
  exportTime,
  MANIFEST_FILE,
  type ManifestSession,
  manifestText,
} from './manifest';
import { loadMotion, type SequenceMotion } from './motion';
import { fileSafe, planExport, type PlannedSession } from './plan';
import { encodeNpzArchive } from './npz-writer';
import { splitNames, type SplitSpec } from './splits';
import { checkDestination, StagedExport, type StagedFile } from './staging';

/**
 * A dataset export: plan (every check that needs no writing), then each session's files into a
 * partial folder, the split-level annotation files and the manifest, then one rename into place.
 * Layout: `<out>/manifest.json`, `<out>/<split>/<sequence>/<files>`, `<out>/<split>/babel.json` and
 * `annotations.csv`. Any error or a cancel removes the partial folder and leaves `<out>` as it was.
 */

/** The session's bad frame ranges (fit correction) in sequence frames, merged and clipped. */
async function badFrames(db: Db, p: PlannedSession): Promise<[number, number][]> {
  return badRangeUnion(await listBadRanges(db, p.session.id)).flatMap(([s, e]) => {
    const a = Math.max(0, s - p.firstFrame);
    const b = Math.min(p.frameCount, e - p.firstFrame);
    return b > a ? [[a, b] as [number, number]] : [];
  });
}

export interface ExportRequest {
  sessionIds: readonly number[];
  /** Names, a comma list or 'all'. */
  formats: string | readonly string[];
  out: string;
  split?: SplitSpec;
  /** Fit versions to use instead of the sessions' picked (else newest) ones; one per session at most. */
  fitIds?: readonly number[];
  /** Replace a non-empty `out`. */
  force?: boolean;
}

export interface ExportOptions {
  nativeDir?: string;
  signal?: AbortSignal;
  progress?: (fraction: number, message: string) => void;
}

export interface ExportResult {
  out: string;
  manifest: string;
  formats: ExportFormat[];
  splits: string[];
  sessions: { sessionId: number; sequence: string; split: string; fitId: number | null }[];
  files: StagedFile[];
  seconds: number;
}

const PER_SESSION: readonly ExportFormat[] = ['amass', 'bvh', 'glb', 'npy', 'coco'];

/** Lets a cancel message (worker port) or other I/O in between steps. */
const breathe = () => new Promise<void>((r) => setImmediate(r));

/** The session's segments within its sequence, and the motif models their sources name. */
async function sessionSegments(
  db: Db,
  p: PlannedSession,
  motionFile: string | null,
): Promise<{ seq: SequenceSegments; counts: SegmentCounts; motifModels: ManifestSession['motifModels'] }> {
  const { segments, counts } = clipSegments(
    (await listAnnotations(db, p.session.id)).tiers,
    p.firstFrame,
    p.frameCount,
  );
  const modelIds = [
    ...new Set(segments.flatMap((s) => (s.source.kind === 'motif-family' ? [s.source.modelId] : []))),
  ].sort((a, b) => a - b);
  const motifModels = [];
  for (const id of modelIds) motifModels.push({ id, name: (await getMotifModel(db, id))?.name ?? null });
  const seq: SequenceSegments = {
    sequence: p.sequence,
    sessionId: p.session.id,
    sessionName: p.session.name,
    fps: p.session.fps,
    firstFrame: p.firstFrame,
    frameCount: p.frameCount,
    segments,
    motionFile,
  };
  return { seq, counts, motifModels };
}

/** One per-session format's files for a session. */
async function writeFormat(
  db: Db,
  staged: StagedExport,
  p: PlannedSession,
  format: ExportFormat,
  motion: SequenceMotion | null,
): Promise<void> {
  const dir = `${p.split}/${p.sequence}`;
  const fps = p.session.fps;
  if (format === 'coco') {
    for (const cam of p.session.cameras) {
      const kp = await readCameraKeypoints(db, p.session.id, cam.id, p.firstFrame, p.frameCount);
      if (!kp) continue;
      const doc = cocoDocument({
        sequence: p.sequence,
        camera: cam.name,
        layout: kp.layout,
        jointNames: kp.jointNames,
        width: cam.calibration.width,
        height: cam.calibration.height,
        fps,
        firstFrame: p.firstFrame,
        frameCount: p.frameCount,
        keypoints: kp.data,
      });
      staged.write(`${dir}/coco/${fileSafe(cam.name)}.json`, canonicalJson(doc) + '\n');
    }
    return;
  }
  if (!motion) throw new Error(`session #${p.session.id}: ${format} needs a fit`);
  const { model, theta, transl, betas, jRest } = motion;
  const T = p.frameCount;
  const J = model.numJoints;
  if (format === 'amass') {
    const npz = encodeNpzArchive([
      ['poses', { dtype: 'f8', shape: [T, 3 * J], data: Float64Array.from(theta) }],
      ['trans', { dtype: 'f8', shape: [T, 3], data: Float64Array.from(transl) }],
      ['betas', { dtype: 'f8', shape: [betas.length], data: Float64Array.from(betas) }],
      ['gender', { kind: 'unicode', value: 'neutral' }],
      ['mocap_framerate', { dtype: 'f8', shape: [], data: Float64Array.of(fps) }],
    ]);
    staged.write(`${dir}/${p.sequence}_poses.npz`, npz);
  } else if (format === 'npy') {
    const joints = posedJoints(model, betas, theta, transl);
    staged.write(
      `${dir}/${p.sequence}_joints.npy`,
      encodeNpy({ dtype: 'f4', shape: [T, J, 3], data: joints }),
    );
  } else if (format === 'bvh') {
    const text = encodeBvh({
      jointNames: model.jointNames,
      parents: model.parents,
      jRest,
      theta,
      transl,
      fps,
    });
    staged.write(`${dir}/${p.sequence}.bvh`, text);
  } else if (format === 'glb') {
    const glb = await encodeGlb({
      name: p.sequence,
      jointNames: model.jointNames,
      parents: model.parents,
      jRest,
      vShaped: motion.vShaped,
      faces: model.faces,
      weights: model.weights,
      theta,
      transl,
      fps,
    });
    staged.write(`${dir}/${p.sequence}.glb`, glb);
  }
}

/**
 * Every check runExport makes before writing (formats, sessions, fits, splits, destination), for a
 * caller that wants to refuse at once rather than from a queued job; writes nothing.
 */
export async function preflightExport(db: Db, req: ExportRequest): Promise<PlannedSession[]> {
  const formats = parseFormats(req.formats);
  const planned = await planExport(db, {
    sessionIds: req.sessionIds,
    formats,
    split: req.split,
    fitIds: req.fitIds,
  });
  checkDestination(req.out, req.force === true);
  return planned;
}

export async function runExport(db: Db, req: ExportRequest, opts: ExportOptions = {}): Promise<ExportResult> {
  const t0 = performance.now();
  const formats = parseFormats(req.formats);
  const nativeDir = opts.nativeDir ?? defaultNativeDir();
  const exportedAt = exportTime();
  const planned = await planExport(db, {
    sessionIds: req.sessionIds,
    formats,
    split: req.split,
    fitIds: req.fitIds,
  });
  const perSession = formats.filter((f) => PER_SESSION.includes(f));
  const steps = planned.length * (perSession.length + 1) + 1;
  let step = 0;
  const progress = (message: string) => opts.progress?.(Math.min(1, step++ / steps), message);
  const staged = new StagedExport(req.out, req.force === true);
  try {
    const manifestSessions: ManifestSession[] = [];
    const models = new Map<string, { model: SequenceMotion['model']; file: string }>();
    const bySplit = new Map<string, SequenceSegments[]>();
    for (const p of planned) {
      throwIfAborted(opts.signal);
      progress(`${p.sequence}: reading`);
      const motion =
        p.fit && perSession.some((f) => f !== 'coco') ? await loadMotion(db, nativeDir, p.fit) : null;
      if (motion && p.fit) models.set(p.fit.bodyModel, { model: motion.model, file: motion.modelFile });
      const motionFile = formats.includes('amass') ? `${p.sequence}/${p.sequence}_poses.npz` : null;
      const { seq, counts, motifModels } = await sessionSegments(db, p, motionFile);
      manifestSessions.push({ planned: p, counts, motifModels, badFrames: await badFrames(db, p) });
      bySplit.set(p.split, [...(bySplit.get(p.split) ?? []), seq]);
      for (const format of perSession) {
        await breathe();
        throwIfAborted(opts.signal);
        progress(`${p.sequence}: ${format}`);
        await writeFormat(db, staged, p, format, motion);
      }
    }
    const splits = splitNames(req.split);
    for (const split of splits) {
      const seqs = bySplit.get(split) ?? [];
      if (formats.includes('babel'))
        staged.write(
          `${split}/babel.json`,
          canonicalJson(Object.fromEntries(seqs.map((s) => [s.sequence, babelSequence(s)])), 2) + '\n',
        );
      if (formats.includes('csv')) staged.write(`${split}/annotations.csv`, annotationsCsv(seqs));
    }
    await breathe();
    throwIfAborted(opts.signal);
    progress('manifest');
    const files = staged.written();
    const manifest = buildManifest({
      formats,
      split: req.split,
      sessions: manifestSessions,
      models,
      files,
      exportedAt,
      version: appVersion(),
    });
    staged.write(MANIFEST_FILE, manifestText(manifest));
    throwIfAborted(opts.signal);
    staged.commit();
    opts.progress?.(1, `exported ${files.length} files`);
    return {
      out: staged.out,
      manifest: join(staged.out, MANIFEST_FILE),
      formats,
      splits,
      sessions: planned.map((p) => ({
        sessionId: p.session.id,
        sequence: p.sequence,
        split: p.split,
        fitId: p.fit?.id ?? null,
      })),
      files,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    staged.discard();
    if (opts.signal?.aborted && !(err instanceof CancelledError)) throw new CancelledError();
    throw err;
  }
}
