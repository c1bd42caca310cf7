import { useEffect, type RefObject } from 'react';

/** Typing in a field: shortcuts stay off. */
export function isTextTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT';
}

interface Keys {
  frameRef: RefObject<number>;
  frameCount: number;
  seekTo: (frame: number) => void;
  togglePlay: () => void;
}

/**
 * Player shortcuts on the window, so they work wherever focus is (except in text fields and the
 * scrubber, whose own arrow keys already step): arrows step a frame (Shift: 10), Home/End jump,
 * Space plays/pauses.
 */
export function usePlayerKeys({ frameRef, frameCount, seekTo, togglePlay }: Keys): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || isTextTarget(e.target)) return;
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        seekTo(frameRef.current + (e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 10 : 1));
      } else if (e.key === 'Home' || e.key === 'End') {
        e.preventDefault();
        seekTo(e.key === 'Home' ? 0 : frameCount - 1);
      } else if (e.key === ' ') {
        // preventDefault also stops a focused button from turning the same Space into a click.
        e.preventDefault();
        if (!e.repeat) togglePlay();
      }
    };
    const onKeyUp = (e: KeyboardEvent) => {
      if (e.key === ' ' && !isTextTarget(e.target)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('keyup', onKeyUp);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('keyup', onKeyUp);
    };
  }, [frameCount, frameRef, seekTo, togglePlay]);
}
