/**
 * Running an exported A4Mer stage (export-stage.ts) with onnxruntime-node: the execution provider is chosen
 * at load time (runtime.ts: cuda, webgpu, cpu in order, or STUDIO_ORT_PROVIDERS) and reported; windows of
 * any length are batched (sorted by length, `batchSize` per run, padded to the longest: padding changes no
 * token), and each window gets back one token per segment slot.
 *
 * Batch size: the graph's largest intermediates are the max-pool candidates [B, S, T, d] and the frame
 * attention scores [B, heads, T, T]; at T = 150, S ~ 60 atoms, d = 64 and B = 16 that is ~37 MB, so 8-16
 * windows per run keep memory small while amortising the per-run overhead.
 */
import { onnx } from 'onnx-proto';
import { resolveStageConfig, type StageConfig } from '../model/config';
import { buildSegmentLayout, type SegmentLayout } from '../model/layout';
import { STAGE_FORMAT, STAGE_INPUTS, STAGE_META, STAGE_OUTPUT, type StageIndex } from './export-stage';
import { describeProvider, type FeedTensor, loadOrtModel, type OrtModel, type ProviderName } from './runtime';

export const DEFAULT_STAGE_BATCH = 8;
export const MAX_STAGE_BATCH = 64;

/** One window of a stage's input: T elements (frames in stage 1, atom tokens in stage 2). */
export interface StageWindow {
  /** T x inputDim, row-major */
  features: Float32Array;
  /** [T] segment index of each element (0 .. S-1), -1 = padding */
  segmentOf: Int32Array;
  /** [T] element times in frames (stage 2: atom centre times); default the index t */
  framePos?: Float32Array;
  /** S: segment slots of this window (default: the largest index + 1); slots with no element are empty */
  segments?: number;
  /** [S] segment times in frames; default the midpoint of the first and last member times (layout.ts) */
  segmentPos?: Float32Array;
}

export interface WindowTokens {
  segments: number;
  /** segments x dModel, row-major; an empty slot's token is all zeros */
  tokens: Float32Array;
}

export interface StageMetadata {
  stage: StageIndex;
  config: StageConfig;
}

