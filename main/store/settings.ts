import { BODY_MODEL_SLOTS, type Settings } from '../../preload/api';
import type { Db } from './db';

type SettingKey = keyof Settings;

/** What an unset key reads as; also the list of known keys. */
export const DEFAULT_SETTINGS: Settings = { bodyModels: { smpl: null, smplh: null, smplx: null } };

const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as string[]).includes(key);
}

/** Checks a stored or requested value's shape; `where` names its origin in the error. */
const PARSERS: { [K in SettingKey]: (value: unknown, where: string) => Settings[K] } = {
  bodyModels: (value, where) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`${where}: bodyModels must be an object of model paths`);
    const v = value as Record<string, unknown>;
    for (const k of Object.keys(v))
      if (!(BODY_MODEL_SLOTS as readonly string[]).includes(k))
        throw new Error(
          `${where}: bodyModels has an unknown slot "${k}" (expected ${BODY_MODEL_SLOTS.join(', ')})`,
        );
    const slot = (k: (typeof BODY_MODEL_SLOTS)[number]): string | null => {
      const p = v[k] ?? null;
      if (p !== null && typeof p !== 'string')
        throw new Error(`${where}: bodyModels.${k} must be a file path or null`);
      return p;
    };
    return { smpl: slot('smpl'), smplh: slot('smplh'), smplx: slot('smplx') };
  },
};

/** Every setting, defaults filled in. Rows of keys this app does not know (a newer app's) are left alone. */
export async function getSettings(db: Db): Promise<Settings> {
  const rows = await db.all<{ key: string; value: string }>('SELECT key, value FROM settings');
  const out = structuredClone(DEFAULT_SETTINGS);
  for (const { key, value } of rows) {
    if (!isSettingKey(key)) continue;
    const where = `${db.path}: setting "${key}"`;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch (err) {
      throw new Error(`${where} is not JSON (${(err as Error).message})`, { cause: err });
    }
    // One assignment per key keeps the key-value pairing typed.
    (out as Record<SettingKey, unknown>)[key] = PARSERS[key](json, where);
  }
  return out;
}

export async function getSetting<K extends SettingKey>(db: Db, key: K): Promise<Settings[K]> {
  return (await getSettings(db))[key];
}

/**
 * Replaces the given top-level settings atomically and returns them all. An unknown key or a value of
 * the wrong shape is refused before anything is written.
 */
export async function setSettings(db: Db, patch: Partial<Settings>): Promise<Settings> {
  const rows: [SettingKey, string][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (!isSettingKey(key)) throw new Error(`unknown setting "${key}" (known: ${SETTING_KEYS.join(', ')})`);
    if (value === undefined) continue;
    rows.push([key, JSON.stringify(PARSERS[key](value, `setting "${key}"`))]);
  }
  await db.transaction(async () => {
    for (const [key, value] of rows)
      await db.run(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        [key, value],
      );
  });
  return getSettings(db);
}
