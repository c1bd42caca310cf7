/**
 * THE contract between the UI and everything else. Every call the renderer can make and every event
 * it can receive is declared here; main/api implements the calls, and the two transports (Electron IPC
 * and web mode over HTTP + WebSocket) carry them unchanged. Keep this file free of runtime imports
 * other than plain constants so the sandboxed preload and the browser bundle can both include it.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type JobKind = 'import' | 'localize' | 'fit' | 'motifs-train' | 'motifs-extract' | 'export';
export type CameraRole = 'room' | 'foot-left' | 'foot-right';

export interface LibraryInfo {
  dataDir: string;
  libraryPath: string;
  schemaVersion: number;
  appVersion: string;
  sessionCount: number;
  /** 'electron' or 'web': which transport serves this renderer. */
  transport: 'electron' | 'web';
}

export interface SessionSummary {
  id: number;
  name: string;
  sourcePath: string;
  format: string;
  createdAt: string;
  cameraCount: number;
  frameCount: number;
  fps: number;
}

/** Pinhole + Brown-Conrady distortion, OpenCV convention, extrinsics world->camera, metres. */
export interface CameraCalibration {
  width: number;
  height: number;
  /** Row-major 3x3 intrinsic matrix K. */
  K: number[];
  /** OpenCV order: k1, k2, p1, p2, k3. */
  dist: number[];
  /** Row-major 3x3 rotation world->camera. */
  R: number[];
  /** Translation world->camera, metres. */
  t: number[];
}

export interface CameraInfo {
  id: number;
  name: string;
  role: CameraRole;
  calibration: CameraCalibration;
  video: VideoInfo | null;
  keypoints: KeypointTrackInfo | null;
}

export interface VideoInfo {
  /** Exact frame rate as a rational, from the stream's r_frame_rate. */
  fpsNum: number;
  fpsDen: number;
  frameCount: number;
  width: number;
  height: number;
  durationS: number;
  codec: string;
}

export interface KeypointTrackInfo {
  layout: string;
  jointNames: string[];
  frameCount: number;
  /** Frame index of the first keypoint frame, in video frames. */
  firstFrame: number;
}

/** A ChArUco board of a session (session.json `boards`), what printing it needs; poses stay in main. */
export interface BoardInfo {
  name: string;
  /** OpenCV predefined dictionary name, e.g. 'DICT_4X4_250'. */
  dictionary: string;
  squaresX: number;
  squaresY: number;
  /** Metres. */
  squareLength: number;
  markerLength: number;
  legacyPattern: boolean;
  firstMarkerId: number;
}

export interface SessionDetail extends SessionSummary {
  cameras: CameraInfo[];
  /** The session's ChArUco boards (empty for formats without boards). */
  boards: BoardInfo[];
}

export type BoardPrintFormat = 'png' | 'pdf';

/** A file for the user to save, base64-encoded (small enough for both transports). */
export interface FileDownload {
  fileName: string;
  mimeType: string;
  base64: string;
}

/** Keypoints for one camera over [start, start + count): data is frame-major (x, y, confidence) per joint. */
export interface KeypointBlock {
  start: number;
  count: number;
  joints: number;
  /** count * joints * 3 numbers; x and y in pixels, NaN encoded as null when a joint is missing. */
  data: (number | null)[];
}

