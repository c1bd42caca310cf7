import { memo, useRef, useState, type PointerEvent } from 'react';
import type { Annotation, AnnotationProposal, LabelVocabulary, TierAnnotations } from '../../../preload/api';
import { edgeLimits, labelColour, paintedSpan, sourceText, type Span } from '../annotation-spans';
import { familyLabel, frameSpan } from './MotifTimeline';
import type { Edge } from './useAnnotationEditor';

/**
 * One tier of the annotation timeline: its name (and vocabulary) and a track of segments coloured by
 * label. On the track, a drag over empty frames creates a segment, a drag of a segment's edge moves
 * that boundary, a click selects (and moves the playhead there), a double-click relabels. Pending
 * proposals of the tier show as dashed outlines. The drag is previewed here and sent once, on release.
 */

type Drag =
  | { kind: 'create'; from: number; to: number; x0: number }
  | { kind: 'edge'; a: Annotation; edge: Edge; to: number; limits: [number, number] };

interface Props {
  tier: TierAnnotations;
  /** 0-based: the digit key that activates it is index + 1. */
  index: number;
  frameCount: number;
  active: boolean;
  selectedId: number | null;
  proposals: AnnotationProposal[];
  /** The segment a paint in progress will make, when it is on this tier. */
  ghost: Span | null;
  vocabularies: LabelVocabulary[];
  onActivate: (tierId: number) => void;
  onSelect: (a: Annotation, frame: number) => void;
  onSeek: (frame: number) => void;
  onCreate: (tier: TierAnnotations, span: Span) => void;
  onMoveEdge: (a: Annotation, edge: Edge, to: number) => void;
  onRelabel: (a: Annotation) => void;
  onVocabulary: (tier: TierAnnotations, vocabularyId: number | null) => void;
  onRemove: (tier: TierAnnotations) => void;
}

const pct = (frames: number, span: number) => `${(100 * frames) / span}%`;

