import { resolve } from 'node:path';
import type { ApiMethod, ApiRequest, ApiResponse } from '../../preload/api';
import { getJob, listJobs } from '../store/jobs';
import { schemaVersion } from '../store/library';
import { countSessions, deleteSession, getMedia, getSession, listSessions } from '../store/sessions';
import { findTrack, readTrackRange } from '../store/tracks';
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
