import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  boardBitmap,
  boardPdf,
  boardPng,
  crc32,
  pixelsPerSquare,
  type BoardBitmap,
} from '../../main/calibration/board-print';
import {
  boardCornersLocal,
  boardImage,
  detectCharuco,
  type BoardSpec,
} from '../../main/calibration/charuco-board';
import { loadOpenCv, type GrayImage, type OpenCv } from '../../main/calibration/opencv';
import { FFMPEG_PATH, runTool } from '../../main/capture/ffmpeg';
import { sampleBoards } from '../../main/capture/sample/scene';
import { cleanupTempDirs, tempDir, TUTORIAL_BOARD } from './fixtures';

const LEGACY: BoardSpec = {
  ...TUTORIAL_BOARD,
  name: 'legacy (5x6)',
  dictionary: 'DICT_4X4_50',
  squaresY: 6,
  squareLength: 0.03,
  markerLength: 0.022,
  legacyPattern: true,
  firstMarkerId: 20,
};

let cv: OpenCv;
beforeAll(async () => {
  cv = await loadOpenCv();
});
afterAll(cleanupTempDirs);

/** 0 / 255 per pixel. */
function toGray(bm: BoardBitmap): GrayImage {
  const data = new Uint8Array(bm.width * bm.height);
  for (let y = 0; y < bm.height; y++) {
    for (let x = 0; x < bm.width; x++) {
      data[y * bm.width + x] = (bm.bits[y * bm.rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? 255 : 0;
    }
  }
  return { width: bm.width, height: bm.height, data };
}

interface Png {
  chunks: { type: string; data: Buffer }[];
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  pixelsPerMetre: number;
  gray: GrayImage;
}

/** A strict reader of what boardPng writes: signature, chunk CRCs, IHDR, pHYs, filter-0 rows of 1 bit. */
function readPng(png: Uint8Array): Png {
  const buf = Buffer.from(png);
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const chunks: Png['chunks'] = [];
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    expect(buf.readUInt32BE(at + 8 + len), `${type} CRC`).toBe(crc32(buf.subarray(at + 4, at + 8), data));
    chunks.push({ type, data });
    at += 12 + len;
  }
  const ihdr = chunks[0].data;
  const [width, height] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)];
  const phys = chunks.find((c) => c.type === 'pHYs')!.data;
  expect(phys.readUInt32BE(0)).toBe(phys.readUInt32BE(4));
  expect(phys[8]).toBe(1); // metres
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const rowBytes = Math.ceil(width / 8);
  expect(raw.length).toBe((rowBytes + 1) * height);
  const bits = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (rowBytes + 1)], 'filter type').toBe(0);
    bits.set(raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)), y * rowBytes);
  }
  return {
    chunks,
    width,
    height,
    bitDepth: ihdr[8],
    colorType: ihdr[9],
    pixelsPerMetre: phys.readUInt32BE(0),
    gray: toGray({ width, height, rowBytes, bits, pixelsPerMetre: 0 }),
  };
}

