import type { KeypointBlock, StudioApi } from '../../preload/api';

export const BLOCK_FRAMES = 256;

/**
 * Per-camera cache of keypoint blocks. Fetching whole blocks keeps playback from issuing one request
 * per frame; promises are cached so concurrent draws of neighbouring frames share one request.
 * Indices here are keypoint-track frames (video frame minus the track's firstFrame).
 */
export class KeypointCache {
  private blocks = new Map<number, Promise<KeypointBlock>>();

  constructor(
    private readonly api: StudioApi,
    private readonly sessionId: number,
    private readonly cameraId: number,
    private readonly frameCount: number,
  ) {}

  /** The frame's block if it is already loaded, so playback can draw synchronously. */
  private loaded = new Map<number, KeypointBlock>();

  peek(index: number): KeypointBlock | undefined {
    return this.loaded.get(Math.floor(index / BLOCK_FRAMES) * BLOCK_FRAMES);
  }

  get(index: number): Promise<KeypointBlock> {
    const start = Math.floor(index / BLOCK_FRAMES) * BLOCK_FRAMES;
    let p = this.blocks.get(start);
    if (!p) {
      const count = Math.min(BLOCK_FRAMES, this.frameCount - start);
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
    if (index - start > (BLOCK_FRAMES * 3) / 4 && next < this.frameCount && !this.blocks.has(next)) {
      void this.get(next).catch(() => undefined);
    }
    return p;
  }
}

/** Joint i of frame `index` in the block as [x, y, confidence], or null when missing or outside the block. */
export function jointAt(block: KeypointBlock, index: number, joint: number): [number, number, number] | null {
  const f = index - block.start;
  if (f < 0 || f >= block.count || joint >= block.joints) return null;
  const o = (f * block.joints + joint) * 3;
  const x = block.data[o];
  const y = block.data[o + 1];
  const c = block.data[o + 2];
  if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y)) return null;
  return [x, y, c ?? 0];
}
