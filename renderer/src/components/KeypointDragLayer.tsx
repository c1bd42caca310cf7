import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CameraInfo, UserKeypoint } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { grabHandle, imageToScreen, screenToImage, type DragHandle } from '../keypoint-drag';
import { KeypointCache, jointAt } from '../keypoints';
import { clearOverlay, MIN_CONFIDENCE, videoContentRect } from '../overlay';
import './fit-correction.css';
import { useRedrawOnResize } from './useRedrawOnResize';

interface Props {
  sessionId: number;
  camera: CameraInfo;
  /** Session (video) frame shown. */
  frame: number;
  /** The session's user keypoints (any camera and frame; this layer shows the camera's at `frame`). */
  userKeypoints: UserKeypoint[];
  /** A joint dropped at image pixel (u, v). */
  onDrop: (k: { cameraId: number; frame: number; joint: number; u: number; v: number }) => void;
  onError: (message: string) => void;
}

/** CSS pixels within which a press grabs a joint. */
const GRAB_RADIUS = 12;

/**
 * Drag a joint in the camera view: a press near one of the detector's keypoints (or a user keypoint)
 * of the shown frame grabs it, the drop point becomes a user keypoint of that joint (setUserKeypoint,
 * confidence 1). User keypoints of the frame are drawn as yellow diamonds, the grabbed joint as a line
 * from where it was to the pointer.
 */
export function KeypointDragLayer({ sessionId, camera, frame, userKeypoints, onDrop, onError }: Props) {
  const api = getApi();
  const ref = useRef<HTMLCanvasElement>(null);
  const kp = camera.keypoints;
  const W = camera.video?.width ?? camera.calibration.width;
  const H = camera.video?.height ?? camera.calibration.height;
  const cache = useMemo(
    () => (kp ? new KeypointCache(api, sessionId, camera.id, kp.firstFrame, kp.frameCount) : null),
    [api, sessionId, camera.id, kp],
  );
  const [detected, setDetected] = useState<DragHandle[]>([]);
  const [drag, setDrag] = useState<{ handle: DragHandle; x: number; y: number } | null>(null);

  useEffect(() => {
    let live = true;
    setDetected([]);
    if (!cache || !kp || frame < kp.firstFrame || frame >= kp.firstFrame + kp.frameCount) return;
    cache.get(frame).then(
      (block) => {
        if (!live) return;
        const out: DragHandle[] = [];
        for (let j = 0; j < block.joints; j++) {
          const p = jointAt(block, frame, j);
          if (p && p[2] > MIN_CONFIDENCE) out.push({ joint: j, u: p[0], v: p[1], user: false });
        }
        setDetected(out);
      },
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [cache, kp, frame, onError]);

  const mine = useMemo(
    () => userKeypoints.filter((k) => k.cameraId === camera.id && k.frame === frame),
    [userKeypoints, camera.id, frame],
  );
  const handles = useMemo<DragHandle[]>(
    () => [...mine.map((k) => ({ joint: k.joint, u: k.u, v: k.v, user: true })), ...detected],
    [mine, detected],
  );

  const redraw = useCallback(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const bw = canvas.clientWidth;
    const bh = canvas.clientHeight;
    canvas.dataset.frame = String(frame);
    canvas.dataset.handles = String(detected.length);
    canvas.dataset.userPoints = String(mine.length);
    const cleared = clearOverlay(canvas, bw, bh);
    if (!cleared) return;
    const { ctx, dpr } = cleared;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const rect = videoContentRect(bw, bh, W, H);
    for (const k of mine) {
      const [x, y] = imageToScreen(rect, W, H, k.u, k.v);
      diamond(ctx, x, y, 7, '#ffd23f');
    }
    if (drag) {
      const [x0, y0] = imageToScreen(rect, W, H, drag.handle.u, drag.handle.v);
      ctx.strokeStyle = 'rgba(255, 210, 63, 0.9)';
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(drag.x, drag.y);
      ctx.stroke();
      ctx.setLineDash([]);
      diamond(ctx, drag.x, drag.y, 7, 'rgba(255, 210, 63, 0.6)');
    }
  }, [W, H, detected.length, mine, drag, frame]);

  useRedrawOnResize(ref, redraw);

  const local = (e: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const b = e.currentTarget.getBoundingClientRect();
    return [e.clientX - b.left, e.clientY - b.top];
  };
  const rectOf = (c: HTMLCanvasElement) => videoContentRect(c.clientWidth, c.clientHeight, W, H);

  return (
    <canvas
      ref={ref}
      className="stage-overlay keypoint-drag-layer"
      data-testid="keypoint-drag-layer"
      data-dragging={drag ? drag.handle.joint : ''}
      style={{ cursor: drag ? 'grabbing' : undefined }}
      onPointerDown={(e) => {
        const [x, y] = local(e);
        const handle = grabHandle(handles, rectOf(e.currentTarget), W, H, x, y, GRAB_RADIUS);
        if (!handle) return;
        e.currentTarget.setPointerCapture(e.pointerId);
        setDrag({ handle, x, y });
      }}
      onPointerMove={(e) => {
        const [x, y] = local(e);
        if (drag) setDrag({ ...drag, x, y });
        else {
          const near = grabHandle(handles, rectOf(e.currentTarget), W, H, x, y, GRAB_RADIUS);
          e.currentTarget.style.cursor = near ? 'grab' : '';
        }
      }}
      onPointerUp={(e) => {
        if (!drag) return;
        const [x, y] = local(e);
        setDrag(null);
        const [u, v] = screenToImage(rectOf(e.currentTarget), W, H, x, y);
        onDrop({ cameraId: camera.id, frame, joint: drag.handle.joint, u, v });
      }}
      onPointerCancel={() => setDrag(null)}
    />
  );
}

/** A filled diamond with a dark rim: the user keypoint's marker, unlike the detector's dots. */
function diamond(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, fill: string): void {
  ctx.beginPath();
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.stroke();
}
