import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { MotifSegment } from '../../preload/api';
import type { Db } from '../../main/store/db';
import { openLibrary } from '../../main/store/library';
import { createMotifModel } from '../../main/store/motif-models';
import { saveMotifProposals } from '../../main/store/motif-proposals';
import { deleteSession } from '../../main/store/sessions';
import {
  addLabel,
  createVocabulary,
  deleteVocabulary,
  getVocabulary,
  listVocabularies,
  removeLabel,
  reorderLabels,
  updateLabel,
  updateVocabulary,
} from '../../main/store/vocabularies';
import {
  addTier,
  createAnnotation,
  deleteAnnotation,
  ensureDefaultTiers,
  listAnnotations,
  mergeAnnotations,
  removeTier,
  reorderTiers,
  splitAnnotation,
  updateAnnotation,
  updateTier,
} from '../../main/store/annotations';
import type { AnnotationTier } from '../../main/store/annotations';
import { listHistory, redo, undo } from '../../main/store/annotation-history';
import {
  acceptProposals,
  listProposals,
  proposeFamilyLabel,
  rejectProposals,
} from '../../main/store/annotation-proposals';
import { cleanupTempDirs, insertSession, tempDir } from './fixtures';

let db: Db;
let dataDir: string;

beforeEach(async () => {
  if (db) await db.close();
  dataDir = tempDir('studio-annotations-');
  db = await openLibrary(dataDir);
});
afterAll(async () => {
  await db.close();
  cleanupTempDirs();
});

const makeSession = (name: string, frames = 300): Promise<number> => insertSession(db, { name, frames });

