import type { AnimationClip, Bone, BufferGeometry, Matrix4 } from 'three';
import { rodrigues } from '../geometry/rotation';
import { ensureFileReader } from './node-shims';
import { depthFirstOrder } from './bvh';
import { pointToYUp, rotationToYUp } from './y-up';

/**
 * A fitted sequence as a binary glTF through three's GLTFExporter: the body's shaped rest mesh (for the
 * fit's betas, without pose blend shapes, which glTF skinning has no place for) skinned to one bone per
 * model joint, and one animation "motion" that keys every bone's local rotation R_j per frame and the
 * root's position J_0 + transl. A bone's rest transform is a pure translation to its rest joint
 * (offset from its parent), its inverse bind matrix the translation back, so bone world transforms are
 * lbs.ts's G_j and the bones' world positions are the fit's posed joints. glTF is Y-up in metres:
 * everything goes through y-up.ts. Skin weights: up to 8 influences per vertex (JOINTS_0/WEIGHTS_0 and
 * JOINTS_1/WEIGHTS_1), strongest first, renormalised to sum to 1. Nothing in the file depends on
 * the clock: the same input gives the same bytes.
 *
 * three is loaded with import() when a GLB is made: a static import would make every process that
 * registers job kinds load it, and under tsx's CommonJS hook (dev workers) as three.cjs, which prints
 * a deprecation warning. import() takes the ES module in every setting (tsx, vitest, the bundle).
 */

type Three = typeof import('three');

export interface GlbInput {
  name: string;
  jointNames: readonly string[];
  parents: Int32Array;
  /** J x 3 rest joints of the shaped body, Z-up metres. */
  jRest: ArrayLike<number>;
  /** V x 3 shaped rest vertices, Z-up metres. */
  vShaped: Float32Array;
  /** F x 3 triangles. */
  faces: Uint32Array;
  /** V x J skinning weights. */
  weights: Float32Array;
  /** frames x J x 3 axis-angle. */
  theta: Float32Array;
  /** frames x 3, Z-up metres. */
  transl: Float32Array;
  fps: number;
}

const MAX_INFLUENCES = 8;

/** Up to 8 strongest (joint, weight) pairs per vertex as two sets of 4, renormalised; ties by joint. */
export function skinInfluences(
  weights: Float32Array,
  V: number,
  J: number,
): { joints: Uint16Array[]; weights: Float32Array[] } {
  const joints = [new Uint16Array(V * 4), new Uint16Array(V * 4)];
  const w = [new Float32Array(V * 4), new Float32Array(V * 4)];
  const idx: number[] = [];
  for (let v = 0; v < V; v++) {
    idx.length = 0;
    for (let j = 0; j < J; j++) if (weights[v * J + j] > 0) idx.push(j);
    idx.sort((a, b) => weights[v * J + b] - weights[v * J + a] || a - b);
    const n = Math.min(MAX_INFLUENCES, idx.length);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += weights[v * J + idx[k]];
    for (let k = 0; k < n; k++) {
      const set = k >> 2;
      joints[set][v * 4 + (k & 3)] = idx[k];
      w[set][v * 4 + (k & 3)] = sum > 0 ? weights[v * J + idx[k]] / sum : 0;
    }
  }
  return { joints, weights: w };
}

function buildBones(THREE: Three, input: GlbInput): { bones: Bone[]; inverses: Matrix4[] } {
  const { jointNames, parents, jRest } = input;
  const J = parents.length;
  const p = new Float64Array(3);
  const rel = new Float64Array(3);
  const bones = jointNames.map((n) => {
    const b = new THREE.Bone();
    b.name = THREE.PropertyBinding.sanitizeNodeName(n);
    return b;
  });
  const inverses: Matrix4[] = [];
  for (let j = 0; j < J; j++) {
    const parent = parents[j];
    if (parent < 0) pointToYUp(jRest, j * 3, p);
    else {
      for (let c = 0; c < 3; c++) rel[c] = jRest[j * 3 + c] - jRest[parent * 3 + c];
      pointToYUp(rel, 0, p);
    }
    bones[j].position.set(p[0], p[1], p[2]);
    if (parent >= 0) bones[parent].add(bones[j]);
    pointToYUp(jRest, j * 3, p);
    inverses.push(new THREE.Matrix4().makeTranslation(-p[0], -p[1], -p[2]));
  }
  return { bones, inverses };
}

