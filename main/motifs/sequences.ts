/**
 * A labeled skeleton dataset (main/capture/skeleton-dataset.ts) as A4Mer input sequences, and the
 * by-subject train/test split of `studio eval motifs`.
 *
 * Split rule (deterministic, documented): the distinct subjects are sorted in natural order (digit runs
 * compared as numbers, so s2 < s10; then plain code-point order), and the first ceil(trainFraction * n)
 * are the training subjects, the others the test subjects. With the default trainFraction 0.5 UTKinect
 * (s01..s10) trains on s01-s05 and tests on s06-s10. A sequence without a subject is its own subject
 * (its name). An explicit `trainSubjects` list replaces the rule. Both sides must be non-empty.
 */
import type { SkeletonDataset } from '../capture/skeleton-dataset';
import type { A4MerSequence } from './preprocess';

export interface DatasetSequence {
  /** the sequence's name in the dataset (its file stem) */
  name: string;
  /** its subject, or its name when the dataset gives none */
  subject: string;
  sequence: A4MerSequence;
}

/**
 * Every sequence of a dataset as A4Mer input (positions shared, not copied). `label` names the dataset
 * in sources and errors (default: the dataset's name); a source reads "<label>/<sequence>".
 */
export function datasetSequences(dataset: SkeletonDataset, label = dataset.name): DatasetSequence[] {
  if (dataset.sequences.length === 0) throw new Error(`A4Mer dataset '${label}': it has no sequences`);
  const J = dataset.joints.length;
  return dataset.sequences.map((s) => {
    const source = `${label}/${s.name}`;
    if (s.positions.length !== s.frames * J * 3) {
      throw new Error(
        `A4Mer dataset '${label}': sequence '${s.name}' has ${s.positions.length} values, ` +
          `${s.frames} frames x ${J} joints x 3 needs ${s.frames * J * 3}`,
      );
    }
    return {
      name: s.name,
      subject: s.subject ?? s.name,
      sequence: { source, names: dataset.joints, fps: dataset.fps, frames: s.frames, positions: s.positions },
    };
  });
}

/** Natural order: digit runs compare as numbers (s2 < s10), the rest by code points; ties by code points. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface SubjectSplitOptions {
  /** fraction of the subjects (in natural order) that train: ceil(fraction * n) of them (default 0.5) */
  trainFraction?: number;
  /** explicit training subjects (replaces the rule); every other subject tests */
  trainSubjects?: readonly string[];
  /** names the dataset in errors */
  label?: string;
}

export interface SubjectSplit<T> {
  train: T[];
  test: T[];
  trainSubjects: string[];
  testSubjects: string[];
  /** the rule in words, for reports ("first 5 of 10 subjects in natural order: s01..s05") */
  rule: string;
}

/** Splits items by subject (see the file comment); input order is kept within each side. */
export function splitBySubject<T extends { subject: string }>(
  items: readonly T[],
  options: SubjectSplitOptions = {},
): SubjectSplit<T> {
  const label = options.label ?? 'dataset';
  const subjects = [...new Set(items.map((s) => s.subject))].sort(naturalCompare);
  let train: Set<string>;
  let rule: string;
  if (options.trainSubjects) {
    const unknown = options.trainSubjects.filter((s) => !subjects.includes(s));
    if (unknown.length > 0) {
      throw new Error(
        `A4Mer split of '${label}': unknown training subject(s) ${unknown.join(', ')} (subjects: ${subjects.join(', ')})`,
      );
    }
    train = new Set(options.trainSubjects);
    rule = `training subjects given: ${[...train].sort(naturalCompare).join(', ')}`;
  } else {
    const fraction = options.trainFraction ?? 0.5;
    if (!(fraction > 0 && fraction < 1))
      throw new Error(`A4Mer split of '${label}': trainFraction = ${fraction}, expected a number in (0, 1)`);
    const n = Math.ceil(fraction * subjects.length);
    train = new Set(subjects.slice(0, n));
    rule =
      `first ${n} of ${subjects.length} subjects in natural order train ` +
      `(${subjects[0]}..${subjects[Math.max(0, n - 1)]}), the rest test`;
  }
  const trainSubjects = subjects.filter((s) => train.has(s));
  const testSubjects = subjects.filter((s) => !train.has(s));
  if (trainSubjects.length === 0 || testSubjects.length === 0) {
    throw new Error(
      `A4Mer split of '${label}': ${subjects.length} subject(s) (${subjects.join(', ')}) give an empty ` +
        `${trainSubjects.length === 0 ? 'training' : 'test'} side; a by-subject split needs at least 2 subjects`,
    );
  }
  return {
    train: items.filter((s) => train.has(s.subject)),
    test: items.filter((s) => !train.has(s.subject)),
    trainSubjects,
    testSubjects,
    rule,
  };
}
