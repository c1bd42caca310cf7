import { useCallback, useEffect, useState } from 'react';
import type { BadFrameRange, FitPick, UserKeypoint } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';

/**
 * A session's fit corrections as the review shows them: its bad frame ranges, its user keypoints and
 * the version it exports, re-read after each write here and whenever another window announces a
 * change ('fit-corrected') or a job ends (a refit makes a version the pick falls back to).
 */
export function useFitCorrections(sessionId: number, onError: (message: string) => void) {
  const api = getApi();
  const [badRanges, setBadRanges] = useState<BadFrameRange[]>([]);
  const [userKeypoints, setUserKeypoints] = useState<UserKeypoint[]>([]);
  const [pick, setPick] = useState<FitPick | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(
    () =>
      api.on('libraryChanged', (e) => {
        if (e.reason === 'job-changed' || (e.reason === 'fit-corrected' && e.sessionId === sessionId))
          setVersion((v) => v + 1);
      }),
    [api, sessionId],
  );

  useEffect(() => {
    let live = true;
    const fail = (err: unknown) => live && onError(errorMessage(err));
    api.call('listBadRanges', { sessionId }).then((r) => live && setBadRanges(r), fail);
    api.call('listUserKeypoints', { sessionId }).then((k) => live && setUserKeypoints(k), fail);
    api.call('pickedFit', { sessionId }).then((p) => live && setPick(p), fail);
    return () => {
      live = false;
    };
  }, [api, sessionId, version, onError]);

  /** Runs a write, then re-reads (the write's own event would too; this does not wait for it). */
  const write = useCallback(
    (fn: () => Promise<unknown>) =>
      fn().then(
        () => setVersion((v) => v + 1),
        (err: unknown) => onError(errorMessage(err)),
      ),
    [onError],
  );

  return {
    badRanges,
    userKeypoints,
    pick,
    markBad: (start: number, end: number) => write(() => api.call('markBadRange', { sessionId, start, end })),
    removeBad: (rangeId: number) => write(() => api.call('removeBadRange', { sessionId, rangeId })),
    setKeypoint: (k: { cameraId: number; frame: number; joint: number; u: number; v: number }) =>
      write(() => api.call('setUserKeypoint', { sessionId, ...k })),
    removeKeypoint: (k: { cameraId: number; frame: number; joint: number }) =>
      write(() => api.call('removeUserKeypoint', { sessionId, ...k })),
    pickFit: (fitId: number | null) => write(() => api.call('pickFit', { sessionId, fitId })),
  };
}

export type FitCorrections = ReturnType<typeof useFitCorrections>;
