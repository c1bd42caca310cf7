import type { SkeletonDataset } from './skeleton-dataset';

/** What `studio dataset info` prints, and the per-frame label classes the motif evaluation scores against. */

export interface SkeletonDatasetSummary {
  name: string;
  fps: number;
  joints: number;
  sequences: number;
  frames: number;
  /** frames / fps */
  seconds: number;
  labels: number;
  /** segments per label name, sorted by name */
  labelCounts: Record<string, number>;
  subjects: string[];
}

export function summarizeSkeletonDataset(d: SkeletonDataset): SkeletonDatasetSummary {
  const frames = d.sequences.reduce((n, s) => n + s.frames, 0);
  const labelCounts: Record<string, number> = {};
  for (const name of labelVocabulary(d)) labelCounts[name] = 0;
  for (const l of d.labels) labelCounts[l.label]++;
  const subjects = [
    ...new Set(d.sequences.flatMap((s) => (s.subject === undefined ? [] : [s.subject]))),
  ].sort();
  return {
    name: d.name,
    fps: d.fps,
    joints: d.joints.length,
    sequences: d.sequences.length,
    frames,
    seconds: frames / d.fps,
    labels: d.labels.length,
    labelCounts,
    subjects,
  };
}

/** The distinct label names, sorted (the class indices of `frameLabels`). */
export function labelVocabulary(d: SkeletonDataset): string[] {
  return [...new Set(d.labels.map((l) => l.label))].sort();
}

/**
 * Per frame of one sequence, the index of its label in `vocabulary`, or -1 where unlabelled. Where labels
 * overlap (only in `labelsMayOverlap` datasets) the one starting later wins.
 */
export function frameLabels(
  d: SkeletonDataset,
  sequence: string,
  vocabulary: readonly string[] = labelVocabulary(d),
): Int32Array {
  const seq = d.sequences.find((s) => s.name === sequence);
  if (!seq) throw new Error(`${d.name}: no sequence "${sequence}"`);
  const out = new Int32Array(seq.frames).fill(-1);
  const own = d.labels.filter((l) => l.sequence === sequence).sort((a, b) => a.start - b.start);
  for (const l of own) {
    const k = vocabulary.indexOf(l.label);
    if (k < 0) throw new Error(`${d.name}: label "${l.label}" is not in the vocabulary`);
    out.fill(k, l.start, l.end);
  }
  return out;
}
