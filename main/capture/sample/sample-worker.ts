import { parentPort, workerData } from 'node:worker_threads';
import type { CameraCalibration } from '../../../preload/api';
import type { BoardSpec } from '../../calibration/charuco-board';
import type { GrayImage } from '../../calibration/opencv';
import { interpolatePose, type ShutterPoses } from './foot-blur';
import { prepareFootCamera } from './foot-camera';
import { prepareFootScene, type FootScene } from './foot-raycast';
import { renderFootFrame } from './foot-render';
import { Rng } from './rng';
import { RoomRenderer, type SceneBox, type StaticScene } from './room-render';
import { openVideoWriter, type VideoWriter } from './video-writer';

/**
 * Renders the sample's videos off the main thread: each task is one camera (room: body rasterised over
 * the prerendered room, plus z-buffer visibility of the keypoints; foot: ray-cast boards and room).
 * The body's vertices for every frame arrive once in shared memory.
 */

export type RenderTask =
  | { kind: 'room'; index: number; name: string; calibration: CameraCalibration; out: string }
  | {
      kind: 'foot';
      index: number;
      name: string;
      intrinsics: CameraCalibration;
      poses: Float64Array;
      out: string;
      seed: number;
    };

export interface SampleWorkerData {
  tasks: RenderTask[];
  frames: number;
  fps: number;
  /** frames x V x 3 float32 (SharedArrayBuffer) */
  vertices: SharedArrayBuffer;
  numVertices: number;
  faces: Uint32Array;
  /** frames x K x 3 float32 (SharedArrayBuffer): keypoints whose visibility room cameras report */
  keypoints: SharedArrayBuffer;
  numKeypoints: number;
  room: { min: number[]; max: number[] };
  boxes: SceneBox[];
  boards: { spec: BoardSpec; image: GrayImage }[];
  floorBoard: string;
  /** false: room cameras only rasterise for keypoint visibility, nothing is encoded */
  videos: boolean;
}

export type SampleWorkerMessage =
  | { type: 'progress'; task: number; frame: number }
  | { type: 'done'; task: number; visibility?: Uint8Array }
  | { type: 'error'; message: string };

const data = workerData as SampleWorkerData;
const SELF_DEPTH_M = 0.15;

/** The room as the room cameras see it: floor, walls, desk and the floor board (no ceiling boards). */
function roomScene(): StaticScene {
  const [x1, y1, z1] = data.room.max;
  const floor = data.boards.find((b) => b.spec.name === data.floorBoard);
  const quads: StaticScene['quads'] = [
    { origin: [0, 0, 0], edgeU: [x1, 0, 0], edgeV: [0, y1, 0], rgb: [120, 100, 80], cellSize: 0.25 },
    { origin: [0, 0, 0], edgeU: [0, 0, z1], edgeV: [x1, 0, 0], rgb: [200, 200, 190], cellSize: 0.25 },
    { origin: [0, y1, 0], edgeU: [x1, 0, 0], edgeV: [0, 0, z1], rgb: [195, 195, 200], cellSize: 0.25 },
    { origin: [0, 0, 0], edgeU: [0, y1, 0], edgeV: [0, 0, z1], rgb: [190, 200, 195], cellSize: 0.25 },
    { origin: [x1, 0, 0], edgeU: [0, 0, z1], edgeV: [0, y1, 0], rgb: [200, 195, 190], cellSize: 0.25 },
  ];
  if (floor) {
    const { spec, image } = floor;
    const R = spec.pose.R;
    const w = spec.squaresX * spec.squareLength;
    const h = spec.squaresY * spec.squareLength;
    const t = spec.pose.t;
    quads.push({
      origin: [t[0], t[1], t[2]],
      edgeU: [R[0] * w, R[3] * w, R[6] * w],
      edgeV: [R[1] * h, R[4] * h, R[7] * h],
      texture: { width: image.width, height: image.height, channels: 1, data: image.data },
      cellSize: 0.1,
    });
  }
  return { quads, boxes: data.boxes, clearRgb: [0, 0, 0] };
}

