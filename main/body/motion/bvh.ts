import { readFileSync } from 'node:fs';
import { mat3MulAtB } from '../../geometry/rotation';
import { type Axis, eulerIntrinsic, matrixToEulerIntrinsic } from './euler';
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
 * Biovision BVH. A joint's local rotation is the product of its rotation channels in the listed
 * order (`Zrotation Xrotation Yrotation`: R = Rz Rx Ry), G = G_parent R; the rest pose is the
 * OFFSETs with zero rotations. Position channels replace the joint's OFFSET along their axes
 * (as Blender reads them), so the root's are its absolute position.
 */

export interface BvhOptions extends FrameRange {
  /**
   * metres per file unit. Default: 0.01 (centimetres) when the rest skeleton's largest extent along
   * any axis (End Sites included) is over 10 units, else 1 (already metres).
   */
  unitScale?: number;
}

interface BvhJoint {
  name: string;
  parent: number;
  offset: number[];
  /** channel codes in file order: 0..2 X/Y/Z position, 3..5 X/Y/Z rotation */
  channels: number[];
  /** index of the joint's first value in a frame line */
  start: number;
  /** offset of the first child (joint or End Site), for the rest direction */
  firstChild?: number[];
}

const CHANNEL_NAMES = ['xposition', 'yposition', 'zposition', 'xrotation', 'yrotation', 'zrotation'];

interface Token {
  text: string;
  line: number;
}

