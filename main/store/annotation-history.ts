import type {
  Annotation,
  AnnotationChangeSet,
  AnnotationEdit,
  AnnotationHistoryEntry,
  AnnotationProposal,
  AnnotationProposalState,
  AnnotationSource,
} from '../../preload/api';
import type { Db } from './db';
import { checkLabelText, vocabularyLabels } from './vocabularies';

/**
 * The annotation journal (migration 6). Every write to a session's annotations (and to the state of
 * its motif-family proposals) is a change set: the full rows it removes or changes (`before`, as they
 * were) and the full rows it creates or changes (`after`, ids included). `applyChange` checks that
 * the `before` rows are exactly what the library holds, replaces them by the `after` rows, validates
 * the result, and the edit appends one `annotation_history` row, all in the caller's transaction.
 *
 * Undo applies an entry backwards (after -> before), redo forwards again; both re-insert rows with
 * their ids (ids are AUTOINCREMENT, never handed out twice), so undo/redo restores rows exactly.
 * Neither ever guesses: if the rows are no longer what the entry says (an edit outside the history,
 * a removed tier, a vocabulary that no longer has the label), they refuse with an Error naming the
 * entry and the row, and nothing changes. A new edit marks undone entries 'abandoned': kept, never
 * redone.
 */

export type { Annotation, AnnotationProposal, AnnotationSource };
export type ProposalState = AnnotationProposalState;

export type ChangeSet = AnnotationChangeSet;

export type HistoryState = AnnotationHistoryEntry['state'];
export type HistoryEntry = AnnotationHistoryEntry;
/** What an edit, undo or redo did: rows now present that it wrote, and ids it removed. */
export type EditResult = AnnotationEdit;

/** An annotation to write: id null for a new one (the library assigns it). */
export type AnnotationDraft = Omit<Annotation, 'id'> & { id: number | null };

export interface ChangeDraft {
  annotations: AnnotationDraft[];
  /** A function when proposals must name annotations this change creates (accept). */
  proposals: AnnotationProposal[] | ((created: Annotation[]) => AnnotationProposal[]);
}

export const NO_CHANGE: ChangeSet = { annotations: [], proposals: [] };

export interface AnnotationRow {
  id: number;
  tier_id: number;
  start_frame: number;
  end_frame: number;
  label: string;
  source: string;
  created_at: string;
  updated_at: string;
}

export interface ProposalRow {
  id: number;
  session_id: number;
  tier_id: number;
  start_frame: number;
  end_frame: number;
  label: string;
  source: string;
  state: ProposalState;
  annotation_id: number | null;
  created_at: string;
}

interface HistoryRow {
  id: number;
  session_id: number;
  op: string;
  before: string;
  after: string;
  created_at: string;
  state: HistoryState;
}

