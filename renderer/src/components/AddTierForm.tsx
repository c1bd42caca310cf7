import { useState } from 'react';
import type { LabelVocabulary } from '../../../preload/api';

/** "+ Tier": a free tier of the session, free text or controlled by one of the library's vocabularies. */
export function AddTierForm({
  vocabularies,
  busy,
  onAdd,
}: {
  vocabularies: LabelVocabulary[];
  busy: boolean;
  onAdd: (name: string, vocabularyId: number | null) => Promise<boolean>;
}) {
  const [name, setName] = useState('');
  const [vocabularyId, setVocabularyId] = useState<number | null>(null);
  return (
    <form
      className="ann-add-tier"
      data-testid="add-tier"
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        void onAdd(name.trim(), vocabularyId).then((ok) => ok && setName(''));
      }}
    >
      <input
        className="input"
        data-testid="add-tier-name"
        aria-label="New tier name"
        placeholder="new tier"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <select
        className="input"
        data-testid="add-tier-vocabulary"
        aria-label="New tier vocabulary"
        value={vocabularyId ?? ''}
        onChange={(e) => setVocabularyId(e.target.value === '' ? null : Number(e.target.value))}
      >
        <option value="">free text</option>
        {vocabularies.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
          </option>
        ))}
      </select>
      <button className="btn btn-small" data-testid="add-tier-submit" disabled={busy || !name.trim()}>
        + Tier
      </button>
    </form>
  );
}