/** Every annotation-related row of the library, to check that a failed call changed nothing. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of [
    'label_vocabularies',
    'vocabulary_labels',
    'annotation_tiers',
    'annotations',
    'annotation_history',
    'annotation_proposals',
  ])
    out[t] = await db.all(`SELECT * FROM ${t} ORDER BY 1, 2`);
  return out;
}

const annotationRows = () => db.all('SELECT * FROM annotations ORDER BY id');
const count = async (table: string) => (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;

async function sessionWithTiers(
  frames = 300,
): Promise<{ s: number; action: AnnotationTier; motif: AnnotationTier }> {
  const s = await makeSession(`s${Math.random()}`, frames);
  const tiers = await ensureDefaultTiers(db, s);
  return {
    s,
    action: tiers.find((t) => t.kind === 'action')!,
    motif: tiers.find((t) => t.kind === 'motif')!,
  };
}

const ACTIONS = [
  { name: 'walk', colour: '#FF0000', description: 'steady gait' },
  { name: 'run', colour: '#00ff00' },
  { name: 'jump', colour: '#0000ff' },
];

describe('label vocabularies', () => {
  it('creates, orders, recolours and removes labels; refuses to drop or rename labels in use', async () => {
    const v = await createVocabulary(db, { name: 'actions', description: 'gross motor', labels: ACTIONS });
    expect(v.labels).toEqual([
      { name: 'walk', colour: '#ff0000', description: 'steady gait', position: 0 },
      { name: 'run', colour: '#00ff00', description: '', position: 1 },
      { name: 'jump', colour: '#0000ff', description: '', position: 2 },
    ]);
    const added = await addLabel(db, v.id, { name: 'sit', colour: '#123abc', position: 1 });
    expect(added.labels.map((l) => [l.name, l.position])).toEqual([
      ['walk', 0],
      ['sit', 1],
      ['run', 2],
      ['jump', 3],
    ]);
    const re = await reorderLabels(db, v.id, ['jump', 'run', 'sit', 'walk']);
    expect(re.labels.map((l) => l.name)).toEqual(['jump', 'run', 'sit', 'walk']);
    expect((await updateLabel(db, v.id, 'run', { colour: '#ABCDEF', name: 'sprint' })).labels[1]).toEqual({
      name: 'sprint',
      colour: '#abcdef',
      description: '',
      position: 1,
    });
    expect((await updateVocabulary(db, v.id, { description: 'coarse' })).description).toBe('coarse');

    const { s, action } = await sessionWithTiers();
    await updateTier(db, action.id, { vocabularyId: v.id });
    await createAnnotation(db, action.id, 0, 10, 'walk');
    const before = await snapshot();
    await expect(removeLabel(db, v.id, 'walk')).rejects.toThrow(
      `vocabulary #${v.id}: label "walk": cannot remove, 1 annotation(s) of tiers using "actions" carry it`,
    );
    await expect(updateLabel(db, v.id, 'walk', { name: 'stroll' })).rejects.toThrow(
      'cannot rename, 1 annotation',
    );
    await expect(deleteVocabulary(db, v.id)).rejects.toThrow('is used by 1 tier(s)');
    await expect(reorderLabels(db, v.id, ['jump', 'walk'])).rejects.toThrow(
      'must list each of its 4 labels once',
    );
    await expect(addLabel(db, v.id, { name: 'hop', colour: 'red' })).rejects.toThrow(
      'colour "red" is not #rrggbb',
    );
    await expect(addLabel(db, v.id, { name: 'walk', colour: '#000000' })).rejects.toThrow(
      '"walk" exists already',
    );
    await expect(createVocabulary(db, { name: 'actions' })).rejects.toThrow('"actions" exists already');
    await expect(
      createVocabulary(db, { name: 'x', labels: [{ name: ' a', colour: '#000000' }] }),
    ).rejects.toThrow('labels[0]: the name " a" has surrounding white space');
    expect(await snapshot()).toEqual(before);

    // Unused labels go, and positions close up; the same label on a free tier does not count as use.
    const free = await addTier(db, s, { name: 'notes' });
    await createAnnotation(db, free.id, 0, 10, 'jump');
    expect((await removeLabel(db, v.id, 'jump')).labels.map((l) => [l.name, l.position])).toEqual([
      ['sprint', 0],
      ['sit', 1],
      ['walk', 2],
    ]);
    expect((await listVocabularies(db)).map((x) => x.name)).toEqual(['actions']);
    const other = await createVocabulary(db, { name: 'spare' });
    expect(await deleteVocabulary(db, other.id)).toBe(true);
    expect(await getVocabulary(db, other.id)).toBeUndefined();
  });
});

describe('tiers', () => {
  it('makes the default tiers once, adds free tiers, and guards vocabularies and removal', async () => {
    const s = await makeSession('walk');
    const first = await ensureDefaultTiers(db, s);
    expect(first.map((t) => [t.name, t.kind, t.position])).toEqual([
      ['action', 'action', 0],
      ['motif', 'motif', 1],
    ]);
    expect(await ensureDefaultTiers(db, s)).toEqual(first);
    const notes = await addTier(db, s, { name: 'notes' });
    expect(notes).toMatchObject({ kind: 'free', position: 2, vocabularyId: null });
    await expect(addTier(db, s, { name: 'notes' })).rejects.toThrow('has a tier of that name already');
    await expect(addTier(db, 999, { name: 'x' })).rejects.toThrow('session #999 does not exist');

    const v = await createVocabulary(db, { name: 'actions', labels: ACTIONS });
    await createAnnotation(db, notes.id, 5, 10, 'wave');
    await expect(updateTier(db, notes.id, { vocabularyId: v.id })).rejects.toThrow(
      `lacks the labels "wave" that its segments carry`,
    );
    await expect(removeTier(db, notes.id)).rejects.toThrow('holds 1 segment(s); delete them first');
    const order = await reorderTiers(db, s, [notes.id, first[0].id, first[1].id]);
    expect(order.map((t) => t.name)).toEqual(['notes', 'action', 'motif']);
    const empty = await addTier(db, s, { name: 'empty', vocabularyId: v.id });
    expect(await removeTier(db, empty.id)).toBe(true);
    expect(await removeTier(db, empty.id)).toBe(false);

    await updateTier(db, first[0].id, { vocabularyId: v.id });
    await createAnnotation(db, first[0].id, 40, 50, 'run');
    await createAnnotation(db, first[0].id, 10, 20, 'walk');
    const list = await listAnnotations(db, s);
    expect(list.frameCount).toBe(300);
    expect(list.tiers.map((t) => t.name)).toEqual(['notes', 'action', 'motif']);
    expect(list.tiers[1].vocabularyName).toBe('actions');
    expect(list.tiers[1].labels.map((l) => [l.name, l.colour])).toEqual([
      ['walk', '#ff0000'],
      ['run', '#00ff00'],
      ['jump', '#0000ff'],
    ]);
    expect(list.tiers[1].annotations.map((a) => [a.start, a.end, a.label])).toEqual([
      [10, 20, 'walk'],
      [40, 50, 'run'],
    ]);
    expect(list.tiers[0].labels).toEqual([]);
  });
});

describe('annotation edits and history', () => {
  it('journals each edit with its rows before and after', async () => {
    const { s, action } = await sessionWithTiers();
    const c = await createAnnotation(db, action.id, 10, 40, 'walk');
    expect(c.op).toBe('create');
    const a = c.annotations[0];
    expect(a).toMatchObject({
      tierId: action.id,
      start: 10,
      end: 40,
      label: 'walk',
      source: { kind: 'user' },
    });

    const moved = await updateAnnotation(db, a.id, { start: 12 });
    expect(moved.op).toBe('move');
    expect(moved.annotations[0]).toMatchObject({ id: a.id, start: 12, end: 40, createdAt: a.createdAt });
    const relabelled = await updateAnnotation(db, a.id, { label: 'stroll' });
    expect(relabelled.op).toBe('relabel');
    const split = await splitAnnotation(db, a.id, 30);
    expect(split.annotations.map((x) => [x.start, x.end, x.label])).toEqual([
      [12, 30, 'stroll'],
      [30, 40, 'stroll'],
    ]);
    expect(split.annotations[0].id).toBe(a.id);
    const right = split.annotations[1].id;
    const created = await createAnnotation(db, action.id, 45, 50, 'run');
    const run = created.annotations[0];
    const merged = await mergeAnnotations(db, [run.id, right], 'sprint');
    // Merging spans the empty frames between touching-or-neighbouring segments; the first (by start) stays.
    expect(merged.annotations).toMatchObject([{ id: right, start: 30, end: 50, label: 'sprint' }]);
    expect(merged.removedIds).toEqual([run.id]);
    const del = await deleteAnnotation(db, a.id);
    expect(del.removedIds).toEqual([a.id]);
    expect(del.annotations).toEqual([]);

    const history = await listHistory(db, s);
    expect(history.map((h) => [h.op, h.state])).toEqual([
      ['delete', 'done'],
      ['merge', 'done'],
      ['create', 'done'],
      ['split', 'done'],
      ['relabel', 'done'],
      ['move', 'done'],
      ['create', 'done'],
    ]);
    expect(history.map((h) => h.id)).toEqual(
      [del, merged, created, split, relabelled, moved, c].map((x) => x.historyId),
    );
    const [hDel, hMerge] = history;
    expect(hDel.before.annotations).toEqual([split.annotations[0]]);
    expect(hDel.after.annotations).toEqual([]);
    expect(hMerge.before.annotations.map((x) => x.id)).toEqual([right, run.id]);
    expect(hMerge.after.annotations).toEqual(merged.annotations);
    expect(history[3].before.annotations).toEqual(relabelled.annotations);
    expect(history[3].after.annotations).toEqual(split.annotations);
    expect(history[6].before).toEqual({ annotations: [], proposals: [] });
    expect((await listHistory(db, s, { limit: 2 })).map((h) => h.op)).toEqual(['delete', 'merge']);
  });

  it('undoes and redoes a sequence of mixed edits back to the exact rows, ids included', async () => {
    const { s, action, motif } = await sessionWithTiers();
    const states: unknown[] = [await annotationRows()];
    const step = async (edit: () => Promise<unknown>) => {
      await edit();
      states.push(await annotationRows());
    };
    let id = 0;
    await step(async () => (id = (await createAnnotation(db, action.id, 0, 100, 'walk')).annotations[0].id));
    await step(() => createAnnotation(db, motif.id, 20, 60, 'family 3'));
    await step(() => splitAnnotation(db, id, 50));
    await step(() => updateAnnotation(db, id, { end: 45, label: 'stand' }));
    await step(() => createAnnotation(db, action.id, 45, 50, 'turn'));
    const turn = (await listAnnotations(db, s)).tiers[0].annotations[1].id;
    await step(() => mergeAnnotations(db, [id, turn]));
    await step(() => deleteAnnotation(db, id));
    expect(states.at(-1)).not.toEqual(states.at(-2));

    for (let i = states.length - 2; i >= 0; i--) {
      expect(await undo(db, s)).not.toBeNull();
      expect(await annotationRows(), `after undoing back to state ${i}`).toEqual(states[i]);
    }
    expect(await undo(db, s)).toBeNull();
    expect((await listHistory(db, s)).every((h) => h.state === 'undone')).toBe(true);
    for (let i = 1; i < states.length; i++) {
      const r = await redo(db, s);
      expect(r).not.toBeNull();
      expect(await annotationRows(), `after redoing state ${i}`).toEqual(states[i]);
    }
    expect(await redo(db, s)).toBeNull();
    // The undo result says what to drop and what to show.
    const u = (await undo(db, s))!;
    expect(u.op).toBe('delete');
    expect(u.annotations.map((a) => a.id)).toEqual([id]);
    expect(u.removedIds).toEqual([]);
  });

  it('abandons the redo branch on a new edit, and keeps it in the journal', async () => {
    const { s, action } = await sessionWithTiers();
    await createAnnotation(db, action.id, 0, 10, 'a');
    await createAnnotation(db, action.id, 10, 20, 'b');
    await createAnnotation(db, action.id, 20, 30, 'c');
    await undo(db, s);
    await undo(db, s);
    expect((await listHistory(db, s)).map((h) => h.state)).toEqual(['undone', 'undone', 'done']);
    await createAnnotation(db, action.id, 50, 60, 'd');
    expect((await listHistory(db, s)).map((h) => h.state)).toEqual([
      'done',
      'abandoned',
      'abandoned',
      'done',
    ]);
    expect(await redo(db, s)).toBeNull();
    expect((await annotationRows()).map((r) => (r as { label: string }).label)).toEqual(['a', 'd']);
    // Undo walks past the abandoned branch to the edit before it.
    expect((await undo(db, s))!.removedIds).toHaveLength(1);
    expect((await undo(db, s))!.op).toBe('create');
    expect(await annotationRows()).toEqual([]);
    expect((await redo(db, s))!.annotations[0].label).toBe('a');
  });

  it('keeps the history across closing and reopening the library', async () => {
    const { s, action } = await sessionWithTiers();
    const a = (await createAnnotation(db, action.id, 0, 10, 'a')).annotations[0];
    await updateAnnotation(db, a.id, { end: 20 });
    await createAnnotation(db, action.id, 30, 40, 'b');
    await undo(db, s);
    const history = await listHistory(db, s);
    const rows = await annotationRows();
    await db.close();
    db = await openLibrary(dataDir);
    expect(await listHistory(db, s)).toEqual(history);
    expect(await annotationRows()).toEqual(rows);
    expect((await redo(db, s))!.annotations[0].label).toBe('b');
    await undo(db, s);
    await undo(db, s);
    expect((await listAnnotations(db, s)).tiers[0].annotations).toEqual([a]);
  });

  it('refuses every invalid edit with a clear error and changes nothing', async () => {
    const { s, action, motif } = await sessionWithTiers(100);
    const v = await createVocabulary(db, { name: 'actions', labels: ACTIONS });
    await updateTier(db, action.id, { vocabularyId: v.id });
    const a = (await createAnnotation(db, action.id, 10, 20, 'walk')).annotations[0];
    const b = (await createAnnotation(db, action.id, 40, 60, 'run')).annotations[0];
    const c = (await createAnnotation(db, action.id, 60, 70, 'jump')).annotations[0];
    const m = (await createAnnotation(db, motif.id, 20, 40, 'anything')).annotations[0];
    const before = await snapshot();
    const at = `in session #${s}`;
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => createAnnotation(db, action.id, 15, 30, 'run'),
        `create ${at}: new annotation [15, 30) "run" in tier "action": overlaps annotation #${a.id} [10, 20) "walk"`,
      ],
      [() => createAnnotation(db, action.id, 90, 101, 'run'), `end 101 is past the session's 100 frames`],
      [() => createAnnotation(db, action.id, -5, 5, 'run'), 'start -5 is before frame 0'],
      [() => createAnnotation(db, action.id, 0, 2.5, 'run'), 'end 2.5 is not an integer frame'],
      [() => createAnnotation(db, action.id, 5, 5, 'run'), 'end 5 is not after start 5'],
      [
        () => createAnnotation(db, action.id, 0, 5, 'crawl'),
        'label "crawl" is not in the tier\'s vocabulary (walk, run, jump)',
      ],
      [() => createAnnotation(db, motif.id, 0, 5, ''), 'the label is empty'],
      [() => createAnnotation(db, 999, 0, 5, 'run'), 'tier #999 does not exist'],
      [
        () => updateAnnotation(db, a.id, { end: 41 }),
        `move ${at}: annotation #${a.id} [10, 41) "walk" in tier "action": overlaps annotation #${b.id}`,
      ],
      [() => updateAnnotation(db, a.id, { start: 10 }), 'changes nothing'],
      [() => updateAnnotation(db, a.id, { label: 'fly' }), 'label "fly" is not in the tier\'s vocabulary'],
      [() => updateAnnotation(db, 999, { start: 1 }), 'annotation #999 does not exist'],
      [
        () => splitAnnotation(db, a.id, 10),
        `split of annotation #${a.id} [10, 20) "walk" ${at}: frame 10 is not an integer strictly inside it`,
      ],
      [() => splitAnnotation(db, a.id, 25), 'frame 25 is not an integer strictly inside it'],
      [() => splitAnnotation(db, a.id, 15.5), 'frame 15.5 is not an integer strictly inside it'],
      [
        () => mergeAnnotations(db, [a.id, m.id]),
        `annotation #${a.id} (tier "action") and #${m.id} (tier "motif") are in different tiers`,
      ],
      [
        () => mergeAnnotations(db, [a.id, c.id]),
        `annotation #${b.id} [40, 60) "run" lies between them; merge only neighbours`,
      ],
      [() => mergeAnnotations(db, [b.id, c.id], 'fly'), 'label "fly" is not in the tier\'s vocabulary'],
      [() => mergeAnnotations(db, [a.id]), 'give at least two annotations'],
      [() => deleteAnnotation(db, 999), 'annotation #999 does not exist'],
    ];
    for (const [call, message] of cases) await expect(call(), message).rejects.toThrow(message);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses undo and redo whose rows were changed since, changing nothing', async () => {
    const { s, action } = await sessionWithTiers();
    const v = await createVocabulary(db, { name: 'actions', labels: ACTIONS });
    await updateTier(db, action.id, { vocabularyId: v.id });
    const a = (await createAnnotation(db, action.id, 0, 10, 'walk')).annotations[0];
    await updateAnnotation(db, a.id, { end: 20 });
    // A change outside the journal: undoing the move would silently drop it.
    await db.run('UPDATE annotations SET end_frame = 25 WHERE id = ?', [a.id]);
    let before = await snapshot();
    await expect(undo(db, s)).rejects.toThrow(
      `undo of edit #2 (move) in session #${s}: annotation #${a.id} [0, 20) "walk" was changed since (now annotation #${a.id} [0, 25) "walk")`,
    );
    expect(await snapshot()).toEqual(before);
    await db.run('UPDATE annotations SET end_frame = 20 WHERE id = ?', [a.id]);

    // Redo of a create whose label has left the vocabulary meanwhile.
    const b = (await createAnnotation(db, action.id, 30, 40, 'jump')).annotations[0];
    await undo(db, s);
    await removeLabel(db, v.id, 'jump');
    before = await snapshot();
    await expect(redo(db, s)).rejects.toThrow(
      `redo of edit #3 (create) in session #${s}: annotation #${b.id} [30, 40) "jump" in tier "action": label "jump" is not in the tier's vocabulary`,
    );
    expect(await snapshot()).toEqual(before);
  });
});

/** Motifs of 20 frames at 0, 20, ..., families 0, 1, 0, 1, ... */
function motifTrack(n: number): { atoms: MotifSegment[]; motifs: MotifSegment[] } {
  const motifs = Array.from({ length: n }, (_, i) => ({
    start: 20 * i,
    end: 20 * i + 20,
    pattern: 0,
    family: i % 2,
  }));
  return { atoms: [], motifs };
}

