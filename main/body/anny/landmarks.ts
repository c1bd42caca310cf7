import { CMU_RIG } from '../cmu-rig';
import type { Landmark } from '../landmarks';
import { type ObjMesh, cubeCentre } from './source';

/**
 * Surface landmarks of the open model, found once on the default template from MakeHuman's joint
 * cubes (eyes, mouth, toe and finger tips) and simple extremes (nose tip, ears, heels). The model is
 * z-up, facing -y, its left on +x. Keypoint layouts are then built from these names (landmarks.ts).
 */
export function findLandmarks(
  mesh: ObjMesh,
  positions: Float64Array,
  V: number,
  weights: Float32Array,
  J: number,
): Record<string, Landmark> {
  const P = (v: number, c: number): number => positions[v * 3 + c];
  const cube = (name: string): Float64Array => cubeCentre(mesh, positions, name);
  const nearestTo = (p: ArrayLike<number>): number => {
    let best = 0;
    let bd = Infinity;
    for (let v = 0; v < V; v++) {
      const d = (P(v, 0) - p[0]) ** 2 + (P(v, 1) - p[1]) ** 2 + (P(v, 2) - p[2]) ** 2;
      if (d < bd) {
        bd = d;
        best = v;
      }
    }
    return best;
  };
  /** Vertex maximising score among those passing filter. */
  const argmax = (filter: (v: number) => boolean, score: (v: number) => number): number => {
    let best = -1;
    let bs = -Infinity;
    for (let v = 0; v < V; v++) {
      if (!filter(v)) continue;
      const s = score(v);
      if (s > bs) {
        bs = s;
        best = v;
      }
    }
    if (best < 0) throw new Error('landmark search found no vertex');
    return best;
  };
  const weightOn = (v: number, bones: string[]): number =>
    bones.reduce((s, b) => s + weights[v * J + CMU_RIG.findIndex(([n]) => n === b)], 0);

  const out: Record<string, Landmark> = {};
  const joint = (name: string, rig: string): void => {
    out[name] = { joint: rig };
  };
  for (const [side, S] of [
    ['left', 'Left'],
    ['right', 'Right'],
  ] as const) {
    joint(`${side}_shoulder`, `${S}Arm`);
    joint(`${side}_elbow`, `${S}ForeArm`);
    joint(`${side}_wrist`, `${S}Hand`);
    joint(`${side}_hip`, `${S}UpLeg`);
    joint(`${side}_knee`, `${S}Leg`);
    joint(`${side}_ankle`, `${S}Foot`);
    const s = side[0];
    const sign = side === 'left' ? 1 : -1;
    const eye = cube(`joint-${s}-eye`);
    const front = (p: Float64Array, dx = 0): number[] => [p[0] + dx, p[1] - 0.012, p[2]];
    out[`${side}_eye`] = { vertex: nearestTo(front(eye)) };
    out[`${side}_eye_inner`] = { vertex: nearestTo(front(eye, -sign * 0.014)) };
    out[`${side}_eye_outer`] = { vertex: nearestTo(front(eye, sign * 0.014)) };
    // Ear: the most lateral head vertex a little below and behind the eye.
    out[`${side}_ear`] = {
      vertex: argmax(
        (v) =>
          P(v, 2) > eye[2] - 0.05 && P(v, 2) < eye[2] && P(v, 1) > eye[1] + 0.03 && P(v, 1) < eye[1] + 0.12,
        (v) => sign * P(v, 0),
      ),
    };
    const mouth = cube('joint-mouth');
    out[`mouth_${side}`] = { vertex: nearestTo([mouth[0] + sign * 0.022, mouth[1] - 0.01, mouth[2]]) };
    // Toe tips: the most forward vertex near the tip cube of the big and little toe.
    const tip = (c: Float64Array): number =>
      argmax(
        (v) => Math.hypot(P(v, 0) - c[0], P(v, 1) - c[1], P(v, 2) - c[2]) < 0.02,
        (v) => -P(v, 1),
      );
    out[`${side}_big_toe`] = { vertex: tip(cube(`joint-${s}-toe-1-3`)) };
    out[`${side}_small_toe`] = { vertex: tip(cube(`joint-${s}-toe-5-4`)) };
    out[`${side}_foot_index`] = out[`${side}_big_toe`];
    const ankle = cube(`joint-${s}-ankle`);
    const footBones = [`${S}Foot`, `${S}ToeBase`];
    out[`${side}_heel`] = {
      vertex: argmax(
        (v) => weightOn(v, footBones) > 0.5 && P(v, 2) < ankle[2],
        (v) => P(v, 1) - P(v, 2),
      ),
    };
    // The sole: foot vertices within 1.5 cm of the floor in the rest pose (ground contact).
    const sole: number[] = [];
    for (let v = 0; v < V; v++) if (weightOn(v, footBones) > 0.5 && P(v, 2) < 0.015) sole.push(v);
    out[`${side}_sole`] = { vertices: sole };
    out[`${side}_thumb`] = { vertex: nearestTo(cube(`joint-${s}-finger-1-4`)) };
    out[`${side}_index`] = { vertex: nearestTo(cube(`joint-${s}-finger-2-2`)) };
    out[`${side}_pinky`] = { vertex: nearestTo(cube(`joint-${s}-finger-5-2`)) };
  }
  const le = cube('joint-l-eye');
  out.nose = {
    vertex: argmax(
      (v) => Math.abs(P(v, 0)) < 0.006 && P(v, 2) < le[2] && P(v, 2) > le[2] - 0.06,
      (v) => -P(v, 1),
    ),
  };
  out.head_top = {
    vertex: argmax(
      () => true,
      (v) => P(v, 2),
    ),
  };
  return out;
}
