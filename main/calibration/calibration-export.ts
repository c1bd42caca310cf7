import { axisAngleFromMatrix } from '../geometry/rotation';

/**
 * Calibration files other tools read: OpenCV FileStorage YAML (what cv::FileStorage writes for the
 * calibration samples: `camera_matrix`, `distortion_coefficients` as !!opencv-matrix, image size, RMS) and
 * Anipose's calibration.toml. opencv-js has no FileStorage, so both are written here, and the YAML read back.
 */

/** Intrinsics as written to / read from an OpenCV calibration YAML. */
export interface OpenCvCalibrationFile {
  width: number;
  height: number;
  K: number[];
  dist: number[];
  /** avg_reprojection_error, pixels. */
  rms: number;
  flags?: number;
  /** per_view_reprojection_errors, pixels (views used). */
  perViewRms?: number[];
  calibrationTime?: string;
  info?: string;
}

/**
 * A double as cv::FileStorage writes it: integers as "12.", the rest as %.16e ("4.5251072219637672e+02"),
 * which round-trips every double exactly.
 */
export function formatOpenCvDouble(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '.Nan' : v > 0 ? '.Inf' : '-.Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return `${Object.is(v, -0) ? '-0' : v}.`;
  const [mant, exp] = v.toExponential(16).split('e');
  const e = Number(exp);
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** A YAML double-quoted string. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** `name: !!opencv-matrix` block with data wrapped like FileStorage does (lines of ~70 characters). */
function matrixBlock(name: string, rows: number, cols: number, data: number[]): string {
  const items = data.map(formatOpenCvDouble);
  const lines: string[] = [];
  let line = '';
  items.forEach((item, i) => {
    const piece = item + (i < items.length - 1 ? ',' : '');
    if (line && line.length + 1 + piece.length > 70) {
      lines.push(line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  });
  lines.push(line);
  return [
    `${name}: !!opencv-matrix`,
    `   rows: ${rows}`,
    `   cols: ${cols}`,
    '   dt: d',
    `   data: [ ${lines.join('\n       ')} ]`,
  ].join('\n');
}

/** The calibration as OpenCV FileStorage YAML (the layout of OpenCV's calibrate_camera samples). */
export function writeOpenCvYaml(cal: OpenCvCalibrationFile): string {
  checkShape(cal, 'writeOpenCvYaml');
  const out = ['%YAML:1.0', '---'];
  if (cal.calibrationTime !== undefined) out.push(`calibration_time: ${quote(cal.calibrationTime)}`);
  if (cal.perViewRms) out.push(`nr_of_frames: ${cal.perViewRms.length}`);
  out.push(`image_width: ${cal.width}`, `image_height: ${cal.height}`);
  if (cal.flags !== undefined) out.push(`flags: ${cal.flags}`);
  out.push(matrixBlock('camera_matrix', 3, 3, cal.K));
  out.push(matrixBlock('distortion_coefficients', 1, cal.dist.length, cal.dist));
  out.push(`avg_reprojection_error: ${formatOpenCvDouble(cal.rms)}`);
  if (cal.perViewRms?.length) {
    out.push(matrixBlock('per_view_reprojection_errors', cal.perViewRms.length, 1, cal.perViewRms));
  }
  if (cal.info !== undefined) out.push(`info: ${quote(cal.info)}`);
  return out.join('\n') + '\n';
}

function checkShape(cal: OpenCvCalibrationFile, where: string): void {
  if (cal.K?.length !== 9)
    throw new Error(`${where}: camera_matrix (K) must have 9 values, got ${cal.K?.length}`);
  if (!(cal.dist?.length >= 4 && cal.dist.length <= 14)) {
    throw new Error(`${where}: distortion_coefficients must have 4 to 14 values, got ${cal.dist?.length}`);
  }
  if (!(Number.isInteger(cal.width) && Number.isInteger(cal.height) && cal.width > 0 && cal.height > 0)) {
    throw new Error(`${where}: invalid image size ${cal.width}x${cal.height} (image_width, image_height)`);
  }
}

type YamlValue = number | string | { rows: number; cols: number; dt: string; data: number[] };

/** A FileStorage scalar: number (incl. "0.", ".Nan", ".Inf"), or string (quoted or plain). */
function parseScalar(raw: string): number | string {
  const s = raw.trim();
  if (s.startsWith('"')) return JSON.parse(s) as string;
  if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (/^[-+]?\.nan$/i.test(s)) return NaN;
  if (/^[-+]?\.inf$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

/**
 * Parses the top-level map of an OpenCV FileStorage YAML file: scalars and !!opencv-matrix blocks (data may
 * wrap over lines). Nested maps and sequences other than matrix data are not part of calibration files and
 * are refused. `file` names the file in errors.
 */
export function parseOpenCvYaml(text: string, file: string): Map<string, YamlValue> {
  const lines = text.split(/\r?\n/);
  if (!/^%YAML[: ]1\.\d/.test(lines[0] ?? '')) {
    throw new Error(`${file}: not an OpenCV YAML file (first line must be %YAML:1.0)`);
  }
  const out = new Map<string, YamlValue>();
  let i = 1;
  const fail = (problem: string): never => {
    throw new Error(`${file}:${i + 1}: ${problem}`);
  };
  for (; i < lines.length; i++) {
    // Comments, unless the line holds a quoted string that might contain '#'.
    const line = /["']/.test(lines[i]) ? lines[i] : lines[i].replace(/\s+#.*$/, '');
    if (line.trim() === '' || line.trim() === '---' || line.trim() === '...' || line.startsWith('#'))
      continue;
    const m = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (!m) fail(`expected "key: value", got ${JSON.stringify(line.trim())}`);
    const [, key, rest] = m!;
    if (rest.trim() !== '!!opencv-matrix') {
      if (rest.trim() === '' || rest.trim().startsWith('[') || rest.trim().startsWith('{')) {
        fail(`"${key}": nested maps and sequences are not supported outside !!opencv-matrix`);
      }
      out.set(key, parseScalar(rest));
      continue;
    }
    const fields: Record<string, string> = {};
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) {
      i++;
      const f = /^\s+(\w+)\s*:\s*(.*)$/.exec(lines[i]);
      if (!f) fail(`"${key}": bad matrix field ${JSON.stringify(lines[i].trim())}`);
      let value = f![2];
      if (f![1] === 'data') {
        while (!value.includes(']') && i + 1 < lines.length) value += ' ' + lines[++i].trim();
        if (!value.trim().startsWith('[') || !value.includes(']')) fail(`"${key}": data must be [ ... ]`);
      }
      fields[f![1]] = value;
    }
    const rows = Number(fields.rows);
    const cols = Number(fields.cols);
    if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 0 && cols >= 0)) {
      fail(`"${key}": matrix needs integer rows and cols`);
    }
    const body = (fields.data ?? '')
      .replace(/^\s*\[/, '')
      .replace(/\]\s*$/, '')
      .trim();
    const data = body === '' ? [] : body.split(',').map((s) => parseScalar(s));
    if (data.some((v) => typeof v !== 'number')) fail(`"${key}": matrix data must be numbers`);
    if (data.length !== rows * cols) fail(`"${key}": ${rows}x${cols} matrix has ${data.length} values`);
    out.set(key, { rows, cols, dt: (fields.dt ?? 'd').trim(), data: data as number[] });
  }
  return out;
}

/** Reads an OpenCV calibration YAML (camera_matrix, distortion_coefficients, image size, RMS). */
export function readOpenCvYaml(text: string, file: string): OpenCvCalibrationFile {
  const doc = parseOpenCvYaml(text, file);
  const num = (key: string, required: boolean): number | undefined => {
    const v = doc.get(key);
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number')
      throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const mat = (key: string): number[] => {
    const v = doc.get(key);
    if (typeof v !== 'object') throw new Error(`${file}: "${key}" must be an !!opencv-matrix`);
    return v.data;
  };
  const str = (key: string): string | undefined => {
    const v = doc.get(key);
    return v === undefined ? undefined : String(v);
  };
  const perView = doc.get('per_view_reprojection_errors');
  const cal: OpenCvCalibrationFile = {
    width: num('image_width', true)!,
    height: num('image_height', true)!,
    K: mat('camera_matrix'),
    dist: mat('distortion_coefficients'),
    rms: num('avg_reprojection_error', false) ?? NaN,
  };
  const flags = num('flags', false);
  if (flags !== undefined) cal.flags = flags;
  if (typeof perView === 'object') cal.perViewRms = perView.data;
  const time = str('calibration_time');
  if (time !== undefined) cal.calibrationTime = time;
  const info = str('info');
  if (info !== undefined) cal.info = info;
  checkShape(cal, file);
  return cal;
}

/** One camera of an Anipose calibration.toml. R, t world -> camera (default identity / zero). */
export interface AniposeCamera {
  name: string;
  width: number;
  height: number;
  K: number[];
  dist: number[];
  R?: number[];
  t?: number[];
}

/** A TOML float that reads back exactly (shortest round-trip form, always with a decimal point). */
function tomlFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const list = (v: number[]) => `[ ${v.map(tomlFloat).join(', ')} ]`;

/**
 * Anipose's calibration.toml: one [cam_i] table per camera with name, size [w, h], matrix (3 rows),
 * distortions (k1, k2, p1, p2, k3), rotation (Rodrigues vector of R) and translation (t, metres here),
 * then [metadata].
 */
export function writeAniposeToml(cameras: AniposeCamera[], metadata: { error?: number } = {}): string {
  const out: string[] = [];
  cameras.forEach((c, i) => {
    if (c.K.length !== 9) throw new Error(`writeAniposeToml: camera ${c.name}: K must have 9 values`);
    const rvec = [0, 0, 0];
    if (c.R) axisAngleFromMatrix(rvec, 0, c.R, 0);
    const dist = [0, 1, 2, 3, 4].map((k) => c.dist[k] ?? 0);
    out.push(
      `[cam_${i}]`,
      `name = ${JSON.stringify(c.name)}`,
      `size = [ ${c.width}, ${c.height} ]`,
      `matrix = [ ${[0, 3, 6].map((r) => list(c.K.slice(r, r + 3))).join(', ')} ]`,
      `distortions = ${list(dist)}`,
      `rotation = ${list(rvec)}`,
      `translation = ${list(c.t ?? [0, 0, 0])}`,
      '',
    );
  });
  out.push('[metadata]', 'adjusted = false', `error = ${tomlFloat(metadata.error ?? 0)}`);
  return out.join('\n') + '\n';
}
