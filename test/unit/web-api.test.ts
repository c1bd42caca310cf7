import { DEMO_MOTIF_MODEL } from '../../main/motifs/shipped-models';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HANDLERS } from '../../main/api/handlers';
import { startServer, type WebServer } from '../../main/server/server';
import { appendTrainingLog, createMotifModel, updateMotifModel } from '../../main/store/motif-models';
import { saveMotifProposals } from '../../main/store/motif-proposals';
import { addTier, createAnnotation, ensureDefaultTiers } from '../../main/store/annotations';
import { proposeFamilyLabel } from '../../main/store/annotation-proposals';
import { createVocabulary } from '../../main/store/vocabularies';
import { markBadRange, setUserKeypoint } from '../../main/store/fit-corrections';
import { writeSkeletonDataset } from '../../main/capture/skeleton-dataset';
import {
  API_METHODS,
  type ApiMethod,
  type ApiRequest,
  type ExportJobResult,
  type JobInfo,
  type SessionDetail,
} from '../../preload/api';
import { cleanupTempDirs, POSE2SIM, tempDir, TUTORIAL_BOARD } from './fixtures';

/** The key of a stored user keypoint. */
const pick = (k: { cameraId: number; frame: number; joint: number }) => ({
  cameraId: k.cameraId,
  frame: k.frame,
  joint: k.joint,
});

