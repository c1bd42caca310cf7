import { commitEdit, describeAnnotation, readProposal, toAnnotation, toProposal } from './annotation-history';
import type {
  Annotation,
  AnnotationDraft,
  AnnotationProposal,
  AnnotationRow,
  EditResult,
  ProposalRow,
  ProposalState,
} from './annotation-history';
import { ensureDefaultTiersIn } from './annotations';
import type { Db, SqlValue } from './db';
import { familyOccurrences } from './motif-proposals';
import { checkLabelText, vocabularyLabels } from './vocabularies';

/**
 * Motif family -> label (migration 6). Naming a family of an A4Mer model proposes the label on every
 * occurrence of the family in the library (motif_segments of that model, every ready session), as
 * 'pending' rows of `annotation_proposals` in a tier of each session (default 'action'). The
 * annotator accepts proposals (each becomes an annotation whose source names the model, family and
 * proposal) or rejects them, one or many at a time. Accepting and rejecting are journaled edits
 * (annotation-history.ts): one transaction, one history entry per session touched, so one undo in
 * a session reverts a bulk accept there and returns those proposals to 'pending'.
 */

export type { AnnotationProposal, ProposalState } from './annotation-history';

export interface FamilyLabelRequest {
  modelId: number;
  family: number;
  label: string;
  /** The tier of each session that receives the proposals; 'action' unless given. */
  tierName?: string;
}

export interface FamilyLabelReport {
  /** The new pending proposals, by session then start. */
  created: AnnotationProposal[];
  /** Occurrences that already had a pending or accepted proposal of that label in that tier. */
  existing: number;
  occurrences: number;
}

export interface ProposalFilter {
  sessionId?: number;
  tierId?: number;
  modelId?: number;
  family?: number;
  state?: ProposalState;
}

export interface ProposalSkip {
  proposalId: number;
  reason: string;
}

export interface AcceptReport {
  accepted: { proposalId: number; annotation: Annotation }[];
  /** Proposals left as they were: not pending, or no longer fitting their tier (overlap, vocabulary). */
  skipped: ProposalSkip[];
  /** One per session touched. */
  edits: EditResult[];
}

export interface RejectReport {
  rejected: AnnotationProposal[];
  skipped: ProposalSkip[];
  edits: EditResult[];
}

function isInt(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

/** Proposes `label` on every occurrence of the model's family; occurrences already proposed are kept. */
export async function proposeFamilyLabel(db: Db, req: FamilyLabelRequest): Promise<FamilyLabelReport> {
  const tierName = req.tierName ?? 'action';
  const where = `label "${req.label}" for family ${req.family} of motif model #${req.modelId}`;
  if (!isInt(req.modelId, 1)) throw new Error(`${where}: model id ${req.modelId} is not an id`);
  if (!isInt(req.family, 0)) throw new Error(`${where}: family ${req.family} is not an integer >= 0`);
  const label = checkLabelText(where, 'the label', req.label);
  checkLabelText(where, 'the tier name', tierName);
  return db.transaction(async () => {
    if (!(await db.get('SELECT 1 FROM motif_models WHERE id = ?', [req.modelId])))
      throw new Error(`${where}: motif model #${req.modelId} does not exist`);
    const occurrences = await familyOccurrences(db, req.modelId, req.family);
    const source = { kind: 'motif-family' as const, modelId: req.modelId, family: req.family };
    const created: AnnotationProposal[] = [];
    let existing = 0;
    const tierOf = new Map<number, { id: number; vocabularyId: number | null }>();
    for (const o of occurrences) {
      let tier = tierOf.get(o.sessionId);
      if (!tier) {
        tier = (await ensureDefaultTiersIn(db, o.sessionId)).find((t) => t.name === tierName);
        if (!tier)
          throw new Error(`${where}: session #${o.sessionId} "${o.sessionName}" has no tier "${tierName}"`);
        if (tier.vocabularyId !== null) {
          const labels = (await vocabularyLabels(db, tier.vocabularyId)).map((l) => l.name);
          if (!labels.includes(label))
            throw new Error(
              `${where}: tier "${tierName}" of session #${o.sessionId} "${o.sessionName}" accepts only ` +
                `${labels.map((l) => `"${l}"`).join(', ')}`,
            );
        }
        tierOf.set(o.sessionId, tier);
      }
      const dup = await db.get(
        `SELECT 1 FROM annotation_proposals WHERE session_id = ? AND tier_id = ? AND start_frame = ? AND end_frame = ?
            AND label = ? AND state IN ('pending', 'accepted')`,
        [o.sessionId, tier.id, o.start, o.end, label],
      );
      if (dup) {
        existing++;
        continue;
      }
      const { lastID } = await db.run(
        `INSERT INTO annotation_proposals (session_id, tier_id, start_frame, end_frame, label, source, state,
           annotation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL, ?)`,
        [o.sessionId, tier.id, o.start, o.end, label, JSON.stringify(source), new Date().toISOString()],
      );
      created.push((await readProposal(db, lastID))!);
    }
    return { created, existing, occurrences: occurrences.length };
  });
}

/** Proposals matching every given field, by session, start, id. */
export async function listProposals(db: Db, f: ProposalFilter = {}): Promise<AnnotationProposal[]> {
  const terms: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, v: SqlValue | undefined) => {
    if (v === undefined) return;
    terms.push(sql);
    params.push(v);
  };
  add('session_id = ?', f.sessionId);
  add('tier_id = ?', f.tierId);
  add(`json_extract(source, '$.modelId') = ?`, f.modelId);
  add(`json_extract(source, '$.family') = ?`, f.family);
  add('state = ?', f.state);
  const rows = await db.all<ProposalRow>(
    `SELECT * FROM annotation_proposals ${terms.length ? `WHERE ${terms.join(' AND ')}` : ''}
      ORDER BY session_id, start_frame, id`,
    params,
  );
  return rows.map(toProposal);
}

