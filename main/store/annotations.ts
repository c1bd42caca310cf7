import type { AnnotationTier, SessionAnnotations, TierAnnotations, TierKind } from '../../preload/api';
import {
  commitEdit,
  describeAnnotation,
  NO_CHANGE,
  readAnnotation,
  toAnnotation,
} from './annotation-history';
import type { Annotation, AnnotationRow, EditResult } from './annotation-history';
import type { Db } from './db';
import { checkLabelText, vocabularyLabels } from './vocabularies';

/**
 * Annotation tiers and segments of a session (migration 6), like ELAN: an 'action' and a 'motif'
 * tier per session (ensureDefaultTiers) plus free tiers the user adds. A tier with a vocabulary
 * accepts only its labels. Segments are session frames [start, end), integers within the session,
 * never overlapping within a tier.
 *
 * Each edit below is one transaction that writes the change and one history entry
 * (annotation-history.ts), and returns what it did; any invalid edit throws an Error naming the
 * annotation (or tier) and the session, and changes nothing. Tier changes are not journaled, so a
 * tier that holds segments cannot be removed (its segments would be lost to undo).
 */

export type { Annotation, AnnotationSource, EditResult } from './annotation-history';

export type { AnnotationTier, SessionAnnotations, TierAnnotations, TierKind };

export interface AnnotationUpdate {
  start?: number;
  end?: number;
  label?: string;
}

interface TierRow {
  id: number;
  session_id: number;
  name: string;
  kind: TierKind;
  vocabulary_id: number | null;
  position: number;
}

const DEFAULT_TIERS: readonly TierKind[] = ['action', 'motif'];

function toTier(r: TierRow): AnnotationTier {
  return {
    id: r.id,
    sessionId: r.session_id,
    name: r.name,
    kind: r.kind,
    vocabularyId: r.vocabulary_id,
    position: r.position,
  };
}

async function readySession(db: Db, sessionId: number): Promise<{ frame_count: number }> {
  const s = await db.get<{ frame_count: number }>(
    `SELECT frame_count FROM sessions WHERE id = ? AND state = 'ready'`,
    [sessionId],
  );
  if (!s) throw new Error(`session #${sessionId} does not exist`);
  return s;
}

async function tiersOf(db: Db, sessionId: number): Promise<AnnotationTier[]> {
  const rows = await db.all<TierRow>(
    'SELECT * FROM annotation_tiers WHERE session_id = ? ORDER BY position, id',
    [sessionId],
  );
  return rows.map(toTier);
}

async function mustTier(db: Db, tierId: number): Promise<AnnotationTier> {
  const r = await db.get<TierRow>('SELECT * FROM annotation_tiers WHERE id = ?', [tierId]);
  if (!r) throw new Error(`tier #${tierId} does not exist`);
  return toTier(r);
}

async function insertTier(
  db: Db,
  sessionId: number,
  name: string,
  kind: TierKind,
  vocabularyId: number | null,
): Promise<AnnotationTier> {
  const next = await db.get<{ p: number }>(
    'SELECT IFNULL(MAX(position) + 1, 0) AS p FROM annotation_tiers WHERE session_id = ?',
    [sessionId],
  );
  const { lastID } = await db.run(
    'INSERT INTO annotation_tiers (session_id, name, kind, vocabulary_id, position) VALUES (?, ?, ?, ?, ?)',
    [sessionId, name, kind, vocabularyId, next!.p],
  );
  return mustTier(db, lastID);
}

/** Inside a transaction: makes the session's 'action' and 'motif' tiers (by kind) if missing. */
export async function ensureDefaultTiersIn(db: Db, sessionId: number): Promise<AnnotationTier[]> {
  await readySession(db, sessionId);
  const tiers = await tiersOf(db, sessionId);
  for (const kind of DEFAULT_TIERS) {
    if (tiers.some((t) => t.kind === kind)) continue;
    // A free tier may already use the plain name: number the default one.
    let name: string = kind;
    for (let i = 2; tiers.some((t) => t.name === name); i++) name = `${kind} ${i}`;
    tiers.push(await insertTier(db, sessionId, name, kind, null));
  }
  return tiers;
}