/**
 * Renders every frame, writing each into `writer` (when there is one) and reporting progress; on any
 * failure the partial video is removed.
 */
async function encodeFrames(
  index: number,
  writer: VideoWriter | null,
  render: (f: number) => Uint8Array,
): Promise<void> {
  try {
    for (let f = 0; f < data.frames; f++) {
      const frame = render(f);
      await writer?.write(frame);
      if (f % 10 === 0)
        parentPort!.postMessage({ type: 'progress', task: index, frame: f } satisfies SampleWorkerMessage);
    }
    await writer?.close();
  } catch (err) {
    await writer?.abort();
    throw err;
  }
}

async function renderRoom(task: Extract<RenderTask, { kind: 'room' }>): Promise<Uint8Array> {
  const r = new RoomRenderer(task.calibration, roomScene());
  const writer = data.videos
    ? openVideoWriter(task.out, { width: r.width, height: r.height, fps: data.fps, pixFmt: 'yuv420p' })
    : null;
  const V = data.numVertices;
  const K = data.numKeypoints;
  const verts = new Float32Array(data.vertices);
  const kps = new Float32Array(data.keypoints);
  const visibility = new Uint8Array(data.frames * K);
  await encodeFrames(task.index, writer, (f) => {
    const frame = r.renderFrame(verts.subarray(f * V * 3, (f + 1) * V * 3), data.faces);
    // Joints sit inside the body, up to ~12 cm behind the skin the camera sees: only a nearer occluder
    // (another limb, the desk) hides them.
    r.visibility(
      kps.subarray(f * K * 3, (f + 1) * K * 3),
      SELF_DEPTH_M,
      visibility.subarray(f * K, (f + 1) * K),
    );
    return frame;
  });
  return visibility;
}

async function renderFoot(task: Extract<RenderTask, { kind: 'foot' }>): Promise<void> {
  const scene: FootScene = { room: data.room, table: deskSlab(), boards: data.boards };
  const ps = prepareFootScene(scene);
  const cam = prepareFootCamera(task.intrinsics);
  const { width: w, height: h } = task.intrinsics;
  // Sensor noise is expensive to encode losslessly-ish; crf 28 keeps the markers crisp at a quarter the size.
  const writer = openVideoWriter(task.out, { width: w, height: h, fps: data.fps, pixFmt: 'gray', crf: 28 });
  const out = new Uint8Array(w * h);
  const rng = new Rng(task.seed);
  const pose = (f: number) => {
    const k = Math.min(data.frames - 1, Math.max(0, f)) * 12;
    return {
      R: Array.from(task.poses.subarray(k, k + 9)),
      t: Array.from(task.poses.subarray(k + 9, k + 12)),
    };
  };
  // The shutter is open for half a frame interval around each frame time.
  const shutter: ShutterPoses = { open: pose(0), close: pose(0) };
  await encodeFrames(task.index, writer, (f) => {
    const here = pose(f);
    interpolatePose(here, pose(f - 1), 0.25, shutter.open);
    interpolatePose(here, pose(f + 1), 0.25, shutter.close);
    renderFootFrame(ps, cam, shutter, rng, out);
    return out;
  });
}

/** The desk top as the foot cameras' ray caster models it (a slab; panels and legs are not cast). */
function deskSlab(): { min: number[]; max: number[] } | null {
  const top = data.boxes[0];
  return top ? { min: [...top.min], max: [...top.max] } : null;
}

async function main(): Promise<void> {
  for (const task of data.tasks) {
    const visibility = task.kind === 'room' ? await renderRoom(task) : (await renderFoot(task), undefined);
    parentPort!.postMessage({ type: 'done', task: task.index, visibility } satisfies SampleWorkerMessage);
  }
}

main().catch((err: Error) =>
  parentPort!.postMessage({ type: 'error', message: err.message } satisfies SampleWorkerMessage),
);
