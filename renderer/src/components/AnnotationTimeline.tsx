import { useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import type { Annotation, AnnotationProposal, LabelVocabulary, TierAnnotations } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { segmentAt, sourceText, type Span } from '../annotation-spans';
import { AddTierForm } from './AddTierForm';
import { AnnotationToolbar } from './AnnotationToolbar';
import { LabelPicker } from './LabelPicker';
import { frameSpan } from './MotifTimeline';
import { ProposalsPanel } from './ProposalsPanel';
import { ShortcutSheet } from './ShortcutSheet';
import { TierRow } from './TierRow';
import { VocabularyEditor } from './VocabularyEditor';
import { useAnnotationEditor, type Edge } from './useAnnotationEditor';

/**
 * The session's annotation tiers under the player (ELAN-like rows: 'action', 'motif' and the user's
 * tiers), with the toolbar, the playhead on the player's frame, the label picker, the shortcut sheet
 * and the pending motif-family proposals. The editor's logic is in useAnnotationEditor; the rows'
 * mouse work in TierRow; the rules (overlaps, vocabularies, history) in the store behind the API.
 */

const NONE: AnnotationProposal[] = [];

export interface AnnotationTimelineHandle {
  /** Moves the playhead (called on every player frame). */
  setFrame: (frame: number) => void;
}

interface Props {
  sessionId: number;
  initialFrame: number;
  onSeek: (frame: number) => void;
  ref?: Ref<AnnotationTimelineHandle>;
}

/** The library's vocabularies, re-read when any changes. */
function useVocabularies(onError: (message: string) => void) {
  const api = getApi();
  const [list, setList] = useState<LabelVocabulary[]>([]);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    api.call('listVocabularies', {}).then(
      (v) => live && setList(v),
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, version, onError]);
  useEffect(
    () => api.on('annotationsChanged', (e) => e.sessionId === undefined && setVersion((v) => v + 1)),
    [api],
  );
  return list;
}

