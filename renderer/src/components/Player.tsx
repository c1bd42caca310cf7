import {
  useCallback,
  useEffect,
  useImperativeHandle,
  useRef,
  useState,
  type ReactNode,
  type Ref,
} from 'react';
import type { CameraInfo, FootPoseBlock, VideoInfo } from '../../../preload/api';
import { drawFootCorners } from '../foot-overlay';
import { PoseStatusStrip } from './PoseStatusStrip';
import { errorMessage } from '../api-client';
import { useKeypointOverlay } from './useKeypointOverlay';
import { useMediaUrl } from './useMediaUrl';
import { usePlayerKeys } from './usePlayerKeys';

interface Props {
  sessionId: number;
  camera: CameraInfo;
  video: VideoInfo;
  /** Frame to open on (clamped to the video). */
  initialFrame?: number;
  /** Told of every frame change, so the session view can carry the frame across camera switches. */
  onFrame?: (frame: number) => void;
  /** A localised foot camera's poses and detected corners: drawn over the video, status strip below. */
  footPoses?: FootPoseBlock | null;
  /** Extra canvases over the video and under the keypoints (the fit review's projected mesh). */
  layers?: ReactNode;
  /** Lets a parent seek (a click on a curve, a jump to a flagged frame). */
  ref?: Ref<PlayerHandle>;
}

export interface PlayerHandle {
  /** Pauses and shows frame `frame` (clamped to the video). */
  seekTo: (frame: number) => void;
}