export interface StageRunner {
  readonly stage: StageIndex;
  readonly config: StageConfig;
  /** the execution provider running the model */
  readonly provider: ProviderName;
  /** the provider and why earlier ones failed, e.g. "cpu (cuda: ...; webgpu: ...)" */
  readonly providerReport: string;
  readonly batchSize: number;
  /** Tokens of each window, in the given order. */
  run(windows: readonly StageWindow[]): Promise<WindowTokens[]>;
  /** One run on a prebuilt layout: features [B*T*D] -> tokens [B*S*d] (row-major [B, S, d]). */
  runLayout(features: Float32Array, layout: SegmentLayout): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface LoadStageOptions {
  /** windows per ONNX run (default DEFAULT_STAGE_BATCH) */
  batchSize?: number;
  /** names the model in errors (e.g. its file) */
  label?: string;
  intraOpNumThreads?: number;
}

/** The stage index and config stored in an exported model's metadata; throws for other models. */
export function readStageMetadata(bytes: Uint8Array, label = 'ONNX model'): StageMetadata {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${label}: not an ONNX model (${e instanceof Error ? e.message : String(e)})`, {
      cause: e,
    });
  }
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  if (meta.get(STAGE_META.format) !== STAGE_FORMAT) {
    throw new Error(
      `${label}: not an A4Mer stage model (metadata ${STAGE_META.format} = ${JSON.stringify(meta.get(STAGE_META.format) ?? null)}, expected "${STAGE_FORMAT}")`,
    );
  }
  const stage = Number(meta.get(STAGE_META.stage));
  if (stage !== 1 && stage !== 2)
    throw new Error(`${label}: metadata ${STAGE_META.stage} = ${meta.get(STAGE_META.stage)}`);
  let config: StageConfig;
  try {
    config = resolveStageConfig(JSON.parse(meta.get(STAGE_META.config) ?? ''));
  } catch (e) {
    throw new Error(`${label}: bad ${STAGE_META.config} metadata: ${(e as Error).message}`, { cause: e });
  }
  return { stage, config };
}

/** The graph inputs of a batch laid out by buildSegmentLayout (features row-major [B, T, D]). */
export function stageFeeds(
  features: Float32Array,
  layout: SegmentLayout,
  inputDim: number,
): Record<string, FeedTensor> {
  const { batch: B, frames: T, segments: S } = layout;
  if (features.length !== B * T * inputDim) {
    throw new Error(
      `A4Mer stage input: features have ${features.length} values, [${B}, ${T}, ${inputDim}] needs ${B * T * inputDim}`,
    );
  }
  const ids = new BigInt64Array(B * T);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(layout.segmentOf[i]);
  const [featuresName, idsName, framePosName, segmentPosName] = STAGE_INPUTS;
  return {
    [featuresName]: { data: features, dims: [B, T, inputDim] },
    [idsName]: { data: ids, dims: [B, T] },
    [framePosName]: { data: layout.framePos, dims: [B, T] },
    [segmentPosName]: { data: layout.segmentPos, dims: [B, S] },
  };
}

/** Checks a window; returns its segment count S. */
function checkWindow(w: StageWindow, index: number, inputDim: number, label: string): number {
  const T = w.segmentOf.length;
  const where = `${label}: window ${index}`;
  if (T < 1) throw new Error(`${where} has no elements`);
  if (w.features.length !== T * inputDim) {
    throw new Error(
      `${where}: features have ${w.features.length} values, ${T} elements x ${inputDim} needs ${T * inputDim}`,
    );
  }
  if (w.framePos && w.framePos.length !== T)
    throw new Error(`${where}: framePos has ${w.framePos.length} values for ${T} elements`);
  let maxId = -1;
  for (let t = 0; t < T; t++) {
    const s = w.segmentOf[t];
    if (s < -1) throw new Error(`${where}: segmentOf[${t}] = ${s} (>= 0, or -1 for padding)`);
    if (s > maxId) maxId = s;
  }
  const S = w.segments ?? maxId + 1;
  if (!Number.isInteger(S) || S < maxId + 1)
    throw new Error(`${where}: ${S} segment slots cannot hold segment index ${maxId}`);
  if (w.segmentPos && w.segmentPos.length !== S)
    throw new Error(`${where}: segmentPos has ${w.segmentPos.length} values for ${S} segments`);
  return S;
}

class LoadedStage implements StageRunner {
  constructor(
    readonly stage: StageIndex,
    readonly config: StageConfig,
    readonly provider: ProviderName,
    readonly providerReport: string,
    readonly batchSize: number,
    private readonly label: string,
    private readonly model: OrtModel,
  ) {}

  async runLayout(features: Float32Array, layout: SegmentLayout): Promise<Float32Array> {
    const out = await this.model.run(stageFeeds(features, layout, this.config.inputDim));
    return out[STAGE_OUTPUT].data;
  }

  async run(windows: readonly StageWindow[]): Promise<WindowTokens[]> {
    const D = this.config.inputDim;
    const d = this.config.dModel;
    const counts = windows.map((w, i) => checkWindow(w, i, D, this.label));
    // Longest first, so each batch pads little.
    const order = windows
      .map((_, i) => i)
      .sort((a, b) => windows[b].segmentOf.length - windows[a].segmentOf.length);
    const results: WindowTokens[] = new Array(windows.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const group = order.slice(start, start + this.batchSize);
      const B = group.length;
      const T = Math.max(...group.map((i) => windows[i].segmentOf.length));
      const S = Math.max(1, ...group.map((i) => counts[i]));
      const segmentOf = new Int32Array(B * T).fill(-1);
      const framePos = new Float32Array(B * T);
      const features = new Float32Array(B * T * D);
      group.forEach((i, b) => {
        const w = windows[i];
        const n = w.segmentOf.length;
        segmentOf.set(w.segmentOf, b * T);
        features.set(w.features, b * T * D);
        for (let t = 0; t < n; t++) framePos[b * T + t] = w.framePos ? w.framePos[t] : t;
      });
      const layout = buildSegmentLayout(segmentOf, B, T, { segments: S, framePos });
      group.forEach((i, b) => {
        const pos = windows[i].segmentPos;
        if (pos) layout.segmentPos.set(pos, b * S);
      });
      const tokens = await this.runLayout(features, layout);
      group.forEach((i, b) => {
        results[i] = { segments: counts[i], tokens: tokens.slice(b * S * d, (b * S + counts[i]) * d) };
      });
    }
    return results;
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

/**
 * Loads an exported stage; providers as runtime.ts (explicit list > STUDIO_ORT_PROVIDERS > cuda, webgpu,
 * cpu). The runner reports the provider that was created.
 */
export async function loadStage(
  bytes: Uint8Array,
  providers?: readonly string[],
  options: LoadStageOptions = {},
): Promise<StageRunner> {
  const label = options.label ?? 'A4Mer stage model';
  const batchSize = options.batchSize ?? DEFAULT_STAGE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_STAGE_BATCH)
    throw new Error(`${label}: batchSize = ${batchSize}, expected an integer in 1..${MAX_STAGE_BATCH}`);
  const { stage, config } = readStageMetadata(bytes, label);
  const model = await loadOrtModel(bytes, {
    providers,
    label,
    intraOpNumThreads: options.intraOpNumThreads,
  });
  const missing = STAGE_INPUTS.filter((n) => !model.inputNames.includes(n));
  if (missing.length > 0 || !model.outputNames.includes(STAGE_OUTPUT)) {
    await model.dispose();
    throw new Error(
      `${label}: inputs ${model.inputNames.join(', ')} / outputs ${model.outputNames.join(', ')} are not an A4Mer stage's`,
    );
  }
  return new LoadedStage(stage, config, model.provider, describeProvider(model), batchSize, label, model);
}
