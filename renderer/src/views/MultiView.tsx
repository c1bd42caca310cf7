import { useCallback, useEffect, useRef, useState } from 'react';
import type { FitScene, FitSummary, SessionDetail } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { FitScene3D } from '../components/FitScene3D';
import { BackLink, ErrorAlert } from '../components/PageChrome';
import { SyncedTile } from '../components/SyncedTile';
import { usePlayerKeys } from '../components/usePlayerKeys';
import { decodeFitFrame, LatestFitFrame, type FitBody } from '../fit-frame';
import { formatFps } from '../format';
import { SyncClock } from '../sync-clock';
import './multiview.css';

interface Props {
  sessionId: number;
  /** Frame to open on. */
  initialFrame?: number;
  onBack: () => void;
  /** Opens one camera in the session view at a frame. */
  onOpenCamera: (cameraId: number, frame: number) => void;
}

/**
 * All views: every camera of the session (video and 2D keypoints) and the 3D fit, locked to one
 * timeline. A single master clock owns the frame; play/pause, the slider and the step keys drive it,
 * and each view shows the frame it actually presents.
 */
export function MultiView({ sessionId, initialFrame = 0, onBack, onOpenCamera }: Props) {
  const api = getApi();
  const [session, setSession] = useState<SessionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [clock, setClock] = useState<SyncClock | null>(null);
  const [frame, setFrame] = useState(initialFrame);
  const [playing, setPlaying] = useState(false);
  const frameRef = useRef(initialFrame);

  useEffect(() => {
    let live = true;
    api.call('getSession', { sessionId }).then(
      (s) => live && setSession(s),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId]);

  const withVideo = session?.cameras.filter((c) => c.video) ?? [];
  // The master rate: the first video's exact rational, else the session's.
  const first = withVideo[0]?.video;
  const fps = first ? first.fpsNum / first.fpsDen : (session?.fps ?? 0);
  const frameCount = session?.frameCount ?? 0;
  useEffect(() => {
    if (!(fps > 0) || frameCount <= 0) return;
    const c = new SyncClock(
      fps,
      frameCount,
      (f) => {
        frameRef.current = f;
        setFrame(f);
      },
      setPlaying,
      frameRef.current,
    );
    frameRef.current = c.frame;
    setFrame(c.frame);
    setClock(c);
    return () => c.dispose();
  }, [fps, frameCount]);

  const seekTo = useCallback((f: number) => clock?.seek(f), [clock]);
  const togglePlay = useCallback(() => clock?.toggle(), [clock]);
  usePlayerKeys({ frameRef, frameCount, seekTo, togglePlay });
  const openCamera = useCallback(
    (cameraId: number) => {
      clock?.pause();
      onOpenCamera(cameraId, frameRef.current);
    },
    [clock, onOpenCamera],
  );

  return (
    <div className="page multiview-page">
      <header className="app-header">
        <BackLink onBack={onBack} />
        <a href={`#/session/${sessionId}`} className="back-link" data-testid="session-link">
          ← Session
        </a>
        <h1>All views{session ? ` · ${session.name}` : ''}</h1>
        {session && (
          <div className="library-info">
            <span>
              {withVideo.length} videos · {session.frameCount} frames · {formatFps(session.fps)} fps
            </span>
          </div>
        )}
      </header>
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {session && clock && (
        <>
          <div className="controls multiview-controls">
            <button className="btn btn-icon" onClick={() => clock.step(-1)} title="Previous frame (←)">
              ◂
            </button>
            <button
              className="btn btn-primary btn-play"
              data-testid="multiview-play"
              onClick={togglePlay}
              title="Play / pause every view (Space)"
            >
              {playing ? 'Pause' : 'Play'}
            </button>
            <button className="btn btn-icon" onClick={() => clock.step(1)} title="Next frame (→)">
              ▸
            </button>
            <input
              type="range"
              className="scrubber"
              data-testid="multiview-slider"
              min={0}
              max={Math.max(0, frameCount - 1)}
              value={frame}
              onChange={(e) => seekTo(Number(e.target.value))}
              aria-label="Frame"
            />
            <span className="frame-counter" data-testid="frame-counter" data-frame={frame}>
              Frame {frame} / {frameCount}
            </span>
          </div>
          <div className="multiview-grid" data-testid="multiview-grid">
            {withVideo.map((c) => (
              <SyncedTile
                key={c.id}
                sessionId={sessionId}
                camera={c}
                video={c.video!}
                clock={clock}
                onOpen={openCamera}
              />
            ))}
            <FitTile sessionId={sessionId} frame={frame} onError={setError} />
          </div>
          {withVideo.length === 0 && <p className="muted empty">This session has no video.</p>}
        </>
      )}
    </div>
  );
}

/** The newest fit's 3D scene following the master frame, with the frame the body shown is from. */
function FitTile({
  sessionId,
  frame,
  onError,
}: {
  sessionId: number;
  frame: number;
  onError: (message: string) => void;
}) {
  const api = getApi();
  const [fit, setFit] = useState<FitSummary | null | undefined>(undefined);
  const [scene, setScene] = useState<FitScene | null>(null);
  useEffect(() => {
    let live = true;
    const fail = (err: unknown) => live && onError(errorMessage(err));
    api.call('listFits', { sessionId }).then((list) => {
      if (!live) return;
      const newest = list[0] ?? null; // newest first
      setFit(newest);
      if (newest)
        api.call('fitScene', { sessionId, fitId: newest.id }).then((s) => live && setScene(s), fail);
    }, fail);
    return () => {
      live = false;
    };
  }, [api, sessionId, onError]);
  const fitted = !!fit && frame >= fit.firstFrame && frame < fit.firstFrame + fit.frameCount;
  const body = useLatestBody(fit?.id ?? null, fitted ? frame : null, onError);
  if (!fit) return null; // no fit (or not known yet): no 3D tile
  const shown = fitted && body ? body.frame : null;
  return (
    <figure className="view-tile view-tile-3d" data-testid="view-tile-3d">
      <div className="view-stage">
        {scene ? (
          <FitScene3D scene={scene} body={fitted ? body : null} footPoses={[]} selectedCameraId={null} />
        ) : (
          <p className="muted empty">Loading the scene…</p>
        )}
      </div>
      <figcaption className="view-caption">
        <span className="camera-name">3D · {fit.label}</span>
        <span className="frame-readout" data-testid="view-frame-3d" data-frame={shown ?? ''}>
          {shown !== null ? `Frame ${shown}` : `Frame ${frame} · not fitted`}
        </span>
      </figcaption>
    </figure>
  );
}

/** The fitted body at `frame` (null: none asked): one fitFrame in flight, the latest frame wins. */
function useLatestBody(
  fitId: number | null,
  frame: number | null,
  onError: (message: string) => void,
): FitBody | null {
  const api = getApi();
  const [body, setBody] = useState<FitBody | null>(null);
  const fetcher = useRef<LatestFitFrame | null>(null);
  useEffect(() => {
    let last: FitBody | null = null;
    const f = new LatestFitFrame(
      api,
      (ff) => {
        last = decodeFitFrame(ff, last);
        setBody(last);
      },
      (err) => onError(errorMessage(err)),
    );
    fetcher.current = f;
    return () => f.dispose();
  }, [api, onError]);
  useEffect(() => {
    if (fitId !== null && frame !== null) fetcher.current?.request({ fitId, frame });
  }, [fitId, frame]);
  return body?.fitId === fitId ? body : null;
}
