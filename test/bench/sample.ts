import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeSample } from '../../main/capture/sample/make-sample';

/** The embedded sample from scratch (target: under 60 s on the 2-core machine). */
export async function benchSample(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'studio-bench-sample-'));
  try {
    const s = await makeSample(join(dir, 'sample'), {
      nativeDir: resolve(__dirname, '..', '..', 'native'),
      seed: 1,
    });
    return {
      seconds: s.seconds,
      frames: s.frames,
      cameras: s.cameras,
      boards: s.boards,
      keypointFiles: s.keypointFiles,
      occludedShare: s.occludedShare,
      legsHiddenFrames: s.legsHiddenFrames,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
