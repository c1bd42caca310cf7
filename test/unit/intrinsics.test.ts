import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseOpenCvYaml,
  readOpenCvYaml,
  writeAniposeToml,
  writeOpenCvYaml,
  type OpenCvCalibrationFile,
} from '../../main/calibration/calibration-export';
import { CharucoBoardDetector, type BoardSpec } from '../../main/calibration/charuco-board';
import {
  calibrateFromCorners,
  calibrateIntrinsics,
  detectView,
  type IntrinsicsResult,
  type ViewCorners,
} from '../../main/calibration/intrinsics';
import { loadOpenCv, type GrayImage, type OpenCv } from '../../main/calibration/opencv';
import { FFMPEG_PATH, runTool } from '../../main/capture/ffmpeg';
import { loadBoardSpec, runCalibrateIntrinsics } from '../../main/cli/calibrate-commands';
import { decodeGrayImage } from '../../main/capture/gray-frames';
import { cleanupTempDirs, REPO_ROOT, SHARED_DATA, tempDir } from './fixtures';

const DATA = join(SHARED_DATA, 'charuco-opencv');
const NAMES = ['img_00.jpg', 'img_01.jpg', 'img_02.jpg', 'img_03.jpg'];
const BOARD_FILE = join(REPO_ROOT, 'native', 'boards', 'opencv-tutorial-5x7.json');

let cv: OpenCv;
let spec: BoardSpec;
let images: { name: string; image: GrayImage }[];
let reference: OpenCvCalibrationFile;
let result: IntrinsicsResult;
let calibrateMs: number;

beforeAll(async () => {
  cv = await loadOpenCv();
  spec = loadBoardSpec(BOARD_FILE);
  images = await Promise.all(
    NAMES.map(async (name) => ({ name, image: await decodeGrayImage(join(DATA, name)) })),
  );
  reference = readOpenCvYaml(readFileSync(join(DATA, 'tutorial_camera_charuco.yml'), 'utf8'), 'tutorial.yml');
  const t0 = performance.now();
  result = calibrateIntrinsics(cv, spec, images);
  calibrateMs = performance.now() - t0;
});
afterAll(cleanupTempDirs);

/** The detected corners of the four tutorial images (each detection ~30 ms). */
function tutorialViews(): ViewCorners[] {
  const detector = new CharucoBoardDetector(cv, spec);
  try {
    return images.map((v) => detectView(detector, v.name, v.image));
  } finally {
    detector.delete();
  }
}

function expectCloseToReference(K: number[], rms: number): void {
  const [fx, , cx, , fy, cy] = K;
  const [rfx, , rcx, , rfy, rcy] = reference.K;
  expect(Math.abs(fx / rfx - 1)).toBeLessThan(0.02);
  expect(Math.abs(fy / rfy - 1)).toBeLessThan(0.02);
  expect(Math.abs(cx - rcx)).toBeLessThan(10);
  expect(Math.abs(cy - rcy)).toBeLessThan(10);
  expect(rms).toBeLessThanOrEqual(0.5);
}

