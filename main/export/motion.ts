import type { FitSummary } from '../../preload/api';
import { createWorkspace, shapeWorkspace } from '../body/lbs';
import type { BodyModel } from '../body/model';
import { bodyModelPath, loadFitModel } from '../fitting/fit-scene';
import type { Db } from '../store/db';
import { readFitPoses } from '../store/fits';

/** A fit read whole for export: its poses, its model, and the body shaped by its betas. */
export interface SequenceMotion {
  model: BodyModel;
  /** The model file (native/ relative names resolved). */
  modelFile: string;
  betas: number[];
  /** frames x J x 3 axis-angle. */
  theta: Float32Array;
  /** frames x 3, Z-up metres. */
  transl: Float32Array;
  /** Rest joints J(beta), J x 3. */
  jRest: Float64Array;
  /** Shaped rest mesh v_template + B_S(beta), V x 3. */
  vShaped: Float32Array;
}

export async function loadMotion(db: Db, nativeDir: string, fit: FitSummary): Promise<SequenceMotion> {
  const where = `fit #${fit.id} of session #${fit.sessionId}`;
  const modelFile = bodyModelPath(nativeDir, fit.bodyModel);
  const model = loadFitModel(modelFile);
  const poses = await readFitPoses(db, fit, fit.firstFrame, fit.frameCount);
  if (poses.count !== fit.frameCount)
    throw new Error(`${where}: its tracks hold ${poses.count} of its ${fit.frameCount} frames`);
  const J = model.numJoints;
  if (poses.theta.length !== poses.count * J * 3)
    throw new Error(
      `${where}: its poses have ${poses.theta.length / (3 * poses.count)} joints, the body model ${modelFile} has ${J}`,
    );
  const ws = createWorkspace(model);
  shapeWorkspace(model, ws, fit.betas);
  return {
    model,
    modelFile,
    betas: fit.betas,
    theta: poses.theta,
    transl: poses.transl,
    jRest: Float64Array.from(ws.jRest),
    vShaped: Float32Array.from(ws.vShaped),
  };
}
