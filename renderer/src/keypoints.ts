import type { KeypointBlock, StudioApi } from '../../preload/api';

export const BLOCK_FRAMES = 256;

/**
 * Per-camera cache of keypoint blocks. Fetching whole blocks keeps playback from issuing one request
 * per frame; promises are cached so concurrent draws of neighbouring frames share one request.
 * Frames here are video frames, as the keypoints call takes them; the track covers
 * [firstFrame, firstFrame + frameCount) and blocks are aligned to its first frame.
 */
export class KeypointCache {
  private blocks = new Map<number, Promise<KeypointBlock>>();
  /** Blocks already loaded, so playback can draw synchronously without waiting on a promise. */
  private loaded = new Map<number, KeypointBlock>();
  private readonly end: number;

  constructor(
    private readonly api: StudioApi,
    private readonly sessionId: number,
    private readonly cameraId: number,
    private readonly firstFrame: number,
    frameCount: number,
  ) {
    this.end = firstFrame + frameCount;
  }

  private blockStart(frame: number): number {
    return this.firstFrame + Math.floor((frame - this.firstFrame) / BLOCK_FRAMES) * BLOCK_FRAMES;
  }

  peek(frame: number): KeypointBlock | undefined {
    return this.loaded.get(this.blockStart(frame));
  }

  get(frame: number): Promise<KeypointBlock> {
    const start = this.blockStart(frame);
    let p = this.blocks.get(start);
    if (!p) {
      const count = Math.min(BLOCK_FRAMES, this.end - start);
      p = this.api.call('keypoints', { sessionId: this.sessionId, cameraId: this.cameraId, start, count });
      p.then(
        (b) => this.loaded.set(start, b),
        // Forget failures so the next draw tries again instead of caching the error forever.
        () => this.blocks.delete(start),
      );
      this.blocks.set(start, p);
    }
    // Prefetch the next block when we are in the last quarter of this one, so playback does not stall.
    const next = start + BLOCK_FRAMES;
    if (frame - start > (BLOCK_FRAMES * 3) / 4 && next < this.end && !this.blocks.has(next)) {
      void this.get(next).catch(() => undefined);
    }
    return p;
  }
}

/** Joint i of video frame `frame` in the block as [x, y, confidence], or null when missing or outside the block. */
export function jointAt(block: KeypointBlock, frame: number, joint: number): [number, number, number] | null {
  const f = frame - block.start;
  if (f < 0 || f >= block.count || joint >= block.joints) return null;
  const o = (f * block.joints + joint) * 3;
  const x = block.data[o];
  const y = block.data[o + 1];
  const c = block.data[o + 2];
  if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y)) return null;
  return [x, y, c ?? 0];
}