/** The session's tiers, with its 'action' and 'motif' tiers made first if missing. */
export async function ensureDefaultTiers(db: Db, sessionId: number): Promise<AnnotationTier[]> {
  return db.transaction(async () => {
    await ensureDefaultTiersIn(db, sessionId);
    return tiersOf(db, sessionId);
  });
}

async function checkVocabulary(db: Db, where: string, vocabularyId: number | null): Promise<void> {
  if (vocabularyId === null) return;
  if (
    !Number.isInteger(vocabularyId) ||
    !(await db.get('SELECT 1 FROM label_vocabularies WHERE id = ?', [vocabularyId]))
  )
    throw new Error(`${where}: vocabulary #${vocabularyId} does not exist`);
}

/** Adds a free tier (last), optionally controlled by a vocabulary. */
export async function addTier(
  db: Db,
  sessionId: number,
  t: { name: string; vocabularyId?: number | null },
): Promise<AnnotationTier> {
  const where = `new tier "${t.name}" of session #${sessionId}`;
  const name = checkLabelText(where, 'the name', t.name);
  return db.transaction(async () => {
    await readySession(db, sessionId);
    await checkVocabulary(db, where, t.vocabularyId ?? null);
    if ((await tiersOf(db, sessionId)).some((x) => x.name === name))
      throw new Error(`${where}: the session has a tier of that name already`);
    return insertTier(db, sessionId, name, 'free', t.vocabularyId ?? null);
  });
}

/**
 * Renames a tier or sets its vocabulary (null: free text). A vocabulary is refused unless it has
 * every label the tier's segments carry.
 */
export async function updateTier(
  db: Db,
  tierId: number,
  u: { name?: string; vocabularyId?: number | null },
): Promise<AnnotationTier> {
  return db.transaction(async () => {
    const tier = await mustTier(db, tierId);
    const where = `tier #${tierId} "${tier.name}" of session #${tier.sessionId}`;
    if (u.name !== undefined) {
      const name = checkLabelText(where, 'the new name', u.name);
      if ((await tiersOf(db, tier.sessionId)).some((x) => x.name === name && x.id !== tierId))
        throw new Error(`${where}: the session has a tier named "${name}" already`);
      await db.run('UPDATE annotation_tiers SET name = ? WHERE id = ?', [name, tierId]);
    }
    if (u.vocabularyId !== undefined) {
      await checkVocabulary(db, where, u.vocabularyId);
      if (u.vocabularyId !== null) {
        const known = new Set((await vocabularyLabels(db, u.vocabularyId)).map((l) => l.name));
        const used = await db.all<{ label: string }>(
          'SELECT DISTINCT label FROM annotations WHERE tier_id = ? ORDER BY label',
          [tierId],
        );
        const missing = used.map((r) => r.label).filter((l) => !known.has(l));
        if (missing.length > 0)
          throw new Error(
            `${where}: vocabulary #${u.vocabularyId} lacks the labels ${missing.map((l) => `"${l}"`).join(', ')} ` +
              'that its segments carry',
          );
      }
      await db.run('UPDATE annotation_tiers SET vocabulary_id = ? WHERE id = ?', [u.vocabularyId, tierId]);
    }
    return mustTier(db, tierId);
  });
}

/** Sets the tier order; `tierIds` must list each of the session's tiers once. */
export async function reorderTiers(db: Db, sessionId: number, tierIds: number[]): Promise<AnnotationTier[]> {
  return db.transaction(async () => {
    const tiers = await tiersOf(db, sessionId);
    const known = new Set(tiers.map((t) => t.id));
    if (
      !Array.isArray(tierIds) ||
      new Set(tierIds).size !== tierIds.length ||
      tierIds.length !== known.size ||
      tierIds.some((id) => !known.has(id))
    )
      throw new Error(
        `tiers of session #${sessionId}: the new order must list each of its ${known.size} tiers once`,
      );
    for (const [i, id] of tierIds.entries())
      await db.run('UPDATE annotation_tiers SET position = ? WHERE id = ?', [i, id]);
    return tiersOf(db, sessionId);
  });
}

