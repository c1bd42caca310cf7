import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FitComparisonBlock } from '../../../preload/api';
import { attachFrameCursor } from './frame-cursor';

interface Props {
  comparison: FitComparisonBlock;
  frame: number;
  onSeek: (frame: number) => void;
}

const PLOT_HEIGHT = 110;
const AXIS = {
  stroke: '#8a919c',
  grid: { stroke: '#2a2f37', width: 1 },
  ticks: { stroke: '#2a2f37', width: 1 },
};

/** Number for display, or a dash when missing. */
const fmt = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/**
 * Two fit versions compared: their per-frame MPJPE (mm, uPlot, as QualityCurve draws quality) with the
 * 1 cm line, the shown frame marked, a click seeks; the summary above it.
 */
export function FitCompareCurve({ comparison: c, frame, onSeek }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const frameRef = useRef(frame);
  const placeCursor = useRef<() => void>(() => undefined);
  const onSeekRef = useRef(onSeek);
  useEffect(() => {
    onSeekRef.current = onSeek;
  }, [onSeek]);

  useEffect(() => {
    const box = boxRef.current;
    if (!box || c.count === 0) return;
    const frames = Array.from({ length: c.count }, (_, i) => c.start + i);
    const limit = frames.map(() => c.summary.differMm);
    const u = new uPlot(
      {
        width: Math.max(200, box.clientWidth),
        height: PLOT_HEIGHT,
        scales: {
          x: { time: false },
          mm: { range: (_u, _min, max) => [0, Math.max(max, c.summary.differMm) * 1.1] },
        },
        axes: [{ ...AXIS }, { ...AXIS, scale: 'mm', label: 'mm', labelSize: 16, size: 44 }],
        series: [
          { label: 'frame' },
          {
            label: `MPJPE #${c.fitA} ↔ #${c.fitB} (mm)`,
            scale: 'mm',
            stroke: '#ffd23f',
            width: 1.5,
            points: { show: false },
          },
          {
            label: '1 cm',
            scale: 'mm',
            stroke: 'rgba(229, 83, 75, 0.6)',
            width: 1,
            dash: [4, 4],
            points: { show: false },
          },
        ],
        legend: { show: false },
        cursor: { drag: { x: false, y: false, setScale: false } },
        hooks: { ready: [() => placeCursor.current()], setSize: [() => placeCursor.current()] },
      },
      [frames, c.mpjpeMm, limit],
      box,
    );
    const cursor = attachFrameCursor(
      u,
      box,
      PLOT_HEIGHT,
      () => frameRef.current,
      (f) => onSeekRef.current(f),
      c.start,
      c.start + c.count - 1,
    );
    placeCursor.current = cursor.place;
    return () => {
      cursor.dispose();
      placeCursor.current = () => undefined;
      u.destroy();
    };
  }, [c]);

  useEffect(() => {
    frameRef.current = frame;
    placeCursor.current();
  }, [frame]);

  // Frames where the versions differ at all (over 0.01 mm), for the readout and the tests.
  let lo = -1;
  let hi = -1;
  c.mpjpeMm.forEach((v, i) => {
    if (v !== null && v > 0.01) {
      if (lo < 0) lo = c.start + i;
      hi = c.start + i;
    }
  });
  const s = c.summary;
  return (
    <div data-testid="fit-compare" data-fit-a={c.fitA} data-fit-b={c.fitB}>
      <p
        className="muted"
        data-testid="compare-summary"
        data-max={s.maxMm ?? ''}
        data-over={s.framesOver1cm}
        data-differ-first={lo}
        data-differ-last={hi}
      >
        max {fmt(s.maxMm)} mm at frame {s.maxFrame} · median {fmt(s.medianMm)} mm · mean {fmt(s.meanMm)} mm ·{' '}
        {s.framesOver1cm} frames &gt; 1 cm
        {s.ranges.length > 0 &&
          ` (${s.ranges.map(([a, b]) => (b - a > 1 ? `${a}–${b - 1}` : `${a}`)).join(', ')})`}
        {lo >= 0 ? ` · differ in frames ${lo}–${hi}` : ' · identical'}
      </p>
      <div className="fit-compare-curve" ref={boxRef} data-testid="compare-curve" data-frames={c.count} />
    </div>
  );
}
