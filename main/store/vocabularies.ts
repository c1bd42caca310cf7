import type { LabelVocabulary, NewLabel, VocabularyLabel } from '../../preload/api';
import type { Db } from './db';

/**
 * Label vocabularies (migration 6): library-wide controlled lists of labels, each with a colour and a
 * description, in a user-chosen order. A tier that names a vocabulary accepts only its labels
 * (annotations.ts). Annotations store the label's name, so a label in use by a controlled tier can be
 * neither removed nor renamed (that would silently change segments behind the edit history), and a
 * vocabulary in use by a tier cannot be deleted.
 */

export type { LabelVocabulary, NewLabel, VocabularyLabel };

export interface LabelUpdate {
  name?: string;
  colour?: string;
  description?: string;
}

interface VocabularyRow {
  id: number;
  name: string;
  description: string;
  created_at: string;
}

const COLOUR = /^#[0-9a-f]{6}$/i;

/** A name or label: a non-empty string without surrounding white space. */
export function checkLabelText(where: string, what: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${where}: ${what} is empty`);
  if (v.trim() !== v) throw new Error(`${where}: ${what} "${v}" has surrounding white space`);
  return v;
}

function checkColour(where: string, v: unknown): string {
  if (typeof v !== 'string' || !COLOUR.test(v)) throw new Error(`${where}: colour "${v}" is not #rrggbb`);
  return v.toLowerCase();
}

function checkDescription(where: string, v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new Error(`${where}: description is not text`);
  return v;
}

/** The vocabulary's labels in order (no transaction: for use inside one). */
export async function vocabularyLabels(db: Db, vocabularyId: number): Promise<VocabularyLabel[]> {
  return db.all<VocabularyLabel>(
    `SELECT name, colour, description, position FROM vocabulary_labels WHERE vocabulary_id = ? ORDER BY position`,
    [vocabularyId],
  );
}

async function readVocabulary(db: Db, id: number): Promise<LabelVocabulary | undefined> {
  const row = await db.get<VocabularyRow>('SELECT * FROM label_vocabularies WHERE id = ?', [id]);
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    labels: await vocabularyLabels(db, id),
  };
}

async function mustRead(db: Db, id: number): Promise<LabelVocabulary> {
  const v = await readVocabulary(db, id);
  if (!v) throw new Error(`vocabulary #${id} does not exist`);
  return v;
}

async function checkNameFree(db: Db, where: string, name: string, exceptId?: number): Promise<void> {
  const other = await db.get<{ id: number }>('SELECT id FROM label_vocabularies WHERE name = ?', [name]);
  if (other && other.id !== exceptId)
    throw new Error(`${where}: a vocabulary named "${name}" exists already`);
}

/** Annotations of tiers controlled by the vocabulary that carry the label. */
async function labelUses(db: Db, vocabularyId: number, label: string): Promise<number> {
  const row = await db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM annotations a JOIN annotation_tiers t ON t.id = a.tier_id
      WHERE t.vocabulary_id = ? AND a.label = ?`,
    [vocabularyId, label],
  );
  return row!.n;
}

function checkNewLabels(where: string, labels: NewLabel[]): NewLabel[] {
  if (!Array.isArray(labels)) throw new Error(`${where}: labels is not a list`);
  const seen = new Set<string>();
  return labels.map((l, i) => {
    const at = `${where}: labels[${i}]`;
    const name = checkLabelText(at, 'the name', l?.name);
    if (seen.has(name)) throw new Error(`${at}: "${name}" is listed twice`);
    seen.add(name);
    return { name, colour: checkColour(at, l.colour), description: checkDescription(at, l.description) };
  });
}

async function insertLabel(db: Db, vocabularyId: number, l: NewLabel, position: number): Promise<void> {
  await db.run(
    `INSERT INTO vocabulary_labels (vocabulary_id, name, colour, description, position) VALUES (?, ?, ?, ?, ?)`,
    [vocabularyId, l.name, l.colour, l.description ?? '', position],
  );
}

export async function createVocabulary(
  db: Db,
  v: { name: string; description?: string; labels?: NewLabel[] },
): Promise<LabelVocabulary> {
  const where = `new vocabulary "${v.name}"`;
  const name = checkLabelText(where, 'the name', v.name);
  const description = checkDescription(where, v.description);
  const labels = checkNewLabels(where, v.labels ?? []);
  return db.transaction(async () => {
    await checkNameFree(db, where, name);
    const { lastID } = await db.run(
      'INSERT INTO label_vocabularies (name, description, created_at) VALUES (?, ?, ?)',
      [name, description, new Date().toISOString()],
    );
    for (const [i, l] of labels.entries()) await insertLabel(db, lastID, l, i);
    return mustRead(db, lastID);
  });
}

/** Every vocabulary with its labels, by name. */
export async function listVocabularies(db: Db): Promise<LabelVocabulary[]> {
  const rows = await db.all<{ id: number }>('SELECT id FROM label_vocabularies ORDER BY name');
  const out: LabelVocabulary[] = [];
  for (const r of rows) out.push((await readVocabulary(db, r.id))!);
  return out;
}

export async function getVocabulary(db: Db, id: number): Promise<LabelVocabulary | undefined> {
  return readVocabulary(db, id);
}

export async function updateVocabulary(
  db: Db,
  id: number,
  u: { name?: string; description?: string },
): Promise<LabelVocabulary> {
  const where = `vocabulary #${id}`;
  const name = u.name === undefined ? undefined : checkLabelText(where, 'the name', u.name);
  const description = u.description === undefined ? undefined : checkDescription(where, u.description);
  return db.transaction(async () => {
    const cur = await mustRead(db, id);
    if (name !== undefined) await checkNameFree(db, where, name, id);
    await db.run('UPDATE label_vocabularies SET name = ?, description = ? WHERE id = ?', [
      name ?? cur.name,
      description ?? cur.description,
      id,
    ]);
    return mustRead(db, id);
  });
}