export function parseBvh(text: string, source: string, options: BvhOptions = {}): MotionClip {
  const range = resolveFrameRange(options, source);
  const lines = text.split(/\r?\n/);
  const joints: BvhJoint[] = [];
  let width = 0;
  let motionLine = -1;
  // Hierarchy: a stack of open blocks, -1 for an End Site.
  const stack: number[] = [];
  let pending: { joint: number; line: number } | null = null;
  let endSite: number[] | null = null;
  for (let i = 0; i < lines.length && motionLine < 0; i++) {
    const tokens: Token[] = lines[i]
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((t) => ({ text: t, line: i + 1 }));
    while (tokens.length > 0) {
      const tok = tokens.shift()!;
      const key = tok.text.toUpperCase();
      const ln = tok.line;
      if (key === 'HIERARCHY') continue;
      if (key === 'MOTION') {
        motionLine = i;
        break;
      }
      if (key === 'ROOT' || key === 'JOINT') {
        if (key === 'ROOT' && joints.length > 0)
          throw motionFileError(source, ln, 'a second ROOT (only one skeleton per file)');
        if (key === 'JOINT' && stack.length === 0)
          throw motionFileError(source, ln, 'JOINT outside the ROOT block');
        // The rest of the line is the name (it may contain spaces), less a trailing '{'.
        const rest = tokens.splice(0);
        const nameTokens = rest.filter((t) => t.text !== '{');
        if (nameTokens.length === 0) throw motionFileError(source, ln, `${key} without a name`);
        if (nameTokens.length < rest.length) tokens.push({ text: '{', line: ln });
        const parent = stack.length > 0 ? stack[stack.length - 1] : -1;
        if (parent === -2) throw motionFileError(source, ln, 'JOINT inside an End Site');
        joints.push({
          name: nameTokens.map((t) => t.text).join(' '),
          parent,
          offset: [0, 0, 0],
          channels: [],
          start: width,
        });
        pending = { joint: joints.length - 1, line: ln };
      } else if (key === 'END') {
        if (stack.length === 0) throw motionFileError(source, ln, 'End Site outside a joint');
        tokens.splice(0, tokens[0]?.text.toUpperCase() === 'SITE' ? 1 : 0);
        pending = { joint: -2, line: ln };
      } else if (key === '{') {
        if (!pending) throw motionFileError(source, ln, "'{' without ROOT, JOINT or End Site");
        stack.push(pending.joint);
        if (pending.joint === -2) endSite = [0, 0, 0];
        pending = null;
      } else if (key === '}') {
        const closed = stack.pop();
        if (closed === undefined) throw motionFileError(source, ln, "unmatched '}'");
        if (closed === -2) {
          const owner = joints[stack[stack.length - 1]];
          owner.firstChild ??= endSite!;
        }
      } else if (key === 'OFFSET') {
        const vals = tokens.splice(0, 3).map((t) => Number(t.text));
        if (vals.length !== 3 || vals.some((v) => !Number.isFinite(v)))
          throw motionFileError(source, ln, 'OFFSET needs 3 numbers');
        const top = stack[stack.length - 1];
        if (top === undefined) throw motionFileError(source, ln, 'OFFSET outside a joint');
        if (top === -2) endSite = vals;
        else {
          joints[top].offset = vals;
          const parent = joints[joints[top].parent];
          if (parent) parent.firstChild ??= vals;
        }
      } else if (key === 'CHANNELS') {
        const top = stack[stack.length - 1];
        if (top === undefined || top === -2) throw motionFileError(source, ln, 'CHANNELS outside a joint');
        const n = Number(tokens.shift()?.text);
        if (!Number.isInteger(n) || n < 0) throw motionFileError(source, ln, 'CHANNELS needs a count');
        const names = tokens.splice(0, tokens.length);
        if (names.length !== n)
          throw motionFileError(source, ln, `CHANNELS says ${n} channels but lists ${names.length}`);
        joints[top].channels = names.map((t) => {
          const c = CHANNEL_NAMES.indexOf(t.text.toLowerCase());
          if (c < 0) throw motionFileError(source, ln, `unknown channel '${t.text}'`);
          return c;
        });
        joints[top].start = width;
        width += n;
      } else {
        throw motionFileError(source, ln, `unexpected '${tok.text}' in HIERARCHY`);
      }
    }
  }
  if (joints.length === 0) throw motionFileError(source, 0, 'no ROOT joint');
  if (motionLine < 0) throw motionFileError(source, 0, 'missing MOTION section');
  if (stack.length > 0)
    throw motionFileError(source, motionLine + 1, `${stack.length} block(s) not closed before MOTION`);
  // Channel starts must follow joint order (a CHANNELS line after child joints would break that).
  let expect = 0;
  for (const j of joints) {
    if (j.start !== expect) throw motionFileError(source, 0, `joint '${j.name}' channels are out of order`);
    expect += j.channels.length;
  }

  // MOTION header: "Frames: N", "Frame Time: t".
  let i = motionLine + 1;
  const header = (pattern: RegExp, what: string): number => {
    while (i < lines.length && lines[i].trim() === '') i++;
    const m = pattern.exec(lines[i] ?? '');
    if (!m || !Number.isFinite(Number(m[1]))) throw motionFileError(source, i + 1, `expected '${what}'`);
    i++;
    return Number(m[1]);
  };
  const declared = header(/^\s*Frames:\s*(\S+)\s*$/i, 'Frames: N');
  const frameTime = header(/^\s*Frame\s+Time:\s*(\S+)\s*$/i, 'Frame Time: seconds');
  if (!Number.isInteger(declared) || declared < 1)
    throw motionFileError(source, i - 1, `bad frame count ${declared}`);
  if (!(frameTime > 0)) throw motionFileError(source, i, `bad frame time ${frameTime}`);
  const last = Math.min(declared, range.to);
  const kept = last > range.from ? Math.ceil((last - range.from) / range.step) : 0;
  if (kept === 0) throw motionFileError(source, 0, `no frames in range (file has ${declared})`);
  const values = new Float64Array(kept * width);
  let fileFrame = 0;
  let k = 0;
  for (; i < lines.length && fileFrame < last; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (inFrameRange(fileFrame, range)) {
      const tokens = line.split(/\s+/);
      if (tokens.length !== width)
        throw motionFileError(source, i + 1, `frame has ${tokens.length} values, CHANNELS need ${width}`);
      for (let t = 0; t < width; t++) {
        const v = Number(tokens[t]);
        if (!Number.isFinite(v))
          throw motionFileError(source, i + 1, `value ${t + 1} is not a number: '${tokens[t]}'`);
        values[k * width + t] = v;
      }
      k++;
    }
    fileFrame++;
  }
  if (fileFrame < last)
    throw motionFileError(
      source,
      lines.length,
      `'Frames: ${declared}' but the file has ${fileFrame} frame lines`,
    );
  if (last === declared && lines.slice(i).some((l) => l.trim() !== '')) {
    throw motionFileError(source, i + 1, `more frame lines than 'Frames: ${declared}'`);
  }

  const scale = options.unitScale ?? defaultUnitScale(joints);
  const skeleton = bvhSkeleton(joints, scale);
  let fps = 1 / frameTime;
  if (Math.abs(fps - Math.round(fps)) < 0.01) fps = Math.round(fps); // Frame Time is printed rounded
  const clip = allocateClip(skeleton, kept, fps / range.step, source);
  poseBvh(joints, skeleton, values, width, scale, clip);
  return clip;
}

