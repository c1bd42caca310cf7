import { useEffect, useState } from 'react';
import { errorMessage, getApi } from '../api-client';

/**
 * The URL a camera's video plays from (the `mediaUrl` call), or null until it arrives; a failure goes to
 * `onError`. A reply for a camera the component no longer shows is dropped.
 */
export function useMediaUrl(
  sessionId: number,
  cameraId: number,
  onError: (message: string) => void,
): string | null {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    getApi()
      .call('mediaUrl', { sessionId, cameraId })
      .then(
        (r) => live && setSrc(r.url),
        (err: unknown) => live && onError(errorMessage(err)),
      );
    return () => {
      live = false;
    };
  }, [sessionId, cameraId, onError]);
  return src;
}