describe('board bitmaps', () => {
  it("draw OpenCV's layout: the same pixels as generateImage up to the rounding of edges", () => {
    const [ceiling, , , , , , , , , , , , underDesk] = sampleBoards();
    for (const spec of [TUTORIAL_BOARD, LEGACY, { ...ceiling, firstMarkerId: 6 }, underDesk]) {
      const pps = 48;
      const mine = toGray(boardBitmap(cv, spec, pps)).data;
      const ref = boardImage(cv, spec, pps);
      let differ = 0;
      let awayFromEdges = 0;
      for (let y = 0; y < ref.height; y++) {
        for (let x = 0; x < ref.width; x++) {
          const p = y * ref.width + x;
          if (mine[p] === ref.data[p]) continue;
          differ++;
          // A differing pixel must touch an edge of OpenCV's drawing (its 3x3 neighbourhood has both colours).
          let hasBlack = false;
          let hasWhite = false;
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const v =
                ref.data[
                  Math.min(ref.height - 1, Math.max(0, y + dy)) * ref.width +
                    Math.min(ref.width - 1, Math.max(0, x + dx))
                ];
              if (v === 0) hasBlack = true;
              else hasWhite = true;
            }
          }
          if (!(hasBlack && hasWhite)) awayFromEdges++;
        }
      }
      expect(awayFromEdges, spec.name).toBe(0);
      expect(differ / mine.length, spec.name).toBeLessThan(0.05);
    }
  });

  it('detect as the board they are: every marker and corner where the spec puts it', () => {
    for (const spec of [TUTORIAL_BOARD, LEGACY]) {
      const pps = 40;
      const img = toGray(boardBitmap(cv, spec, pps));
      const pad = 30;
      const W = img.width + 2 * pad;
      const padded = {
        width: W,
        height: img.height + 2 * pad,
        data: new Uint8Array(W * (img.height + 2 * pad)).fill(255),
      };
      for (let y = 0; y < img.height; y++) {
        padded.data.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + pad) * W + pad);
      }
      const det = detectCharuco(cv, spec, padded);
      expect(det.markerIds.length, spec.name).toBe(Math.floor((spec.squaresX * spec.squaresY) / 2));
      expect(det.ids.length, spec.name).toBe((spec.squaresX - 1) * (spec.squaresY - 1));
      const local = boardCornersLocal(spec);
      const s = spec.squareLength / pps;
      det.ids.forEach((id, k) => {
        expect(Math.abs(det.corners[2 * k] - (local[3 * id] / s - 0.5 + pad))).toBeLessThan(0.1);
        expect(Math.abs(det.corners[2 * k + 1] - (local[3 * id + 1] / s - 0.5 + pad))).toBeLessThan(0.1);
      });
      // The other legacy flag does not fit a board with an even number of rows.
      if (spec.legacyPattern) {
        expect(detectCharuco(cv, { ...spec, legacyPattern: false }, padded).ids.length).toBe(0);
      }
    }
  });

  it('rejects unprintable specs naming the board', () => {
    expect(() => boardPng(cv, TUTORIAL_BOARD, 5)).toThrow(
      /board "tutorial": dpi must be in \[10, 2400\], got 5/,
    );
    expect(() => boardPng(cv, { ...TUTORIAL_BOARD, firstMarkerId: 240 })).toThrow(
      /ids 240..256 exceed DICT_6X6_250/,
    );
    expect(() => boardPng(cv, { ...TUTORIAL_BOARD, markerLength: 0.05 })).toThrow(/"tutorial".*markerLength/);
    expect(() => boardPdf(cv, { ...TUTORIAL_BOARD, squareLength: 1.2 }, 20)).toThrow(
      /larger than a PDF page/,
    );
  });
});

