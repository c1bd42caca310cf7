import type { JobInfo, JobKind, JobState } from '../../preload/api';
import type { Db } from './db';

interface JobRow {
  id: number;
  kind: JobKind;
  state: JobState;
  progress: number;
  message: string;
  params: string;
  result: string | null;
  error: string | null;
  owner_pid: number | null;
  created_at: string;
  updated_at: string;
}

function toInfo(r: JobRow): JobInfo {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    progress: r.progress,
    message: r.message,
    params: JSON.parse(r.params),
    result: r.result ? JSON.parse(r.result) : null,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const now = () => new Date().toISOString();

export async function insertJob(db: Db, kind: JobKind, params: Record<string, unknown>): Promise<number> {
  const t = now();
  const { lastID } = await db.run(
    `INSERT INTO jobs (kind, state, params, owner_pid, created_at, updated_at) VALUES (?, 'queued', ?, ?, ?, ?)`,
    [kind, JSON.stringify(params), process.pid, t, t],
  );
  return lastID;
}

export async function getJob(db: Db, id: number): Promise<JobInfo | undefined> {
  const row = await db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
  return row ? toInfo(row) : undefined;
}

export async function listJobs(db: Db, limit = 100): Promise<JobInfo[]> {
  const rows = await db.all<JobRow>('SELECT * FROM jobs ORDER BY id DESC LIMIT ?', [limit]);
  return rows.map(toInfo);
}

export async function updateJob(
  db: Db,
  id: number,
  patch: Partial<{
    state: JobState;
    progress: number;
    message: string;
    result: unknown;
    error: string | null;
    ownerPid: number;
  }>,
): Promise<void> {
  const sets: string[] = ['updated_at = ?'];
  const vals: (string | number | null)[] = [now()];
  const set = (column: string, value: string | number | null) => {
    sets.push(`${column} = ?`);
    vals.push(value);
  };
  if (patch.state !== undefined) set('state', patch.state);
  if (patch.progress !== undefined) set('progress', patch.progress);
  if (patch.message !== undefined) set('message', patch.message);
  if (patch.result !== undefined) set('result', JSON.stringify(patch.result));
  if (patch.error !== undefined) set('error', patch.error);
  if (patch.ownerPid !== undefined) set('owner_pid', patch.ownerPid);
  if (patch.state === 'running') sets.push('attempts = attempts + 1');
  vals.push(id);
  await db.run(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`, vals);
}

/** The oldest queued job this process owns. */
export async function nextQueuedJob(db: Db): Promise<JobInfo | undefined> {
  const row = await db.get<JobRow>(
    `SELECT * FROM jobs WHERE state = 'queued' AND owner_pid = ? ORDER BY id LIMIT 1`,
    [process.pid],
  );
  return row ? toInfo(row) : undefined;
}

function processAlive(pid: number | null): boolean {
  if (!pid) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Jobs left running or queued by a process that no longer exists (crash, SIGKILL, power loss) become
 * `interrupted`; jobs of a live process (another studio sharing the library) are left alone.
 */
export async function markInterruptedJobs(db: Db): Promise<number[]> {
  const rows = await db.all<{ id: number; owner_pid: number | null }>(
    `SELECT id, owner_pid FROM jobs WHERE state IN ('running', 'queued')`,
  );
  const dead = rows.filter((r) => !processAlive(r.owner_pid) || r.owner_pid === process.pid).map((r) => r.id);
  for (const id of dead) {
    await updateJob(db, id, { state: 'interrupted', message: 'interrupted: the process running it stopped' });
  }
  return dead;
}
