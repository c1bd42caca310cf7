import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The project folder (where package.json names motion-studio), from source or from out/main. */
export function findAppRoot(start: string = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'motion-studio'
    ) {
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
