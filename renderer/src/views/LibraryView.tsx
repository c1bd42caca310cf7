import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { JobInfo, LibraryInfo, SessionSummary } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { ExportDialog } from '../components/ExportDialog';
import { JobsList } from '../components/JobsList';
import { formatDate, formatFps } from '../format';
import { ErrorAlert } from '../components/PageChrome';

interface Props {
  onOpen: (sessionId: number) => void;
  onSettings: () => void;
  /** The A4Mer model registry and training curves. */
  onModels: () => void;
}

export function LibraryView({ onOpen, onSettings, onModels }: Props) {
  const api = getApi();
  const [info, setInfo] = useState<LibraryInfo | null>(null);
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [jobs, setJobs] = useState<JobInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [importPath, setImportPath] = useState('');
  const [busy, setBusy] = useState(false);
  // Sessions ticked for export, and the sessions the Export dialog is open for.
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [exporting, setExporting] = useState<SessionSummary[] | null>(null);
  // Jobs started from this form: when one of them fails, its error goes to the alert area too, since
  // that is where the user is looking after clicking Import.
  const myJobs = useRef(new Set<number>());

  // A promise chain rather than async/await: state is set only in the callbacks, once data arrives.
  const refresh = useCallback(
    (): Promise<void> =>
      Promise.all([
        api.call('libraryInfo', {}),
        api.call('listSessions', {}),
        api.call('listJobs', { limit: 50 }),
      ]).then(
        ([i, s, j]) => {
          setInfo(i);
          setSessions(s);
          setJobs(j);
        },
        (err: unknown) => setError(errorMessage(err)),
      ),
    [api],
  );

  useEffect(() => {
    void refresh();
    const offProgress = api.on('jobProgress', (job) => {
      // Update the row in place for smooth progress; an unseen job goes on top (the list is newest first).
      setJobs((prev) =>
        prev.some((j) => j.id === job.id) ? prev.map((j) => (j.id === job.id ? job : j)) : [job, ...prev],
      );
      if (job.state === 'failed' && myJobs.current.has(job.id)) {
        setError(job.error ?? job.message);
      }
      if (job.state === 'succeeded' || job.state === 'failed') void refresh();
    });
    const offLibrary = api.on('libraryChanged', () => void refresh());
    return () => {
      offProgress();
      offLibrary();
    };
  }, [api, refresh]);

  const onImport = async (e: FormEvent) => {
    e.preventDefault();
    const path = importPath.trim();
    if (!path) {
      setError('Enter the path of a session folder to import.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const job = await api.call('importSession', { path });
      myJobs.current.add(job.id);
      await refresh();
      // A fast failure may have been announced before we knew the job id; ask once to be sure.
      const latest = await api.call('getJob', { jobId: job.id });
      if (latest.state === 'failed') setError(latest.error ?? latest.message);
      else setImportPath('');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  // Only Electron has a native folder dialog (web mode answers supported: false), so the button is
  // shown there alone; the picked folder lands in the text field, which stays the single import path.
  const onBrowse = async () => {
    try {
      const r = await api.call('pickFolder', {});
      if (r.path) setImportPath(r.path);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const onDelete = async (s: SessionSummary) => {
    if (!window.confirm(`Delete session "${s.name}"? Its imported data is removed from the library.`)) return;
    try {
      await api.call('deleteSession', { sessionId: s.id });
      await refresh();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const ticked = (sessions ?? []).filter((s) => selected.has(s.id));
  const tick = (id: number, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const jobAction = async (method: 'cancelJob' | 'retryJob', jobId: number) => {
    try {
      const job = await api.call(method, { jobId });
      if (method === 'retryJob') myJobs.current.add(job.id);
      await refresh();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <div className="page">
      <header className="app-header">
        <h1>Motion Studio</h1>
        {info && (
          <div className="library-info">
            <span title={info.libraryPath}>
              Library: <code>{info.dataDir}</code>
            </span>
            <span>
              {info.sessionCount} session{info.sessionCount === 1 ? '' : 's'}
            </span>
            <span className="muted">
              v{info.appVersion} · {info.transport}
            </span>
          </div>
        )}
        <button
          className={`btn btn-small${info ? '' : ' header-end'}`}
          onClick={onModels}
          data-testid="models-link"
          title="A4Mer motif models: registry, training progress and loss curves"
        >
          Models
        </button>
        <button className="btn btn-small" onClick={onSettings} data-testid="settings-link">
          Settings
        </button>
      </header>

      <ErrorAlert error={error} onDismiss={() => setError(null)} />

      <main className="library">
        <section className="panel">
          <div className="export-panel-head">
            <h2>Sessions</h2>
            <button
              className="btn btn-small"
              disabled={ticked.length === 0}
              onClick={() => setExporting(ticked)}
              data-testid="export-selected"
              title="Export the ticked sessions as a dataset"
            >
              Export selected ({ticked.length})…
            </button>
          </div>
          {sessions === null ? (
            <p className="muted">Loading…</p>
          ) : sessions.length === 0 ? (
            <p className="muted">No sessions yet. Import a capture folder below.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th className="export-select">
                    <input
                      type="checkbox"
                      aria-label="Select all sessions"
                      data-testid="select-all-sessions"
                      checked={ticked.length === sessions.length}
                      onChange={(e) =>
                        setSelected(new Set(e.target.checked ? sessions.map((s) => s.id) : []))
                      }
                    />
                  </th>
                  <th>Name</th>
                  <th>Format</th>
                  <th className="num">Cameras</th>
                  <th className="num">Frames</th>
                  <th className="num">FPS</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {sessions.map((s) => (
                  <tr key={s.id} className="clickable" data-testid="session-row" onClick={() => onOpen(s.id)}>
                    <td className="export-select" onClick={(e) => e.stopPropagation()}>
                      <input
                        type="checkbox"
                        aria-label={`Select ${s.name}`}
                        data-testid="session-select"
                        checked={selected.has(s.id)}
                        onChange={(e) => tick(s.id, e.target.checked)}
                      />
                    </td>
                    <td title={s.sourcePath}>{s.name}</td>
                    <td>{s.format}</td>
                    <td className="num">{s.cameraCount}</td>
                    <td className="num">{s.frameCount}</td>
                    <td className="num">{formatFps(s.fps)}</td>
                    <td>{formatDate(s.createdAt)}</td>
                    <td className="actions">
                      <button
                        className="btn btn-small"
                        onClick={(e) => {
                          e.stopPropagation();
                          setExporting([s]);
                        }}
                        data-testid="session-export"
                      >
                        Export…
                      </button>{' '}
                      <button
                        className="btn btn-small btn-danger"
                        onClick={(e) => {
                          e.stopPropagation();
                          void onDelete(s);
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section className="panel">
          <h2>Import</h2>
          <form className="import-form" onSubmit={(e) => void onImport(e)}>
            <input
              type="text"
              className="input"
              placeholder="/path/to/session/folder"
              value={importPath}
              onChange={(e) => setImportPath(e.target.value)}
              data-testid="import-path"
              spellCheck={false}
            />
            {api.transport === 'electron' && (
              <button type="button" className="btn" onClick={() => void onBrowse()}>
                Browse…
              </button>
            )}
            <button type="submit" className="btn btn-primary" disabled={busy} data-testid="import-button">
              Import
            </button>
          </form>
        </section>

        <section className="panel">
          <h2>Jobs</h2>
          <JobsList
            jobs={jobs}
            onCancel={(id) => void jobAction('cancelJob', id)}
            onRetry={(id) => void jobAction('retryJob', id)}
          />
        </section>
      </main>
      {exporting && <ExportDialog sessions={exporting} onClose={() => setExporting(null)} />}
    </div>
  );
}
