import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  BODY_MODEL_SLOT_JOINTS,
  BODY_MODEL_SLOT_LABELS,
  BODY_MODEL_SLOTS,
  type BodyModelInfo,
  type BodyModelSlot,
  type Settings,
} from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { BackLink, ErrorAlert } from '../components/PageChrome';

interface Props {
  onBack: () => void;
}

type Paths = Record<BodyModelSlot, string>;

const toPaths = (s: Settings): Paths => ({
  smpl: s.bodyModels.smpl ?? '',
  smplh: s.bodyModels.smplh ?? '',
  smplx: s.bodyModels.smplx ?? '',
});

/** Where the user's own (licence-restricted) SMPL-family model files are; the main side checks each file. */
export function SettingsView({ onBack }: Props) {
  const api = getApi();
  const [paths, setPaths] = useState<Paths | null>(null);
  const [models, setModels] = useState<BodyModelInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(
    (): Promise<void> =>
      Promise.all([api.call('getSettings', {}), api.call('listBodyModels', {})]).then(
        ([s, m]) => {
          setPaths(toPaths(s));
          setModels(m);
        },
        (err: unknown) => setError(errorMessage(err)),
      ),
    [api],
  );

  useEffect(() => {
    void refresh();
    // Another window (or the CLI through a shared server) may change the settings.
    return api.on('libraryChanged', (e) => {
      if (e.reason === 'settings-changed')
        void api.call('listBodyModels', {}).then(setModels, () => undefined);
    });
  }, [api, refresh]);

  const onSave = async (e: FormEvent) => {
    e.preventDefault();
    if (!paths) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const path = (slot: BodyModelSlot) => paths[slot].trim() || null;
      const s = await api.call('setSettings', {
        bodyModels: { smpl: path('smpl'), smplh: path('smplh'), smplx: path('smplx') },
      });
      setPaths(toPaths(s));
      setModels(await api.call('listBodyModels', {}));
      setSaved(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <header className="app-header">
        <BackLink onBack={onBack} />
        <h1>Settings</h1>
      </header>

      <ErrorAlert error={error} onDismiss={() => setError(null)} />

      <main className="library">
        <section className="panel">
          <h2>Your body model files</h2>
          <p className="muted settings-hint">
            SMPL, SMPL-H and SMPL-X files are licence-restricted, so the studio does not ship them: give the
            absolute path of your own copy (<code>.npz</code> or <code>.pkl</code>). Each file is loaded and
            checked before it is saved; leave a field empty to clear it.
          </p>
          {paths === null ? (
            <p className="muted">Loading…</p>
          ) : (
            <form className="settings-form" onSubmit={(e) => void onSave(e)}>
              {BODY_MODEL_SLOTS.map((slot) => (
                <label key={slot} className="settings-row">
                  <span className="settings-label">
                    {BODY_MODEL_SLOT_LABELS[slot]}{' '}
                    <span className="muted">({BODY_MODEL_SLOT_JOINTS[slot]} joints)</span>
                  </span>
                  <input
                    type="text"
                    className="input"
                    placeholder={`/path/to/${BODY_MODEL_SLOT_LABELS[slot].replace('-', '')}_NEUTRAL.npz`}
                    value={paths[slot]}
                    onChange={(e) => {
                      setPaths({ ...paths, [slot]: e.target.value });
                      setSaved(false);
                    }}
                    data-testid={`model-path-${slot}`}
                    spellCheck={false}
                  />
                </label>
              ))}
              <div className="settings-actions">
                <button type="submit" className="btn btn-primary" disabled={busy} data-testid="settings-save">
                  Save
                </button>
                {saved && (
                  <span className="settings-saved" data-testid="settings-saved">
                    Saved
                  </span>
                )}
              </div>
            </form>
          )}
        </section>

        <section className="panel">
          <h2>Body models</h2>
          {models === null ? (
            <p className="muted">Loading…</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Name</th>
                  <th className="num">Vertices</th>
                  <th className="num">Joints</th>
                  <th className="num">Betas</th>
                  <th>File</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={m.id} data-testid="body-model-row" data-model={m.id} data-ok={m.ok}>
                    <td>{m.id === 'open' ? 'open default' : BODY_MODEL_SLOT_LABELS[m.id]}</td>
                    <td>{m.name}</td>
                    {m.ok ? (
                      <>
                        <td className="num">{m.vertices}</td>
                        <td className="num">{m.joints}</td>
                        <td className="num">{m.betas}</td>
                        <td className="settings-file" title={m.file}>
                          <code>{m.file}</code>
                        </td>
                      </>
                    ) : (
                      <td colSpan={4} className="job-error settings-file" title={m.file}>
                        {m.error}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>
    </div>
  );
}
