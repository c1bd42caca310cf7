import { useEffect, useState } from 'react';
import type { FitComparisonBlock, FitSummary } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { formatDate } from '../format';
import { FitCompareCurve } from './FitCompareCurve';
import type { FitCorrections } from './useFitCorrections';

interface Props {
  fits: FitSummary[];
  /** The version shown in the review. */
  fitId: number | null;
  onShow: (fitId: number) => void;
  frame: number;
  corrections: FitCorrections;
  onSeek: (frame: number) => void;
  onError: (message: string) => void;
}

/** The refit's base version, from the config a refit records (refit-window.ts), else null. */
function baseOf(fit: FitSummary): number | null {
  const r = (fit.config as { refit?: { baseFitId?: unknown } }).refit;
  return typeof r?.baseFitId === 'number' ? r.baseFitId : null;
}

/**
 * The session's fit versions: show one, choose A and B to compare (per-frame MPJPE curve and summary),
 * and pick the one the session exports ("Use for export"; the newest until one is picked).
 */
export function FitVersionsPanel({ fits, fitId, onShow, frame, corrections: c, onSeek, onError }: Props) {
  const api = getApi();
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [comparison, setComparison] = useState<FitComparisonBlock | null>(null);
  const [comparing, setComparing] = useState(false);

  // Default pair: the newest version and its base (or the one before it).
  useEffect(() => {
    const newest = fits[0];
    if (!newest) return;
    setB(newest.id);
    setA(baseOf(newest) ?? fits[1]?.id ?? newest.id);
    setComparison(null);
  }, [fits]);

  const exported = c.pick?.fit?.id ?? null;
  const compare = () => {
    if (a === null || b === null) return;
    setComparing(true);
    api
      .call('compareFits', { fitA: a, fitB: b })
      .then(setComparison, (err: unknown) => onError(errorMessage(err)))
      .finally(() => setComparing(false));
  };

  return (
    <div className="fit-versions-panel" data-testid="fit-versions">
      <h3>Versions</h3>
      <table className="fit-versions">
        <thead>
          <tr>
            <th title="Compare from">A</th>
            <th title="Compare to">B</th>
            <th>Version</th>
            <th>Frames</th>
            <th>Export</th>
          </tr>
        </thead>
        <tbody>
          {fits.map((f) => (
            <tr
              key={f.id}
              className={f.id === exported ? 'picked' : undefined}
              data-testid="fit-version"
              data-fit={f.id}
              data-exported={f.id === exported ? (c.pick?.picked ? 'picked' : 'newest') : ''}
            >
              <td>
                <input
                  type="radio"
                  name="fit-a"
                  data-testid="compare-a"
                  checked={a === f.id}
                  onChange={() => setA(f.id)}
                />
              </td>
              <td>
                <input
                  type="radio"
                  name="fit-b"
                  data-testid="compare-b"
                  checked={b === f.id}
                  onChange={() => setB(f.id)}
                />
              </td>
              <td className="fit-version-label" title={`${f.label} · ${formatDate(f.createdAt)}`}>
                <button className="btn-link" onClick={() => onShow(f.id)} disabled={f.id === fitId}>
                  #{f.id} · {f.label}
                </button>
                {f.id === fitId && <span className="muted"> (shown)</span>}
              </td>
              <td>
                {f.firstFrame}–{f.firstFrame + f.frameCount - 1}
              </td>
              <td>
                {f.id === exported ? (
                  <span data-testid="exported-badge">
                    {c.pick?.picked ? '✓ exported' : 'exported (newest)'}
                  </span>
                ) : (
                  <button
                    className="btn btn-small"
                    data-testid="use-for-export"
                    onClick={() => c.pickFit(f.id)}
                  >
                    Use for export
                  </button>
                )}
                {f.id === exported && c.pick?.picked && (
                  <button
                    className="btn-link"
                    data-testid="clear-pick"
                    onClick={() => c.pickFit(null)}
                    title="Export the newest version again"
                  >
                    {' '}
                    reset
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="fit-correct-row">
        <button
          className="btn btn-small"
          data-testid="compare-button"
          disabled={a === null || b === null || a === b || comparing}
          onClick={compare}
        >
          {comparing ? 'Comparing…' : `Compare #${a ?? '?'} ↔ #${b ?? '?'}`}
        </button>
      </div>
      {comparison && <FitCompareCurve comparison={comparison} frame={frame} onSeek={onSeek} />}
    </div>
  );
}
