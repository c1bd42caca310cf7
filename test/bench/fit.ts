import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNpz } from '../../main/body/npz';
import { makeSample } from '../../main/capture/sample/make-sample';
import { fitConfig } from '../../main/fitting/config';
import { fitSequence } from '../../main/fitting/fit-sequence';
import { OPEN_MODEL } from '../../main/fitting/fit-scene';
import { mpjpeMm, posedJoints } from '../../main/fitting/joint-error';
import { sampleFitInput } from '../../main/fitting/sample-input';

/**
 * Body fitting speed on one core: fitSequence over every frame of the sample with the default config
 * (both passes: visual, then with the foot cameras), from the room cameras' OpenPose keypoints and the
 * ground-truth foot-camera poses standing in for PnP (weight 1), with the subject's betas. One untimed fit
 * of the first WARMUP frames first (V8's compilation is a one-off; a session fits thousands of frames).
 * mpjpeMm is a sanity figure against ground_truth.npz (joints BODY_25 can see; fingers and thumbs
 * excluded). Uses the sample in $STUDIO_SAMPLE_DIR, else makes one in a temp folder (~35 s).
 */

const WARMUP = 60;

interface SampleSession {
  subject: { bodyModel?: string };
}

export async function benchFit(): Promise<Record<string, number | null>> {
  const temp = mkdtempSync(join(tmpdir(), 'studio-bench-fit-'));
  try {
    const nativeDir = resolve(__dirname, '..', '..', 'native');
    let dir = process.env.STUDIO_SAMPLE_DIR;
    if (!dir) {
      dir = join(temp, 'sample');
      await makeSample(dir, { nativeDir });
    }
    const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as SampleSession;
    const truth = readNpz(join(dir, 'ground_truth.npz'));
    const name = session.subject.bodyModel;
    const model = { file: join(nativeDir, name ? `models/${name}.npz` : OPEN_MODEL) };
    const input = sampleFitInput(dir, model.file);

    await fitSequence(sampleFitInput(dir, model.file, WARMUP));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await fitSequence(input, fitConfig());
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      framesPerSecond: input.frameCount / seconds,
      views: input.views.length,
      frames: input.frameCount,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      passes: result.mounts.length > 0 ? 2 : 1,
      mpjpeMm: mpjpeMm(
        posedJoints(input.model, result.betas, result.theta, result.transl),
        truth.joints.data as ArrayLike<number>,
        input.model.jointNames,
      ),
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
