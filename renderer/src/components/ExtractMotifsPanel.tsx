import { useEffect, useState } from 'react';
import type { MotifModelInfo, ShippedMotifModelInfo } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { formatDate } from '../format';
import { JobsList } from './JobsList';
import { useJobRun } from './useJobRun';

interface Props {
  sessionId: number;
  /** Whether the session has a body fit (extraction reads its newest fit). */
  hasFit: boolean;
  /** When the shown proposals were made (null: none yet). */
  extractedAt: string | null;
  /** Told when an extraction started here succeeds, so the proposal tracks reload. */
  onExtracted: () => void;
}

/** The library's ready models, newest first, and the shipped ones not installed yet; re-read on changes. */
function useExtractionModels(onError: (message: string) => void) {
  const api = getApi();
  const [ready, setReady] = useState<MotifModelInfo[] | null>(null);
  const [shipped, setShipped] = useState<ShippedMotifModelInfo[]>([]);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    Promise.all([api.call('listMotifModels', {}), api.call('shippedMotifModels', {})]).then(
      ([models, ships]) => {
        if (!live) return;
        setReady(models.filter((m) => m.state === 'ready'));
        setShipped(ships.filter((s) => s.installedAs === null));
      },
      (err: unknown) => live && onError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, version, onError]);
  // A model installed or trained elsewhere, or a training job that ended.
  useEffect(() => api.on('libraryChanged', () => setVersion((v) => v + 1)), [api]);
  return { ready, shipped, reload: () => setVersion((v) => v + 1) };
}

/**
 * "Extract motifs" beside the session's proposal tracks: a ready model (the newest by default), an
 * extraction job on the session's newest fit followed in a jobs-list row (progress, Cancel, Retry), and
 * the tracks reloaded when it succeeds. Says why it cannot run (no fit, no ready model) and offers to
 * install a shipped model when none is ready.
 */
export function ExtractMotifsPanel({ sessionId, hasFit, extractedAt, onExtracted }: Props) {
  const api = getApi();
  const run = useJobRun({ kind: 'motifs-extract', sessionId, onSucceeded: onExtracted });
  const { setError } = run;
  const models = useExtractionModels(setError);
  const [picked, setPicked] = useState<number | null>(null);
  const [installing, setInstalling] = useState(false);
  const ready = models.ready ?? [];
  // The picked model while it is still ready, else the newest ready one.
  const modelId = ready.some((m) => m.id === picked) ? picked : (ready[0]?.id ?? null);

  const reason = !hasFit
    ? 'This session has no body fit yet: fit the body first.'
    : models.ready !== null && modelId === null
      ? 'No motif model is ready: install a shipped model or train one in the Models view.'
      : null;

  const install = (name: string) => {
    setInstalling(true);
    setError(null);
    api
      .call('installShippedMotifModel', { name })
      .then((m) => {
        setPicked(m.id);
        models.reload();
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setInstalling(false));
  };

  const extract = () => {
    if (modelId === null) return;
    run.start(() => api.call('extractMotifs', { sessionId, modelId }));
  };

  return (
    <section className="motif-extract" data-testid="extract-panel" aria-label="Motif extraction">
      <div className="motif-extract-bar">
        <label className="check">
          Model
          <select
            className="input"
            data-testid="extract-model"
            value={modelId ?? ''}
            disabled={run.busy || ready.length === 0}
            onChange={(e) => setPicked(Number(e.target.value))}
          >
            {ready.length === 0 && (
              <option value="">{models.ready === null ? 'Loading…' : 'none ready'}</option>
            )}
            {ready.map((m) => (
              <option key={m.id} value={m.id}>
                #{m.id} {m.name} · {formatDate(m.createdAt)}
              </option>
            ))}
          </select>
        </label>
        <button
          className="btn btn-primary"
          data-testid="extract-motifs"
          disabled={run.busy || reason !== null || modelId === null}
          onClick={extract}
          title={reason ?? "Propose atoms and motifs from the session's newest fit with this model"}
        >
          {run.busy ? 'Extracting…' : 'Extract motifs'}
        </button>
        {reason && (
          <span className="muted" data-testid="extract-reason">
            {reason}
          </span>
        )}
        {hasFit &&
          modelId === null &&
          models.shipped.map((s) => (
            <button
              key={s.name}
              className="btn btn-small"
              data-testid={`install-shipped-${s.name}`}
              disabled={installing}
              onClick={() => install(s.name)}
              title="Copy the model shipped with the app into the library as a ready model"
            >
              Install {s.name}
            </button>
          ))}
        {!reason && extractedAt && (
          <span className="muted motif-extract-last" data-testid="extract-last" data-created={extractedAt}>
            shown: extracted {formatDate(extractedAt)}
          </span>
        )}
      </div>
      {run.error && (
        <p className="form-error" role="alert" data-testid="extract-error">
          {run.error}
        </p>
      )}
      {run.job && (
        <div data-testid="extract-job">
          <JobsList jobs={[run.job]} onCancel={run.cancel} onRetry={run.retry} />
        </div>
      )}
    </section>
  );
}
