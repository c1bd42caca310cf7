import { apiCaller } from './api-caller';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type WebServer } from '../../main/server/server';
import { createMotifModel } from '../../main/store/motif-models';
import { saveMotifProposals } from '../../main/store/motif-proposals';
import type { AnnotationEdit, SessionAnnotations } from '../../preload/api';
import { cleanupTempDirs, insertSession, tempDir } from './fixtures';

/**
 * The annotation calls through the real web server and dispatch (HTTP, schemas, handlers, store):
 * store refusals arrive as not-found / bad-input / conflict with the store's message, every write
 * announces its session(s) with `annotationsChanged`, and a refused call announces nothing.
 */

let server: WebServer;
let base: string;
let events: { event: string; payload: unknown }[] = [];

const { call, ok } = apiCaller(() => ({ base, token: server.token }));

/** A ready session of `frames` frames, straight in SQL: no import needed. */
const makeSession = (name: string, frames = 100): Promise<number> =>
  insertSession(server.ctx.db, { name, frames });

const changedSessions = () =>
  events
    .filter((e) => e.event === 'annotationsChanged')
    .map((e) => (e.payload as { sessionId?: number }).sessionId);

beforeAll(async () => {
  server = await startServer({ dataDir: tempDir('studio-annotations-api-') });
  base = `http://127.0.0.1:${server.port}`;
  // The same bus the WebSocket forwards: events are recorded before the HTTP answer is sent.
  server.ctx.subscribe((event, payload) => events.push({ event, payload }));
});
beforeEach(() => {
  events = [];
});
afterAll(async () => {
  await server.close();
  cleanupTempDirs();
});

