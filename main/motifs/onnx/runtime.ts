/**
 * Loading ONNX models into onnxruntime-node with execution providers chosen at run time.
 *
 * Providers are tried one at a time in order (default cuda, webgpu, cpu; or STUDIO_ORT_PROVIDERS="cuda,cpu"):
 * a provider whose session cannot be created (missing libraries, no adapter) is recorded and the next one is
 * tried, so `provider` says which one runs the model. ORT itself still places nodes a GPU provider lacks on CPU.
 *
 * What each provider needs (onnxruntime-node 1.30, Linux x64):
 *  - cpu: bundled, always there.
 *  - cuda: CUDA 12.x + cuDNN 9.x libraries on the loader path and an NVIDIA driver, plus the CUDA provider
 *    libraries (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so) in
 *    node_modules/onnxruntime-node/bin/napi-v6/linux/x64/. They are not on npm; the package's install script
 *    fetches them from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0) unless `onnxruntime-node-install=skip`
 *    is set, as in this repo's .npmrc: on a GPU machine run `npm rebuild onnxruntime-node
 *    --onnxruntime-node-install=cuda12` (or drop the .npmrc line and reinstall). Without them creation fails
 *    with "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library".
 *  - webgpu: bundled (experimental) on Linux x64, Windows and macOS; on Linux it needs the Vulkan loader
 *    (libvulkan.so.1) and a GPU driver with a Vulkan ICD, else "Failed to get a WebGPU adapter".
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';

export const KNOWN_PROVIDERS = ['cuda', 'tensorrt', 'webgpu', 'dml', 'coreml', 'cpu'] as const;
export type ProviderName = (typeof KNOWN_PROVIDERS)[number];
export const DEFAULT_PROVIDERS: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
export const PROVIDERS_ENV = 'STUDIO_ORT_PROVIDERS';
/** Set to 1 to let ONNX Runtime print its own log (e.g. which CUDA library failed to load). */
export const VERBOSE_ENV = 'STUDIO_ORT_VERBOSE';

export type FeedData = Float32Array | BigInt64Array | Int32Array | Uint8Array;
/** An input tensor; the element type follows the array: float32, int64, int32, or bool for Uint8Array. */
export interface FeedTensor {
  data: FeedData;
  dims: readonly number[];
}
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}
export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

export interface LoadOptions {
  /** Providers to try in order; default: STUDIO_ORT_PROVIDERS, else DEFAULT_PROVIDERS. */
  providers?: readonly string[];
  /** Names the model in errors (e.g. its file path). */
  label?: string;
  intraOpNumThreads?: number;
  verbose?: boolean;
}

export interface OrtModel {
  readonly label: string;
  /** The provider whose session was created. */
  readonly provider: ProviderName;
  /** Providers tried before it, with why each failed. */
  readonly attempts: readonly ProviderAttempt[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; every output must be float32. */
  run(feeds: Record<string, FeedTensor>): Promise<Record<string, OutputTensor>>;
  dispose(): Promise<void>;
}

/** Parses a comma/space separated provider list, rejecting unknown names; `source` names where it came from. */
export function parseProviders(text: string, source: string): ProviderName[] {
  const names = text
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`${source}: no execution provider given (e.g. "cuda,webgpu,cpu")`);
  for (const n of names) {
    if (!(KNOWN_PROVIDERS as readonly string[]).includes(n)) {
      throw new Error(`${source}: unknown execution provider "${n}" (known: ${KNOWN_PROVIDERS.join(', ')})`);
    }
  }
  return names as ProviderName[];
}

