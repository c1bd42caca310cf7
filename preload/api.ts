/**
 * THE contract between the UI and everything else. Every call the renderer can make and every event
 * it can receive is declared here; main/api implements the calls, and the two transports (Electron IPC
 * and web mode over HTTP + WebSocket) carry them unchanged. Keep this file free of runtime imports
 * other than plain constants so the sandboxed preload and the browser bundle can both include it.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type JobKind = 'import' | 'localize' | 'fit' | 'refit' | 'motifs-train' | 'motifs-extract' | 'export';
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
    /** Median reprojection error over every detection (confidence >= the fit's minimum), pixels. */
    medianReprojectionPx: number;
    /** The same over the detections the triangulation kept (Pose2Sim's convention), pixels. */
    medianKeptReprojectionPx?: number;
    maxPenetrationMm: number;
    flaggedFrames: number;
    framesPerSecond: number;
    /** Per-session mount (foot joint -> camera) estimates, when foot cameras were used. */
    mounts?: { camera: string; joint: string; R: number[]; offset: number[]; frames: number }[];
    /** The session's keypoint calibration the fit used (absent: the default keypoint map). */
    keypointCalibration?: KeypointCalibration;
  };
}

/**
 * One keypoint re-regressed for a session: (1 - sum weights) x its default landmark + sum weights[i] x
 * joints[i] (main/fitting/keypoint-calibration.ts).
 */
export interface KeypointAdjustment {
  keypoint: string;
  joints: string[];
  weights: number[];
  /** Median distance between the adjusted and the default keypoint over the calibration frames, mm. */
  shiftMm: number;
  /** Calibration frames the keypoint was triangulated in. */
  frames: number;
}

