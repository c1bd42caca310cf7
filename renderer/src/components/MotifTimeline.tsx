import { memo, useImperativeHandle, useMemo, useState, type KeyboardEvent, type Ref } from 'react';
import type { MotifProposals, MotifSegment } from '../../../preload/api';

/**
 * The A4Mer proposal tracks under the session's video: Action Atoms (alternating shades, their k-means
 * code in the tooltip) and Action Motifs (coloured by family), a playhead on the player's frame, the
 * session's families as chips. A click on a segment seeks to its start; a chip opens the family.
 */

/** Twelve colours that read on the dark theme with dark text on them (Tableau 10 and two more). */
const FAMILY_PALETTE = [
  '#4e9af1',
  '#f28e2b',
  '#59c27a',
  '#e15759',
  '#b07aa1',
  '#edc948',
  '#76b7b2',
  '#ff9da7',
  '#c49a7c',
  '#a0cbe8',
  '#b5e08d',
  '#d4a6c8',
];
const GOLDEN = 0.6180339887498949;

/**
 * A family's colour: Fibonacci hashing of its id (frac(id * golden ratio) spreads consecutive ids over
 * the palette), so a family keeps its colour in every session and view.
 */
export function familyColor(family: number): string {
  const x = family * GOLDEN;
  return FAMILY_PALETTE[Math.floor((x - Math.floor(x)) * FAMILY_PALETTE.length)];
}

export function familyLabel(family: number): string {
  return `F${family}`;
}

/** Session frames [start, end) as people read them: first and last frame. */
export function frameSpan(s: { start: number; end: number }): string {
  return s.end - s.start === 1 ? `frame ${s.start}` : `frames ${s.start}–${s.end - 1}`;
}

/** Index of the segment holding `frame` in a sorted, non-overlapping track, or -1 (binary search). */
function segmentAt(segs: MotifSegment[], frame: number): number {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].end <= frame) lo = mid + 1;
    else if (segs[mid].start > frame) hi = mid - 1;
    else return mid;
  }
  return -1;
}

export interface MotifTimelineHandle {
  /** Moves the playhead (called on every player frame; only the timeline re-renders). */
  setFrame: (frame: number) => void;
}

interface Props {
  proposals: MotifProposals;
  /** Session frames the tracks span. */
  frameCount: number;
  initialFrame: number;
  onSeek: (frame: number) => void;
  /** The family whose occurrences are listed, highlighted in the motif track. */
  selectedFamily: number | null;
  onFamily: (family: number | null) => void;
  ref?: Ref<MotifTimelineHandle>;
}

export function MotifTimeline({
  proposals,
  frameCount,
  initialFrame,
  onSeek,
  selectedFamily,
  onFamily,
  ref,
}: Props) {
  const [frame, setFrame] = useState(initialFrame);
  useImperativeHandle(ref, () => ({ setFrame }), []);
  const { atoms, motifs } = proposals;
  const atom = segmentAt(atoms, frame);
  const motif = segmentAt(motifs, frame);
  const families = useMemo(() => familyCounts(motifs), [motifs]);
  const span = Math.max(1, frameCount);

  return (
    <section
      className="motif-timeline"
      data-testid="motif-timeline"
      data-frame={frame}
      aria-label="Action atoms and motifs proposed by A4Mer"
    >
      <div className="motif-head">
        <h2>Atoms &amp; motifs</h2>
        <span className="muted">
          model #{proposals.modelId} · {proposals.provider} · {atoms.length} atoms · {motifs.length} motifs
        </span>
        <span className="motif-readout" data-testid="motif-readout">
          Frame {frame}
          {atom >= 0 && ` · atom ${atom + 1} (code ${atoms[atom].code ?? '–'})`}
          {motif >= 0 && ` · motif ${familyLabel(motifs[motif].family ?? 0)}`}
        </span>
      </div>
      <div className="motif-grid">
        <div className="motif-labels" aria-hidden="true">
          <span>Atoms</span>
          <span>Motifs</span>
        </div>
        <div className="motif-tracks">
          <SegmentTrack level="atom" segments={atoms} span={span} current={atom} onSeek={onSeek} />
          <SegmentTrack
            level="motif"
            segments={motifs}
            span={span}
            current={motif}
            onSeek={onSeek}
            selectedFamily={selectedFamily}
          />
          <div
            className="motif-playhead"
            style={{ left: `${(100 * Math.min(frame + 0.5, span)) / span}%` }}
            aria-hidden="true"
          />
        </div>
      </div>
      <div className="motif-families" role="group" aria-label="Motif families in this session">
        <span className="muted">Families</span>
        {families.map(([family, count]) => (
          <button
            key={family}
            className="btn btn-small family-chip"
            data-testid="family-chip"
            data-family={family}
            aria-pressed={family === selectedFamily}
            title={`List every occurrence of ${familyLabel(family)} in the library`}
            onClick={() => onFamily(family === selectedFamily ? null : family)}
          >
            <i style={{ background: familyColor(family) }} aria-hidden="true" />
            {familyLabel(family)} ×{count}
          </button>
        ))}
      </div>
    </section>
  );
}

