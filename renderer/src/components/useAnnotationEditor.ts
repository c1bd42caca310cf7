import { useCallback, useEffect, useRef, useState } from 'react';
import type { Annotation, TierAnnotations } from '../../../preload/api';
import { getApi } from '../api-client';
import {
  neighbourBoundary,
  neighbourSegment,
  nextInTier,
  paintedSpan,
  segmentAt,
  type Span,
} from '../annotation-spans';
import { matchShortcut, type EditorAction } from './annotation-shortcuts';
import { useAnnotations, type AnnotationState } from './useAnnotations';
import { isTextTarget } from './usePlayerKeys';

/**
 * The annotation editor's state and actions: the active tier (where new segments go), the selected
 * segment, the label new segments get, a paint in progress (P held), the label picker and the
 * shortcut sheet. Each action is a toolbar button and a shortcut; every edit is one API call through
 * useAnnotations' queue, computed from the rows as they are when it runs.
 */

export type Edge = 'start' | 'end';

function find(s: AnnotationState, id: number | null): { tier: TierAnnotations; a: Annotation } | null {
  if (id === null) return null;
  for (const tier of s.data?.tiers ?? []) {
    const a = tier.annotations.find((x) => x.id === id);
    if (a) return { tier, a };
  }
  return null;
}

/** The label a new segment of `tier` gets: the brush label, or the vocabulary's first when it has none of that name. */
export function brushLabelFor(tier: TierAnnotations, brush: string): string {
  const text = brush.trim();
  if (tier.labels.length > 0) return tier.labels.some((l) => l.name === text) ? text : tier.labels[0].name;
  return text || 'segment';
}

interface Options {
  sessionId: number;
  initialFrame: number;
  onSeek: (frame: number) => void;
}