describe('intrinsic calibration from the OpenCV tutorial ChArUco photos', () => {
  it('recovers tutorial_camera_charuco.yml from img_00..03 (fx, fy within 2 %, cx, cy within 10 px)', () => {
    expect(result.width).toBe(640);
    expect(result.height).toBe(480);
    expectCloseToReference(result.K, result.rms);
    expect(result.dist).toHaveLength(5);
    // Same sign pattern as OpenCV's own calibration of these photos (k1 > 0, k2 < 0, k3 > 0).
    expect(Math.sign(result.dist[0])).toBe(Math.sign(reference.dist[0]));
    expect(Math.sign(result.dist[1])).toBe(Math.sign(reference.dist[1]));
    expect(result.perView.map((v) => [v.name, v.used])).toEqual(NAMES.map((n) => [n, true]));
    // 24 inner corners on the board; the detector may miss one or two at the image border.
    for (const v of result.perView) expect(v.corners).toBeGreaterThanOrEqual(20);
    for (const v of result.perView) expect(v.rms).toBeLessThan(0.5);
    // Overall RMS is the corner-weighted mean square of the per-view RMS.
    const n = result.perView.reduce((s, v) => s + v.corners, 0);
    const meanSq = result.perView.reduce((s, v) => s + v.corners * v.rms! ** 2, 0) / n;
    expect(result.rms).toBeCloseTo(Math.sqrt(meanSq), 6);
    expect(calibrateMs).toBeLessThan(5000);
  });

  it('lists a view without corners, drops an outlier view, and keeps the rest', () => {
    const views = tutorialViews();
    const blank: ViewCorners = {
      name: 'blank.png',
      width: 640,
      height: 480,
      ids: new Int32Array(0),
      corners: new Float32Array(0),
    };
    // img_02's corners shifted by a smooth 3-px warp: a view that disagrees with the others.
    const warped: ViewCorners = {
      ...views[2],
      name: 'warped.jpg',
      corners: views[2].corners.map((c, k) => c + 3 * Math.sin(k)),
    };
    const res = calibrateFromCorners(cv, spec, [...views, blank, warped]);
    const report = Object.fromEntries(res.perView.map((v) => [v.name, v]));
    expect(report['blank.png']).toMatchObject({
      used: false,
      corners: 0,
      rms: null,
      note: 'no ChArUco corners found',
    });
    expect(report['warped.jpg'].used).toBe(false);
    expect(report['warped.jpg'].note).toMatch(/^outlier: .* px > 2 x median/);
    expect(report['warped.jpg'].rms).toBeGreaterThan(1);
    for (const n of NAMES) expect(report[n].used).toBe(true);
    expect(res.K).toEqual(result.K);
  });

  it('refuses fewer than 3 usable views and views of different sizes, naming the files', () => {
    const views = tutorialViews();
    const blank: ViewCorners = {
      name: 'empty.jpg',
      width: 640,
      height: 480,
      ids: new Int32Array(0),
      corners: new Float32Array(0),
    };
    expect(() => calibrateFromCorners(cv, spec, [views[0], views[1], blank])).toThrow(
      /needs at least 3 views .* got 2 of 3; unusable: empty\.jpg \(no ChArUco corners found\)/,
    );
    const small = { ...views[3], name: 'small.jpg', width: 320, height: 240 };
    expect(() => calibrateFromCorners(cv, spec, [...views.slice(0, 3), small])).toThrow(
      /^small\.jpg: image is 320x240 but img_00\.jpg is 640x480/,
    );
  });
});

