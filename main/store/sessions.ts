import type { BoardInfo, CameraInfo, SessionDetail, SessionSummary } from '../../preload/api';
import type { Db } from './db';

interface SessionRow {
  id: number;
  name: string;
  source_path: string;
  format: string;
  state: string;
  job_id: number | null;
  fps_num: number;
  fps_den: number;
  frame_count: number;
  created_at: string;
  camera_count: number;
  /** JSON: what a session.json says beyond cameras ({boards, subject, groundTruth}). */
  meta: string;
}

function toSummary(r: SessionRow): SessionSummary {
  return {
    id: r.id,
    name: r.name,
    sourcePath: r.source_path,
    format: r.format,
    createdAt: r.created_at,
    cameraCount: r.camera_count,
    frameCount: r.frame_count,
    fps: r.fps_den > 0 ? r.fps_num / r.fps_den : 0,
  };
}

const SUMMARY_SQL = `SELECT s.*, (SELECT COUNT(*) FROM cameras c WHERE c.session_id = s.id) AS camera_count
  FROM sessions s WHERE s.state = 'ready'`;

/** Only complete sessions: partial ones ('importing') are invisible until their job finishes. */
export async function listSessions(db: Db): Promise<SessionSummary[]> {
  const rows = await db.all<SessionRow>(`${SUMMARY_SQL} ORDER BY s.id DESC`);
  return rows.map(toSummary);
}

export async function countSessions(db: Db): Promise<number> {
  const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM sessions WHERE state = 'ready'`);
  return row?.n ?? 0;
}

export async function getSession(db: Db, id: number): Promise<SessionDetail | undefined> {
  const row = await db.get<SessionRow>(`${SUMMARY_SQL} AND s.id = ?`, [id]);
  if (!row) return undefined;
  const cams = await db.all<{
    id: number;
    name: string;
    role: CameraInfo['role'];
    calibration: string;
    m_id: number | null;
    fps_num: number;
    fps_den: number;
    frame_count: number;
    width: number;
    height: number;
    duration_s: number;
    codec: string;
    k_layout: string | null;
    k_names: string | null;
    k_frames: number | null;
    k_first: number | null;
  }>(
    `SELECT c.id, c.name, c.role, c.calibration, m.id AS m_id, m.fps_num, m.fps_den, m.frame_count, m.width,
            m.height, m.duration_s, m.codec, t.layout AS k_layout, t.names AS k_names, t.frame_count AS k_frames,
            t.first_frame AS k_first
       FROM cameras c
       LEFT JOIN media m ON m.camera_id = c.id
       LEFT JOIN tracks t ON t.camera_id = c.id AND t.kind = 'keypoints2d'
      WHERE c.session_id = ? ORDER BY c.idx`,
    [id],
  );
  return {
    ...toSummary(row),
    boards: sessionBoards(row.meta).map(boardInfo),
    cameras: cams.map((c) => ({
      id: c.id,
      name: c.name,
      role: c.role,
      calibration: JSON.parse(c.calibration),
      video:
        c.m_id === null
          ? null
          : {
              fpsNum: c.fps_num,
              fpsDen: c.fps_den,
              frameCount: c.frame_count,
              width: c.width,
              height: c.height,
              durationS: c.duration_s,
              codec: c.codec,
            },
      keypoints:
        c.k_layout === null
          ? null
          : {
              layout: c.k_layout,
              jointNames: JSON.parse(c.k_names ?? '[]'),
              frameCount: c.k_frames ?? 0,
              firstFrame: c.k_first ?? 0,
            },
    })),
  };
}

/** The boards array of a session's meta JSON, as stored (import validated it); [] when absent. */
function sessionBoards(meta: string): Record<string, unknown>[] {
  try {
    const boards = (JSON.parse(meta) as { boards?: unknown }).boards;
    return Array.isArray(boards) ? boards.filter((b) => typeof b === 'object' && b !== null) : [];
  } catch {
    return [];
  }
}

function boardInfo(b: Record<string, unknown>): BoardInfo {
  return {
    name: String(b.name),
    dictionary: String(b.dictionary),
    squaresX: Number(b.squaresX),
    squaresY: Number(b.squaresY),
    squareLength: Number(b.squareLength),
    markerLength: Number(b.markerLength),
    legacyPattern: b.legacyPattern === true,
    firstMarkerId: Number(b.firstMarkerId),
  };
}

/**
 * The full board specs (poses included) of a ready session, as stored in its meta; undefined when the
 * session does not exist. Callers validate them (validateBoardSpec) before use.
 */
export async function getSessionBoards(db: Db, id: number): Promise<Record<string, unknown>[] | undefined> {
  const row = await db.get<{ meta: string }>(`SELECT meta FROM sessions WHERE id = ? AND state = 'ready'`, [
    id,
  ]);
  return row ? sessionBoards(row.meta) : undefined;
}

/** Deletes a session and, through ON DELETE CASCADE, its cameras, media rows and tracks. */
export async function deleteSession(db: Db, id: number): Promise<boolean> {
  const { changes } = await db.transaction(() => db.run('DELETE FROM sessions WHERE id = ?', [id]));
  return changes > 0;
}

export async function findSessionBySource(
  db: Db,
  sourcePath: string,
): Promise<{ id: number; name: string; state: string; job_id: number | null } | undefined> {
  return db.get('SELECT id, name, state, job_id FROM sessions WHERE source_path = ?', [sourcePath]);
}

/** Media row of one camera, for the media server: only files registered here are ever served. */
export async function getMedia(
  db: Db,
  sessionId: number,
  cameraId: number,
): Promise<{ id: number; path: string; mime: string; thumbnail: Buffer | null } | undefined> {
  return db.get(
    `SELECT m.id, m.path, m.mime, m.thumbnail FROM media m JOIN cameras c ON c.id = m.camera_id
      JOIN sessions s ON s.id = c.session_id WHERE c.session_id = ? AND c.id = ? AND s.state = 'ready'`,
    [sessionId, cameraId],
  );
}

export async function getMediaById(
  db: Db,
  mediaId: number,
): Promise<{ path: string; mime: string } | undefined> {
  return db.get(
    `SELECT m.path, m.mime FROM media m JOIN cameras c ON c.id = m.camera_id JOIN sessions s ON s.id = c.session_id
      WHERE m.id = ? AND s.state = 'ready'`,
    [mediaId],
  );
}
