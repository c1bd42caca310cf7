import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnimationMixer, type Bone, LoopOnce, type Object3D, type SkinnedMesh, Vector3 } from 'three';
import { BVHLoader } from 'three/examples/jsm/loaders/BVHLoader.js';
import { type GLTF, GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { posedJoints } from '../../main/fitting/joint-error';
import { runExport, type ExportResult } from '../../main/export/run-export';
import { pointFromYUp } from '../../main/export/y-up';
import { buildExportLibrary, type ExportLibrary, GIMBAL_FRAME, NATIVE } from './export-fixtures';
import { cleanupTempDirs, tempDir } from './fixtures';

let lib: ExportLibrary;
let result: ExportResult;
let out: string;

const seqDir = (name: string) => join(out, 'all', name);

beforeAll(async () => {
  lib = await buildExportLibrary();
  out = join(tempDir('studio-export-'), 'dataset');
  result = await runExport(
    lib.ctx.db,
    { sessionIds: [lib.alice, lib.bob], formats: 'all', out },
    { nativeDir: NATIVE },
  );
});
afterAll(async () => {
  await lib.ctx.close();
  cleanupTempDirs();
});

/** The fit's posed joints (frames x J x 3, Z-up metres): what every motion format must reproduce. */
function fitJoints(who: 'alice' | 'bob'): Float32Array {
  const r = lib.fits[who].result;
  return posedJoints(lib.model, r.betas, r.theta, r.transl);
}

/**
 * Largest distance (metres) between the posed joints of the sampled frames and the world positions of
 * the bones named like the model's joints, with `object` animated by `clip` through an AnimationMixer
 * and bone positions in Y-up `unit`s (the file's) brought back to the Z-up world.
 */
function maxJointError(
  root: Object3D,
  clip: import('three').AnimationClip,
  frames: number[],
  fps: number,
  unit: number,
  expected: Float32Array,
): number {
  const J = lib.model.numJoints;
  const bones = new Map<string, Object3D>();
  root.traverse((o) => bones.set(o.name, o));
  const mixer = new AnimationMixer(root);
  const action = mixer.clipAction(clip);
  action.setLoop(LoopOnce, 1);
  action.clampWhenFinished = true;
  action.play();
  const w = new Vector3();
  const back = new Float64Array(3);
  let worst = 0;
  for (const f of frames) {
    mixer.setTime(f / fps);
    root.updateMatrixWorld(true);
    lib.model.jointNames.forEach((name, j) => {
      const bone = bones.get(name);
      if (!bone) throw new Error(`no bone named ${name}`);
      bone.getWorldPosition(w);
      pointFromYUp([w.x / unit, w.y / unit, w.z / unit], 0, back);
      const e = expected.subarray((f * J + j) * 3, (f * J + j) * 3 + 3);
      worst = Math.max(worst, Math.hypot(back[0] - e[0], back[1] - e[1], back[2] - e[2]));
    });
  }
  return worst;
}

/** WEIGHTS_0 and WEIGHTS_1 of the GLB's one mesh, read straight from its chunks: V x 8. */
function glbWeights(bytes: Buffer): Float32Array {
  const jsonLength = bytes.readUInt32LE(12);
  const json = JSON.parse(bytes.subarray(20, 20 + jsonLength).toString('utf8'));
  const bin = 20 + jsonLength + 8;
  const attrs = json.meshes[0].primitives[0].attributes;
  const read = (accessor: number) => {
    const a = json.accessors[accessor];
    const view = json.bufferViews[a.bufferView];
    const start = bin + (view.byteOffset ?? 0) + (a.byteOffset ?? 0);
    return new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + a.count * 16),
    );
  };
  const [w0, w1] = [read(attrs.WEIGHTS_0), read(attrs.WEIGHTS_1)];
  const out = new Float32Array(w0.length * 2);
  for (let v = 0; v < w0.length / 4; v++) {
    out.set(w0.subarray(v * 4, v * 4 + 4), v * 8);
    out.set(w1.subarray(v * 4, v * 4 + 4), v * 8 + 4);
  }
  return out;
}

