import { useCallback, useEffect, useRef, useState } from 'react';
import type { AnnotationEdit, AnnotationProposal, SessionAnnotations } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';

/**
 * A session's annotations as the editor shows them: tiers with their segments, whether undo / redo
 * would do something, and the pending motif-family proposals. Reads and edits go through one serial
 * queue, so an edit always starts from the rows every earlier edit left (a key pressed twice nudges
 * twice), and a read never lands between an edit and its answer. Each edit's answer is applied at
 * once (the rows it wrote, the ids it removed); every window re-reads on `annotationsChanged`.
 */

export interface AnnotationState {
  data: SessionAnnotations | null;
  canUndo: boolean;
  canRedo: boolean;
  proposals: AnnotationProposal[];
}

/** The rows an edit wrote replace theirs (by id), the ids it removed go, each tier stays sorted. */
export function applyEdit(data: SessionAnnotations, edit: AnnotationEdit): SessionAnnotations {
  const gone = new Set([...edit.removedIds, ...edit.annotations.map((a) => a.id)]);
  return {
    ...data,
    tiers: data.tiers.map((t) => {
      const mine = edit.annotations.filter((a) => a.tierId === t.id);
      if (mine.length === 0 && !t.annotations.some((a) => gone.has(a.id))) return t;
      const annotations = [...t.annotations.filter((a) => !gone.has(a.id)), ...mine].sort(
        (x, y) => x.start - y.start,
      );
      return { ...t, annotations };
    }),
  };
}

export function useAnnotations(sessionId: number) {
  const api = getApi();
  const [state, setState] = useState<AnnotationState>({
    data: null,
    canUndo: false,
    canRedo: false,
    proposals: [],
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(0);
  // The latest state, for queued work that runs after renders it did not see.
  const latest = useRef(state);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const loadQueued = useRef(false);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  const commit = useCallback((next: AnnotationState) => {
    latest.current = next;
    if (live.current) setState(next);
  }, []);

  const enqueue = useCallback(<T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.current.then(work, work);
    queue.current = run.catch(() => undefined);
    return run;
  }, []);

  /** Re-reads everything (once, however many times it is asked for before it starts). */
  const reload = useCallback(() => {
    if (loadQueued.current) return;
    loadQueued.current = true;
    void enqueue(async () => {
      loadQueued.current = false;
      try {
        const [data, history, proposals] = await Promise.all([
          api.call('listAnnotations', { sessionId }),
          api.call('annotationHistory', { sessionId, limit: 1 }),
          api.call('listAnnotationProposals', { sessionId, state: 'pending' }),
        ]);
        commit({ data, canUndo: history.canUndo, canRedo: history.canRedo, proposals });
      } catch (err) {
        if (live.current) setError(errorMessage(err));
      }
    });
  }, [api, sessionId, enqueue, commit]);

  useEffect(() => {
    reload();
    const offAnnotations = api.on('annotationsChanged', (e) => {
      if (e.sessionId === undefined || e.sessionId === sessionId) reload();
    });
    // Also the resync hint after a dropped event socket.
    const offLibrary = api.on('libraryChanged', () => reload());
    return () => {
      offAnnotations();
      offLibrary();
    };
  }, [api, sessionId, reload]);

  /**
   * Queues `work`, which reads the state it starts from; an edit it returns is applied at once. Errors
   * show in `error`; the answer (undefined on error) is returned.
   */
  const run = useCallback(
    <T>(work: (s: AnnotationState) => Promise<T> | null): Promise<T | undefined> =>
      enqueue(async () => {
        const job = work(latest.current);
        if (!job) return undefined;
        if (live.current) {
          setError(null);
          setBusy((b) => b + 1);
        }
        try {
          const out = await job;
          const cur = latest.current;
          const edits = isEdit(out) ? [out] : editsOf(out);
          if (cur.data && edits.length > 0) {
            let data = cur.data;
            for (const e of edits) data = applyEdit(data, e);
            commit({ ...cur, data });
          }
          return out;
        } catch (err) {
          if (live.current) setError(errorMessage(err));
          return undefined;
        } finally {
          if (live.current) setBusy((b) => b - 1);
        }
      }),
    [enqueue, commit],
  );

  return { ...state, latest, error, setError, busy: busy > 0, run, reload };
}

function isEdit(v: unknown): v is AnnotationEdit {
  return !!v && typeof v === 'object' && 'historyId' in v && 'removedIds' in v;
}

/** The edits of a bulk accept or reject. */
function editsOf(v: unknown): AnnotationEdit[] {
  return !!v && typeof v === 'object' && 'edits' in v ? (v as { edits: AnnotationEdit[] }).edits : [];
}
