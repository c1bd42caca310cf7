import { parentPort, workerData } from 'node:worker_threads';
import { CancelledError, ImportError } from '../capture/errors';
import { openLibrary } from '../store/library';
import { JOB_KINDS } from './kinds';
import type { FromWorker, ToWorker, WorkerInput } from './protocol';

/**
 * Job worker thread: runs one job with its own library connection so parsing and hashing never block
 * the main (UI/IPC/HTTP) thread. Progress and the outcome go back as messages; the runner owns the
 * job row.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker.ts must run in a worker thread');
  const input = workerData as WorkerInput;
  const post = (m: FromWorker) => port.postMessage(m);
  const abort = new AbortController();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') abort.abort();
  });
  const db = await openLibrary(input.dataDir);
  try {
    const result = await JOB_KINDS[input.kind].run(db, input.params, {
      jobId: input.jobId,
      signal: abort.signal,
      progress: (progress, message) => post({ type: 'progress', progress, message }),
    });
    post({ type: 'done', result });
  } catch (err) {
    if (err instanceof CancelledError || abort.signal.aborted) {
      await JOB_KINDS[input.kind].cleanup(db, input.jobId).catch(() => undefined);
      post({ type: 'cancelled' });
    } else {
      const code = err instanceof ImportError ? err.code : 'internal';
      post({ type: 'error', message: (err as Error).message, code });
    }
  } finally {
    await db.close().catch(() => undefined);
    port.close();
  }
}

void main();
