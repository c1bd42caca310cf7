import type { JobInfo } from '../../../preload/api';
import { formatDate } from '../format';

const CANCELLABLE = new Set<JobInfo['state']>(['queued', 'running']);
const RETRYABLE = new Set<JobInfo['state']>(['failed', 'cancelled', 'interrupted']);

interface Props {
  jobs: JobInfo[];
  onCancel: (jobId: number) => void;
  onRetry: (jobId: number) => void;
}

/** What the job works on, for the list: an import's folder (params.path), an export's destination (params.out). */
function jobSubject(job: JobInfo): string {
  const p = job.params['path'] ?? job.params['out'];
  return typeof p === 'string' ? p : '';
}

export function JobsList({ jobs, onCancel, onRetry }: Props) {
  if (jobs.length === 0) return <p className="muted">No jobs yet.</p>;
  return (
    <ul className="jobs">
      {jobs.map((job) => {
        const pct = Math.round(Math.min(1, Math.max(0, job.progress)) * 100);
        return (
          <li key={job.id} className={`job job-${job.state}`} data-testid="job-row" data-state={job.state}>
            <div className="job-head">
              <span className="job-kind">{job.kind}</span>
              <span className={`badge badge-${job.state}`}>{job.state}</span>
              <span className="job-subject" title={jobSubject(job)}>
                {jobSubject(job)}
              </span>
              <span className="muted job-time">{formatDate(job.updatedAt)}</span>
              {CANCELLABLE.has(job.state) && (
                <button className="btn btn-small" onClick={() => onCancel(job.id)}>
                  Cancel
                </button>
              )}
              {RETRYABLE.has(job.state) && (
                <button className="btn btn-small" onClick={() => onRetry(job.id)}>
                  Retry
                </button>
              )}
            </div>
            <div
              className="progress"
              role="progressbar"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={pct}
            >
              <div className="progress-fill" style={{ width: `${pct}%` }} />
            </div>
            <div className="job-message">
              {job.error ? <span className="job-error">{job.error}</span> : job.message}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
