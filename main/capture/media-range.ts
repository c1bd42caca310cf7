import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Db } from '../store/db';
import { getMediaById } from '../store/sessions';

export interface RangeReply {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  body: Readable | null;
}

/**
 * Answers a (possibly ranged) GET for a media file, as both the web server and Electron's media
 * protocol need: <video> seeks with `Range: bytes=a-b` and expects 206 with Content-Range.
 */
export function serveRange(path: string, mime: string, rangeHeader: string | undefined | null): RangeReply {
  const size = statSync(path).size;
  const base = { 'content-type': mime, 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
  if (!rangeHeader) {
    return {
      status: 200,
      headers: { ...base, 'content-length': String(size) },
      body: createReadStream(path),
    };
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim());
  let start = m && m[1] !== '' ? Number(m[1]) : NaN;
  let end = m && m[2] !== '' ? Number(m[2]) : size - 1;
  if (m && m[1] === '' && m[2] !== '') {
    // Suffix range: the last N bytes.
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  }
  end = Math.min(end, size - 1);
  if (!m || !(start >= 0) || start > end) {
    return { status: 416, headers: { ...base, 'content-range': `bytes */${size}` }, body: null };
  }
  return {
    status: 206,
    headers: {
      ...base,
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': String(end - start + 1),
    },
    body: createReadStream(path, { start, end }),
  };
}

/**
 * The one way a transport reaches a file: by the id of a media row registered for a ready session.
 * Null when there is no such row, so nothing outside the library is ever served.
 */
export async function serveRegisteredMedia(
  db: Db,
  mediaId: number,
  rangeHeader: string | undefined | null,
): Promise<RangeReply | null> {
  const media = Number.isInteger(mediaId) ? await getMediaById(db, mediaId) : undefined;
  return media ? serveRange(media.path, media.mime, rangeHeader) : null;
}