describe('boardPng', () => {
  it('is a 1-bit grayscale PNG of the board whose pHYs prints it at true size', async () => {
    const png = boardPng(cv, TUTORIAL_BOARD);
    const r = readPng(png);
    expect(r.chunks.map((c) => c.type)).toEqual(['IHDR', 'pHYs', 'tEXt', 'IDAT', 'IEND']);
    expect([r.bitDepth, r.colorType]).toEqual([1, 0]);
    const pps = pixelsPerSquare(TUTORIAL_BOARD, 300);
    expect(pps).toBe(472); // 40 mm at 300 dpi = 472.4 px
    expect([r.width, r.height]).toEqual([5 * pps, 7 * pps]);
    expect((r.pixelsPerMetre * 0.0254) / 300).toBeCloseTo(1, 2);
    // Printed size = pixels / (pixels per metre): the board's 200 x 280 mm within 0.1 mm.
    expect(Math.abs((r.width / r.pixelsPerMetre) * 1000 - 200)).toBeLessThan(0.1);
    expect(Math.abs((r.height / r.pixelsPerMetre) * 1000 - 280)).toBeLessThan(0.1);
    expect(
      Buffer.from(r.gray.data).equals(Buffer.from(toGray(boardBitmap(cv, TUTORIAL_BOARD, pps)).data)),
    ).toBe(true);
    expect(r.chunks[2].data.toString('latin1')).toMatch(/^Description\0tutorial: ChArUco DICT_6X6_250, 5x7/);

    // An independent decoder reads the same pixels.
    const file = join(tempDir('board-png-'), 'tutorial.png');
    writeFileSync(file, png);
    const dec = await runTool(FFMPEG_PATH, [
      '-v',
      'error',
      '-i',
      file,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(Buffer.from(dec.stdout).equals(Buffer.from(r.gray.data))).toBe(true);
  });

  it('keeps a 1.2 m ceiling board at 300 dpi small', () => {
    const t0 = performance.now();
    const png = boardPng(cv, sampleBoards()[0]);
    const ms = performance.now() - t0;
    const r = readPng(png);
    expect([r.width, r.height]).toEqual([4 * 3543, 3 * 3543]);
    expect(Math.abs((r.width / r.pixelsPerMetre) * 1000 - 1200)).toBeLessThan(0.1);
    console.log(
      `ceiling-1 PNG: ${r.width}x${r.height} px, ${(png.length / 1024).toFixed(0)} KB, ${ms.toFixed(0)} ms`,
    );
    expect(png.length).toBeLessThan(2 << 20);
  }, 30_000);
});

describe('boardPdf', () => {
  it('has a correct xref, the board at its exact physical size and a caption', () => {
    const pdf = Buffer.from(boardPdf(cv, LEGACY));
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF\n')).toBe(true);
    // startxref points at the xref table, whose entries point at "n 0 obj".
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
    const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(startxref))!.map(Number);
    expect(first).toBe(0);
    const entries = text
      .slice(startxref)
      .split('\n')
      .slice(2, 2 + count);
    expect(entries[0]).toBe('0000000000 65535 f ');
    for (let i = 1; i < count; i++) {
      const offset = Number(entries[i].slice(0, 10));
      expect(entries[i].endsWith(' 00000 n ')).toBe(true);
      expect(text.slice(offset, offset + `${i} 0 obj\n`.length), `object ${i}`).toBe(`${i} 0 obj\n`);
    }
    expect(text).toMatch(new RegExp(`trailer\\n<< /Size ${count} /Root 1 0 R`));

    const mm = (pt: number) => (pt / 72) * 25.4;
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(text)!.slice(1).map(Number);
    const cm = /q ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm \/Im0 Do Q/.exec(text)!.slice(1).map(Number);
    // The board (5 x 30 mm by 6 x 30 mm) exactly, in a 15 mm margin.
    expect(Math.abs(mm(cm[0]) - 150)).toBeLessThan(0.1);
    expect(Math.abs(mm(cm[1]) - 180)).toBeLessThan(0.1);
    expect(Math.abs(mm(cm[2]) - 15)).toBeLessThan(0.1);
    expect(Math.abs(mm(cm[3]) - 15)).toBeLessThan(0.1);
    expect(Math.abs(mm(box[0]) - 180)).toBeLessThan(0.1);
    expect(Math.abs(mm(box[1]) - 210)).toBeLessThan(0.1);

    // The image: 1-bit DeviceGray, Flate with PNG predictors, the board's pixels.
    const pps = pixelsPerSquare(LEGACY, 300);
    const head = /<< \/Type \/XObject \/Subtype \/Image [^]*?\/Length (\d+) >>\nstream\n/.exec(text)!;
    expect(head[0]).toContain(
      `/Width ${5 * pps} /Height ${6 * pps} /ColorSpace /DeviceGray /BitsPerComponent 1`,
    );
    expect(head[0]).toContain('/Filter /FlateDecode /DecodeParms << /Predictor 15');
    const start = head.index + head[0].length;
    const length = Number(head[1]);
    expect(text.slice(start + length, start + length + 10)).toBe('\nendstream');
    const rows = inflateSync(pdf.subarray(start, start + length));
    const fromPng = inflateSync(
      Buffer.concat(
        readPng(boardPng(cv, LEGACY))
          .chunks.filter((c) => c.type === 'IDAT')
          .map((c) => c.data),
      ),
    );
    expect(rows.equals(fromPng)).toBe(true);

    const caption = /BT \/F1 [\d.]+ Tf [\d.]+ [\d.]+ Td \((.*)\) Tj ET/.exec(text)![1];
    expect(caption).toBe(
      'legacy \\(5x6\\): ChArUco DICT_4X4_50, 5x6 squares, square 30 mm, marker 22 mm, legacy pattern yes, ' +
        'first marker id 20. Print at 100 % \\(no scaling\\).',
    );
  });
});
