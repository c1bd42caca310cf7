/**
 * The annotation editor's keyboard shortcuts: one table that the key handler matches and the shortcut
 * sheet lists. They live beside the player's (usePlayerKeys.ts: Space plays, arrows step, Home / End)
 * and never reuse those keys; none fires while typing in a field.
 */

export type EditorAction =
  | 'paint'
  | 'split'
  | 'merge'
  | 'relabel'
  | 'delete'
  | 'prevSegment'
  | 'nextSegment'
  | 'prevBoundary'
  | 'nextBoundary'
  | 'startEarlier'
  | 'startLater'
  | 'endEarlier'
  | 'endLater'
  | 'undo'
  | 'redo'
  | 'tier'
  | 'deselect'
  | 'shortcuts';

export interface Shortcut {
  action: EditorAction;
  /** As shown on the sheet and in tooltips. */
  keys: string[];
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  {
    action: 'paint',
    keys: ['P (hold)'],
    what: 'Paint a segment over the frames played (or stepped) while held',
  },
  {
    action: 'split',
    keys: ['S'],
    what: 'Split the selected segment (or the one under the playhead) at the playhead',
  },
  { action: 'merge', keys: ['M'], what: 'Merge the selected segment with the next one in its tier' },
  { action: 'relabel', keys: ['L', 'double-click'], what: 'Relabel the selected segment' },
  { action: 'delete', keys: ['Delete', 'Backspace'], what: 'Delete the selected segment' },
  { action: 'prevSegment', keys: ['['], what: 'Select the previous segment of the tier and go to its start' },
  { action: 'nextSegment', keys: [']'], what: 'Select the next segment of the tier and go to its start' },
  {
    action: 'prevBoundary',
    keys: ['Shift+['],
    what: 'Go to the previous boundary (a start or an end) of the tier',
  },
  { action: 'nextBoundary', keys: ['Shift+]'], what: 'Go to the next boundary of the tier' },
  { action: 'startEarlier', keys: [','], what: "Move the selected segment's start one frame earlier" },
  { action: 'startLater', keys: ['.'], what: "Move the selected segment's start one frame later" },
  { action: 'endEarlier', keys: ['Shift+,'], what: "Move the selected segment's end one frame earlier" },
  { action: 'endLater', keys: ['Shift+.'], what: "Move the selected segment's end one frame later" },
  { action: 'undo', keys: ['Ctrl+Z'], what: 'Undo the last edit (the history survives reloads)' },
  { action: 'redo', keys: ['Ctrl+Shift+Z', 'Ctrl+Y'], what: 'Redo' },
  { action: 'tier', keys: ['1 … 9'], what: 'Make tier 1 … 9 the active tier (where new segments go)' },
  { action: 'deselect', keys: ['Esc'], what: 'Close the label picker or this sheet; clear the selection' },
  { action: 'shortcuts', keys: ['?'], what: 'Show or hide this sheet' },
];

/** Player keys, listed on the sheet for completeness (usePlayerKeys.ts handles them). */
export const PLAYER_SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: ['Space'], what: 'Play / pause' },
  { keys: ['←', '→'], what: 'Step one frame (Shift: ten)' },
  { keys: ['Home', 'End'], what: 'First / last frame' },
  { keys: ['drag on a tier'], what: 'Create a segment over the frames dragged across' },
  { keys: ['drag an edge'], what: 'Move that boundary' },
];

/** The shortcut a key press means (tier: digit as index), or null. Ctrl and Cmd are the same. */
export function matchShortcut(e: KeyboardEvent): { action: EditorAction; index?: number } | null {
  const k = e.key;
  if (e.ctrlKey || e.metaKey) {
    if (e.altKey) return null;
    const lower = k.toLowerCase();
    if (lower === 'z') return { action: e.shiftKey ? 'redo' : 'undo' };
    if (lower === 'y' && !e.shiftKey) return { action: 'redo' };
    return null;
  }
  if (e.altKey) return null;
  switch (k) {
    case '[':
    case '{':
      return { action: e.shiftKey ? 'prevBoundary' : 'prevSegment' };
    case ']':
    case '}':
      return { action: e.shiftKey ? 'nextBoundary' : 'nextSegment' };
    case ',':
    case '<':
      return { action: e.shiftKey ? 'endEarlier' : 'startEarlier' };
    case '.':
    case '>':
      return { action: e.shiftKey ? 'endLater' : 'startLater' };
    case 'Delete':
    case 'Backspace':
      return { action: 'delete' };
    case 'Escape':
      return { action: 'deselect' };
    case '?':
      return { action: 'shortcuts' };
  }
  if (/^[1-9]$/.test(k)) return { action: 'tier', index: Number(k) - 1 };
  switch (k.toLowerCase()) {
    case 'p':
      return { action: 'paint' };
    case 's':
      return { action: 'split' };
    case 'm':
      return { action: 'merge' };
    case 'l':
      return { action: 'relabel' };
  }
  return null;
}

/** The keys of an action for a tooltip: "Split (S)". */
export function keysOf(action: EditorAction): string {
  return SHORTCUTS.find((s) => s.action === action)?.keys.join(' / ') ?? '';
}
