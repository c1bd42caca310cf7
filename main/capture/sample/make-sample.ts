import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { type BoardSpec, boardImage } from '../../calibration/charuco-board';
import { type GrayImage, loadOpenCv } from '../../calibration/opencv';
import { spawnWorker } from '../../jobs/spawn';
import { compileKeypointMap } from '../../body/landmarks';
import { loadBodyModel } from '../../body/load-model';
import type { BodyModel } from '../../body/model';
import { CancelledError } from '../errors';
import { computeFrames } from './frames';
import { writeKeypointFiles } from './keypoints';
import { sampleMotion } from './motion';
import { type RenderTask, type SampleWorkerData, type SampleWorkerMessage } from './sample-worker';
import { DESK, DESK_PANEL, FOOT_INTRINSICS, ROOM, footMounts, roomCameras, sampleBoards } from './scene';
import { tableBoxes, type SceneBox } from './room-render';
import { writeGroundTruth, writeManifest } from './outputs';

/**
 * `studio sample make`: the embedded sample capture session, deterministic from a seed. Everything is
 * generated into `<dir>.partial` and renamed into place at the end, so an interrupted run never leaves
 * a folder that looks like a session.
 */

export interface SampleOptions {
  /** The app's native/ folder (body model and CMU clips). */
  nativeDir: string;
  seed?: number;
  /** 2D keypoint noise, pixels (default 2). */
  sigma?: number;
  fps?: number;
  /** Probability that a visible keypoint is dropped (default 0.03). */
  dropout?: number;
  /** false: skip the videos (keypoints and ground truth only; for tests of determinism). Default true. */
  videos?: boolean;
  /** Render threads (default 2). */
  threads?: number;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

export interface SampleSummary {
  dir: string;
  cameras: number;
  roomCameras: number;
  footCameras: number;
  frames: number;
  fps: number;
  boards: number;
  seed: number;
  sigma: number;
  keypointFiles: number;
  /** Share of room-camera keypoints hidden by the body or the desk. */
  occludedShare: number;
  /** Frames where most room cameras that see the person see neither ankle (the desk stretch). */
  legsHiddenFrames: number;
  seconds: number;
}

export const SAMPLE_MODEL = join('models', 'anny-cmu31.npz');
export const SAMPLE_LAYOUT = 'BODY_25';

export async function makeSample(dir: string, options: SampleOptions): Promise<SampleSummary> {
  const t0 = Date.now();
  const seed = options.seed ?? 1;
  const sigma = options.sigma ?? 2;
  const fps = options.fps ?? 30;
  const progress = options.onProgress ?? (() => undefined);
  const target = resolve(dir);
  // Never replace what is there: only a missing or empty folder becomes the sample.
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new Error(`${target}: folder is not empty (a sample is only made into a new or empty folder)`);
  const work = join(dirname(target), `.${basename(target)}.partial`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'videos'), { recursive: true });
  try {
    progress(0.01, 'body model and motion');
    const model = loadBodyModel(join(options.nativeDir, SAMPLE_MODEL));
    const seq = sampleMotion(model, join(options.nativeDir, 'sample', 'cmu'), fps);
    const kpMap = compileKeypointMap(model, SAMPLE_LAYOUT);
    const mounts = footMounts();
    const frames = computeFrames(model, seq, kpMap, mounts);
    const boards = sampleBoards();
    const images = await boardImages(boards);
    const rooms = roomCameras();
    checkAbort(options.signal);

    progress(0.05, 'rendering videos');
    const tasks: RenderTask[] = [
      ...rooms.map((c, i): RenderTask => ({
        kind: 'room',
        index: i,
        name: c.name,
        calibration: c.calibration,
        out: join(work, 'videos', `${c.name}.mp4`),
      })),
      ...(options.videos === false ? [] : mounts).map((m, i): RenderTask => ({
        kind: 'foot',
        index: rooms.length + i,
        name: m.name,
        intrinsics: { ...FOOT_INTRINSICS, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] },
        poses: frames.footPoses[i],
        out: join(work, 'videos', `${m.name}.mp4`),
        seed: seed * 1000 + 500 + i,
      })),
    ];
    const visibility = await renderAll(tasks, model, frames, images, seq.frames, fps, options, (f) =>
      progress(0.05 + 0.85 * f, 'rendering videos'),
    );

