import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { ApiEventName, ApiEvents } from '../../preload/api';
import { findAppRoot } from '../cli/paths';
import { JobRunner } from '../jobs/runner';
import type { Db } from '../store/db';
import { libraryPath, openLibrary } from '../store/library';

/** Everything the handlers need; one per open library. Transports add how media is addressed. */
export interface AppContext {
  db: Db;
  dataDir: string;
  libraryPath: string;
  /** The app's `native/` folder (open body model, sample clips, schemas). */
  nativeDir: string;
  runner: JobRunner;
  transport: 'electron' | 'web';
  /** Native folder picker, where the transport has one (Electron). */
  pickFolder?: () => Promise<string | null>;
  /** URL under which the transport serves media row `mediaId`. */
  mediaUrl(mediaId: number): string;
  emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void;
  /** Subscribes to every event; returns an unsubscribe. */
  subscribe(listener: (event: ApiEventName, payload: unknown) => void): () => void;
  close(): Promise<void>;
}

export async function createContext(opts: {
  dataDir: string;
  transport: 'electron' | 'web';
  mediaUrl: (mediaId: number) => string;
  /** Default: `native/` of the app root (found from this file, in the sources or in out/main). */
  nativeDir?: string;
  pickFolder?: () => Promise<string | null>;
}): Promise<AppContext> {
  const db = await openLibrary(opts.dataDir);
  const runner = new JobRunner(db, opts.dataDir);
  await runner.recover();
  const bus = new EventEmitter();
  bus.setMaxListeners(100);
  const ctx: AppContext = {
    db,
    dataDir: opts.dataDir,
    libraryPath: libraryPath(opts.dataDir),
    nativeDir: opts.nativeDir ?? join(findAppRoot(), 'native'),
    runner,
    transport: opts.transport,
    mediaUrl: opts.mediaUrl,
    pickFolder: opts.pickFolder,
    emit: (event, payload) => bus.emit('event', event, payload),
    subscribe: (listener) => {
      bus.on('event', listener);
      return () => bus.off('event', listener);
    },
    close: async () => {
      await runner.close();
      await db.close();
    },
  };
  runner.events.on('job', (job) => {
    ctx.emit('jobProgress', job);
    if (job.state === 'succeeded' && job.kind === 'import') {
      ctx.emit('libraryChanged', { reason: 'session-added', sessionId: Number(job.result?.sessionId) });
    } else if (job.state !== 'running') {
      ctx.emit('libraryChanged', { reason: 'job-changed' });
    }
  });
  return ctx;
}