export function AnnotationTimeline({ sessionId, initialFrame, onSeek, ref }: Props) {
  const api = getApi();
  const ed = useAnnotationEditor({ sessionId, initialFrame, onSeek });
  const { ann, frame, setFrame, tiers, frameCount, activeTier, selected } = ed;
  useImperativeHandle(ref, () => ({ setFrame }), [setFrame]);
  const vocabularies = useVocabularies(ann.setError);
  const [editVocabularies, setEditVocabularies] = useState(false);

  // Stable row callbacks (the rows are memoised; the editor changes every frame while playing).
  const latest = useRef(ed);
  useEffect(() => {
    latest.current = ed;
  });
  const rowHandlers = useMemo(
    () => ({
      onActivate: (tierId: number) => latest.current.setActiveTierId(tierId),
      onSelect: (a: Annotation, f: number) => {
        latest.current.setSelectedId(a.id);
        latest.current.seek(f);
      },
      onSeek: (f: number) => {
        latest.current.setSelectedId(null);
        latest.current.seek(f);
      },
      onCreate: (tier: TierAnnotations, span: Span) => void latest.current.create(tier, span),
      onMoveEdge: (a: Annotation, edge: Edge, to: number) => latest.current.moveEdge(a, edge, to),
      onRelabel: (a: Annotation) => {
        latest.current.setSelectedId(a.id);
        latest.current.setPicker(a.id);
      },
      onVocabulary: (tier: TierAnnotations, vocabularyId: number | null) =>
        void latest.current.ann.run(() => api.call('updateTier', { tierId: tier.id, vocabularyId })),
      onRemove: (tier: TierAnnotations) =>
        void latest.current.ann.run(() => api.call('removeTier', { tierId: tier.id })),
    }),
    [api],
  );

  const byTier = useMemo(() => {
    const m = new Map<number, AnnotationProposal[]>();
    for (const p of ann.proposals) m.set(p.tierId, [...(m.get(p.tierId) ?? []), p]);
    return m;
  }, [ann.proposals]);
  const span = Math.max(1, frameCount);
  const under = activeTier ? segmentAt(activeTier.annotations, frame) : undefined;
  const history =
    ann.canUndo || ann.canRedo ? `${ann.canUndo ? 'undo' : ''} ${ann.canRedo ? 'redo' : ''}` : '';

  return (
    <section
      className="annotation-timeline"
      data-testid="annotation-timeline"
      data-frame={frame}
      data-active-tier={activeTier?.name ?? ''}
      data-selected={selected?.a.id ?? ''}
      data-history={history.trim()}
      aria-label="Annotation tiers"
    >
      <div className="motif-head">
        <h2>Annotations</h2>
        <span className="muted">
          {tiers.length} tiers · {tiers.reduce((n, t) => n + t.annotations.length, 0)} segments · press ? for
          shortcuts
        </span>
        <span className="motif-readout" data-testid="annotation-readout">
          Frame {frame}
          {activeTier && ` · ${activeTier.name}`}
          {under && `: "${under.label}" (${frameSpan(under)}, ${sourceText(under.source)})`}
        </span>
      </div>
      <AnnotationToolbar
        activeTier={activeTier}
        hasSelection={!!selected}
        canUndo={ann.canUndo}
        canRedo={ann.canRedo}
        painting={!!ed.paint}
        busy={ann.busy}
        brush={ed.brush}
        onBrush={ed.setBrush}
        onAction={(a) => ed.actions[a]()}
        onPaintEnd={ed.paintEnd}
      />
      <div className="ann-rows">
        {tiers.map((t, i) => (
          <TierRow
            key={t.id}
            tier={t}
            index={i}
            frameCount={frameCount}
            active={t.id === activeTier?.id}
            selectedId={selected?.tier.id === t.id ? selected.a.id : null}
            proposals={byTier.get(t.id) ?? NONE}
            ghost={ed.paint?.tier.id === t.id ? ed.paint.ghost : null}
            vocabularies={vocabularies}
            {...rowHandlers}
          />
        ))}
        {frameCount > 0 && (
          <div className="ann-playhead-lane" aria-hidden="true">
            <div
              className="motif-playhead"
              data-testid="annotation-playhead"
              style={{ left: `${(100 * Math.min(frame + 0.5, span)) / span}%` }}
            />
          </div>
        )}
      </div>
      <div className="ann-below">
        <AddTierForm
          vocabularies={vocabularies}
          busy={ann.busy}
          onAdd={async (name, vocabularyId) =>
            !!(await ann.run(() => api.call('addTier', { sessionId, name, vocabularyId })))
          }
        />
        <button
          className="btn btn-small"
          data-testid="ann-vocabularies"
          aria-pressed={editVocabularies}
          onClick={() => setEditVocabularies((v) => !v)}
          title="Label vocabularies: controlled lists of labels with colours and descriptions"
        >
          Vocabularies…
        </button>
      </div>
      {ann.error && (
        <p className="form-error" role="alert" data-testid="annotation-error">
          {ann.error}
        </p>
      )}
      <ProposalsPanel
        proposals={ann.proposals}
        tiers={tiers}
        busy={ann.busy}
        onSeek={ed.seek}
        onDecide={(decision, ids) =>
          ann.run(() => api.call(decision === 'accept' ? 'acceptProposals' : 'rejectProposals', { ids }))
        }
      />
      {ed.picker && (
        <LabelPicker
          key={ed.picker.a.id}
          tier={ed.picker.tier}
          annotation={ed.picker.a}
          onPick={(label) => ed.relabelTo(ed.picker!.a.id, label)}
          onClose={() => ed.setPicker(null)}
        />
      )}
      {ed.sheet && <ShortcutSheet onClose={() => ed.setSheet(false)} />}
      {editVocabularies && (
        <VocabularyEditor
          vocabularies={vocabularies}
          run={ann.run}
          onClose={() => setEditVocabularies(false)}
        />
      )}
    </section>
  );
}
