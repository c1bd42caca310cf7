import { useCallback, useEffect, useRef, useState } from 'react';
import type { CameraInfo, FootPoseBlock, MotifProposals, SessionDetail } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { Player, type PlayerHandle } from '../components/Player';
import { MotifTimeline, type MotifTimelineHandle } from '../components/MotifTimeline';
import {
  FamilyOccurrences,
  nextOccurrence,
  useClipPlayback,
  useFamilyOccurrences,
  type FamilyRef,
  type Occurrence,
  type SessionFocus,
} from '../components/FamilyOccurrences';
import { formatDate, formatFps } from '../format';
import { BackLink } from '../components/PageChrome';
import { BoardsList } from '../components/BoardsList';
import { FitBodyPanel } from '../components/FitBodyPanel';
import { ExtractMotifsPanel } from '../components/ExtractMotifsPanel';
import { AnnotationTimeline, type AnnotationTimelineHandle } from '../components/AnnotationTimeline';

interface Props {
  sessionId: number;
  /** From the link that opened the view (a new object per navigation): a frame, a clip to play, a family. */
  focus?: SessionFocus;
  onBack: () => void;
  onReviewFit: () => void;
  /** The camera to open on (a multi-view tile's), else the first with a video. */
  initialCameraId?: number;
  /** Every camera and the 3D fit on one timeline, opened at the shown frame. */
  onAllViews: (frame: number) => void;
  /** Opens a session (this one or another) at a focus: how an occurrence is played. */
  onFocus: (sessionId: number, focus: SessionFocus) => void;
}

function CameraItem({
  sessionId,
  camera,
  selected,
  onSelect,
}: {
  sessionId: number;
  camera: CameraInfo;
  selected: boolean;
  onSelect: () => void;
}) {
  const api = getApi();
  // undefined = loading, null = the camera has no video to take a thumbnail from.
  const [thumb, setThumb] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    api.call('thumbnail', { sessionId, cameraId: camera.id }).then(
      (r) => live && setThumb(r.dataUrl),
      () => live && setThumb(null),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, camera.id]);

  const v = camera.video;
  return (
    <li>
      <button
        className={`camera-item${selected ? ' selected' : ''}`}
        data-testid="camera-item"
        data-camera={camera.name}
        aria-pressed={selected}
        onClick={onSelect}
      >
        <div className="camera-thumb-box">
          {thumb ? (
            <img data-testid="camera-thumb" src={thumb} alt={`First frame of ${camera.name}`} />
          ) : (
            <span className="muted">{thumb === null ? 'no video' : '…'}</span>
          )}
        </div>
        <div className="camera-meta">
          <span className="camera-name">{camera.name}</span>
          <span className="muted">
            {v ? `${v.width}×${v.height} · ${v.codec}` : 'no video'}
            {camera.role !== 'room' ? ` · ${camera.role}` : ''}
          </span>
          <span className="muted">
            {camera.keypoints ? `${camera.keypoints.frameCount} kp frames` : 'no keypoints'}
          </span>
        </div>
      </button>
    </li>
  );
}

