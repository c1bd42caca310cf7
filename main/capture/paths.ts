import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ImportError } from './errors';

/**
 * Resolves a path named by a session's own files (manifest, calibration) inside the session folder.
 * Absolute paths, `..` escapes and symlinks that lead outside are refused: a session folder must be
 * self-contained so that importing it can never read (or later serve) arbitrary files.
 */
export function resolveInside(root: string, rel: string, namedBy: string): string {
  if (typeof rel !== 'string' || rel.length === 0) {
    throw new ImportError(namedBy, `empty path`);
  }
  if (isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel)) {
    throw new ImportError(namedBy, `path "${rel}" is absolute; paths must be relative to the session folder`);
  }
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, rel);
  if (!isWithin(realRoot, target)) {
    throw new ImportError(namedBy, `path "${rel}" escapes the session folder`);
  }
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new ImportError(namedBy, `path "${rel}" does not exist in the session folder`, 'not-found');
  }
  if (!isWithin(realRoot, real)) {
    throw new ImportError(namedBy, `path "${rel}" links outside the session folder`);
  }
  return real;
}

export function isWithin(root: string, target: string): boolean {
  const r = relative(root, target);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r));
}
