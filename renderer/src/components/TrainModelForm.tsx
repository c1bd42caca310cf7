import { useCallback, useEffect, useState } from 'react';
import type { JobInfo, SessionSummary } from '../../../preload/api';
import { getApi } from '../api-client';
import { JobsList } from './JobsList';
import { useJobRun } from './useJobRun';

interface Props {
  /** Told when a training started here succeeds, with the model it made. */
  onTrained: (modelId: number) => void;
}

/** A session and whether it has a fit (training reads each session's newest fit). */
interface SessionChoice {
  session: SessionSummary;
  fitted: boolean;
}

const PHASES = ['N1 stage 1', 'N2 stage 2', 'N3 joint'] as const;

/** The three step fields as the request's `steps`: all empty = the server's defaults; else all three. */
function parseSteps(fields: string[]): { steps?: number[]; error?: string } {
  if (fields.every((f) => f.trim() === '')) return {};
  const steps = fields.map((f) => Number(f.trim()));
  if (fields.some((f) => !/^\d+$/.test(f.trim())) || steps.some((n) => n < 1))
    return { error: 'Steps: give all three (N1, N2, N3) as whole numbers >= 1, or none for the defaults.' };
  return { steps };
}

/** The library's sessions with their fit state, re-read when the library changes. */
function useSessionChoices(): SessionChoice[] | null {
  const api = getApi();
  const [choices, setChoices] = useState<SessionChoice[] | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    api
      .call('listSessions', {})
      .then((sessions) =>
        Promise.all(
          sessions.map(async (session) => ({
            session,
            fitted: (await api.call('listFits', { sessionId: session.id })).length > 0,
          })),
        ),
      )
      .then(
        (list) => live && setChoices(list),
        () => live && setChoices([]),
      );
    return () => {
      live = false;
    };
  }, [api, version]);
  useEffect(() => api.on('libraryChanged', () => setVersion((v) => v + 1)), [api]);
  return choices;
}

/**
 * "Train a model": an A4Mer training job on skeleton-dataset folders and/or sessions' fits, with
 * optional step counts, followed in a jobs-list row (progress, Cancel, Retry). The registry beside it
 * shows the model's steps and loss curve filling in; a failed call's message stays in the form.
 */
export function TrainModelForm({ onTrained }: Props) {
  const api = getApi();
  const sessions = useSessionChoices();
  const [name, setName] = useState('');
  const [datasets, setDatasets] = useState('');
  const [picked, setPicked] = useState<ReadonlySet<number>>(new Set());
  const [steps, setSteps] = useState(['', '', '']);
  const succeeded = useCallback(
    (j: JobInfo) => {
      const id = j.result?.['modelId'];
      if (typeof id === 'number') onTrained(id);
    },
    [onTrained],
  );
  const run = useJobRun({ kind: 'motifs-train', onSucceeded: succeeded });

  const folders = datasets
    .split('\n')
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  const sessionIds = [...picked].filter((id) => sessions?.some((c) => c.session.id === id && c.fitted));
  const noData = folders.length === 0 && sessionIds.length === 0;

  const start = () => {
    const parsed = parseSteps(steps);
    if (parsed.error) {
      run.setError(parsed.error);
      return;
    }
    run.start(() =>
      api.call('trainMotifModel', {
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(folders.length > 0 ? { datasets: folders } : {}),
        ...(sessionIds.length > 0 ? { sessionIds } : {}),
        ...(parsed.steps ? { steps: parsed.steps } : {}),
      }),
    );
  };

  const toggle = (id: number, on: boolean) =>
    setPicked((cur) => {
      const next = new Set(cur);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const busy = run.busy;
  return (
    <section className="panel train-form" data-testid="train-form">
      <h2>Train a model</h2>
      <div className="settings-form">
        <label className="settings-row">
          <span className="settings-label">Name</span>
          <input
            className="input"
            data-testid="train-name"
            value={name}
            placeholder="optional (default: a4mer and the date)"
            disabled={busy}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label className="settings-row">
          <span className="settings-label">Dataset folders</span>
          <textarea
            className="input"
            data-testid="train-datasets"
            rows={2}
            value={datasets}
            placeholder="labeled skeleton dataset folders, one per line"
            disabled={busy}
            onChange={(e) => setDatasets(e.target.value)}
          />
        </label>
        <div className="settings-row">
          <span className="settings-label">Sessions</span>
          <div className="train-sessions" role="group" aria-label="Sessions to train on">
            {sessions === null ? (
              <span className="muted">Loading…</span>
            ) : sessions.length === 0 ? (
              <span className="muted">No sessions in the library.</span>
            ) : (
              sessions.map(({ session, fitted }) => (
                <label
                  key={session.id}
                  className="check"
                  title={fitted ? "Train on this session's newest fit" : 'This session has no fit yet'}
                >
                  <input
                    type="checkbox"
                    data-testid={`train-session-${session.id}`}
                    checked={fitted && picked.has(session.id)}
                    disabled={busy || !fitted}
                    onChange={(e) => toggle(session.id, e.target.checked)}
                  />
                  {session.name}
                  {!fitted && <span className="muted">(no fit)</span>}
                </label>
              ))
            )}
          </div>
        </div>
        <div className="settings-row">
          <span className="settings-label">Steps</span>
          {PHASES.map((label, i) => (
            <input
              key={label}
              className="input train-steps"
              data-testid={`train-steps-${i + 1}`}
              inputMode="numeric"
              aria-label={`Steps ${label}`}
              placeholder={`${label} (default)`}
              value={steps[i]}
              disabled={busy}
              onChange={(e) => setSteps((cur) => cur.map((s, k) => (k === i ? e.target.value : s)))}
            />
          ))}
        </div>
        <div className="settings-actions">
          <button
            className="btn btn-primary"
            data-testid="train-start"
            disabled={busy || noData}
            onClick={start}
            title={noData ? 'Give a dataset folder or pick a fitted session' : 'Start a training job'}
          >
            {busy ? 'Training…' : 'Start training'}
          </button>
          {noData && <span className="muted">Give a dataset folder or pick a fitted session.</span>}
        </div>
        {run.error && (
          <p className="form-error" role="alert" data-testid="train-error">
            {run.error}
          </p>
        )}
        {run.job && (
          <div data-testid="train-job">
            <JobsList jobs={[run.job]} onCancel={run.cancel} onRetry={run.retry} />
          </div>
        )}
      </div>
    </section>
  );
}
