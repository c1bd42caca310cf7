/**
 * Seeds a data dir for the export spec, before its server starts: the real Pose2Sim capture imported
 * through the job runner (as `studio import` does), with a stored fit of frames [5, 29) (synthetic
 * poses from the export unit tests' syntheticFit, saved through the real store, since a real fit takes
 * too long for an e2e setup) and two action segments; and a studio session.json with one camera and no
 * video, imported the same way and never fitted.
 *
 * Usage: npx tsx test/e2e/seed-export.ts <data-dir> <sample-dir> <scratch-dir>   (prints one JSON line)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitLabel } from '../../main/fitting/config';
import { loadFitModel, OPEN_MODEL } from '../../main/fitting/fit-scene';
import { createAnnotation, ensureDefaultTiers } from '../../main/store/annotations';
import { saveFit } from '../../main/store/fits';
import { getSession } from '../../main/store/sessions';
import { NATIVE, syntheticFit } from '../unit/export-fixtures';
import { openTestContext, runImport } from '../unit/import-helpers';

export interface ExportSeed {
  fitted: { id: number; name: string; fitId: number; firstFrame: number; frameCount: number };
  unfitted: { id: number; name: string };
}

export const FIT_FIRST_FRAME = 5;
export const FIT_FRAMES = 24;

/** A studio session folder: one calibrated camera, no video, no boards. */
function unfittedSession(scratch: string): string {
  const dir = join(scratch, 'unfitted-session');
  mkdirSync(dir, { recursive: true });
  const calibration = {
    width: 640,
    height: 480,
    K: [500, 0, 320, 0, 500, 240, 0, 0, 1],
    dist: [],
    R: [1, 0, 0, 0, 0, -1, 0, 1, 0],
    t: [0, 1, 3],
  };
  writeFileSync(
    join(dir, 'session.json'),
    JSON.stringify({ version: 1, name: 'unfitted', cameras: [{ name: 'cam', calibration }] }),
  );
  return dir;
}

async function main(): Promise<void> {
  const [dataDir, sampleDir, scratch] = process.argv.slice(2);
  if (!dataDir || !sampleDir || !scratch)
    throw new Error('usage: seed-export.ts <data-dir> <sample-dir> <scratch-dir>');
  const ctx = await openTestContext(dataDir);
  try {
    const ids: number[] = [];
    for (const dir of [sampleDir, unfittedSession(scratch)]) {
      const job = await runImport(ctx, dir);
      if (job.state !== 'succeeded') throw new Error(`import of ${dir}: ${job.error}`);
      ids.push(Number(job.result!.sessionId));
    }
    const [fitted, unfitted] = ids;
    const model = loadFitModel(join(NATIVE, OPEN_MODEL));
    const result = syntheticFit(model, FIT_FRAMES, 1);
    const fitId = await saveFit(ctx.db, fitted, null, result, {
      bodyModel: OPEN_MODEL,
      jointNames: model.jointNames,
      firstFrame: FIT_FIRST_FRAME,
      frameCount: FIT_FRAMES,
      label: fitLabel(result.config),
    });
    const [action] = await ensureDefaultTiers(ctx.db, fitted);
    await createAnnotation(ctx.db, action.id, 6, 14, 'stand');
    await createAnnotation(ctx.db, action.id, 14, 27, 'reach');
    const name = async (id: number) => (await getSession(ctx.db, id))!.name;
    const seed: ExportSeed = {
      fitted: {
        id: fitted,
        name: await name(fitted),
        fitId,
        firstFrame: FIT_FIRST_FRAME,
        frameCount: FIT_FRAMES,
      },
      unfitted: { id: unfitted, name: await name(unfitted) },
    };
    console.log(JSON.stringify(seed));
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