/** Loads the proposals by id (an Error names a missing one), grouped by session, each group by id. */
async function loadBySession(
  db: Db,
  what: string,
  ids: number[],
): Promise<Map<number, AnnotationProposal[]>> {
  if (!Array.isArray(ids) || ids.length === 0) throw new Error(`${what}: no proposals given`);
  if (new Set(ids).size !== ids.length) throw new Error(`${what}: proposals ${ids.join(', ')} repeat one`);
  const bySession = new Map<number, AnnotationProposal[]>();
  for (const id of [...ids].sort((a, b) => a - b)) {
    const p = isInt(id, 1) ? await readProposal(db, id) : undefined;
    if (!p) throw new Error(`${what}: proposal #${id} does not exist`);
    bySession.set(p.sessionId, [...(bySession.get(p.sessionId) ?? []), p]);
  }
  return bySession;
}

/** Why a pending proposal cannot become an annotation now, or undefined when it can. */
async function acceptProblem(
  db: Db,
  p: AnnotationProposal,
  taken: AnnotationDraft[],
): Promise<string | undefined> {
  const tier = (await db.get<{ name: string; vocabulary_id: number | null }>(
    'SELECT name, vocabulary_id FROM annotation_tiers WHERE id = ?',
    [p.tierId],
  ))!;
  if (tier.vocabulary_id !== null) {
    const labels = (await vocabularyLabels(db, tier.vocabulary_id)).map((l) => l.name);
    if (!labels.includes(p.label))
      return `label "${p.label}" is no longer in the vocabulary of tier "${tier.name}"`;
  }
  const clash = await db.get<AnnotationRow>(
    'SELECT * FROM annotations WHERE tier_id = ? AND start_frame < ? AND end_frame > ? ORDER BY start_frame LIMIT 1',
    [p.tierId, p.end, p.start],
  );
  if (clash)
    return `[${p.start}, ${p.end}) overlaps ${describeAnnotation(toAnnotation(clash))} in tier "${tier.name}"`;
  const mate = taken.find((a) => a.tierId === p.tierId && a.start < p.end && a.end > p.start);
  if (mate)
    return `[${p.start}, ${p.end}) overlaps proposal #${(mate.source as { proposalId: number }).proposalId}, accepted with it`;
  return undefined;
}

/**
 * Turns pending proposals into annotations (source: model, family, proposal), one transaction, one
 * history entry per session. A proposal that is not pending, or that overlaps a segment of its tier
 * (or one accepted before it in the same call), is skipped and reported, not an error; an unknown id is.
 */
export async function acceptProposals(db: Db, ids: number[]): Promise<AcceptReport> {
  return db.transaction(async () => {
    const report: AcceptReport = { accepted: [], skipped: [], edits: [] };
    for (const [sessionId, proposals] of await loadBySession(db, 'accept', ids)) {
      const chosen: AnnotationProposal[] = [];
      const drafts: AnnotationDraft[] = [];
      const now = new Date().toISOString();
      for (const p of proposals) {
        const problem =
          p.state !== 'pending' ? `it is ${p.state} already` : await acceptProblem(db, p, drafts);
        if (problem) {
          report.skipped.push({
            proposalId: p.id,
            reason: `proposal #${p.id} of session #${sessionId}: ${problem}`,
          });
          continue;
        }
        chosen.push(p);
        drafts.push({
          id: null,
          tierId: p.tierId,
          start: p.start,
          end: p.end,
          label: p.label,
          source: { ...p.source, proposalId: p.id },
          createdAt: now,
          updatedAt: now,
        });
      }
      if (chosen.length === 0) continue;
      const edit = await commitEdit(
        db,
        sessionId,
        'accept-proposals',
        { annotations: [], proposals: chosen },
        {
          annotations: drafts,
          proposals: (made) => chosen.map((p, i) => ({ ...p, state: 'accepted', annotationId: made[i].id })),
        },
      );
      report.edits.push(edit);
      chosen.forEach((p, i) => report.accepted.push({ proposalId: p.id, annotation: edit.annotations[i] }));
    }
    return report;
  });
}

/** Marks pending proposals 'rejected' (journaled: undo returns them to pending); others are skipped. */
export async function rejectProposals(db: Db, ids: number[]): Promise<RejectReport> {
  return db.transaction(async () => {
    const report: RejectReport = { rejected: [], skipped: [], edits: [] };
    for (const [sessionId, proposals] of await loadBySession(db, 'reject', ids)) {
      const chosen = proposals.filter((p) => p.state === 'pending');
      for (const p of proposals)
        if (p.state !== 'pending')
          report.skipped.push({
            proposalId: p.id,
            reason: `proposal #${p.id} of session #${sessionId}: it is ${p.state} already`,
          });
      if (chosen.length === 0) continue;
      const after = chosen.map((p) => ({ ...p, state: 'rejected' as const }));
      const edit = await commitEdit(
        db,
        sessionId,
        'reject-proposals',
        { annotations: [], proposals: chosen },
        { annotations: [], proposals: after },
      );
      report.edits.push(edit);
      report.rejected.push(...edit.proposals);
    }
    return report;
  });
}
