import { spawn } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { FFMPEG_PATH } from '../ffmpeg';

/**
 * Raw frames piped into ffmpeg (libx264) to make an H.264 .mp4 that Chromium plays: yuv420p, BT.709
 * limited range (tagged in the stream), moov atom first (+faststart). ffmpeg writes `<path>.partial`,
 * renamed to `path` only once it exits cleanly, so a killed or failed writer never leaves a file under
 * the final name.
 */

export type RawPixFmt = 'gray' | 'rgb24' | 'yuv420p';

export interface VideoWriterOptions {
  width: number;
  height: number;
  /** Frames per second: a number or a rational string such as '30000/1001'. */
  fps: number | string;
  /** Layout of the frames passed to write(). */
  pixFmt: RawPixFmt;
  /** x264 constant rate factor (0..51, default 20). */
  crf?: number;
  /** x264 preset (default 'ultrafast'). */
  preset?: 'ultrafast' | 'superfast' | 'veryfast';
  /** Keyframe interval in frames (default 30). */
  gop?: number;
  /** Aborts the encode (as abort()). */
  signal?: AbortSignal;
}

export interface VideoWriter {
  readonly path: string;
  /** Bytes per frame that write() expects. */
  readonly frameBytes: number;
  /** ffmpeg's process id (undefined if it could not start). */
  readonly pid: number | undefined;
  /** Queues one frame; resolves once ffmpeg's pipe has taken it, so the buffer may then be reused. */
  write(frame: Uint8Array): Promise<void>;
  /** Ends the stream and waits for ffmpeg; rejects with its stderr tail (and removes the partial file) on failure. */
  close(): Promise<void>;
  /** Kills ffmpeg and removes the partial file. */
  abort(): Promise<void>;
}

/** Size in bytes of one raw frame. */
export function rawFrameBytes(pixFmt: RawPixFmt, width: number, height: number): number {
  const n = width * height;
  return pixFmt === 'gray' ? n : pixFmt === 'rgb24' ? 3 * n : n + 2 * ((width >> 1) * (height >> 1));
}

function ffmpegArgs(o: VideoWriterOptions, out: string): string[] {
  // Raw gray/rgb input is converted by ffmpeg with the same matrix our own yuv420p frames use (BT.709).
  const convert =
    o.pixFmt === 'yuv420p' ? [] : ['-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p'];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    o.pixFmt,
    '-s',
    `${o.width}x${o.height}`,
    '-framerate',
    String(o.fps),
    '-i',
    'pipe:0',
    '-an',
    ...convert,
    '-filter_threads',
    '1',
    '-c:v',
    'libx264',
    '-preset',
    o.preset ?? 'ultrafast',
    '-crf',
    String(o.crf ?? 20),
    '-g',
    String(o.gop ?? 30),
    // One encoder thread: the sample runs several encoders at once, and the bitstream is reproducible.
    '-threads',
    '1',
    '-pix_fmt',
    'yuv420p',
    '-colorspace',
    'bt709',
    '-color_primaries',
    'bt709',
    '-color_trc',
    'bt709',
    '-color_range',
    'tv',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    out,
  ];
}

function checkOptions(path: string, o: VideoWriterOptions): void {
  const bad = (what: string) => new Error(`video writer ${path}: ${what}`);
  if (!(Number.isInteger(o.width) && Number.isInteger(o.height) && o.width > 0 && o.height > 0)) {
    throw bad(`invalid frame size ${o.width}x${o.height}`);
  }
  if (o.width % 2 || o.height % 2) throw bad(`frame size ${o.width}x${o.height} must be even for yuv420p`);
  if (!['gray', 'rgb24', 'yuv420p'].includes(o.pixFmt)) throw bad(`unsupported pixel format ${o.pixFmt}`);
  const fps = String(o.fps);
  if (!/^\d+(\.\d+)?(\/\d+)?$/.test(fps) || !(evalRational(fps) > 0)) throw bad(`invalid fps ${fps}`);
  if (o.crf !== undefined && !(o.crf >= 0 && o.crf <= 51)) throw bad(`crf ${o.crf} is outside 0..51`);
  if (o.gop !== undefined && !(Number.isInteger(o.gop) && o.gop > 0)) throw bad(`invalid gop ${o.gop}`);
}

function evalRational(s: string): number {
  const [n, d] = s.split('/').map(Number);
  return d === undefined ? n : n / d;
}

