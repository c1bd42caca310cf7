import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CancelledError, throwIfAborted } from './errors';
import { FFMPEG_PATH, FFPROBE_PATH, runTool } from './ffmpeg';
import { probeVideo } from './video';

/**
 * Videos and images as 8-bit grey frames, decoded by the bundled ffmpeg: one still, one frame of a
 * video, or a stream of frames with back-pressure. What calibration and localisation look at.
 */

export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface FrameSourceItem {
  index: number;
  gray: GrayImage;
}

/**
 * The frames of a video as 8-bit grey images, streamed from ffmpeg (`-f rawvideo -pix_fmt gray`): the
 * pipe is read only as fast as frames are consumed, so the video is never held in memory. The yielded
 * image's data is reused for the next frame (copy it to keep it). Aborting kills ffmpeg and throws
 * CancelledError; so does leaving the loop early (ffmpeg is killed). Errors name the file.
 */
export async function* decodeGrayFrames(
  video: string,
  width: number,
  height: number,
  signal?: AbortSignal,
): AsyncGenerator<FrameSourceItem> {
  throwIfAborted(signal);
  const info = await probeVideo(video, signal);
  if (info.width !== width || info.height !== height) {
    throw new Error(`${video}: video is ${info.width}x${info.height}, expected ${width}x${height}`);
  }
  const child = spawn(
    FFMPEG_PATH,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      stderr += err.message;
      resolve(-1);
    });
    child.on('close', (code) => resolve(code));
  });
  const kill = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', kill);
  const frameBytes = width * height;
  const data = new Uint8Array(frameBytes);
  const gray: GrayImage = { width, height, data };
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        data.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          throwIfAborted(signal);
          yield { index: index++, gray };
          filled = 0;
        }
      }
    }
    const code = await exited;
    throwIfAborted(signal);
    if (code !== 0) {
      const detail = stderr.trim().split('\n').slice(-2).join(' ').replace(video, '').trim();
      throw new Error(`${video}: ffmpeg could not decode the video (${detail || `exit ${code}`})`);
    }
    if (filled !== 0)
      throw new Error(`${video}: ends with a partial ${width}x${height} frame (${filled} bytes)`);
    if (index === 0) throw new Error(`${video}: decoded no frames`);
  } catch (err) {
    throw signal?.aborted ? new CancelledError() : err;
  } finally {
    signal?.removeEventListener('abort', kill);
    if (child.exitCode === null && child.signalCode === null) kill();
  }
}

/**
 * Frame `frame` (0-based, in decode order) of a video as 8-bit grey: ffmpeg's select filter keeps that
 * one frame (`select=eq(n\,N)`), `-frames:v 1` stops right after it. Errors name the file.
 */
export async function decodeGrayFrameAt(
  video: string,
  width: number,
  height: number,
  frame: number,
  signal?: AbortSignal,
): Promise<GrayImage> {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', video, '-an'];
  args.push('-vf', `select=eq(n\\,${frame})`, '-vsync', '0', '-frames:v', '1');
  args.push('-f', 'rawvideo', '-pix_fmt', 'gray', '-');
  const res = await runTool(FFMPEG_PATH, args, signal);
  const size = width * height;
  if (res.code !== 0) {
    const detail = res.stderr.trim().split('\n').slice(-2).join(' ').replace(video, '').trim();
    throw new Error(`${video}: ffmpeg could not decode frame ${frame} (${detail || `exit ${res.code}`})`);
  }
  if (res.stdout.length === 0) throw new Error(`${video}: has no frame ${frame}`);
  if (res.stdout.length !== size) {
    throw new Error(
      `${video}: frame ${frame} is ${res.stdout.length} bytes of grey, expected ${width}x${height} = ${size}`,
    );
  }
  return { width, height, data: new Uint8Array(res.stdout.buffer, res.stdout.byteOffset, size) };
}

/** Width and height of the first video stream of an image or video file (ffprobe). */
export async function probeSize(path: string): Promise<{ width: number; height: number; frames: number }> {
  const res = await runTool(FFPROBE_PATH, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height,nb_frames',
    '-of',
    'json',
    path,
  ]);
  const s =
    res.code === 0 ? (JSON.parse(res.stdout.toString()) as { streams?: any[] }).streams?.[0] : undefined;
  if (!s || !(s.width > 0 && s.height > 0)) {
    const why = res.stderr.trim().split('\n').pop() || 'no video stream';
    throw new Error(`${path}: cannot read as an image or video (${why})`);
  }
  return { width: s.width, height: s.height, frames: Number(s.nb_frames) || 0 };
}

/** Decodes a still image to 8-bit gray with ffmpeg. */
export async function decodeGrayImage(path: string): Promise<GrayImage> {
  if (!existsSync(path)) throw new Error(`${path}: image file does not exist`);
  const { width, height } = await probeSize(path);
  const args = ['-v', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'];
  const res = await runTool(FFMPEG_PATH, args);
  if (res.code !== 0 || res.stdout.length !== width * height) {
    throw new Error(
      `${path}: cannot decode (${res.stderr.trim().split('\n').pop() || `${res.stdout.length} bytes`})`,
    );
  }
  return { width, height, data: new Uint8Array(res.stdout.buffer, res.stdout.byteOffset, res.stdout.length) };
}

/**
 * Decodes every `every`-th frame (0, every, 2 every, ...) of a video to gray and hands each to onFrame
 * as it arrives (one reused buffer: onFrame must not keep it). Returns the number of frames handed over.
 */
export async function forEachGrayFrame(
  path: string,
  every: number,
  onFrame: (frame: number, image: GrayImage) => void,
): Promise<number> {
  if (!existsSync(path)) throw new Error(`${path}: video file does not exist`);
  const { width, height } = await probeSize(path);
  const size = width * height;
  const frame = new Uint8Array(size);
  const image: GrayImage = { width, height, data: frame };
  const args = ['-v', 'error', '-i', path, '-an', '-vf', `select=not(mod(n\\,${every}))`];
  args.push('-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-');
  const child = spawn(FFMPEG_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let filled = 0;
  let count = 0;
  let failure: Error | null = null;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8000) stderr += d.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    for (let off = 0; off < chunk.length && !failure;) {
      const n = Math.min(size - filled, chunk.length - off);
      frame.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled < size) continue;
      filled = 0;
      try {
        onFrame(count * every, image);
      } catch (err) {
        failure = err as Error;
        child.kill();
      }
      count++;
    }
  });
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', res);
  });
  if (failure) throw failure;
  if (code !== 0)
    throw new Error(`${path}: cannot decode video (${stderr.trim().split('\n').pop() || code})`);
  if (count === 0) throw new Error(`${path}: contains no video frames`);
  return count;
}