/** Removes a tier without segments (and its proposals); false when there was none. */
export async function removeTier(db: Db, tierId: number): Promise<boolean> {
  return db.transaction(async () => {
    const r = await db.get<TierRow>('SELECT * FROM annotation_tiers WHERE id = ?', [tierId]);
    if (!r) return false;
    const n = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM annotations WHERE tier_id = ?', [
      tierId,
    ]))!.n;
    if (n > 0)
      throw new Error(
        `tier #${tierId} "${r.name}" of session #${r.session_id} holds ${n} segment(s); delete them first`,
      );
    await db.run('DELETE FROM annotation_tiers WHERE id = ?', [tierId]);
    return true;
  });
}

/** Every tier of the session (ordered) with its segments by start and its labels' colours. */
export async function listAnnotations(db: Db, sessionId: number): Promise<SessionAnnotations> {
  const session = await readySession(db, sessionId);
  const tiers: TierAnnotations[] = [];
  for (const t of await tiersOf(db, sessionId)) {
    const rows = await db.all<AnnotationRow>(
      'SELECT * FROM annotations WHERE tier_id = ? ORDER BY start_frame',
      [t.id],
    );
    const vocabulary =
      t.vocabularyId === null
        ? undefined
        : await db.get<{ name: string }>('SELECT name FROM label_vocabularies WHERE id = ?', [
            t.vocabularyId,
          ]);
    tiers.push({
      ...t,
      vocabularyName: vocabulary?.name ?? null,
      labels: t.vocabularyId === null ? [] : await vocabularyLabels(db, t.vocabularyId),
      annotations: rows.map(toAnnotation),
    });
  }
  return { sessionId, frameCount: session.frame_count, tiers };
}

export async function getTier(db: Db, tierId: number): Promise<AnnotationTier | undefined> {
  const r = await db.get<TierRow>('SELECT * FROM annotation_tiers WHERE id = ?', [tierId]);
  return r && toTier(r);
}

export async function getAnnotation(db: Db, id: number): Promise<Annotation | undefined> {
  return readAnnotation(db, id);
}

async function mustAnnotation(db: Db, id: number): Promise<{ a: Annotation; tier: AnnotationTier }> {
  const a = await readAnnotation(db, id);
  if (!a) throw new Error(`annotation #${id} does not exist`);
  return { a, tier: await mustTier(db, a.tierId) };
}

/** A new user segment [start, end) with `label` in the tier. */
export async function createAnnotation(
  db: Db,
  tierId: number,
  start: number,
  end: number,
  label: string,
): Promise<EditResult> {
  return db.transaction(async () => {
    const tier = await mustTier(db, tierId);
    const now = new Date().toISOString();
    const source = { kind: 'user' as const };
    return commitEdit(db, tier.sessionId, 'create', NO_CHANGE, {
      annotations: [{ id: null, tierId, start, end, label, source, createdAt: now, updatedAt: now }],
      proposals: [],
    });
  });
}

