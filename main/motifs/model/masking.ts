/**
 * JEPA segment masking: per window, a uniformly random subset K of the valid segments is masked. Its size
 * is round(ratio * n), clamped to [min(2, n - 1), n - 1] so that at least one segment stays visible (the
 * context) and, when possible, |K| >= 2 (with |K| = 1 the local term z_k - z_g vanishes identically).
 * Windows with fewer than 2 valid segments get no mask (they do not contribute to the loss).
 */
import type { Rng } from '../../capture/sample/rng';
import type { SegmentLayout } from './layout';

export interface SegmentMask {
  /** [B*S] 1 for a valid visible segment */
  visible: Float32Array;
  /** [B*S] 1 for a valid masked segment (k in K) */
  masked: Float32Array;
}

export function maskedCount(validSegments: number, ratio: number): number {
  const n = validSegments;
  if (n < 2) return 0;
  return Math.min(n - 1, Math.max(Math.min(2, n - 1), Math.round(ratio * n)));
}

/** A random mask of each window's valid segments (partial Fisher-Yates on the valid slots). */
export function sampleSegmentMask(layout: SegmentLayout, ratio: number, rng: Rng): SegmentMask {
  const { batch: B, segments: S } = layout;
  const masked = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    const slots: number[] = [];
    for (let s = 0; s < S; s++) if (layout.segmentValid[b * S + s] > 0) slots.push(b * S + s);
    const m = maskedCount(slots.length, ratio);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(slots.length - i);
      [slots[i], slots[j]] = [slots[j], slots[i]];
      masked[slots[i]] = 1;
    }
  }
  return maskFromMasked(layout, masked);
}

/**
 * A mask from a given masked set (e.g. hierarchical masking: the atoms of a masked motif). Empty slots are
 * ignored; a window whose valid segments would all be masked is an Error (no context left).
 */
export function maskFromMasked(layout: SegmentLayout, maskedIn: Float32Array): SegmentMask {
  const { batch: B, segments: S } = layout;
  if (maskedIn.length !== B * S) throw new Error(`segment mask: ${maskedIn.length} entries, B*S = ${B * S}`);
  const visible = new Float32Array(B * S);
  const masked = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    let nVisible = 0;
    let nMasked = 0;
    for (let k = b * S; k < (b + 1) * S; k++) {
      if (layout.segmentValid[k] === 0) continue;
      if (maskedIn[k] > 0) {
        masked[k] = 1;
        nMasked++;
      } else {
        visible[k] = 1;
        nVisible++;
      }
    }
    if (nMasked > 0 && nVisible === 0)
      throw new Error(`segment mask: window ${b} has all its segments masked`);
  }
  return { visible, masked };
}