/** Families of a track with their motif counts, in order of first appearance. */
function familyCounts(motifs: MotifSegment[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const m of motifs) counts.set(m.family ?? 0, (counts.get(m.family ?? 0) ?? 0) + 1);
  return [...counts];
}

interface TrackProps {
  level: 'atom' | 'motif';
  segments: MotifSegment[];
  span: number;
  /** Segment under the playhead (-1: none); it is also the track's one tab stop. */
  current: number;
  onSeek: (frame: number) => void;
  selectedFamily?: number | null;
}

/**
 * One track of segment buttons, a toolbar with one tab stop: arrows move between segments, Enter
 * seeks. Memoised, so it re-renders only when the segment under the playhead changes, not per frame.
 */
const SegmentTrack = memo(function SegmentTrack({
  level,
  segments,
  span,
  current,
  onSeek,
  selectedFamily = null,
}: TrackProps) {
  const atomTrack = level === 'atom';
  const tabStop = current >= 0 ? current : 0;
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('button')];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next =
      e.key === 'ArrowRight'
        ? at + 1
        : e.key === 'ArrowLeft'
          ? at - 1
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? buttons.length - 1
              : null;
    if (next === null || at < 0) return;
    // The player's arrow keys listen on the window; inside the track they move between segments.
    e.preventDefault();
    e.stopPropagation();
    buttons[Math.max(0, Math.min(buttons.length - 1, next))]?.focus();
  };
  return (
    <div
      className={`motif-track motif-track-${level}${selectedFamily !== null ? ' has-selection' : ''}`}
      role="toolbar"
      aria-label={atomTrack ? 'Action atoms' : 'Action motifs'}
      onKeyDown={onKeyDown}
    >
      {segments.map((s, i) => {
        const family = s.family ?? 0;
        const where = `${frameSpan(s)} of ${span}`;
        const label = atomTrack
          ? `Atom ${i + 1} of ${segments.length}: ${where}, code ${s.code ?? '–'}`
          : `Motif ${i + 1} of ${segments.length}, family ${familyLabel(family)}: ${where}` +
            (s.pattern === -1 ? ', a single atom' : `, pattern ${s.pattern}`);
        const classes = [
          'motif-seg',
          atomTrack ? `atom-seg ${i % 2 ? 'atom-odd' : 'atom-even'}` : 'motif-seg-motif',
          i === current ? 'current' : '',
          !atomTrack && family === selectedFamily ? 'selected' : '',
        ];
        return (
          <button
            key={i}
            className={classes.filter(Boolean).join(' ')}
            data-testid={atomTrack ? 'atom-segment' : 'motif-segment'}
            data-start={s.start}
            data-end={s.end}
            {...(atomTrack ? { 'data-code': s.code } : { 'data-family': family })}
            style={{
              left: `${(100 * s.start) / span}%`,
              width: `${(100 * (s.end - s.start)) / span}%`,
              ...(atomTrack ? {} : { background: familyColor(family) }),
            }}
            tabIndex={i === tabStop ? 0 : -1}
            aria-label={label}
            aria-current={i === current ? 'true' : undefined}
            title={label}
            onClick={() => onSeek(s.start)}
          >
            {atomTrack ? null : familyLabel(family)}
          </button>
        );
      })}
    </div>
  );
});
