import { statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  BODY_MODEL_SLOT_JOINTS,
  BODY_MODEL_SLOT_LABELS,
  BODY_MODEL_SLOTS,
  type ApiMethod,
  type ApiRequest,
  type ApiResponse,
  type BodyModelInfo,
  type BodyModelSlot,
  type CameraInfo,
} from '../../preload/api';
import { loadBodyModel } from '../body/load-model';
import { DATASET_FILE } from '../capture/skeleton-dataset';
import { getJob, listJobs } from '../store/jobs';
import { schemaVersion } from '../store/library';
import { boardPdf, boardPng } from '../calibration/board-print';
import { validateBoardSpec, type BoardSpec } from '../calibration/charuco-board';
import { loadOpenCv } from '../calibration/opencv';
import { FOOT_CORNERS_TRACK, FOOT_POSE_TRACK } from '../calibration/localize-job';
import {
  countSessions,
  deleteSession,
  getMedia,
  getSession,
  getSessionBoards,
  listSessions,
} from '../store/sessions';
import { getSettings as readSettings, setSettings as writeSettings } from '../store/settings';
import { findTrack, readTrackRange } from '../store/tracks';
import { getFit, listFits, readFitQuality } from '../store/fits';
import { computeFitFrame, computeFitScene } from '../fitting/fit-scene';
import { getMotifModel, listMotifModels, readTrainingCurve } from '../store/motif-models';
import { installShippedMotifModel, listShippedMotifModels } from '../motifs/shipped-models';
import { readVocabulary } from '../motifs/vocabulary';
import { familyOccurrences, readMotifProposals } from '../store/motif-proposals';
import { ANNOTATION_HANDLERS } from './annotation-handlers';
import { EXPORT_HANDLERS } from './export-handlers';
import { FIT_CORRECTION_HANDLERS } from './fit-correction-handlers';
import type { AppContext } from './context';
import { ApiError } from './errors';
import { REQUEST_SCHEMAS } from './schemas';

export const APP_VERSION = '0.1.0';

type Handler<M extends ApiMethod> = (ctx: AppContext, req: ApiRequest<M>) => Promise<ApiResponse<M>>;
export type HandlerTable = { [M in ApiMethod]: Handler<M> };

async function requireSession(ctx: AppContext, sessionId: number) {
  const s = await getSession(ctx.db, sessionId);
  if (!s) throw new ApiError('not-found', `session #${sessionId} does not exist`);
  return s;
}

async function requireFit(ctx: AppContext, fitId: number) {
  const fit = await getFit(ctx.db, fitId);
  if (!fit) throw new ApiError('not-found', `fit #${fitId} does not exist`);
  return fit;
}

async function requireMotifModel(ctx: AppContext, modelId: number) {
  const model = await getMotifModel(ctx.db, modelId);
  if (!model) throw new ApiError('not-found', `motif model #${modelId} does not exist`);
  return model;
}

/** The open default model, relative to the native folder. */
const OPEN_MODEL_FILE = join('models', 'anny-cmu31.npz');

interface ModelFacts {
  name: string;
  vertices: number;
  joints: number;
  betas: number;
}

/** Facts of models loaded before, keyed by file; reused while its size and mtime stay the same. */
const modelFacts = new Map<string, { stamp: string; facts: ModelFacts }>();

/** Loads `file` (or reuses its facts); throws loadBodyModel's Error naming the file and the problem. */
function readModelFacts(file: string): ModelFacts {
  let st: Stats | null = null;
  try {
    st = statSync(file);
  } catch {
    // Unreadable: loadBodyModel below says why, with the file's name.
  }
  if (st?.isDirectory()) throw new Error(`${file}: is a folder; choose the model file (.npz or .pkl)`);
  const stamp = st ? `${st.size}:${st.mtimeMs}` : null;
  const hit = modelFacts.get(file);
  if (stamp !== null && hit?.stamp === stamp) return hit.facts;
  const m = loadBodyModel(file);
  const facts = { name: m.name, vertices: m.numVertices, joints: m.numJoints, betas: m.numBetas };
  if (stamp !== null) modelFacts.set(file, { stamp, facts });
  return facts;
}