    progress(0.92, 'keypoints and ground truth');
    const kp = writeKeypointFiles(work, rooms, frames.keypoints, visibility, kpMap.names.length, seq.frames, {
      seed,
      sigma,
      dropout: options.dropout ?? 0.03,
    });
    writeGroundTruth(work, {
      model,
      modelFile: SAMPLE_MODEL,
      seq,
      frames,
      rooms,
      mounts,
      boards,
      layout: SAMPLE_LAYOUT,
      seed,
      sigma,
      visibility,
    });
    writeManifest(work, {
      rooms,
      mounts,
      boards,
      layout: SAMPLE_LAYOUT,
      fps,
      model,
      modelFile: SAMPLE_MODEL,
    });
    checkAbort(options.signal);
    rmSync(target, { recursive: true, force: true });
    renameSync(work, target);
    progress(1, 'done');
    return {
      dir: target,
      cameras: rooms.length + mounts.length,
      roomCameras: rooms.length,
      footCameras: mounts.length,
      frames: seq.frames,
      fps,
      boards: boards.length,
      seed,
      sigma,
      keypointFiles: kp.files,
      occludedShare: kp.occludedShare,
      legsHiddenFrames: kp.legsHiddenFrames,
      seconds: (Date.now() - t0) / 1000,
    };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Printed board images: ~6 px per marker cell is plenty for the cameras' footprints. */
async function boardImages(boards: BoardSpec[]): Promise<{ spec: BoardSpec; image: GrayImage }[]> {
  const cv = await loadOpenCv();
  return boards.map((spec) => ({ spec, image: boardImage(cv, spec, spec.squareLength >= 0.15 ? 96 : 64) }));
}

/** The desk as boxes: top and legs, plus modesty panels on the south, east and west sides. */
export function deskBoxes(): SceneBox[] {
  const [cx, cy] = DESK.centre;
  const [sx, sy] = DESK.size;
  const x0 = cx - sx / 2;
  const x1 = cx + sx / 2;
  const y0 = cy - sy / 2;
  const y1 = cy + sy / 2;
  const under = DESK.top - DESK.thickness;
  const rgb: [number, number, number] = [150, 105, 65];
  return [
    ...tableBoxes({
      centre: DESK.centre,
      size: DESK.size,
      height: DESK.top,
      topThickness: DESK.thickness,
      rgb,
    }),
    { min: [x0, y0, 0.05], max: [x1, y0 + DESK_PANEL, under], rgb },
    { min: [x0, y0, 0.05], max: [x0 + DESK_PANEL, y1, under], rgb },
    { min: [x1 - DESK_PANEL, y0, 0.05], max: [x1, y1, under], rgb },
  ];
}

async function renderAll(
  tasks: RenderTask[],
  model: BodyModel,
  frames: ReturnType<typeof computeFrames>,
  boards: { spec: BoardSpec; image: GrayImage }[],
  frameCount: number,
  fps: number,
  options: SampleOptions,
  onProgress: (fraction: number) => void,
): Promise<Uint8Array[]> {
  const threads = Math.max(1, options.threads ?? 2);
  // Longest first, alternating, so both threads finish together.
  const buckets: RenderTask[][] = Array.from({ length: threads }, () => []);
  [...tasks]
    .sort((a, b) => (a.kind === b.kind ? a.index - b.index : a.kind === 'foot' ? -1 : 1))
    .forEach((t, i) => buckets[i % threads].push(t));
  const base: Omit<SampleWorkerData, 'tasks'> = {
    frames: frameCount,
    fps,
    vertices: frames.vertices,
    numVertices: model.numVertices,
    faces: model.faces,
    keypoints: frames.keypointsShared,
    numKeypoints: frames.numKeypoints,
    room: ROOM,
    boxes: deskBoxes(),
    boards,
    floorBoard: 'floor',
    videos: options.videos !== false,
  };
  const done = new Array<number>(tasks.length).fill(0);
  const visibility: Uint8Array[] = [];
  const workers: Worker[] = [];
  const abort = () => workers.forEach((w) => void w.terminate());
  options.signal?.addEventListener('abort', abort);
  try {
    await Promise.all(
      buckets.map(
        (bucket) =>
          new Promise<void>((resolveRun, reject) => {
            if (bucket.length === 0) return resolveRun();
            const w = spawnWorker('sample-worker', __dirname, __dirname, { ...base, tasks: bucket });
            workers.push(w);
            let remaining = bucket.length;
            w.on('message', (m: SampleWorkerMessage) => {
              if (m.type === 'progress') {
                done[m.task] = m.frame;
                onProgress(done.reduce((s, x) => s + x, 0) / (frameCount * tasks.length));
              } else if (m.type === 'done') {
                done[m.task] = frameCount;
                if (m.visibility) visibility[m.task] = m.visibility;
                if (--remaining === 0) void w.terminate().then(() => resolveRun());
              } else reject(new Error(m.message));
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (remaining > 0)
                reject(
                  options.signal?.aborted
                    ? new CancelledError()
                    : new Error(`render worker exited with code ${code}`),
                );
            });
          }),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', abort);
    // A failed task stops the others too, before the caller removes the folder they write into.
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return visibility;
}
