import {
  FIT_FLAGS,
  type FitFrame,
  type FitQualityBlock,
  type FootPoseBlock,
  type StudioApi,
} from '../../preload/api';

/**
 * The fit as the review view reads it: base64 arrays decoded (never recomputed), the quality columns
 * arranged for plotting, and fitFrame requests throttled to one in flight.
 */

/** Bytes of a base64 string, decoded into `out` when it has the right length (reused across frames). */
function decodeBytes(b64: string, out?: Uint8Array): Uint8Array {
  const bin = atob(b64);
  const bytes = out && out.length === bin.length ? out : new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * A base64 little-endian float32 array (the API's wire form). Every platform a browser runs on is
 * little-endian, so the bytes are the floats as they are. Reuses `out` when the length matches.
 */
export function decodeFloat32(b64: string, out?: Float32Array | null): Float32Array {
  const reuse = out ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : undefined;
  const bytes = decodeBytes(b64, reuse);
  if (bytes.length % 4 !== 0) throw new Error(`fit data: ${bytes.length} bytes is not a float32 array`);
  return out && bytes === reuse ? out : new Float32Array(bytes.buffer, 0, bytes.length / 4);
}

/** A base64 little-endian uint32 array (mesh faces). */
export function decodeUint32(b64: string): Uint32Array {
  const bytes = decodeBytes(b64);
  if (bytes.length % 4 !== 0) throw new Error(`fit data: ${bytes.length} bytes is not a uint32 array`);
  return new Uint32Array(bytes.buffer, 0, bytes.length / 4);
}

/** A fitted frame decoded: world mesh and joints, and their projection into the asked camera. */
export interface FitBody {
  fitId: number;
  frame: number;
  vertices: Float32Array;
  joints: Float32Array;
  projected: { cameraId: number; vertices: Float32Array; joints: Float32Array } | null;
}

/** Decodes `f` into the buffers of `prev` where they fit, so playback does not allocate per frame. */
export function decodeFitFrame(f: FitFrame, prev: FitBody | null): FitBody {
  return {
    fitId: f.fitId,
    frame: f.frame,
    vertices: decodeFloat32(f.vertices, prev?.vertices),
    joints: decodeFloat32(f.joints, prev?.joints),
    projected: f.projected
      ? {
          cameraId: f.projected.cameraId,
          vertices: decodeFloat32(f.projected.vertices, prev?.projected?.vertices),
          joints: decodeFloat32(f.projected.joints, prev?.projected?.joints),
        }
      : null,
  };
}

export interface FitFrameRequest {
  fitId: number;
  frame: number;
  cameraId?: number;
}

/**
 * fitFrame with at most one request in flight: while one runs, newer requests replace each other and
 * only the latest is sent when it returns. Responses come back in request order, so each one shown is
 * newer than the last.
 */
export class LatestFitFrame {
  private busy = false;
  private pending: FitFrameRequest | null = null;
  private disposed = false;

  constructor(
    private readonly api: StudioApi,
    private readonly onFrame: (frame: FitFrame, req: FitFrameRequest) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  request(req: FitFrameRequest): void {
    if (this.busy) this.pending = req;
    else this.send(req);
  }

  dispose(): void {
    this.disposed = true;
    this.pending = null;
  }

  private send(req: FitFrameRequest): void {
    this.busy = true;
    this.api
      .call('fitFrame', req)
      .then(
        (f) => !this.disposed && this.onFrame(f, req),
        (err: unknown) => !this.disposed && this.onError(err),
      )
      .finally(() => {
        this.busy = false;
        const next = this.pending;
        this.pending = null;
        if (next && !this.disposed) this.send(next);
      });
  }
}

/** The quality block as curves over session frames (null where a value is missing). */
export interface QualitySeries {
  /** Session frame of each row. */
  frames: number[];
  /** Largest reprojection RMS over the views that see the frame, pixels. */
  reprojPx: (number | null)[];
  penetrationMm: (number | null)[];
  /** Largest foot-camera residual over the foot cameras, mm; all null when the fit used none. */
  footMm: (number | null)[];
  flags: number[];
  /** Session frames whose flags are not 0, ascending. */
  flagged: number[];
}

/** Columns by name: reprojRms:<camera> for the views, *penetration*, foot*Mm:<camera>, and flags. */
export function qualitySeries(block: FitQualityBlock): QualitySeries {
  const { fields, count } = block;
  const n = fields.length;
  const cols = (test: (name: string) => boolean) =>
    fields.flatMap((name, i) => (test(name.toLowerCase()) ? [i] : []));
  const reproj = cols((f) => f.startsWith('reprojrms'));
  const penetration = cols((f) => f.includes('penetration'));
  const foot = cols((f) => f.startsWith('foot') && f.includes('mm'));
  const flagCol = fields.indexOf('flags');
  const rowMax = (row: number, idx: number[]): number | null => {
    let best: number | null = null;
    for (const c of idx) {
      const v = block.data[row * n + c];
      if (v !== null && Number.isFinite(v) && (best === null || v > best)) best = v;
    }
    return best;
  };
  const out: QualitySeries = {
    frames: [],
    reprojPx: [],
    penetrationMm: [],
    footMm: [],
    flags: [],
    flagged: [],
  };
  for (let r = 0; r < count; r++) {
    const frame = block.start + r;
    const flags = flagCol >= 0 ? (block.data[r * n + flagCol] ?? 0) : 0;
    out.frames.push(frame);
    out.reprojPx.push(rowMax(r, reproj));
    out.penetrationMm.push(rowMax(r, penetration));
    out.footMm.push(rowMax(r, foot));
    out.flags.push(flags);
    if (flags !== 0) out.flagged.push(frame);
  }
  return out;
}

/** Names of the FIT_FLAGS bits set in `flags`. */
export function flagNames(flags: number): string[] {
  return Object.entries(FIT_FLAGS).flatMap(([name, bit]) => (flags & bit ? [name] : []));
}

/** The nearest flagged frame after (dir 1) or before (dir -1) `frame`, or null. */
export function stepFlagged(flagged: number[], frame: number, dir: 1 | -1): number | null {
  if (dir > 0) return flagged.find((f) => f > frame) ?? null;
  for (let i = flagged.length - 1; i >= 0; i--) if (flagged[i] < frame) return flagged[i];
  return null;
}

/** A foot camera's world -> camera pose at `frame` from its localisation block, or null when it has none. */
export function footPoseAt(block: FootPoseBlock, frame: number): { R: number[]; t: number[] } | null {
  const i = frame - block.start;
  if (i < 0 || i >= block.count) return null;
  const n = block.fields.length;
  const at = (name: string) => block.data[i * n + block.fields.indexOf(name)] ?? NaN;
  if (!(at('status') > 0)) return null;
  const R = ['r00', 'r01', 'r02', 'r10', 'r11', 'r12', 'r20', 'r21', 'r22'].map(at);
  const t = ['tx', 'ty', 'tz'].map(at);
  return [...R, ...t].every(Number.isFinite) ? { R, t } : null;
}
