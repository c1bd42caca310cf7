/**
 * The A4Mer extraction job ('motifs-extract'): a session's newest fit -> posed joints (the fit model's
 * joint names) -> extractMotifs with the named model or the newest ready one -> the session's proposal
 * track from that model (store/motif-proposals.ts), in session frames, with the ONNX Runtime provider
 * that ran it. Proposals are stored in one transaction at the end: a cancelled job stores nothing.
 */
import { throwIfAborted } from '../capture/errors';
import type { JobContext } from '../capture/import-session';
import type { MotifSegment } from '../../preload/api';
import type { Db } from '../store/db';
import { getMotifModel, listMotifModels, type MotifModelRecord } from '../store/motif-models';
import { saveMotifProposals } from '../store/motif-proposals';
import { extractMotifs } from './extract';
import { sessionFitSequence } from './session-sequence';
import { readVocabulary } from './vocabulary';

export interface MotifExtractJobParams {
  sessionId: number;
  modelId?: number;
  /** ONNX Runtime providers to try in order (default: extract.ts's) */
  providers?: string[];
}

export interface MotifExtractJobResult {
  sessionId: number;
  modelId: number;
  fitId: number;
  provider: string;
  providerReport: string;
  atoms: number;
  motifs: number;
  families: number;
}

/** The named model (must be ready) or the newest ready one. */
async function extractionModel(db: Db, modelId: number | undefined): Promise<MotifModelRecord> {
  if (modelId !== undefined) {
    const m = await getMotifModel(db, modelId);
    if (!m) throw new Error(`motif model #${modelId} does not exist`);
    if (m.state !== 'ready') throw new Error(`motif model #${m.id} (${m.name}) is ${m.state}, not ready`);
    return m;
  }
  const ready = (await listMotifModels(db)).find((m) => m.state === 'ready');
  if (!ready) throw new Error('no motif model is ready; train one first (`studio motifs train`)');
  return (await getMotifModel(db, ready.id))!;
}

/** Runs an extraction job; see the file comment. */
export async function runMotifExtractJob(
  db: Db,
  params: MotifExtractJobParams,
  ctx: JobContext,
): Promise<MotifExtractJobResult> {
  ctx.progress(0, 'reading the fit');
  const { sequence, fitId, firstFrame } = await sessionFitSequence(db, params.sessionId);
  const model = await extractionModel(db, params.modelId);
  const joints = readVocabulary(model.dir).joints;
  if (joints.join(',') !== sequence.names.join(','))
    throw new Error(
      `${sequence.source} has joints (${sequence.names.join(', ')}) but motif model #${model.id} ` +
        `(${model.name}) was trained on (${joints.join(', ')})`,
    );
  throwIfAborted(ctx.signal);
  ctx.progress(0.1, `extracting motifs with model #${model.id}`);
  const r = await extractMotifs(model.dir, sequence, params.providers ? { providers: params.providers } : {});
  throwIfAborted(ctx.signal);
  ctx.progress(0.9, 'storing the proposals');
  // Sequence frames -> session frames.
  const shift = <T extends MotifSegment>(s: T): T => ({
    ...s,
    start: s.start + firstFrame,
    end: s.end + firstFrame,
  });
  await saveMotifProposals(db, {
    sessionId: params.sessionId,
    modelId: model.id,
    provider: r.provider,
    atoms: r.atoms.map(shift),
    motifs: r.motifs.map(shift),
    jobId: ctx.jobId,
  });
  return {
    sessionId: params.sessionId,
    modelId: model.id,
    fitId,
    provider: r.provider,
    providerReport: r.providerReport,
    atoms: r.atoms.length,
    motifs: r.motifs.length,
    families: new Set(r.motifs.map((m) => m.family)).size,
  };
}
