import type { Command } from 'commander';
import { resolve } from 'node:path';
import {
  BODY_MODEL_SLOT_LABELS,
  BODY_MODEL_SLOTS,
  type BodyModelInfo,
  type BodyModelSlot,
  type Settings,
} from '../../preload/api';
import { dispatch } from '../api/handlers';
import type { Output } from './output';
import { withLibrary, type CliGlobals as Globals } from './library-context';

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
      withLibrary(globals(), async (ctx, out) => {
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
      withLibrary(globals(), async (ctx, out) => {
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
