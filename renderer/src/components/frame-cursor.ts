import type uPlot from 'uplot';

/**
 * What every per-frame uPlot curve adds to its plot: a vertical cursor at the shown frame, a click
 * that seeks to the frame under the pointer (clamped to [first, last]), and the plot's width following
 * its box. `place` moves the cursor (call it when the frame changes and from the plot's ready/setSize
 * hooks); `dispose` undoes it all.
 */
export function attachFrameCursor(
  u: uPlot,
  box: HTMLElement,
  height: number,
  frame: () => number,
  seek: (f: number) => void,
  first: number,
  last: number,
): { place: () => void; dispose: () => void } {
  const line = document.createElement('div');
  line.className = 'quality-cursor';
  u.over.appendChild(line);
  const place = () => {
    line.style.left = `${u.valToPos(frame(), 'x')}px`;
  };
  place();
  const onClick = (e: MouseEvent) => {
    const f = Math.round(u.posToVal(e.clientX - u.over.getBoundingClientRect().left, 'x'));
    if (Number.isFinite(f)) seek(Math.min(last, Math.max(first, f)));
  };
  u.over.addEventListener('click', onClick);
  const unfollow = followBoxWidth(u, box, height, 200);
  return {
    place,
    dispose: () => {
      unfollow();
      u.over.removeEventListener('click', onClick);
    },
  };
}

/**
 * Keeps a uPlot's width at its box's (at least minWidth; a hidden box, width 0, is ignored). Returns
 * the function that stops following.
 */
export function followBoxWidth(u: uPlot, box: HTMLElement, height: number, minWidth: number): () => void {
  let width = box.clientWidth;
  const resize = new ResizeObserver(() => {
    if (box.clientWidth === width || box.clientWidth === 0) return;
    width = box.clientWidth;
    u.setSize({ width: Math.max(minWidth, width), height });
  });
  resize.observe(box);
  return () => resize.disconnect();
}
