import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './spawn';
import type { JobInfo, JobKind } from '../../preload/api';
import type { Db } from '../store/db';
import { getJob, insertJob, markInterruptedJobs, nextQueuedJob, updateJob } from '../store/jobs';
import { JOB_KINDS } from './kinds';
import type { FromWorker, ToWorker, WorkerInput } from './protocol';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
/** How long a cancelled worker gets to clean up before it is terminated. */
const CANCEL_GRACE_MS = 5000;

export class JobError extends Error {
  constructor(
    message: string,
    readonly code: 'not-found' | 'conflict',
  ) {
    super(message);
  }
}

/**
 * Runs durable jobs one at a time, each in a worker thread. The job row is the truth: state changes
 * are written before they are announced, so a crash at any point leaves a row that start-up
 * recovery (markInterruptedJobs) can classify.
 */
export class JobRunner {
  readonly events = new EventEmitter();
  private running: { id: number; worker: Worker; cancelTimer?: NodeJS.Timeout } | null = null;
  private kicking = false;
  private lastProgressWrite = 0;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  /** Call once at start-up, before submitting. */
  async recover(): Promise<number[]> {
    return markInterruptedJobs(this.db);
  }

  async submit(kind: JobKind, params: Record<string, unknown>): Promise<JobInfo> {
    const id = await insertJob(this.db, kind, params);
    const job = await this.emitJob(id);
    void this.kick();
    return job;
  }

  async cancel(id: number): Promise<JobInfo> {
    const job = await this.require(id);
    if (this.running?.id === id) {
      const run = this.running;
      run.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      run.cancelTimer = setTimeout(() => void run.worker.terminate(), CANCEL_GRACE_MS);
      await updateJob(this.db, id, { message: 'cancelling' });
      return this.emitJob(id);
    }
    if (job.state === 'queued' || job.state === 'interrupted' || job.state === 'failed') {
      await JOB_KINDS[job.kind].cleanup(this.db, id);
      await updateJob(this.db, id, { state: 'cancelled', message: 'cancelled' });
      return this.emitJob(id);
    }
    if (job.state === 'running') {
      throw new JobError(`job #${id} is running in another studio process; cancel it there`, 'conflict');
    }
    return job;
  }

  async retry(id: number): Promise<JobInfo> {
    const job = await this.require(id);
    if (!['failed', 'cancelled', 'interrupted'].includes(job.state)) {
      throw new JobError(
        `job #${id} is ${job.state}; only failed, cancelled or interrupted jobs can be retried`,
        'conflict',
      );
    }
    await updateJob(this.db, id, {
      state: 'queued',
      progress: 0,
      message: 'queued for retry',
      error: null,
      ownerPid: process.pid,
    });
    const out = await this.emitJob(id);
    void this.kick();
    return out;
  }

  /** Resolves with the job once it reaches a terminal state. */
  waitFor(id: number): Promise<JobInfo> {
    return new Promise((resolve, reject) => {
      const check = (job: JobInfo) => {
        if (job.id === id && TERMINAL.has(job.state)) {
          this.events.off('job', check);
          resolve(job);
        }
      };
      this.events.on('job', check);
      getJob(this.db, id).then((j) => j && check(j), reject);
    });
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Stops the running worker (process shutdown); its row is left for recovery to mark interrupted. */
  async close(): Promise<void> {
    if (this.running) await this.running.worker.terminate();
  }

  private async require(id: number): Promise<JobInfo> {
    const job = await getJob(this.db, id);
    if (!job) throw new JobError(`job #${id} does not exist`, 'not-found');
    return job;
  }

  private async emitJob(id: number): Promise<JobInfo> {
    const job = (await getJob(this.db, id))!;
    this.events.emit('job', job);
    return job;
  }

  private async kick(): Promise<void> {
    if (this.running || this.kicking) return;
    this.kicking = true;
    try {
      const job = await nextQueuedJob(this.db);
      if (job) await this.start(job);
    } finally {
      this.kicking = false;
    }
  }

  private async start(job: JobInfo): Promise<void> {
    await updateJob(this.db, job.id, {
      state: 'running',
      progress: 0,
      message: 'starting',
      ownerPid: process.pid,
    });
    await this.emitJob(job.id);
    const input: WorkerInput = { dataDir: this.dataDir, jobId: job.id, kind: job.kind, params: job.params };
    const worker = startJobWorker(input);
    this.running = { id: job.id, worker };
    let outcome: FromWorker | null = null;
    let chain = Promise.resolve();
    const serial = (fn: () => Promise<unknown>) =>
      (chain = chain.then(fn).then(
        () => undefined,
        () => undefined,
      ));

    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') {
        const t = Date.now();
        // Announce every update, but write the row at most 10 times a second.
        if (t - this.lastProgressWrite > 100 || m.progress >= 1) {
          this.lastProgressWrite = t;
          serial(() => updateJob(this.db, job.id, { progress: m.progress, message: m.message }));
        }
        this.events.emit('job', { ...job, state: 'running', progress: m.progress, message: m.message });
      } else {
        outcome = m;
      }
    });
    worker.on('error', (err) => {
      outcome ??= { type: 'error', message: `job worker crashed: ${err.message}`, code: 'internal' };
    });
    worker.on('exit', (code) => {
      serial(async () => {
        const run = this.running;
        if (run?.cancelTimer) clearTimeout(run.cancelTimer);
        const o: FromWorker =
          outcome ??
          (run?.cancelTimer
            ? { type: 'cancelled' }
            : { type: 'error', message: `job worker exited with code ${code}`, code: 'internal' });
        if (o.type === 'done') {
          await updateJob(this.db, job.id, {
            state: 'succeeded',
            progress: 1,
            message: 'done',
            result: o.result,
          });
        } else if (o.type === 'cancelled') {
          if (!outcome) await JOB_KINDS[job.kind].cleanup(this.db, job.id).catch(() => undefined);
          await updateJob(this.db, job.id, { state: 'cancelled', message: 'cancelled' });
        } else if (o.type === 'error') {
          await JOB_KINDS[job.kind].cleanup(this.db, job.id).catch(() => undefined);
          await updateJob(this.db, job.id, { state: 'failed', message: 'failed', error: o.message });
        }
        this.running = null;
        await this.emitJob(job.id);
        void this.kick();
      });
    });
  }
}

/** The job worker: `worker.js` beside this file in a build, else worker.ts through tsx. */
function startJobWorker(input: WorkerInput): Worker {
  return spawnWorker('worker', __dirname, __dirname, input);
}
