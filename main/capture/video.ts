import { statSync } from 'node:fs';
import { extname } from 'node:path';
import type { VideoInfo } from '../../preload/api';
import { ImportError } from './errors';
import { FFMPEG_PATH, FFPROBE_PATH, runTool } from './ffmpeg';

export interface ProbedVideo extends VideoInfo {
  path: string;
  mime: string;
  sizeBytes: number;
}

const MIME: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo',
};

/**
 * Probes a video with the bundled ffprobe, counting packets so the frame count is real, not the
 * container's claim: a truncated file (header promising more frames than the data holds) is refused.
 */
export async function probeVideo(path: string, signal?: AbortSignal): Promise<ProbedVideo> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ImportError(path, 'video file does not exist', 'not-found');
  }
  if (size === 0) throw new ImportError(path, 'video file is empty');
  const res = await runTool(
    FFPROBE_PATH,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=codec_name,width,height,r_frame_rate,nb_frames,nb_read_packets,duration:format=duration',
      '-of',
      'json',
      path,
    ],
    signal,
  );
  const detail = res.stderr.trim().split('\n').slice(-2).join(' ').replace(path, '').trim();
  if (res.code !== 0)
    throw new ImportError(path, `cannot read video (${detail || `ffprobe exit ${res.code}`})`);
  type Probe = {
    streams?: {
      codec_name?: string;
      width?: number;
      height?: number;
      r_frame_rate?: string;
      nb_frames?: string;
      nb_read_packets?: string;
      duration?: string;
    }[];
    format?: { duration?: string };
  };
  const doc = JSON.parse(res.stdout.toString()) as Probe;
  const s = doc.streams?.[0];
  if (!s) throw new ImportError(path, 'has no video stream');
  const [num, den] = (s.r_frame_rate ?? '0/1').split('/').map(Number);
  const read = Number(s.nb_read_packets ?? NaN);
  const claimed = Number(s.nb_frames ?? NaN);
  if (!(num > 0 && den > 0)) throw new ImportError(path, `has no usable frame rate (${s.r_frame_rate})`);
  if (!(read > 0)) throw new ImportError(path, 'contains no video frames');
  if (Number.isFinite(claimed) && read < claimed) {
    throw new ImportError(
      path,
      `is truncated: the header lists ${claimed} frames but only ${read} are present`,
    );
  }
  if (detail) throw new ImportError(path, `is damaged (${detail})`);
  const durationS = Number(s.duration ?? doc.format?.duration ?? read * (den / num));
  return {
    path,
    mime: MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
    sizeBytes: size,
    fpsNum: num,
    fpsDen: den,
    frameCount: read,
    width: s.width ?? 0,
    height: s.height ?? 0,
    durationS,
    codec: s.codec_name ?? 'unknown',
  };
}

/** First frame as a small JPEG; also proves the stream decodes. */
export async function videoThumbnail(path: string, width = 240, signal?: AbortSignal): Promise<Buffer> {
  const res = await runTool(
    FFMPEG_PATH,
    [
      '-v',
      'error',
      '-i',
      path,
      '-frames:v',
      '1',
      '-vf',
      `scale=${width}:-2`,
      '-f',
      'image2pipe',
      '-vcodec',
      'mjpeg',
      '-q:v',
      '4',
      '-',
    ],
    signal,
  );
  if (res.code !== 0 || res.stdout.length === 0) {
    throw new ImportError(
      path,
      `cannot decode the first frame (${res.stderr.trim().split('\n').pop() ?? 'no output'})`,
    );
  }
  return res.stdout;
}
