import { extname } from 'node:path';
import { type BodyModel, bodyModelFromArrays } from './model';
import type { NdArray } from './ndarray';
import { readModelBytes, readNpz } from './npz';
import { loadSmplPickle } from './pkl';

/** Loads `.npz` (smplx layout) or `.pkl` (original chumpy pickles). */
export function loadBodyModel(file: string): BodyModel {
  const ext = extname(file).toLowerCase();
  let arrays: Record<string, NdArray>;
  if (ext === '.npz') arrays = readNpz(file);
  else if (ext === '.pkl') arrays = loadSmplPickle(readModelBytes(file), file);
  else throw new Error(`${file}: unknown body-model format "${ext}" (expected .npz or .pkl)`);
  return bodyModelFromArrays(arrays, file);
}
