import { resolve } from 'node:path';
import { createContext, type AppContext } from '../api/context';
import { sessionRoot } from '../capture/plan';
import { findSessionBySource } from '../store/sessions';
import { Output } from './output';

export interface CliGlobals {
  dataDir: string;
  json: boolean;
}

/**
 * Opens the library (the same context the UI's API uses), runs `fn`, closes it and exits with fn's code
 * (0 when it returns nothing); an error becomes one clear message and exit code 1.
 */
export async function withLibrary(
  globals: CliGlobals,
  fn: (ctx: AppContext, out: Output) => Promise<number | void>,
): Promise<never> {
  const out = new Output(globals.json);
  let code: number;
  let ctx: AppContext | null = null;
  try {
    ctx = await createContext({
      dataDir: resolve(globals.dataDir),
      transport: 'web',
      mediaUrl: (id) => `/media/${id}`,
    });
    code = (await fn(ctx, out)) ?? 0;
  } catch (err) {
    out.error((err as Error).message);
    code = 1;
  } finally {
    await ctx?.close().catch(() => undefined);
  }
  process.exit(code);
}

/** A session argument: its library id, or the folder it was imported from. */
export async function resolveSessionArg(ctx: AppContext, session: string): Promise<number> {
  if (/^\d+$/.test(session)) return Number(session);
  const found = await findSessionBySource(ctx.db, sessionRoot(resolve(session)));
  if (!found) throw new Error(`${resolve(session)}: not in the library (import it first)`);
  return found.id;
}
