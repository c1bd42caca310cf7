import { useEffect, useRef } from 'react';
import type { FootPoseBlock } from '../../../preload/api';
import { STATUS_COLOURS, STATUS_NAMES, poseStatus } from '../foot-overlay';

/** One coloured cell per frame (ok / ambiguous / none / interpolated) under the timeline; click to seek. */
export function PoseStatusStrip({
  block,
  frameCount,
  frame,
  onSeek,
}: {
  block: FootPoseBlock;
  frameCount: number;
  frame: number;
  onSeek: (frame: number) => void;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const counts = [0, 0, 0, 0];
  for (let f = 0; f < frameCount; f++) counts[poseStatus(block, f)]++;
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = Math.max(1, frameCount);
    canvas.height = 1;
    for (let f = 0; f < frameCount; f++) {
      ctx.fillStyle = STATUS_COLOURS[poseStatus(block, f)];
      ctx.fillRect(f, 0, 1, 1);
    }
  }, [block, frameCount]);
  return (
    <div
      className="pose-strip"
      data-testid="pose-strip"
      data-ok={counts[1]}
      data-ambiguous={counts[2]}
      data-none={counts[0]}
      data-interpolated={counts[3]}
    >
      <canvas
        ref={ref}
        className="pose-strip-canvas"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          onSeek(Math.floor(((e.clientX - r.left) / r.width) * frameCount));
        }}
      />
      <div className="pose-strip-marker" style={{ left: `${((frame + 0.5) / frameCount) * 100}%` }} />
      <div className="pose-strip-legend muted">
        {STATUS_NAMES.map((name, s) => (
          <span key={name}>
            <i style={{ background: STATUS_COLOURS[s] }} /> {name} {counts[s]}
          </span>
        ))}
        <span data-testid="pose-status-here">
          frame {frame}: {STATUS_NAMES[poseStatus(block, frame)]}
        </span>
      </div>
    </div>
  );
}
