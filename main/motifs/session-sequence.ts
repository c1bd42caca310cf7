import { bodyModelPath, defaultNativeDir, loadFitModel } from '../fitting/fit-scene';
import { posedJoints } from '../fitting/joint-error';
import type { Db } from '../store/db';
import { listFits, readFitPoses } from '../store/fits';
import { getSession } from '../store/sessions';
import type { A4MerSequence } from './preprocess';

/** A session's newest fit as posed joints (frames x J x 3, the fit's model joint names), session fps. */
export async function sessionFitSequence(
  db: Db,
  sessionId: number,
  nativeDir = defaultNativeDir(),
): Promise<{ sequence: A4MerSequence; fitId: number; firstFrame: number }> {
  const session = await getSession(db, sessionId);
  if (!session) throw new Error(`session #${sessionId} does not exist`);
  const where = `session #${session.id} (${session.name})`;
  const fit = (await listFits(db, sessionId))[0];
  if (!fit) throw new Error(`${where} has no fit; run \`studio fit ${session.id}\` first`);
  if (!(session.fps > 0)) throw new Error(`${where} has no frame rate`);
  const model = loadFitModel(bodyModelPath(nativeDir, fit.bodyModel));
  const poses = await readFitPoses(db, fit, fit.firstFrame, fit.frameCount);
  const positions = posedJoints(model, fit.betas, poses.theta, poses.transl);
  return {
    sequence: {
      source: `${where} fit #${fit.id}`,
      names: model.jointNames,
      fps: session.fps,
      frames: poses.count,
      positions,
    },
    fitId: fit.id,
    firstFrame: poses.start,
  };
}
