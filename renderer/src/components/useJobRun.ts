import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobInfo, JobKind } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';

const ACTIVE = new Set<JobInfo['state']>(['queued', 'running']);

export function isActive(job: JobInfo | null): boolean {
  return !!job && ACTIVE.has(job.state);
}

interface Options {
  kind: JobKind;
  /** Only jobs on this session are picked up when the view opens (any job of the kind when absent). */
  sessionId?: number;
  /** Told once per job that succeeds here. */
  onSucceeded: (job: JobInfo) => void;
}

/**
 * One job started from a panel and followed by its jobProgress events (FitBodyPanel's pattern): a job of
 * the same kind already running when the panel opens is picked up, a job that finished before its id
 * was known is read once, and Cancel / Retry go through the jobs API. `error` is the last failed call's
 * message (a failed job's own error shows in its JobsList row).
 */
export function useJobRun({ kind, sessionId, onSucceeded }: Options) {
  const api = getApi();
  const [job, setJob] = useState<JobInfo | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const jobId = useRef<number | null>(null);
  const notified = useRef(new Set<number>());
  const onSucceededRef = useRef(onSucceeded);
  useEffect(() => {
    onSucceededRef.current = onSucceeded;
  }, [onSucceeded]);

  const follow = useCallback((j: JobInfo) => {
    if (j.id !== jobId.current) return;
    setJob(j);
    if (j.state === 'succeeded' && !notified.current.has(j.id)) {
      notified.current.add(j.id);
      onSucceededRef.current(j);
    }
  }, []);

  useEffect(() => {
    let live = true;
    api.call('listJobs', { limit: 50 }).then(
      (jobs) => {
        const running = jobs.find(
          (j) =>
            j.kind === kind &&
            (sessionId === undefined || j.params['sessionId'] === sessionId) &&
            ACTIVE.has(j.state),
        );
        if (live && running && jobId.current === null) {
          jobId.current = running.id;
          setJob(running);
        }
      },
      () => undefined, // the panel still works without the pick-up
    );
    const off = api.on('jobProgress', follow);
    return () => {
      live = false;
      off();
    };
  }, [api, kind, sessionId, follow]);

  /** Starts a job with `call` (an API call answering the new job). */
  const start = (call: () => Promise<JobInfo>) => {
    setStarting(true);
    setError(null);
    call()
      .then(async (j) => {
        jobId.current = j.id;
        setJob(j);
        // A fast job may have finished before its id was known here; ask once to be sure.
        const latest = await api.call('getJob', { jobId: j.id });
        if (!ACTIVE.has(latest.state)) follow(latest);
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setStarting(false));
  };

  const jobAction = (method: 'cancelJob' | 'retryJob', id: number) => {
    setError(null);
    api.call(method, { jobId: id }).then(
      (j) => {
        jobId.current = j.id;
        setJob(j);
      },
      (err: unknown) => setError(errorMessage(err)),
    );
  };

  return {
    job,
    busy: starting || isActive(job),
    error,
    setError,
    start,
    cancel: (id: number) => jobAction('cancelJob', id),
    retry: (id: number) => jobAction('retryJob', id),
  };
}