export function SessionView({
  sessionId,
  focus,
  onBack,
  onReviewFit,
  initialCameraId,
  onAllViews,
  onFocus,
}: Props) {
  const api = getApi();
  const [session, setSession] = useState<SessionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cameraId, setCameraId] = useState<number | null>(null);
  // Switching cameras keeps the frame: the player reports each frame here, and the next player starts
  // where the last one was (a ref, since playback reports 60 times a second and nothing re-renders on it).
  const lastFrame = useRef(focus?.frame ?? 0);
  const [startFrame, setStartFrame] = useState(focus?.frame ?? 0);

  useEffect(() => {
    let live = true;
    api.call('getSession', { sessionId }).then(
      (s) => {
        if (!live) return;
        setSession(s);
        // Start on the first camera that has a video to show.
        const asked = s.cameras.find((c) => c.id === initialCameraId && c.video);
        setCameraId((cur) => cur ?? (asked ?? s.cameras.find((c) => c.video) ?? s.cameras[0])?.id ?? null);
      },
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
    // The camera asked for applies to the first load only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, sessionId]);

  const camera = session?.cameras.find((c) => c.id === cameraId) ?? null;
  const { footPoses, localize, localizing } = useFootPoses(sessionId, camera, setError);
  const { fitCount, fitted } = useFitCount(sessionId);
  const canLocalize =
    !!session?.boards?.length && !!session.cameras.some((c) => c.role !== 'room' && c.video);
  const motifs = useMotifReview({ sessionId, session, camera, focus, onFocus, onError: setError });
  const onFrame = motifs.onFrame;
  const annotations = useRef<AnnotationTimelineHandle>(null);
  const playerFrame = useCallback(
    (f: number) => {
      lastFrame.current = f;
      onFrame(f);
      annotations.current?.setFrame(f);
    },
    [onFrame],
  );

  return (
    <div className="page session-page">
      <header className="app-header">
        <BackLink onBack={onBack} />
        <h1>{session ? session.name : 'Session'}</h1>
        <button
          className="btn btn-small"
          data-testid="all-views"
          onClick={() => onAllViews(lastFrame.current)}
        >
          All views
        </button>
        {session && (
          <div className="library-info">
            <span>{session.format}</span>
            <span>
              {session.cameraCount} cameras · {session.frameCount} frames · {formatFps(session.fps)} fps
            </span>
            <span className="muted" title={session.sourcePath}>
              {formatDate(session.createdAt)}
            </span>
          </div>
        )}
      </header>
      {error && (
        <div className="alert" role="alert" data-testid="error">
          {error}
        </div>
      )}
      {session && (
        <div className="session-layout">
          <aside className="camera-list">
            <h2>Cameras</h2>
            <ul>
              {session.cameras.map((c) => (
                <CameraItem
                  key={c.id}
                  sessionId={sessionId}
                  camera={c}
                  selected={c.id === cameraId}
                  onSelect={() => {
                    setStartFrame(lastFrame.current);
                    setCameraId(c.id);
                  }}
                />
              ))}
            </ul>
            <BoardsList sessionId={sessionId} boards={session.boards ?? []} onError={setError} />
            {canLocalize && (
              <button
                className="btn"
                data-testid="localize-button"
                disabled={localizing !== null}
                onClick={localize}
                title="Find each foot camera's pose in every frame from the boards (PnP)"
              >
                {localizing ?? 'Localize foot cameras'}
              </button>
            )}
            <FitBodyPanel
              sessionId={sessionId}
              hasFootCameras={session.cameras.some((c) => c.role !== 'room')}
              onFitted={fitted}
              onError={setError}
            />
            <button
              className="btn review-fit-button"
              data-testid="review-fit"
              onClick={onReviewFit}
              title="The fitted body over the videos, in 3D, and its per-frame quality"
            >
              Review fit{fitCount ? ` (${fitCount} version${fitCount === 1 ? '' : 's'})` : ''}
            </button>
          </aside>
          <section className="player-area" ref={motifs.stage}>
            {camera?.video ? (
              <Player
                key={camera.id}
                ref={motifs.player}
                sessionId={sessionId}
                camera={camera}
                video={camera.video}
                initialFrame={startFrame}
                onFrame={playerFrame}
                footPoses={camera.role === 'room' ? null : footPoses}
              />
            ) : (
              <p className="muted empty">{camera ? `${camera.name} has no video.` : 'No camera selected.'}</p>
            )}
            {motifs.proposals && (
              <MotifTimeline
                ref={motifs.timeline}
                proposals={motifs.proposals}
                frameCount={session.frameCount}
                initialFrame={startFrame}
                onSeek={motifs.seek}
                selectedFamily={
                  motifs.family?.modelId === motifs.proposals.modelId ? motifs.family.family : null
                }
                onFamily={motifs.openFamily}
              />
            )}
            <ExtractMotifsPanel
              sessionId={sessionId}
              hasFit={fitCount !== 0}
              extractedAt={motifs.proposals?.createdAt ?? null}
              onExtracted={motifs.reload}
            />
            <AnnotationTimeline
              ref={annotations}
              sessionId={sessionId}
              initialFrame={startFrame}
              onSeek={motifs.seek}
            />
          </section>
          {motifs.panel}
        </div>
      )}
    </div>
  );
}

/**
 * The session's A4Mer proposals under the player, the family panel beside it, and occurrence playback:
 * a Play goes through `onFocus` (a link), and a focus with an end plays that clip here.
 */
function useMotifReview({
  sessionId,
  session,
  camera,
  focus,
  onFocus,
  onError,
}: {
  sessionId: number;
  session: SessionDetail | null;
  camera: CameraInfo | null;
  focus: SessionFocus | undefined;
  onFocus: (sessionId: number, focus: SessionFocus) => void;
  onError: (message: string) => void;
}) {
  const api = getApi();
  const player = useRef<PlayerHandle>(null);
  const stage = useRef<HTMLElement>(null);
  const timeline = useRef<MotifTimelineHandle>(null);
  const [proposals, setProposals] = useState<MotifProposals | null>(null);
  // Bumped by an extraction that succeeded here: the tracks re-read the newest proposals.
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const [family, setFamily] = useState<FamilyRef | null>(
    focus?.modelId !== undefined && focus.family !== undefined
      ? { modelId: focus.modelId, family: focus.family }
      : null,
  );
  const [loop, setLoop] = useState(false);
  // Play all: each clip's end opens the next occurrence (wrapping when looping).
  const [all, setAll] = useState(false);
  const { occurrences, fps } = useFamilyOccurrences(family, onError);

  useEffect(() => {
    let live = true;
    api.call('motifProposals', { sessionId }).then(
      (p) => live && setProposals(p),
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, onError, version]);

  const onEnded = useCallback(
    (c: Occurrence) => {
      if (!all || !family || !occurrences) return;
      const next = nextOccurrence(occurrences, c, loop);
      if (next) onFocus(next.sessionId, { frame: next.start, end: next.end, ...family, all: true });
    },
    [all, family, occurrences, loop, onFocus],
  );
  const clip = useClipPlayback({
    player,
    stage,
    video: camera?.video ?? null,
    loop: loop && !all,
    onEnded,
  });

  // A link's focus: open its family, play its clip or show its frame. Each navigation is a new object.
  const { play, onFrame: clipFrame } = clip;
  const sessionName = session?.name ?? '';
  useEffect(() => {
    if (!focus) return;
    if (focus.modelId !== undefined && focus.family !== undefined)
      setFamily({ modelId: focus.modelId, family: focus.family });
    setAll(!!focus.all);
    if (focus.end !== undefined) play({ sessionId, sessionName, start: focus.frame, end: focus.end });
    else player.current?.seekTo(focus.frame);
    // sessionName only labels the clip: a name arriving later must not replay it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus, play, sessionId]);

  const onFrame = useCallback(
    (f: number) => {
      timeline.current?.setFrame(f);
      clipFrame(f);
    },
    [clipFrame],
  );
  const seek = useCallback((f: number) => player.current?.seekTo(f), []);
  const modelId = proposals?.modelId ?? null;
  const openFamily = useCallback(
    (f: number | null) => setFamily(f === null || modelId === null ? null : { modelId, family: f }),
    [modelId],
  );

  const panel = family && (
    <FamilyOccurrences
      family={family}
      occurrences={occurrences}
      fps={fps}
      current={clip.clip}
      playing={clip.playing}
      loop={loop}
      onLoop={setLoop}
      onPlay={(o, playAll) => onFocus(o.sessionId, { frame: o.start, end: o.end, ...family, all: playAll })}
      onClose={() => {
        setFamily(null);
        setAll(false);
      }}
    />
  );
  return { proposals, reload, family, openFamily, seek, onFrame, player, stage, timeline, panel };
}

/** How many fit versions the session has (null until known), re-read when a fit started here succeeds. */
function useFitCount(sessionId: number) {
  const api = getApi();
  const [fitCount, setFitCount] = useState<number | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    api.call('listFits', { sessionId }).then(
      (fits) => live && setFitCount(fits.length),
      // The count is a hint on the button; the review view reports a failing list itself.
      () => live && setFitCount(null),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, version]);
  const fitted = useCallback(() => setVersion((v) => v + 1), []);
  return { fitCount, fitted };
}

/**
 * The selected foot camera's stored poses (null for room cameras or before localisation), and the
 * localisation job: started here, followed by its progress events, poses reloaded when it succeeds.
 */
function useFootPoses(sessionId: number, camera: CameraInfo | null, onError: (message: string) => void) {
  const api = getApi();
  const [footPoses, setFootPoses] = useState<FootPoseBlock | null>(null);
  const [localizing, setLocalizing] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const jobId = useRef<number | null>(null);
  const cameraId = camera?.id ?? null;
  const frames = camera?.video?.frameCount ?? 0;
  const isFoot = !!camera && camera.role !== 'room' && frames > 0;
  useEffect(() => {
    let live = true;
    setFootPoses(null);
    if (!isFoot || cameraId === null) return;
    api.call('footPoses', { sessionId, cameraId, start: 0, count: frames }).then(
      (b) => live && setFootPoses(b),
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, cameraId, frames, isFoot, version, onError]);
  useEffect(
    () =>
      api.on('jobProgress', (job) => {
        if (job.id !== jobId.current) return;
        if (job.state === 'running' || job.state === 'queued')
          setLocalizing(`Localizing… ${Math.round(job.progress * 100)}%`);
        else {
          jobId.current = null;
          setLocalizing(null);
          if (job.state === 'succeeded') setVersion((v) => v + 1);
          else onError(job.error ?? `localisation ${job.state}`);
        }
      }),
    [api, onError],
  );
  const localize = () => {
    setLocalizing('Localizing…');
    api.call('localizeSession', { sessionId }).then(
      (job) => {
        jobId.current = job.id;
      },
      (err: unknown) => {
        setLocalizing(null);
        onError(errorMessage(err));
      },
    );
  };
  return { footPoses, localize, localizing };
}