/** Moves boundaries (drag, nudge, move) and/or relabels; the op is 'move', 'relabel' or 'update'. */
export async function updateAnnotation(db: Db, id: number, u: AnnotationUpdate): Promise<EditResult> {
  const unknown = Object.keys(u ?? {}).filter((k) => !['start', 'end', 'label'].includes(k));
  if (unknown.length > 0) throw new Error(`update of annotation #${id}: unknown field "${unknown[0]}"`);
  return db.transaction(async () => {
    const { a, tier } = await mustAnnotation(db, id);
    const next = { ...a, start: u.start ?? a.start, end: u.end ?? a.end, label: u.label ?? a.label };
    const moved = next.start !== a.start || next.end !== a.end;
    const relabelled = next.label !== a.label;
    if (!moved && !relabelled)
      throw new Error(`update of ${describeAnnotation(a)} in session #${tier.sessionId} changes nothing`);
    const op = moved && relabelled ? 'update' : moved ? 'move' : 'relabel';
    return commitEdit(
      db,
      tier.sessionId,
      op,
      { annotations: [a], proposals: [] },
      { annotations: [{ ...next, updatedAt: new Date().toISOString() }], proposals: [] },
    );
  });
}

/** Splits at `frame` (strictly inside): the annotation keeps [start, frame), a new one gets [frame, end). */
export async function splitAnnotation(db: Db, id: number, frame: number): Promise<EditResult> {
  return db.transaction(async () => {
    const { a, tier } = await mustAnnotation(db, id);
    if (typeof frame !== 'number' || !Number.isInteger(frame) || frame <= a.start || frame >= a.end)
      throw new Error(
        `split of ${describeAnnotation(a)} in session #${tier.sessionId}: frame ${frame} is not an integer ` +
          `strictly inside it`,
      );
    const now = new Date().toISOString();
    return commitEdit(
      db,
      tier.sessionId,
      'split',
      { annotations: [a], proposals: [] },
      {
        annotations: [
          { ...a, end: frame, updatedAt: now },
          { ...a, id: null, start: frame, createdAt: now, updatedAt: now },
        ],
        proposals: [],
      },
    );
  });
}

/**
 * Merges neighbouring segments of one tier (touching or with empty frames between them, no other
 * segment in between) into the first one (by start), spanning them all; its label unless `label`.
 */
export async function mergeAnnotations(db: Db, ids: number[], label?: string): Promise<EditResult> {
  if (!Array.isArray(ids) || ids.length < 2) throw new Error('merge: give at least two annotations');
  if (new Set(ids).size !== ids.length) throw new Error(`merge: annotations ${ids.join(', ')} repeat one`);
  return db.transaction(async () => {
    const found: { a: Annotation; tier: AnnotationTier }[] = [];
    for (const id of ids) found.push(await mustAnnotation(db, id));
    const { tier } = found[0];
    const where = `merge of ${ids.map((id) => `#${id}`).join(', ')} in session #${tier.sessionId}`;
    const other = found.find((f) => f.tier.id !== tier.id);
    if (other)
      throw new Error(
        `${where}: annotation #${found[0].a.id} (tier "${tier.name}") and #${other.a.id} ` +
          `(tier "${other.tier.name}") are in different tiers`,
      );
    const rows = found.map((f) => f.a).sort((x, y) => x.start - y.start);
    const first = rows[0];
    const last = rows[rows.length - 1];
    const between = await db.all<AnnotationRow>(
      `SELECT * FROM annotations WHERE tier_id = ? AND start_frame < ? AND end_frame > ?
          AND id NOT IN (${ids.map(() => '?').join(', ')}) ORDER BY start_frame LIMIT 1`,
      [tier.id, last.end, first.start, ...ids],
    );
    if (between.length > 0)
      throw new Error(
        `${where}: ${describeAnnotation(toAnnotation(between[0]))} lies between them; merge only neighbours`,
      );
    const merged = {
      ...first,
      end: last.end,
      label: label ?? first.label,
      updatedAt: new Date().toISOString(),
    };
    return commitEdit(
      db,
      tier.sessionId,
      'merge',
      { annotations: rows, proposals: [] },
      { annotations: [merged], proposals: [] },
    );
  });
}

export async function deleteAnnotation(db: Db, id: number): Promise<EditResult> {
  return db.transaction(async () => {
    const { a, tier } = await mustAnnotation(db, id);
    return commitEdit(db, tier.sessionId, 'delete', { annotations: [a], proposals: [] }, NO_CHANGE);
  });
}
