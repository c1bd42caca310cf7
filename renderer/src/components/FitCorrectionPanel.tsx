import { useState } from 'react';
import type { CameraInfo, FitSummary } from '../../../preload/api';
import { getApi } from '../api-client';
import { FitFrameStrip } from './FitFrameStrip';
import { JobsList } from './JobsList';
import type { FitCorrections } from './useFitCorrections';
import { useJobRun } from './useJobRun';

interface Props {
  sessionId: number;
  fit: FitSummary;
  /** The camera shown: its keypoint layout names the user keypoints' joints. */
  camera: CameraInfo | null;
  frame: number;
  corrections: FitCorrections;
  onSeek: (frame: number) => void;
  /** Told when a refit started here succeeds (the new version is then listed). */
  onRefitted: () => void;
  onError: (message: string) => void;
}

/** Frames either side of the shown frame that "Re-fit around here" re-solves. */
export const REFIT_HALF_WINDOW = 15;

/** [frame - 15, frame + 15] clipped to the fit's frames, as [start, end). */
export function refitWindowAround(fit: FitSummary, frame: number): [number, number] {
  const end = fit.firstFrame + fit.frameCount;
  const f = Math.min(end - 1, Math.max(fit.firstFrame, frame));
  return [Math.max(fit.firstFrame, f - REFIT_HALF_WINDOW), Math.min(end, f + REFIT_HALF_WINDOW + 1)];
}

/**
 * Correcting a fit: select frames on the strip (drag, or mark in / out at the shown frame) and mark
 * them bad; list and remove bad ranges and user keypoints (added by dragging a joint in the video);
 * re-fit the window around the shown frame as a new version, followed as a job (progress, Cancel).
 */
export function FitCorrectionPanel(p: Props) {
  const api = getApi();
  const { fit, frame, corrections: c } = p;
  const [selection, setSelection] = useState<[number, number] | null>(null);
  const run = useJobRun({ kind: 'refit', sessionId: p.sessionId, onSucceeded: p.onRefitted });
  const window = refitWindowAround(fit, frame);
  const names = p.camera?.keypoints?.jointNames ?? [];
  const cameraName = (id: number) => (id === p.camera?.id ? p.camera.name : `camera #${id}`);

  const markIn = () => setSelection([frame, Math.max(frame + 1, selection?.[1] ?? frame + 1)]);
  const markOut = () => setSelection([Math.min(frame, selection?.[0] ?? frame), frame + 1]);
  const refit = () =>
    run.start(() =>
      api.call('refitWindow', {
        sessionId: p.sessionId,
        baseFitId: fit.id,
        start: window[0],
        count: window[1] - window[0],
      }),
    );

  return (
    <div className="fit-correct-main" data-testid="fit-correction">
      <FitFrameStrip
        first={fit.firstFrame}
        count={fit.frameCount}
        frame={frame}
        badRanges={c.badRanges}
        userKeypoints={c.userKeypoints}
        refitWindow={window}
        selection={selection}
        onSelect={setSelection}
        onSeek={p.onSeek}
      />
      <div className="fit-correct-row">
        <button
          className="btn btn-small"
          data-testid="mark-in"
          onClick={markIn}
          title="Selection starts here"
        >
          Mark in
        </button>
        <button
          className="btn btn-small"
          data-testid="mark-out"
          onClick={markOut}
          title="Selection ends here"
        >
          Mark out
        </button>
        <span className="muted" data-testid="selection-readout">
          {selection ? `frames ${selection[0]}–${selection[1] - 1}` : 'drag on the strip to select frames'}
        </span>
        <button
          className="btn btn-small"
          data-testid="mark-bad"
          disabled={!selection}
          onClick={() => {
            if (!selection) return;
            void c.markBad(selection[0], selection[1]).then(() => setSelection(null));
          }}
        >
          Mark bad
        </button>
        <button
          className="btn btn-small btn-primary"
          data-testid="refit-button"
          disabled={run.busy}
          onClick={refit}
          title={`Re-fit frames ${window[0]}–${window[1] - 1} with the user keypoints, as a new version`}
        >
          {run.busy ? 'Re-fitting…' : `Re-fit around here (${window[0]}–${window[1] - 1})`}
        </button>
      </div>
      {run.error && (
        <p className="alert" role="alert">
          {run.error}
        </p>
      )}
      {run.job && (
        <div data-testid="refit-job">
          <JobsList jobs={[run.job]} onCancel={run.cancel} onRetry={run.retry} />
        </div>
      )}
      <h3>Bad ranges</h3>
      <ul data-testid="bad-ranges">
        {c.badRanges.length === 0 && <li className="muted">None marked.</li>}
        {c.badRanges.map((r) => (
          <li key={r.id} data-testid="bad-range" data-start={r.start} data-end={r.end}>
            <button className="btn-link" onClick={() => p.onSeek(r.start)}>
              frames {r.start}–{r.end - 1}
            </button>
            {r.note && <span className="muted">{r.note}</span>}
            <button
              className="btn btn-small"
              data-testid="remove-bad-range"
              onClick={() => c.removeBad(r.id)}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <h3>User keypoints</h3>
      <ul data-testid="user-keypoints">
        {c.userKeypoints.length === 0 && <li className="muted">Drag a joint in the video to place one.</li>}
        {c.userKeypoints.map((k) => (
          <li
            key={`${k.cameraId}:${k.frame}:${k.joint}`}
            data-testid="user-keypoint"
            data-frame={k.frame}
            data-joint={k.joint}
          >
            <button className="btn-link" onClick={() => p.onSeek(k.frame)}>
              frame {k.frame}
            </button>
            <span>
              {cameraName(k.cameraId)} · {names[k.joint] ?? `joint ${k.joint}`} at ({k.u.toFixed(1)},{' '}
              {k.v.toFixed(1)}) px
            </span>
            <button
              className="btn btn-small"
              data-testid="remove-user-keypoint"
              onClick={() => c.removeKeypoint(k)}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
