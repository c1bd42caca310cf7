import { deflateSync } from 'node:zlib';
import { markerCodebook } from './aruco-identify';
import { markerCount, validateBoardSpec, type BoardSpec } from './charuco-board';
import type { OpenCv } from './opencv';

/**
 * Print-ready ChArUco boards: a 1-bit grayscale PNG whose pHYs chunk makes it print at true size, and a
 * one-page PDF of the board at its exact physical size with a caption. The board is rasterised here, row
 * by row at one bit per pixel, in OpenCV's layout (CharucoBoard: black squares where x + y is even, or odd
 * for a legacy board with an even number of rows; markers centred in the white squares, row-major in
 * id order, unrotated, one black border cell); a 1.2 m board at 300 dpi (150 Mpixel) takes 19 MB, where
 * OpenCV's generateImage would need 150 MB of wasm heap and a copy.
 */

const INCH = 0.0254;

/** A 1-bit image: rows of ceil(width / 8) bytes, most significant bit first, 1 = white. */
export interface BoardBitmap {
  width: number;
  height: number;
  rowBytes: number;
  bits: Uint8Array;
  /** Pixels per metre: width = squaresX * squareLength * pixelsPerMetre exactly. */
  pixelsPerMetre: number;
}

/** Whole pixels per square nearest to `dpi`. */
export function pixelsPerSquare(spec: BoardSpec, dpi: number): number {
  if (!(dpi >= 10 && dpi <= 2400))
    throw new Error(`board "${spec.name}": dpi must be in [10, 2400], got ${dpi}`);
  return Math.max(8, Math.round((spec.squareLength / INCH) * dpi));
}

/**
 * The board at pxPerSquare pixels per square, each pixel the colour of the board at its centre. Marker
 * cells: (markerSize + 2) per marker side; bit k of a marker's code (rotation 0) is cell k row-major
 * inside the border, 1 = white.
 */
export function boardBitmap(cv: OpenCv, spec: BoardSpec, pxPerSquare: number): BoardBitmap {
  validateBoardSpec(spec);
  const book = markerCodebook(cv, spec.dictionary);
  const n = markerCount(spec);
  if (spec.firstMarkerId + n > book.count) {
    throw new Error(
      `board "${spec.name}": marker ids ${spec.firstMarkerId}..${spec.firstMarkerId + n - 1} exceed ` +
        `${spec.dictionary} (${book.count} markers)`,
    );
  }
  const width = spec.squaresX * pxPerSquare;
  const height = spec.squaresY * pxPerSquare;
  if (width * height > 400e6) {
    throw new Error(`board "${spec.name}": ${width}x${height} pixels is too large; lower the dpi`);
  }
  const rowBytes = Math.ceil(width / 8);
  const bits = new Uint8Array(rowBytes * height);
  const shift = spec.legacyPattern && spec.squaresY % 2 === 0 ? 1 : 0;
  const cells = book.markerSize + 2;
  // Per axis: the square of each pixel, and its marker cell (-1 outside the marker), in board units.
  const axis = (count: number): { square: Int32Array; cell: Int16Array } => {
    const square = new Int32Array(count);
    const cell = new Int16Array(count);
    const s = spec.squareLength;
    const d = (s - spec.markerLength) / 2;
    const cellLength = spec.markerLength / cells;
    for (let p = 0; p < count; p++) {
      const X = ((p + 0.5) / pxPerSquare) * s;
      const i = Math.floor((p + 0.5) / pxPerSquare);
      const u = X - i * s - d;
      square[p] = i;
      cell[p] = u >= 0 && u < spec.markerLength ? Math.min(cells - 1, Math.floor(u / cellLength)) : -1;
    }
    return { square, cell };
  };
  const cols = axis(width);
  const rows = axis(height);
  const codes = book.codes;
  for (let y = 0; y < height; y++) {
    const j = rows.square[y];
    const cy = rows.cell[y];
    const out = y * rowBytes;
    for (let x = 0; x < width; x++) {
      const i = cols.square[x];
      let white: number;
      if ((i + j + shift) % 2 === 0) {
        white = 0; // black square
      } else {
        const cx = cols.cell[x];
        if (cx < 0 || cy < 0) {
          white = 1; // white square around its marker
        } else if (cx === 0 || cy === 0 || cx === cells - 1 || cy === cells - 1) {
          white = 0; // marker border
        } else {
          // White squares in row-major order hold markers firstMarkerId, firstMarkerId + 1, ...
          const index = Math.floor((j * spec.squaresX + i) / 2);
          const id = spec.firstMarkerId + index;
          const k = (cy - 1) * book.markerSize + (cx - 1);
          white = (codes[id * 8 + (k >> 5)] >>> (k & 31)) & 1;
        }
      }
      if (white) bits[out + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return { width, height, rowBytes, bits, pixelsPerMetre: pxPerSquare / spec.squareLength };
}

// ---------------------------------------------------------------------------------------------------------
// PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG uses) of the given byte ranges, in order. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

/** zlib stream of the rows, each preceded by PNG filter type 0 (what PNG IDAT and PDF Predictor 15 read). */
function deflateRows(bm: BoardBitmap): Buffer {
  const raw = Buffer.alloc((bm.rowBytes + 1) * bm.height);
  for (let y = 0; y < bm.height; y++) {
    raw.set(bm.bits.subarray(y * bm.rowBytes, (y + 1) * bm.rowBytes), y * (bm.rowBytes + 1) + 1);
  }
  return deflateSync(raw, { level: 9 });
}

/** One line naming everything needed to recreate the board. */
export function boardCaption(spec: BoardSpec): string {
  const mm = (m: number) => `${+(m * 1000).toFixed(3)} mm`;
  return (
    `${spec.name}: ChArUco ${spec.dictionary}, ${spec.squaresX}x${spec.squaresY} squares, ` +
    `square ${mm(spec.squareLength)}, marker ${mm(spec.markerLength)}, legacy pattern ` +
    `${spec.legacyPattern ? 'yes' : 'no'}, first marker id ${spec.firstMarkerId}`
  );
}

function pngFromBitmap(bm: BoardBitmap, description: string): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(bm.width, 0);
  ihdr.writeUInt32BE(bm.height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  const phys = Buffer.alloc(9);
  const ppm = Math.round(bm.pixelsPerMetre);
  phys.writeUInt32BE(ppm, 0);
  phys.writeUInt32BE(ppm, 4);
  phys[8] = 1; // unit: metre
  const text = Buffer.from(`Description\0${description.replace(/[^\x20-\x7e]/g, '?')}`, 'latin1');
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('pHYs', phys),
      pngChunk('tEXt', text),
      pngChunk('IDAT', deflateRows(bm)),
      pngChunk('IEND', new Uint8Array(0)),
    ]),
  );
}