export interface KeypointCalibration {
  /** The detector layout, e.g. BODY_25B. */
  layout: string;
  /** Frames of the calibration pass. */
  frames: number;
  ridge: number;
  adjust: KeypointAdjustment[];
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

/** Session frames [start, end) the user marked bad: shown in the fit review, listed in the export manifest. */
export interface BadFrameRange {
  id: number;
  sessionId: number;
  start: number;
  end: number;
  note: string;
  createdAt: string;
}

/**
 * A joint the user placed in a camera view: a detection the refit trusts far more than the detector's
 * (one per camera, frame and joint; a new one replaces it).
 */
export interface UserKeypoint {
  sessionId: number;
  cameraId: number;
  /** Session (video) frame. */
  frame: number;
  /** Index into the camera's keypoint layout (KeypointTrackInfo.jointNames). */
  joint: number;
  /** Pixels in the camera's (distorted) image, like the detector's keypoints. */
  u: number;
  v: number;
  /** (0, 1]; 1 unless given. */
  confidence: number;
  createdAt: string;
}

/** Two fit versions of a session frame by frame over the frames both cover; NaN travels as null. */
export interface FitComparisonBlock {
  sessionId: number;
  fitA: number;
  fitB: number;
  /** Session frames [start, start + count). */
  start: number;
  count: number;
  /** Mean per-joint position difference of the posed joints, per frame, millimetres. */
  mpjpeMm: (number | null)[];
  /** Quality rows side by side: fit A's columns then B's others; count * fields.length each. */
  quality: { fields: string[]; a: (number | null)[]; b: (number | null)[] };
  summary: {
    maxMm: number | null;
    /** Session frame of the largest difference. */
    maxFrame: number;
    medianMm: number | null;
    meanMm: number | null;
    /** Frames differing by more than differMm (1 cm). */
    framesOver1cm: number;
    differMm: number;
    /** Those frames as session-frame ranges [start, end). */
    ranges: [number, number][];
  };
}

/**
 * The fit version a session exports: the one picked with pickFit (picked: true), else its newest
 * (picked: false); fit is null when the session has no fit.
 */
export interface FitPick {
  sessionId: number;
  fit: FitSummary | null;
  picked: boolean;
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

/** A label of a vocabulary: its colour and description, in the user's order. */
export interface VocabularyLabel {
  name: string;
  /** '#rrggbb', lower case. */
  colour: string;
  description: string;
  /** 0-based order within the vocabulary. */
  position: number;
}

/** A library-wide controlled list of labels; a tier that names it accepts only its labels. */
export interface LabelVocabulary {
  id: number;
  name: string;
  description: string;
  createdAt: string;
  /** In position order. */
  labels: VocabularyLabel[];
}

export interface NewLabel {
  name: string;
  /** '#rrggbb' (either case; stored lower case). */
  colour: string;
  description?: string;
}

/** What a segment came from: the annotator, or an accepted motif-family proposal. */
export type AnnotationSource =
  { kind: 'user' } | { kind: 'motif-family'; modelId: number; family: number; proposalId: number };

/** A segment of a tier, in session frames [start, end); segments of a tier never overlap. */
export interface Annotation {
  id: number;
  tierId: number;
  start: number;
  end: number;
  label: string;
  source: AnnotationSource;
  createdAt: string;
  updatedAt: string;
}

/** 'action' and 'motif' exist in every session (made on first listing); 'free' tiers are the user's. */
export type TierKind = 'action' | 'motif' | 'free';

export interface AnnotationTier {
  id: number;
  sessionId: number;
  name: string;
  kind: TierKind;
  /** Null: free-text labels. */
  vocabularyId: number | null;
  position: number;
}

export interface TierAnnotations extends AnnotationTier {
  vocabularyName: string | null;
  /** The vocabulary's labels in order, with colours; [] for a free-text tier. */
  labels: VocabularyLabel[];
  /** Sorted by start. */
  annotations: Annotation[];
}

export interface SessionAnnotations {
  sessionId: number;
  frameCount: number;
  /** In position order. */
  tiers: TierAnnotations[];
}

export type AnnotationProposalState = 'pending' | 'accepted' | 'rejected';

/** A motif-family occurrence proposed as a segment with a label, waiting for the annotator. */
export interface AnnotationProposal {
  id: number;
  sessionId: number;
  tierId: number;
  start: number;
  end: number;
  label: string;
  source: { kind: 'motif-family'; modelId: number; family: number };
  state: AnnotationProposalState;
  /** The annotation an accepted proposal became (it may since have been deleted). */
  annotationId: number | null;
  createdAt: string;
}

/** The rows one journaled edit removed or changed (before) and created or changed (after). */
export interface AnnotationChangeSet {
  annotations: Annotation[];
  proposals: AnnotationProposal[];
}

export interface AnnotationHistoryEntry {
  id: number;
  sessionId: number;
  /** create, move, relabel, update, split, merge, delete, accept-proposals, reject-proposals */
  op: string;
  before: AnnotationChangeSet;
  after: AnnotationChangeSet;
  createdAt: string;
  /** 'abandoned': undone, then replaced by a new edit; kept, never redone. */
  state: 'done' | 'undone' | 'abandoned';
}

/** What an edit, undo or redo did: the rows it wrote (as stored now) and the ids it removed. */
export interface AnnotationEdit {
  sessionId: number;
  historyId: number;
  op: string;
  annotations: Annotation[];
  removedIds: number[];
  proposals: AnnotationProposal[];
}

/** A proposal left as it was by a bulk accept or reject, and why. */
export interface ProposalSkip {
  proposalId: number;
  reason: string;
}

/** A dataset export format (main/export/formats.ts), in the order an export writes them. */
export interface ExportFormatInfo {
  /** What `formats` of exportSessions takes, e.g. 'amass'. */
  name: string;
  /** One line: the files it writes. */
  description: string;
  /** Written from the body fit: every exported session needs one. */
  needsFit: boolean;
}

/** An export of sessions as a dataset folder with a manifest.json (the 'export' job's params). */
export interface ExportSessionsRequest {
  sessionIds: number[];
  /** Names of exportFormats, or 'all'. */
  formats: string[];
  /** Absolute destination folder: missing or empty, unless force. */
  out: string;
  /** Split by subject with ratios, e.g. 'train=0.8,val=0.1,test=0.1' (not with splitSubjects). */
  split?: string;
  /** With split: shuffle subjects with this seed instead of taking them in name order. */
  splitSeed?: number;
  /** Split by explicit subject lists, e.g. 'train:alice,bob;test:carol'. */
  splitSubjects?: string;
  /** Fit versions to export instead of the sessions' picked (else newest) ones; one per session at most. */
  fitIds?: number[];
  /** Replace a non-empty destination folder. */
  force?: boolean;
}

/** The result of a succeeded 'export' job (JobInfo.result). */
export interface ExportJobResult {
  out: string;
  /** Absolute path of the export's manifest.json. */
  manifest: string;
  formats: string[];
  splits: string[];
  sessions: { sessionId: number; sequence: string; split: string; fitId: number | null }[];
  /** Every file but the manifest, relative to `out`, with its size and sha256 (as the manifest lists them). */
  files: { path: string; bytes: number; sha256: string }[];
  seconds: number;
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
  /** Fit corrections (main/store/fit-corrections.ts): each write announces libraryChanged 'fit-corrected'. */
  listBadRanges: { req: { sessionId: number }; res: BadFrameRange[] };
  /** Marks session frames [start, end) bad; ranges may overlap. */
  markBadRange: { req: { sessionId: number; start: number; end: number; note?: string }; res: BadFrameRange };
  removeBadRange: { req: { sessionId: number; rangeId: number }; res: BadFrameRange };
  /** The session's user keypoints in frames [start, start + count) (default all), by frame, camera, joint. */
  listUserKeypoints: { req: { sessionId: number; start?: number; count?: number }; res: UserKeypoint[] };
  /** Adds a user keypoint (confidence default 1), replacing the one of the same camera, frame and joint. */
  setUserKeypoint: {
    req: {
      sessionId: number;
      cameraId: number;
      frame: number;
      joint: number;
      u: number;
      v: number;
      confidence?: number;
    };
    res: UserKeypoint;
  };
  removeUserKeypoint: {
    req: { sessionId: number; cameraId: number; frame: number; joint: number };
    res: UserKeypoint;
  };
  /**
   * Starts a refit job: session frames [start, start + count) of fit baseFitId re-solved with the user
   * keypoints, as a new fit version (result: fitId). Checked first: the fit is the session's (not-found)
   * and the window lies within its frames (bad-input).
   */
  refitWindow: { req: { sessionId: number; baseFitId: number; start: number; count: number }; res: JobInfo };
  /** Two fit versions of one session compared over the frames both cover (within start/count if given). */
  compareFits: {
    req: { fitA: number; fitB: number; start?: number; count?: number };
    res: FitComparisonBlock;
  };
  /** Picks the version the session exports; fitId null drops the pick (the newest is exported again). */
  pickFit: { req: { sessionId: number; fitId: number | null }; res: FitPick };
  /** Which version the session exports (listFits leaves FitSummary as stored; this says which is picked). */
  pickedFit: { req: { sessionId: number }; res: FitPick };
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
  /** Label vocabularies of the library, by name. */
  listVocabularies: { req: Record<string, never>; res: LabelVocabulary[] };
  createVocabulary: {
    req: { name: string; description?: string; labels?: NewLabel[] };
    res: LabelVocabulary;
  };
  updateVocabulary: {
    req: { vocabularyId: number; name?: string; description?: string };
    res: LabelVocabulary;
  };
  /** Refused (conflict) while a tier uses it. */
  deleteVocabulary: { req: { vocabularyId: number }; res: { deleted: boolean } };
  /** Adds a label at `position` (default last). */
  addLabel: { req: { vocabularyId: number; position?: number } & NewLabel; res: LabelVocabulary };
  /** Recolours, describes or renames `label` (a rename is refused while segments carry it). */
  updateLabel: {
    req: { vocabularyId: number; label: string; name?: string; colour?: string; description?: string };
    res: LabelVocabulary;
  };
  /** Refused (conflict) while segments of a tier using the vocabulary carry it. */
  removeLabel: { req: { vocabularyId: number; label: string }; res: LabelVocabulary };
  /** `names` lists every label once, in the new order. */
  reorderLabels: { req: { vocabularyId: number; names: string[] }; res: LabelVocabulary };
  /** Every tier of the session with its segments; makes its 'action' and 'motif' tiers first if missing. */
  listAnnotations: { req: { sessionId: number }; res: SessionAnnotations };
  /** Adds a free tier (last), free text or controlled by a vocabulary. */
  addTier: { req: { sessionId: number; name: string; vocabularyId?: number | null }; res: AnnotationTier };
  /** Renames a tier or sets its vocabulary (null: free text); a vocabulary must hold its segments' labels. */
  updateTier: { req: { tierId: number; name?: string; vocabularyId?: number | null }; res: AnnotationTier };
  /** Removes a tier without segments (conflict while it holds some). */
  removeTier: { req: { tierId: number }; res: { removed: boolean } };
  /** `tierIds` lists each of the session's tiers once, in the new order. */
  reorderTiers: { req: { sessionId: number; tierIds: number[] }; res: AnnotationTier[] };
  /**
   * Segment edits, each one journaled step of the session's history (undo/redo below). Frames are
   * session frames [start, end); an overlap in the tier or a label outside its vocabulary is refused
   * (conflict / bad-input) and nothing changes.
   */
  createAnnotation: {
    req: { tierId: number; start: number; end: number; label: string };
    res: AnnotationEdit;
  };
  /** Moves boundaries and/or relabels. */
  updateAnnotation: {
    req: { annotationId: number; start?: number; end?: number; label?: string };
    res: AnnotationEdit;
  };
  /** Splits at `frame`, strictly inside: the segment keeps [start, frame), a new one gets [frame, end). */
  splitAnnotation: { req: { annotationId: number; frame: number }; res: AnnotationEdit };
  /** Merges neighbours of one tier into the first (by start), spanning them; its label unless `label`. */
  mergeAnnotations: { req: { annotationIds: number[]; label?: string }; res: AnnotationEdit };
  deleteAnnotation: { req: { annotationId: number }; res: AnnotationEdit };
  /** Reverts the session's newest edit; null when there is nothing to undo. */
  undoAnnotation: { req: { sessionId: number }; res: AnnotationEdit | null };
  /** Re-applies the edit undone last; null when there is nothing to redo. */
  redoAnnotation: { req: { sessionId: number }; res: AnnotationEdit | null };
  /** The session's journal, newest first, and whether undo / redo would do something now. */
  annotationHistory: {
    req: { sessionId: number; limit?: number };
    res: { entries: AnnotationHistoryEntry[]; canUndo: boolean; canRedo: boolean };
  };
  /**
   * Names a motif family: proposes `label` on every occurrence of the family in the library, pending,
   * in tier `tierName` (default 'action') of each session; occurrences proposed before are counted.
   */
  proposeFamilyLabel: {
    req: { modelId: number; family: number; label: string; tierName?: string };
    res: { created: AnnotationProposal[]; existing: number; occurrences: number };
  };
  /** Proposals matching every given field, by session, start, id. */
  listAnnotationProposals: {
    req: {
      sessionId?: number;
      tierId?: number;
      modelId?: number;
      family?: number;
      state?: AnnotationProposalState;
    };
    res: AnnotationProposal[];
  };
  /**
   * Accepts pending proposals: each becomes a segment whose source names the model, family and
   * proposal; one history entry per session. Proposals that overlap a segment (or are not pending) are
   * skipped and reported.
   */
  acceptProposals: {
    req: { ids: number[] };
    res: {
      accepted: { proposalId: number; annotation: Annotation }[];
      skipped: ProposalSkip[];
      edits: AnnotationEdit[];
    };
  };
  /** Rejects pending proposals (journaled: undo returns them to pending); others are skipped. */
  rejectProposals: {
    req: { ids: number[] };
    res: { rejected: AnnotationProposal[]; skipped: ProposalSkip[]; edits: AnnotationEdit[] };
  };
  /** The dataset export formats with a one-line description each. */
  exportFormats: { req: Record<string, never>; res: ExportFormatInfo[] };
  /**
   * Starts an export job (result: ExportJobResult) after every check the export makes, so bad input
   * fails the call and nothing is written: bad-input (unknown format, bad split, a folder that cannot
   * be written), not-found (session or fit), conflict (a session without a fit for a motion format, a
   * non-empty folder without force).
   */
  exportSessions: { req: ExportSessionsRequest; res: JobInfo };
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
  'listBadRanges',
  'markBadRange',
  'removeBadRange',
  'listUserKeypoints',
  'setUserKeypoint',
  'removeUserKeypoint',
  'refitWindow',
  'compareFits',
  'pickFit',
  'pickedFit',
  'listMotifModels',
  'trainingCurve',
  'motifProposals',
  'motifFamily',
  'trainMotifModel',
  'extractMotifs',
  'shippedMotifModels',
  'installShippedMotifModel',
  'listVocabularies',
  'createVocabulary',
  'updateVocabulary',
  'deleteVocabulary',
  'addLabel',
  'updateLabel',
  'removeLabel',
  'reorderLabels',
  'listAnnotations',
  'addTier',
  'updateTier',
  'removeTier',
  'reorderTiers',
  'createAnnotation',
  'updateAnnotation',
  'splitAnnotation',
  'mergeAnnotations',
  'deleteAnnotation',
  'undoAnnotation',
  'redoAnnotation',
  'annotationHistory',
  'proposeFamilyLabel',
  'listAnnotationProposals',
  'acceptProposals',
  'rejectProposals',
  'exportFormats',
  'exportSessions',
] as const satisfies readonly ApiMethod[];

type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
// Fails to compile when a call is added to ApiCalls but not to API_METHODS.
export const API_METHODS_COMPLETE: Missing extends never ? true : Missing = true;

export interface ApiEvents {
  jobProgress: JobInfo;
  libraryChanged: {
    /** fit-corrected: a bad range, a user keypoint or the exported fit version of sessionId changed. */
    reason:
      | 'session-added'
      | 'session-deleted'
      | 'job-changed'
      | 'settings-changed'
      | 'model-added'
      | 'fit-corrected';
    sessionId?: number;
  };
  /**
   * After every write to annotations, tiers, proposals or vocabularies, so every window re-reads:
   * the session written, or no sessionId when vocabularies changed (every session shows them).
   */
  annotationsChanged: { sessionId?: number };
}
export type ApiEventName = keyof ApiEvents;
export const API_EVENTS = [
  'jobProgress',
  'libraryChanged',
  'annotationsChanged',
] as const satisfies readonly ApiEventName[];

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