/** Starts ffmpeg encoding raw frames to `path` (an .mp4, written as `<path>.partial` until close()). */
export function openVideoWriter(path: string, options: VideoWriterOptions): VideoWriter {
  checkOptions(path, options);
  const partial = `${path}.partial`;
  const frameBytes = rawFrameBytes(options.pixFmt, options.width, options.height);
  const child = spawn(FFMPEG_PATH, ffmpegArgs(options, partial), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  let spawnError: Error | null = null;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let exited = false;
  /** Writes the pipe has not taken yet; ffmpeg exiting fails them. */
  const pending = new Set<() => void>();
  void exit.then(() => {
    exited = true;
    for (const fail of pending) fail();
  });
  // EPIPE when ffmpeg dies early; the failure is reported from its exit status and stderr instead.
  child.stdin.on('error', () => undefined);

  const failure = async (): Promise<Error> => {
    const { code, signal } = await exit;
    const tail = stderr.trim().split('\n').slice(-6).join('\n');
    const why = spawnError
      ? `cannot start ffmpeg (${(spawnError as Error).message})`
      : `ffmpeg ${signal ? `was killed (${signal})` : `exited with code ${code}`}`;
    return new Error(`video writer ${path}: ${why}${tail ? `: ${tail}` : ''}`);
  };
  const removePartial = () => rmSync(partial, { force: true });

  let closing: Promise<void> | null = null;
  let aborted = false;
  const abort = async (): Promise<void> => {
    aborted = true;
    if (!exited) child.kill('SIGKILL');
    await exit;
    removePartial();
  };
  if (options.signal?.aborted) void abort();
  else options.signal?.addEventListener('abort', () => void abort(), { once: true });

  return {
    path,
    frameBytes,
    pid: child.pid,
    write(frame: Uint8Array): Promise<void> {
      if (closing || aborted) return Promise.reject(new Error(`video writer ${path}: write after close`));
      if (frame.length !== frameBytes) {
        return Promise.reject(
          new Error(
            `video writer ${path}: frame has ${frame.length} bytes, expected ${frameBytes} ` +
              `(${options.pixFmt} ${options.width}x${options.height})`,
          ),
        );
      }
      if (exited) return failure().then((e) => Promise.reject(e));
      return new Promise<void>((resolve, reject) => {
        const fail = () => {
          pending.delete(fail);
          void failure().then(reject);
        };
        pending.add(fail);
        // The callback runs once the pipe has taken the chunk (back-pressure): the caller may reuse it.
        child.stdin.write(frame, (err) => {
          if (!pending.has(fail)) return;
          if (err) return fail();
          pending.delete(fail);
          resolve();
        });
      });
    },
    close(): Promise<void> {
      closing ??= (async () => {
        if (!aborted && !exited) child.stdin.end();
        const { code } = await exit;
        if (aborted || code !== 0) {
          removePartial();
          throw aborted ? new Error(`video writer ${path}: aborted`) : await failure();
        }
        try {
          renameSync(partial, path);
        } catch (e) {
          removePartial();
          throw new Error(
            `video writer ${path}: cannot rename the finished ${partial} (${(e as Error).message})`,
            { cause: e },
          );
        }
      })();
      return closing;
    },
    abort,
  };
}

/**
 * RGB (3 bytes per pixel) -> yuv420p, BT.709 limited range, over the box [x0, x1] x [y0, y1] (x0, y0 even;
 * x1, y1 odd; inclusive). Fixed point at 2^16: Y = 16 + 0.1826 R + 0.6142 G + 0.0620 B,
 * Cb = 128 - 0.1006 R - 0.3386 G + 0.4392 B, Cr = 128 + 0.4392 R - 0.3989 G - 0.0403 B (chroma from the
 * 2x2 block mean).
 */
export function rgbToYuv420p(
  rgb: Uint8Array,
  width: number,
  height: number,
  out: Uint8Array,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): void {
  const cw = width >> 1;
  const uBase = width * height,
    vBase = uBase + cw * (height >> 1);
  for (let y = y0; y < y1; y += 2) {
    const row0 = y * width,
      row1 = row0 + width;
    const crow = (y >> 1) * cw;
    for (let x = x0; x < x1; x += 2) {
      const i00 = row0 + x,
        i01 = i00 + 1,
        i10 = row1 + x,
        i11 = i10 + 1;
      let k = 3 * i00;
      let r = rgb[k],
        g = rgb[k + 1],
        b = rgb[k + 2];
      let sr = r,
        sg = g,
        sb = b;
      out[i00] = (11966 * r + 40254 * g + 4064 * b + 1081344) >> 16;
      k = 3 * i01;
      r = rgb[k];
      g = rgb[k + 1];
      b = rgb[k + 2];
      sr += r;
      sg += g;
      sb += b;
      out[i01] = (11966 * r + 40254 * g + 4064 * b + 1081344) >> 16;
      k = 3 * i10;
      r = rgb[k];
      g = rgb[k + 1];
      b = rgb[k + 2];
      sr += r;
      sg += g;
      sb += b;
      out[i10] = (11966 * r + 40254 * g + 4064 * b + 1081344) >> 16;
      k = 3 * i11;
      r = rgb[k];
      g = rgb[k + 1];
      b = rgb[k + 2];
      sr += r;
      sg += g;
      sb += b;
      out[i11] = (11966 * r + 40254 * g + 4064 * b + 1081344) >> 16;
      // Sums of 4 pixels: shift by 18 = 16 + log2(4); 128 << 18 offset plus half for rounding.
      const c = crow + (x >> 1);
      out[uBase + c] = (-6596 * sr - 22188 * sg + 28784 * sb + 33685504) >> 18;
      out[vBase + c] = (28784 * sr - 26145 * sg - 2639 * sb + 33685504) >> 18;
    }
  }
}