/**
 * The board as a 1-bit grayscale PNG at about `dpi` (whole pixels per square), no margin. Its pHYs chunk
 * holds pixels per metre = pixels per square / squareLength, so it prints at the board's true size.
 */
export function boardPng(cv: OpenCv, spec: BoardSpec, dpi = 300): Uint8Array {
  return pngFromBitmap(boardBitmap(cv, spec, pixelsPerSquare(spec, dpi)), boardCaption(spec));
}

// ---------------------------------------------------------------------------------------------------------
// PDF

const PT_PER_M = 72 / INCH;
/** White border around the board, and the band below it for the caption, in points. */
const MARGIN_PT = (15 / 1000) * PT_PER_M;
const CAPTION_PT = 9;

/** A PDF string literal of ASCII text. */
function pdfString(s: string): string {
  return `(${s.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

const fmt = (v: number): string => +v.toFixed(4) + '';

/**
 * A one-page PDF: the page is the board plus a 15 mm white margin, the board image (1-bit DeviceGray,
 * FlateDecode with PNG predictors: the PNG's own zlib stream) drawn at exactly squaresX * squareLength by
 * squaresY * squareLength, and a caption line below it (boardCaption, and "print at 100 %").
 */
export function boardPdf(cv: OpenCv, spec: BoardSpec, dpi = 300): Uint8Array {
  const bm = boardBitmap(cv, spec, pixelsPerSquare(spec, dpi));
  const w = spec.squaresX * spec.squareLength * PT_PER_M;
  const h = spec.squaresY * spec.squareLength * PT_PER_M;
  const pageW = w + 2 * MARGIN_PT;
  const pageH = h + 2 * MARGIN_PT;
  if (pageW > 14400 || pageH > 14400)
    throw new Error(`board "${spec.name}": larger than a PDF page (5.08 m)`);
  const caption = `${boardCaption(spec)}. Print at 100 % (no scaling).`;
  const fontSize = Math.min(CAPTION_PT, (pageW - 2 * MARGIN_PT) / (0.5 * caption.length));
  const content = Buffer.from(
    `q ${fmt(w)} 0 0 ${fmt(h)} ${fmt(MARGIN_PT)} ${fmt(MARGIN_PT)} cm /Im0 Do Q\n` +
      `BT /F1 ${fmt(fontSize)} Tf ${fmt(MARGIN_PT)} ${fmt(MARGIN_PT / 2 - fontSize / 3)} Td ` +
      `${pdfString(caption)} Tj ET\n`,
    'latin1',
  );
  const image = deflateRows(bm);
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${fmt(pageW)} ${fmt(pageH)}] ` +
        '/Resources << /XObject << /Im0 4 0 R >> /Font << /F1 6 0 R >> >> /Contents 5 0 R >>',
    ),
    Buffer.concat([
      Buffer.from(
        `<< /Type /XObject /Subtype /Image /Width ${bm.width} /Height ${bm.height} ` +
          '/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode ' +
          `/DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 1 /Columns ${bm.width} >> ` +
          `/Length ${image.length} >>\nstream\n`,
      ),
      image,
      Buffer.from('\nendstream'),
    ]),
    Buffer.concat([
      Buffer.from(`<< /Length ${content.length} >>\nstream\n`),
      content,
      Buffer.from('endstream'),
    ]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
    Buffer.from(`<< /Title ${pdfString(`ChArUco board ${spec.name}`)} /Subject ${pdfString(caption)} >>`),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(obj);
    offset += obj.length;
  });
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\n` +
    `startxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return new Uint8Array(Buffer.concat(parts));
}
