import type { FitSummary } from '../../preload/api';
import type { Db } from '../store/db';
import { pickedFit } from '../store/fit-corrections';
import { listFits } from '../store/fits';

/**
 * Which fit version of a session an export uses: the one asked for, else the version the annotator
 * picked for export (store/fit-corrections.ts pickFit), else the newest.
 */
export async function chooseFit(
  db: Db,
  sessionId: number,
  requestedId?: number,
): Promise<FitSummary | undefined> {
  if (requestedId !== undefined) return (await listFits(db, sessionId)).find((f) => f.id === requestedId);
  const fit = await pickedFit(db, sessionId);
  if (!fit) return undefined;
  const { picked: _picked, ...summary } = fit;
  return summary;
}
