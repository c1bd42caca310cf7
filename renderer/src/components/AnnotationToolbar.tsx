import type { TierAnnotations } from '../../../preload/api';
import { keysOf, type EditorAction } from './annotation-shortcuts';

/**
 * The editor's buttons: one per action, each titled with its shortcut, so everything the keyboard
 * does the mouse does too. "Paint" works like the P key: hold it down while the video plays.
 */

interface Props {
  activeTier: TierAnnotations | null;
  hasSelection: boolean;
  canUndo: boolean;
  canRedo: boolean;
  painting: boolean;
  busy: boolean;
  brush: string;
  onBrush: (label: string) => void;
  onAction: (action: Exclude<EditorAction, 'tier'>) => void;
  /** Release of the held Paint button. */
  onPaintEnd: () => void;
}

const BUTTONS: {
  action: Exclude<EditorAction, 'tier' | 'paint'>;
  text: string;
  label: string;
  selection?: boolean;
}[] = [
  { action: 'undo', text: '↶ Undo', label: 'Undo' },
  { action: 'redo', text: '↷ Redo', label: 'Redo' },
  { action: 'split', text: 'Split', label: 'Split at the playhead' },
  { action: 'merge', text: 'Merge', label: 'Merge with the next segment', selection: true },
  { action: 'relabel', text: 'Relabel', label: 'Relabel', selection: true },
  { action: 'delete', text: 'Delete', label: 'Delete', selection: true },
  { action: 'prevSegment', text: '⇤ Seg', label: 'Previous segment' },
  { action: 'nextSegment', text: 'Seg ⇥', label: 'Next segment' },
  { action: 'prevBoundary', text: '◂|', label: 'Previous boundary' },
  { action: 'nextBoundary', text: '|▸', label: 'Next boundary' },
  { action: 'startEarlier', text: '[−', label: 'Start one frame earlier', selection: true },
  { action: 'startLater', text: '[+', label: 'Start one frame later', selection: true },
  { action: 'endEarlier', text: '−]', label: 'End one frame earlier', selection: true },
  { action: 'endLater', text: '+]', label: 'End one frame later', selection: true },
];

const TEST_IDS: Record<string, string> = {
  undo: 'ann-undo',
  redo: 'ann-redo',
  split: 'ann-split',
  merge: 'ann-merge',
  relabel: 'ann-relabel',
  delete: 'ann-delete',
  prevSegment: 'ann-prev-segment',
  nextSegment: 'ann-next-segment',
  prevBoundary: 'ann-prev-boundary',
  nextBoundary: 'ann-next-boundary',
  startEarlier: 'ann-start-earlier',
  startLater: 'ann-start-later',
  endEarlier: 'ann-end-earlier',
  endLater: 'ann-end-later',
};

export function AnnotationToolbar({
  activeTier,
  hasSelection,
  canUndo,
  canRedo,
  painting,
  busy,
  brush,
  onBrush,
  onAction,
  onPaintEnd,
}: Props) {
  const vocabulary = activeTier?.labels ?? [];
  const disabled = (b: (typeof BUTTONS)[number]) =>
    (b.selection && !hasSelection) || (b.action === 'undo' && !canUndo) || (b.action === 'redo' && !canRedo);
  return (
    <div className="ann-toolbar" role="toolbar" aria-label="Annotation editing" data-busy={busy}>
      <label className="check ann-brush" title="The label new segments get (drag, paint)">
        Label
        <input
          className="input"
          data-testid="ann-brush-label"
          list="ann-brush-labels"
          value={brush}
          placeholder={vocabulary[0]?.name ?? 'segment'}
          onChange={(e) => onBrush(e.target.value)}
        />
        <datalist id="ann-brush-labels">
          {vocabulary.map((l) => (
            <option key={l.name} value={l.name} />
          ))}
        </datalist>
      </label>
      <button
        className={`btn btn-small${painting ? ' btn-primary' : ''}`}
        data-testid="ann-paint"
        disabled={!activeTier}
        title={`Hold to paint a segment on the active tier while the video plays (${keysOf('paint')})`}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          onAction('paint');
        }}
        onPointerUp={onPaintEnd}
        onPointerCancel={onPaintEnd}
      >
        ● Paint
      </button>
      {BUTTONS.map((b) => (
        <button
          key={b.action}
          className="btn btn-small"
          data-testid={TEST_IDS[b.action]}
          disabled={disabled(b)}
          aria-label={b.label}
          title={`${b.label} (${keysOf(b.action)})`}
          onClick={() => onAction(b.action)}
        >
          {b.text}
        </button>
      ))}
      <button
        className="btn btn-small"
        data-testid="ann-shortcuts"
        aria-label="Keyboard shortcuts"
        title="Keyboard shortcuts (?)"
        onClick={() => onAction('shortcuts')}
      >
        ?
      </button>
    </div>
  );
}
