import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CameraInfo, FitScene, FitSummary, FootPoseBlock, SessionDetail } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { FitBodyPanel } from '../components/FitBodyPanel';
import { FitCorrectionPanel } from '../components/FitCorrectionPanel';
import { FitScene3D, type FootCameraPose } from '../components/FitScene3D';
import { FitVersionsPanel } from '../components/FitVersionsPanel';
import { KeypointDragLayer } from '../components/KeypointDragLayer';
import { BackLink, ErrorAlert } from '../components/PageChrome';
import { Player, type PlayerHandle } from '../components/Player';
import { QualityCurve } from '../components/QualityCurve';
import { useFitCorrections } from '../components/useFitCorrections';
import { useRedrawOnResize } from '../components/useRedrawOnResize';
import {
  decodeFitFrame,
  decodeUint32,
  flagNames,
  footPoseAt,
  LatestFitFrame,
  qualitySeries,
  stepFlagged,
  type FitBody,
  type QualitySeries,
} from '../fit-frame';
import { drawFitOverlay } from '../fit-overlay';
import { formatDate } from '../format';

interface Props {
  sessionId: number;
  onBack: () => void;
  onSession: () => void;
}

/** Number for display, or a dash when missing. */
function fmt(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/**
 * Review fit: a room camera's video with the fitted mesh reprojected over it, the 3D scene beside it
 * following the same frame, and the per-frame quality curve below (click to seek, step through flags).
 */
export function FitReviewView({ sessionId, onBack, onSession }: Props) {
  const api = getApi();
  const [session, setSession] = useState<SessionDetail | null>(null);
  const [fits, setFits] = useState<FitSummary[] | null>(null);
  const [fitsVersion, setFitsVersion] = useState(0);
  const [fitId, setFitId] = useState<number | null>(null);
  const [cameraId, setCameraId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [frame, setFrame] = useState(0);
  // The next player (another camera) opens on the frame the last one showed.
  const lastFrame = useRef(0);
  const [startFrame, setStartFrame] = useState(0);
  const player = useRef<PlayerHandle>(null);

  useEffect(() => {
    let live = true;
    api.call('getSession', { sessionId }).then(
      (s) => {
        if (!live) return;
        setSession(s);
        const room = s.cameras.filter((c) => c.role === 'room' && c.video);
        setCameraId((cur) => cur ?? room[0]?.id ?? null);
      },
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId]);

  useEffect(() => {
    let live = true;
    api.call('listFits', { sessionId }).then(
      (list) => {
        if (!live) return;
        setFits(list);
        setFitId(list[0]?.id ?? null); // newest first
      },
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, fitsVersion]);

  const fit = fits?.find((f) => f.id === fitId) ?? null;
  const camera = session?.cameras.find((c) => c.id === cameraId) ?? null;
  const { scene, quality, footBlocks } = useFitData(sessionId, fit, setError);
  const body = useFitBody(fit, cameraId, frame, setError);
  const corrections = useFitCorrections(sessionId, setError);
  const footPoses = useMemo<FootCameraPose[]>(
    () =>
      footBlocks.flatMap(({ cameraId: id, block }) => {
        const pose = footPoseAt(block, frame);
        return pose ? [{ cameraId: id, ...pose }] : [];
      }),
    [footBlocks, frame],
  );
  const seek = useCallback((f: number) => player.current?.seekTo(f), []);
  const onFrame = useCallback((f: number) => {
    lastFrame.current = f;
    setFrame(f);
  }, []);

  const rooms = session?.cameras.filter((c) => c.role === 'room' && c.video) ?? [];
  return (
    <div className="page fit-review-page">
      <header className="app-header">
        <BackLink onBack={onBack} />
        <a
          href={`#/session/${sessionId}`}
          className="back-link"
          data-testid="session-link"
          onClick={(e) => {
            e.preventDefault();
            onSession();
          }}
        >
          ← Session
        </a>
        <h1>Review fit{session ? ` · ${session.name}` : ''}</h1>
        {fits && fits.length > 0 && (
          <div className="fit-toolbar">
            <label>
              Fit{' '}
              <select
                className="input"
                data-testid="fit-select"
                value={fitId ?? ''}
                onChange={(e) => setFitId(Number(e.target.value))}
              >
                {fits.map((f) => (
                  <option key={f.id} value={f.id}>
                    #{f.id} · {f.label} · {formatDate(f.createdAt)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Camera{' '}
              <select
                className="input"
                data-testid="camera-select"
                value={cameraId ?? ''}
                onChange={(e) => {
                  setStartFrame(lastFrame.current);
                  setCameraId(Number(e.target.value));
                }}
              >
                {rooms.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
      </header>
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      {fit && <FitStats fit={fit} />}
      {fits && fits.length === 0 && session && (
        <div className="fit-empty" data-testid="no-fit">
          <p>This session has no fit yet.</p>
          <FitBodyPanel
            sessionId={sessionId}
            hasFootCameras={session.cameras.some((c) => c.role !== 'room')}
            onFitted={() => setFitsVersion((v) => v + 1)}
            onError={setError}
          />
        </div>
      )}
      {fit && session && (
        <div className="fit-review-layout with-corrections">
          <section className="fit-video">
            {camera?.video ? (
              <Player
                key={camera.id}
                ref={player}
                sessionId={sessionId}
                camera={camera}
                video={camera.video}
                initialFrame={startFrame}
                onFrame={onFrame}
                layers={
                  <>
                    <FitOverlayLayer camera={camera} scene={scene} body={body} fitted={inFit(fit, frame)} />
                    <KeypointDragLayer
                      sessionId={sessionId}
                      camera={camera}
                      frame={frame}
                      userKeypoints={corrections.userKeypoints}
                      onDrop={corrections.setKeypoint}
                      onError={setError}
                    />
                  </>
                }
              />
            ) : (
              <p className="muted empty">No room camera with a video.</p>
            )}
          </section>
          <section className="fit-3d-area">
            {scene ? (
              <FitScene3D scene={scene} body={body} footPoses={footPoses} selectedCameraId={cameraId} />
            ) : (
              <p className="muted empty">Loading the scene…</p>
            )}
          </section>
          <section className="fit-quality">
            {quality && (
              <>
                <FlagControls quality={quality} frame={frame} onSeek={seek} />
                <QualityCurve series={quality} frame={frame} onSeek={seek} bad={corrections.badRanges} />
              </>
            )}
          </section>
          <section className="fit-correct">
            <FitCorrectionPanel
              sessionId={sessionId}
              fit={fit}
              camera={camera}
              frame={frame}
              corrections={corrections}
              onSeek={seek}
              onRefitted={() => setFitsVersion((v) => v + 1)}
              onError={setError}
            />
            <FitVersionsPanel
              fits={fits ?? []}
              fitId={fitId}
              onShow={setFitId}
              frame={frame}
              corrections={corrections}
              onSeek={seek}
              onError={setError}
            />
          </section>
        </div>
      )}
    </div>
  );
}

function inFit(fit: FitSummary, frame: number): boolean {
  return frame >= fit.firstFrame && frame < fit.firstFrame + fit.frameCount;
}

function FitStats({ fit }: { fit: FitSummary }) {
  const s = fit.stats;
  return (
    <div className="fit-stats muted" data-testid="fit-stats">
      <span>{fit.label}</span>
      <span>{fit.bodyModel}</span>
      <span>
        frames {fit.firstFrame}–{fit.firstFrame + fit.frameCount - 1}
      </span>
      <span>median reprojection {fmt(s.medianReprojectionPx)} px</span>
      {s.medianKeptReprojectionPx !== undefined && (
        <span title="over the detections the triangulation kept (Pose2Sim's convention)">
          kept views {fmt(s.medianKeptReprojectionPx)} px
        </span>
      )}
      {s.keypointCalibration && (
        <span
          data-testid="fit-keypoint-calibration"
          title={s.keypointCalibration.adjust.map((a) => `${a.keypoint}: ${fmt(a.shiftMm)} mm`).join('\n')}
        >
          keypoints calibrated ({s.keypointCalibration.frames} frames)
        </span>
      )}
      <span>max penetration {fmt(s.maxPenetrationMm)} mm</span>
      <span>{s.flaggedFrames} flagged</span>
      <span>{fmt(s.framesPerSecond)} frames/s</span>
    </div>
  );
}

/** Previous / next flagged frame and the readout of the shown frame's quality. */
function FlagControls({
  quality,
  frame,
  onSeek,
}: {
  quality: QualitySeries;
  frame: number;
  onSeek: (frame: number) => void;
}) {
  const prev = stepFlagged(quality.flagged, frame, -1);
  const next = stepFlagged(quality.flagged, frame, 1);
  const row = frame - (quality.frames[0] ?? 0);
  const has = row >= 0 && row < quality.frames.length;
  const flags = has ? quality.flags[row] : 0;
  return (
    <div className="fit-flags">
      <button
        className="btn btn-small"
        data-testid="prev-flagged"
        disabled={prev === null}
        onClick={() => prev !== null && onSeek(prev)}
      >
        ◂ Previous flagged
      </button>
      <button
        className="btn btn-small"
        data-testid="next-flagged"
        disabled={next === null}
        onClick={() => next !== null && onSeek(next)}
      >
        Next flagged ▸
      </button>
      <span className="muted">{quality.flagged.length} flagged</span>
      <span className="frame-readout" data-testid="frame-readout" data-frame={frame} data-flags={flags}>
        Frame {frame}
        {has
          ? ` · reprojection ${fmt(quality.reprojPx[row])} px · penetration ${fmt(quality.penetrationMm[row])} mm` +
            (quality.footMm[row] !== null ? ` · foot camera ${fmt(quality.footMm[row])} mm` : '') +
            (flags ? ` · flagged: ${flagNames(flags).join(', ')}` : '')
          : ' · not fitted'}
      </span>
    </div>
  );
}

/** The projected mesh and skeleton over the video, redrawn on each fitted frame and on resize. */
function FitOverlayLayer({
  camera,
  scene,
  body,
  fitted,
}: {
  camera: CameraInfo;
  scene: FitScene | null;
  body: FitBody | null;
  fitted: boolean;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const faces = useMemo(() => (scene ? decodeUint32(scene.faces) : null), [scene]);
  const redraw = useCallback(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const p = fitted && body?.projected?.cameraId === camera.id ? body.projected : null;
    const triangles = drawFitOverlay({
      canvas,
      boxWidth: canvas.clientWidth,
      boxHeight: canvas.clientHeight,
      videoWidth: camera.video?.width ?? camera.calibration.width,
      videoHeight: camera.video?.height ?? camera.calibration.height,
      imageWidth: camera.calibration.width,
      imageHeight: camera.calibration.height,
      vertices: p && faces ? p.vertices : null,
      faces: faces ?? new Uint32Array(0),
      joints: p?.joints ?? null,
      parents: scene?.parents ?? [],
      jointNames: scene?.jointNames ?? [],
    });
    canvas.dataset.frame = p && body ? String(body.frame) : '';
    canvas.dataset.triangles = String(triangles);
  }, [body, camera, faces, fitted, scene]);
  useRedrawOnResize(ref, redraw);
  return <canvas ref={ref} className="stage-overlay" data-testid="fit-overlay" />;
}

/** The fit's scene (once per fit), its quality rows, and the localised foot cameras' poses. */
function useFitData(sessionId: number, fit: FitSummary | null, onError: (message: string) => void) {
  const api = getApi();
  const [scene, setScene] = useState<FitScene | null>(null);
  const [quality, setQuality] = useState<QualitySeries | null>(null);
  const [footBlocks, setFootBlocks] = useState<{ cameraId: number; block: FootPoseBlock }[]>([]);
  const fitId = fit?.id ?? null;
  const start = fit?.firstFrame ?? 0;
  const count = fit?.frameCount ?? 0;
  useEffect(() => {
    let live = true;
    setScene(null);
    setQuality(null);
    setFootBlocks([]);
    if (fitId === null) return;
    const fail = (err: unknown) => live && onError(errorMessage(err));
    api.call('fitScene', { sessionId, fitId }).then((s) => {
      if (!live) return;
      setScene(s);
      const feet = s.cameras.filter((c) => c.role !== 'room');
      Promise.all(
        feet.map((c) =>
          api
            .call('footPoses', { sessionId, cameraId: c.id, start, count })
            .then((block) => (block ? [{ cameraId: c.id, block }] : [])),
        ),
      ).then((blocks) => live && setFootBlocks(blocks.flat()), fail);
    }, fail);
    api.call('fitQuality', { fitId, start, count }).then((q) => live && setQuality(qualitySeries(q)), fail);
    return () => {
      live = false;
    };
  }, [api, sessionId, fitId, start, count, onError]);
  return { scene, quality, footBlocks };
}

/** The fitted body at the shown frame: one fitFrame in flight at a time, the latest frame wins. */
function useFitBody(
  fit: FitSummary | null,
  cameraId: number | null,
  frame: number,
  onError: (message: string) => void,
): FitBody | null {
  const api = getApi();
  const [body, setBody] = useState<FitBody | null>(null);
  const fetcher = useRef<LatestFitFrame | null>(null);
  const last = useRef<FitBody | null>(null);
  useEffect(() => {
    const f = new LatestFitFrame(
      api,
      (ff) => {
        last.current = decodeFitFrame(ff, last.current);
        setBody(last.current);
      },
      (err) => onError(errorMessage(err)),
    );
    fetcher.current = f;
    return () => f.dispose();
  }, [api, onError]);
  const fitId = fit?.id ?? null;
  const fitted = !!fit && inFit(fit, frame);
  useEffect(() => {
    if (fitId === null) return;
    if (fitted) fetcher.current?.request({ fitId, frame, ...(cameraId === null ? {} : { cameraId }) });
  }, [fitId, fitted, frame, cameraId]);
  // A body of another fit version (answered after the switch) is not shown.
  return fitted && body?.fitId === fitId ? body : null;
}
