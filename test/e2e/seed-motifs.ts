/**
 * Seeds a data dir for the motifs UI spec, before its server starts, while no training or extraction
 * job exists yet: through the real store (SQLite), a ready A4Mer model with a decreasing training
 * curve (one NaN, to show as a gap), a second model still training, and proposals for every session:
 * atoms tiling its frames and motifs grouping them, with a few families recurring across sessions.
 *
 * Usage: npx tsx test/e2e/seed-motifs.ts <data-dir>   (prints one JSON line describing what it stored)
 */
import type { MotifSegment } from '../../preload/api';
import { openLibrary } from '../../main/store/library';
import { appendTrainingLog, createMotifModel, updateMotifModel } from '../../main/store/motif-models';
import { saveMotifProposals } from '../../main/store/motif-proposals';
import { listSessions } from '../../main/store/sessions';

/** Atom lengths in frames, cycled (a varied tiling, not a grid). */
const ATOM_LENGTHS = [6, 8, 5, 9, 7, 4, 10, 6];
/** Atoms per motif of each family; family 2 is a single atom (pattern -1). */
const FAMILY_ATOMS: Record<number, number> = { 0: 2, 1: 3, 2: 1, 3: 2 };
/** The order families recur in; each session starts at a different place in it. */
const FAMILY_ORDER = [0, 1, 0, 2, 3, 1, 0, 3, 2, 1];
const STEPS_TOTAL = 400;

export interface SeededSession {
  id: number;
  name: string;
  frameCount: number;
  atoms: MotifSegment[];
  motifs: MotifSegment[];
}

/** Atoms covering [0, frameCount): cycled lengths, the last one cut at the end. */
function tileAtoms(frameCount: number, offset: number): MotifSegment[] {
  const atoms: MotifSegment[] = [];
  for (let start = 0, i = offset; start < frameCount; i++) {
    const end = Math.min(frameCount, start + ATOM_LENGTHS[i % ATOM_LENGTHS.length]);
    atoms.push({ start, end, code: (i * 7) % 23 });
    start = end;
  }
  return atoms;
}

/** Motifs over consecutive atoms in FAMILY_ORDER; what is left at the end becomes single-atom pieces. */
function groupMotifs(atoms: MotifSegment[], offset: number): MotifSegment[] {
  const motifs: MotifSegment[] = [];
  let a = 0;
  for (let k = offset; a < atoms.length; k++) {
    let family = FAMILY_ORDER[k % FAMILY_ORDER.length];
    if (a + FAMILY_ATOMS[family] > atoms.length) family = 2;
    const n = FAMILY_ATOMS[family];
    motifs.push({ start: atoms[a].start, end: atoms[a + n - 1].end, pattern: n === 1 ? -1 : family, family });
    a += n;
  }
  return motifs;
}

/** A plausible JEPA curve: exponential decay to a floor, a small deterministic wiggle, warm-up then cosine lr. */
function trainingRows(steps: number, every: number) {
  const rows: { step: number; values: Record<string, number> }[] = [];
  for (let step = 0; step <= steps; step += every) {
    const loss = 0.06 + 0.9 * Math.exp(-step / 70) + 0.01 * Math.sin(step / 9);
    const lr =
      step < 40 ? (3e-4 * step) / 40 : 1.5e-4 * (1 + Math.cos((Math.PI * (step - 40)) / (steps - 40)));
    // One step whose global term came out NaN: the UI must draw a gap there, not a drop to zero.
    const global = step === 200 ? NaN : 0.25 * loss;
    rows.push({ step, values: { loss, local: 0.75 * loss, global, lr } });
  }
  return rows;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: seed-motifs.ts <data-dir>');
  const db = await openLibrary(dataDir);
  try {
    const sessions = await listSessions(db);
    if (sessions.length === 0)
      throw new Error(`${dataDir}: the library has no session to seed proposals for`);
    const ready = await createMotifModel(db, {
      name: 'a4mer-e2e',
      config: { fps: 5, windowFrames: 150, kMeans: 512, alpha: 0.05, loss: 'global-local' },
      training: {
        sessions: sessions.map((s) => s.id),
        sequences: sessions.length,
        frames: sessions.reduce((n, s) => n + s.frameCount, 0),
        split: 'all',
      },
      stepsTotal: STEPS_TOTAL,
    });
    const rows = trainingRows(STEPS_TOTAL, 10);
    await appendTrainingLog(db, ready.id, rows);
    await updateMotifModel(db, ready.id, {
      state: 'ready',
      stepsDone: STEPS_TOTAL,
      metrics: { loss: rows[rows.length - 1].values.loss, families: Object.keys(FAMILY_ATOMS).length },
    });
    // A second model still training, halfway through its first logged steps.
    const running = await createMotifModel(db, {
      name: 'a4mer-e2e-running',
      config: { fps: 5, windowFrames: 150 },
      training: { sessions: sessions.map((s) => s.id), split: 'all' },
      stepsTotal: STEPS_TOTAL,
    });
    await appendTrainingLog(db, running.id, trainingRows(120, 20));
    await updateMotifModel(db, running.id, { stepsDone: 120 });

    const seeded: SeededSession[] = [];
    for (const [i, s] of sessions.entries()) {
      const atoms = tileAtoms(s.frameCount, 3 * i);
      const motifs = groupMotifs(atoms, 2 * i);
      await saveMotifProposals(db, { sessionId: s.id, modelId: ready.id, provider: 'cpu', atoms, motifs });
      seeded.push({ id: s.id, name: s.name, frameCount: s.frameCount, atoms, motifs });
    }
    console.log(
      JSON.stringify({
        modelId: ready.id,
        runningModelId: running.id,
        curveSteps: rows.length,
        sessions: seeded,
      }),
    );
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
