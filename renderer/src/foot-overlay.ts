import type { FootPoseBlock } from '../../preload/api';
import { clearOverlay, videoContentRect } from './overlay';

/** Colours of the status strip and of the corner marks, by pose status code (0 none … 3 interpolated). */
export const STATUS_COLOURS = ['#5b5f66', '#3ccf7a', '#f2b33d', '#5aa0ff'];
export const STATUS_NAMES = ['none', 'ok', 'ambiguous', 'interpolated'];

const BOARD_COLOURS = ['#ff6b6b', '#ffd166', '#06d6a0', '#4cc9f0', '#b388ff', '#ff9f1c', '#f72585'];

/** Status code of `frame` (0 when the block does not cover it). */
export function poseStatus(block: FootPoseBlock, frame: number): number {
  const i = frame - block.start;
  if (i < 0 || i >= block.count) return 0;
  const n = block.fields.length;
  return block.data[i * n + block.fields.indexOf('status')] ?? 0;
}

/**
 * Draws the ChArUco corners detected in `frame` (a cross per corner, the board's name at their centre)
 * over the video; returns how many corners were drawn.
 */
export function drawFootCorners(
  canvas: HTMLCanvasElement,
  boxWidth: number,
  boxHeight: number,
  videoWidth: number,
  videoHeight: number,
  block: FootPoseBlock | null,
  frame: number,
): number {
  const cleared = clearOverlay(canvas, boxWidth, boxHeight);
  if (!cleared) return 0;
  const { ctx, dpr } = cleared;
  const c = block?.corners;
  const i = block ? frame - block.start : -1;
  if (!block || !c || i < 0 || i >= block.count) return 0;
  const rect = videoContentRect(boxWidth, boxHeight, videoWidth, videoHeight);
  const sx = rect.width / videoWidth;
  const sy = rect.height / videoHeight;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const centres = new Map<number, [number, number, number]>();
  let drawn = 0;
  ctx.lineWidth = 1.5;
  for (let k = 0; k < c.perFrame; k++) {
    const o = (i * c.perFrame + k) * 4;
    const board = c.data[o];
    const u = c.data[o + 2];
    const v = c.data[o + 3];
    if (board === null || u === null || v === null) continue;
    const x = rect.x + u * sx;
    const y = rect.y + v * sy;
    ctx.strokeStyle = BOARD_COLOURS[board % BOARD_COLOURS.length];
    ctx.beginPath();
    ctx.moveTo(x - 4, y);
    ctx.lineTo(x + 4, y);
    ctx.moveTo(x, y - 4);
    ctx.lineTo(x, y + 4);
    ctx.stroke();
    const m = centres.get(board) ?? [0, 0, 0];
    centres.set(board, [m[0] + x, m[1] + y, m[2] + 1]);
    drawn++;
  }
  ctx.font = '12px sans-serif';
  ctx.textAlign = 'center';
  for (const [board, [x, y, n]] of centres) {
    const label = c.boards[board] ?? `#${board}`;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.65)';
    const w = ctx.measureText(label).width + 8;
    ctx.fillRect(x / n - w / 2, y / n - 9, w, 18);
    ctx.fillStyle = BOARD_COLOURS[board % BOARD_COLOURS.length];
    ctx.fillText(label, x / n, y / n + 4);
  }
  return drawn;
}
