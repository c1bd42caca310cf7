import { useCallback, useMemo, useRef } from 'react';
import type { CameraInfo, KeypointBlock } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { KeypointCache } from '../keypoints';
import { drawKeypoints } from '../overlay';
import { bonesFor, jointColor } from '../skeleton';

/**
 * A camera's 2D keypoints drawn over its video (block cache, skeleton colours, letterbox mapping), for
 * the Player and the All-views tiles: returns `paint(canvas, video, frame)`; the latest frame asked wins.
 */
export function useKeypointOverlay(
  sessionId: number,
  camera: CameraInfo,
  onError: (message: string) => void,
): (canvas: HTMLCanvasElement, video: HTMLVideoElement, frame: number) => void {
  const api = getApi();
  const kp = camera.keypoints;
  const cache = useMemo(
    () => (kp ? new KeypointCache(api, sessionId, camera.id, kp.firstFrame, kp.frameCount) : null),
    [api, sessionId, camera.id, kp],
  );
  const bones = useMemo(() => (kp ? bonesFor(kp.jointNames) : []), [kp]);
  const colors = useMemo(() => (kp ? kp.jointNames.map(jointColor) : []), [kp]);
  const seq = useRef(0);
  const width = camera.video?.width ?? camera.calibration.width;
  const height = camera.video?.height ?? camera.calibration.height;

  return useCallback(
    (canvas: HTMLCanvasElement, video: HTMLVideoElement, frame: number) => {
      const mine = ++seq.current;
      const paint = (block: KeypointBlock | null) => {
        if (mine !== seq.current) return; // a newer frame was asked for meanwhile; it paints instead
        const points = drawKeypoints({
          canvas,
          boxWidth: canvas.clientWidth,
          boxHeight: canvas.clientHeight,
          videoWidth: video.videoWidth || width,
          videoHeight: video.videoHeight || height,
          block,
          frame,
          bones,
          colors,
        });
        canvas.dataset.drawnFrame = String(frame);
        canvas.dataset.points = String(points);
      };
      if (!cache || !kp || frame < kp.firstFrame || frame >= kp.firstFrame + kp.frameCount)
        return paint(null);
      const ready = cache.peek(frame);
      if (ready) return paint(ready); // synchronous during playback once the block is loaded
      cache.get(frame).then(paint, (err: unknown) => onError(errorMessage(err)));
    },
    [cache, kp, bones, colors, width, height, onError],
  );
}
