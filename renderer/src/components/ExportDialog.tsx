import { useEffect, useState, type FormEvent } from 'react';
import type { ExportFormatInfo, ExportJobResult, JobInfo, SessionSummary } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import {
  EMPTY_EXPORT_FORM,
  exportRequest,
  formatBytes,
  type ExportForm,
  type SplitMode,
} from './export-form';
import { useJobRun } from './useJobRun';
import './export-dialog.css';

interface Props {
  sessions: SessionSummary[];
  onClose: () => void;
}

const SPLITS: { mode: SplitMode; label: string }[] = [
  { mode: 'none', label: 'None (one split, "all")' },
  { mode: 'ratios', label: 'By ratios' },
  { mode: 'subjects', label: 'By subject lists' },
];

/**
 * Export the given sessions as a dataset: formats (from exportFormats), the destination folder (typed,
 * or picked where the transport has a folder dialog), a split by subject, overwrite. Export calls
 * exportSessions, which refuses bad input at once (shown here); the job it queues is followed with its
 * progress and a Cancel, and ends in the result (files, size, manifest) or the job's error.
 */
export function ExportDialog({ sessions, onClose }: Props) {
  const api = getApi();
  const run = useJobRun({ kind: 'export', onSucceeded: () => undefined });
  const [formats, setFormats] = useState<ExportFormatInfo[] | null>(null);
  const [form, setForm] = useState<ExportForm>(EMPTY_EXPORT_FORM);
  const [canPick, setCanPick] = useState(api.transport === 'electron');
  const { setError } = run;
  const set = (patch: Partial<ExportForm>) => setForm((f) => ({ ...f, ...patch }));

  useEffect(() => {
    let live = true;
    api.call('exportFormats', {}).then(
      (list) => live && setFormats(list),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, setError]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const toggleFormat = (name: string, on: boolean) =>
    set({
      formats: (formats ?? []).map((f) => f.name).filter((n) => (n === name ? on : form.formats.includes(n))),
    });

  const browse = () => {
    api.call('pickFolder', {}).then(
      (r) => {
        if (!r.supported) setCanPick(false);
        else if (r.path) set({ out: r.path });
      },
      (err: unknown) => setError(errorMessage(err)),
    );
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const req = exportRequest(
      sessions.map((s) => s.id),
      form,
    );
    if (typeof req === 'string') setError(req);
    else run.start(() => api.call('exportSessions', req));
  };

  const title = sessions.length === 1 ? `Export “${sessions[0].name}”` : `Export ${sessions.length} sessions`;
  return (
    <div className="export-backdrop">
      <div
        className="export-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="export-title"
        data-testid="export-dialog"
      >
        <div className="export-head">
          <h1 id="export-title">{title}</h1>
          <button className="btn-link" aria-label="Close" data-testid="export-close" onClick={onClose}>
            ×
          </button>
        </div>
        <p className="muted export-sessions" data-testid="export-sessions">
          {sessions.map((s) => s.name).join(', ')}
        </p>
        <form onSubmit={submit}>
          <fieldset className="export-fieldset" disabled={run.busy}>
            <legend>Formats</legend>
            {formats === null ? (
              <p className="muted">Loading…</p>
            ) : (
              <ul className="export-formats">
                {formats.map((f) => (
                  <li key={f.name}>
                    <label className="check">
                      <input
                        type="checkbox"
                        data-testid="export-format"
                        data-format={f.name}
                        checked={form.formats.includes(f.name)}
                        onChange={(e) => toggleFormat(f.name, e.target.checked)}
                      />
                      <strong>{f.name}</strong>
                      {f.needsFit && <span className="export-tag">needs a fit</span>}
                    </label>
                    <span className="muted export-format-text">{f.description}</span>
                  </li>
                ))}
              </ul>
            )}
          </fieldset>
          <fieldset className="export-fieldset" disabled={run.busy}>
            <legend>Destination folder</legend>
            <div className="export-row">
              <input
                type="text"
                className="input export-out"
                placeholder="/absolute/path/to/dataset (missing or empty)"
                value={form.out}
                onChange={(e) => set({ out: e.target.value })}
                data-testid="export-out"
                spellCheck={false}
              />
              {canPick && (
                <button type="button" className="btn" data-testid="export-browse" onClick={browse}>
                  Browse…
                </button>
              )}
            </div>
            <label className="check">
              <input
                type="checkbox"
                checked={form.force}
                onChange={(e) => set({ force: e.target.checked })}
                data-testid="export-force"
              />
              Overwrite the folder when it is not empty
            </label>
          </fieldset>
          <fieldset className="export-fieldset" disabled={run.busy}>
            <legend>Split by subject</legend>
            <div className="export-row">
              {SPLITS.map((s) => (
                <label key={s.mode} className="check">
                  <input
                    type="radio"
                    name="export-split"
                    value={s.mode}
                    checked={form.splitMode === s.mode}
                    onChange={() => set({ splitMode: s.mode })}
                    data-testid={`export-split-mode-${s.mode}`}
                  />
                  {s.label}
                </label>
              ))}
            </div>
            {form.splitMode === 'ratios' && (
              <div className="export-row">
                <input
                  type="text"
                  className="input export-grow"
                  placeholder="train=0.8,val=0.1,test=0.1"
                  value={form.ratios}
                  onChange={(e) => set({ ratios: e.target.value })}
                  data-testid="export-split-ratios"
                  aria-label="Split ratios"
                />
                <input
                  type="text"
                  className="input export-seed"
                  placeholder="seed (optional)"
                  value={form.seed}
                  onChange={(e) => set({ seed: e.target.value })}
                  data-testid="export-split-seed"
                  aria-label="Shuffle seed"
                  title="Shuffle subjects with this seed; empty: take them in name order"
                />
              </div>
            )}
            {form.splitMode === 'subjects' && (
              <input
                type="text"
                className="input export-grow"
                placeholder="train:alice,bob;test:carol"
                value={form.subjects}
                onChange={(e) => set({ subjects: e.target.value })}
                data-testid="export-split-subjects"
                aria-label="Subject lists"
              />
            )}
          </fieldset>
          {run.error && (
            <p className="form-error" role="alert" data-testid="export-error">
              {run.error}
            </p>
          )}
          <div className="export-actions">
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
            <button type="submit" className="btn btn-primary" disabled={run.busy} data-testid="export-submit">
              {run.busy ? 'Exporting…' : 'Export'}
            </button>
          </div>
        </form>
        {run.job && <ExportJobStatus job={run.job} onCancel={() => run.cancel(run.job!.id)} />}
      </div>
    </div>
  );
}

/** The export job: progress with Cancel while it runs, then its result, error or cancellation. */
function ExportJobStatus({ job, onCancel }: { job: JobInfo; onCancel: () => void }) {
  const pct = Math.round(Math.min(1, Math.max(0, job.progress)) * 100);
  const running = job.state === 'queued' || job.state === 'running';
  const result = job.state === 'succeeded' ? (job.result as unknown as ExportJobResult | null) : null;
  return (
    <section className="export-status" data-testid="export-status" data-state={job.state}>
      {running && (
        <>
          <div className="export-row">
            <div
              className="progress export-grow"
              role="progressbar"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={pct}
              data-testid="export-progress"
            >
              <div className="progress-fill" style={{ width: `${pct}%` }} />
            </div>
            <button className="btn btn-small" onClick={onCancel} data-testid="export-cancel">
              Cancel
            </button>
          </div>
          <p className="muted export-message" data-testid="export-message">
            {job.state === 'queued' ? 'Waiting for other jobs…' : job.message || 'Starting…'}
          </p>
        </>
      )}
      {job.state === 'failed' && (
        <p className="form-error" role="alert" data-testid="export-job-error">
          {job.error ?? job.message}
        </p>
      )}
      {(job.state === 'cancelled' || job.state === 'interrupted') && (
        <p className="muted" data-testid="export-cancelled">
          Export {job.state}; nothing was written.
        </p>
      )}
      {result && (
        <div className="export-result" data-testid="export-result">
          <p>
            Exported <strong data-testid="export-file-count">{result.files.length}</strong> files (
            {formatBytes(result.files.reduce((n, f) => n + f.bytes, 0))}) in {result.seconds.toFixed(1)} s to{' '}
            <code>{result.out}</code>
          </p>
          <p>
            Manifest: <code data-testid="export-manifest">{result.manifest}</code>
          </p>
          <p className="muted">
            {result.sessions.map((s) => `${s.split}/${s.sequence}`).join(', ')} · {result.formats.join(', ')}
          </p>
        </div>
      )}
    </section>
  );
}
