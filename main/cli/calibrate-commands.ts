import { decodeGrayImage, forEachGrayFrame, probeSize } from '../capture/gray-frames';
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { createContext, type AppContext } from '../api/context';
import { writeAniposeToml, writeOpenCvYaml } from '../calibration/calibration-export';
import { CharucoBoardDetector, validateBoardSpec, type BoardSpec } from '../calibration/charuco-board';
import {
  calibrateFromCorners,
  detectView,
  type IntrinsicsResult,
  type ViewCorners,
} from '../calibration/intrinsics';
import { loadOpenCv } from '../calibration/opencv';
import {
  applySessionExtrinsics,
  computeSessionExtrinsics,
  type SessionExtrinsics,
} from '../calibration/session-extrinsics';
import { sessionRoot } from '../capture/plan';
import type { Db } from '../store/db';
import { findSessionBySource } from '../store/sessions';
import { Output, progressBar } from './output';

/**
 * `studio calibrate intrinsics <images...|videos...> --board <spec>`: ChArUco intrinsic calibration of one
 * camera from still images and/or every N-th frame of videos, written as OpenCV YAML and Anipose TOML.
 * `studio calibrate extrinsics <session>`: a library session's room cameras placed from one video frame
 * by one of its boards (session-extrinsics.ts), optionally stored.
 */

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.pgm', '.ppm', '.webp']);
const IDENTITY_POSE = { R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };

/**
 * A board spec from `file` (a JSON BoardSpec; its pose may be left out for intrinsics) or from a
 * session.json's `boards`: `session.json#name`, or just `session.json` when it holds one board.
 */