function buildGeometry(THREE: Three, input: GlbInput, J: number): BufferGeometry {
  const V = input.vShaped.length / 3;
  const position = new Float32Array(V * 3);
  const p = new Float64Array(3);
  for (let v = 0; v < V; v++) position.set(pointToYUp(input.vShaped, v * 3, p), v * 3);
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.BufferAttribute(position, 3));
  g.setIndex(new THREE.BufferAttribute(Uint32Array.from(input.faces), 1));
  g.computeVertexNormals();
  const skin = skinInfluences(input.weights, V, J);
  g.setAttribute('skinIndex', new THREE.BufferAttribute(skin.joints[0], 4));
  g.setAttribute('skinWeight', new THREE.BufferAttribute(skin.weights[0], 4));
  if (skin.weights[1].some((x) => x > 0)) {
    // Exported as JOINTS_1 / WEIGHTS_1 (GLTFExporter upper-cases attribute names it does not map).
    g.setAttribute('joints_1', new THREE.BufferAttribute(skin.joints[1], 4));
    g.setAttribute('weights_1', new THREE.BufferAttribute(skin.weights[1], 4));
  }
  return g;
}

/** The animation: per joint quaternions of C R_j C^T (signs kept continuous), root positions. */
function buildClip(THREE: Three, input: GlbInput, bones: Bone[]): AnimationClip {
  const { parents, jRest, theta, transl, fps } = input;
  const J = parents.length;
  const frames = transl.length / 3;
  const times = Float32Array.from({ length: frames }, (_, f) => f / fps);
  const R = new Float64Array(9);
  const Ry = new Float64Array(9);
  const m = new THREE.Matrix4();
  const q = new THREE.Quaternion();
  const tracks = [];
  for (let j = 0; j < J; j++) {
    const values = new Float32Array(frames * 4);
    let px = 0;
    let py = 0;
    let pz = 0;
    let pw = 1;
    for (let f = 0; f < frames; f++) {
      rodrigues(R, 0, theta, (f * J + j) * 3);
      rotationToYUp(R, 0, Ry);
      m.set(Ry[0], Ry[1], Ry[2], 0, Ry[3], Ry[4], Ry[5], 0, Ry[6], Ry[7], Ry[8], 0, 0, 0, 0, 1);
      q.setFromRotationMatrix(m);
      // q and -q are one rotation; the nearer one keeps interpolation between frames short.
      const s = q.x * px + q.y * py + q.z * pz + q.w * pw < 0 ? -1 : 1;
      px = s * q.x;
      py = s * q.y;
      pz = s * q.z;
      pw = s * q.w;
      values.set([px, py, pz, pw], f * 4);
    }
    tracks.push(new THREE.QuaternionKeyframeTrack(`${bones[j].name}.quaternion`, times, values));
  }
  const root = depthFirstOrder(parents)[0];
  const positions = new Float32Array(frames * 3);
  const world = new Float64Array(3);
  const p = new Float64Array(3);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 3; c++) world[c] = jRest[root * 3 + c] + transl[f * 3 + c];
    positions.set(pointToYUp(world, 0, p), f * 3);
  }
  tracks.push(new THREE.VectorKeyframeTrack(`${bones[root].name}.position`, times, positions));
  return new THREE.AnimationClip('motion', frames > 1 ? (frames - 1) / fps : 0, tracks);
}

/** The .glb bytes. */
export async function encodeGlb(input: GlbInput): Promise<Uint8Array> {
  const J = input.parents.length;
  const frames = input.transl.length / 3;
  if (input.theta.length !== frames * J * 3)
    throw new Error(
      `GLB: theta has ${input.theta.length} values, expected ${frames} frames x ${J} joints x 3`,
    );
  if (input.weights.length !== (input.vShaped.length / 3) * J)
    throw new Error(`GLB: skinning weights do not match ${input.vShaped.length / 3} vertices x ${J} joints`);
  if (!(input.fps > 0)) throw new Error(`GLB: frame rate ${input.fps} is not > 0`);
  const THREE = await import('three');
  const { GLTFExporter } = await import('three/examples/jsm/exporters/GLTFExporter.js');
  const { bones, inverses } = buildBones(THREE, input);
  const material = new THREE.MeshStandardMaterial({ color: 0xb0b4bc, roughness: 0.8, metalness: 0 });
  material.name = 'body';
  const mesh = new THREE.SkinnedMesh(buildGeometry(THREE, input, J), material);
  mesh.name = 'body';
  const root = bones[depthFirstOrder(input.parents)[0]];
  mesh.add(root);
  mesh.bind(new THREE.Skeleton(bones, inverses), new THREE.Matrix4());
  const scene = new THREE.Scene();
  scene.name = input.name;
  scene.add(mesh);
  ensureFileReader();
  const out = await new GLTFExporter().parseAsync(scene, {
    binary: true,
    trs: true,
    onlyVisible: false,
    animations: [buildClip(THREE, input, bones)],
  });
  // Compared by tag, not instanceof: the buffer may come from another realm's Blob.
  if (Object.prototype.toString.call(out) !== '[object ArrayBuffer]')
    throw new Error('GLB: the exporter did not return binary data');
  return new Uint8Array(out as ArrayBuffer);
}
