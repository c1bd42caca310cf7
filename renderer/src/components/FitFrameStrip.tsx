import { useRef, useState } from 'react';
import type { BadFrameRange, UserKeypoint } from '../../../preload/api';

interface Props {
  /** The fit's session frames [first, first + count). */
  first: number;
  count: number;
  frame: number;
  badRanges: BadFrameRange[];
  userKeypoints: UserKeypoint[];
  /** The frames a "Re-fit around here" would re-solve, [start, end). */
  refitWindow: [number, number] | null;
  /** The selected range [start, end), or null. */
  selection: [number, number] | null;
  onSelect: (range: [number, number] | null) => void;
  onSeek: (frame: number) => void;
}

/** Pointer travel (CSS px) that makes a press a drag (a selection) rather than a click (a seek). */
const DRAG_PX = 4;

/**
 * The fit's frames as a strip under the quality curve: bad ranges in red, user keypoints as yellow
 * ticks, the refit window outlined, the selection in blue and the shown frame as a line. A drag
 * selects a frame range, a click seeks.
 */
export function FitFrameStrip(p: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [press, setPress] = useState<{ x: number; frame: number; dragging: boolean } | null>(null);
  const span = Math.max(1, p.count);
  const left = (f: number) => `${((f - p.first) / span) * 100}%`;
  const width = (a: number, b: number) => `${(Math.max(0, b - a) / span) * 100}%`;
  const frameAt = (clientX: number): number => {
    const b = box.current!.getBoundingClientRect();
    const f = p.first + Math.floor(((clientX - b.left) / Math.max(1, b.width)) * span);
    return Math.min(p.first + span - 1, Math.max(p.first, f));
  };
  const band = (a: number, b: number) => ({
    left: left(Math.max(a, p.first)),
    width: width(Math.max(a, p.first), Math.min(b, p.first + span)),
  });
  const keyFrames = [...new Set(p.userKeypoints.map((k) => k.frame))];

  return (
    <div
      ref={box}
      className="fit-frame-strip"
      data-testid="fit-frame-strip"
      data-first={p.first}
      data-count={p.count}
      data-bad={p.badRanges.length}
      onPointerDown={(e) => {
        e.currentTarget.setPointerCapture(e.pointerId);
        setPress({ x: e.clientX, frame: frameAt(e.clientX), dragging: false });
      }}
      onPointerMove={(e) => {
        if (!press) return;
        const dragging = press.dragging || Math.abs(e.clientX - press.x) >= DRAG_PX;
        if (dragging !== press.dragging) setPress({ ...press, dragging });
        if (!dragging) return;
        const f = frameAt(e.clientX);
        p.onSelect([Math.min(press.frame, f), Math.max(press.frame, f) + 1]);
      }}
      onPointerUp={(e) => {
        if (press && !press.dragging) p.onSeek(frameAt(e.clientX));
        setPress(null);
      }}
      onPointerCancel={() => setPress(null)}
    >
      {p.badRanges.map((r) => (
        <div
          key={r.id}
          className="strip-bad"
          style={band(r.start, r.end)}
          title={`bad: ${r.start}–${r.end - 1}`}
        />
      ))}
      {p.refitWindow && <div className="strip-refit" style={band(...p.refitWindow)} />}
      {p.selection && (
        <div
          className="strip-selection"
          data-testid="strip-selection"
          data-start={p.selection[0]}
          data-end={p.selection[1]}
          style={band(...p.selection)}
        />
      )}
      {keyFrames.map((f) => (
        <div key={f} className="strip-key" style={{ left: left(f + 0.5) }} />
      ))}
      <div className="strip-cursor" style={{ left: left(p.frame + 0.5) }} />
    </div>
  );
}
