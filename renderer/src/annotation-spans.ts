import type { Annotation, AnnotationSource, TierAnnotations } from '../../preload/api';
import { familyColor, familyLabel } from './components/MotifTimeline';

/**
 * Where things are on the annotation timeline: a tier's segments are sorted and never overlap, in
 * session frames [start, end). These only find frames for the editor to ask for; the store decides.
 */

export interface Span {
  start: number;
  end: number;
}

/** The segment holding `frame`, if any. */
export function segmentAt(segs: readonly Annotation[], frame: number): Annotation | undefined {
  return segs.find((a) => a.start <= frame && frame < a.end);
}

/** The free frames around `frame` (between its neighbours), or null when a segment holds it. */
export function freeSpanAt(segs: readonly Annotation[], frame: number, frameCount: number): Span | null {
  let start = 0;
  let end = frameCount;
  for (const a of segs) {
    if (a.start <= frame && frame < a.end) return null;
    if (a.end <= frame) start = Math.max(start, a.end);
    else {
      end = Math.min(end, a.start);
      break;
    }
  }
  return { start, end };
}

/**
 * The segment a drag or a paint from frame `from` to frame `to` (both shown, so both included) makes:
 * [min, max + 1), clipped to the free frames around `from`; null when `from` is inside a segment.
 */
export function paintedSpan(
  segs: readonly Annotation[],
  from: number,
  to: number,
  frameCount: number,
): Span | null {
  const free = freeSpanAt(segs, from, frameCount);
  if (!free) return null;
  const start = Math.max(free.start, Math.min(from, to));
  const end = Math.min(free.end, Math.max(from, to) + 1);
  return end > start ? { start, end } : null;
}

/** The limits a boundary can move within: a start in [previous end, end - 1], an end in [start + 1, next start]. */
export function edgeLimits(
  segs: readonly Annotation[],
  a: Annotation,
  edge: 'start' | 'end',
  frameCount: number,
): [number, number] {
  if (edge === 'start') {
    const prev = segs.filter((x) => x.end <= a.start).at(-1);
    return [prev?.end ?? 0, a.end - 1];
  }
  const next = segs.find((x) => x.start >= a.end);
  return [a.start + 1, next?.start ?? frameCount];
}

/** The segment starting after `frame` (dir 1) or the last one starting before it (dir -1). */
export function neighbourSegment(
  segs: readonly Annotation[],
  frame: number,
  dir: 1 | -1,
): Annotation | undefined {
  return dir > 0 ? segs.find((a) => a.start > frame) : segs.filter((a) => a.start < frame).at(-1);
}

/** The nearest segment boundary (a start or an end) after `frame` (dir 1) or before it (dir -1). */
export function neighbourBoundary(
  segs: readonly Annotation[],
  frame: number,
  dir: 1 | -1,
): number | undefined {
  const edges = [...new Set(segs.flatMap((a) => [a.start, a.end]))].sort((x, y) => x - y);
  return dir > 0 ? edges.find((b) => b > frame) : edges.filter((b) => b < frame).at(-1);
}

/** The segment after `a` in its tier. */
export function nextInTier(segs: readonly Annotation[], a: Annotation): Annotation | undefined {
  return segs.find((x) => x.start >= a.end);
}

/** FNV-1a of a label, so a free-text label keeps its colour everywhere. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A label's colour: its vocabulary's in a controlled tier, else a stable colour hashed from its text. */
export function labelColour(tier: TierAnnotations, label: string): string {
  return tier.labels.find((l) => l.name === label)?.colour ?? familyColor(hashLabel(label) % 997);
}

/** Where a segment came from, as people read it. */
export function sourceText(source: AnnotationSource): string {
  return source.kind === 'user'
    ? 'drawn by hand'
    : `motif family ${familyLabel(source.family)} of model #${source.modelId} (proposal #${source.proposalId})`;
}