/** One camera's video with its 2D keypoints drawn on top, frame-exact stepping and playback. */
export function Player({
  sessionId,
  camera,
  video: info,
  initialFrame = 0,
  onFrame,
  footPoses = null,
  layers,
  ref,
}: Props) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const startAt = Math.min(Math.max(0, info.frameCount - 1), Math.max(0, initialFrame));
  const [frame, setFrame] = useState(startAt);
  const [playing, setPlaying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const src = useMediaUrl(sessionId, camera.id, setError);
  // The frame lives in a ref too: video callbacks and key repeats must see the latest value at once,
  // not the one from the last render.
  const frameRef = useRef(startAt);
  // Latest onFrame without making every callback below depend on the parent's render.
  const onFrameRef = useRef(onFrame);
  useEffect(() => {
    onFrameRef.current = onFrame;
  }, [onFrame]);
  const { fpsNum, fpsDen, frameCount } = info;
  const kp = camera.keypoints;

  // The camera's 2D keypoints over the video (one drawing path with the All-views tiles).
  const paintKeypoints = useKeypointOverlay(sessionId, camera, setError);

  const clampFrame = useCallback((f: number) => Math.min(frameCount - 1, Math.max(0, f)), [frameCount]);
  // Mid-frame time, so the decoder lands on exactly frame f whatever its rounding.
  const timeOf = useCallback((f: number) => ((f + 0.5) * fpsDen) / fpsNum, [fpsNum, fpsDen]);
  const frameOf = useCallback(
    (t: number) => clampFrame(Math.floor((t * fpsNum) / fpsDen + 1e-3)),
    [clampFrame, fpsNum, fpsDen],
  );

  const redraw = useCallback(() => {
    const canvas = canvasRef.current;
    const videoEl = videoRef.current;
    if (!canvas || !videoEl) return;
    const f = frameRef.current;
    canvas.dataset.frame = String(f);
    if (!kp && footPoses) {
      const n = drawFootCorners(
        canvas,
        canvas.clientWidth,
        canvas.clientHeight,
        videoEl.videoWidth || info.width,
        videoEl.videoHeight || info.height,
        footPoses,
        f,
      );
      canvas.dataset.drawnFrame = String(f);
      canvas.dataset.points = String(n);
      return;
    }
    paintKeypoints(canvas, videoEl, f);
  }, [kp, paintKeypoints, info.width, info.height, footPoses]);

  const showFrame = useCallback(
    (f: number) => {
      frameRef.current = f;
      setFrame(f);
      redraw();
      onFrameRef.current?.(f);
    },
    [redraw],
  );

  const seekTo = useCallback(
    (f: number) => {
      const v = videoRef.current;
      const target = clampFrame(f);
      if (v && !v.paused) v.pause();
      showFrame(target);
      if (v) v.currentTime = timeOf(target);
    },
    [clampFrame, showFrame, timeOf],
  );

  const togglePlay = useCallback(() => {
    const v = videoRef.current;
    if (!v) return;
    if (v.paused) {
      if (frameRef.current >= frameCount - 1) v.currentTime = timeOf(0);
      v.play().catch((err: unknown) => {
        // A pause or seek right after play() aborts it; that is the user's doing, not an error.
        if (!(err instanceof DOMException && err.name === 'AbortError')) setError(errorMessage(err));
      });
    } else {
      v.pause();
      // Snap to the middle of the frame we report, so picture and overlay agree exactly.
      seekTo(frameOf(v.currentTime));
    }
  }, [frameCount, frameOf, seekTo, timeOf]);

  // Native video events keep our state in step with what the element really does.
  useEffect(() => {
    const v = videoRef.current;
    if (!v) return;
    const onMeta = () => {
      v.currentTime = timeOf(frameRef.current);
      redraw();
    };
    const onSeeked = () => {
      if (v.paused) showFrame(frameOf(v.currentTime));
      else redraw();
    };
    const onPlay = () => setPlaying(true);
    const onPause = () => {
      setPlaying(false);
      showFrame(frameOf(v.currentTime));
    };
    const onEnded = () => {
      setPlaying(false);
      showFrame(frameCount - 1);
    };
    const onError = () =>
      setError(`Cannot play the video of ${camera.name} (${v.error?.message || 'decode error'})`);
    v.addEventListener('loadedmetadata', onMeta);
    v.addEventListener('seeked', onSeeked);
    v.addEventListener('play', onPlay);
    v.addEventListener('pause', onPause);
    v.addEventListener('ended', onEnded);
    v.addEventListener('error', onError);
    return () => {
      v.removeEventListener('loadedmetadata', onMeta);
      v.removeEventListener('seeked', onSeeked);
      v.removeEventListener('play', onPlay);
      v.removeEventListener('pause', onPause);
      v.removeEventListener('ended', onEnded);
      v.removeEventListener('error', onError);
    };
  }, [camera.name, frameCount, frameOf, redraw, showFrame, timeOf]);

  // While playing, follow the frames the compositor actually presents.
  useEffect(() => {
    const v = videoRef.current;
    if (!playing || !v) return;
    let live = true;
    if (typeof v.requestVideoFrameCallback === 'function') {
      let handle = 0;
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        if (!live) return;
        if (!v.paused) showFrame(frameOf(meta.mediaTime));
        handle = v.requestVideoFrameCallback(onFrame);
      };
      handle = v.requestVideoFrameCallback(onFrame);
      return () => {
        live = false;
        v.cancelVideoFrameCallback(handle);
      };
    }
    // Fallback for engines without requestVideoFrameCallback: sample currentTime each animation frame.
    let raf = 0;
    const tick = () => {
      if (!live) return;
      const f = frameOf(v.currentTime);
      if (f !== frameRef.current) showFrame(f);
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => {
      live = false;
      cancelAnimationFrame(raf);
    };
  }, [playing, frameOf, showFrame]);

  usePlayerKeys({ frameRef, frameCount, seekTo, togglePlay });
  useImperativeHandle(ref, () => ({ seekTo }), [seekTo]);

  // The overlay's backing store follows the displayed size; redraw whenever the layout changes it.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ro = new ResizeObserver(() => redraw());
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [redraw]);

  return (
    <div className="player">
      <div className="stage">
        <video
          ref={videoRef}
          data-testid="video"
          src={src ?? undefined}
          muted
          playsInline
          preload="auto"
          className="stage-video"
        />
        {layers}
        <canvas ref={canvasRef} className="stage-overlay" data-testid="overlay" />
        {error && (
          <div className="alert stage-alert" role="alert" data-testid="error">
            {error}
          </div>
        )}
      </div>
      <div className="controls">
        <button
          className="btn btn-icon"
          onClick={() => seekTo(frameRef.current - 1)}
          title="Previous frame (←)"
        >
          ◂
        </button>
        <button
          className="btn btn-primary btn-play"
          data-testid="play"
          onClick={togglePlay}
          title="Play / pause (Space)"
        >
          {playing ? 'Pause' : 'Play'}
        </button>
        <button className="btn btn-icon" onClick={() => seekTo(frameRef.current + 1)} title="Next frame (→)">
          ▸
        </button>
        <input
          type="range"
          className="scrubber"
          min={0}
          max={Math.max(0, frameCount - 1)}
          value={frame}
          onChange={(e) => seekTo(Number(e.target.value))}
          aria-label="Frame"
        />
        <span className="frame-counter" data-testid="frame-counter">
          Frame {frame} / {frameCount}
        </span>
        <span className="muted fps">
          {(fpsNum / fpsDen).toFixed(fpsDen === 1 ? 0 : 3)} fps
          {kp ? ` · ${kp.layout}` : ' · no keypoints'}
        </span>
      </div>
      {footPoses && (
        <PoseStatusStrip block={footPoses} frameCount={frameCount} frame={frame} onSeek={seekTo} />
      )}
    </div>
  );
}
