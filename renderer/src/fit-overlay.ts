import { clearOverlay, videoContentRect } from './overlay';
import { jointColor } from './skeleton';

/**
 * The fitted body over a room camera's video: the mesh as the server projected it (with the camera's
 * distortion) and the model's skeleton. Only drawing here; every pixel position comes from FitFrame.
 * The camera's own 2D keypoints stay on the player's keypoint overlay, drawn above this layer.
 */

export interface FitOverlayInput {
  canvas: HTMLCanvasElement;
  /** Size of the element the canvas covers, in CSS pixels. */
  boxWidth: number;
  boxHeight: number;
  /** Native pixel size of the video: where the picture sits in the box. */
  videoWidth: number;
  videoHeight: number;
  /** Image size of the calibration, the space the projections are in (the video's, unless rescaled). */
  imageWidth: number;
  imageHeight: number;
  /** V x 2 projected vertices (pixels), NaN behind the camera; null clears the layer. */
  vertices: Float32Array | null;
  /** F x 3 triangle indices. */
  faces: Uint32Array;
  /** J x 2 projected joints (pixels). */
  joints: Float32Array | null;
  /** Kinematic tree: parent of each joint, -1 at the root. */
  parents: number[];
  jointNames: string[];
}

/** Screen positions of the projected vertices, kept between frames (the mesh size does not change). */
let screenXY = new Float32Array(0);

/**
 * Clears the canvas and draws the mesh and skeleton; returns how many triangles were drawn. Facing
 * triangles only: with outward counter-clockwise faces and the image's y axis down, a triangle faces
 * the camera when its signed pixel area (b - a) x (c - a) is negative. Their union is the silhouette,
 * filled once, and their edges give the wireframe without the far side showing through.
 */
export function drawFitOverlay(input: FitOverlayInput): number {
  const { canvas, boxWidth, boxHeight, videoWidth, videoHeight, vertices, faces, joints, parents } = input;
  const { imageWidth, imageHeight } = input;
  const cleared = clearOverlay(canvas, boxWidth, boxHeight);
  if (!cleared || !vertices) return 0;
  const { ctx, dpr } = cleared;
  const rect = videoContentRect(boxWidth, boxHeight, videoWidth, videoHeight);
  const sx = rect.width / (imageWidth || videoWidth);
  const sy = rect.height / (imageHeight || videoHeight);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

  if (screenXY.length !== vertices.length) screenXY = new Float32Array(vertices.length);
  for (let i = 0; i < vertices.length; i += 2) {
    screenXY[i] = rect.x + vertices[i] * sx;
    screenXY[i + 1] = rect.y + vertices[i + 1] * sy;
  }

  ctx.beginPath();
  let drawn = 0;
  for (let f = 0; f + 2 < faces.length; f += 3) {
    const a = 2 * faces[f];
    const b = 2 * faces[f + 1];
    const c = 2 * faces[f + 2];
    const ax = screenXY[a];
    const ay = screenXY[a + 1];
    const bx = screenXY[b];
    const by = screenXY[b + 1];
    const cx = screenXY[c];
    const cy = screenXY[c + 1];
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    // NaN (a vertex behind the camera) fails this test too.
    if (!(area < 0)) continue;
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.lineTo(cx, cy);
    // Back to a by hand: closePath costs far more per subpath in Chromium's canvas (seconds per frame).
    ctx.lineTo(ax, ay);
    drawn++;
  }
  // Light enough that the person shows through: the wireframe is dense where the body is small.
  ctx.fillStyle = 'rgba(255, 120, 200, 0.2)';
  ctx.fill('nonzero');
  ctx.lineWidth = 0.5;
  ctx.strokeStyle = 'rgba(255, 150, 215, 0.14)';
  ctx.stroke();

  if (joints) drawSkeleton(ctx, joints, parents, input.jointNames, rect.x, rect.y, sx, sy);
  return drawn;
}

function drawSkeleton(
  ctx: CanvasRenderingContext2D,
  joints: Float32Array,
  parents: number[],
  names: string[],
  ox: number,
  oy: number,
  sx: number,
  sy: number,
): void {
  const count = joints.length / 2;
  ctx.lineWidth = 2;
  ctx.lineCap = 'round';
  ctx.strokeStyle = 'rgba(255, 80, 190, 0.9)';
  ctx.beginPath();
  for (let j = 0; j < count; j++) {
    const p = parents[j];
    if (p === undefined || p < 0) continue;
    const x0 = joints[2 * p];
    const y0 = joints[2 * p + 1];
    const x1 = joints[2 * j];
    const y1 = joints[2 * j + 1];
    if (!Number.isFinite(x0 + y0 + x1 + y1)) continue;
    ctx.moveTo(ox + x0 * sx, oy + y0 * sy);
    ctx.lineTo(ox + x1 * sx, oy + y1 * sy);
  }
  ctx.stroke();
  for (let j = 0; j < count; j++) {
    const x = joints[2 * j];
    const y = joints[2 * j + 1];
    if (!Number.isFinite(x + y)) continue;
    // Squares, so the fitted joints read apart from the detector's round keypoints.
    ctx.fillStyle = jointColor(names[j] ?? '');
    ctx.fillRect(ox + x * sx - 2.5, oy + y * sy - 2.5, 5, 5);
  }
}