describe('AMASS .npz and joint .npy, read by numpy', () => {
  it('have the AMASS keys, shapes and dtypes and exactly the stored fit', () => {
    const npz = join(seqDir('balance-alice'), 'balance-alice_poses.npz');
    const npy = join(seqDir('balance-alice'), 'balance-alice_joints.npy');
    const script = [
      'import json, sys, numpy as np',
      'd = np.load(sys.argv[1])',
      'j = np.load(sys.argv[2])',
      'print(json.dumps({"keys": sorted(d.files),',
      ' "meta": {k: [str(d[k].dtype), list(d[k].shape)] for k in d.files},',
      ' "poses": d["poses"].ravel().tolist(), "trans": d["trans"].ravel().tolist(),',
      ' "betas": d["betas"].tolist(), "gender": str(d["gender"]),',
      ' "rate": float(d["mocap_framerate"]),',
      ' "joints": [str(j.dtype), list(j.shape), j.ravel().tolist()]}))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, npz, npy], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(run.status, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout) as {
      keys: string[];
      meta: Record<string, [string, number[]]>;
      poses: number[];
      trans: number[];
      betas: number[];
      gender: string;
      rate: number;
      joints: [string, number[], number[]];
    };
    const fit = lib.fits.alice.result;
    const J = lib.model.numJoints;
    expect(got.keys).toEqual(['betas', 'gender', 'mocap_framerate', 'poses', 'trans']);
    expect(got.meta).toEqual({
      poses: ['float64', [24, 3 * J]],
      trans: ['float64', [24, 3]],
      betas: ['float64', [lib.model.numBetas]],
      gender: ['<U7', []],
      mocap_framerate: ['float64', []],
    });
    // float32 -> float64 is exact: equal, not close.
    expect(got.poses).toEqual(Array.from(fit.theta));
    expect(got.trans).toEqual(Array.from(fit.transl));
    expect(got.betas).toEqual(Array.from(fit.betas));
    expect(got.gender).toBe('neutral');
    expect(got.rate).toBe(60);
    expect(got.joints[0]).toBe('float32');
    expect(got.joints[1]).toEqual([24, J, 3]);
    expect(got.joints[2]).toEqual(Array.from(fitJoints('alice')));
  });
});

describe('BVH, read back with three.js BVHLoader', () => {
  it('reproduces the posed joints of sampled frames within 1 mm, gimbal-lock frame included', () => {
    const text = readFileSync(join(seqDir('balance-alice'), 'balance-alice.bvh'), 'utf8');
    expect(text.startsWith('HIERARCHY\nROOT Hips\n')).toBe(true);
    expect(text).toContain('MOTION\nFrames: 24\nFrame Time: 0.01666667\n');
    const { skeleton, clip } = new BVHLoader().parse(text);
    expect(
      skeleton.bones
        .filter((b: Bone) => b.name !== 'ENDSITE')
        .map((b: Bone) => b.name)
        .sort(),
    ).toEqual([...lib.model.jointNames].sort());
    const root = skeleton.bones[0];
    // BVHLoader keys frame f at f * frameTime, with the file's rounded frame time.
    const frameTime = Number(/Frame Time: (\S+)/.exec(text)![1]);
    const err = maxJointError(root, clip, [0, 3, GIMBAL_FRAME, 23], 1 / frameTime, 100, fitJoints('alice'));
    expect(err).toBeLessThan(1e-3);
    console.log(`BVH max joint error ${(err * 1000).toFixed(4)} mm`);
  });
});

describe('GLB, read back with three.js GLTFLoader', () => {
  let gltf: GLTF;
  beforeAll(async () => {
    const bytes = readFileSync(join(seqDir('balance-bob'), 'balance-bob.glb'));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    gltf = await new Promise<GLTF>((resolve, reject) => new GLTFLoader().parse(buffer, '', resolve, reject));
  });

  it('holds the skinned body with one bone per joint and up to 8 weights per vertex summing to 1', () => {
    let mesh: SkinnedMesh | undefined;
    gltf.scene.traverse((o) => {
      if ((o as SkinnedMesh).isSkinnedMesh) mesh = o as SkinnedMesh;
    });
    expect(mesh).toBeDefined();
    expect(mesh!.skeleton.bones.map((b) => b.name)).toEqual(lib.model.jointNames);
    const g = mesh!.geometry;
    expect(g.getAttribute('position').count).toBe(lib.model.numVertices);
    expect(g.getIndex()!.count).toBe(lib.model.faces.length);
    // three's loader keeps 4 influences (renormalised); the file holds up to 8 that sum to 1.
    const w = glbWeights(readFileSync(join(seqDir('balance-bob'), 'balance-bob.glb')));
    expect(w).toHaveLength(8 * lib.model.numVertices);
    let worst = 0;
    let beyond4 = 0;
    for (let v = 0; v < lib.model.numVertices; v++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += w[v * 8 + k];
      worst = Math.max(worst, Math.abs(s - 1));
      if (w[v * 8 + 4] > 0) beyond4++;
    }
    expect(worst).toBeLessThan(1e-5);
    // Every vertex the model skins with more than 4 joints keeps its 5th to 8th weights.
    const J = lib.model.numJoints;
    let modelBeyond4 = 0;
    for (let v = 0; v < lib.model.numVertices; v++)
      if (lib.model.weights.subarray(v * J, v * J + J).filter((x) => x > 0).length > 4) modelBeyond4++;
    expect(beyond4).toBe(modelBeyond4);
    expect(beyond4).toBeGreaterThan(0);
    expect(gltf.animations.map((a) => a.name)).toEqual(['motion']);
  });

  it('animates the bones through the posed joints of sampled frames within 1 mm', () => {
    const err = maxJointError(gltf.scene, gltf.animations[0], [0, 5, 9, 15], 60, 1, fitJoints('bob'));
    expect(err).toBeLessThan(1e-3);
    console.log(`GLB max joint error ${(err * 1000).toFixed(4)} mm`);
  });
});

