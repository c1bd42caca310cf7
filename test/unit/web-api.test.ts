import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HANDLERS } from '../../main/api/handlers';
import { startServer, type WebServer } from '../../main/server/server';
import {
  API_METHODS,
  type ApiMethod,
  type ApiRequest,
  type JobInfo,
  type SessionDetail,
} from '../../preload/api';
import { cleanupTempDirs, POSE2SIM, tempDir } from './fixtures';

describe('web transport', () => {
  let server: WebServer;
  let base: string;
  const events: { event: string; payload: unknown }[] = [];
  let ws: WebSocket;

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
      deleteSession: { sessionId },
    };
    const answers: Record<string, { status: number; body: any }> = {};
    // deleteSession last: the others need the session.
    const order = [...API_METHODS].sort(
      (a, b) => Number(a === 'deleteSession') - Number(b === 'deleteSession'),
    );
    for (const m of order) answers[m] = await call(m, requests[m]);
    for (const m of API_METHODS) {
      // retryJob of a succeeded job is a 409 conflict: an answer, with a reason.
      expect(answers[m].status, `${m}: ${JSON.stringify(answers[m].body)}`).toBe(
        m === 'retryJob' ? 409 : 200,
      );
    }
    expect(answers.libraryInfo.body.transport).toBe('web');
    expect(answers.listSessions.body).toHaveLength(1);
    expect(answers.pickFolder.body.supported).toBe(false);
    expect(answers.thumbnail.body.dataUrl).toMatch(/^data:image\/jpeg;base64,/);
    expect(answers.keypoints.body.count).toBe(5);
    expect(answers.keypoints.body.data).toHaveLength(5 * 25 * 3);
    expect(answers.retryJob.body.message).toMatch(/only failed, cancelled or interrupted/);
    expect(answers.deleteSession.body.deleted).toBe(true);
    expect((await call('listSessions', {})).body).toHaveLength(0);

    // The media URL served byte ranges of the registered file (checked before the delete above).
    expect(answers.mediaUrl.body.mime).toBe('video/mp4');
    expect(events.some((e) => e.event === 'jobProgress')).toBe(true);
    expect(events.some((e) => e.event === 'libraryChanged')).toBe(true);
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
