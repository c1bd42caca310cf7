import type { FitSummary, SessionDetail } from '../../preload/api';
import type { Db } from '../store/db';
import { getFit } from '../store/fits';
import { getSession } from '../store/sessions';
import { chooseFit } from './fit-choice';
import { type ExportFormat, MOTION_FORMATS, needsFit } from './formats';
import { assignSplits, byCodeUnits, type SplitSpec } from './splits';

/**
 * What an export will write, checked before anything is written: every session exists, has a fit
 * where a motion format needs one (the asked-for fit, else chooseFit's), a subject (session.json's
 * subject name, else the session name) and so a split, and a unique sequence name.
 */

export interface PlannedSession {
  session: SessionDetail;
  fit: FitSummary | null;
  /** File-safe, unique within the export. */
  sequence: string;
  subject: string;
  split: string;
  /** The exported frames: the fit's, else the whole session (session frames [first, first + count)). */
  firstFrame: number;
  frameCount: number;
}

/** Letters, digits, '.', '_' and '-' only. */
export function fileSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_');
  return s === '' ? 'session' : s;
}

/** session.json's subject name, or undefined. */
async function subjectName(db: Db, sessionId: number): Promise<string | undefined> {
  const row = await db.get<{ meta: string }>('SELECT meta FROM sessions WHERE id = ?', [sessionId]);
  try {
    const subject = (JSON.parse(row?.meta ?? '{}') as { subject?: { name?: unknown } }).subject;
    const name = subject?.name;
    return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
  } catch {
    throw new Error(`session #${sessionId}: its stored meta is not JSON`);
  }
}

/** The fit each session uses: asked-for ids must be fits of exported sessions, at most one each. */
async function requestedFits(
  db: Db,
  sessionIds: number[],
  fitIds: readonly number[],
): Promise<Map<number, number>> {
  const bySession = new Map<number, number>();
  for (const id of fitIds) {
    const fit = Number.isInteger(id) ? await getFit(db, id) : undefined;
    if (!fit) throw new Error(`fit #${id} does not exist`);
    if (!sessionIds.includes(fit.sessionId))
      throw new Error(`fit #${id} is a fit of session #${fit.sessionId}, which is not in the export`);
    const other = bySession.get(fit.sessionId);
    if (other !== undefined && other !== id)
      throw new Error(`session #${fit.sessionId}: two fits asked for (#${other} and #${id})`);
    bySession.set(fit.sessionId, id);
  }
  return bySession;
}

export async function planExport(
  db: Db,
  req: {
    sessionIds: readonly number[];
    formats: readonly ExportFormat[];
    split?: SplitSpec;
    fitIds?: readonly number[];
  },
): Promise<PlannedSession[]> {
  const ids = [...new Set(req.sessionIds)];
  if (ids.length === 0) throw new Error('export: no sessions given');
  const wanted = await requestedFits(db, ids, req.fitIds ?? []);
  const motion = req.formats.filter((f) => MOTION_FORMATS.includes(f));
  const partial: Omit<PlannedSession, 'sequence' | 'split'>[] = [];
  for (const id of ids) {
    const session = Number.isInteger(id) ? await getSession(db, id) : undefined;
    if (!session) throw new Error(`session #${id} does not exist`);
    const fit = (await chooseFit(db, id, wanted.get(id))) ?? null;
    if (!fit && needsFit(req.formats))
      throw new Error(
        `session #${id} "${session.name}": has no fit to export as ${motion.join(', ')} ` +
          `(fit it first: studio fit ${id})`,
      );
    partial.push({
      session,
      fit,
      subject: (await subjectName(db, id)) ?? session.name,
      firstFrame: fit ? fit.firstFrame : 0,
      frameCount: fit ? fit.frameCount : session.frameCount,
    });
  }
  const splits = assignSplits(
    partial.map((p) => p.subject),
    req.split,
  );
  // Sequence names: the session name made file-safe; names shared by several sessions get their ids.
  const base = partial.map((p) => fileSafe(p.session.name));
  const planned = partial.map((p, i) => ({
    ...p,
    sequence: base.filter((b) => b === base[i]).length > 1 ? `${base[i]}-${p.session.id}` : base[i],
    split: splits.get(p.subject)!,
  }));
  const clash = planned.find((p, i) => planned.findIndex((q) => q.sequence === p.sequence) !== i);
  if (clash)
    throw new Error(`session #${clash.session.id}: sequence name "${clash.sequence}" is taken twice`);
  return planned.sort((a, b) => byCodeUnits(a.sequence, b.sequence) || a.session.id - b.session.id);
}
