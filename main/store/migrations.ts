/**
 * Numbered schema migrations. Append only: a released migration is never edited, a change is a new
 * entry. `schema_version` holds the number of the last one applied.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: sessions, cameras, media, jobs, per-frame tracks stored as float32 BLOB chunks.
  `
  CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled','interrupted')),
    progress    REAL NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    params      TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    owner_pid   INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE INDEX jobs_state ON jobs(state);

  CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    source_path  TEXT NOT NULL,
    format       TEXT NOT NULL,
    -- 'importing' rows are partial (a job is writing them, or was killed doing so) and never listed.
    state        TEXT NOT NULL CHECK (state IN ('importing','ready')),
    job_id       INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    fps_num      INTEGER NOT NULL DEFAULT 0,
    fps_den      INTEGER NOT NULL DEFAULT 1,
    frame_count  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
  );
  CREATE UNIQUE INDEX sessions_source ON sessions(source_path);
  CREATE INDEX sessions_job ON sessions(job_id);

  CREATE TABLE cameras (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('room','foot-left','foot-right')),
    calibration  TEXT NOT NULL,
    UNIQUE (session_id, name)
  );

  CREATE TABLE media (
    id           INTEGER PRIMARY KEY,
    camera_id    INTEGER NOT NULL UNIQUE REFERENCES cameras(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    fps_num      INTEGER NOT NULL,
    fps_den      INTEGER NOT NULL,
    frame_count  INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    duration_s   REAL NOT NULL,
    codec        TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    thumbnail    BLOB
  );

  -- One per-frame array (e.g. a camera's 2D keypoints); frames live in chunks.
  CREATE TABLE tracks (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    camera_id    INTEGER REFERENCES cameras(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    layout       TEXT NOT NULL,
    names        TEXT NOT NULL,
    frame_shape  TEXT NOT NULL,
    frame_count  INTEGER NOT NULL,
    first_frame  INTEGER NOT NULL DEFAULT 0,
    chunk_frames INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX tracks_unique ON tracks(session_id, IFNULL(camera_id, -1), kind);

  -- float32 little-endian, shape [frames, ...frame_shape] stored beside the bytes.
  CREATE TABLE chunks (
    track_id     INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    chunk_index  INTEGER NOT NULL,
    start_frame  INTEGER NOT NULL,
    shape        TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (track_id, chunk_index)
  ) WITHOUT ROWID;
  `,
  // 2: what a session.json says beyond cameras (boards, subject, ground truth), as JSON.
  `ALTER TABLE sessions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';`,
  // 3: user settings (preload/api.ts Settings), one row per top-level key, the value as JSON.
  `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 4: body-fit versions. Per-frame arrays are session tracks (camera NULL) of kind 'fit:<id>:<name>'
  // (store/fits.ts); the session's cascade removes both, the trigger removes a lone fit's tracks.
  `
  CREATE TABLE fits (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    job_id          INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    label           TEXT NOT NULL,
    config          TEXT NOT NULL,
    -- relative to the app's native/ folder (the open model) or the user's absolute path
    body_model      TEXT NOT NULL,
    betas           TEXT NOT NULL,
    first_frame     INTEGER NOT NULL,
    frame_count     INTEGER NOT NULL,
    quality_fields  TEXT NOT NULL,
    stats           TEXT NOT NULL
  );
  CREATE INDEX fits_session ON fits(session_id, id);
  CREATE TRIGGER fits_tracks AFTER DELETE ON fits BEGIN
    DELETE FROM tracks WHERE session_id = OLD.session_id AND camera_id IS NULL
      AND kind LIKE 'fit:' || OLD.id || ':%';
  END;
  `,
  // 5: A4Mer model registry and its per-session proposals (store/motif-models.ts, motif-proposals.ts).
  // A model's files live in `dir`, relative to the data dir; AUTOINCREMENT so an id (and its folder
  // name) is never reused. Proposals: one set per (session, model), its segments one row each; deleting
  // a session or a model cascades to both.
  `
  CREATE TABLE motif_models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    job_id       INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('training','ready','failed')),
    config       TEXT NOT NULL,
    training     TEXT NOT NULL,
    metrics      TEXT NOT NULL DEFAULT '{}',
    steps_done   INTEGER NOT NULL DEFAULT 0,
    steps_total  INTEGER NOT NULL,
    dir          TEXT NOT NULL
  );
  CREATE INDEX motif_models_job ON motif_models(job_id);

  -- One row per logged step; vals is a JSON object of named figures (NaN stored as null).
  CREATE TABLE motif_training_log (
    model_id  INTEGER NOT NULL REFERENCES motif_models(id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    vals      TEXT NOT NULL,
    PRIMARY KEY (model_id, step)
  ) WITHOUT ROWID;

  -- The rowid orders saves: the highest is the session's newest set.
  CREATE TABLE motif_proposals (
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    model_id    INTEGER NOT NULL REFERENCES motif_models(id) ON DELETE CASCADE,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    PRIMARY KEY (session_id, model_id)
  );
  CREATE INDEX motif_proposals_model ON motif_proposals(model_id);
  CREATE INDEX motif_proposals_job ON motif_proposals(job_id);

  -- Session frames [start_frame, end_frame). Atoms carry code; motifs pattern and family.
  CREATE TABLE motif_segments (
    session_id   INTEGER NOT NULL,
    model_id     INTEGER NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('atom','motif')),
    idx          INTEGER NOT NULL,
    start_frame  INTEGER NOT NULL,
    end_frame    INTEGER NOT NULL CHECK (end_frame > start_frame),
    code         INTEGER,
    pattern      INTEGER,
    family       INTEGER,
    PRIMARY KEY (session_id, model_id, level, idx),
    FOREIGN KEY (session_id, model_id) REFERENCES motif_proposals(session_id, model_id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX motif_segments_family ON motif_segments(model_id, family);
  `,
  // 6: annotations (store/vocabularies.ts, annotations.ts, annotation-history.ts, annotation-proposals.ts).
  // Label vocabularies are library-wide; tiers, segments, their edit history and motif-family proposals
  // are per session and go with it. AUTOINCREMENT everywhere: undo/redo re-insert rows with their ids,
  // so an id must never be handed out twice. Frames are session frames [start_frame, end_frame).
  // annotation_proposals.annotation_id has no foreign key: an accepted proposal keeps naming its
  // annotation while an undoable delete has removed it.
  `
  CREATE TABLE label_vocabularies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
  );

  CREATE TABLE vocabulary_labels (
    vocabulary_id  INTEGER NOT NULL REFERENCES label_vocabularies(id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (name <> ''),
    colour         TEXT NOT NULL CHECK (colour GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    description    TEXT NOT NULL DEFAULT '',
    position       INTEGER NOT NULL,
    PRIMARY KEY (vocabulary_id, name)
  ) WITHOUT ROWID;

  CREATE TABLE annotation_tiers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (name <> ''),
    kind           TEXT NOT NULL CHECK (kind IN ('action','motif','free')),
    vocabulary_id  INTEGER REFERENCES label_vocabularies(id),
    position       INTEGER NOT NULL,
    UNIQUE (session_id, name)
  );
  CREATE INDEX annotation_tiers_vocabulary ON annotation_tiers(vocabulary_id);

  CREATE TABLE annotations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tier_id      INTEGER NOT NULL REFERENCES annotation_tiers(id) ON DELETE CASCADE,
    start_frame  INTEGER NOT NULL CHECK (start_frame >= 0),
    end_frame    INTEGER NOT NULL CHECK (end_frame > start_frame),
    label        TEXT NOT NULL CHECK (label <> ''),
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  CREATE INDEX annotations_tier ON annotations(tier_id, start_frame);

  CREATE TABLE annotation_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    op          TEXT NOT NULL,
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('done','undone','abandoned'))
  );
  CREATE INDEX annotation_history_session ON annotation_history(session_id, state, id);

  CREATE TABLE annotation_proposals (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    tier_id        INTEGER NOT NULL REFERENCES annotation_tiers(id) ON DELETE CASCADE,
    start_frame    INTEGER NOT NULL,
    end_frame      INTEGER NOT NULL CHECK (end_frame > start_frame),
    label          TEXT NOT NULL CHECK (label <> ''),
    source         TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending','accepted','rejected')),
    annotation_id  INTEGER,
    created_at     TEXT NOT NULL
  );
  CREATE INDEX annotation_proposals_session ON annotation_proposals(session_id, state);
  CREATE INDEX annotation_proposals_tier ON annotation_proposals(tier_id);
  `,
  // 7: fit corrections (store/fit-corrections.ts). Bad frame ranges [start_frame, end_frame) and user
  // keypoints (one per camera, frame and joint of the camera's keypoint layout) go with their session
  // (and camera); fit_picks names the fit version a session exports, and a deleted fit drops its pick
  // (the session then falls back to its newest fit).
  `
  CREATE TABLE fit_bad_ranges (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    start_frame  INTEGER NOT NULL CHECK (start_frame >= 0),
    end_frame    INTEGER NOT NULL CHECK (end_frame > start_frame),
    note         TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
  );
  CREATE INDEX fit_bad_ranges_session ON fit_bad_ranges(session_id, start_frame);

  CREATE TABLE user_keypoints (
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    camera_id   INTEGER NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    frame       INTEGER NOT NULL CHECK (frame >= 0),
    joint       INTEGER NOT NULL CHECK (joint >= 0),
    u           REAL NOT NULL,
    v           REAL NOT NULL,
    confidence  REAL NOT NULL CHECK (confidence > 0 AND confidence <= 1),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (camera_id, frame, joint)
  ) WITHOUT ROWID;
  CREATE INDEX user_keypoints_session ON user_keypoints(session_id, frame);

  CREATE TABLE fit_picks (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    fit_id      INTEGER NOT NULL REFERENCES fits(id) ON DELETE CASCADE,
    picked_at   TEXT NOT NULL
  );
  CREATE INDEX fit_picks_fit ON fit_picks(fit_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
