import { readFileSync } from 'node:fs';
import { mat3Mul, mat3MulABt } from '../../geometry/rotation';
import { type Axis, eulerExtrinsic, parseAxisOrder } from './euler';
import {
  allocateClip,
  forwardKinematicsFrame,
  type FrameRange,
  inFrameRange,
  type MotionClip,
  type MotionSkeleton,
  motionFileError,
  resolveFrameRange,
} from './skeleton';

/**
 * Acclaim ASF (skeleton) / AMC (motion) files as written by the CMU motion capture database.
 * Forward kinematics as in the CMU AMC viewer and AMCParser: per bone C = Euler(`axis`, extrinsic in the
 * listed order), M = the AMC dof rotations applied in the ASF dof order (`rx ry rz`: M = Rz Ry Rx),
 * local L = C M C^-1, G = G_parent L; a bone's end = start + length G direction, a child starts at its
 * parent's end. Lengths are in (1 / `:units length`) inch: metres = value * 0.0254 / length.
 */

export interface AsfSkeleton {
  skeleton: MotionSkeleton;
  source: string;
  /** metres per ASF length unit (0.0254 / `:units length`) */
  metresPerUnit: number;
  /** radians per angle unit of the ASF (`:units angle`) */
  radiansPerUnit: number;
  /** per joint: the rotation dof axes in AMC value order (the root's in its `order`) */
  dofAxes: Axis[][];
  /** per joint: C, the rotation of the bone's `axis` (root: `orientation`), row-major 3x3 */
  axisRotations: Float64Array;
  /** the root's AMC values in order: 0..2 = TX TY TZ, 3..5 = RX RY RZ */
  rootChannels: number[];
}

export interface AsfOptions {
  /** overrides `:units length`: metres per ASF length unit */
  metresPerUnit?: number;
}

export interface AmcOptions extends FrameRange {
  /** frames per second of the file (AMC has none; CMU is 120). The clip's fps is fps / step. */
  fps?: number;
}

interface BoneDraft {
  line: number;
  name?: string;
  direction?: number[];
  length?: number;
  axis: number[];
  axisOrder: Axis[];
  dof: Axis[];
}

function numbers(tokens: string[], count: number, source: string, line: number, what: string): number[] {
  if (tokens.length !== count)
    throw motionFileError(source, line, `${what} needs ${count} numbers, got ${tokens.length}`);
  const out = tokens.map(Number);
  if (out.some((v) => !Number.isFinite(v)))
    throw motionFileError(source, line, `${what} has a non-number: ${tokens.join(' ')}`);
  return out;
}

const ROOT_CHANNELS = ['tx', 'ty', 'tz', 'rx', 'ry', 'rz'];

