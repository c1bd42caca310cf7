import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread: the bundled `<name>.js` in a build (out/main or a chunk folder under it),
 * else the TypeScript source through tsx (development, tests, `npm run studio`).
 */
export function spawnWorker(name: string, sourceDir: string, builtDir: string, workerData: unknown): Worker {
  for (const built of [join(builtDir, `${name}.js`), join(builtDir, '..', `${name}.js`)]) {
    if (existsSync(built)) return new Worker(built, { workerData });
  }
  const source = join(sourceDir, `${name}.ts`);
  const bootstrap = `require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { eval: true, workerData });
}
