/**
 * THE contract between the UI and everything else. Every call the renderer can make and every event
 * it can receive is declared here; main/api implements the calls, and the two transports (Electron IPC
 * and web mode over HTTP + WebSocket) carry them unchanged. Keep this file free of runtime imports
 * other than plain constants so the sandboxed preload and the browser bundle can both include it.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type JobKind = 'import' | 'localize';
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
] as const satisfies readonly ApiMethod[];

type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
// Fails to compile when a call is added to ApiCalls but not to API_METHODS.
export const API_METHODS_COMPLETE: Missing extends never ? true : Missing = true;

export interface ApiEvents {
  jobProgress: JobInfo;
  libraryChanged: {
    reason: 'session-added' | 'session-deleted' | 'job-changed' | 'settings-changed';
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
