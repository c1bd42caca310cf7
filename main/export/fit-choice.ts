import type { FitSummary } from '../../preload/api';

/**
 * Which fit version of a session an export uses: the one asked for, else the newest. `fits` is
 * listFits' answer (newest first). The one place to change when a "picked" version exists.
 */
export function chooseFit(fits: readonly FitSummary[], requestedId?: number): FitSummary | undefined {
  if (requestedId !== undefined) return fits.find((f) => f.id === requestedId);
  return fits[0];
}