/** Explicit list > STUDIO_ORT_PROVIDERS > DEFAULT_PROVIDERS. */
export function resolveProviders(
  requested?: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ProviderName[] {
  if (requested) return parseProviders(requested.join(','), 'execution providers option');
  const fromEnv = env[PROVIDERS_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseProviders(fromEnv, PROVIDERS_ENV);
  return [...DEFAULT_PROVIDERS];
}

/** The first message line of an ORT error, without its source-file prefix. */
function shortError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n')[0];
  // ORT_ENFORCE messages read "<file>:<line> <function> <condition> was false. <message>": keep the message.
  return line
    .replace(/^\S*onnxruntime_src\S*\s+/, '')
    .replace(/^.*? was false\.\s*/, '')
    .trim();
}

/** Element type of a feed, from its array type. */
function feedType(data: FeedData): 'float32' | 'int64' | 'int32' | 'bool' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

function toTensor(label: string, name: string, feed: FeedTensor): ort.Tensor {
  let size = 1;
  for (const d of feed.dims) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${label}: input "${name}" has a bad dimension ${d}`);
    size *= d;
  }
  if (feed.data.length !== size) {
    throw new Error(
      `${label}: input "${name}" has ${feed.data.length} values, shape [${feed.dims.join(', ')}] needs ${size}`,
    );
  }
  return new ort.Tensor(feedType(feed.data), feed.data, [...feed.dims]);
}

class LoadedModel implements OrtModel {
  private disposed = false;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    readonly label: string,
    readonly provider: ProviderName,
    readonly attempts: readonly ProviderAttempt[],
    private readonly session: ort.InferenceSession,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  async run(feeds: Record<string, FeedTensor>): Promise<Record<string, OutputTensor>> {
    if (this.disposed) throw new Error(`${this.label}: the model was disposed`);
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new Error(`${this.label}: unknown input "${name}" (inputs: ${this.inputNames.join(', ')})`);
      }
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const feed = feeds[name];
      if (!feed) throw new Error(`${this.label}: input "${name}" is missing`);
      tensors[name] = toTensor(this.label, name, feed);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(tensors);
    } catch (e) {
      throw new Error(`${this.label}: inference on ${this.provider} failed: ${shortError(e)}`, { cause: e });
    }
    const out: Record<string, OutputTensor> = {};
    for (const name of this.outputNames) {
      const t = results[name] as ort.Tensor;
      if (t.type !== 'float32')
        throw new Error(`${this.label}: output "${name}" is ${t.type}, float32 expected`);
      out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

let ortInitialised = false;

/**
 * Creates an inference session from model bytes, trying the providers in order. When none works, throws one
 * Error naming the model: with cpu's reason first when cpu was tried (a malformed model), else each provider's.
 */
export async function loadOrtModel(model: Uint8Array, options: LoadOptions = {}): Promise<OrtModel> {
  const label = options.label ?? 'ONNX model';
  if (model.byteLength === 0) throw new Error(`${label}: the model is empty (0 bytes)`);
  const providers = resolveProviders(options.providers);
  const verbose = options.verbose ?? process.env[VERBOSE_ENV] === '1';
  // ORT fixes its process-wide log level at the first session; failed GPU probes log through it.
  if (!ortInitialised) {
    ort.env.logLevel = verbose ? 'warning' : 'fatal';
    ortInitialised = true;
  }
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      // 4 = fatal only: failed GPU probes would spam stderr; their error is kept in `attempts` instead.
      logSeverityLevel: verbose ? 2 : 4,
      graphOptimizationLevel: 'all',
    };
    if (options.intraOpNumThreads) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
    try {
      const session = await ort.InferenceSession.create(model, sessionOptions);
      return new LoadedModel(label, provider, attempts, session);
    } catch (e) {
      attempts.push({ provider, error: shortError(e) });
    }
  }
  const why = (list: ProviderAttempt[]) => list.map((a) => `${a.provider}: ${a.error}`).join('; ');
  const cpu = attempts.find((a) => a.provider === 'cpu');
  if (cpu) {
    // The CPU provider runs every op of this opset, so its failure is the model's fault, not the hardware's.
    const others = attempts.filter((a) => a !== cpu);
    const also = others.length ? ` (other providers: ${why(others)})` : '';
    throw new Error(`${label}: ONNX Runtime cannot load the model: ${cpu.error}${also}`);
  }
  throw new Error(
    `${label}: no execution provider could load the model (${why(attempts)}); add 'cpu' to fall back`,
  );
}

/** loadOrtModel on a .onnx file; errors name the file. */
export async function loadOrtModelFile(path: string, options: LoadOptions = {}): Promise<OrtModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read the ONNX model (${shortError(e)})`, { cause: e });
  }
  return loadOrtModel(bytes, { ...options, label: options.label ?? path });
}

/** "cpu" or "cpu (cuda: <why>; webgpu: <why>)", for logs and bench reports. */
export function describeProvider(model: OrtModel): string {
  if (model.attempts.length === 0) return model.provider;
  return `${model.provider} (${model.attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')})`;
}
