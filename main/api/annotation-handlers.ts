import type { AnnotationEdit, ApiRequest, ApiResponse } from '../../preload/api';
import { historyStatus, listHistory, redo, undo } from '../store/annotation-history';
import {
  acceptProposals,
  listProposals,
  proposeFamilyLabel,
  rejectProposals,
} from '../store/annotation-proposals';
import {
  addTier,
  createAnnotation,
  deleteAnnotation,
  ensureDefaultTiers,
  getTier,
  listAnnotations,
  mergeAnnotations,
  removeTier,
  reorderTiers,
  splitAnnotation,
  updateAnnotation,
  updateTier,
} from '../store/annotations';
import { getSession } from '../store/sessions';
import {
  addLabel,
  createVocabulary,
  deleteVocabulary,
  listVocabularies,
  removeLabel,
  reorderLabels,
  updateLabel,
  updateVocabulary,
} from '../store/vocabularies';
import type { AppContext } from './context';
import { ApiError } from './errors';
import type { ANNOTATION_SCHEMAS } from './annotation-schemas';

/**
 * Handlers of the annotation calls: thin over the store (main/store/vocabularies.ts, annotations.ts,
 * annotation-history.ts, annotation-proposals.ts), whose Errors name what was refused and why. They
 * become bad-input (a request the store cannot take: a label outside the vocabulary, a split frame
 * outside the segment), conflict (the library's state refuses it: an overlap, a name taken, a label
 * in use, an undo whose rows changed since) or not-found. Every write then tells every window
 * (`annotationsChanged`) which session to re-read.
 */

type AnnotationMethod = keyof typeof ANNOTATION_SCHEMAS;
type Handlers = {
  [M in AnnotationMethod]: (ctx: AppContext, req: ApiRequest<M>) => Promise<ApiResponse<M>>;
};

/** Store refusals that the library's current state causes, not the request's shape. */
const CONFLICT =
  /overlaps|exists already|was changed since|no longer exists|is used by|cannot (remove|rename)|holds \d+ segment|lies between|has a tier (of that name|named)|lacks the labels/;

/** The store's Error as an ApiError with its message; SQLite's own errors stay internal. */
export function storeError(err: unknown, fallback: 'bad-input' | 'conflict' = 'bad-input'): unknown {
  if (err instanceof ApiError || !(err instanceof Error)) return err;
  if (String((err as { code?: unknown }).code ?? '').startsWith('SQLITE')) return err;
  if (/does not exist/.test(err.message)) return new ApiError('not-found', err.message);
  return new ApiError(CONFLICT.test(err.message) ? 'conflict' : fallback, err.message);
}

async function store<T>(fn: () => Promise<T>, fallback?: 'bad-input' | 'conflict'): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(err, fallback);
  }
}

async function requireSession(ctx: AppContext, sessionId: number): Promise<void> {
  if (!(await getSession(ctx.db, sessionId)))
    throw new ApiError('not-found', `session #${sessionId} does not exist`);
}

/** Tells every window which sessions changed; none given: vocabularies, shown by every session. */
function changed(ctx: AppContext, sessionIds?: Iterable<number>): void {
  if (sessionIds === undefined) return ctx.emit('annotationsChanged', {});
  for (const sessionId of new Set(sessionIds)) ctx.emit('annotationsChanged', { sessionId });
}

/** Runs a journaled edit and announces its session. */
async function edit(ctx: AppContext, fn: () => Promise<AnnotationEdit>): Promise<AnnotationEdit> {
  const result = await store(fn);
  changed(ctx, [result.sessionId]);
  return result;
}

/** Undo or redo: any refusal is a conflict (the rows are no longer what the entry says). */
async function step(
  ctx: AppContext,
  sessionId: number,
  fn: () => Promise<AnnotationEdit | null>,
): Promise<AnnotationEdit | null> {
  await requireSession(ctx, sessionId);
  const result = await store(fn, 'conflict');
  if (result) changed(ctx, [sessionId]);
  return result;
}

async function vocabulary<T>(ctx: AppContext, fn: () => Promise<T>): Promise<T> {
  const result = await store(fn);
  changed(ctx);
  return result;
}