describe('annotations and keypoints', () => {
  it('writes BABEL-style JSON and CSV in sequence time, clipped to the fit, with sources', () => {
    const babel = JSON.parse(readFileSync(join(out, 'all', 'babel.json'), 'utf8'));
    expect(Object.keys(babel)).toEqual(['balance-alice', 'balance-bob']);
    const a = babel['balance-alice'];
    expect(a).toMatchObject({
      babel_sid: lib.alice,
      feat_p: 'balance-alice/balance-alice_poses.npz',
      fps: 60,
      frames: 24,
      dur: 0.4,
      first_session_frame: 5,
    });
    // Fit frames [5, 29): "stand" [0, 8) is clipped to [0, 3), "sit" [40, 50) dropped.
    const labels = a.frame_ann.labels as Record<string, unknown>[];
    expect(labels.map((l) => [l.tier, l.proc_label, l.start_frame, l.end_frame, l.clipped])).toEqual([
      ['action', 'stand', 0, 3, true],
      ['action', 'reach, "left"', 5, 15, false],
      ['motif', 'sway', 15, 23, false],
    ]);
    expect(labels[1]).toMatchObject({ start_t: 5 / 60, end_t: 15 / 60, act_cat: ['reach, "left"'] });
    expect(labels[2].source).toMatchObject({ kind: 'motif-family', modelId: lib.motifModelId, family: 0 });
    expect(babel['balance-bob'].frame_ann.labels).toEqual([]);

    const csv = readFileSync(join(out, 'all', 'annotations.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(csv[0]).toBe('sequence,tier,start_frame,end_frame,start_s,end_s,label,source');
    expect(csv.slice(1, 3)).toEqual([
      'balance-alice,action,0,3,0.000000,0.050000,stand,user',
      'balance-alice,action,5,15,0.083333,0.250000,"reach, ""left""",user',
    ]);
    expect(csv[3]).toMatch(
      new RegExp(
        `^balance-alice,motif,15,23,0.250000,0.383333,sway,motif-family:model=${lib.motifModelId}:family=0:proposal=\\d+$`,
      ),
    );
    expect(csv).toHaveLength(4);
  });

  it('writes COCO keypoints per camera equal to the stored 2D keypoints', async () => {
    const coco = JSON.parse(readFileSync(join(seqDir('balance-alice'), 'coco', 'cam02.json'), 'utf8'));
    const cat = coco.categories[0];
    expect(cat.name).toBe('person');
    expect(cat.keypoints).toHaveLength(25);
    expect(cat.keypoints.slice(16, 19)).toEqual(['RAnkle', 'Neck', 'Head']);
    // 1-based pairs: Neck (18) - LShoulder (6), LAnkle (16) - LBigToe (20).
    expect(cat.skeleton).toContainEqual([18, 6]);
    expect(cat.skeleton).toContainEqual([16, 20]);
    expect(coco.images).toHaveLength(24);
    expect(coco.images[0]).toMatchObject({
      id: 1,
      frame_index: 0,
      session_frame: 5,
      width: 1088,
      height: 1920,
    });
    const camera = (await import('../../main/store/sessions')).getSession(lib.ctx.db, lib.alice);
    const cam02 = (await camera)!.cameras.find((c) => c.name === 'cam02')!;
    const { readCameraKeypoints } = await import('../../main/export/coco');
    const kp = (await readCameraKeypoints(lib.ctx.db, lib.alice, cam02.id, 5, 24))!;
    const ann = coco.annotations.find((x: { image_id: number }) => x.image_id === 4);
    expect(ann).toBeDefined();
    const K = 25;
    for (let k = 0; k < K; k++) {
      const [x, y, c] = kp.data.subarray((3 * K + k) * 3, (3 * K + k) * 3 + 3);
      if (Number.isFinite(x) && c > 0) {
        expect(ann.keypoints.slice(3 * k, 3 * k + 3)).toEqual([
          Math.round(x * 1000) / 1000,
          Math.round(y * 1000) / 1000,
          2,
        ]);
      } else expect(ann.keypoints.slice(3 * k, 3 * k + 3)).toEqual([0, 0, 0]);
    }
    expect(ann.num_keypoints).toBeGreaterThan(10);
    expect(result.files.filter((f) => f.path.includes('/coco/')).map((f) => f.path)).toEqual(
      ['cam01', 'cam02', 'cam03', 'cam04'].map((c) => `all/balance-alice/coco/${c}.json`),
    );
  });
});
