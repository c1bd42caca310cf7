import { memo, useEffect, useRef, useState } from 'react';
import type { CameraInfo, VideoInfo } from '../../../preload/api';
import { frameOfTime, type SyncClock } from '../sync-clock';
import { useKeypointOverlay } from './useKeypointOverlay';
import { useMediaUrl } from './useMediaUrl';

interface Props {
  sessionId: number;
  camera: CameraInfo;
  video: VideoInfo;
  clock: SyncClock;
  /** A click on the tile: open this camera on its own. */
  onOpen: (cameraId: number) => void;
}

/**
 * One camera of the many-view grid: its video (metadata preloaded only) following the shared clock,
 * the 2D keypoints over it, and the frame the video really presents. The readout and the overlay are
 * written straight to the DOM: ten tiles re-rendering at 60 frames a second would be the bottleneck.
 */
export const SyncedTile = memo(function SyncedTile({ sessionId, camera, video: info, clock, onOpen }: Props) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const readoutRef = useRef<HTMLSpanElement>(null);
  const [error, setError] = useState<string | null>(null);
  const src = useMediaUrl(sessionId, camera.id, setError);
  const paint = useKeypointOverlay(sessionId, camera, setError);
  const fps = info.fpsNum / info.fpsDen;

  useEffect(() => {
    const v = videoRef.current;
    if (!v) return;
    return clock.attach(String(camera.id), v, fps, info.frameCount);
  }, [clock, camera.id, fps, info.frameCount]);

  // The presented frame: each composited frame while playing, and where a seek landed.
  useEffect(() => {
    const v = videoRef.current;
    const canvas = canvasRef.current;
    const readout = readoutRef.current;
    if (!v || !canvas || !readout) return;
    let shown = -1;
    const show = (t: number) => {
      const f = Math.min(info.frameCount - 1, Math.max(0, frameOfTime(t, fps)));
      if (f === shown) return;
      shown = f;
      readout.textContent = `Frame ${f}`;
      readout.dataset.frame = String(f);
      paint(canvas, v, f);
    };
    const onSeeked = () => show(v.currentTime);
    const onError = () =>
      setError(`Cannot play the video of ${camera.name} (${v.error?.message || 'decode error'})`);
    v.addEventListener('seeked', onSeeked);
    v.addEventListener('error', onError);
    let live = true;
    let handle = 0;
    const rvfc = typeof v.requestVideoFrameCallback === 'function';
    const onVideoFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (!live) return;
      if (!v.seeking) show(meta.mediaTime);
      handle = v.requestVideoFrameCallback(onVideoFrame);
    };
    // Engines without requestVideoFrameCallback: sample currentTime each animation frame while playing.
    const onAnimationFrame = () => {
      if (!live) return;
      if (!v.paused && !v.seeking) show(v.currentTime);
      handle = requestAnimationFrame(onAnimationFrame);
    };
    handle = rvfc ? v.requestVideoFrameCallback(onVideoFrame) : requestAnimationFrame(onAnimationFrame);
    // A resize clears the canvas: paint the shown frame again.
    const ro = new ResizeObserver(() => shown >= 0 && paint(canvas, v, shown));
    ro.observe(canvas);
    return () => {
      live = false;
      if (rvfc) v.cancelVideoFrameCallback(handle);
      else cancelAnimationFrame(handle);
      ro.disconnect();
      v.removeEventListener('seeked', onSeeked);
      v.removeEventListener('error', onError);
    };
  }, [camera.name, fps, info.frameCount, paint]);

  return (
    <figure className="view-tile" data-testid="view-tile" data-camera={camera.name}>
      <button
        className="view-stage"
        title={`Open ${camera.name} on its own at this frame`}
        onClick={() => onOpen(camera.id)}
      >
        <video
          ref={videoRef}
          data-testid="view-video"
          data-camera={camera.name}
          src={src ?? undefined}
          muted
          playsInline
          preload="metadata"
          className="stage-video"
        />
        <canvas ref={canvasRef} className="stage-overlay" data-testid="view-overlay" />
        {error && (
          <span className="alert stage-alert" role="alert" data-testid="error">
            {error}
          </span>
        )}
      </button>
      <figcaption className="view-caption">
        <span className="camera-name">{camera.name}</span>
        <span className="frame-readout" ref={readoutRef} data-testid={`view-frame-${camera.name}`} />
      </figcaption>
    </figure>
  );
});
