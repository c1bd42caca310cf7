import { describe, expect, it } from 'vitest';
import type { Annotation, AnnotationEdit, SessionAnnotations, TierAnnotations } from '../../preload/api';
import {
  edgeLimits,
  freeSpanAt,
  labelColour,
  neighbourBoundary,
  neighbourSegment,
  paintedSpan,
  sourceText,
} from '../../renderer/src/annotation-spans';
import { matchShortcut, SHORTCUTS } from '../../renderer/src/components/annotation-shortcuts';
import { applyEdit } from '../../renderer/src/components/useAnnotations';
import { brushLabelFor } from '../../renderer/src/components/useAnnotationEditor';

/** The editor's frame finding, key matching and edit application (the rules themselves are the store's). */

const seg = (id: number, start: number, end: number, label = 'walk'): Annotation => ({
  id,
  tierId: 1,
  start,
  end,
  label,
  source: { kind: 'user' },
  createdAt: 'now',
  updatedAt: 'now',
});
// Segments [10, 20), [30, 40), [40, 50) of a 100-frame session.
const SEGS = [seg(1, 10, 20), seg(2, 30, 40), seg(3, 40, 50)];

const tier = (over: Partial<TierAnnotations> = {}): TierAnnotations => ({
  id: 1,
  sessionId: 1,
  name: 'action',
  kind: 'action',
  vocabularyId: null,
  position: 0,
  vocabularyName: null,
  labels: [],
  annotations: SEGS,
  ...over,
});

/** A KeyboardEvent's fields as the browser fills them. */
const key = (k: string, mods: Partial<Record<'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey', boolean>> = {}) =>
  ({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods }) as KeyboardEvent;

