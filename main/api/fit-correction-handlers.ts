import type { ApiRequest, ApiResponse, FitComparisonBlock, FitPick } from '../../preload/api';
import { compareFits, DIFFER_MM } from '../fitting/compare-fits';
import {
  clearFitPick,
  listBadRanges,
  listUserKeypoints,
  markBadRange,
  pickedFit,
  pickFit,
  removeBadRange,
  removeUserKeypoint,
  setUserKeypoint,
} from '../store/fit-corrections';
import { getFit } from '../store/fits';
import { storeError } from './annotation-handlers';
import type { AppContext } from './context';
import { ApiError } from './errors';
import type { FIT_CORRECTION_SCHEMAS } from './fit-correction-schemas';

/**
 * Handlers of the fit-correction calls: thin over main/store/fit-corrections.ts, refit-window.ts (the
 * 'refit' job) and compare-fits.ts. Store refusals become not-found (a session, fit, range or keypoint
 * that does not exist, or a fit / camera of another session) or bad-input (frames, joints, pixels the
 * store refuses), with the store's message (storeError, as the annotation calls map them). Every write announces
 * libraryChanged 'fit-corrected' for its session; a refit is a job, announced by the runner.
 */

type FitCorrectionMethod = keyof typeof FIT_CORRECTION_SCHEMAS;
type Handlers = {
  [M in FitCorrectionMethod]: (ctx: AppContext, req: ApiRequest<M>) => Promise<ApiResponse<M>>;
};

/** Beside "does not exist": a fit or camera of another session, a user keypoint that is not there. */
const NOT_FOUND =
  /is a fit of session #\d+, not of this session|is not a camera of the session|no user keypoint of camera/;

async function store<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && NOT_FOUND.test(err.message)) throw new ApiError('not-found', err.message);
    throw storeError(err);
  }
}

/** Runs a write and tells every window that the session's corrections changed. */
async function write<T>(ctx: AppContext, sessionId: number, fn: () => Promise<T>): Promise<T> {
  const result = await store(fn);
  ctx.emit('libraryChanged', { reason: 'fit-corrected', sessionId });
  return result;
}

/** The fit, which must be one of the session's (another session's fit is not found there, as fitScene says). */
async function sessionFit(ctx: AppContext, sessionId: number, fitId: number) {
  const fit = await getFit(ctx.db, fitId);
  if (!fit) throw new ApiError('not-found', `fit #${fitId} does not exist`);
  if (fit.sessionId !== sessionId)
    throw new ApiError('not-found', `fit #${fitId} belongs to session #${fit.sessionId}, not #${sessionId}`);
  return fit;
}

const nullable = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

async function exported(ctx: AppContext, sessionId: number): Promise<FitPick> {
  const p = await store(() => pickedFit(ctx.db, sessionId));
  if (!p) return { sessionId, fit: null, picked: false };
  const { picked, ...fit } = p;
  return { sessionId, fit, picked };
}

export const FIT_CORRECTION_HANDLERS: Handlers = {
  listBadRanges: (ctx, req) => store(() => listBadRanges(ctx.db, req.sessionId)),
  markBadRange: (ctx, req) =>
    write(ctx, req.sessionId, () => markBadRange(ctx.db, req.sessionId, req.start, req.end, req.note)),
  removeBadRange: (ctx, req) =>
    write(ctx, req.sessionId, () => removeBadRange(ctx.db, req.sessionId, req.rangeId)),
  listUserKeypoints: (ctx, { sessionId, ...range }) =>
    store(() => listUserKeypoints(ctx.db, sessionId, range)),
  setUserKeypoint: (ctx, { sessionId, ...kp }) =>
    write(ctx, sessionId, () => setUserKeypoint(ctx.db, sessionId, kp)),
  removeUserKeypoint: (ctx, { sessionId, ...key }) =>
    write(ctx, sessionId, () => removeUserKeypoint(ctx.db, sessionId, key)),
  refitWindow: async (ctx, req) => {
    // Checked here so a bad request fails the call, not the job.
    const fit = await sessionFit(ctx, req.sessionId, req.baseFitId);
    const end = fit.firstFrame + fit.frameCount;
    if (req.start < fit.firstFrame || req.start + req.count > end)
      throw new ApiError(
        'bad-input',
        `refit window [${req.start}, ${req.start + req.count}) is not within fit #${fit.id}'s frames [${fit.firstFrame}, ${end})`,
      );
    return ctx.runner.submit('refit', { ...req });
  },
  compareFits: async (ctx, req): Promise<FitComparisonBlock> => {
    const range = {
      ...(req.start === undefined ? {} : { start: req.start }),
      ...(req.count === undefined ? {} : { count: req.count }),
    };
    const c = await store(() => compareFits(ctx.db, req.fitA, req.fitB, range, ctx.nativeDir));
    const s = c.summary;
    return {
      sessionId: c.sessionId,
      fitA: c.a,
      fitB: c.b,
      start: c.start,
      count: c.count,
      mpjpeMm: nullable(c.mpjpeMm),
      quality: { fields: c.quality.fields, a: nullable(c.quality.a), b: nullable(c.quality.b) },
      summary: {
        maxMm: finiteOrNull(s.maxMm),
        maxFrame: s.maxFrame,
        medianMm: finiteOrNull(s.medianMm),
        meanMm: finiteOrNull(s.meanMm),
        framesOver1cm: s.framesOver1cm,
        differMm: DIFFER_MM,
        ranges: s.ranges,
      },
    };
  },
  pickFit: async (ctx, req) => {
    const { sessionId, fitId } = req;
    if (fitId === null) await write(ctx, sessionId, () => clearFitPick(ctx.db, sessionId));
    else await write(ctx, sessionId, () => pickFit(ctx.db, sessionId, fitId));
    return exported(ctx, sessionId);
  },
  pickedFit: (ctx, req) => exported(ctx, req.sessionId),
};
