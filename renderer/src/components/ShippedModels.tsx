import { useEffect, useState } from 'react';
import type { MotifModelInfo, ShippedMotifModelInfo } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';

interface Props {
  /** Told when an install made (or found) the library model, so the registry can list and select it. */
  onInstalled: (model: MotifModelInfo) => void;
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function count(v: unknown): string | null {
  return typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString() : null;
}

/** The recipe as one line: its data (clips, frames, fps) and its training steps N1 / N2 / N3. */
export function recipeSummary(recipe: Record<string, unknown>): string {
  const data = record(recipe.data);
  const steps = record(record(recipe.training).steps);
  const parts: string[] = [];
  if (typeof data.kind === 'string') parts.push(data.kind);
  if (count(data.clips)) parts.push(`${count(data.clips)} clips`);
  if (count(data.frames))
    parts.push(`${count(data.frames)} frames${count(data.fps) ? ` at ${count(data.fps)} fps` : ''}`);
  const n = [steps.stage1, steps.stage2, steps.joint].map(count);
  if (n.every((x) => x !== null)) parts.push(`steps ${n.join(' / ')}`);
  if (count(recipe.trainSeconds)) parts.push(`trained in ${count(recipe.trainSeconds)} s`);
  return parts.length > 0 ? parts.join(' · ') : '–';
}

/**
 * The A4Mer models shipped with the app (native/models): what each was trained on and how, and an
 * Install button that copies it into the library as a ready model (once; then "installed as #id").
 */
export function ShippedModels({ onInstalled }: Props) {
  const api = getApi();
  const [shipped, setShipped] = useState<ShippedMotifModelInfo[] | null>(null);
  const [installing, setInstalling] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    api.call('shippedMotifModels', {}).then(
      (list) => live && setShipped(list),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, version]);
  // An install elsewhere (the CLI's demo, another window) changes what is installed.
  useEffect(
    () =>
      api.on('libraryChanged', (e) => {
        if (e.reason === 'model-added') setVersion((v) => v + 1);
      }),
    [api],
  );

  const install = (name: string) => {
    setInstalling(name);
    setError(null);
    api
      .call('installShippedMotifModel', { name })
      .then((model) => {
        setVersion((v) => v + 1);
        onInstalled(model);
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setInstalling(null));
  };

  return (
    <section className="panel" data-testid="shipped-models">
      <h2>Shipped models</h2>
      {error && (
        <p className="form-error" role="alert" data-testid="shipped-error">
          {error}
        </p>
      )}
      {shipped === null ? (
        <p className="muted">{error ? '' : 'Loading…'}</p>
      ) : shipped.length === 0 ? (
        <p className="muted">No models are shipped with this build (native/models).</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Recipe</th>
              <th>Joints</th>
              <th className="actions" />
            </tr>
          </thead>
          <tbody>
            {shipped.map((m) => (
              <tr key={m.name} data-testid="shipped-row" data-name={m.name}>
                <td>{m.name}</td>
                <td className="model-summary" title={JSON.stringify(m.recipe, null, 1)}>
                  {recipeSummary(m.recipe)}
                </td>
                <td className="num">{m.joints.length}</td>
                <td className="actions">
                  {m.installedAs !== null ? (
                    <span className="badge badge-succeeded" data-testid={`shipped-installed-${m.name}`}>
                      installed as #{m.installedAs}
                    </span>
                  ) : (
                    <button
                      className="btn btn-small"
                      data-testid={`install-shipped-${m.name}`}
                      disabled={installing !== null}
                      onClick={() => install(m.name)}
                      title="Copy this model into the library as a ready model"
                    >
                      {installing === m.name ? 'Installing…' : 'Install'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
