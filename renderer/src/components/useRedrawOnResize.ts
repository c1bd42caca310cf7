import { type RefObject, useEffect, useRef } from 'react';

/**
 * Calls `redraw` whenever it changes and whenever the canvas is resized. The observer is made once and
 * calls the latest redraw: a new one per frame would draw twice (an observer reports the size it first
 * sees).
 */
export function useRedrawOnResize(ref: RefObject<HTMLCanvasElement | null>, redraw: () => void): void {
  const latest = useRef(redraw);
  useEffect(() => {
    latest.current = redraw;
    redraw();
  }, [redraw]);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ro = new ResizeObserver(() => latest.current());
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [ref]);
}
