import { useState } from 'react';
import { errorMessage, getApi } from '../api-client';
import { familyLabel } from './MotifTimeline';

/**
 * "Name this family…": a label (and the tier that receives it, 'action' by default) proposed on every
 * occurrence of the motif family across the library. The proposals wait, pending, in each session's
 * proposals panel for the annotator to accept or reject.
 */
export function NameFamilyForm({ modelId, family }: { modelId: number; family: number }) {
  const api = getApi();
  const [open, setOpen] = useState(false);
  const [label, setLabel] = useState('');
  const [tierName, setTierName] = useState('action');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = familyLabel(family);

  if (!open)
    return (
      <div className="name-family">
        <button
          className="btn btn-small"
          data-testid="name-family"
          onClick={() => {
            setOpen(true);
            setNote(null);
          }}
          title={`Propose a label on every occurrence of ${name}; accept or reject the proposals in each session`}
        >
          Name this family…
        </button>
        {note && (
          <p className="muted" data-testid="name-family-result">
            {note}
          </p>
        )}
      </div>
    );

  const submit = () => {
    setBusy(true);
    setError(null);
    api
      .call('proposeFamilyLabel', { modelId, family, label: label.trim(), tierName: tierName.trim() })
      .then((r) => {
        setNote(
          `${r.created.length} proposal${r.created.length === 1 ? '' : 's'} made for ${r.occurrences} ` +
            `occurrence${r.occurrences === 1 ? '' : 's'}${r.existing ? ` (${r.existing} proposed before)` : ''}`,
        );
        setOpen(false);
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setBusy(false));
  };

  return (
    <form
      className="name-family"
      data-testid="name-family-form"
      aria-label={`Name family ${name}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (label.trim()) submit();
      }}
    >
      <input
        className="input"
        data-testid="name-family-label"
        aria-label={`Label for family ${name}`}
        placeholder={`label for ${name}`}
        autoFocus
        value={label}
        onChange={(e) => setLabel(e.target.value)}
      />
      <input
        className="input name-family-tier"
        data-testid="name-family-tier"
        aria-label="Tier that receives the proposals"
        value={tierName}
        onChange={(e) => setTierName(e.target.value)}
      />
      <button
        className="btn btn-small btn-primary"
        data-testid="name-family-submit"
        disabled={busy || !label.trim()}
      >
        Propose
      </button>
      <button type="button" className="btn btn-small" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <p className="form-error" role="alert" data-testid="name-family-error">
          {error}
        </p>
      )}
    </form>
  );
}