export function useAnnotationEditor({ sessionId, initialFrame, onSeek }: Options) {
  const api = getApi();
  const ann = useAnnotations(sessionId);
  const { run, latest, setError } = ann;
  const [frame, setFrameState] = useState(initialFrame);
  const frameRef = useRef(initialFrame);
  const [activeTierId, setActiveTierId] = useState<number | null>(null);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [brush, setBrush] = useState('');
  // A ref too: the key-up may come before the render that the key-down caused.
  const [paint, setPaint] = useState<{ tierId: number; from: number } | null>(null);
  const painting = useRef<{ tierId: number; from: number } | null>(null);
  const [picker, setPicker] = useState<number | null>(null);
  const [sheet, setSheet] = useState(false);

  const setFrame = useCallback((f: number) => {
    frameRef.current = f;
    setFrameState(f);
  }, []);
  const tiers = ann.data?.tiers ?? [];
  const frameCount = ann.data?.frameCount ?? 0;
  const activeTier = tiers.find((t) => t.id === activeTierId) ?? tiers[0] ?? null;
  const selected = find(ann, selectedId);

  const seek = useCallback(
    (f: number) => {
      onSeek(f);
      setFrame(f);
    },
    [onSeek, setFrame],
  );

  const create = (tier: TierAnnotations, span: Span) =>
    run(() =>
      api.call('createAnnotation', { tierId: tier.id, ...span, label: brushLabelFor(tier, brush) }),
    ).then((r) => r && setSelectedId(r.annotations[0].id));

  const tierNow = (s: AnnotationState, id: number) => s.data?.tiers.find((t) => t.id === id);

  const paintEnd = () => {
    const p = painting.current;
    if (!p) return;
    painting.current = null;
    setPaint(null);
    const to = frameRef.current;
    void run((s) => {
      const tier = tierNow(s, p.tierId);
      if (!tier || !s.data) return null;
      const span = paintedSpan(tier.annotations, p.from, to, s.data.frameCount);
      if (!span) {
        setError(`Frame ${p.from} of tier "${tier.name}" already has a segment: paint from an empty frame.`);
        return null;
      }
      return api.call('createAnnotation', {
        tierId: tier.id,
        ...span,
        label: brushLabelFor(tier, brush),
      });
    }).then((r) => r && setSelectedId(r.annotations[0].id));
  };

  const needSelection = (s: AnnotationState, what: string) => {
    const hit = find(s, selectedId);
    if (!hit) setError(`Select a segment to ${what} (click it, or [ / ] to step through the tier).`);
    return hit;
  };

  const nudge = (edge: Edge, delta: number) => {
    void run((s) => {
      const hit = needSelection(s, 'move its boundary');
      return hit && api.call('updateAnnotation', { annotationId: hit.a.id, [edge]: hit.a[edge] + delta });
    });
  };

  const actions: Record<Exclude<EditorAction, 'tier'>, () => void> & { tier: (i: number) => void } = {
    paint: () => {
      if (painting.current || !activeTier) return;
      painting.current = { tierId: activeTier.id, from: frameRef.current };
      setPaint(painting.current);
    },
    split: () => {
      const f = frameRef.current;
      const tierId = activeTier?.id;
      void run((s) => {
        let target = find(s, selectedId)?.a;
        if (!target || f < target.start || f >= target.end) {
          const tier = tierId === undefined ? undefined : tierNow(s, tierId);
          target = tier && segmentAt(tier.annotations, f);
        }
        if (!target) {
          setError(`No segment holds frame ${f}: select one, put the playhead inside it, then split.`);
          return null;
        }
        return api.call('splitAnnotation', { annotationId: target.id, frame: f });
      });
    },
    merge: () =>
      void run((s) => {
        const hit = needSelection(s, 'merge with the next one');
        if (!hit) return null;
        const next = nextInTier(hit.tier.annotations, hit.a);
        if (!next) {
          setError(`The selected segment is the last of tier "${hit.tier.name}": nothing to merge it with.`);
          return null;
        }
        return api.call('mergeAnnotations', { annotationIds: [hit.a.id, next.id] });
      }),
    relabel: () => {
      if (needSelection(ann, 'relabel')) setPicker(selectedId);
    },
    delete: () =>
      void run((s) => {
        const hit = needSelection(s, 'delete');
        return hit && api.call('deleteAnnotation', { annotationId: hit.a.id });
      }).then((r) => r && setSelectedId(null)),
    prevSegment: () => jumpSegment(-1),
    nextSegment: () => jumpSegment(1),
    prevBoundary: () => jumpBoundary(-1),
    nextBoundary: () => jumpBoundary(1),
    startEarlier: () => nudge('start', -1),
    startLater: () => nudge('start', 1),
    endEarlier: () => nudge('end', -1),
    endLater: () => nudge('end', 1),
    undo: () => void run(() => api.call('undoAnnotation', { sessionId })),
    redo: () => void run(() => api.call('redoAnnotation', { sessionId })),
    tier: (i: number) => {
      if (tiers[i]) setActiveTierId(tiers[i].id);
    },
    deselect: () => {
      if (picker !== null) setPicker(null);
      else if (sheet) setSheet(false);
      else setSelectedId(null);
    },
    shortcuts: () => setSheet((v) => !v),
  };

  function jumpSegment(dir: 1 | -1) {
    const seg = activeTier && neighbourSegment(activeTier.annotations, frameRef.current, dir);
    if (!seg) return;
    setSelectedId(seg.id);
    seek(seg.start);
  }
  function jumpBoundary(dir: 1 | -1) {
    const b = activeTier && neighbourBoundary(activeTier.annotations, frameRef.current, dir);
    if (b !== null && b !== undefined) seek(Math.min(b, Math.max(0, frameCount - 1)));
  }

  const relabelTo = (id: number, label: string) => {
    setPicker(null);
    void run((s) => {
      const hit = find(s, id);
      if (!hit || hit.a.label === label) return null;
      return api.call('updateAnnotation', { annotationId: id, label });
    });
  };
  const moveEdge = (a: Annotation, edge: Edge, to: number) => {
    if (a[edge] !== to) void run(() => api.call('updateAnnotation', { annotationId: a.id, [edge]: to }));
  };

  // Window keys, as the player's: the latest actions through a ref, so one listener serves every render.
  const current = useRef({ actions, paintEnd });
  useEffect(() => {
    current.current = { actions, paintEnd };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTextTarget(e.target)) return;
      const m = matchShortcut(e);
      if (!m) return;
      e.preventDefault();
      const repeats = ['prevSegment', 'nextSegment', 'prevBoundary', 'nextBoundary'];
      if (e.repeat && !repeats.includes(m.action)) return;
      if (m.action === 'tier') current.current.actions.tier(m.index ?? 0);
      else current.current.actions[m.action]();
    };
    const onKeyUp = (e: KeyboardEvent) => {
      if (e.key.toLowerCase() === 'p') current.current.paintEnd();
    };
    const onBlur = () => current.current.paintEnd();
    window.addEventListener('keydown', onKey);
    window.addEventListener('keyup', onKeyUp);
    window.addEventListener('blur', onBlur);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('keyup', onKeyUp);
      window.removeEventListener('blur', onBlur);
    };
  }, []);

  // A paint shows as a ghost from where it began to the playhead, clipped as it will be stored.
  const paintTier = paint ? tiers.find((t) => t.id === paint.tierId) : undefined;
  const paintGhost =
    paint && paintTier ? paintedSpan(paintTier.annotations, paint.from, frame, frameCount) : null;

  return {
    ann,
    latest,
    frame,
    setFrame,
    seek,
    tiers,
    frameCount,
    activeTier,
    setActiveTierId,
    selected,
    setSelectedId,
    brush,
    setBrush,
    paint: paint && paintTier ? { tier: paintTier, ghost: paintGhost } : null,
    paintEnd,
    picker: picker === null ? null : find(ann, picker),
    setPicker,
    sheet,
    setSheet,
    actions,
    create,
    relabelTo,
    moveEdge,
  };
}

export type AnnotationEditor = ReturnType<typeof useAnnotationEditor>;
