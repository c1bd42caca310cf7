import { useEffect, useRef, useState } from 'react';
import type { JobInfo } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { JobsList } from './JobsList';

interface Props {
  sessionId: number;
  /** Whether the session has foot cameras (the foot-camera term needs them localised). */
  hasFootCameras: boolean;
  /** Told when a fit started here succeeds, so the caller can list the new version. */
  onFitted: () => void;
  onError: (message: string) => void;
}

const ACTIVE = new Set<JobInfo['state']>(['queued', 'running']);

/**
 * "Fit body": starts a fit job with the ground and foot-camera terms switched on or off, and follows it
 * in the jobs list's row (progress, Cancel, Retry). A fit of this session already running when the view
 * opens is picked up, so leaving and coming back keeps its progress in view.
 */
export function FitBodyPanel({ sessionId, hasFootCameras, onFitted, onError }: Props) {
  const api = getApi();
  const [ground, setGround] = useState(true);
  const [footCameras, setFootCameras] = useState(hasFootCameras);
  const [job, setJob] = useState<JobInfo | null>(null);
  const [starting, setStarting] = useState(false);
  const jobId = useRef<number | null>(null);
  // Latest callbacks for the event listener, which is registered once.
  const onFittedRef = useRef(onFitted);
  const onErrorRef = useRef(onError);
  useEffect(() => {
    onFittedRef.current = onFitted;
    onErrorRef.current = onError;
  }, [onFitted, onError]);

  const follow = (j: JobInfo) => {
    jobId.current = j.id;
    setJob(j);
    if (j.state === 'succeeded') onFittedRef.current();
    if (j.state === 'failed') onErrorRef.current(j.error ?? j.message);
  };

  useEffect(() => {
    let live = true;
    api.call('listJobs', { limit: 50 }).then(
      (jobs) => {
        const running = jobs.find(
          (j) => j.kind === 'fit' && j.params['sessionId'] === sessionId && ACTIVE.has(j.state),
        );
        if (live && running && jobId.current === null) {
          jobId.current = running.id;
          setJob(running);
        }
      },
      () => undefined, // the panel still works without the pick-up
    );
    const off = api.on('jobProgress', (j) => {
      if (j.id !== jobId.current) return;
      setJob(j);
      if (j.state === 'succeeded') onFittedRef.current();
      else if (j.state === 'failed') onErrorRef.current(j.error ?? j.message);
    });
    return () => {
      live = false;
      off();
    };
  }, [api, sessionId]);

  const start = () => {
    setStarting(true);
    api
      .call('fitSession', { sessionId, ground, footCameras: hasFootCameras && footCameras })
      .then(async (j) => {
        jobId.current = j.id;
        setJob(j);
        // A fast job may have finished before its id was known here; ask once to be sure.
        const latest = await api.call('getJob', { jobId: j.id });
        if (!ACTIVE.has(latest.state)) follow(latest);
      })
      .catch((err: unknown) => onErrorRef.current(errorMessage(err)))
      .finally(() => setStarting(false));
  };

  const jobAction = (method: 'cancelJob' | 'retryJob', id: number) => {
    api.call(method, { jobId: id }).then(
      (j) => {
        jobId.current = j.id;
        setJob(j);
      },
      (err: unknown) => onErrorRef.current(errorMessage(err)),
    );
  };

  const busy = starting || (!!job && ACTIVE.has(job.state));
  return (
    <div className="fit-panel" data-testid="fit-panel">
      <h2>Body fit</h2>
      <label className="check">
        <input
          type="checkbox"
          data-testid="fit-ground"
          checked={ground}
          disabled={busy}
          onChange={(e) => setGround(e.target.checked)}
        />
        Ground contact
      </label>
      <label className="check" title={hasFootCameras ? undefined : 'This session has no foot cameras'}>
        <input
          type="checkbox"
          data-testid="fit-footcams"
          checked={hasFootCameras && footCameras}
          disabled={busy || !hasFootCameras}
          onChange={(e) => setFootCameras(e.target.checked)}
        />
        Foot cameras
      </label>
      <button
        className="btn btn-primary"
        data-testid="fit-button"
        disabled={busy}
        onClick={start}
        title="Fit the body model to every frame (a new fit version)"
      >
        {busy ? 'Fitting…' : 'Fit body'}
      </button>
      {job && (
        <div data-testid="fit-job">
          <JobsList
            jobs={[job]}
            onCancel={(id) => jobAction('cancelJob', id)}
            onRetry={(id) => jobAction('retryJob', id)}
          />
        </div>
      )}
    </div>
  );
}