export function parseAsf(text: string, source: string, options: AsfOptions = {}): AsfSkeleton {
  const lines = text.split(/\r?\n/);
  let section = '';
  let lengthUnit = 1;
  let radiansPerUnit = Math.PI / 180;
  let rootChannels: number[] | null = null;
  let rootAxisOrder: Axis[] = [0, 1, 2];
  let rootPosition = [0, 0, 0];
  let rootOrientation = [0, 0, 0];
  const bones: BoneDraft[] = [];
  let bone: BoneDraft | null = null;
  const childrenOf = new Map<string, string[]>();
  const parentOf = new Map<string, string>();
  let sawHierarchy = false;
  for (let i = 0; i < lines.length; i++) {
    const ln = i + 1;
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const tokens = line.split(/\s+/);
    const key = tokens[0].toLowerCase();
    if (line.startsWith(':')) {
      section = key;
      if (section === ':hierarchy') sawHierarchy = true;
      if (section === ':root') rootChannels = [];
      continue;
    }
    const args = tokens.slice(1);
    if (section === ':units') {
      if (key === 'length') lengthUnit = numbers(args, 1, source, ln, 'length unit')[0];
      else if (key === 'angle') {
        const unit = args[0]?.toLowerCase();
        if (unit !== 'deg' && unit !== 'rad')
          throw motionFileError(source, ln, `angle unit must be deg or rad, got '${args[0]}'`);
        radiansPerUnit = unit === 'deg' ? Math.PI / 180 : 1;
      }
    } else if (section === ':root') {
      if (key === 'order') {
        rootChannels = args.map((t) => {
          const c = ROOT_CHANNELS.indexOf(t.toLowerCase());
          if (c < 0)
            throw motionFileError(source, ln, `unknown root channel '${t}' (expected TX TY TZ RX RY RZ)`);
          return c;
        });
      } else if (key === 'axis') {
        const order = parseAxisOrder(args[0] ?? '');
        if (!order || order.length !== 3)
          throw motionFileError(source, ln, `bad root axis order '${args[0]}'`);
        rootAxisOrder = order;
      } else if (key === 'position') rootPosition = numbers(args, 3, source, ln, 'root position');
      else if (key === 'orientation') rootOrientation = numbers(args, 3, source, ln, 'root orientation');
    } else if (section === ':bonedata') {
      if (key === 'begin') {
        if (bone)
          throw motionFileError(source, ln, `'begin' inside the bone that starts at line ${bone.line}`);
        bone = { line: ln, axis: [0, 0, 0], axisOrder: [0, 1, 2], dof: [] };
      } else if (!bone) {
        throw motionFileError(source, ln, `'${tokens[0]}' outside a begin/end bone block`);
      } else if (key === 'end') {
        if (!bone.name) throw motionFileError(source, bone.line, 'bone without a name');
        if (!bone.direction) throw motionFileError(source, bone.line, `bone '${bone.name}' has no direction`);
        if (bone.length === undefined)
          throw motionFileError(source, bone.line, `bone '${bone.name}' has no length`);
        bones.push(bone);
        bone = null;
      } else if (key === 'name') bone.name = args[0];
      else if (key === 'direction') bone.direction = numbers(args, 3, source, ln, 'direction');
      else if (key === 'length') bone.length = numbers(args, 1, source, ln, 'length')[0];
      else if (key === 'axis') {
        bone.axis = numbers(args.slice(0, 3), 3, source, ln, 'axis');
        const order = parseAxisOrder(args[3] ?? 'XYZ');
        if (!order || order.length !== 3) throw motionFileError(source, ln, `bad axis order '${args[3]}'`);
        bone.axisOrder = order;
      } else if (key === 'dof') {
        bone.dof = args.map((t) => {
          const a = /^r([xyz])$/i.exec(t);
          if (!a) throw motionFileError(source, ln, `unsupported dof '${t}' (only rx, ry, rz)`);
          return parseAxisOrder(a[1])![0];
        });
      }
    } else if (section === ':hierarchy') {
      if (key === 'begin' || key === 'end') continue;
      for (const child of args) {
        const previous = parentOf.get(child);
        if (previous) throw motionFileError(source, ln, `bone '${child}' already has parent '${previous}'`);
        parentOf.set(child, tokens[0]);
      }
      childrenOf.set(tokens[0], [...(childrenOf.get(tokens[0]) ?? []), ...args]);
    }
  }
  if (bone) throw motionFileError(source, bone.line, `bone block not closed with 'end'`);
  if (!rootChannels) throw motionFileError(source, 0, 'missing :root section');
  if (!sawHierarchy) throw motionFileError(source, 0, 'missing :hierarchy section');
  if (!(lengthUnit > 0)) throw motionFileError(source, 0, `bad :units length ${lengthUnit}`);
  const metresPerUnit = options.metresPerUnit ?? 0.0254 / lengthUnit;

  const byName = new Map<string, BoneDraft>();
  for (const b of bones) {
    if (b.name === 'root' || byName.has(b.name!))
      throw motionFileError(source, b.line, `duplicate bone name '${b.name}'`);
    byName.set(b.name!, b);
  }
  for (const [child, parent] of parentOf) {
    if (!byName.has(child)) throw motionFileError(source, 0, `:hierarchy names unknown bone '${child}'`);
    if (parent !== 'root' && !byName.has(parent))
      throw motionFileError(source, 0, `:hierarchy names unknown bone '${parent}'`);
  }
  // Depth-first from the root in :hierarchy order, so parents come before children (for CMU files
  // this is also the ASF id order).
  const order: string[] = [];
  const visit = (name: string): void => {
    order.push(name);
    for (const c of childrenOf.get(name) ?? []) visit(c);
  };
  visit('root');
  for (const b of bones) {
    if (!order.includes(b.name!))
      throw motionFileError(source, b.line, `bone '${b.name}' is not reached from root in :hierarchy`);
  }

  const J = order.length;
  const index = new Map(order.map((n, j) => [n, j]));
  const parents = new Int32Array(J);
  const offsets = new Float64Array(3 * J);
  const restDirections = new Float64Array(3 * J);
  const lengths = new Float64Array(J);
  const axisRotations = new Float64Array(9 * J);
  const dofAxes: Axis[][] = [];
  parents[0] = -1;
  for (let c = 0; c < 3; c++) offsets[c] = rootPosition[c] * metresPerUnit;
  eulerExtrinsic(axisRotations, 0, rootAxisOrder, rootOrientation, 0, radiansPerUnit);
  dofAxes.push(rootChannels.filter((c) => c >= 3).map((c) => (c - 3) as Axis));
  for (let j = 1; j < J; j++) {
    const b = byName.get(order[j])!;
    const d = b.direction!;
    const n = Math.hypot(d[0], d[1], d[2]);
    if (!(n > 0) && b.length! > 0)
      throw motionFileError(source, b.line, `bone '${b.name}' has a zero direction`);
    for (let c = 0; c < 3; c++) restDirections[3 * j + c] = n > 0 ? d[c] / n : 0;
    lengths[j] = b.length! * metresPerUnit;
    eulerExtrinsic(axisRotations, 9 * j, b.axisOrder, b.axis, 0, radiansPerUnit);
    dofAxes.push(b.dof);
  }
  for (let j = 1; j < J; j++) {
    const p = index.get(parentOf.get(order[j])!)!;
    parents[j] = p;
    // A bone starts where its parent ends (the root has length 0: its children start at its position).
    for (let c = 0; c < 3; c++) offsets[3 * j + c] = lengths[p] * restDirections[3 * p + c];
  }
  const skeleton: MotionSkeleton = { names: order, parents, offsets, restDirections, lengths };
  return { skeleton, source, metresPerUnit, radiansPerUnit, dofAxes, axisRotations, rootChannels };
}

