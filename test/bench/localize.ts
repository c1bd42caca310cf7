import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFootGroundTruth } from '../../main/calibration/eval-localize';
import { charucoDetectFn } from '../../main/calibration/localize';
import { decodeGrayFrames } from '../../main/capture/gray-frames';
import { loadOpenCv } from '../../main/calibration/opencv';
import { solveFramePose } from '../../main/calibration/pnp';
import { makeSample } from '../../main/capture/sample/make-sample';

/**
 * Foot-camera localisation speed: ChArUco detection (all 14 boards) + PnP per 640x480 frame on one core,
 * over FRAMES frames of the sample's left foot video (decoded beforehand, so decoding is not counted),
 * and the same frames through native OpenCV in Python (cv2.aruco + cv2.solvePnP, one thread) when a
 * python3 with cv2 is installed (Debian: apt-get install python3-opencv); nativeRatio = ours / native.
 * Uses the sample in $STUDIO_SAMPLE_DIR, else makes one in a temp folder (~35 s).
 */

const FRAMES = 200;
const FIRST = 100; // past the standing start: walking, then the desk
/**
 * One untimed pass over the same frames on both sides first: a localisation runs over thousands of
 * frames, so what matters is the steady per-frame cost, not V8's and wasm's one-off compilation.
 */
const WARMUP = FRAMES;

