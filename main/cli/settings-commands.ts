import type { Command } from 'commander';
import { resolve } from 'node:path';
import {
  BODY_MODEL_SLOT_LABELS,
  BODY_MODEL_SLOTS,
  type BodyModelInfo,
  type BodyModelSlot,
  type Settings,
} from '../../preload/api';
import { createContext, type AppContext } from '../api/context';
import { dispatch } from '../api/handlers';
import { Output } from './output';

interface Globals {
  dataDir: string;
  json: boolean;
}

/** Runs `fn` on the library through the API dispatch (the same validation as the UI), then exits. */
async function withApi(
  globals: Globals,
  fn: (ctx: AppContext, out: Output) => Promise<void>,
): Promise<never> {
  const out = new Output(globals.json);
  let code = 0;
  let ctx: AppContext | null = null;
  try {
    ctx = await createContext({
      dataDir: resolve(globals.dataDir),
      transport: 'web',
      mediaUrl: (id) => `/media/${id}`,
    });
    await fn(ctx, out);
  } catch (err) {
    out.error((err as Error).message);
    code = 1;
  } finally {
    await ctx?.close().catch(() => undefined);
  }
  process.exit(code);
}

function printModels(out: Output, settings: Settings, models: BodyModelInfo[]): void {
  for (const slot of BODY_MODEL_SLOTS)
    out.info(`${BODY_MODEL_SLOT_LABELS[slot].padEnd(7)} ${settings.bodyModels[slot] ?? '(not set)'}`);
  out.info('body models:');
  for (const m of models) {
    out.info(
      m.ok
        ? `  ${m.id}\t${m.name}\t${m.vertices} vertices, ${m.joints} joints, ${m.betas} betas\t${m.file}`
        : `  ${m.id}\tERROR\t${m.error}`,
    );
  }
}

/** `studio settings` (print) and `studio settings set-model <slot> <file|none>`. */
export function registerSettingsCommands(program: Command, globals: () => Globals): void {
  const settings = program
    .command('settings')
    .description('show or change settings (your SMPL-family model files)');
  settings
    .command('show', { isDefault: true })
    .description('print the settings and the body models they give')
    .action(() =>
      withApi(globals(), async (ctx, out) => {
        const s = (await dispatch(ctx, 'getSettings', {})) as Settings;
        const models = (await dispatch(ctx, 'listBodyModels', {})) as BodyModelInfo[];
        printModels(out, s, models);
        out.result({ settings: s, bodyModels: models });
      }),
    );
  settings
    .command('set-model <slot> <file>')
    .description(
      `set a model slot (${BODY_MODEL_SLOTS.join(' | ')}) to a .npz / .pkl file, or "none" to clear it`,
    )
    .action((slot: string, file: string) =>
      withApi(globals(), async (ctx, out) => {
        if (!(BODY_MODEL_SLOTS as readonly string[]).includes(slot))
          throw new Error(`unknown model slot "${slot}" (expected ${BODY_MODEL_SLOTS.join(', ')})`);
        const current = (await dispatch(ctx, 'getSettings', {})) as Settings;
        const bodyModels = {
          ...current.bodyModels,
          [slot as BodyModelSlot]: file === 'none' ? null : resolve(file),
        };
        const s = (await dispatch(ctx, 'setSettings', { bodyModels })) as Settings;
        const models = (await dispatch(ctx, 'listBodyModels', {})) as BodyModelInfo[];
        printModels(out, s, models);
        out.result({ settings: s, bodyModels: models });
      }),
    );
}
