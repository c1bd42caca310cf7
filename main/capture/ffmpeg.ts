import { spawn } from 'node:child_process';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';

/** Paths of the ffmpeg/ffprobe binaries shipped in npm packages (no system install needed). */
export const FFMPEG_PATH: string = ffmpegInstaller.path.replace('app.asar', 'app.asar.unpacked');
export const FFPROBE_PATH: string = ffprobeInstaller.path.replace('app.asar', 'app.asar.unpacked');

export interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a bundled tool to completion, killing it when `signal` aborts. */
export function runTool(bin: string, args: string[], signal?: AbortSignal): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 64_000) err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}