describe('annotation calls', () => {
  it('lists default tiers, edits, undoes and redoes, and announces each write', async () => {
    const s = await makeSession('walk');
    const list = await ok<SessionAnnotations>('listAnnotations', { sessionId: s });
    expect(list.frameCount).toBe(100);
    expect(list.tiers.map((t) => [t.name, t.kind])).toEqual([
      ['action', 'action'],
      ['motif', 'motif'],
    ]);
    // Listing (which made the default tiers) is not an edit.
    expect(changedSessions()).toEqual([]);
    const action = list.tiers[0].id;

    const created = await ok<AnnotationEdit>('createAnnotation', {
      tierId: action,
      start: 10,
      end: 40,
      label: 'walk',
    });
    const id = created.annotations[0].id;
    expect(created).toMatchObject({ sessionId: s, op: 'create', removedIds: [] });
    await ok('updateAnnotation', { annotationId: id, end: 35 });
    const split = await ok<AnnotationEdit>('splitAnnotation', { annotationId: id, frame: 20 });
    expect(split.annotations.map((a) => [a.start, a.end])).toEqual([
      [10, 20],
      [20, 35],
    ]);
    expect(changedSessions()).toEqual([s, s, s]);

    const h = await ok('annotationHistory', { sessionId: s });
    expect(h.entries.map((e: { op: string }) => e.op)).toEqual(['split', 'move', 'create']);
    expect([h.canUndo, h.canRedo]).toEqual([true, false]);
    const undone = await ok<AnnotationEdit>('undoAnnotation', { sessionId: s });
    expect(undone.removedIds).toEqual([split.annotations[1].id]);
    expect(await ok('annotationHistory', { sessionId: s, limit: 1 })).toMatchObject({
      entries: [{ op: 'split', state: 'undone' }],
      canUndo: true,
      canRedo: true,
    });
    expect((await ok<AnnotationEdit>('redoAnnotation', { sessionId: s })).op).toBe('split');
    expect(await ok('redoAnnotation', { sessionId: s })).toBeNull();
    const after = await ok<SessionAnnotations>('listAnnotations', { sessionId: s });
    expect(after.tiers[0].annotations.map((a) => [a.start, a.end, a.label])).toEqual([
      [10, 20, 'walk'],
      [20, 35, 'walk'],
    ]);
    // Undo and redo each announced the session; the redo that found nothing did not.
    expect(changedSessions()).toEqual([s, s, s, s, s]);
  });

  it('maps store refusals to not-found, bad-input and conflict with their messages; nothing is announced', async () => {
    const s = await makeSession('refusals');
    const [action] = (await ok<SessionAnnotations>('listAnnotations', { sessionId: s })).tiers;
    const v = await ok('createVocabulary', {
      name: 'gait',
      labels: [
        { name: 'walk', colour: '#ff0000' },
        { name: 'run', colour: '#00ff00' },
      ],
    });
    await ok('updateTier', { tierId: action.id, vocabularyId: v.id });
    const a = (
      await ok<AnnotationEdit>('createAnnotation', { tierId: action.id, start: 0, end: 10, label: 'walk' })
    ).annotations[0];
    events = [];

    const cases: [string, unknown, number, string | RegExp][] = [
      ['listAnnotations', { sessionId: 999 }, 404, 'session #999 does not exist'],
      ['createAnnotation', { tierId: 999, start: 0, end: 5, label: 'walk' }, 404, 'tier #999 does not exist'],
      ['updateAnnotation', { annotationId: 999, end: 5 }, 404, 'annotation #999 does not exist'],
      [
        'createAnnotation',
        { tierId: action.id, start: 5, end: 15, label: 'run' },
        409,
        `create in session #${s}: new annotation [5, 15) "run" in tier "action": overlaps annotation #${a.id} [0, 10) "walk"`,
      ],
      [
        'createAnnotation',
        { tierId: action.id, start: 20, end: 30, label: 'fly' },
        422,
        `create in session #${s}: new annotation [20, 30) "fly" in tier "action": label "fly" is not in the tier's vocabulary (walk, run)`,
      ],
      [
        'createAnnotation',
        { tierId: action.id, start: 90, end: 101, label: 'run' },
        422,
        /past the session's 100 frames/,
      ],
      [
        'splitAnnotation',
        { annotationId: a.id, frame: 10 },
        422,
        /frame 10 is not an integer strictly inside it/,
      ],
      ['updateAnnotation', { annotationId: a.id, start: 0 }, 422, /changes nothing/],
      ['removeLabel', { vocabularyId: v.id, label: 'walk' }, 409, /cannot remove, 1 annotation\(s\)/],
      ['deleteVocabulary', { vocabularyId: v.id }, 409, /is used by 1 tier\(s\)/],
      ['addTier', { sessionId: s, name: 'action' }, 409, /has a tier of that name already/],
      ['addTier', { sessionId: s, name: ' padded' }, 422, /has surrounding white space/],
      ['removeTier', { tierId: action.id }, 409, /holds 1 segment\(s\); delete them first/],
      ['removeTier', { tierId: 999 }, 404, 'tier #999 does not exist'],
      ['undoAnnotation', { sessionId: 999 }, 404, 'session #999 does not exist'],
      ['acceptProposals', { ids: [999] }, 404, 'accept: proposal #999 does not exist'],
      ['proposeFamilyLabel', { modelId: 999, family: 0, label: 'x' }, 404, /motif model #999 does not exist/],
      ['createVocabulary', { name: 'gait' }, 409, /a vocabulary named "gait" exists already/],
      ['addLabel', { vocabularyId: v.id, name: 'hop', colour: 'red' }, 422, /colour "red" is not #rrggbb/],
      // The schema refuses shapes before the store sees them.
      [
        'createAnnotation',
        { tierId: action.id, start: -1, end: 5, label: 'run' },
        400,
        /^createAnnotation: start:/,
      ],
      ['mergeAnnotations', { annotationIds: [a.id] }, 400, /^mergeAnnotations: annotationIds:/],
    ];
    for (const [method, req, status, message] of cases) {
      const r = await call(method, req);
      expect([method, r.status], JSON.stringify(r.body)).toEqual([method, status]);
      if (typeof message === 'string') expect(r.body.message).toBe(message);
      else expect(r.body.message).toMatch(message);
    }
    expect(events).toEqual([]);

    // An undo whose rows were changed outside the history is a conflict, and changes nothing.
    await server.ctx.db.run('UPDATE annotations SET end_frame = 12 WHERE id = ?', [a.id]);
    const undo = await call('undoAnnotation', { sessionId: s });
    expect(undo.status).toBe(409);
    expect(undo.body.message).toMatch(
      /^undo of edit #\d+ \(create\) in session #\d+: annotation #\d+ .* was changed since/,
    );
    expect(
      (await ok<SessionAnnotations>('listAnnotations', { sessionId: s })).tiers[0].annotations[0].end,
    ).toBe(12);
  });

  it('edits vocabularies and tiers, announcing vocabularies to every session', async () => {
    const s = await makeSession('tiers');
    const v = await ok('createVocabulary', { name: 'moods', labels: [{ name: 'calm', colour: '#4E9AF1' }] });
    expect(v.labels[0].colour).toBe('#4e9af1');
    const added = await ok('addLabel', { vocabularyId: v.id, name: 'tense', colour: '#e15759', position: 0 });
    expect(added.labels.map((l: { name: string }) => l.name)).toEqual(['tense', 'calm']);
    const renamed = await ok('updateLabel', {
      vocabularyId: v.id,
      label: 'calm',
      name: 'relaxed',
      description: 'loose',
    });
    expect(renamed.labels[1]).toEqual({
      name: 'relaxed',
      colour: '#4e9af1',
      description: 'loose',
      position: 1,
    });
    expect(
      (await ok('reorderLabels', { vocabularyId: v.id, names: ['relaxed', 'tense'] })).labels[0].name,
    ).toBe('relaxed');
    // Vocabulary writes name no session: every window re-reads.
    expect(events.map((e) => e.payload)).toEqual([{}, {}, {}, {}]);
    events = [];

    await ok('listAnnotations', { sessionId: s });
    const mood = await ok('addTier', { sessionId: s, name: 'mood', vocabularyId: v.id });
    expect(mood).toMatchObject({ sessionId: s, kind: 'free', position: 2, vocabularyId: v.id });
    const list = await ok<SessionAnnotations>('listAnnotations', { sessionId: s });
    expect(list.tiers[2]).toMatchObject({ name: 'mood', vocabularyName: 'moods', annotations: [] });
    expect(list.tiers[2].labels.map((l) => [l.name, l.colour])).toEqual([
      ['relaxed', '#4e9af1'],
      ['tense', '#e15759'],
    ]);
    await ok('updateTier', { tierId: mood.id, name: 'feeling', vocabularyId: null });
    const order = await ok('reorderTiers', {
      sessionId: s,
      tierIds: [mood.id, list.tiers[0].id, list.tiers[1].id],
    });
    expect(order.map((t: { name: string }) => t.name)).toEqual(['feeling', 'action', 'motif']);
    expect(await ok('removeTier', { tierId: mood.id })).toEqual({ removed: true });
    expect(changedSessions()).toEqual([s, s, s, s]);
    expect(await ok('deleteVocabulary', { vocabularyId: v.id })).toEqual({ deleted: true });
    expect((await call('deleteVocabulary', { vocabularyId: v.id })).status).toBe(404);
  });

  it('names a motif family across sessions, accepts in bulk (reporting overlaps), rejects, and undoes', async () => {
    const s1 = await makeSession('take 1', 120);
    const s2 = await makeSession('take 2', 120);
    const db = server.ctx.db;
    const model = await createMotifModel(db, { name: 'm', config: {}, training: {}, stepsTotal: 1 });
    // Motifs of 20 frames, families 0, 1, 0, 1, ...
    const motifs = Array.from({ length: 6 }, (_, i) => ({
      start: 20 * i,
      end: 20 * i + 20,
      pattern: 0,
      family: i % 2,
    }));
    for (const sessionId of [s1, s2])
      await saveMotifProposals(db, { sessionId, modelId: model.id, provider: 'cpu', atoms: [], motifs });
    // s1's annotator already marked part of the second family-1 occurrence [60, 80).
    const [action1] = (await ok<SessionAnnotations>('listAnnotations', { sessionId: s1 })).tiers;
    await ok('createAnnotation', { tierId: action1.id, start: 70, end: 75, label: 'stumble' });
    events = [];

    const named = await ok('proposeFamilyLabel', { modelId: model.id, family: 1, label: 'step' });
    expect([named.occurrences, named.existing, named.created.length]).toEqual([6, 0, 6]);
    expect(changedSessions()).toEqual([s1, s2]);
    const pending = await ok('listAnnotationProposals', { sessionId: s1, state: 'pending' });
    expect(pending.map((p: { start: number }) => p.start)).toEqual([20, 60, 100]);
    expect(await ok('listAnnotationProposals', { modelId: model.id, family: 1 })).toHaveLength(6);
    expect(await ok('listAnnotationProposals', { family: 0 })).toEqual([]);
    expect((await call('listAnnotationProposals', { sessionId: 999 })).status).toBe(404);

    events = [];
    const all = named.created.map((p: { id: number }) => p.id);
    const accepted = await ok('acceptProposals', { ids: all });
    expect(accepted.accepted).toHaveLength(5);
    expect(accepted.skipped).toEqual([
      { proposalId: pending[1].id, reason: expect.stringContaining('[60, 80) overlaps annotation') },
    ]);
    expect(accepted.edits.map((e: AnnotationEdit) => [e.sessionId, e.op])).toEqual([
      [s1, 'accept-proposals'],
      [s2, 'accept-proposals'],
    ]);
    expect(changedSessions()).toEqual([s1, s2]);
    const tier = (await ok<SessionAnnotations>('listAnnotations', { sessionId: s1 })).tiers[0];
    expect(tier.annotations.map((a) => [a.start, a.label, a.source.kind])).toEqual([
      [20, 'step', 'motif-family'],
      [70, 'stumble', 'user'],
      [100, 'step', 'motif-family'],
    ]);
    expect(tier.annotations[0].source).toEqual({
      kind: 'motif-family',
      modelId: model.id,
      family: 1,
      proposalId: pending[0].id,
    });

    const rejected = await ok('rejectProposals', { ids: [pending[0].id, pending[1].id] });
    expect(rejected.rejected.map((p: { id: number; state: string }) => [p.id, p.state])).toEqual([
      [pending[1].id, 'rejected'],
    ]);
    expect(rejected.skipped[0].reason).toMatch(/it is accepted already/);
    // One undo reverts the reject, the next the whole bulk accept in s1.
    await ok('undoAnnotation', { sessionId: s1 });
    const bulk = await ok<AnnotationEdit>('undoAnnotation', { sessionId: s1 });
    expect([bulk.op, bulk.removedIds.length]).toEqual(['accept-proposals', 2]);
    expect(await ok('listAnnotationProposals', { sessionId: s1, state: 'pending' })).toHaveLength(3);
  });
});
