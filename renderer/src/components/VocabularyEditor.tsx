import { useState } from 'react';
import type { LabelVocabulary, VocabularyLabel } from '../../../preload/api';
import { getApi } from '../api-client';
import { familyColor } from './MotifTimeline';

/**
 * The library's label vocabularies (controlled lists with colours and descriptions, which tiers can
 * use): create one, add, recolour, reorder and remove labels, delete an unused one. The store refuses
 * what would change segments behind the history (removing or renaming a label in use); the editor
 * shows its reason. Every call goes through the annotation queue (`run`), whose errors show below the tiers.
 */

interface Props {
  vocabularies: LabelVocabulary[];
  run: <T>(work: () => Promise<T>) => Promise<T | undefined>;
  onClose: () => void;
}

export function VocabularyEditor({ vocabularies, run, onClose }: Props) {
  const api = getApi();
  const [pickedId, setPickedId] = useState<number | null>(null);
  const [newName, setNewName] = useState('');
  const v = vocabularies.find((x) => x.id === pickedId) ?? vocabularies[0] ?? null;

  const create = () =>
    void run(() => api.call('createVocabulary', { name: newName.trim() })).then((made) => {
      if (!made) return;
      setPickedId(made.id);
      setNewName('');
    });

  return (
    <div
      className="ann-sheet ann-vocabularies"
      role="dialog"
      aria-label="Label vocabularies"
      data-testid="vocabulary-editor"
    >
      <div className="ann-picker-head">
        <strong>Vocabularies</strong>
        <span className="muted">controlled labels for tiers, library-wide</span>
        <button className="btn-link" aria-label="Close the vocabularies" onClick={onClose}>
          ×
        </button>
      </div>
      <form
        className="ann-picker-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (newName.trim()) create();
        }}
      >
        <select
          className="input"
          data-testid="vocabulary-select"
          aria-label="Vocabulary"
          value={v?.id ?? ''}
          onChange={(e) => setPickedId(Number(e.target.value))}
        >
          {vocabularies.length === 0 && <option value="">none yet</option>}
          {vocabularies.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name} ({x.labels.length})
            </option>
          ))}
        </select>
        <input
          className="input"
          data-testid="vocabulary-new-name"
          aria-label="New vocabulary name"
          placeholder="new vocabulary"
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
        />
        <button className="btn btn-small" data-testid="vocabulary-create" disabled={!newName.trim()}>
          Create
        </button>
      </form>
      {v && <LabelList key={v.id} vocabulary={v} run={run} />}
    </div>
  );
}

function LabelList({ vocabulary: v, run }: { vocabulary: LabelVocabulary; run: Props['run'] }) {
  const api = getApi();
  const [name, setName] = useState('');
  const [colour, setColour] = useState(() => familyColor(v.labels.length));
  const [description, setDescription] = useState('');
  const move = (i: number, by: number) => {
    const names = v.labels.map((l) => l.name);
    [names[i], names[i + by]] = [names[i + by], names[i]];
    void run(() => api.call('reorderLabels', { vocabularyId: v.id, names }));
  };
  const add = () =>
    void run(() =>
      api.call('addLabel', {
        vocabularyId: v.id,
        name: name.trim(),
        colour,
        description: description.trim(),
      }),
    ).then((r) => {
      if (!r) return;
      setName('');
      setDescription('');
      setColour(familyColor(r.labels.length));
    });
  return (
    <div data-testid="vocabulary-labels" data-vocabulary={v.name}>
      <ol className="ann-vocab-labels">
        {v.labels.map((l, i) => (
          <LabelItem
            key={l.name}
            label={l}
            first={i === 0}
            last={i === v.labels.length - 1}
            onColour={(c) =>
              void run(() => api.call('updateLabel', { vocabularyId: v.id, label: l.name, colour: c }))
            }
            onMove={(by) => move(i, by)}
            onRemove={() => void run(() => api.call('removeLabel', { vocabularyId: v.id, label: l.name }))}
          />
        ))}
      </ol>
      <form
        className="ann-picker-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) add();
        }}
      >
        <input
          type="color"
          className="ann-colour"
          data-testid="label-new-colour"
          aria-label="New label colour"
          value={colour}
          onChange={(e) => setColour(e.target.value)}
        />
        <input
          className="input"
          data-testid="label-new-name"
          aria-label="New label"
          placeholder="label"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <input
          className="input"
          data-testid="label-new-description"
          aria-label="New label description"
          placeholder="description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <button className="btn btn-small" data-testid="label-add" disabled={!name.trim()}>
          Add
        </button>
      </form>
      <button
        className="btn btn-small btn-danger"
        data-testid="vocabulary-delete"
        onClick={() => void run(() => api.call('deleteVocabulary', { vocabularyId: v.id }))}
        title="Delete this vocabulary (refused while a tier uses it)"
      >
        Delete “{v.name}”
      </button>
    </div>
  );
}

function LabelItem(props: {
  label: VocabularyLabel;
  first: boolean;
  last: boolean;
  onColour: (colour: string) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  const { label: l } = props;
  // The picker reports every hue it passes; the library hears the one chosen (on leaving the field).
  const [colour, setColour] = useState(l.colour);
  return (
    <li className="ann-vocab-label" data-testid="vocabulary-label" data-label={l.name} data-colour={l.colour}>
      <input
        type="color"
        className="ann-colour"
        aria-label={`Colour of ${l.name}`}
        value={colour}
        onChange={(e) => setColour(e.target.value)}
        onBlur={() => colour !== l.colour && props.onColour(colour)}
      />
      <span className="ann-vocab-name">{l.name}</span>
      <span className="muted ann-vocab-description">{l.description}</span>
      <button
        className="btn-link"
        aria-label={`Move ${l.name} up`}
        disabled={props.first}
        onClick={() => props.onMove(-1)}
      >
        ↑
      </button>
      <button
        className="btn-link"
        aria-label={`Move ${l.name} down`}
        disabled={props.last}
        onClick={() => props.onMove(1)}
      >
        ↓
      </button>
      <button className="btn-link" aria-label={`Remove ${l.name}`} onClick={props.onRemove}>
        ×
      </button>
    </li>
  );
}