describe('web transport', () => {
  let server: WebServer;
  let base: string;
  const events: { event: string; payload: unknown }[] = [];
  let ws: WebSocket;

  /** A studio session with two ChArUco boards and one camera without video. */
  const boardsSession = (): string => {
    const dir = join(tempDir('studio-boards-'), 'boards-session');
    mkdirSync(dir);
    const board = TUTORIAL_BOARD;
    const calibration = {
      width: 640,
      height: 480,
      K: [500, 0, 320, 0, 500, 240, 0, 0, 1],
      dist: [],
      R: board.pose.R,
      t: [0, 0, 1],
    };
    writeFileSync(
      join(dir, 'session.json'),
      JSON.stringify({
        version: 1,
        name: 'Boards only',
        boards: [
          board,
          {
            ...board,
            name: 'floor (A3)',
            dictionary: 'DICT_4X4_50',
            squaresY: 4,
            legacyPattern: true,
            firstMarkerId: 17,
          },
        ],
        cameras: [{ name: 'cam', calibration }],
      }),
    );
    return dir;
  };

  const importAndWait = async (path: string): Promise<JobInfo> =>
    waitForJob((await call('importSession', { path })).body);

  /** Polls a job until it has ended (or 30 s passed). */
  const waitForJob = async (start: JobInfo): Promise<JobInfo> => {
    let job = start;
    for (let i = 0; i < 600 && ['queued', 'running'].includes(job.state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await call('getJob', { jobId: job.id })).body;
    }
    return job;
  };

  const call = async (method: string, body: unknown, token: string | null = server.token) => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    server = await startServer({ dataDir: tempDir('studio-web-') });
    base = `http://127.0.0.1:${server.port}`;
    ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`);
    ws.on('message', (m) => events.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
  });
  afterAll(async () => {
    ws.close();
    await server.close();
    cleanupTempDirs();
  });

  it('has a handler for every call of the contract', () => {
    expect(Object.keys(HANDLERS).sort()).toEqual([...API_METHODS].sort());
  });

  it('refuses requests without the token, with a wrong token, and event sockets without it', async () => {
    expect((await call('libraryInfo', {}, null)).status).toBe(401);
    expect((await call('libraryInfo', {}, 'x'.repeat(server.token.length))).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/media/1`)).status).toBe(401);
    const bad = new WebSocket(`ws://127.0.0.1:${server.port}/events`);
    const outcome = await new Promise<string>((r) => {
      bad.once('open', () => r('open'));
      bad.once('error', () => r('refused'));
    });
    expect(outcome).toBe('refused');
  });

  it('validates requests and names the problem', async () => {
    const r = await call('getSession', { sessionId: 'one' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/sessionId/);
    expect((await call('noSuchCall', {})).status).toBe(404);
  });

  it('answers every call of the contract over HTTP', async () => {
    const imported = await call('importSession', { path: POSE2SIM });
    expect(imported.status).toBe(200);
    const jobId = (imported.body as JobInfo).id;
    let job: JobInfo = imported.body;
    for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(job.state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await call('getJob', { jobId })).body;
    }
    expect(job.state, job.error ?? '').toBe('succeeded');
    const sessionId = Number(job.result!.sessionId);
    const session: SessionDetail = (await call('getSession', { sessionId })).body;
    const cameraId = session.cameras[0].id;
    expect(session.boards).toEqual([]);
    const boardsJob = await importAndWait(boardsSession());
    expect(boardsJob.state, boardsJob.error ?? '').toBe('succeeded');
    const boardsId = Number(boardsJob.result!.sessionId);
    // A real (short) fit first, so the fit calls have a version to read.
    let fitJob: JobInfo = (await call('fitSession', { sessionId, ground: false, count: 8 })).body;
    for (let i = 0; i < 600 && !['succeeded', 'failed'].includes(fitJob.state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      fitJob = (await call('getJob', { jobId: fitJob.id })).body;
    }
    expect(fitJob.state, fitJob.error ?? '').toBe('succeeded');
    const fitId = Number(fitJob.result!.fitId);
    // A registered motif model with a short curve and proposals for the session, through the stores.
    const db = server.ctx.db;
    const model = await createMotifModel(db, {
      name: 'tiny',
      config: { k: 8 },
      training: { sessionIds: [sessionId] },
      stepsTotal: 20,
    });
    await appendTrainingLog(db, model.id, [
      { step: 0, values: { loss: 1.5 } },
      { step: 10, values: { loss: 0.75 } },
    ]);
    await updateMotifModel(db, model.id, { state: 'ready', stepsDone: 20, metrics: { loss: 0.75 } });
    await saveMotifProposals(db, {
      sessionId,
      modelId: model.id,
      provider: 'cpu',
      atoms: [
        { start: 0, end: 6, code: 3 },
        { start: 6, end: 15, code: 1 },
        { start: 15, end: 20, code: 3 },
      ],
      motifs: [
        { start: 0, end: 15, pattern: 0, family: 2 },
        { start: 15, end: 20, pattern: -1, family: 5 },
      ],
    });

    const tinyDataset = join(tempDir(), 'tiny-dataset');
    writeSkeletonDataset(tinyDataset, {
      name: 'tiny',
      fps: 5,
      joints: ['HipLeft', 'HipRight', 'ShoulderCenter'],
      sequences: [{ name: 'a', frames: 2, positions: new Float32Array(18).fill(1) }],
      labels: [],
    });
    // Annotation rows for the annotation calls to edit (ids known before the calls run, in API_METHODS order).
    const actions = await createVocabulary(db, {
      name: 'actions',
      labels: [
        { name: 'walk', colour: '#ff0000' },
        { name: 'run', colour: '#00ff00' },
      ],
    });
    const spareVocabulary = await createVocabulary(db, { name: 'spare' });
    const [action] = await ensureDefaultTiers(db, sessionId);
    const spareTier = await addTier(db, sessionId, { name: 'spare' });
    const boardsTiers = await ensureDefaultTiers(db, boardsId);
    const seg = async (start: number, end: number, label: string) =>
      (await createAnnotation(db, action.id, start, end, label)).annotations[0].id;
    const [a1, a2, a3, a4] = [
      await seg(10, 12, 'a'),
      await seg(12, 14, 'b'),
      await seg(15, 16, 'c'),
      await seg(16, 19, 'd'),
    ];
    const toAccept = (
      await proposeFamilyLabel(db, { modelId: model.id, family: 2, label: 'sway', tierName: 'motif' })
    ).created[0];
    const toReject = (await proposeFamilyLabel(db, { modelId: model.id, family: 5, label: 'step' }))
      .created[0];
    const exportOut = join(tempDir('studio-export-'), 'dataset');
    const requests: { [M in ApiMethod]: ApiRequest<M> } = {
      libraryInfo: {},
      listSessions: {},
      getSession: { sessionId },
      pickFolder: {},
      importSession: { path: join(tempDir(), 'missing') },
      listJobs: { limit: 10 },
      getJob: { jobId },
      cancelJob: { jobId },
      retryJob: { jobId },
      mediaUrl: { sessionId, cameraId },
      thumbnail: { sessionId, cameraId },
      keypoints: { sessionId, cameraId, start: 10, count: 5 },
      getSettings: {},
      setSettings: {},
      listBodyModels: {},
      localizeSession: { sessionId },
      footPoses: { sessionId, cameraId, start: 0, count: 5 },
      boardPrint: { sessionId: boardsId, board: 'tutorial', format: 'pdf' },
      fitSession: { sessionId, ground: false, count: 5 },
      listFits: { sessionId },
      fitQuality: { fitId, start: 0, count: 5 },
      fitFrame: { fitId, frame: 0, cameraId },
      fitScene: { sessionId, fitId },
      // Fit corrections: rows to remove made first (the requests run in API_METHODS order).
      listBadRanges: { sessionId },
      markBadRange: { sessionId, start: 2, end: 5, note: 'arm' },
      removeBadRange: { sessionId, rangeId: (await markBadRange(db, sessionId, 6, 7)).id },
      listUserKeypoints: { sessionId, start: 0, count: 8 },
      setUserKeypoint: { sessionId, cameraId, frame: 3, joint: 4, u: 100.5, v: 200.25 },
      removeUserKeypoint: {
        sessionId,
        ...pick(await setUserKeypoint(db, sessionId, { cameraId, frame: 1, joint: 2, u: 1, v: 2 })),
      },
      // A 2-frame refit of the 8-frame fit runs to its end before the export below (jobs run one at a time).
      refitWindow: { sessionId, baseFitId: fitId, start: 3, count: 2 },
      compareFits: { fitA: fitId, fitB: fitId },
      pickFit: { sessionId, fitId },
      pickedFit: { sessionId },
      listMotifModels: {},
      trainingCurve: { modelId: model.id },
      motifProposals: { sessionId },
      motifFamily: { modelId: model.id, family: 2 },
      // Both start a job and answer at once (the jobs are cancelled below; motif-jobs.test.ts runs them).
      trainMotifModel: { name: 'web', datasets: [tinyDataset], steps: [1, 1, 1] },
      extractMotifs: { sessionId, modelId: model.id },
      shippedMotifModels: {},
      installShippedMotifModel: { name: DEMO_MOTIF_MODEL },
      listVocabularies: {},
      createVocabulary: {
        name: 'moods',
        labels: [{ name: 'calm', colour: '#4E9AF1', description: 'still' }],
      },
      updateVocabulary: { vocabularyId: actions.id, description: 'gross motor' },
      deleteVocabulary: { vocabularyId: spareVocabulary.id },
      addLabel: { vocabularyId: actions.id, name: 'hop', colour: '#0000ff', position: 0 },
      updateLabel: { vocabularyId: actions.id, label: 'walk', colour: '#aa0000' },
      removeLabel: { vocabularyId: actions.id, label: 'run' },
      reorderLabels: { vocabularyId: actions.id, names: ['walk', 'hop'] },
      listAnnotations: { sessionId },
      addTier: { sessionId, name: 'notes', vocabularyId: actions.id },
      updateTier: { tierId: spareTier.id, name: 'spare 2' },
      removeTier: { tierId: spareTier.id },
      reorderTiers: { sessionId: boardsId, tierIds: [boardsTiers[1].id, boardsTiers[0].id] },
      createAnnotation: { tierId: action.id, start: 0, end: 5, label: 'stand' },
      updateAnnotation: { annotationId: a1, start: 9, label: 'a1' },
      splitAnnotation: { annotationId: a4, frame: 17 },
      mergeAnnotations: { annotationIds: [a3, a2] },
      deleteAnnotation: { annotationId: a1 },
      undoAnnotation: { sessionId },
      redoAnnotation: { sessionId },
      annotationHistory: { sessionId, limit: 3 },
      proposeFamilyLabel: { modelId: model.id, family: 2, label: 'balance', tierName: 'motif' },
      listAnnotationProposals: { sessionId, state: 'pending' },
      acceptProposals: { ids: [toAccept.id] },
      rejectProposals: { ids: [toReject.id] },
      exportFormats: {},
      exportSessions: {
        sessionIds: [sessionId],
        formats: ['amass', 'npy', 'babel', 'csv'],
        out: exportOut,
        split: 'train=1',
        fitIds: [fitId],
      },
      deleteSession: { sessionId },
    };
    const answers: Record<string, { status: number; body: any }> = {};
    // deleteSession last: the others need the session.
    const order = [...API_METHODS].sort(
      (a, b) => Number(a === 'deleteSession') - Number(b === 'deleteSession'),
    );
    let exported: JobInfo | null = null;
    for (const m of order) {
      answers[m] = await call(m, requests[m]);
      if (m === 'exportSessions' && answers[m].status === 200) {
        // Jobs run one at a time: the jobs queued before it are only there for their answers, and the
        // export must end before its session is deleted.
        for (const k of ['localizeSession', 'fitSession', 'trainMotifModel', 'extractMotifs'])
          await call('cancelJob', { jobId: answers[k].body.id });
        exported = await waitForJob(answers[m].body);
      }
    }
    for (const m of API_METHODS) {
      // retryJob of a succeeded job is a 409 conflict: an answer, with a reason.
      expect(answers[m].status, `${m}: ${JSON.stringify(answers[m].body)}`).toBe(
        m === 'retryJob' ? 409 : 200,
      );
    }
    expect(answers.libraryInfo.body.transport).toBe('web');
    expect([answers.trainMotifModel.body.kind, answers.extractMotifs.body.kind]).toEqual([
      'motifs-train',
      'motifs-extract',
    ]);
    for (const m of ['trainMotifModel', 'extractMotifs'])
      await call('cancelJob', { jobId: answers[m].body.id });
    const noData = await call('trainMotifModel', { datasets: [join(tempDir(), 'none')] });
    expect([noData.status, noData.body.message]).toEqual([
      404,
      expect.stringMatching(/not a skeleton dataset/),
    ]);
    expect((await call('extractMotifs', { sessionId: 999 })).status).toBe(404);
    expect(answers.listSessions.body).toHaveLength(2);
    expect(answers.pickFolder.body.supported).toBe(false);
    expect(answers.thumbnail.body.dataUrl).toMatch(/^data:image\/jpeg;base64,/);
    expect(answers.keypoints.body.count).toBe(5);
    expect(answers.keypoints.body.data).toHaveLength(5 * 25 * 3);
    expect(answers.retryJob.body.message).toMatch(/only failed, cancelled or interrupted/);
    expect(answers.boardPrint.body.fileName).toBe('Boards_only-tutorial.pdf');
    expect(answers.listFits.body.map((f: { id: number }) => f.id)).toContain(fitId);
    expect(answers.fitQuality.body.count).toBe(5);
    expect(Buffer.from(answers.fitFrame.body.projected.joints, 'base64').length).toBeGreaterThan(0);
    expect(answers.fitScene.body.cameras).toHaveLength(4);
    expect(answers.markBadRange.body).toMatchObject({ sessionId, start: 2, end: 5, note: 'arm' });
    expect(answers.removeBadRange.body).toMatchObject({ start: 6, end: 7 });
    expect(answers.setUserKeypoint.body).toMatchObject({
      frame: 3,
      joint: 4,
      u: 100.5,
      v: 200.25,
      confidence: 1,
    });
    expect(answers.removeUserKeypoint.body).toMatchObject({ frame: 1, joint: 2 });
    expect(answers.listUserKeypoints.body.map((k: { frame: number }) => k.frame)).toEqual([1]);
    expect([answers.refitWindow.body.kind, answers.refitWindow.body.params.baseFitId]).toEqual([
      'refit',
      fitId,
    ]);
    expect(answers.compareFits.body).toMatchObject({ fitA: fitId, fitB: fitId, count: 8 });
    expect(answers.compareFits.body.summary.maxMm).toBe(0);
    expect([answers.pickFit.body.fit.id, answers.pickFit.body.picked]).toEqual([fitId, true]);
    expect([answers.pickedFit.body.fit.id, answers.pickedFit.body.picked]).toEqual([fitId, true]);
    expect(answers.boardPrint.body.mimeType).toBe('application/pdf');
    expect(Buffer.from(answers.boardPrint.body.base64, 'base64').toString('latin1', 0, 8)).toBe('%PDF-1.4');
    expect(
      answers.listMotifModels.body.map((m: { name: string; state: string }) => [m.name, m.state]),
    ).toEqual([['tiny', 'ready']]);
    expect(answers.trainingCurve.body).toEqual({
      modelId: model.id,
      steps: [0, 10],
      series: { loss: [1.5, 0.75] },
    });
    // The shipped demo model: listed before it is installed, installed once (a second call returns it).
    const demo = answers.shippedMotifModels.body.find((m: { name: string }) => m.name === DEMO_MOTIF_MODEL);
    expect([demo.installedAs, demo.joints.length, demo.recipe.command]).toEqual([
      null,
      31,
      'npm run build:motif-model',
    ]);
    expect([answers.installShippedMotifModel.body.name, answers.installShippedMotifModel.body.state]).toEqual(
      [DEMO_MOTIF_MODEL, 'ready'],
    );
    const again = await call('installShippedMotifModel', { name: DEMO_MOTIF_MODEL });
    expect(again.body.id).toBe(answers.installShippedMotifModel.body.id);
    expect(
      (await call('shippedMotifModels', {})).body.find((m: { name: string }) => m.name === DEMO_MOTIF_MODEL)
        .installedAs,
    ).toBe(again.body.id);
    expect((await call('installShippedMotifModel', { name: 'no-such-model' })).status).toBe(404);
    expect((await call('installShippedMotifModel', { name: '../models' })).status).toBe(400);
    expect(answers.motifProposals.body.provider).toBe('cpu');
    expect(answers.motifProposals.body.atoms[1]).toEqual({ start: 6, end: 15, code: 1 });
    expect(answers.motifProposals.body.motifs).toHaveLength(2);
    expect(answers.motifFamily.body.occurrences).toEqual([
      { sessionId, sessionName: session.name, start: 0, end: 15 },
    ]);
    const noModel = await call('trainingCurve', { modelId: model.id + 1000 });
    expect([noModel.status, noModel.body.message]).toEqual([
      404,
      `motif model #${model.id + 1000} does not exist`,
    ]);
    expect((await call('motifFamily', { modelId: model.id + 1000, family: 0 })).status).toBe(404);
    // Annotations: vocabularies, tiers, each edit with undo/redo, history, family proposals.
    expect(answers.listVocabularies.body.map((v: { name: string }) => v.name)).toEqual(['actions', 'spare']);
    expect(answers.createVocabulary.body.labels).toEqual([
      { name: 'calm', colour: '#4e9af1', description: 'still', position: 0 },
    ]);
    expect(
      answers.reorderLabels.body.labels.map((l: { name: string; colour: string }) => [l.name, l.colour]),
    ).toEqual([
      ['walk', '#aa0000'],
      ['hop', '#0000ff'],
    ]);
    expect(answers.deleteVocabulary.body).toEqual({ deleted: true });
    expect(answers.listAnnotations.body.tiers.map((t: { name: string }) => t.name)).toEqual([
      'action',
      'motif',
      'spare',
    ]);
    expect(answers.listAnnotations.body.tiers[0].annotations).toHaveLength(4);
    expect([answers.addTier.body.name, answers.addTier.body.kind]).toEqual(['notes', 'free']);
    expect(answers.removeTier.body).toEqual({ removed: true });
    expect(answers.reorderTiers.body.map((t: { kind: string }) => t.kind)).toEqual(['motif', 'action']);
    expect(answers.createAnnotation.body).toMatchObject({
      sessionId,
      op: 'create',
      annotations: [{ start: 0, end: 5, label: 'stand', source: { kind: 'user' } }],
    });
    expect(answers.updateAnnotation.body.op).toBe('update');
    expect(
      answers.splitAnnotation.body.annotations.map((a: { start: number; end: number }) => [a.start, a.end]),
    ).toEqual([
      [16, 17],
      [17, 19],
    ]);
    expect(answers.mergeAnnotations.body.annotations).toMatchObject([
      { id: a2, start: 12, end: 16, label: 'b' },
    ]);
    expect(answers.deleteAnnotation.body.removedIds).toEqual([a1]);
    expect(answers.undoAnnotation.body.annotations.map((a: { id: number }) => a.id)).toEqual([a1]);
    expect(answers.redoAnnotation.body.removedIds).toEqual([a1]);
    expect(answers.annotationHistory.body.entries.map((e: { op: string }) => e.op)).toEqual([
      'delete',
      'merge',
      'split',
    ]);
    expect([answers.annotationHistory.body.canUndo, answers.annotationHistory.body.canRedo]).toEqual([
      true,
      false,
    ]);
    expect(answers.proposeFamilyLabel.body).toMatchObject({ existing: 0, occurrences: 1 });
    expect(answers.listAnnotationProposals.body.map((p: { label: string }) => p.label)).toEqual([
      'sway',
      'balance',
      'step',
    ]);
    expect(answers.acceptProposals.body.accepted[0].annotation).toMatchObject({
      start: 0,
      end: 15,
      label: 'sway',
      source: { kind: 'motif-family', modelId: model.id, family: 2, proposalId: toAccept.id },
    });
    expect(answers.rejectProposals.body.rejected.map((p: { id: number }) => p.id)).toEqual([toReject.id]);
    expect(events.some((e) => e.event === 'annotationsChanged')).toBe(true);
    // Export: the formats, then the job the call queued, run to the end, and what it wrote.
    expect(answers.exportFormats.body.map((f: { name: string }) => f.name)).toEqual([
      'amass',
      'bvh',
      'glb',
      'npy',
      'babel',
      'csv',
      'coco',
    ]);
    expect(
      answers.exportFormats.body
        .filter((f: { needsFit: boolean }) => f.needsFit)
        .map((f: { name: string }) => f.name),
    ).toEqual(['amass', 'bvh', 'glb', 'npy']);
    for (const f of answers.exportFormats.body) expect(f.description).toMatch(/^\S.{20,}/);
    expect([answers.exportSessions.body.kind, answers.exportSessions.body.params.out]).toEqual([
      'export',
      exportOut,
    ]);
    expect(exported?.state, exported?.error ?? '').toBe('succeeded');
    const r = exported!.result as unknown as ExportJobResult;
    const seq = session.name;
    expect([r.out, r.manifest, r.formats, r.splits]).toEqual([
      exportOut,
      join(exportOut, 'manifest.json'),
      ['amass', 'npy', 'babel', 'csv'],
      ['train'],
    ]);
    expect(r.sessions).toEqual([{ sessionId, sequence: seq, split: 'train', fitId }]);
    expect(r.files.map((f) => f.path)).toEqual([
      'train/annotations.csv',
      'train/babel.json',
      `train/${seq}/${seq}_joints.npy`,
      `train/${seq}/${seq}_poses.npz`,
    ]);
    const manifest = JSON.parse(readFileSync(r.manifest, 'utf8'));
    expect(manifest.files).toEqual(r.files);
    expect(manifest.sessions[0].fit.id).toBe(fitId);
    for (const f of r.files)
      expect(
        createHash('sha256')
          .update(readFileSync(join(exportOut, f.path)))
          .digest('hex'),
        f.path,
      ).toBe(f.sha256);

    expect(answers.deleteSession.body.deleted).toBe(true);
    expect((await call('listSessions', {})).body).toHaveLength(1);
    // The deleted session's proposals went with it.
    expect((await call('motifFamily', { modelId: model.id, family: 2 })).body.occurrences).toEqual([]);

    // The media URL served byte ranges of the registered file (checked before the delete above).
    expect(answers.mediaUrl.body.mime).toBe('video/mp4');
    expect(events.some((e) => e.event === 'jobProgress')).toBe(true);
    expect(events.some((e) => e.event === 'libraryChanged')).toBe(true);
  });

  it('refuses a bad export at the call, with the reason, writing nothing and queuing no job', async () => {
    const job = await importAndWait(boardsSession());
    expect(job.state, job.error ?? '').toBe('succeeded');
    const sessionId = Number(job.result!.sessionId);
    const dir = tempDir('studio-export-bad-');
    const out = join(dir, 'dataset');
    const exportJobs = async () =>
      (await call('listJobs', { limit: 1000 })).body.filter((j: JobInfo) => j.kind === 'export').length;
    const jobsBefore = await exportJobs();
    const refused = async (req: object) => {
      const r = await call('exportSessions', { sessionIds: [sessionId], formats: ['babel'], out, ...req });
      return [r.status, r.body.message];
    };
    expect(await refused({ formats: ['babel', 'fbx'] })).toEqual([
      422,
      'unknown export format "fbx" (known: amass, bvh, glb, npy, babel, csv, coco, all)',
    ]);
    expect(await refused({ formats: ['amass'] })).toEqual([
      409,
      `session #${sessionId} "Boards only": has no fit to export as amass (fit it first: studio fit ${sessionId})`,
    ]);
    expect(await refused({ sessionIds: [sessionId, 9999] })).toEqual([404, 'session #9999 does not exist']);
    expect(await refused({ fitIds: [9999] })).toEqual([404, 'fit #9999 does not exist']);
    expect(await refused({ split: 'train=0.8,test=0.2', splitSubjects: 'train:a' })).toEqual([
      422,
      expect.stringMatching(/not both/),
    ]);
    expect(await refused({ splitSubjects: 'train:alice;test:bob' })).toEqual([
      422,
      expect.stringMatching(/subject\(s\) "Boards only" are in no split/),
    ]);
    expect(await refused({ out: 'relative/dataset' })).toEqual([
      400,
      'exportSessions: out: must be an absolute folder path',
    ]);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    expect(await refused({ out: join(file, 'dataset') })).toEqual([
      422,
      `${join(file, 'dataset')}: cannot write the export folder here (${file} is not a folder)`,
    ]);
    // Nothing was written and no job queued.
    expect(readdirSync(dir)).toEqual(['a-file']);
    expect(await exportJobs()).toBe(jobsBefore);

    // A non-empty folder is refused, then replaced with force.
    mkdirSync(out);
    writeFileSync(join(out, 'old.txt'), 'old export');
    expect(await refused({})).toEqual([409, `${out}: exists and is not empty (use --force to replace it)`]);
    expect(readFileSync(join(out, 'old.txt'), 'utf8')).toBe('old export');
    const forced = await call('exportSessions', {
      sessionIds: [sessionId],
      formats: ['babel', 'csv'],
      out,
      force: true,
    });
    expect(forced.status).toBe(200);
    const done = await waitForJob(forced.body);
    expect(done.state, done.error ?? '').toBe('succeeded');
    expect(existsSync(join(out, 'old.txt'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['all', 'manifest.json']);
    expect(await exportJobs()).toBe(jobsBefore + 1);
    expect((await call('deleteSession', { sessionId })).body.deleted).toBe(true);
  });

  it("prints a session's boards as PNG and PDF, and names the session and board when it cannot", async () => {
    const job = await importAndWait(boardsSession());
    expect(job.state, job.error ?? '').toBe('succeeded');
    const sessionId = Number(job.result!.sessionId);
    const session: SessionDetail = (await call('getSession', { sessionId })).body;
    expect(session.boards).toEqual([
      {
        name: 'tutorial',
        dictionary: 'DICT_6X6_250',
        squaresX: 5,
        squaresY: 7,
        squareLength: 0.04,
        markerLength: 0.02,
        legacyPattern: false,
        firstMarkerId: 0,
      },
      expect.objectContaining({
        name: 'floor (A3)',
        dictionary: 'DICT_4X4_50',
        squaresY: 4,
        legacyPattern: true,
      }),
    ]);

    const png = await call('boardPrint', { sessionId, board: 'floor (A3)', format: 'png' });
    expect(png.status).toBe(200);
    expect(png.body.fileName).toBe('Boards_only-floor_A3.png');
    expect(png.body.mimeType).toBe('image/png');
    const bytes = Buffer.from(png.body.base64, 'base64');
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // IHDR: 5 x 4 squares of 40 mm at 300 dpi (472 px each), 1-bit grayscale.
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20), bytes[24], bytes[25]]).toEqual([
      5 * 472,
      4 * 472,
      1,
      0,
    ]);

    const missing = await call('boardPrint', { sessionId, board: 'ceiling', format: 'pdf' });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(
      `session #${sessionId} ("Boards only") has no board "ceiling" (boards: "tutorial", "floor (A3)")`,
    );
    const noSession = await call('boardPrint', { sessionId: 9999, board: 'tutorial', format: 'pdf' });
    expect(noSession.status).toBe(404);
    expect(noSession.body.message).toMatch(/session #9999 does not exist/);
    const badFormat = await call('boardPrint', { sessionId, board: 'tutorial', format: 'svg' });
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.message).toMatch(/^boardPrint: format:/);
    expect((await call('deleteSession', { sessionId })).body.deleted).toBe(true);
  });

  it('serves registered media with HTTP range requests and nothing else', async () => {
    const job = (await call('importSession', { path: POSE2SIM })).body as JobInfo;
    let state = job.state;
    for (let i = 0; i < 200 && state !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await call('getJob', { jobId: job.id })).body.state;
    }
    const sessions = (await call('listSessions', {})).body;
    const s: SessionDetail = (await call('getSession', { sessionId: sessions[0].id })).body;
    const { url } = (await call('mediaUrl', { sessionId: s.id, cameraId: s.cameras[1].id })).body;
    const file = readFileSync(join(POSE2SIM, 'videos', 'cam02.mp4'));
    const ranged = await fetch(base + url, { headers: { range: 'bytes=100-1099' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-1099/${file.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(file.subarray(100, 1100))).toBe(true);
    const whole = await fetch(base + url);
    expect(whole.status).toBe(200);
    expect(Number(whole.headers.get('content-length'))).toBe(file.length);
    await whole.arrayBuffer();
    const bogus = await fetch(`${base}/media/9999?token=${server.token}`);
    expect(bogus.status).toBe(404);
    const escape = await fetch(`${base}/..%2f..%2fetc%2fpasswd?token=${server.token}`);
    expect([403, 404]).toContain(escape.status);
  });
});
