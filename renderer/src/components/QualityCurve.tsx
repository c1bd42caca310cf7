import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { QualitySeries } from '../fit-frame';
import { attachFrameCursor } from './frame-cursor';

interface Props {
  series: QualitySeries;
  /** Session frame shown in the player: a line marks it. */
  frame: number;
  /** A click on the plot asks for this frame. */
  onSeek: (frame: number) => void;
  /** Frame ranges [start, end) the user marked bad: shaded along the bottom. */
  bad?: readonly { start: number; end: number }[];
}

const PLOT_HEIGHT = 130;
const NO_RANGES: readonly { start: number; end: number }[] = [];
const AXIS = {
  stroke: '#8a919c',
  grid: { stroke: '#2a2f37', width: 1 },
  ticks: { stroke: '#2a2f37', width: 1 },
};
const LINE = { width: 1.5, points: { show: false } };

/**
 * A y range from 0 (every curve is an error, best at 0) up to the data's maximum, but no higher than
 * 1.5 x its 95th percentile: one wild frame would otherwise flatten every other frame onto the axis.
 * Clipped frames run off the top of the plot, and the readout still gives their value.
 */
function robustRange(...curves: (number | null)[][]): uPlot.Scale.Range {
  const v = curves.flat().filter((x): x is number => x !== null && Number.isFinite(x));
  v.sort((a, b) => a - b);
  const cap = v.length > 0 ? 1.5 * v[Math.floor(0.95 * (v.length - 1))] : Infinity;
  return (_u, _min, max) => {
    const top = Math.min(max, cap > 0 ? cap : max);
    return [0, top > 0 ? top * 1.1 : 1];
  };
}

/**
 * Per-frame fit quality (uPlot): the largest reprojection RMS over the views in pixels on the left axis,
 * penetration and foot-camera residual in mm on the right, flagged frames marked in red, a line at the
 * shown frame; a click seeks there.
 */
export function QualityCurve({ series, frame, onSeek, bad = NO_RANGES }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const badRef = useRef(bad);
  const plot = useRef<uPlot | null>(null);
  const frameRef = useRef(frame);
  const placeCursor = useRef<() => void>(() => undefined);
  const onSeekRef = useRef(onSeek);
  useEffect(() => {
    onSeekRef.current = onSeek;
  }, [onSeek]);

  useEffect(() => {
    const box = boxRef.current;
    if (!box || series.frames.length === 0) return;
    const hasFoot = series.footMm.some((v) => v !== null);
    const first = series.frames[0];
    const last = series.frames[series.frames.length - 1];

    // Shades each flagged frame's column, under the curves (drawClear runs right after the clear).
    const shadeFlagged = (u: uPlot) => {
      const { ctx, bbox } = u;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      // A strong strip along the top and a faint column, so curves stay readable when many frames are flagged.
      const strip = 5 * devicePixelRatio;
      for (const f of series.flagged) {
        const a = u.valToPos(f - 0.5, 'x', true);
        const w = Math.max(1, u.valToPos(f + 0.5, 'x', true) - a);
        ctx.fillStyle = 'rgba(229, 83, 75, 0.12)';
        ctx.fillRect(a, bbox.top + strip, w, bbox.height - strip);
        ctx.fillStyle = 'rgba(229, 83, 75, 0.85)';
        ctx.fillRect(a, bbox.top, w, strip);
      }
      // Bad ranges: a purple band along the bottom.
      ctx.fillStyle = 'rgba(170, 110, 255, 0.8)';
      for (const r of badRef.current) {
        const a = u.valToPos(r.start - 0.5, 'x', true);
        ctx.fillRect(a, bbox.top + bbox.height - strip, u.valToPos(r.end - 0.5, 'x', true) - a, strip);
      }
      ctx.restore();
    };
    const opts: uPlot.Options = {
      width: Math.max(200, box.clientWidth),
      height: PLOT_HEIGHT,
      scales: {
        x: { time: false },
        px: { range: robustRange(series.reprojPx) },
        mm: { range: robustRange(series.penetrationMm, series.footMm) },
      },
      axes: [
        { ...AXIS },
        { ...AXIS, scale: 'px', label: 'px', labelSize: 16, size: 44 },
        { ...AXIS, scale: 'mm', label: 'mm', labelSize: 16, size: 44, side: 1, grid: { show: false } },
      ],
      series: [
        { label: 'frame' },
        { label: 'reprojection RMS, worst view (px)', scale: 'px', stroke: '#3d8bfd', ...LINE },
        { label: 'penetration (mm)', scale: 'mm', stroke: '#e5534b', ...LINE },
        ...(hasFoot ? [{ label: 'foot camera (mm)', scale: 'mm', stroke: '#d9a43b', ...LINE }] : []),
      ],
      cursor: { drag: { x: false, y: false, setScale: false } },
      hooks: {
        drawClear: [shadeFlagged],
        setSize: [() => placeCursor.current()],
        ready: [() => placeCursor.current()],
      },
    };
    const data: uPlot.AlignedData = [
      series.frames,
      series.reprojPx,
      series.penetrationMm,
      ...(hasFoot ? [series.footMm] : []),
    ];
    const u = new uPlot(opts, data, box);
    plot.current = u;
    const cursor = attachFrameCursor(
      u,
      box,
      PLOT_HEIGHT,
      () => frameRef.current,
      (f) => onSeekRef.current(f),
      first,
      last,
    );
    placeCursor.current = cursor.place;
    return () => {
      cursor.dispose();
      placeCursor.current = () => undefined;
      plot.current = null;
      u.destroy();
    };
  }, [series]);

  useEffect(() => {
    badRef.current = bad;
    plot.current?.redraw(false);
  }, [bad]);

  useEffect(() => {
    frameRef.current = frame;
    placeCursor.current();
  }, [frame]);

  return (
    <div
      className="quality-curve"
      ref={boxRef}
      data-testid="quality-curve"
      data-frames={series.frames.length}
      data-flagged={series.flagged.length}
    />
  );
}