/** Deletes a vocabulary no tier uses; false when there was none. */
export async function deleteVocabulary(db: Db, id: number): Promise<boolean> {
  return db.transaction(async () => {
    const v = await readVocabulary(db, id);
    if (!v) return false;
    const used = await db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM annotation_tiers WHERE vocabulary_id = ?',
      [id],
    );
    if (used!.n > 0)
      throw new Error(`vocabulary #${id} "${v.name}" is used by ${used!.n} tier(s); detach them first`);
    await db.run('DELETE FROM label_vocabularies WHERE id = ?', [id]);
    return true;
  });
}

/** Adds a label at `position` (default: last); later labels move down one. */
export async function addLabel(
  db: Db,
  vocabularyId: number,
  label: NewLabel & { position?: number },
): Promise<LabelVocabulary> {
  const where = `vocabulary #${vocabularyId}`;
  const [l] = checkNewLabels(where, [label]);
  return db.transaction(async () => {
    const v = await mustRead(db, vocabularyId);
    if (v.labels.some((x) => x.name === l.name))
      throw new Error(`${where} "${v.name}": label "${l.name}" exists already`);
    const position = label.position ?? v.labels.length;
    if (!Number.isInteger(position) || position < 0 || position > v.labels.length)
      throw new Error(`${where} "${v.name}": position ${position} is not in 0..${v.labels.length}`);
    await db.run(
      'UPDATE vocabulary_labels SET position = position + 1 WHERE vocabulary_id = ? AND position >= ?',
      [vocabularyId, position],
    );
    await insertLabel(db, vocabularyId, l, position);
    return mustRead(db, vocabularyId);
  });
}

/** Changes a label's colour, description or name (a rename is refused while annotations use it). */
export async function updateLabel(
  db: Db,
  vocabularyId: number,
  name: string,
  u: LabelUpdate,
): Promise<LabelVocabulary> {
  const where = `vocabulary #${vocabularyId}: label "${name}"`;
  const newName = u.name === undefined ? undefined : checkLabelText(where, 'the new name', u.name);
  const colour = u.colour === undefined ? undefined : checkColour(where, u.colour);
  const description = u.description === undefined ? undefined : checkDescription(where, u.description);
  return db.transaction(async () => {
    const v = await mustRead(db, vocabularyId);
    const cur = v.labels.find((x) => x.name === name);
    if (!cur) throw new Error(`${where} does not exist`);
    if (newName !== undefined && newName !== name) {
      if (v.labels.some((x) => x.name === newName))
        throw new Error(`${where}: cannot rename to "${newName}", which exists already`);
      const uses = await labelUses(db, vocabularyId, name);
      if (uses > 0)
        throw new Error(`${where}: cannot rename, ${uses} annotation(s) of tiers using "${v.name}" carry it`);
    }
    await db.run(
      `UPDATE vocabulary_labels SET name = ?, colour = ?, description = ? WHERE vocabulary_id = ? AND name = ?`,
      [newName ?? name, colour ?? cur.colour, description ?? cur.description, vocabularyId, name],
    );
    return mustRead(db, vocabularyId);
  });
}

/** Removes a label no annotation of a tier using the vocabulary carries. */
export async function removeLabel(db: Db, vocabularyId: number, name: string): Promise<LabelVocabulary> {
  const where = `vocabulary #${vocabularyId}: label "${name}"`;
  return db.transaction(async () => {
    const v = await mustRead(db, vocabularyId);
    const cur = v.labels.find((x) => x.name === name);
    if (!cur) throw new Error(`${where} does not exist`);
    const uses = await labelUses(db, vocabularyId, name);
    if (uses > 0)
      throw new Error(`${where}: cannot remove, ${uses} annotation(s) of tiers using "${v.name}" carry it`);
    await db.run('DELETE FROM vocabulary_labels WHERE vocabulary_id = ? AND name = ?', [vocabularyId, name]);
    await db.run(
      'UPDATE vocabulary_labels SET position = position - 1 WHERE vocabulary_id = ? AND position > ?',
      [vocabularyId, cur.position],
    );
    return mustRead(db, vocabularyId);
  });
}

/** Sets the label order; `names` must list every label once. */
export async function reorderLabels(db: Db, vocabularyId: number, names: string[]): Promise<LabelVocabulary> {
  const where = `vocabulary #${vocabularyId}`;
  if (!Array.isArray(names)) throw new Error(`${where}: the new order is not a list`);
  return db.transaction(async () => {
    const v = await mustRead(db, vocabularyId);
    const known = new Set(v.labels.map((l) => l.name));
    const given = new Set(names);
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new Error(`${where}: no label "${unknown[0]}" to reorder`);
    if (given.size !== names.length || given.size !== known.size)
      throw new Error(`${where}: the new order must list each of its ${known.size} labels once`);
    for (const [i, n] of names.entries())
      await db.run('UPDATE vocabulary_labels SET position = ? WHERE vocabulary_id = ? AND name = ?', [
        i,
        vocabularyId,
        n,
      ]);
    return mustRead(db, vocabularyId);
  });
}
