import { type A4MerAtomConfig, resolveAtomConfig } from './config';
import { type A4MerInput, type A4MerWindow, sourceFrameOf } from './preprocess';

/**
 * Action Atoms: kinematic segmentation of a window (A4Mer, "Two-level segmentation"). A boundary is
 * where the observed joint trajectories depart from their linear extrapolation. Within the current atom
 * the next frame is predicted at constant velocity from the atom's most recent steps,
 *   x^_j(t) = x_j(t-1) + (x_j(t-1) - x_j(t-1-m)) / m,   m = min(velocityFrames, t-1-k),
 * k = the frame where the current run of linear motion began (the last departure cut; a forced cut
 * at maxLength does not restart it, the motion is continuous there). The departure is
 *   e(t) = (1/P) sum_j |x^_j(t) - x_j(t)|
 * in the trajectory's units (body-scale units for A4MerWindow.trajectory). e(t) > threshold means the
 * motion bent at t-1, so t-1 starts a new atom; cuts that would leave an atom shorter than minLength are
 * skipped (absorbed), an atom reaching maxLength is cut. A last atom shorter than minLength is merged
 * into the previous one (or takes minLength frames from it when the merge would exceed maxLength).
 */

/** Atoms of one window: atom a covers frames [starts[a], ends[a]) (window frames, end exclusive). */
export interface AtomSegments {
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  /** 1 where atom a starts at a departure (kinematic) cut, 0 at a forced cut or the window start */
  kinematic: Uint8Array;
}

export function allocateAtoms(capacity: number): AtomSegments {
  return {
    count: 0,
    starts: new Int32Array(capacity),
    ends: new Int32Array(capacity),
    kinematic: new Uint8Array(capacity),
  };
}

/** e(t) for `points` 3D points at frames t (see above), velocity over m steps ending at t-1. */
export function departure(trajectory: ArrayLike<number>, points: number, t: number, m: number): number {
  const P3 = points * 3;
  const cur = t * P3;
  const prev = (t - 1) * P3;
  const back = (t - 1 - m) * P3;
  let sum = 0;
  for (let q = 0; q < P3; q += 3) {
    let d2 = 0;
    for (let c = 0; c < 3; c++) {
      const xp = trajectory[prev + q + c];
      const predicted = xp + (xp - trajectory[back + q + c]) / m;
      const d = predicted - trajectory[cur + q + c];
      d2 += d * d;
    }
    sum += Math.sqrt(d2);
  }
  return sum / points;
}

function push(out: AtomSegments, start: number, end: number, kinematic: boolean): void {
  out.starts[out.count] = start;
  out.ends[out.count] = end;
  out.kinematic[out.count] = kinematic ? 1 : 0;
  out.count++;
}

/**
 * Segments frames [0, frames) of `trajectory` (frames x points x 3, row-major) into atoms, written to
 * `out` (capacity >= frames; allocated when absent). `departures`, if given (length >= frames), receives
 * e(t) as evaluated (0 where not evaluated: the first two frames of a run).
 */
export function segmentAtoms(
  trajectory: ArrayLike<number>,
  frames: number,
  points: number,
  config: Partial<A4MerAtomConfig> = {},
  out: AtomSegments = allocateAtoms(frames),
  departures?: Float32Array,
): AtomSegments {
  const cfg = resolveAtomConfig(config);
  if (!Number.isInteger(frames) || frames < 0 || !Number.isInteger(points) || points < 1)
    throw new Error(`A4Mer atoms: bad shape frames=${frames} points=${points}`);
  if (trajectory.length < frames * points * 3)
    throw new Error(
      `A4Mer atoms: trajectory has ${trajectory.length} values, need ${frames} x ${points} x 3`,
    );
  if (out.starts.length < frames)
    throw new Error(`A4Mer atoms: output capacity ${out.starts.length} < ${frames}`);
  out.count = 0;
  if (departures) departures.fill(0, 0, frames);
  if (frames === 0) return out;
  let start = 0; // current atom
  let run = 0; // k: start of the current run of linear motion
  let startKinematic = false;
  for (let t = 1; t < frames; t++) {
    const steps = t - 1 - run;
    if (steps >= 1) {
      const e = departure(trajectory, points, t, Math.min(cfg.velocityFrames, steps));
      if (departures) departures[t] = e;
      if (!(e <= cfg.threshold)) {
        // The trajectory bent at t-1: a new run starts there (also when the cut itself is skipped, so
        // the next predictions use the new velocity rather than flagging the same corner again).
        run = t - 1;
        if (t - 1 - start >= cfg.minLength) {
          push(out, start, t - 1, startKinematic);
          start = t - 1;
          startKinematic = true;
        }
      }
    }
    if (t - start >= cfg.maxLength) {
      push(out, start, t, startKinematic);
      start = t;
      startKinematic = false;
    }
  }
  push(out, start, frames, startKinematic);
  const last = out.count - 1;
  if (last > 0 && frames - start < cfg.minLength) {
    // A short tail: merge it into the previous atom, or move their boundary to leave it minLength.
    if (frames - out.starts[last - 1] <= cfg.maxLength) {
      out.ends[last - 1] = frames;
      out.count--;
    } else {
      out.ends[last - 1] = frames - cfg.minLength;
      out.starts[last] = frames - cfg.minLength;
      out.kinematic[last] = 0;
    }
  }
  return out;
}

/** Atoms of a preprocessed window: its canonical trajectories over its valid frames. */
export function windowAtoms(
  input: A4MerInput,
  window: A4MerWindow,
  config: Partial<A4MerAtomConfig> = {},
  out: AtomSegments = allocateAtoms(window.frames),
): AtomSegments {
  return segmentAtoms(window.trajectory, window.validFrames, input.joints, config, out);
}

/**
 * The atoms in source frames, [start, end) (see sourceFrameOf: model frame k stands for source frames
 * [k * ratio, (k + 1) * ratio); the sequence's last atom ends at sourceFrames).
 */
export function atomsToSourceFrames(
  input: A4MerInput,
  window: A4MerWindow,
  atoms: AtomSegments,
  out = { starts: new Int32Array(atoms.count), ends: new Int32Array(atoms.count) },
): { starts: Int32Array; ends: Int32Array } {
  for (let a = 0; a < atoms.count; a++) {
    out.starts[a] = sourceFrameOf(input, window, atoms.starts[a]);
    out.ends[a] = sourceFrameOf(input, window, atoms.ends[a]);
  }
  return out;
}

/** s(t): the atom index of each window frame (-1 in padding), as the encoder's segment ids. */
export function frameSegmentIds(
  atoms: AtomSegments,
  frames: number,
  out = new Int32Array(frames),
): Int32Array {
  out.fill(-1, 0, frames);
  for (let a = 0; a < atoms.count; a++) out.fill(a, atoms.starts[a], Math.min(atoms.ends[a], frames));
  return out;
}

/** Mean atom length in frames over several windows' atoms. */
export function meanAtomLength(all: readonly AtomSegments[]): number {
  let frames = 0;
  let count = 0;
  for (const atoms of all) {
    for (let a = 0; a < atoms.count; a++) frames += atoms.ends[a] - atoms.starts[a];
    count += atoms.count;
  }
  return count === 0 ? 0 : frames / count;
}
