import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';

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