export const ANNOTATION_HANDLERS: Handlers = {
  listVocabularies: (ctx) => listVocabularies(ctx.db),
  createVocabulary: (ctx, req) => vocabulary(ctx, () => createVocabulary(ctx.db, req)),
  updateVocabulary: (ctx, { vocabularyId, ...u }) =>
    vocabulary(ctx, () => updateVocabulary(ctx.db, vocabularyId, u)),
  deleteVocabulary: async (ctx, req) => {
    const deleted = await vocabulary(ctx, () => deleteVocabulary(ctx.db, req.vocabularyId));
    if (!deleted) throw new ApiError('not-found', `vocabulary #${req.vocabularyId} does not exist`);
    return { deleted };
  },
  addLabel: (ctx, { vocabularyId, ...label }) => vocabulary(ctx, () => addLabel(ctx.db, vocabularyId, label)),
  updateLabel: (ctx, { vocabularyId, label, ...u }) =>
    vocabulary(ctx, () => updateLabel(ctx.db, vocabularyId, label, u)),
  removeLabel: (ctx, req) => vocabulary(ctx, () => removeLabel(ctx.db, req.vocabularyId, req.label)),
  reorderLabels: (ctx, req) => vocabulary(ctx, () => reorderLabels(ctx.db, req.vocabularyId, req.names)),

  listAnnotations: (ctx, req) =>
    store(async () => {
      await ensureDefaultTiers(ctx.db, req.sessionId);
      return listAnnotations(ctx.db, req.sessionId);
    }),
  addTier: async (ctx, { sessionId, ...t }) => {
    const tier = await store(() => addTier(ctx.db, sessionId, t));
    changed(ctx, [sessionId]);
    return tier;
  },
  updateTier: async (ctx, { tierId, ...u }) => {
    const tier = await store(() => updateTier(ctx.db, tierId, u));
    changed(ctx, [tier.sessionId]);
    return tier;
  },
  removeTier: async (ctx, req) => {
    const tier = await getTier(ctx.db, req.tierId);
    if (!tier) throw new ApiError('not-found', `tier #${req.tierId} does not exist`);
    const removed = await store(() => removeTier(ctx.db, req.tierId));
    changed(ctx, [tier.sessionId]);
    return { removed };
  },
  reorderTiers: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    const tiers = await store(() => reorderTiers(ctx.db, req.sessionId, req.tierIds));
    changed(ctx, [req.sessionId]);
    return tiers;
  },

  createAnnotation: (ctx, req) =>
    edit(ctx, () => createAnnotation(ctx.db, req.tierId, req.start, req.end, req.label)),
  updateAnnotation: (ctx, { annotationId, ...u }) =>
    edit(ctx, () => updateAnnotation(ctx.db, annotationId, u)),
  splitAnnotation: (ctx, req) => edit(ctx, () => splitAnnotation(ctx.db, req.annotationId, req.frame)),
  mergeAnnotations: (ctx, req) => edit(ctx, () => mergeAnnotations(ctx.db, req.annotationIds, req.label)),
  deleteAnnotation: (ctx, req) => edit(ctx, () => deleteAnnotation(ctx.db, req.annotationId)),
  undoAnnotation: (ctx, req) => step(ctx, req.sessionId, () => undo(ctx.db, req.sessionId)),
  redoAnnotation: (ctx, req) => step(ctx, req.sessionId, () => redo(ctx.db, req.sessionId)),
  annotationHistory: async (ctx, req) => {
    await requireSession(ctx, req.sessionId);
    const entries = await listHistory(ctx.db, req.sessionId, { limit: req.limit });
    return { entries, ...(await historyStatus(ctx.db, req.sessionId)) };
  },

  proposeFamilyLabel: async (ctx, req) => {
    const report = await store(() => proposeFamilyLabel(ctx.db, req));
    changed(
      ctx,
      report.created.map((p) => p.sessionId),
    );
    return report;
  },
  listAnnotationProposals: async (ctx, req) => {
    if (req.sessionId !== undefined) await requireSession(ctx, req.sessionId);
    return listProposals(ctx.db, req);
  },
  acceptProposals: async (ctx, req) => {
    const report = await store(() => acceptProposals(ctx.db, req.ids));
    changed(
      ctx,
      report.edits.map((e) => e.sessionId),
    );
    return report;
  },
  rejectProposals: async (ctx, req) => {
    const report = await store(() => rejectProposals(ctx.db, req.ids));
    changed(
      ctx,
      report.edits.map((e) => e.sessionId),
    );
    return report;
  },
};
