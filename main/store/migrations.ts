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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
