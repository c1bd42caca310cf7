import { createHash } from 'node:crypto';

/**
 * JSON with every object's keys in code-unit order, so the same content is the same bytes whatever
 * order the object was built in (exports are compared and hashed byte for byte).
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, x: unknown) =>
      x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : x,
    indent,
  );
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