/** Loads a user model and checks that its joint count is the one its slot needs. */
function readSlotModel(slot: BodyModelSlot, file: string): ModelFacts {
  const facts = readModelFacts(file);
  const need = BODY_MODEL_SLOT_JOINTS[slot];
  if (facts.joints !== need) {
    const label = BODY_MODEL_SLOT_LABELS[slot];
    throw new Error(
      `${file}: has ${facts.joints} joints (${facts.name}); the ${label} slot needs ${need} joints`,
    );
  }
  return facts;
}

function describeModel(id: BodyModelInfo['id'], file: string): BodyModelInfo {
  try {
    const f = id === 'open' ? readModelFacts(file) : readSlotModel(id, file);
    return { id, name: f.name, file, ok: true, vertices: f.vertices, joints: f.joints, betas: f.betas };
  } catch (err) {
    const name = id === 'open' ? 'Open default model' : BODY_MODEL_SLOT_LABELS[id];
    return { id, name, file, ok: false, error: (err as Error).message };
  }
}

/** A file name made of the session and board names (letters, digits, dot, dash and underscore only). */
function printFileName(session: string, board: string, format: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'board';
  return `${safe(session).slice(0, 60)}-${safe(board).slice(0, 60)}.${format}`;
}

/** One handler per call of preload/api.ts; both transports dispatch into this table. */
export const HANDLERS: HandlerTable = {
  libraryInfo: async (ctx) => ({
    dataDir: ctx.dataDir,
    libraryPath: ctx.libraryPath,
    schemaVersion: await schemaVersion(ctx.db),
    appVersion: APP_VERSION,
    sessionCount: await countSessions(ctx.db),
    transport: ctx.transport,
  }),
  listSessions: (ctx) => listSessions(ctx.db),
  getSession: (ctx, req) => requireSession(ctx, req.sessionId),
  deleteSession: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    const deleted = await deleteSession(ctx.db, req.sessionId);
    ctx.emit('libraryChanged', { reason: 'session-deleted', sessionId: req.sessionId });
    return { deleted };
  },
  pickFolder: async (ctx) =>
    ctx.pickFolder ? { supported: true, path: await ctx.pickFolder() } : { supported: false, path: null },
  importSession: (ctx, req) => ctx.runner.submit('import', { path: resolve(req.path) }),
  listJobs: (ctx, req) => listJobs(ctx.db, req.limit),
  getJob: async (ctx, req) => {
    const job = await getJob(ctx.db, req.jobId);
    if (!job) throw new ApiError('not-found', `job #${req.jobId} does not exist`);
    return job;
  },
  cancelJob: (ctx, req) => ctx.runner.cancel(req.jobId),
  retryJob: (ctx, req) => ctx.runner.retry(req.jobId),
  mediaUrl: async (ctx, req) => {
    const m = await getMedia(ctx.db, req.sessionId, req.cameraId);
    if (!m)
      throw new ApiError('not-found', `camera #${req.cameraId} of session #${req.sessionId} has no video`);
    return { url: ctx.mediaUrl(m.id), mime: m.mime };
  },
  thumbnail: async (ctx, req) => {
    const m = await getMedia(ctx.db, req.sessionId, req.cameraId);
    return { dataUrl: m?.thumbnail ? `data:image/jpeg;base64,${m.thumbnail.toString('base64')}` : null };
  },
  keypoints: async (ctx, req) => {
    const track = await findTrack(ctx.db, req.sessionId, req.cameraId, 'keypoints2d');
    if (!track)
      throw new ApiError(
        'not-found',
        `camera #${req.cameraId} of session #${req.sessionId} has no keypoints`,
      );
    const joints = (JSON.parse(track.frame_shape) as number[])[0];
    // Requests are in video frames; the track starts at its first keypoint frame.
    const block = await readTrackRange(ctx.db, track, req.start - track.first_frame, req.count);
    return {
      start: block.start + track.first_frame,
      count: block.count,
      joints,
      data: Array.from(block.data, (v) => (Number.isFinite(v) ? v : null)),
    };
  },
  localizeSession: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    return ctx.runner.submit('localize', {
      sessionId: req.sessionId,
      ...(req.maxGap === undefined ? {} : { maxGap: req.maxGap }),
    });
  },
  footPoses: async (ctx, req) => {
    const track = await findTrack(ctx.db, req.sessionId, req.cameraId, FOOT_POSE_TRACK);
    if (!track) return null;
    const block = await readTrackRange(ctx.db, track, req.start, req.count);
    const nullable = (a: Float32Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
    const ct = await findTrack(ctx.db, req.sessionId, req.cameraId, FOOT_CORNERS_TRACK);
    const corners = ct ? await readTrackRange(ctx.db, ct, block.start, block.count) : null;
    return {
      start: block.start,
      count: block.count,
      fields: JSON.parse(track.names) as string[],
      data: nullable(block.data),
      corners:
        ct && corners
          ? {
              boards: JSON.parse(ct.names) as string[],
              perFrame: (JSON.parse(ct.frame_shape) as number[])[0],
              data: nullable(corners.data),
            }
          : null,
    };
  },
  getSettings: (ctx) => readSettings(ctx.db),
  setSettings: async (ctx, req) => {
    if (req.bodyModels) {
      // Every path is loaded before anything is stored, so a bad one leaves the settings unchanged.
      const problems: string[] = [];
      for (const slot of BODY_MODEL_SLOTS) {
        const file = req.bodyModels[slot];
        if (file === null) continue;
        try {
          readSlotModel(slot, file);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      if (problems.length > 0) throw new ApiError('bad-input', problems.join('; '));
    }
    const settings = await writeSettings(ctx.db, req);
    ctx.emit('libraryChanged', { reason: 'settings-changed' });
    return settings;
  },
  listBodyModels: async (ctx) => {
    const { bodyModels } = await readSettings(ctx.db);
    const list = [describeModel('open', join(ctx.nativeDir, OPEN_MODEL_FILE))];
    for (const slot of BODY_MODEL_SLOTS) {
      const file = bodyModels[slot];
      if (file !== null) list.push(describeModel(slot, file));
    }
    return list;
  },
  boardPrint: async (ctx, req) => {
    const session = await requireSession(ctx, req.sessionId);
    const boards = (await getSessionBoards(ctx.db, req.sessionId)) ?? [];
    const spec = boards.find((b) => b.name === req.board) as BoardSpec | undefined;
    if (!spec) {
      const names = boards.map((b) => JSON.stringify(b.name)).join(', ');
      throw new ApiError(
        'not-found',
        `session #${req.sessionId} ("${session.name}") has no board "${req.board}"` +
          (boards.length > 0 ? ` (boards: ${names})` : ' (it has no boards)'),
      );
    }
    try {
      validateBoardSpec(spec);
    } catch (err) {
      throw new ApiError('bad-input', `session #${req.sessionId}: ${(err as Error).message}`);
    }
    const cv = await loadOpenCv();
    let bytes: Uint8Array;
    try {
      bytes = req.format === 'png' ? boardPng(cv, spec) : boardPdf(cv, spec);
    } catch (err) {
      throw new ApiError('bad-input', `session #${req.sessionId}: ${(err as Error).message}`);
    }
    return {
      fileName: printFileName(session.name, spec.name, req.format),
      mimeType: req.format === 'png' ? 'image/png' : 'application/pdf',
      base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    };
  },
  fitSession: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    const { sessionId, ...options } = req;
    return ctx.runner.submit('fit', { sessionId, ...options });
  },
  listFits: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    return listFits(ctx.db, req.sessionId);
  },
  fitQuality: async (ctx, req) =>
    readFitQuality(ctx.db, await requireFit(ctx, req.fitId), req.start, req.count),
  fitFrame: async (ctx, req) => {
    const fit = await requireFit(ctx, req.fitId);
    if (req.frame < fit.firstFrame || req.frame >= fit.firstFrame + fit.frameCount)
      throw new ApiError(
        'not-found',
        `fit #${fit.id} has frames [${fit.firstFrame}, ${fit.firstFrame + fit.frameCount}), not ${req.frame}`,
      );
    let camera: CameraInfo | undefined;
    if (req.cameraId !== undefined) {
      camera = (await requireSession(ctx, fit.sessionId)).cameras.find((c) => c.id === req.cameraId);
      if (!camera)
        throw new ApiError(
          'not-found',
          `camera #${req.cameraId} is not in session #${fit.sessionId} of fit #${fit.id}`,
        );
    }
    return computeFitFrame(ctx.db, ctx.nativeDir, fit, req.frame, camera);
  },
  fitScene: async (ctx, req) => {
    const fit = await requireFit(ctx, req.fitId);
    if (fit.sessionId !== req.sessionId)
      throw new ApiError(
        'not-found',
        `fit #${fit.id} belongs to session #${fit.sessionId}, not #${req.sessionId}`,
      );
    const scene = await computeFitScene(ctx.db, ctx.nativeDir, fit);
    if (!scene) throw new ApiError('not-found', `session #${req.sessionId} does not exist`);
    return scene;
  },
  listMotifModels: (ctx) => listMotifModels(ctx.db),
  trainingCurve: async (ctx, req) => {
    const curve = await readTrainingCurve(ctx.db, req.modelId);
    if (!curve) throw new ApiError('not-found', `motif model #${req.modelId} does not exist`);
    return curve;
  },
  motifProposals: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    return (await readMotifProposals(ctx.db, req.sessionId)) ?? null;
  },
  motifFamily: async (ctx, req) => {
    await requireMotifModel(ctx, req.modelId);
    return { occurrences: await familyOccurrences(ctx.db, req.modelId, req.family) };
  },
  trainMotifModel: async (ctx, req) => {
    // Checked here so a bad request fails the call, not the job.
    for (const id of req.sessionIds ?? []) await requireSession(ctx, id);
    if (req.modelId !== undefined) {
      const m = await requireMotifModel(ctx, req.modelId);
      if (m.state === 'ready')
        throw new ApiError('conflict', `motif model #${m.id} (${m.name}) is already trained`);
    } else if ((req.datasets ?? []).length + (req.sessionIds ?? []).length === 0)
      throw new ApiError('bad-input', 'give datasets and/or sessionIds to train on');
    const datasets = (req.datasets ?? []).map((d) => resolve(d));
    for (const d of datasets)
      if (!statSync(join(d, DATASET_FILE), { throwIfNoEntry: false })?.isFile())
        throw new ApiError('not-found', `${d} is not a skeleton dataset (no ${DATASET_FILE})`);
    return ctx.runner.submit('motifs-train', { ...req, ...(req.datasets ? { datasets } : {}) });
  },
  extractMotifs: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    if (req.modelId !== undefined) await requireMotifModel(ctx, req.modelId);
    return ctx.runner.submit('motifs-extract', { ...req });
  },
  shippedMotifModels: async (ctx) => {
    const installed = await listMotifModels(ctx.db);
    return listShippedMotifModels(ctx.nativeDir).map((m) => ({
      name: m.name,
      recipe: { ...m.recipe },
      joints: readVocabulary(m.dir).joints,
      installedAs: installed.find((i) => i.training.shipped === m.name && i.state === 'ready')?.id ?? null,
    }));
  },
  installShippedMotifModel: async (ctx, req) => {
    if (!listShippedMotifModels(ctx.nativeDir).some((m) => m.name === req.name))
      throw new ApiError('not-found', `no shipped motif model "${req.name}"`);
    const { model, installed } = await installShippedMotifModel(ctx.db, ctx.nativeDir, req.name);
    if (installed) ctx.emit('libraryChanged', { reason: 'model-added' });
    return model;
  },
  ...ANNOTATION_HANDLERS,
  ...FIT_CORRECTION_HANDLERS,
  ...EXPORT_HANDLERS,
};

/** Validates a raw request against its schema and runs the handler. */
export async function dispatch(ctx: AppContext, method: string, raw: unknown): Promise<unknown> {
  if (!Object.prototype.hasOwnProperty.call(HANDLERS, method)) {
    throw new ApiError('not-found', `unknown call "${method}"`);
  }
  const m = method as ApiMethod;
  const parsed = REQUEST_SCHEMAS[m].safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(
      'invalid-request',
      `${method}: ${issue.path.join('.') || 'request'}: ${issue.message}`,
    );
  }
  return (HANDLERS[m] as Handler<typeof m>)(ctx, parsed.data as never);
}