export function readBvh(path: string, options: BvhOptions = {}): MotionClip {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw motionFileError(
      path,
      0,
      `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseBvh(text, path, options);
}

/** 0.01 if the rest skeleton (End Sites included) spans more than 10 units along some axis, else 1. */
function defaultUnitScale(joints: BvhJoint[]): number {
  const rest: number[][] = [];
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const extend = (p: number[]): void => {
    for (let c = 0; c < 3; c++) {
      lo[c] = Math.min(lo[c], p[c]);
      hi[c] = Math.max(hi[c], p[c]);
    }
  };
  joints.forEach((j, n) => {
    const base = j.parent < 0 ? [0, 0, 0] : rest[j.parent];
    rest[n] = [0, 1, 2].map((c) => base[c] + j.offset[c]);
    extend(rest[n]);
    if (j.firstChild) extend([0, 1, 2].map((c) => rest[n][c] + j.firstChild![c]));
  });
  return Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) > 10 ? 0.01 : 1;
}

function bvhSkeleton(joints: BvhJoint[], scale: number): MotionSkeleton {
  const J = joints.length;
  const skeleton: MotionSkeleton = {
    names: joints.map((j) => j.name),
    parents: Int32Array.from(joints.map((j) => j.parent)),
    offsets: new Float64Array(3 * J),
    restDirections: new Float64Array(3 * J),
    lengths: new Float64Array(J),
  };
  joints.forEach((j, n) => {
    const d = j.firstChild ?? [0, 0, 0];
    const len = Math.hypot(d[0], d[1], d[2]);
    skeleton.lengths![n] = len * scale;
    for (let c = 0; c < 3; c++) {
      skeleton.offsets[3 * n + c] = j.offset[c] * scale;
      skeleton.restDirections![3 * n + c] = len > 0 ? d[c] / len : 0;
    }
  });
  return skeleton;
}

function poseBvh(
  joints: BvhJoint[],
  skeleton: MotionSkeleton,
  values: Float64Array,
  width: number,
  scale: number,
  clip: MotionClip,
): void {
  const J = joints.length;
  const local = new Float64Array(9 * J);
  const translations = Float64Array.from(skeleton.offsets);
  const rotAxes = joints.map((j) => j.channels.filter((c) => c >= 3).map((c) => (c - 3) as Axis));
  const angles = new Float64Array(width);
  for (let f = 0; f < clip.frames; f++) {
    const v0 = f * width;
    for (let n = 0; n < J; n++) {
      const { channels, start } = joints[n];
      let r = 0;
      for (let k = 0; k < channels.length; k++) {
        const ch = channels[k];
        if (ch < 3) translations[3 * n + ch] = values[v0 + start + k] * scale;
        else angles[r++] = values[v0 + start + k];
      }
      eulerIntrinsic(local, 9 * n, rotAxes[n], angles, 0, Math.PI / 180);
    }
    forwardKinematicsFrame(clip, f, local, translations);
  }
}

export interface BvhWriteOptions {
  /** file units per metre (default 100: centimetres) */
  unitsPerMetre?: number;
  /** decimals of every number (default 6) */
  decimals?: number;
}

const ZXY: Axis[] = [2, 0, 1];

/**
 * A BVH of the clip: the root with position + `Zrotation Xrotation Yrotation` channels, other joints
 * with ZXY rotations (and position channels where their local translation moves), End Sites at
 * length * restDirection. Local rotations are L_j = G_parent^T G_j.
 */
export function writeBvh(clip: MotionClip, options: BvhWriteOptions = {}): string {
  const unit = options.unitsPerMetre ?? 100;
  const dec = options.decimals ?? 6;
  const { names, parents, offsets, restDirections, lengths } = clip.skeleton;
  const J = names.length;
  const num = (v: number): string => v.toFixed(dec);
  const children: number[][] = names.map(() => []);
  for (let j = 0; j < J; j++) if (parents[j] >= 0) children[parents[j]].push(j);
  const moving = animatedTranslations(clip);
  const order: number[] = [];
  const out: string[] = ['HIERARCHY'];
  const writeJoint = (j: number, depth: number): void => {
    const pad = '\t'.repeat(depth);
    order.push(j);
    out.push(`${pad}${parents[j] < 0 ? 'ROOT' : 'JOINT'} ${names[j]}`, `${pad}{`);
    out.push(`${pad}\tOFFSET ${[0, 1, 2].map((c) => num(offsets[3 * j + c] * unit)).join(' ')}`);
    const pos = parents[j] < 0 || moving[j] ? 'Xposition Yposition Zposition ' : '';
    out.push(`${pad}\tCHANNELS ${pos ? 6 : 3} ${pos}Zrotation Xrotation Yrotation`);
    for (const c of children[j]) writeJoint(c, depth + 1);
    if (children[j].length === 0) {
      const end = [0, 1, 2].map((c) =>
        restDirections && lengths ? lengths[j] * restDirections[3 * j + c] * unit : 0,
      );
      out.push(`${pad}\tEnd Site`, `${pad}\t{`, `${pad}\t\tOFFSET ${end.map(num).join(' ')}`, `${pad}\t}`);
    }
    out.push(`${pad}}`);
  };
  for (let j = 0; j < J; j++) if (parents[j] < 0) writeJoint(j, 0);
  out.push('MOTION', `Frames: ${clip.frames}`, `Frame Time: ${(1 / clip.fps).toPrecision(10)}`);
  const L = new Float64Array(9);
  const euler = new Float64Array(3);
  const t = new Float64Array(3);
  const d = new Float64Array(3);
  const row: string[] = [];
  for (let f = 0; f < clip.frames; f++) {
    row.length = 0;
    const g0 = f * J * 9;
    const p0 = f * J * 3;
    for (const j of order) {
      const p = parents[j];
      if (p < 0 || moving[j]) {
        for (let c = 0; c < 3; c++)
          d[c] = clip.positions[p0 + 3 * j + c] - (p < 0 ? 0 : clip.positions[p0 + 3 * p + c]);
        if (p < 0) t.set(d);
        else mulTransposeVec(t, clip.rotations, g0 + 9 * p, d);
        for (let c = 0; c < 3; c++) row.push(num(t[c] * unit));
      }
      if (p < 0) for (let m = 0; m < 9; m++) L[m] = clip.rotations[g0 + 9 * j + m];
      else mat3MulAtB(L, 0, clip.rotations, g0 + 9 * p, clip.rotations, g0 + 9 * j);
      matrixToEulerIntrinsic(euler, 0, L, 0, ZXY);
      for (let c = 0; c < 3; c++) row.push(num((euler[c] * 180) / Math.PI));
    }
    out.push(row.join(' '));
  }
  return out.join('\n') + '\n';
}

/** Per joint: does its local translation G_parent^T (p_j - p_parent) ever leave its rest offset (> 1e-7 m)? */
function animatedTranslations(clip: MotionClip): boolean[] {
  const { parents, offsets } = clip.skeleton;
  const J = parents.length;
  const moving = new Array<boolean>(J).fill(false);
  const d = new Float64Array(3);
  const t = new Float64Array(3);
  for (let f = 0; f < clip.frames; f++) {
    for (let j = 0; j < J; j++) {
      const p = parents[j];
      if (p < 0 || moving[j]) continue;
      for (let c = 0; c < 3; c++)
        d[c] = clip.positions[(f * J + j) * 3 + c] - clip.positions[(f * J + p) * 3 + c];
      mulTransposeVec(t, clip.rotations, (f * J + p) * 9, d);
      if (Math.hypot(t[0] - offsets[3 * j], t[1] - offsets[3 * j + 1], t[2] - offsets[3 * j + 2]) > 1e-7)
        moving[j] = true;
    }
  }
  return moving;
}

/** out = R^T v for the 3x3 block R[r..r+8] (a global vector in the parent's rest frame). */
function mulTransposeVec(out: Float64Array, R: Float64Array, r: number, v: Float64Array): void {
  for (let c = 0; c < 3; c++) out[c] = R[r + c] * v[0] + R[r + 3 + c] * v[1] + R[r + 6 + c] * v[2];
}