export function loadBoardSpec(arg: string): BoardSpec {
  let file = arg;
  let name: string | undefined;
  const hash = arg.lastIndexOf('#');
  if (!existsSync(arg) && hash > 0) {
    file = arg.slice(0, hash);
    name = arg.slice(hash + 1);
  }
  if (!existsSync(file)) throw new Error(`${file}: board spec file does not exist`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  let spec = doc as BoardSpec;
  const boards = (doc as { boards?: unknown }).boards;
  if (Array.isArray(boards)) {
    const names = boards.map((b: { name?: string }) => b?.name);
    const pick = name === undefined && boards.length === 1 ? boards[0] : boards.find((b) => b?.name === name);
    if (!pick) {
      throw new Error(
        `${file}: ${name === undefined ? 'holds several boards, name one as file#name' : `has no board "${name}"`} ` +
          `(boards: ${names.join(', ')})`,
      );
    }
    spec = pick as BoardSpec;
  } else if (name !== undefined) {
    throw new Error(`${file}: has no "boards" list to pick "${name}" from`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new Error(`${file}: expected a board spec object`);
  }
  spec = { ...spec, pose: spec.pose ?? IDENTITY_POSE };
  try {
    validateBoardSpec(spec);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  return spec;
}

export interface CalibrateIntrinsicsArgs {
  /** Image files and/or video files (videos: every `every`-th frame). */
  inputs: string[];
  /** Board spec argument (see loadBoardSpec). */
  board: string;
  /** Video frame step (default 10). */
  every?: number;
  yaml?: string;
  toml?: string;
  /** Camera name in the TOML (default: the first input's base name). */
  name?: string;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface CalibrateIntrinsicsSummary extends IntrinsicsResult {
  board: string;
  views: number;
  usedViews: number;
  yaml?: string;
  toml?: string;
  seconds: number;
}

/** Detects the board in every input view, calibrates and writes the requested files. */
export async function runCalibrateIntrinsics(
  args: CalibrateIntrinsicsArgs,
): Promise<CalibrateIntrinsicsSummary> {
  const t0 = performance.now();
  const every = args.every ?? 10;
  if (!Number.isInteger(every) || every < 1)
    throw new Error(`--every must be a positive integer, got ${args.every}`);
  if (args.inputs.length === 0) throw new Error('calibrate intrinsics: give at least one image or video');
  const spec = loadBoardSpec(args.board);
  const inputs = args.inputs.map((p) => resolve(p));
  const isImage = (p: string) => IMAGE_EXTENSIONS.has(extname(p).toLowerCase());
  // Progress total: one per image, plus each video's sampled frame count when the container tells it.
  let total = 0;
  for (const p of inputs) total += isImage(p) ? 1 : Math.ceil((await probeSize(p)).frames / every) || 1;
  const cv = await loadOpenCv();
  const detector = new CharucoBoardDetector(cv, spec);
  const views: ViewCorners[] = [];
  const progress = (name: string, v: ViewCorners) => {
    args.onProgress?.(
      views.length,
      Math.max(total, views.length),
      `${basename(name)}: ${v.ids.length} corners`,
    );
  };
  try {
    args.onProgress?.(0, total, 'detecting');
    for (const p of inputs) {
      if (isImage(p)) {
        const v = detectView(detector, p, await decodeGrayImage(p));
        views.push(v);
        progress(p, v);
        continue;
      }
      await forEachGrayFrame(p, every, (f, image) => {
        const v = detectView(detector, `${p}#${f}`, image);
        views.push(v);
        progress(v.name, v);
      });
    }
  } finally {
    detector.delete();
  }
  args.onProgress?.(views.length, views.length, 'calibrating');
  const result = calibrateFromCorners(cv, spec, views);
  const used = result.perView.filter((v) => v.used);
  const summary: CalibrateIntrinsicsSummary = {
    board: spec.name,
    ...result,
    views: views.length,
    usedViews: used.length,
    seconds: 0,
  };
  if (args.yaml) {
    summary.yaml = resolve(args.yaml);
    const yaml = writeOpenCvYaml({
      ...result,
      perViewRms: used.map((v) => v.rms ?? NaN),
      calibrationTime: new Date().toString(),
      info: `studio calibrate intrinsics: board "${spec.name}", ${used.length} of ${views.length} views`,
    });
    writeFileSync(summary.yaml, yaml);
  }
  if (args.toml) {
    summary.toml = resolve(args.toml);
    const name = args.name ?? basename(inputs[0], extname(inputs[0])).replace(/#.*$/, '');
    writeFileSync(summary.toml, writeAniposeToml([{ name, ...result }], { error: result.rms }));
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** A session of the library from its id or its source folder; errors name what was given. */
export async function findSessionId(db: Db, arg: string): Promise<number> {
  if (/^\d+$/.test(arg)) return Number(arg);
  const id = (await findSessionBySource(db, sessionRoot(resolve(arg))))?.id;
  if (id === undefined) throw new Error(`${resolve(arg)}: not in the library (import it first)`);
  return id;
}

export interface CalibrateExtrinsicsArgs {
  /** Session id or folder. */
  session: string;
  board?: string;
  frame?: number;
  /** Store the new R, t in the cameras' calibration. */
  apply?: boolean;
}

export interface CalibrateExtrinsicsSummary extends SessionExtrinsics {
  /** Cameras whose stored R, t were replaced (0 without --apply). */
  applied: number;
}

/** Computes a session's room-camera extrinsics in the library at `dataDir`, and stores them if asked. */
export async function runCalibrateExtrinsics(
  dataDir: string,
  args: CalibrateExtrinsicsArgs,
): Promise<CalibrateExtrinsicsSummary> {
  let ctx: AppContext | null = null;
  try {
    ctx = await createContext({ dataDir, transport: 'web', mediaUrl: (id) => `/media/${id}` });
    const sessionId = await findSessionId(ctx.db, args.session);
    const result = await computeSessionExtrinsics(ctx.db, sessionId, {
      board: args.board,
      frame: args.frame,
    });
    const applied = args.apply ? await applySessionExtrinsics(ctx.db, result) : 0;
    return { ...result, applied };
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

/** Registers `calibrate intrinsics` and `calibrate extrinsics`. */
export function registerCalibrateCommands(program: Command, json: () => boolean): void {
  const calibrate = program.command('calibrate').description('camera calibration from ChArUco boards');
  calibrate
    .command('intrinsics <inputs...>')
    .description('intrinsics (K, distortion) of one camera from ChArUco images or videos')
    .requiredOption('--board <spec>', 'board spec JSON file, or session.json#board-name')
    .option('--every <n>', 'use every n-th video frame', '10')
    .option('--yaml <file>', 'write OpenCV YAML (FileStorage layout)')
    .option('--toml <file>', 'write Anipose calibration.toml')
    .option('--name <camera>', 'camera name in the TOML (default: first input file name)')
    .action(
      async (
        inputs: string[],
        o: { board: string; every: string; yaml?: string; toml?: string; name?: string },
      ) => {
        const out = new Output(json());
        const bar = progressBar('starting', 1, ' {bar} {value}/{total} views | {message}');
        try {
          const s = await runCalibrateIntrinsics({
            inputs,
            board: o.board,
            every: Number(o.every),
            yaml: o.yaml,
            toml: o.toml,
            name: o.name,
            onProgress: (done, total, message) => {
              bar.setTotal(total);
              bar.update(done, { message });
            },
          });
          bar.stop();
          printSummary(out, s);
          out.result(s);
        } catch (err) {
          bar.stop();
          out.error((err as Error).message);
          process.exitCode = 1;
        }
      },
    );
  calibrate
    .command('extrinsics <session>')
    .description(
      'room-camera extrinsics of a library session (id or folder) from one frame and its floor board',
    )
    .option('--board <name>', "the session's board to use (default: the one lying on the floor)")
    .option('--frame <n>', 'video frame to use', '0')
    .option('--apply', "write the new R, t into the cameras' stored calibration", false)
    .action(async (session: string, o: { board?: string; frame: string; apply: boolean }) => {
      const out = new Output(json());
      try {
        if (!/^\d+$/.test(o.frame))
          throw new Error(`--frame must be a non-negative integer, got "${o.frame}"`);
        const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
        const s = await runCalibrateExtrinsics(dataDir, {
          session,
          board: o.board,
          frame: Number(o.frame),
          apply: o.apply,
        });
        printExtrinsics(out, s, o.apply);
        out.result(s);
      } catch (err) {
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}

function printExtrinsics(out: Output, s: CalibrateExtrinsicsSummary, apply: boolean): void {
  const f = (v: number[], d: number) => `[${v.map((x) => x.toFixed(d)).join(', ')}]`;
  out.info(
    `session #${s.sessionId} (${s.session}): board "${s.board}", frame ${s.frame}, ` +
      `${s.cameras.length} room cameras placed, ${s.unseen.length} not, in ${s.seconds.toFixed(1)} s`,
  );
  for (const c of s.cameras) {
    const change = c.change
      ? `; vs stored: centre ${c.change.centreMm.toFixed(1)} mm, rotation ${c.change.rotationDeg.toFixed(3)} deg`
      : '; no stored extrinsics';
    out.info(
      `  ${c.name}: ${c.corners} corners, rms ${c.rms.toFixed(3)} px, centre ${f(c.centre, 3)} m${change}\n` +
        `    R ${f(c.R.slice(0, 3), 6)} ${f(c.R.slice(3, 6), 6)} ${f(c.R.slice(6, 9), 6)}  t ${f(c.t, 4)}`,
    );
  }
  for (const u of s.unseen) out.info(`  ${u.name}: does not see the board: ${u.reason}`);
  if (apply) out.info(`wrote the new R, t of ${s.applied} cameras into session #${s.sessionId}`);
  else out.info('nothing written (--apply stores the new R, t)');
}

function printSummary(out: Output, s: CalibrateIntrinsicsSummary): void {
  const [fx, , cx, , fy, cy] = s.K;
  out.info(
    `${s.width}x${s.height}: fx ${fx.toFixed(2)} fy ${fy.toFixed(2)} cx ${cx.toFixed(2)} cy ${cy.toFixed(2)}, ` +
      `dist [${s.dist.map((d) => d.toFixed(5)).join(', ')}], RMS ${s.rms.toFixed(3)} px ` +
      `from ${s.usedViews} of ${s.views} views (board "${s.board}") in ${s.seconds.toFixed(1)} s`,
  );
  for (const v of s.perView) {
    const rms = v.rms === null ? '-' : `${v.rms.toFixed(3)} px`;
    out.info(
      `  ${v.used ? 'used   ' : 'skipped'} ${basename(v.name)}: ${v.corners} corners, ${rms}${v.note ? ` (${v.note})` : ''}`,
    );
  }
  if (s.yaml) out.info(`wrote ${s.yaml}`);
  if (s.toml) out.info(`wrote ${s.toml}`);
}
