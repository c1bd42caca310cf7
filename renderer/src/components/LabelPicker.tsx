import { useState } from 'react';
import type { Annotation, TierAnnotations } from '../../../preload/api';
import { labelColour } from '../annotation-spans';
import { frameSpan } from './MotifTimeline';

/**
 * Relabelling a segment: its tier's vocabulary as buttons (colour and description), or free text
 * (suggesting the labels the tier already uses). Enter applies the text, Escape cancels.
 */

interface Props {
  tier: TierAnnotations;
  annotation: Annotation;
  onPick: (label: string) => void;
  onClose: () => void;
}

export function LabelPicker({ tier, annotation, onPick, onClose }: Props) {
  const [text, setText] = useState(annotation.label);
  const used = [...new Set(tier.annotations.map((a) => a.label))].sort();
  const choices = tier.labels.length > 0 ? tier.labels.map((l) => l.name) : used;
  return (
    <div
      className="ann-picker"
      role="dialog"
      aria-label={`Label of the segment at ${frameSpan(annotation)}`}
      data-testid="label-picker"
    >
      <div className="ann-picker-head">
        <strong>Relabel</strong>
        <span className="muted">
          {tier.name} · {frameSpan(annotation)}
        </span>
        <button className="btn-link" aria-label="Close the label picker" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="ann-picker-options">
        {choices.map((name) => (
          <button
            key={name}
            className="btn btn-small ann-label-option"
            data-testid="label-option"
            data-label={name}
            aria-pressed={name === annotation.label}
            title={tier.labels.find((l) => l.name === name)?.description || name}
            onClick={() => onPick(name)}
          >
            <i style={{ background: labelColour(tier, name) }} aria-hidden="true" />
            {name}
          </button>
        ))}
      </div>
      <form
        className="ann-picker-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) onPick(text.trim());
        }}
      >
        <input
          className="input"
          data-testid="label-input"
          aria-label="Label"
          autoFocus
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onClose();
          }}
          placeholder={tier.labels.length > 0 ? 'a label of the vocabulary' : 'any label'}
        />
        <button className="btn btn-small btn-primary" data-testid="label-apply" type="submit">
          Apply
        </button>
      </form>
    </div>
  );
}
