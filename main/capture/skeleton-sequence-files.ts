import { readFileSync } from 'node:fs';
import { parseNpy } from '../body/npz';
import { ImportError } from './errors';

/** One sequence file of a skeleton dataset (T x J x 3 metres) as .npy or .csv; errors name the file. */

export function readNpySequence(file: string, joints: readonly string[]): Float32Array {
  const arr = parseNpy(readFileSync(file), file);
  const [T, J, C] = arr.shape;
  if (arr.shape.length !== 3 || J !== joints.length || C !== 3 || T < 1)
    throw new ImportError(
      file,
      `shape (${arr.shape.join(', ')}) is not T x ${joints.length} x 3 (dataset.json lists ${joints.length} joints)`,
    );
  if (arr.dtype !== 'f4' && arr.dtype !== 'f8')
    throw new ImportError(file, `dtype ${arr.dtype}: positions must be float32 or float64`);
  return arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
}

/** The CSV header a sequence file carries: `<joint>_x,<joint>_y,<joint>_z` per joint. */
export function csvHeader(joints: readonly string[]): string {
  return joints.flatMap((j) => [`${j}_x`, `${j}_y`, `${j}_z`]).join(',');
}

export function readCsvSequence(file: string, joints: readonly string[]): Float32Array {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const width = joints.length * 3;
  // A first row with any non-numeric field is a header; it must name the joints in dataset.json's order.
  const expected = csvHeader(joints).split(',');
  const head = (lines[0] ?? '').split(',').map((f) => f.trim());
  const first = head.some((f) => !/^[-+0-9.eE]*(nan|inf(inity)?)?$/i.test(f)) ? 1 : 0;
  const bad = expected.findIndex((name, c) => head[c] !== name);
  if (first === 1 && (bad >= 0 || head.length !== width))
    throw new ImportError(
      file,
      `header column ${bad + 1 || width + 1} is "${head[bad >= 0 ? bad : width] ?? ''}", expected ` +
        `"${expected[bad] ?? '(end of row)'}" (<joint>_x,<joint>_y,<joint>_z in dataset.json joint order)`,
    );
  const T = lines.length - first;
  if (T < 1) throw new ImportError(file, 'no frames');
  const out = new Float32Array(T * width);
  for (let t = 0; t < T; t++) {
    const fields = lines[first + t].split(',');
    if (fields.length !== width)
      throw new ImportError(
        file,
        `line ${first + t + 1} has ${fields.length} values, expected ${width} (${joints.length} joints x 3)`,
      );
    for (let c = 0; c < width; c++) {
      const v = fields[c].trim() === '' ? NaN : Number(fields[c]);
      if (!Number.isFinite(v))
        throw new ImportError(
          file,
          `line ${first + t + 1}, column ${c + 1} (${joints[Math.floor(c / 3)]}_${'xyz'[c % 3]}): "${fields[c]}" is not a finite number`,
        );
      out[t * width + c] = v;
    }
  }
  return out;
}

/** A sequence as CSV text: header, then one row per frame; micrometre precision (6 decimals). */
export function encodeCsvSequence(positions: Float32Array, joints: readonly string[]): string {
  const width = joints.length * 3;
  const rows = [csvHeader(joints)];
  const row = new Array<string>(width);
  for (let t = 0; t * width < positions.length; t++) {
    for (let c = 0; c < width; c++) row[c] = positions[t * width + c].toFixed(6);
    rows.push(row.join(','));
  }
  return rows.join('\n') + '\n';
}