export const TierRow = memo(function TierRow({
  tier,
  index,
  frameCount,
  active,
  selectedId,
  proposals,
  ghost,
  vocabularies,
  onActivate,
  onSelect,
  onSeek,
  onCreate,
  onMoveEdge,
  onRelabel,
  onVocabulary,
  onRemove,
}: Props) {
  const track = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const span = Math.max(1, frameCount);

  /** The frame under x (a click, a drag's ends) and the boundary nearest x (an edge drag). */
  const at = (clientX: number, boundary: boolean) => {
    const r = track.current!.getBoundingClientRect();
    const x = ((clientX - r.left) / Math.max(1, r.width)) * span;
    return boundary
      ? Math.min(span, Math.max(0, Math.round(x)))
      : Math.min(span - 1, Math.max(0, Math.floor(x)));
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0 || frameCount === 0) return;
    const el = e.target as HTMLElement;
    const segEl = el.closest<HTMLElement>('[data-annotation-id]');
    const a = segEl && tier.annotations.find((x) => x.id === Number(segEl.dataset.annotationId));
    const edge = el.closest<HTMLElement>('[data-edge]')?.dataset.edge as Edge | undefined;
    onActivate(tier.id);
    if (a && edge) {
      e.preventDefault();
      track.current!.setPointerCapture(e.pointerId);
      setDrag({
        kind: 'edge',
        a,
        edge,
        to: a[edge],
        limits: edgeLimits(tier.annotations, a, edge, frameCount),
      });
    } else if (a) {
      onSelect(a, at(e.clientX, false));
    } else {
      e.preventDefault();
      track.current!.setPointerCapture(e.pointerId);
      const f = at(e.clientX, false);
      setDrag({ kind: 'create', from: f, to: f, x0: e.clientX });
    }
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag) return;
    if (drag.kind === 'create') setDrag({ ...drag, to: at(e.clientX, false) });
    else {
      const [lo, hi] = drag.limits;
      setDrag({ ...drag, to: Math.min(hi, Math.max(lo, at(e.clientX, true))) });
    }
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag) return;
    setDrag(null);
    if (drag.kind === 'edge') return onMoveEdge(drag.a, drag.edge, drag.to);
    // A press without a drag is a click on empty frames: the playhead goes there.
    if (Math.abs(e.clientX - drag.x0) < 3) return onSeek(drag.from);
    const made = paintedSpan(tier.annotations, drag.from, drag.to, frameCount);
    if (made) onCreate(tier, made);
  };

  const creating =
    drag?.kind === 'create' && drag.to !== drag.from
      ? paintedSpan(tier.annotations, drag.from, drag.to, frameCount)
      : null;
  const preview = ghost ?? creating;
  const vocabulary = tier.vocabularyName ? ` · ${tier.vocabularyName}` : ' · free text';

  return (
    <div
      className={`ann-row${active ? ' active' : ''}`}
      data-testid="tier-row"
      data-tier-id={tier.id}
      data-tier={tier.name}
      data-kind={tier.kind}
    >
      <div
        className="ann-tier-head"
        title={`${tier.kind} tier${vocabulary} (key ${index + 1} makes it active)`}
      >
        <button
          className="btn-text ann-tier-name"
          data-testid="tier-name"
          aria-pressed={active}
          onClick={() => onActivate(tier.id)}
        >
          {index + 1}. {tier.name}
        </button>
        <select
          className="ann-tier-vocabulary"
          data-testid="tier-vocabulary"
          aria-label={`Vocabulary of tier ${tier.name}`}
          value={tier.vocabularyId ?? ''}
          onChange={(e) => onVocabulary(tier, e.target.value === '' ? null : Number(e.target.value))}
        >
          <option value="">free text</option>
          {vocabularies.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
        {tier.kind === 'free' && tier.annotations.length === 0 && (
          <button
            className="btn-link ann-tier-remove"
            data-testid="tier-remove"
            aria-label={`Remove tier ${tier.name}`}
            title="Remove this empty tier"
            onClick={() => onRemove(tier)}
          >
            ×
          </button>
        )}
      </div>
      <div
        ref={track}
        className="ann-track"
        data-testid="tier-track"
        role="group"
        aria-label={`Segments of tier ${tier.name}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setDrag(null)}
      >
        {proposals.map((p) => (
          <div
            key={`p${p.id}`}
            className="ann-proposal"
            data-testid="proposal-ghost"
            data-start={p.start}
            data-end={p.end}
            style={{ left: pct(p.start, span), width: pct(p.end - p.start, span) }}
            title={`Proposed "${p.label}" (family ${familyLabel(p.source.family)}): ${frameSpan(p)}`}
          />
        ))}
        {tier.annotations.map((a0) => {
          const a = drag?.kind === 'edge' && drag.a.id === a0.id ? { ...a0, [drag.edge]: drag.to } : a0;
          const selected = a.id === selectedId;
          const tip = `"${a.label}": ${frameSpan(a)} · ${sourceText(a.source)}`;
          return (
            <div
              key={a.id}
              className={`ann-seg${selected ? ' selected' : ''}`}
              data-testid="annotation-segment"
              data-annotation-id={a.id}
              data-start={a.start}
              data-end={a.end}
              data-label={a.label}
              data-source={a.source.kind}
              role="button"
              aria-pressed={selected}
              aria-label={`${tier.name}: ${tip}`}
              title={tip}
              style={{
                left: pct(a.start, span),
                width: pct(a.end - a.start, span),
                background: labelColour(tier, a.label),
              }}
              onDoubleClick={() => onRelabel(a0)}
            >
              <span className="ann-seg-label">{a.label}</span>
              <span className="ann-edge ann-edge-start" data-edge="start" data-testid="edge-start" />
              <span className="ann-edge ann-edge-end" data-edge="end" data-testid="edge-end" />
            </div>
          );
        })}
        {preview && (
          <div
            className="ann-ghost"
            data-testid="annotation-ghost"
            data-start={preview.start}
            data-end={preview.end}
            style={{ left: pct(preview.start, span), width: pct(preview.end - preview.start, span) }}
          />
        )}
      </div>
    </div>
  );
});
