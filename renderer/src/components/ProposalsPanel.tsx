import { useState } from 'react';
import type { AnnotationProposal, ProposalSkip, TierAnnotations } from '../../../preload/api';
import { familyColor, familyLabel, frameSpan } from './MotifTimeline';

/**
 * The session's pending motif-family proposals (made by naming a family): accept or reject each, or
 * all at once. Accepted ones become segments of their tier whose source names the family; ones that
 * overlap a segment are skipped, and the panel says why.
 */

interface Props {
  proposals: AnnotationProposal[];
  tiers: TierAnnotations[];
  busy: boolean;
  onSeek: (frame: number) => void;
  onDecide: (
    decision: 'accept' | 'reject',
    ids: number[],
  ) => Promise<{ skipped: ProposalSkip[] } | undefined>;
}

export function ProposalsPanel({ proposals, tiers, busy, onSeek, onDecide }: Props) {
  const [skipped, setSkipped] = useState<ProposalSkip[]>([]);
  const decide = (decision: 'accept' | 'reject', ids: number[]) =>
    void onDecide(decision, ids).then((r) => setSkipped(r?.skipped ?? []));
  const tierName = (id: number) => tiers.find((t) => t.id === id)?.name ?? `tier #${id}`;
  if (proposals.length === 0 && skipped.length === 0) return null;
  const all = proposals.map((p) => p.id);
  return (
    <section className="ann-proposals" data-testid="proposals-panel" aria-label="Proposed segments">
      <div className="ann-proposals-head">
        <h2>Proposals</h2>
        <span className="muted" data-testid="proposals-count">
          {proposals.length} pending
        </span>
        <button
          className="btn btn-small btn-primary"
          data-testid="proposals-accept-all"
          disabled={busy || all.length === 0}
          onClick={() => decide('accept', all)}
        >
          Accept all
        </button>
        <button
          className="btn btn-small"
          data-testid="proposals-reject-all"
          disabled={busy || all.length === 0}
          onClick={() => decide('reject', all)}
        >
          Reject all
        </button>
      </div>
      {skipped.length > 0 && (
        <ul className="ann-skipped muted" data-testid="proposals-skipped">
          {skipped.map((s) => (
            <li key={s.proposalId}>Skipped: {s.reason}</li>
          ))}
        </ul>
      )}
      <ol className="ann-proposal-list">
        {proposals.map((p) => (
          <li key={p.id} className="ann-proposal-row" data-testid="proposal-row" data-proposal-id={p.id}>
            <i
              className="family-swatch"
              style={{ background: familyColor(p.source.family) }}
              aria-hidden="true"
            />
            <button
              className="btn-text"
              title="Show its first frame"
              onClick={() => onSeek(p.start)}
            >{`"${p.label}"`}</button>
            <span className="muted">
              {tierName(p.tierId)} · {frameSpan(p)} · family {familyLabel(p.source.family)} · model #
              {p.source.modelId}
            </span>
            <button
              className="btn btn-small"
              data-testid="proposal-accept"
              disabled={busy}
              onClick={() => decide('accept', [p.id])}
            >
              Accept
            </button>
            <button
              className="btn btn-small"
              data-testid="proposal-reject"
              disabled={busy}
              onClick={() => decide('reject', [p.id])}
            >
              Reject
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