describe('timeline spans', () => {
  it('clips a drag or a paint to the free frames around where it began', () => {
    expect(freeSpanAt(SEGS, 25, 100)).toEqual({ start: 20, end: 30 });
    expect(freeSpanAt(SEGS, 5, 100)).toEqual({ start: 0, end: 10 });
    expect(freeSpanAt(SEGS, 70, 100)).toEqual({ start: 50, end: 100 });
    expect(freeSpanAt(SEGS, 10, 100)).toBeNull();
    // Both ends shown, so both included; dragging leftwards is the same span.
    expect(paintedSpan(SEGS, 22, 26, 100)).toEqual({ start: 22, end: 27 });
    expect(paintedSpan(SEGS, 26, 22, 100)).toEqual({ start: 22, end: 27 });
    // Over a neighbour: stops at it.
    expect(paintedSpan(SEGS, 22, 45, 100)).toEqual({ start: 22, end: 30 });
    expect(paintedSpan(SEGS, 55, 5, 100)).toEqual({ start: 50, end: 56 });
    expect(paintedSpan(SEGS, 99, 120, 100)).toEqual({ start: 99, end: 100 });
    expect(paintedSpan(SEGS, 15, 25, 100)).toBeNull();
  });

  it('keeps a dragged boundary between its neighbours and at least one frame long', () => {
    expect(edgeLimits(SEGS, SEGS[0], 'start', 100)).toEqual([0, 19]);
    expect(edgeLimits(SEGS, SEGS[0], 'end', 100)).toEqual([11, 30]);
    expect(edgeLimits(SEGS, SEGS[1], 'end', 100)).toEqual([31, 40]);
    expect(edgeLimits(SEGS, SEGS[2], 'start', 100)).toEqual([40, 49]);
    expect(edgeLimits(SEGS, SEGS[2], 'end', 100)).toEqual([41, 100]);
  });

  it('finds the previous and next segment and boundary', () => {
    expect(neighbourSegment(SEGS, 0, 1)?.id).toBe(1);
    expect(neighbourSegment(SEGS, 10, 1)?.id).toBe(2);
    expect(neighbourSegment(SEGS, 35, -1)?.id).toBe(2);
    expect(neighbourSegment(SEGS, 30, -1)?.id).toBe(1);
    expect(neighbourSegment(SEGS, 45, 1)).toBeUndefined();
    expect(neighbourBoundary(SEGS, 10, 1)).toBe(20);
    expect(neighbourBoundary(SEGS, 35, 1)).toBe(40);
    expect(neighbourBoundary(SEGS, 40, 1)).toBe(50);
    expect(neighbourBoundary(SEGS, 40, -1)).toBe(30);
    expect(neighbourBoundary(SEGS, 10, -1)).toBeUndefined();
  });

  it('colours by the vocabulary, else by a stable hash of the label; names the source', () => {
    const controlled = tier({ labels: [{ name: 'walk', colour: '#123456', description: '', position: 0 }] });
    expect(labelColour(controlled, 'walk')).toBe('#123456');
    expect(labelColour(tier(), 'walk')).toMatch(/^#[0-9a-f]{6}$/);
    expect(labelColour(tier(), 'walk')).toBe(labelColour(tier({ id: 9 }), 'walk'));
    expect(sourceText({ kind: 'motif-family', modelId: 2, family: 3, proposalId: 7 })).toBe(
      'motif family F3 of model #2 (proposal #7)',
    );
    // New segments: the brush label, or the vocabulary's first when the vocabulary lacks it.
    expect(brushLabelFor(tier(), ' hop ')).toBe('hop');
    expect(brushLabelFor(tier(), '')).toBe('segment');
    expect(brushLabelFor(controlled, 'hop')).toBe('walk');
  });
});

describe('shortcuts', () => {
  it('maps keys to actions, never the player keys, nothing with Alt', () => {
    const cases: [KeyboardEvent, string | null][] = [
      [key('p'), 'paint'],
      [key('P', { shiftKey: true }), 'paint'],
      [key('s'), 'split'],
      [key('m'), 'merge'],
      [key('l'), 'relabel'],
      [key('Delete'), 'delete'],
      [key('Backspace'), 'delete'],
      [key('['), 'prevSegment'],
      [key(']'), 'nextSegment'],
      [key('{', { shiftKey: true }), 'prevBoundary'],
      [key('}', { shiftKey: true }), 'nextBoundary'],
      [key(','), 'startEarlier'],
      [key('.'), 'startLater'],
      [key('<', { shiftKey: true }), 'endEarlier'],
      [key('>', { shiftKey: true }), 'endLater'],
      [key('z', { ctrlKey: true }), 'undo'],
      [key('z', { metaKey: true }), 'undo'],
      [key('Z', { ctrlKey: true, shiftKey: true }), 'redo'],
      [key('y', { ctrlKey: true }), 'redo'],
      [key('3'), 'tier'],
      [key('Escape'), 'deselect'],
      [key('?', { shiftKey: true }), 'shortcuts'],
      [key(' '), null],
      [key('ArrowLeft'), null],
      [key('Home'), null],
      [key('s', { altKey: true }), null],
      [key('s', { ctrlKey: true }), null],
      [key('0'), null],
    ];
    for (const [e, want] of cases) expect(matchShortcut(e)?.action ?? null, `${e.key}`).toBe(want);
    expect(matchShortcut(key('3'))?.index).toBe(2);
    // Every action the matcher can return is on the sheet.
    const listed = new Set(SHORTCUTS.map((s) => s.action));
    for (const [, want] of cases) if (want) expect(listed.has(want as never), want).toBe(true);
  });
});

describe('applying an edit', () => {
  it('replaces the rows it wrote, drops the ids it removed, keeps tiers sorted', () => {
    const data: SessionAnnotations = {
      sessionId: 1,
      frameCount: 100,
      tiers: [tier(), tier({ id: 2, name: 'motif', kind: 'motif', annotations: [] })],
    };
    // A merge of [30, 40) and [40, 50) into #2, and a new segment in the other tier.
    const edit: AnnotationEdit = {
      sessionId: 1,
      historyId: 5,
      op: 'merge',
      annotations: [{ ...seg(2, 30, 50), label: 'run' }, { ...seg(4, 0, 5), tierId: 2 }, seg(5, 0, 5)],
      removedIds: [3],
      proposals: [],
    };
    const next = applyEdit(data, edit);
    expect(next.tiers[0].annotations.map((a) => [a.id, a.start, a.end, a.label])).toEqual([
      [5, 0, 5, 'walk'],
      [1, 10, 20, 'walk'],
      [2, 30, 50, 'run'],
    ]);
    expect(next.tiers[1].annotations.map((a) => a.id)).toEqual([4]);
    // The input is left as it was.
    expect(data.tiers[0].annotations).toBe(SEGS);
  });
});