describe('calibration files', () => {
  it('writes OpenCV YAML that reads back equal, and parses the real tutorial file', () => {
    const used = result.perView.map((v) => v.rms!);
    const { width, height, K, dist, rms, flags } = result;
    const file: OpenCvCalibrationFile = { width, height, K, dist, rms, flags, perViewRms: used };
    Object.assign(file, { calibrationTime: 'now', info: 'a "test" # not a comment' });
    const yaml = writeOpenCvYaml(file);
    expect(yaml.startsWith('%YAML:1.0\n---\n')).toBe(true);
    expect(yaml).toMatch(
      /camera_matrix: !!opencv-matrix\n {3}rows: 3\n {3}cols: 3\n {3}dt: d\n {3}data: \[ /,
    );
    expect(yaml).toContain('distortion_coefficients: !!opencv-matrix');
    expect(yaml).toContain('image_width: 640\nimage_height: 480');
    const back = readOpenCvYaml(yaml, 'out.yml');
    expect(back).toEqual(file);
    // The real file: exact numbers as written by OpenCV, matrix data wrapped over lines.
    expect(reference.K).toEqual([
      4.5251072219637672e2, 0, 3.1770297317353277e2, 0, 4.5676707935146891e2, 2.7775155919135995e2, 0, 0, 1,
    ]);
    expect(reference.dist[4]).toBe(2.954258940681008);
    expect(reference).toMatchObject({ width: 640, height: 480, rms: 1.8234905535936044e-1, flags: 0 });
    expect(reference.calibrationTime).toBe('Wed 08 Dec 2021 05:13:09 PM MSK');
    // Writing the reference in our layout and reading it back is the identity too.
    expect(readOpenCvYaml(writeOpenCvYaml(reference), 'ref.yml')).toEqual(reference);
  });

  it('refuses damaged YAML naming the file and line', () => {
    expect(() => parseOpenCvYaml('camera_matrix: 1\n', 'a.yml')).toThrow(/^a\.yml: not an OpenCV YAML file/);
    const bad =
      '%YAML:1.0\n---\ncamera_matrix: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n   data: [ 1., 2. ]\n';
    expect(() => parseOpenCvYaml(bad, 'b.yml')).toThrow(
      /^b\.yml:\d+: "camera_matrix": 3x3 matrix has 2 values/,
    );
    const noK = '%YAML:1.0\n---\nimage_width: 640\nimage_height: 480\n';
    expect(() => readOpenCvYaml(noK, 'c.yml')).toThrow(/^c\.yml: "camera_matrix" must be an !!opencv-matrix/);
  });

  it('writes Anipose TOML with the camera matrix, distortions, Rodrigues rotation and translation', () => {
    const R = [0, -1, 0, 1, 0, 0, 0, 0, 1]; // 90 degrees about z
    const toml = writeAniposeToml([{ name: 'cam-a', ...result, R, t: [0.5, -1, 2] }], { error: result.rms });
    const [fx, , cx, , fy, cy] = result.K;
    expect(toml).toContain('[cam_0]\nname = "cam-a"\nsize = [ 640, 480 ]\n');
    expect(toml).toContain(`matrix = [ [ ${fx}, 0.0, ${cx} ], [ 0.0, ${fy}, ${cy} ], [ 0.0, 0.0, 1.0 ] ]`);
    expect(toml).toContain(`distortions = [ ${result.dist.join(', ')} ]`);
    const rot = /rotation = \[ (.*) \]/.exec(toml)![1].split(', ').map(Number);
    expect(rot[0]).toBeCloseTo(0, 12);
    expect(rot[1]).toBeCloseTo(0, 12);
    expect(rot[2]).toBeCloseTo(Math.PI / 2, 12);
    expect(toml).toContain('translation = [ 0.5, -1.0, 2.0 ]');
    expect(toml).toMatch(/\[metadata\]\nadjusted = false\nerror = 0\.\d+\n$/);
  });
});

describe('studio calibrate intrinsics (the function the CLI runs)', () => {
  it('calibrates the 4 images with the tutorial board file and writes YAML and TOML', async () => {
    const dir = tempDir();
    const progress: number[] = [];
    const s = await runCalibrateIntrinsics({
      inputs: NAMES.map((n) => join(DATA, n)),
      board: BOARD_FILE,
      yaml: join(dir, 'cam.yml'),
      toml: join(dir, 'cam.toml'),
      onProgress: (done) => progress.push(done),
    });
    expect(s).toMatchObject({
      board: 'opencv-tutorial-5x7',
      views: 4,
      usedViews: 4,
      width: 640,
      height: 480,
    });
    expectCloseToReference(s.K, s.rms);
    expect(progress).toEqual([0, 1, 2, 3, 4, 4]);
    const yaml = readOpenCvYaml(readFileSync(join(dir, 'cam.yml'), 'utf8'), 'cam.yml');
    expect(yaml.K).toEqual(s.K);
    expect(yaml.dist).toEqual(s.dist);
    expect(yaml.perViewRms).toHaveLength(4);
    expect(readFileSync(join(dir, 'cam.toml'), 'utf8')).toContain('name = "img_00"');
    expect(JSON.parse(JSON.stringify(s)).perView).toHaveLength(4);
  });

  it('takes every N-th frame of a video', async () => {
    const dir = tempDir();
    const video = join(dir, 'board.mkv');
    // 8 frames: each photo twice, lossless; every 2nd frame = the 4 photos.
    // prettier-ignore
    const args = [
      '-v', 'error', '-framerate', '1', '-i', join(DATA, 'img_%02d.jpg'),
      '-r', '2', '-vsync', 'cfr', '-pix_fmt', 'gray', '-c:v', 'ffv1', video,
    ];
    const enc = await runTool(FFMPEG_PATH, args);
    expect(enc.code, enc.stderr).toBe(0);
    const s = await runCalibrateIntrinsics({ inputs: [video], board: BOARD_FILE, every: 2 });
    expect(s.perView.map((v) => v.name.split('#')[1])).toEqual(['0', '2', '4', '6']);
    expect(s.perView.every((v) => v.corners >= 20 && v.used)).toBe(true);
    expectCloseToReference(s.K, s.rms);
  });

  it('reads a board from a session.json by name and refuses bad board files naming them', () => {
    const dir = tempDir();
    const board = JSON.parse(readFileSync(BOARD_FILE, 'utf8')) as BoardSpec;
    const session = join(dir, 'session.json');
    writeFileSync(session, JSON.stringify({ version: 1, boards: [{ ...board, name: 'a' }, board] }));
    expect(loadBoardSpec(`${session}#opencv-tutorial-5x7`)).toEqual(board);
    expect(() => loadBoardSpec(session)).toThrow(
      /session\.json: holds several boards, name one as file#name/,
    );
    expect(() => loadBoardSpec(`${session}#nope`)).toThrow(
      /session\.json: has no board "nope" \(boards: a, opencv/,
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...board, markerLength: 0.05 }));
    expect(() => loadBoardSpec(broken)).toThrow(
      /broken\.json: board spec "opencv-tutorial-5x7": markerLength/,
    );
    expect(existsSync(join(dir, 'missing.json'))).toBe(false);
    expect(() => loadBoardSpec(join(dir, 'missing.json'))).toThrow(
      /missing\.json: board spec file does not exist/,
    );
  });

  it('names an image file that cannot be decoded', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');
    await expect(decodeGrayImage(bad)).rejects.toThrow(/bad\.jpg: cannot read as an image or video/);
  });
});