export async function benchLocalize(): Promise<Record<string, number | null>> {
  const temp = mkdtempSync(join(tmpdir(), 'studio-bench-localize-'));
  try {
    let dir = process.env.STUDIO_SAMPLE_DIR;
    if (!dir) {
      dir = join(temp, 'sample');
      await makeSample(dir, { nativeDir: resolve(__dirname, '..', '..', 'native') });
    }
    const { boards, feet } = readFootGroundTruth(dir);
    const foot = feet[0];
    const { width, height } = foot.intrinsics;
    const frames: Uint8Array[] = [];
    for await (const { index, gray } of decodeGrayFrames(
      join(dir, 'videos', `${foot.name}.mp4`),
      width,
      height,
    )) {
      if (index >= FIRST) frames.push(gray.data.slice());
      if (frames.length === FRAMES) break;
    }

    const cv = await loadOpenCv();
    const detector = charucoDetectFn(cv, boards, foot.intrinsics);
    let corners = 0;
    let posed = 0;
    let ms: number;
    try {
      const run = (images: Uint8Array[]) => {
        for (const data of images) {
          const pose = solveFramePose(cv, foot.intrinsics, detector.detect({ width, height, data }), boards);
          if (pose.status !== 'none') posed++;
          corners += pose.corners;
        }
      };
      run(frames.slice(0, WARMUP));
      [corners, posed] = [0, 0];
      const t0 = performance.now();
      run(frames);
      ms = (performance.now() - t0) / frames.length;
    } finally {
      detector.delete();
    }

    const native = nativeTiming(temp, frames, boards, foot.intrinsics, width, height);
    return {
      frames: frames.length,
      msPerFrame: ms,
      cornersPerFrame: corners / frames.length,
      posedShare: posed / frames.length,
      nativeMsPerFrame: native?.msPerFrame ?? null,
      nativeCornersPerFrame: native?.cornersPerFrame ?? null,
      nativeRatio: native ? ms / native.msPerFrame : null,
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * The Python side: a python3 whose cv2 has aruco. When there is none, installs Debian's python3-opencv
 * with apt once (as root, or through sudo); null (with a note on stderr) if that cannot be done.
 */
function findPython(): string | null {
  const probe = (): string | null => {
    for (const bin of ['python3', '/usr/bin/python3']) {
      const r = spawnSync(bin, ['-c', 'import cv2; cv2.aruco.getPredefinedDictionary'], { encoding: 'utf8' });
      if (r.status === 0) return bin;
    }
    return null;
  };
  const found = probe();
  if (found) return found;
  process.stderr.write('bench localize: no python3 with cv2; trying apt-get install python3-opencv\n');
  const root = process.getuid?.() === 0;
  const apt = (args: string[]) =>
    spawnSync(root ? 'apt-get' : 'sudo', root ? args : ['-n', 'apt-get', ...args], {
      stdio: 'ignore',
      timeout: 600_000,
    });
  if (apt(['install', '-y', 'python3-opencv']).status !== 0) apt(['update']);
  apt(['install', '-y', 'python3-opencv']);
  const installed = probe();
  if (!installed)
    process.stderr.write('bench localize: python3-opencv could not be installed; nativeRatio = null\n');
  return installed;
}

function nativeTiming(
  temp: string,
  frames: Uint8Array[],
  boards: unknown,
  intrinsics: { K: number[]; dist: number[] },
  width: number,
  height: number,
): { msPerFrame: number; cornersPerFrame: number } | null {
  const python = findPython();
  if (!python) return null;
  const raw = join(temp, 'frames.gray');
  writeFileSync(raw, Buffer.concat(frames));
  writeFileSync(
    join(temp, 'scene.json'),
    JSON.stringify({ boards, ...intrinsics, width, height, warmup: WARMUP }),
  );
  writeFileSync(join(temp, 'native.py'), NATIVE_PY);
  const r = spawnSync(python, [join(temp, 'native.py'), temp], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    process.stderr.write(`bench localize: native OpenCV run failed: ${r.stderr.slice(-2000)}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { msPerFrame: number; cornersPerFrame: number };
}

/**
 * Markers found once per frame (one adaptive-threshold window of 7 px, as FRAME_MARKER_PARAMS), ChArUco
 * corners interpolated per board whose markers were seen (with the lens model), SQPnP + LM on all
 * corners. OpenCV >= 4.7: CharucoDetector.detectBoard given the markers; older: interpolateCornersCharuco
 * on a 0-based board (ids shifted by firstMarkerId; the sample's boards have odd squaresY, where the
 * pre-4.6 layout is the same).
 */
const NATIVE_PY = String.raw`
import json, sys, time
import numpy as np
import cv2

cv2.setNumThreads(1)
d = sys.argv[1]
scene = json.load(open(d + '/scene.json'))
w, h = scene['width'], scene['height']
raw = np.fromfile(d + '/frames.gray', dtype=np.uint8)
frames = raw.reshape(-1, h, w)
K = np.array(scene['K'], dtype=np.float64).reshape(3, 3)
dist = np.array(scene['dist'], dtype=np.float64)
aruco = cv2.aruco
modern = hasattr(aruco, 'CharucoDetector')
dictionary = aruco.getPredefinedDictionary(getattr(aruco, scene['boards'][0]['dictionary']))
params = aruco.DetectorParameters() if modern else aruco.DetectorParameters_create()
params.adaptiveThreshWinSizeMin = 7
params.adaptiveThreshWinSizeMax = 7

boards = []
for b in scene['boards']:
    n = (b['squaresX'] * b['squaresY']) // 2
    lo = b['firstMarkerId']
    nx = b['squaresX'] - 1
    ncorners = nx * (b['squaresY'] - 1)
    R = np.array(b['pose']['R'], dtype=np.float64).reshape(3, 3)
    t = np.array(b['pose']['t'], dtype=np.float64)
    local = np.array([[((i % nx) + 1) * b['squareLength'], (i // nx + 1) * b['squareLength'], 0] for i in range(ncorners)])
    world = local @ R.T + t
    size = (b['squaresX'], b['squaresY'])
    if modern:
        board = aruco.CharucoBoard(size, b['squareLength'], b['markerLength'], dictionary, np.arange(lo, lo + n, dtype=np.int32))
        cp = aruco.CharucoParameters()
        cp.cameraMatrix = K
        cp.distCoeffs = dist
        det = aruco.CharucoDetector(board, cp, params)
    else:
        board = aruco.CharucoBoard_create(size[0], size[1], b['squareLength'], b['markerLength'], dictionary)
        det = None
    boards.append((lo, lo + n, board, det, world))
marker_detector = aruco.ArucoDetector(dictionary, params) if modern else None

def frame_pose(gray):
    if modern:
        corners, ids, _ = marker_detector.detectMarkers(gray)
    else:
        corners, ids, _ = aruco.detectMarkers(gray, dictionary, parameters=params)
    if ids is None:
        return 0
    ids = ids.ravel()
    obj, img = [], []
    for lo, hi, board, det, world in boards:
        mine = [k for k in range(len(ids)) if lo <= ids[k] < hi]
        if not mine:
            continue
        mc = [corners[k] for k in mine]
        if modern:
            cc, ci, _, _ = det.detectBoard(gray, markerCorners=mc, markerIds=ids[mine].reshape(-1, 1))
        else:
            _, cc, ci = aruco.interpolateCornersCharuco(mc, (ids[mine] - lo).reshape(-1, 1), gray, board, cameraMatrix=K, distCoeffs=dist)
        if ci is None or len(ci) == 0:
            continue
        obj.append(world[ci.ravel()])
        img.append(cc.reshape(-1, 2))
    if not obj:
        return 0
    obj = np.concatenate(obj)
    img = np.concatenate(img).astype(np.float64)
    if len(obj) >= 4:
        try:  # SQPnP asserts on collinear corners (ours checks them first)
            ok, rvec, tvec = cv2.solvePnP(obj, img, K, dist, flags=cv2.SOLVEPNP_SQPNP)
            if ok:
                cv2.solvePnPRefineLM(obj, img, K, dist, rvec, tvec)
        except cv2.error:
            pass
    return len(obj)

for f in frames[: scene['warmup']]:
    frame_pose(f)
t0 = time.perf_counter()
corners = sum(frame_pose(f) for f in frames)
ms = (time.perf_counter() - t0) * 1000 / len(frames)
print(json.dumps({'msPerFrame': ms, 'cornersPerFrame': corners / len(frames), 'opencv': cv2.__version__}))
`;
