import type { KeypointBlock } from '../../preload/api';
import { jointAt } from './keypoints';

export const MIN_CONFIDENCE = 0.1;

export interface ContentRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where the picture actually is inside a <video> with object-fit: contain: the element box minus the
 * letterbox bars. Keypoints are in native video pixels, so this is the mapping we need.
 */
export function videoContentRect(
  boxWidth: number,
  boxHeight: number,
  videoWidth: number,
  videoHeight: number,
): ContentRect {
  if (videoWidth <= 0 || videoHeight <= 0) return { x: 0, y: 0, width: boxWidth, height: boxHeight };
  const scale = Math.min(boxWidth / videoWidth, boxHeight / videoHeight);
  const width = videoWidth * scale;
  const height = videoHeight * scale;
  return { x: (boxWidth - width) / 2, y: (boxHeight - height) / 2, width, height };
}

/**
 * Sizes the canvas's backing store to the displayed size times the pixel ratio (so marks stay crisp)
 * and clears it; null when there is no 2D context.
 */
export function clearOverlay(
  canvas: HTMLCanvasElement,
  boxWidth: number,
  boxHeight: number,
): { ctx: CanvasRenderingContext2D; dpr: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const bw = Math.max(1, Math.round(boxWidth * dpr));
  const bh = Math.max(1, Math.round(boxHeight * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, bw, bh);
  return { ctx, dpr };
}

export interface DrawInput {
  canvas: HTMLCanvasElement;
  /** Size of the element the canvas covers, in CSS pixels. */
  boxWidth: number;
  boxHeight: number;
  /** Native pixel size of the video, the space the keypoints are in. */
  videoWidth: number;
  videoHeight: number;
  block: KeypointBlock | null;
  /** Video frame to draw. */
  frame: number;
  bones: [number, number][];
  colors: string[];
}

/** Clears the canvas and draws one frame's skeleton; returns how many joint dots were drawn. */
export function drawKeypoints(input: DrawInput): number {
  const { canvas, boxWidth, boxHeight, videoWidth, videoHeight, block, frame, bones, colors } = input;
  const cleared = clearOverlay(canvas, boxWidth, boxHeight);
  if (!cleared || !block) return 0;
  const { ctx, dpr } = cleared;

  const rect = videoContentRect(boxWidth, boxHeight, videoWidth, videoHeight);
  const sx = rect.width / videoWidth;
  const sy = rect.height / videoHeight;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const toScreen = (j: number): [number, number] | null => {
    const p = jointAt(block, frame, j);
    if (!p || p[2] <= MIN_CONFIDENCE) return null;
    return [rect.x + p[0] * sx, rect.y + p[1] * sy];
  };

  ctx.lineWidth = 2;
  ctx.lineCap = 'round';
  ctx.strokeStyle = 'rgba(120, 255, 170, 0.85)';
  ctx.beginPath();
  for (const [a, b] of bones) {
    const pa = toScreen(a);
    const pb = toScreen(b);
    if (!pa || !pb) continue;
    ctx.moveTo(pa[0], pa[1]);
    ctx.lineTo(pb[0], pb[1]);
  }
  ctx.stroke();

  let drawn = 0;
  const radius = Math.max(2.5, Math.min(5, rect.width / 200));
  for (let j = 0; j < block.joints; j++) {
    const p = toScreen(j);
    if (!p) continue;
    ctx.fillStyle = colors[j] ?? '#e6e6e6';
    ctx.beginPath();
    ctx.arc(p[0], p[1], radius, 0, Math.PI * 2);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.7)';
    ctx.stroke();
    drawn++;
  }
  return drawn;
}
