import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { VideoInfo } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { familyColor, familyLabel, frameSpan } from './MotifTimeline';
import { NameFamilyForm } from './NameFamilyForm';
import type { PlayerHandle } from './Player';

/**
 * A motif family across the library: the panel listing every occurrence (session, frames, duration)
 * with Play / Play all, and the clip playback that plays one occurrence from its start and stops (or
 * loops) at its end.
 */

/** What a session link asks for: open at `frame`; with `end`, play [frame, end); with a family, list it. */
export interface SessionFocus {
  frame: number;
  end?: number;
  modelId?: number;
  family?: number;
  /** Play the family's occurrences one after another, starting with this one. */
  all?: boolean;
}

export interface Occurrence {
  sessionId: number;
  sessionName: string;
  start: number;
  end: number;
}

export interface FamilyRef {
  modelId: number;
  family: number;
}

/** Every occurrence of a family (null while loading) and each session's fps for the durations. */
export function useFamilyOccurrences(family: FamilyRef | null, onError: (message: string) => void) {
  const api = getApi();
  const [occurrences, setOccurrences] = useState<Occurrence[] | null>(null);
  const [fps, setFps] = useState<Map<number, number>>(new Map());
  const modelId = family?.modelId ?? null;
  const id = family?.family ?? null;
  useEffect(() => {
    let live = true;
    setOccurrences(null);
    if (modelId === null || id === null) return;
    Promise.all([api.call('motifFamily', { modelId, family: id }), api.call('listSessions', {})]).then(
      ([r, sessions]) => {
        if (!live) return;
        setFps(new Map(sessions.map((s) => [s.id, s.fps])));
        setOccurrences(r.occurrences);
      },
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, modelId, id, onError]);
  return { occurrences, fps };
}

/** The occurrence after `o` in the list (wrapping when `wrap`), or null at the end. */
export function nextOccurrence(list: Occurrence[], o: Occurrence, wrap: boolean): Occurrence | null {
  const i = list.findIndex((x) => x.sessionId === o.sessionId && x.start === o.start && x.end === o.end);
  if (i + 1 < list.length) return list[i + 1];
  return wrap && list.length > 0 ? list[0] : null;
}

interface PanelProps {
  family: FamilyRef;
  occurrences: Occurrence[] | null;
  fps: Map<number, number>;
  /** The occurrence being played (or last played) in this view. */
  current: Occurrence | null;
  playing: boolean;
  loop: boolean;
  onLoop: (loop: boolean) => void;
  onPlay: (o: Occurrence, all: boolean) => void;
  onClose: () => void;
}

export function FamilyOccurrences({
  family,
  occurrences,
  fps,
  current,
  playing,
  loop,
  onLoop,
  onPlay,
  onClose,
}: PanelProps) {
  const name = familyLabel(family.family);
  const isCurrent = (o: Occurrence) =>
    !!current && current.sessionId === o.sessionId && current.start === o.start && current.end === o.end;
  return (
    <aside
      className="family-panel"
      data-testid="family-panel"
      data-family={family.family}
      aria-label={`Occurrences of motif family ${name}`}
    >
      <div className="family-panel-head">
        <i className="family-swatch" style={{ background: familyColor(family.family) }} aria-hidden="true" />
        <h2>Family {name}</h2>
        <button className="btn-link" onClick={onClose} aria-label={`Close family ${name}`}>
          ×
        </button>
      </div>
      <p className="muted family-panel-sub">
        model #{family.modelId} ·{' '}
        {occurrences === null
          ? 'loading…'
          : `${occurrences.length} occurrence${occurrences.length === 1 ? '' : 's'} in ${
              new Set(occurrences.map((o) => o.sessionId)).size
            } session(s)`}
      </p>
      <div className="family-panel-actions">
        <button
          className="btn btn-small"
          data-testid="play-all"
          disabled={!occurrences?.length}
          onClick={() => occurrences?.length && onPlay(occurrences[0], true)}
        >
          ▶ Play all
        </button>
        <label className="check">
          <input
            type="checkbox"
            checked={loop}
            onChange={(e) => onLoop(e.target.checked)}
            data-testid="loop"
          />
          Loop
        </label>
      </div>
      <NameFamilyForm
        key={`${family.modelId}:${family.family}`}
        modelId={family.modelId}
        family={family.family}
      />
      <ol className="occurrences">
        {occurrences?.map((o) => {
          const here = isCurrent(o);
          const rate = fps.get(o.sessionId);
          const frames = o.end - o.start;
          return (
            <li
              key={`${o.sessionId}:${o.start}`}
              className={`occurrence${here ? ' current' : ''}`}
              data-testid="occurrence-item"
              data-session={o.sessionId}
              data-start={o.start}
              data-end={o.end}
              aria-current={here ? 'true' : undefined}
            >
              <div className="occurrence-text">
                <span className="occurrence-session" title={o.sessionName}>
                  {o.sessionName}
                </span>
                <span className="muted">
                  {frameSpan(o)} · {frames} frame{frames === 1 ? '' : 's'}
                  {rate ? ` · ${(frames / rate).toFixed(2)} s` : ''}
                </span>
              </div>
              <button
                className={`btn btn-small${here && playing ? ' btn-primary' : ''}`}
                data-testid="occurrence-play"
                aria-label={`Play ${name} in ${o.sessionName}, ${frameSpan(o)}`}
                onClick={() => onPlay(o, false)}
              >
                {here && playing ? 'Playing' : 'Play'}
              </button>
            </li>
          );
        })}
      </ol>
    </aside>
  );
}

interface ClipRun {
  clip: Occurrence | null;
  /** Playing the clip now (a user's pause, seek or camera switch ends it). */
  active: boolean;
  /** A frame inside the clip was shown since the last (re)start: only then does reaching its end count. */
  entered: boolean;
  /**
   * From our seek-then-play until playback really starts: the seek's pause is not the user's, and
   * frames reported meanwhile may predate the seek.
   */
  starting: boolean;
  video: HTMLVideoElement | null;
}

interface ClipOptions {
  player: RefObject<PlayerHandle | null>;
  /** The box that holds the player, where its video element is found. */
  stage: RefObject<HTMLElement | null>;
  video: VideoInfo | null;
  loop: boolean;
  /** Told when a clip played to its end and stopped (not when looping or interrupted). */
  onEnded: (clip: Occurrence) => void;
}

/** How long a start waits for the video to load (a fresh session view is still fetching it). */
const START_WAIT_MS = 30_000;

/**
 * Plays [start, end) of the session's video (its frames are session frames): seeks to the start, plays,
 * and at the clip's last frame stops there, or jumps back to the start when looping. The player must
 * report every shown frame to `onFrame`. Its handle only seeks, so playback is started on its video
 * element, whose events the player already follows.
 */
export function useClipPlayback({ player, stage, video, loop, onEnded }: ClipOptions) {
  const [clip, setClip] = useState<Occurrence | null>(null);
  const [playing, setPlaying] = useState(false);
  const run = useRef<ClipRun>({ clip: null, active: false, entered: false, starting: false, video: null });
  const opts = useRef({ loop, onEnded, video });
  useEffect(() => {
    opts.current = { loop, onEnded, video };
  }, [loop, onEnded, video]);
  const wait = useRef(0);

  const halt = useCallback(() => {
    run.current.active = false;
    setPlaying(false);
  }, []);
  const onPause = useCallback(
    (e: Event) => {
      const r = run.current;
      // Our own seek's pause, or the video's natural end (onFrame handles the last frame), are not the user's.
      if (r.active && !r.starting && !(e.target as HTMLVideoElement).ended) halt();
    },
    [halt],
  );
  useEffect(() => {
    const r = run.current;
    return () => {
      cancelAnimationFrame(wait.current);
      r.active = false;
      r.video?.removeEventListener('pause', onPause);
    };
  }, [onPause]);

  const play = useCallback(
    (c: Occurrence) => {
      const r = run.current;
      cancelAnimationFrame(wait.current);
      Object.assign(r, { clip: c, active: true, entered: false, starting: true });
      setClip(c);
      setPlaying(true);
      const since = performance.now();
      const tryStart = () => {
        if (!r.active || r.clip !== c) return;
        const v = stage.current?.querySelector('video') ?? null;
        if (!v || !player.current || v.readyState < HTMLMediaElement.HAVE_METADATA) {
          if (performance.now() - since < START_WAIT_MS) wait.current = requestAnimationFrame(tryStart);
          else halt(); // the video never loaded; the player says why
          return;
        }
        if (r.video !== v) {
          r.video?.removeEventListener('pause', onPause);
          r.video = v;
          v.addEventListener('pause', onPause);
        }
        player.current.seekTo(c.start);
        v.play().then(
          () => {
            if (r.clip === c) r.starting = false;
          },
          () => {
            // Aborted by a later pause or seek: that was the user.
            if (r.clip !== c) return;
            r.starting = false;
            halt();
          },
        );
      };
      tryStart();
    },
    [player, stage, halt, onPause],
  );

  /** Every frame the player shows. */
  const onFrame = useCallback(
    (f: number) => {
      const r = run.current;
      const c = r.clip;
      if (!r.active || r.starting || !c || !r.video) return;
      if (stage.current?.querySelector('video') !== r.video) return halt(); // another camera now
      if (f >= c.start && f < c.end) r.entered = true;
      if (!r.entered || f < c.end - 1) return;
      const v = r.video;
      const info = opts.current.video;
      if (opts.current.loop && info) {
        // Back to the start without pausing, at mid-frame time as the player seeks.
        r.entered = false;
        v.currentTime = ((c.start + 0.5) * info.fpsDen) / info.fpsNum;
        if (v.paused) void v.play().catch(() => undefined);
        return;
      }
      halt();
      player.current?.seekTo(c.end - 1);
      opts.current.onEnded(c);
    },
    [player, stage, halt],
  );

  const clear = useCallback(() => {
    cancelAnimationFrame(wait.current);
    Object.assign(run.current, { clip: null, active: false, starting: false });
    setClip(null);
    setPlaying(false);
  }, []);

  return { clip, playing, play, onFrame, clear };
}