describe('motif family proposals', () => {
  it('proposes a label on every occurrence, accepts in bulk with one undo per session, and rejects', async () => {
    const s1 = await makeSession('walk', 200);
    const s2 = await makeSession('jump', 200);
    const model = await createMotifModel(db, { name: 'm', config: {}, training: {}, stepsTotal: 1 });
    await saveMotifProposals(db, { sessionId: s1, modelId: model.id, provider: 'cpu', ...motifTrack(6) });
    await saveMotifProposals(db, { sessionId: s2, modelId: model.id, provider: 'cpu', ...motifTrack(4) });
    // The annotator already marked part of s1's second family-1 occurrence [60, 80).
    const [action1] = await ensureDefaultTiers(db, s1);
    await createAnnotation(db, action1.id, 70, 75, 'stumble');

    const made = await proposeFamilyLabel(db, { modelId: model.id, family: 1, label: 'step' });
    expect(made.occurrences).toBe(3 + 2);
    expect(made.existing).toBe(0);
    expect(made.created.map((p) => [p.sessionId, p.start, p.end, p.label, p.state])).toEqual([
      [s1, 20, 40, 'step', 'pending'],
      [s1, 60, 80, 'step', 'pending'],
      [s1, 100, 120, 'step', 'pending'],
      [s2, 20, 40, 'step', 'pending'],
      [s2, 60, 80, 'step', 'pending'],
    ]);
    expect(made.created[0].source).toEqual({ kind: 'motif-family', modelId: model.id, family: 1 });
    // s2 got its default tiers; proposing again duplicates nothing.
    expect((await listAnnotations(db, s2)).tiers.map((t) => t.name)).toEqual(['action', 'motif']);
    const again = await proposeFamilyLabel(db, { modelId: model.id, family: 1, label: 'step' });
    expect([again.created.length, again.existing]).toEqual([0, 5]);
    expect(await listProposals(db, { modelId: model.id, family: 1 })).toHaveLength(5);
    await expect(
      proposeFamilyLabel(db, { modelId: model.id, family: 1, label: 'x', tierName: 'nope' }),
    ).rejects.toThrow(`session #${s1} "walk" has no tier "nope"`);
    await expect(proposeFamilyLabel(db, { modelId: 999, family: 1, label: 'x' })).rejects.toThrow(
      'motif model #999 does not exist',
    );

    const ids = made.created.map((p) => p.id);
    const before = await snapshot();
    const report = await acceptProposals(db, ids);
    expect(report.accepted.map((x) => x.proposalId)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(report.skipped).toEqual([
      {
        proposalId: ids[1],
        reason: expect.stringContaining(`[60, 80) overlaps annotation`) as unknown as string,
      },
    ]);
    expect(report.edits.map((e) => e.op)).toEqual(['accept-proposals', 'accept-proposals']);
    expect(report.accepted[0].annotation).toMatchObject({
      start: 20,
      end: 40,
      label: 'step',
      source: { kind: 'motif-family', modelId: model.id, family: 1, proposalId: ids[0] },
    });
    const accepted = await listProposals(db, { sessionId: s1, state: 'accepted' });
    expect(accepted.map((p) => p.annotationId)).toEqual([
      report.accepted[0].annotation.id,
      report.accepted[1].annotation.id,
    ]);
    expect((await listAnnotations(db, s1)).tiers[0].annotations.map((a) => a.label)).toEqual([
      'step',
      'stumble',
      'step',
    ]);
    expect(await listHistory(db, s2)).toHaveLength(1);

    // One undo per session reverts the bulk accept there; the proposals are pending again.
    await undo(db, s1);
    await undo(db, s2);
    expect(await snapshot()).toEqual({
      ...before,
      annotation_history: expect.any(Array) as unknown as unknown[],
    });
    expect((await listProposals(db, { state: 'pending' })).map((p) => p.id)).toEqual(ids);
    expect((await redo(db, s1))!.proposals.map((p) => p.state)).toEqual(['accepted', 'accepted']);

    const rej = await rejectProposals(db, [ids[0], ids[1]]);
    expect(rej.rejected.map((p) => [p.id, p.state])).toEqual([[ids[1], 'rejected']]);
    expect(rej.skipped[0].reason).toContain('it is accepted already');
    expect((await undo(db, s1))!.proposals.map((p) => p.state)).toEqual(['pending']);
    await expect(acceptProposals(db, [999])).rejects.toThrow('accept: proposal #999 does not exist');
  });

  it('refuses a label outside the vocabulary of the target tier', async () => {
    const s = await makeSession('walk', 100);
    const model = await createMotifModel(db, { name: 'm', config: {}, training: {}, stepsTotal: 1 });
    await saveMotifProposals(db, { sessionId: s, modelId: model.id, provider: 'cpu', ...motifTrack(2) });
    const v = await createVocabulary(db, { name: 'actions', labels: ACTIONS });
    const [action] = await ensureDefaultTiers(db, s);
    await updateTier(db, action.id, { vocabularyId: v.id });
    const before = await snapshot();
    await expect(proposeFamilyLabel(db, { modelId: model.id, family: 0, label: 'hop' })).rejects.toThrow(
      `tier "action" of session #${s} "walk" accepts only "walk", "run", "jump"`,
    );
    expect(await snapshot()).toEqual(before);
    expect(
      (await proposeFamilyLabel(db, { modelId: model.id, family: 0, label: 'jump' })).created,
    ).toHaveLength(1);
  });
});

describe('session deletion', () => {
  it('removes its tiers, annotations, history and proposals, and keeps the vocabularies', async () => {
    const { s, action } = await sessionWithTiers();
    const keep = await sessionWithTiers();
    await createVocabulary(db, { name: 'actions', labels: ACTIONS });
    const model = await createMotifModel(db, { name: 'm', config: {}, training: {}, stepsTotal: 1 });
    await saveMotifProposals(db, { sessionId: s, modelId: model.id, provider: 'cpu', ...motifTrack(4) });
    await proposeFamilyLabel(db, { modelId: model.id, family: 0, label: 'step' });
    await createAnnotation(db, action.id, 100, 110, 'a');
    await createAnnotation(db, keep.action.id, 0, 10, 'b');
    expect(await deleteSession(db, s)).toBe(true);
    expect(await count('annotation_tiers')).toBe(2);
    expect(await count('annotations')).toBe(1);
    expect(await count('annotation_history')).toBe(1);
    expect(await count('annotation_proposals')).toBe(0);
    expect(await count('vocabulary_labels')).toBe(3);
  });
});
