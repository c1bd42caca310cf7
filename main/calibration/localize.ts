import type { FrameSourceItem } from '../capture/gray-frames';
import { throwIfAborted } from '../capture/errors';
import { axisAngleFromMatrix, mat3Mul, mat3MulAtB, rodrigues } from '../geometry/rotation';
import { FRAME_MARKER_PARAMS } from './aruco-markers';
import type { BoardSpec, LensIntrinsics } from './charuco-board';
import { MultiBoardDetector } from './charuco-detect';
import type { GrayImage, OpenCv } from './opencv';
import {
  rotationAngleDeg,
  solveFramePose,
  type BoardCorners,
  type FramePose,
  type PnpOptions,
  type PoseCandidate,
} from './pnp';

/**
 * A moving (foot) camera's pose in every frame of its video: board detection and PnP per frame
 * (pnp.ts), ambiguous planar frames settled by their accepted neighbours, and short gaps bridged by
 * interpolation along the geodesic (rotation) and the straight line (camera centre).
 */

export type LocalizedStatus = FramePose['status'] | 'interpolated';

export interface LocalizedFrame extends Omit<FramePose, 'status'> {
  index: number;
  /** ok (measured, or an ambiguous frame settled by its neighbours: see resolved), ambiguous, interpolated, none. */
  status: LocalizedStatus;
  /** An ambiguous frame whose candidate was chosen by temporal continuity. */
  resolved: boolean;
  interpolated: boolean;
}

export interface LocalizeOptions extends Partial<PnpOptions>, Partial<ResolveOptions> {
  /** Longest run of frames without a pose bridged by interpolation (default 5). */
  maxGap?: number;
  /** Total frames, when known, for progress. */
  frameCount?: number;
}

export interface LocalizationResult {
  frames: LocalizedFrame[];
  counts: Record<'ok' | 'resolved' | 'ambiguous' | 'interpolated' | 'none', number>;
  /** Wall time of detection + PnP per frame, ms (decoding excluded). */
  msPerFrame: number;
}

/** ChArUco corners of every board in one image. */
export type DetectFn = (gray: GrayImage) => BoardCorners[];

/**
 * Runs detection + PnP over a stream of frames, then settles ambiguous frames (forward from the last
 * accepted pose while streaming, then backward from the next) and fills short gaps.
 */