export interface JobInfo {
  id: number;
  kind: JobKind;
  state: JobState;
  progress: number;
  message: string;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The user-supplied SMPL-family model slots (the files are licence-restricted, so never shipped). */
export const BODY_MODEL_SLOTS = ['smpl', 'smplh', 'smplx'] as const;
export type BodyModelSlot = (typeof BODY_MODEL_SLOTS)[number];
/** Joint count a slot's model must have: SMPL 24, SMPL-H 52 (hands), SMPL-X 55 (hands, jaw, eyes). */
export const BODY_MODEL_SLOT_JOINTS: Record<BodyModelSlot, number> = { smpl: 24, smplh: 52, smplx: 55 };
export const BODY_MODEL_SLOT_LABELS: Record<BodyModelSlot, string> = {
  smpl: 'SMPL',
  smplh: 'SMPL-H',
  smplx: 'SMPL-X',
};

export interface Settings {
  /** Absolute paths of the user's own model files (.npz or .pkl), null where not set. */
  bodyModels: { smpl: string | null; smplh: string | null; smplx: string | null };
}

/** One body model the studio can use: the open default, then each configured slot. */
export interface BodyModelInfo {
  id: 'open' | BodyModelSlot;
  name: string;
  file: string;
  /** False when the file cannot be loaded (moved, damaged) or no longer fits its slot; see error. */
  ok: boolean;
  error?: string;
  vertices?: number;
  joints?: number;
  betas?: number;
}

export interface ImportResult {
  sessionId: number;
  cameras: number;
  keypointFrames: number[];
  videoFrames: number[];
}

/** What a fit run may switch off (the rest of its config is the documented default, main/fitting/config.ts). */
export interface FitOptions {
  /** Ground-intersection term (default on). */
  ground?: boolean;
  /** Foot-camera term (default on; needs localised foot cameras). */
  footCameras?: boolean;
  /** Frame range to fit, in session frames (default all). */
  start?: number;
  count?: number;
}

/** Per-frame quality flags of a fit (bit mask). */
export const FIT_FLAGS = {
  /** Reprojection RMS over the threshold in some view. */
  reprojection: 1,
  /** A vertex deeper below the floor than the threshold. */
  penetration: 2,
  /** Foot-camera pose disagrees with the fitted foot. */
  footCamera: 4,
  /** Too few views to constrain the body (prior and neighbours only). */
  weak: 8,
} as const;

/** One stored fit version of a session. */
export interface FitSummary {
  id: number;
  sessionId: number;
  createdAt: string;
  /** Short description, e.g. 'ground + foot cameras'. */
  label: string;
  /** The full config the fit ran with (weights, windows, thresholds, options). */
  config: Record<string, unknown>;
  bodyModel: string;
  betas: number[];
  firstFrame: number;
  frameCount: number;
  /** Names of the per-frame quality columns, e.g. reprojRms:<camera>, maxPenetrationMm, flags. */
  qualityFields: string[];
  stats: {
    medianReprojectionPx: number;
    maxPenetrationMm: number;
    flaggedFrames: number;
    framesPerSecond: number;
    /** Per-session mount (foot joint -> camera) estimates, when foot cameras were used. */
    mounts?: { camera: string; joint: string; R: number[]; offset: number[]; frames: number }[];
  };
}

/** Per-frame quality rows of a fit over [start, start + count). */
export interface FitQualityBlock {
  start: number;
  count: number;
  fields: string[];
  /** count * fields.length numbers, NaN as null. */
  data: (number | null)[];
}

/** The fitted body at one frame; float arrays travel as base64 little-endian float32. */
export interface FitFrame {
  fitId: number;
  frame: number;
  /** Posed mesh, V x 3, world metres (base64 float32). */
  vertices: string;
  /** Posed joints, J x 3 (base64 float32). */
  joints: string;
  /** When a camera was asked for: the mesh and joints projected with its distortion, V x 2 and J x 2 pixels. */
  projected?: { cameraId: number; vertices: string; joints: string };
  /** Quality row of this frame, in FitSummary.qualityFields order. */
  quality: (number | null)[];
}

/** What the 3D review needs once per session: the mesh topology and the scene around it. */
export interface FitScene {
  /** Triangle indices, F x 3 (base64 uint32). */
  faces: string;
  /** Kinematic tree of the model for a skeleton drawing. */
  parents: number[];
  jointNames: string[];
  cameras: { id: number; name: string; role: CameraRole; calibration: CameraCalibration }[];
  /** Each board's four outer corners in world metres (static boards only). */
  boards: { name: string; corners: number[] }[];
  /** Floor extent (x0, y0, x1, y1) that covers cameras and the fitted path. */
  floor: number[];
}

/** An A4Mer model of the registry (files under the data dir). */
export interface MotifModelInfo {
  id: number;
  name: string;
  createdAt: string;
  state: 'training' | 'ready' | 'failed';
  /** The full A4Mer config it was trained with. */
  config: Record<string, unknown>;
  /** What it was trained on: dataset folders / session ids, sequences, frames, split. */
  training: Record<string, unknown>;
  /** Latest figures (loss, steps done, evaluation results when run). */
  metrics: Record<string, unknown>;
  stepsDone: number;
  stepsTotal: number;
}

/** One proposed segment in session frames [start, end). */
export interface MotifSegment {
  start: number;
  end: number;
  /** Atoms: k-means code. Motifs: mined pattern id (-1 for a single-atom piece) and family id. */
  code?: number;
  pattern?: number;
  family?: number;
}

/** A session's newest proposals: Action Atoms and Action Motifs from one model. */
export interface MotifProposals {
  sessionId: number;
  modelId: number;
  createdAt: string;
  /** ONNX Runtime execution provider that ran the extraction (cuda, webgpu, cpu). */
  provider: string;
  atoms: MotifSegment[];
  motifs: MotifSegment[];
}

/** Loss curve of a model's training, one row per logged step. */
export interface TrainingCurve {
  modelId: number;
  steps: number[];
  /** Columns beside `steps`, e.g. loss, local, global, lr. */
  series: Record<string, number[]>;
}

/** Request and response of every call. Requests are single objects so both transports stay trivial. */
export interface ApiCalls {
  libraryInfo: { req: Record<string, never>; res: LibraryInfo };
  listSessions: { req: Record<string, never>; res: SessionSummary[] };
  getSession: { req: { sessionId: number }; res: SessionDetail };
  deleteSession: { req: { sessionId: number }; res: { deleted: boolean } };
  /** Native folder dialog (Electron only); web mode answers supported: false and the UI asks for a path. */
  pickFolder: { req: Record<string, never>; res: { supported: boolean; path: string | null } };
  /** Starts an import job and returns at once; follow it with the jobProgress event. */
  importSession: { req: { path: string }; res: JobInfo };
  listJobs: { req: { limit?: number }; res: JobInfo[] };
  getJob: { req: { jobId: number }; res: JobInfo };
  cancelJob: { req: { jobId: number }; res: JobInfo };
  retryJob: { req: { jobId: number }; res: JobInfo };
  /** A URL the renderer can put in a <video> src; only registered files are served. */
  mediaUrl: { req: { sessionId: number; cameraId: number }; res: { url: string; mime: string } };
  /** A small JPEG of the camera's first frame as a data: URL, or null when the camera has no video. */
  thumbnail: { req: { sessionId: number; cameraId: number }; res: { dataUrl: string | null } };
  keypoints: {
    req: { sessionId: number; cameraId: number; start: number; count: number };
    res: KeypointBlock;
  };
  getSettings: { req: Record<string, never>; res: Settings };
  /**
   * Replaces the given top-level settings. Every non-null model path is loaded and its joint count
   * checked against its slot first; a bad one fails the call (bad-input) and nothing is stored.
   */
  setSettings: { req: Partial<Settings>; res: Settings };
  /** The open default model first, then each configured slot, each loaded to report what it is. */
  listBodyModels: { req: Record<string, never>; res: BodyModelInfo[] };
  /**
   * A session's board ready to print at true size: a 1-bit PNG at 300 dpi whose pHYs gives the scale,
   * or a one-page PDF of the board at its physical size with a caption naming its parameters.
   */
  boardPrint: { req: { sessionId: number; board: string; format: BoardPrintFormat }; res: FileDownload };
  /** Starts the foot-camera localisation job (PnP on the session's boards, every foot camera). */
  localizeSession: { req: { sessionId: number; maxGap?: number }; res: JobInfo };
  /**
   * A foot camera's localised poses over [start, start + count), frame-major rows of `fields`
   * (world -> camera R and t, rms, corners, status: 0 none, 1 ok, 2 ambiguous, 3 interpolated, resolved);
   * null when the camera has not been localised.
   */
  footPoses: {
    req: { sessionId: number; cameraId: number; start: number; count: number };
    res: FootPoseBlock | null;
  };
  /** Starts a fit job (a new fit version); follow it with jobProgress. */
  fitSession: { req: { sessionId: number } & FitOptions; res: JobInfo };
  /** The session's fit versions, newest first. */
  listFits: { req: { sessionId: number }; res: FitSummary[] };
  fitQuality: { req: { fitId: number; start: number; count: number }; res: FitQualityBlock };
  fitFrame: { req: { fitId: number; frame: number; cameraId?: number }; res: FitFrame };
  fitScene: { req: { sessionId: number; fitId: number }; res: FitScene };
  listMotifModels: { req: Record<string, never>; res: MotifModelInfo[] };
  trainingCurve: { req: { modelId: number }; res: TrainingCurve };
  motifProposals: { req: { sessionId: number }; res: MotifProposals | null };
  /** Every occurrence of a motif family across the library, to list and play them. */
  motifFamily: {
    req: { modelId: number; family: number };
    res: { occurrences: { sessionId: number; sessionName: string; start: number; end: number }[] };
  };
  /**
   * Starts an A4Mer training job on skeleton-dataset folders and/or sessions' newest fits (same joint
   * names); steps = N1, N2, N3. With modelId it resumes that model from its checkpoint. The job's
   * result names the model (modelId).
   */
  trainMotifModel: {
    req: { name?: string; datasets?: string[]; sessionIds?: number[]; steps?: number[]; modelId?: number };
    res: JobInfo;
  };
  /** Starts motif extraction on a session's newest fit with the newest ready model (or modelId). */
  extractMotifs: { req: { sessionId: number; modelId?: number }; res: JobInfo };
  /** Motif models shipped with the app (native/models), and the library model each is installed as. */
  shippedMotifModels: { req: Record<string, never>; res: ShippedMotifModelInfo[] };
  /** Copies a shipped model into the library as a ready model (once; a second call returns it). */
  installShippedMotifModel: { req: { name: string }; res: MotifModelInfo };
}

/** A motif model shipped with the app: its recipe and, when installed, its library model id. */
export interface ShippedMotifModelInfo {
  name: string;
  /** how it was made: the command, the data (kind, clips, frames, fps, body model), training options */
  recipe: Record<string, unknown>;
  /** joint names it reads (a session's fit must have these) */
  joints: string[];
  installedAs: number | null;
}

export interface FootPoseBlock {
  start: number;
  count: number;
  fields: string[];
  /** count * fields.length numbers, NaN encoded as null. */
  data: (number | null)[];
  /** Detected ChArUco corners per frame: up to `perFrame` rows of (board index, corner id, u, v). */
  corners: { boards: string[]; perFrame: number; data: (number | null)[] } | null;
}

export type ApiMethod = keyof ApiCalls;
export type ApiRequest<M extends ApiMethod> = ApiCalls[M]['req'];
export type ApiResponse<M extends ApiMethod> = ApiCalls[M]['res'];

/** Runtime list of every call, checked against ApiCalls at compile time. */
export const API_METHODS = [
  'libraryInfo',
  'listSessions',
  'getSession',
  'deleteSession',
  'pickFolder',
  'importSession',
  'listJobs',
  'getJob',
  'cancelJob',
  'retryJob',
  'mediaUrl',
  'thumbnail',
  'keypoints',
  'getSettings',
  'setSettings',
  'listBodyModels',
  'boardPrint',
  'localizeSession',
  'footPoses',
  'fitSession',
  'listFits',
  'fitQuality',
  'fitFrame',
  'fitScene',
  'listMotifModels',
  'trainingCurve',
  'motifProposals',
  'motifFamily',
  'trainMotifModel',
  'extractMotifs',
  'shippedMotifModels',
  'installShippedMotifModel',
] as const satisfies readonly ApiMethod[];

type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
// Fails to compile when a call is added to ApiCalls but not to API_METHODS.
export const API_METHODS_COMPLETE: Missing extends never ? true : Missing = true;

export interface ApiEvents {
  jobProgress: JobInfo;
  libraryChanged: {
    reason: 'session-added' | 'session-deleted' | 'job-changed' | 'settings-changed' | 'model-added';
    sessionId?: number;
  };
}
export type ApiEventName = keyof ApiEvents;
export const API_EVENTS = ['jobProgress', 'libraryChanged'] as const satisfies readonly ApiEventName[];

/** Error as it crosses a transport: a stable code and a message naming the file and the problem. */
export interface ApiErrorBody {
  code: 'invalid-request' | 'not-found' | 'conflict' | 'bad-input' | 'internal' | 'unauthorized';
  message: string;
}

/** What the renderer sees as `window.studio` (Electron) or builds itself (web mode). */
export interface StudioApi {
  call<M extends ApiMethod>(method: M, req: ApiRequest<M>): Promise<ApiResponse<M>>;
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  transport: 'electron' | 'web';
}

/** Electron IPC channel names, shared by main/index.ts and preload/index.ts. */
export const IPC_CALL_PREFIX = 'studio:call:';
export const IPC_EVENT_CHANNEL = 'studio:event';
/** Custom protocol serving registered media files in Electron. */
export const MEDIA_PROTOCOL = 'studio-media';
