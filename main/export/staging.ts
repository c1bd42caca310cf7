import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { sha256Hex } from './canonical-json';

/**
 * All-or-nothing output folder: files are written into `<out>.partial-<pid>` beside the destination
 * (same file system, so the final rename is atomic) and renamed to `<out>` only when complete. A
 * non-empty `<out>` is refused unless forced; then the old folder is renamed aside, the new one in,
 * and the old one deleted, so at every instant `<out>` is either the old export or the new one.
 * Any failure before the commit removes the partial folder.
 */

export interface StagedFile {
  /** Relative to the export folder, '/' separated. */
  path: string;
  bytes: number;
  sha256: string;
}

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : String((err as Error).message ?? err);
}

/** Whether `dir` exists as a folder with something in it; errors name the path. */
function nonEmptyFolder(dir: string): boolean {
  if (!existsSync(dir)) return false;
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: exists and is not a folder`);
  return readdirSync(dir).length > 0;
}

/** The path itself or its nearest ancestor that exists. */
function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Whether an export may go to `out` (missing, an empty folder, or forced), without writing anything;
 * the absolute path, or an Error naming the path and the reason.
 */
export function checkDestination(out: string, force: boolean): string {
  const abs = resolve(out);
  if (nonEmptyFolder(abs) && !force)
    throw new Error(`${abs}: exists and is not empty (use --force to replace it)`);
  const blocker = nearestExisting(dirname(abs));
  if (!statSync(blocker).isDirectory())
    throw new Error(`${abs}: cannot write the export folder here (${blocker} is not a folder)`);
  return abs;
}

/** `<out>.partial-*` folders beside `out` (what unfinished exports to it left). */
export function partialFolders(out: string): string[] {
  const dir = dirname(resolve(out));
  const prefix = `${basename(resolve(out))}.partial-`;
  try {
    return readdirSync(dir)
      .filter((n) => n.startsWith(prefix))
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

export class StagedExport {
  readonly out: string;
  readonly temp: string;
  private readonly files: StagedFile[] = [];

  /** Checks the destination and makes the partial folder; nothing else is created on failure. */
  constructor(
    out: string,
    readonly force: boolean,
  ) {
    this.out = checkDestination(out, force);
    this.temp = `${this.out}.partial-${process.pid}`;
    try {
      mkdirSync(dirname(this.out), { recursive: true });
      rmSync(this.temp, { recursive: true, force: true });
      mkdirSync(this.temp);
    } catch (err) {
      throw new Error(`${this.out}: cannot write the export folder here (${why(err)})`, { cause: err });
    }
  }

  /** Writes one file under the partial folder and records its size and checksum. */
  write(rel: string, data: Uint8Array | string): StagedFile {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const file = join(this.temp, ...rel.split('/'));
    if (!file.startsWith(this.temp + sep)) throw new Error(`${rel}: not a path inside the export`);
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    } catch (err) {
      throw new Error(`${join(this.out, rel)}: cannot write (${why(err)})`, { cause: err });
    }
    const rec = { path: rel, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
    this.files.push(rec);
    return rec;
  }

  /** The files written so far, by path. */
  written(): StagedFile[] {
    return [...this.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Renames the partial folder into place (replacing a forced or empty `<out>`). */
  commit(): void {
    const aside = `${this.out}.old-${process.pid}`;
    let moved = false;
    try {
      if (existsSync(this.out)) {
        if (nonEmptyFolder(this.out) && !this.force)
          throw new Error(`${this.out}: exists and is not empty (use --force to replace it)`);
        rmSync(aside, { recursive: true, force: true });
        renameSync(this.out, aside);
        moved = true;
      }
      renameSync(this.temp, this.out);
    } catch (err) {
      if (moved && !existsSync(this.out)) renameSync(aside, this.out);
      this.discard();
      if ((err as Error).message.startsWith(this.out)) throw err;
      throw new Error(`${this.out}: cannot move the export into place (${why(err)})`, { cause: err });
    }
    if (moved) rmSync(aside, { recursive: true, force: true });
  }

  /** Removes the partial folder (idempotent). */
  discard(): void {
    rmSync(this.temp, { recursive: true, force: true });
  }
}
