import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';

/** Shared by the e2e specs: `studio serve` as a child process, page error watching, the frame counter. */
export const repoRoot = path.resolve(__dirname, '../..');

let server: ChildProcess | null = null;
let serverLog = '';

/** Starts `studio serve` and resolves with the URL from the JSON line it prints once listening. */
export function startServer(dir: string): Promise<string> {
  // The server serves the built renderer; without it every page is a 404, so say what to run.
  if (!existsSync(path.join(repoRoot, 'out/renderer/index.html')))
    return Promise.reject(new Error('out/renderer is not built: run `npm run build` first'));
  return new Promise((resolve, reject) => {
    // detached: npx -> tsx -> node is a process tree; its own group lets afterAll stop all of it.
    const child = spawn(
      'npx',
      ['tsx', 'main/cli/index.ts', 'serve', '--data-dir', dir, '--port', '0', '--json'],
      {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    server = child;
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not print its URL in 90 s:\n${serverLog}`)),
      90_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      serverLog += text;
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const trimmed = line.trim();
        if (!trimmed.startsWith('{')) continue;
        try {
          const info = JSON.parse(trimmed) as { url?: string };
          if (info.url) {
            clearTimeout(timer);
            resolve(info.url);
          }
        } catch {
          // Not the status line; keep reading.
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      serverLog += chunk.toString();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}):\n${serverLog}`));
    });
  });
}

/** Stops the server started by startServer, then removes `removeDir` (the spec's temp folder) if given. */
export function stopServer(removeDir?: string): void {
  if (server?.pid && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      server.kill('SIGTERM');
    }
  }
  if (removeDir) rmSync(removeDir, { recursive: true, force: true });
}

/** Fails the test on uncaught page errors, and keeps console errors in the report for diagnosis. */
export function watchPage(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[browser] ${msg.text()}`);
  });
  return errors;
}

export async function frameCounter(page: Page): Promise<{ frame: number; total: number }> {
  const text = (await page.getByTestId('frame-counter').textContent()) ?? '';
  const m = /Frame\s+(\d+)\s*\/\s*(\d+)/.exec(text);
  if (!m) throw new Error(`unexpected frame counter text: ${JSON.stringify(text)}`);
  return { frame: Number(m[1]), total: Number(m[2]) };
}
