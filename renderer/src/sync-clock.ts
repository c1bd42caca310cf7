/**
 * One timeline for many videos: a master clock (requestAnimationFrame over the wall clock at the
 * session's frame rate) owns the frame; every attached video follows it. Pausing, seeking and stepping
 * put every video on the same frame; while playing, a video that drifts by more than half a frame from
 * the master time is seeked back onto it.
 */

/** A video following the clock, with its own frame rate and length. */
interface Follower {
  video: HTMLVideoElement;
  fps: number;
  frameCount: number;
  /** How long this video's last correcting seek took, s: the next one aims that far ahead. */
  lead: number;
  seekStartedAt: number;
  detach: () => void;
}

/** Longest lead a correcting seek aims ahead by, s (a stalled decoder must not send it far off). */
const MAX_LEAD_S = 0.25;

/** Mid-frame time of frame f, so a decoder lands on exactly frame f whatever its rounding. */
export function timeOfFrame(f: number, fps: number): number {
  return (f + 0.5) / fps;
}

/** Frame shown at media time t (the epsilon absorbs a timestamp a hair under the frame's start). */
export function frameOfTime(t: number, fps: number): number {
  return Math.floor(t * fps + 1e-3);
}

export class SyncClock {
  private frameNow = 0;
  private isPlaying = false;
  private followers = new Map<string, Follower>();
  private raf = 0;
  /** Bumped by each play/pause, so a play() whose videos start late does not start a stale loop. */
  private generation = 0;
  /** Master time at `t0` (performance.now() ms) of the running loop. */
  private baseTime = 0;
  private t0 = 0;

  constructor(
    private readonly fps: number,
    private readonly frameCount: number,
    private readonly onFrame: (frame: number) => void,
    private readonly onPlaying: (playing: boolean) => void,
    initialFrame = 0,
  ) {
    if (!(fps > 0)) throw new Error(`sync clock: frame rate ${fps} is not positive`);
    this.frameNow = this.clamp(initialFrame);
  }

  get frame(): number {
    return this.frameNow;
  }

  get playing(): boolean {
    return this.isPlaying;
  }

  /** Makes `video` follow the clock (placed on the current frame once it knows its duration). */
  attach(key: string, video: HTMLVideoElement, fps: number, frameCount: number): () => void {
    this.followers.get(key)?.detach();
    const place = () => {
      if (!this.isPlaying) video.currentTime = timeOfFrame(Math.min(this.frameNow, frameCount - 1), fps);
    };
    const onSeeked = () => {
      const f = this.followers.get(key);
      if (f && f.seekStartedAt > 0) {
        f.lead = Math.min(MAX_LEAD_S, (performance.now() - f.seekStartedAt) / 1000);
        f.seekStartedAt = 0;
      }
    };
    video.addEventListener('loadedmetadata', place);
    video.addEventListener('seeked', onSeeked);
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) place();
    const detach = () => {
      video.removeEventListener('loadedmetadata', place);
      video.removeEventListener('seeked', onSeeked);
      if (this.followers.get(key)?.video === video) this.followers.delete(key);
    };
    this.followers.set(key, { video, fps, frameCount, lead: 0, seekStartedAt: 0, detach });
    if (this.isPlaying) void video.play().catch(() => undefined);
    return detach;
  }

  /** Pauses and puts every video on frame f (clamped). */
  seek(f: number): void {
    this.stopLoop();
    this.setFrame(this.clamp(f));
    for (const { video, fps, frameCount } of this.followers.values()) {
      if (!video.paused) video.pause();
      if (video.readyState >= HTMLMediaElement.HAVE_METADATA)
        video.currentTime = timeOfFrame(Math.min(this.frameNow, frameCount - 1), fps);
    }
  }

  step(delta: number): void {
    this.seek(this.frameNow + delta);
  }

  play(): void {
    if (this.isPlaying) return;
    if (this.frameNow >= this.frameCount - 1) this.seek(0);
    this.isPlaying = true;
    this.onPlaying(true);
    const generation = ++this.generation;
    const starts = [...this.followers.values()].map((f) => f.video.play().catch(() => undefined));
    // The clock starts when the videos do: a slow first decode is no drift to correct.
    void Promise.all(starts).then(() => {
      if (generation !== this.generation) return;
      this.baseTime = timeOfFrame(this.frameNow, this.fps);
      this.t0 = performance.now();
      this.raf = requestAnimationFrame(this.tick);
    });
  }

  /** Pauses every video on the master's frame. */
  pause(): void {
    if (this.isPlaying) this.seek(this.frameNow);
  }

  toggle(): void {
    if (this.isPlaying) this.pause();
    else this.play();
  }

  dispose(): void {
    this.stopLoop();
    for (const f of [...this.followers.values()]) {
      f.video.pause();
      f.detach();
    }
  }

  private tick = (now: number): void => {
    if (!this.isPlaying) return;
    const t = this.baseTime + (now - this.t0) / 1000;
    const f = frameOfTime(t, this.fps);
    if (f >= this.frameCount - 1) {
      this.seek(this.frameCount - 1);
      return;
    }
    if (f !== this.frameNow) this.setFrame(f);
    for (const fol of this.followers.values()) {
      const v = fol.video;
      // A video that ended (shorter than the session), is still seeking or never started is left alone.
      if (v.paused || v.seeking || f >= fol.frameCount - 1) continue;
      if (Math.abs(v.currentTime - t) > 0.5 / fol.fps) {
        fol.seekStartedAt = performance.now();
        v.currentTime = t + fol.lead;
      }
    }
    this.raf = requestAnimationFrame(this.tick);
  };

  private stopLoop(): void {
    this.generation++;
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    if (this.isPlaying) {
      this.isPlaying = false;
      this.onPlaying(false);
    }
  }

  private setFrame(f: number): void {
    this.frameNow = f;
    this.onFrame(f);
  }

  private clamp(f: number): number {
    return Math.min(Math.max(0, this.frameCount - 1), Math.max(0, Math.round(f)));
  }
}