export function toAnnotation(r: AnnotationRow): Annotation {
  return {
    id: r.id,
    tierId: r.tier_id,
    start: r.start_frame,
    end: r.end_frame,
    label: r.label,
    source: JSON.parse(r.source) as AnnotationSource,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toProposal(r: ProposalRow): AnnotationProposal {
  return {
    id: r.id,
    sessionId: r.session_id,
    tierId: r.tier_id,
    start: r.start_frame,
    end: r.end_frame,
    label: r.label,
    source: JSON.parse(r.source) as AnnotationProposal['source'],
    state: r.state,
    annotationId: r.annotation_id,
    createdAt: r.created_at,
  };
}

/** Key-sorted JSON, so rows compare by content whatever order their objects were built in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

export function describeAnnotation(a: {
  id: number | null;
  start: number;
  end: number;
  label: string;
}): string {
  return `${a.id === null ? 'new annotation' : `annotation #${a.id}`} [${a.start}, ${a.end}) "${a.label}"`;
}

export async function readAnnotation(db: Db, id: number): Promise<Annotation | undefined> {
  const r = await db.get<AnnotationRow>('SELECT * FROM annotations WHERE id = ?', [id]);
  return r && toAnnotation(r);
}

export async function readProposal(db: Db, id: number): Promise<AnnotationProposal | undefined> {
  const r = await db.get<ProposalRow>('SELECT * FROM annotation_proposals WHERE id = ?', [id]);
  return r && toProposal(r);
}

interface TierCheck {
  name: string;
  frameCount: number;
  /** Undefined for a free-text tier. */
  labels?: Set<string>;
}

/** The tier, its session's frame count and its vocabulary; an Error unless it is in `sessionId`. */
async function tierCheck(db: Db, where: string, tierId: number, sessionId: number): Promise<TierCheck> {
  const t = await db.get<{ name: string; session_id: number; vocabulary_id: number | null; frames: number }>(
    `SELECT t.name, t.session_id, t.vocabulary_id, s.frame_count AS frames
       FROM annotation_tiers t JOIN sessions s ON s.id = t.session_id WHERE t.id = ?`,
    [tierId],
  );
  if (!t) throw new Error(`${where}: tier #${tierId} does not exist`);
  if (t.session_id !== sessionId)
    throw new Error(`${where}: tier #${tierId} is not in session #${sessionId}`);
  const labels =
    t.vocabulary_id === null
      ? undefined
      : new Set((await vocabularyLabels(db, t.vocabulary_id)).map((l) => l.name));
  return { name: t.name, frameCount: t.frames, labels };
}

function checkFrames(at: string, a: AnnotationDraft, frameCount: number): void {
  if (!Number.isInteger(a.start)) throw new Error(`${at}: start ${a.start} is not an integer frame`);
  if (!Number.isInteger(a.end)) throw new Error(`${at}: end ${a.end} is not an integer frame`);
  if (a.start < 0) throw new Error(`${at}: start ${a.start} is before frame 0`);
  if (a.end <= a.start) throw new Error(`${at}: end ${a.end} is not after start ${a.start}`);
  if (a.end > frameCount) throw new Error(`${at}: end ${a.end} is past the session's ${frameCount} frames`);
}

/** Checks one row against its tier and the rows the tier holds now, then inserts it. */
async function insertAnnotation(
  db: Db,
  where: string,
  sessionId: number,
  a: AnnotationDraft,
): Promise<Annotation> {
  const tier = await tierCheck(db, `${where}: ${describeAnnotation(a)}`, a.tierId, sessionId);
  const at = `${where}: ${describeAnnotation(a)} in tier "${tier.name}"`;
  checkFrames(at, a, tier.frameCount);
  checkLabelText(at, 'the label', a.label);
  if (tier.labels && !tier.labels.has(a.label))
    throw new Error(
      `${at}: label "${a.label}" is not in the tier's vocabulary (${[...tier.labels].join(', ')})`,
    );
  if (a.id !== null && (await readAnnotation(db, a.id)))
    throw new Error(`${at}: annotation #${a.id} exists already`);
  const clash = await db.get<AnnotationRow>(
    'SELECT * FROM annotations WHERE tier_id = ? AND start_frame < ? AND end_frame > ? ORDER BY start_frame LIMIT 1',
    [a.tierId, a.end, a.start],
  );
  if (clash) throw new Error(`${at}: overlaps ${describeAnnotation(toAnnotation(clash))}`);
  const { lastID } = await db.run(
    `INSERT INTO annotations (id, tier_id, start_frame, end_frame, label, source, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.id, a.tierId, a.start, a.end, a.label, JSON.stringify(a.source), a.createdAt, a.updatedAt],
  );
  // Read back, so the journal holds exactly what the library holds.
  return (await readAnnotation(db, a.id ?? lastID))!;
}

async function insertProposal(
  db: Db,
  where: string,
  sessionId: number,
  p: AnnotationProposal,
): Promise<void> {
  if (p.sessionId !== sessionId)
    throw new Error(`${where}: proposal #${p.id} is not in session #${sessionId}`);
  if (await readProposal(db, p.id)) throw new Error(`${where}: proposal #${p.id} exists already`);
  await tierCheck(db, `${where}: proposal #${p.id}`, p.tierId, sessionId);
  await db.run(
    `INSERT INTO annotation_proposals (id, session_id, tier_id, start_frame, end_frame, label, source, state,
       annotation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      p.id,
      p.sessionId,
      p.tierId,
      p.start,
      p.end,
      p.label,
      JSON.stringify(p.source),
      p.state,
      p.annotationId,
      p.createdAt,
    ],
  );
}

/**
 * Inside a transaction: checks the `from` rows are exactly the library's, deletes them, inserts the
 * `to` rows (validated: tier of this session, integer frames within the session, label in the tier's
 * vocabulary, no overlap in the tier) and returns them as stored. Any failure throws, so the caller's
 * transaction rolls everything back.
 */
export async function applyChange(
  db: Db,
  sessionId: number,
  where: string,
  from: ChangeSet,
  to: ChangeDraft,
): Promise<ChangeSet> {
  for (const a of from.annotations) {
    const cur = await readAnnotation(db, a.id);
    if (!cur) throw new Error(`${where}: ${describeAnnotation(a)} no longer exists`);
    if (canonical(cur) !== canonical(a))
      throw new Error(
        `${where}: ${describeAnnotation(a)} was changed since (now ${describeAnnotation(cur)})`,
      );
    await tierCheck(db, `${where}: ${describeAnnotation(a)}`, a.tierId, sessionId);
  }
  for (const p of from.proposals) {
    const cur = await readProposal(db, p.id);
    if (!cur) throw new Error(`${where}: proposal #${p.id} no longer exists`);
    if (canonical(cur) !== canonical(p))
      throw new Error(`${where}: proposal #${p.id} was changed since (now ${cur.state})`);
    if (cur.sessionId !== sessionId)
      throw new Error(`${where}: proposal #${p.id} is not in session #${sessionId}`);
  }
  for (const a of from.annotations) await db.run('DELETE FROM annotations WHERE id = ?', [a.id]);
  for (const p of from.proposals) await db.run('DELETE FROM annotation_proposals WHERE id = ?', [p.id]);

  const annotations: Annotation[] = [];
  for (const a of to.annotations) annotations.push(await insertAnnotation(db, where, sessionId, a));
  const proposals = typeof to.proposals === 'function' ? to.proposals(annotations) : to.proposals;
  for (const p of proposals) await insertProposal(db, where, sessionId, p);
  return { annotations, proposals };
}

function result(
  sessionId: number,
  historyId: number,
  op: string,
  from: ChangeSet,
  to: ChangeSet,
): EditResult {
  const kept = new Set(to.annotations.map((a) => a.id));
  return {
    sessionId,
    historyId,
    op,
    annotations: to.annotations,
    removedIds: from.annotations.map((a) => a.id).filter((id) => !kept.has(id)),
    proposals: to.proposals,
  };
}

/**
 * Inside a transaction: applies an edit and journals it as one 'done' entry; undone entries of the
 * session become 'abandoned' (their redo branch is gone, their rows stay in the journal).
 */
export async function commitEdit(
  db: Db,
  sessionId: number,
  op: string,
  before: ChangeSet,
  draft: ChangeDraft,
): Promise<EditResult> {
  const after = await applyChange(db, sessionId, `${op} in session #${sessionId}`, before, draft);
  await db.run(
    `UPDATE annotation_history SET state = 'abandoned' WHERE session_id = ? AND state = 'undone'`,
    [sessionId],
  );
  const { lastID } = await db.run(
    `INSERT INTO annotation_history (session_id, op, before, after, created_at, state) VALUES (?, ?, ?, ?, ?, 'done')`,
    [sessionId, op, JSON.stringify(before), JSON.stringify(after), new Date().toISOString()],
  );
  return result(sessionId, lastID, op, before, after);
}

function toEntry(r: HistoryRow): HistoryEntry {
  return {
    id: r.id,
    sessionId: r.session_id,
    op: r.op,
    before: JSON.parse(r.before) as ChangeSet,
    after: JSON.parse(r.after) as ChangeSet,
    createdAt: r.created_at,
    state: r.state,
  };
}

/** Reverts the session's newest 'done' entry; null when there is nothing to undo. */
export async function undo(db: Db, sessionId: number): Promise<EditResult | null> {
  return db.transaction(async () => {
    const row = await db.get<HistoryRow>(
      `SELECT * FROM annotation_history WHERE session_id = ? AND state = 'done' ORDER BY id DESC LIMIT 1`,
      [sessionId],
    );
    if (!row) return null;
    const e = toEntry(row);
    await applyChange(
      db,
      sessionId,
      `undo of edit #${e.id} (${e.op}) in session #${sessionId}`,
      e.after,
      e.before,
    );
    await db.run(`UPDATE annotation_history SET state = 'undone' WHERE id = ?`, [e.id]);
    return result(sessionId, e.id, e.op, e.after, e.before);
  });
}

/** Re-applies the oldest 'undone' entry newer than every 'done' one; null when there is none. */
export async function redo(db: Db, sessionId: number): Promise<EditResult | null> {
  return db.transaction(async () => {
    const row = await db.get<HistoryRow>(
      `SELECT * FROM annotation_history WHERE session_id = ? AND state = 'undone'
          AND id > IFNULL((SELECT MAX(id) FROM annotation_history WHERE session_id = ? AND state = 'done'), 0)
        ORDER BY id LIMIT 1`,
      [sessionId, sessionId],
    );
    if (!row) return null;
    const e = toEntry(row);
    await applyChange(
      db,
      sessionId,
      `redo of edit #${e.id} (${e.op}) in session #${sessionId}`,
      e.before,
      e.after,
    );
    await db.run(`UPDATE annotation_history SET state = 'done' WHERE id = ?`, [e.id]);
    return result(sessionId, e.id, e.op, e.before, e.after);
  });
}

/** The session's journal, newest first (`limit` entries when given). */
export async function listHistory(
  db: Db,
  sessionId: number,
  opts: { limit?: number } = {},
): Promise<HistoryEntry[]> {
  const limit = opts.limit ?? -1;
  if (!Number.isInteger(limit))
    throw new Error(`history of session #${sessionId}: limit ${limit} is not an integer`);
  const rows = await db.all<HistoryRow>(
    'SELECT * FROM annotation_history WHERE session_id = ? ORDER BY id DESC LIMIT ?',
    [sessionId, limit],
  );
  return rows.map(toEntry);
}

/** Whether undo and redo would find an entry now (what undo and redo above select, without applying it). */
export async function historyStatus(
  db: Db,
  sessionId: number,
): Promise<{ canUndo: boolean; canRedo: boolean }> {
  const row = await db.get<{ done: number | null; redo: number | null }>(
    `SELECT (SELECT MAX(id) FROM annotation_history WHERE session_id = ? AND state = 'done') AS done,
            (SELECT MAX(id) FROM annotation_history WHERE session_id = ? AND state = 'undone') AS redo`,
    [sessionId, sessionId],
  );
  return { canUndo: row?.done != null, canRedo: row?.redo != null && row.redo > (row.done ?? 0) };
}