export async function localizeFrames(
  cv: OpenCv,
  intrinsics: LensIntrinsics,
  boards: readonly BoardSpec[],
  frameSource: AsyncIterable<FrameSourceItem>,
  detect: DetectFn,
  options: LocalizeOptions = {},
  onProgress: (fraction: number, message: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<LocalizationResult> {
  const frames: LocalizedFrame[] = [];
  let last: AcceptedPose | null = null;
  let busyMs = 0;
  for await (const { index, gray } of frameSource) {
    throwIfAborted(signal);
    const t0 = performance.now();
    const pose = solveFramePose(cv, intrinsics, detect(gray), boards, options);
    busyMs += performance.now() - t0;
    const frame: LocalizedFrame = { ...pose, index, resolved: false, interpolated: false };
    if (frame.status === 'ambiguous') settle(frame, last, options);
    if (frame.status === 'ok') last = { index, R: frame.R };
    frames.push(frame);
    if (options.frameCount && frames.length % 15 === 0) {
      onProgress(Math.min(1, frames.length / options.frameCount), 'localizing');
    }
  }
  // Backward: frames before (or long after) an accepted pose, from the next one.
  let next: AcceptedPose | null = null;
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = frames[i];
    if (frame.status === 'ambiguous') settle(frame, next, options);
    if (frame.status === 'ok') next = { index: frame.index, R: frame.R };
  }
  const filled = fillGaps(frames, options.maxGap ?? 5);
  const counts = { ok: 0, resolved: 0, ambiguous: 0, interpolated: 0, none: 0 };
  for (const f of filled) counts[f.resolved ? 'resolved' : f.status]++;
  onProgress(1, 'localized');
  return { frames: filled, counts, msPerFrame: frames.length ? busyMs / frames.length : 0 };
}

/** The previous accepted pose, for resolveAmbiguity. */
export interface AcceptedPose {
  index: number;
  R: ArrayLike<number>;
}

export interface ResolveOptions {
  /** The accepted pose must be at most this many frames away (default 10). */
  maxAge: number;
  /** The others must be this many times farther in rotation than the chosen candidate (default 2). */
  margin: number;
  /** The chosen candidate must be within this rotation of the accepted pose, degrees (default 30). */
  maxJumpDeg: number;
}

export const DEFAULT_RESOLVE_OPTIONS: ResolveOptions = { maxAge: 10, margin: 2, maxJumpDeg: 30 };

/**
 * Picks, among an ambiguous frame's candidates, the one nearest in rotation to an accepted pose at most
 * maxAge frames away (either side): a foot turns by under 20 degrees a frame (the sample's largest),
 * while the mirror solution is tilted the other way about the line of sight. Only when the others are
 * `margin` times farther and the pick is within maxJumpDeg; otherwise null (the frame stays ambiguous).
 */
export function resolveAmbiguity(
  prev: AcceptedPose | null,
  index: number,
  candidates: readonly PoseCandidate[],
  options: Partial<ResolveOptions> = {},
): PoseCandidate | null {
  const o = { ...DEFAULT_RESOLVE_OPTIONS, ...options };
  if (!prev || Math.abs(index - prev.index) > o.maxAge || candidates.length === 0) return null;
  const angles = candidates.map((c) => rotationAngleDeg(c.R, prev.R));
  let bestK = 0;
  for (let k = 1; k < angles.length; k++) if (angles[k] < angles[bestK]) bestK = k;
  if (angles[bestK] > o.maxJumpDeg) return null;
  const clear = angles.every((angle, k) => k === bestK || angle >= o.margin * angles[bestK]);
  return clear ? candidates[bestK] : null;
}

function settle(frame: LocalizedFrame, anchor: AcceptedPose | null, options: Partial<ResolveOptions>): void {
  const pick = resolveAmbiguity(anchor, frame.index, frame.candidates ?? [], options);
  if (!pick) return;
  Object.assign(frame, { R: pick.R, t: pick.t, rms: pick.rms, status: 'ok', resolved: true });
}

const delta = new Float64Array(9);
const step = new Float64Array(9);
const omega = new Float64Array(3);

/**
 * Bridges every run of at most maxGap frames without an accepted pose (none or still ambiguous) that
 * has accepted frames on both sides: rotation by SLERP, R(s) = R_a exp(s log(R_a^T R_b)), camera centre
 * C = -R^T t linearly, t(s) = -R(s) C(s); s from the frame indices. Longer runs stay as they are.
 * Returns new frames (inputs untouched).
 */
export function fillGaps(poses: readonly LocalizedFrame[], maxGap: number): LocalizedFrame[] {
  const out = poses.map((p) => ({ ...p }));
  let a = -1;
  for (let i = 0; i < out.length; i++) {
    if (out[i].status !== 'ok') continue;
    if (a >= 0 && i - a > 1 && i - a - 1 <= maxGap) {
      const A = out[a];
      const B = out[i];
      const ca = centre(A);
      const cb = centre(B);
      mat3MulAtB(delta, 0, A.R, 0, B.R, 0);
      axisAngleFromMatrix(omega, 0, delta, 0);
      for (let g = a + 1; g < i; g++) {
        const s = (out[g].index - A.index) / (B.index - A.index);
        rodrigues(step, 0, [s * omega[0], s * omega[1], s * omega[2]], 0);
        const R = new Array<number>(9);
        mat3Mul(R, 0, A.R, 0, step, 0);
        const C = [0, 1, 2].map((k) => (1 - s) * ca[k] + s * cb[k]);
        const t = [0, 1, 2].map((r) => -(R[3 * r] * C[0] + R[3 * r + 1] * C[1] + R[3 * r + 2] * C[2]));
        Object.assign(out[g], {
          status: 'interpolated',
          interpolated: true,
          R,
          t,
          rms: NaN,
          candidates: undefined,
        });
      }
    }
    a = i;
  }
  return out;
}

/** C = -R^T t. */
function centre(p: { R: number[]; t: number[] }): number[] {
  const { R, t } = p;
  return [0, 1, 2].map((k) => -(R[k] * t[0] + R[3 + k] * t[1] + R[6 + k] * t[2]));
}

/**
 * A detector of every board in `boards` for video frames: markers found once per frame for all boards
 * (MultiBoardDetector, FRAME_MARKER_PARAMS), corners predicted through the lens model. delete() when done.
 */
export function charucoDetectFn(
  cv: OpenCv,
  boards: readonly BoardSpec[],
  intrinsics: LensIntrinsics,
): { detect: DetectFn; delete(): void } {
  const detector = new MultiBoardDetector(cv, boards, intrinsics, FRAME_MARKER_PARAMS);
  return { detect: (gray) => detector.detect(gray).boards, delete: () => detector.delete() };
}