export function readAsf(path: string, options: AsfOptions = {}): AsfSkeleton {
  return parseAsf(readText(path), path, options);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw motionFileError(
      path,
      0,
      `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/**
 * Parses the AMC frames selected by `options` (0-based file order: index i is CMU frame number i + 1)
 * and poses the skeleton. Frames outside the range are skipped without parsing their numbers, and
 * reading stops at `to`. Every bone with dofs must appear once per frame with exactly its dof count.
 */
export function parseAmc(
  text: string,
  asf: AsfSkeleton,
  source: string,
  options: AmcOptions = {},
): MotionClip {
  const range = resolveFrameRange(options, source);
  const fps = options.fps ?? 120;
  const { names } = asf.skeleton;
  const J = names.length;
  // Per joint: where its values start in a frame's value block, and how many it has.
  const counts = asf.dofAxes.map((a, j) => (j === 0 ? asf.rootChannels.length : a.length));
  const starts: number[] = [];
  let width = 0;
  for (const n of counts) {
    starts.push(width);
    width += n;
  }
  const withDofs = counts.filter((n) => n > 0).length;
  const index = new Map(names.map((n, j) => [n, j]));

  let values = new Float64Array(256 * width);
  let kept = 0;
  let radiansPerUnit = asf.radiansPerUnit;
  let fileFrame = -1;
  let keep = false;
  let frameLine = 0;
  const seen = new Uint8Array(J);
  let seenCount = 0;
  const closeFrame = (): void => {
    if (keep && seenCount !== withDofs) {
      const missing = names.find((_, j) => counts[j] > 0 && !seen[j]);
      throw motionFileError(source, frameLine, `frame is missing bone '${missing}'`);
    }
  };
  let pos = 0;
  let ln = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    ln++;
    const lineStart = pos;
    pos = end + 1;
    let c = text.charCodeAt(lineStart);
    let k = lineStart;
    while ((c === 32 || c === 9) && k < end) c = text.charCodeAt(++k);
    if (k >= end || c === 13 || c === 35 /* # */) continue;
    if (c === 58 /* : */) {
      const header = text.slice(k, end).trim().toUpperCase();
      if (header === ':DEGREES') radiansPerUnit = Math.PI / 180;
      else if (header === ':RADIANS') radiansPerUnit = 1;
      continue;
    }
    if (c >= 48 && c <= 57) {
      // A frame number starts the next frame.
      closeFrame();
      fileFrame++;
      if (fileFrame >= range.to) break;
      keep = inFrameRange(fileFrame, range);
      frameLine = ln;
      if (!/^\d+$/.test(text.slice(k, end).trim()))
        throw motionFileError(source, ln, `bad frame number '${text.slice(k, end).trim()}'`);
      if (keep) {
        if ((kept + 1) * width > values.length) {
          const grown = new Float64Array(values.length * 2);
          grown.set(values);
          values = grown;
        }
        seen.fill(0);
        seenCount = 0;
        kept++;
      }
      continue;
    }
    if (fileFrame < 0) throw motionFileError(source, ln, `bone values before the first frame number`);
    if (!keep) continue;
    const tokens = text.slice(k, end).trim().split(/\s+/);
    const j = index.get(tokens[0]);
    if (j === undefined) throw motionFileError(source, ln, `unknown bone '${tokens[0]}'`);
    if (seen[j]) throw motionFileError(source, ln, `bone '${tokens[0]}' appears twice in one frame`);
    if (tokens.length - 1 !== counts[j]) {
      throw motionFileError(
        source,
        ln,
        `bone '${tokens[0]}' needs ${counts[j]} values, got ${tokens.length - 1}`,
      );
    }
    const o = (kept - 1) * width + starts[j];
    for (let t = 1; t < tokens.length; t++) {
      const v = Number(tokens[t]);
      if (!Number.isFinite(v))
        throw motionFileError(source, ln, `bone '${tokens[0]}' value ${t} is not a number: '${tokens[t]}'`);
      values[o + t - 1] = v;
    }
    seen[j] = 1;
    seenCount++;
  }
  closeFrame();
  if (kept === 0) throw motionFileError(source, 0, `no frames in range (file has ${fileFrame + 1})`);
  const clip = allocateClip(asf.skeleton, kept, fps / range.step, `${asf.source}, ${source}`);
  poseAmc(asf, values, width, starts, radiansPerUnit, clip);
  return clip;
}

export function readAmc(path: string, asf: AsfSkeleton | string, options: AmcOptions = {}): MotionClip {
  const skeleton = typeof asf === 'string' ? readAsf(asf) : asf;
  return parseAmc(readText(path), skeleton, path, options);
}

/** Forward kinematics of every parsed frame: L = C M C^T per joint, then `forwardKinematicsFrame`. */
function poseAmc(
  asf: AsfSkeleton,
  values: Float64Array,
  width: number,
  starts: number[],
  radiansPerUnit: number,
  clip: MotionClip,
): void {
  const J = asf.skeleton.names.length;
  const C = asf.axisRotations;
  const local = new Float64Array(9 * J);
  const translations = Float64Array.from(asf.skeleton.offsets);
  const M = new Float64Array(9);
  const CM = new Float64Array(9);
  const rootAngles = new Float64Array(3);
  for (let f = 0; f < clip.frames; f++) {
    const v0 = f * width;
    for (let j = 0; j < J; j++) {
      if (j === 0) {
        // Root values in their `order`: translations (absolute position) and rotation angles.
        let r = 0;
        for (let i = 0; i < asf.rootChannels.length; i++) {
          const ch = asf.rootChannels[i];
          if (ch < 3) translations[ch] = values[v0 + i] * asf.metresPerUnit;
          else rootAngles[r++] = values[v0 + i];
        }
        eulerExtrinsic(M, 0, asf.dofAxes[0], rootAngles, 0, radiansPerUnit);
      } else {
        eulerExtrinsic(M, 0, asf.dofAxes[j], values, v0 + starts[j], radiansPerUnit);
      }
      mat3Mul(CM, 0, C, 9 * j, M, 0);
      mat3MulABt(local, 9 * j, CM, 0, C, 9 * j);
    }
    forwardKinematicsFrame(clip, f, local, translations);
  }
}
