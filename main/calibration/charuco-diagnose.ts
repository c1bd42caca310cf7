import { ArucoMarkerFinder } from './aruco-markers';
import { ARUCO_DICTIONARIES, CharucoBoardDetector, markerCount, type BoardSpec } from './charuco-board';
import type { MultiBoardDetection } from './charuco-detect';
import { grayMat, withScope, type CvMat, type GrayImage, type OpenCv } from './opencv';

/**
 * Why boards were not detected, decided by what the image does show: this board's markers without
 * ChArUco corners (legacy layout, swapped squaresX/squaresY, too few markers), markers of the boards'
 * dictionary with other ids, markers of another dictionary, square candidates that decode in none,
 * or nothing at all.
 */

const LEGACY_NOTE = 'OpenCV 4.6 changed the layout of boards with an even number of rows, opencv#23152';
const CHECKLIST =
  `check the dictionary, the legacy pattern (${LEGACY_NOTE}), the marker id range and the ` +
  'square/marker size';

/**
 * A sentence for a log or an error: "0 boards detected in <source>: <what was found>: <what to check>".
 * `result` is the detection of `specs` in `gray` (detectBoards / MultiBoardDetector.detect); the image
 * is searched again here (other dictionaries, toggled legacy flag), so call it once per file, not per frame.
 */
export function explainNoDetection(
  cv: OpenCv,
  specs: readonly BoardSpec[],
  gray: GrayImage,
  result: MultiBoardDetection,
  source = 'the image',
): string {
  const detected = result.boards.filter((b) => b.ids.length > 0);
  const head =
    detected.length === 0
      ? `0 boards detected in ${source}`
      : `${detected.length} of ${specs.length} boards detected in ${source} (${detected.map((b) => b.name).join(', ')})`;
  const findings = withScope((keep) => {
    const img = keep(grayMat(cv, gray));
    const out: string[] = [];
    for (const b of result.boards) {
      if (b.ids.length > 0) continue;
      const spec = specs.find((s) => s.name === b.name);
      if (spec) out.push(explainMarkersWithoutCorners(cv, img, spec, b.markerIds, b.markerCorners));
    }
    if (result.boards.length === 0) out.push(explainNoMarkers(cv, img, gray, specs, result));
    return out;
  });
  return findings.length > 0 ? `${head}: ${findings.join('; ')}` : head;
}

/** ChArUco corners of `spec` from the given markers (the board's own, already found in img). */
function cornersWith(cv: OpenCv, img: CvMat, spec: BoardSpec, ids: Int32Array, quads: Float32Array): number {
  return withScope(
    (keep) => keep(new CharucoBoardDetector(cv, spec)).interpolate(img, ids, quads).ids.length,
  );
}

function explainMarkersWithoutCorners(
  cv: OpenCv,
  img: CvMat,
  spec: BoardSpec,
  ids: Int32Array,
  quads: Float32Array,
): string {
  const found = `board "${spec.name}": ${ids.length} of its ${markerCount(spec)} markers found but no ChArUco corner`;
  if (spec.squaresY % 2 === 0) {
    const toggled = { ...spec, legacyPattern: !spec.legacyPattern };
    const n = cornersWith(cv, img, toggled, ids, quads);
    if (n > 0) {
      return (
        `${found} with legacyPattern ${spec.legacyPattern}, ${n} with legacyPattern ${!spec.legacyPattern}: ` +
        `the board was printed with the ${spec.legacyPattern ? 'current' : 'legacy (pre-4.6)'} layout ` +
        `(${LEGACY_NOTE}): set legacyPattern to ${!spec.legacyPattern}`
      );
    }
  }
  if (spec.squaresX !== spec.squaresY) {
    const swapped = { ...spec, squaresX: spec.squaresY, squaresY: spec.squaresX };
    for (const legacyPattern of [spec.legacyPattern, !spec.legacyPattern]) {
      const n = cornersWith(cv, img, { ...swapped, legacyPattern }, ids, quads);
      if (n > 0) {
        return (
          `${found} as ${spec.squaresX}x${spec.squaresY} squares, ${n} as ${swapped.squaresX}x` +
          `${swapped.squaresY}` +
          (legacyPattern !== spec.legacyPattern ? ` with legacyPattern ${legacyPattern}` : '') +
          ': squaresX and squaresY look swapped'
        );
      }
    }
  }
  if (ids.length < 2) {
    return `${found}: a corner needs two neighbouring markers; move closer or show more of the board`;
  }
  return `${found}: ${CHECKLIST}`;
}

function explainNoMarkers(
  cv: OpenCv,
  img: CvMat,
  gray: GrayImage,
  specs: readonly BoardSpec[],
  result: MultiBoardDetection,
): string {
  const used = [...new Set(specs.map((s) => s.dictionary))];
  if (result.unknownMarkerIds.length > 0) {
    const ranges = specs.map(
      (s) => `"${s.name}" ${s.firstMarkerId}..${s.firstMarkerId + markerCount(s) - 1}`,
    );
    return (
      `markers of ${used.join('/')} were found with ids ${idList(result.unknownMarkerIds)}, which no ` +
      `board has (${ranges.join(', ')}): check firstMarkerId and the board sizes (the id range)`
    );
  }
  // Every other predefined dictionary, each candidate decoded against each of them.
  const others = ARUCO_DICTIONARIES.filter((d) => !used.includes(d));
  const { found, rejected } = withScope((keep) =>
    keep(new ArucoMarkerFinder(cv, others)).find(img, gray, true),
  );
  const best = Math.max(...found.map((f) => f.ids.length));
  if (best > 0) {
    const winners = found.filter((f) => f.ids.length === best);
    const ids = [...new Set(winners.flatMap((f) => Array.from(f.ids)))].sort((a, b) => a - b);
    return (
      `${best} marker${best > 1 ? 's' : ''} of ${dictionaryList(winners.map((w) => w.dictionary))} ` +
      `(ids ${idList(ids)}) ${best > 1 ? 'were' : 'was'} found, but the boards use ${used.join('/')}: ` +
      'check the dictionary'
    );
  }
  const candidates = Math.max(result.rejected.length, rejected.length) / 8;
  if (candidates > 0) {
    return (
      `${candidates} square candidate${candidates > 1 ? 's' : ''} but no marker of any OpenCV dictionary ` +
      `decodes (too small, blurred, over-exposed, or not ArUco): ${CHECKLIST}`
    );
  }
  return 'no markers visible (no square candidates at all)';
}

/** "DICT_6X6_50/100/250/1000" for one family, else the names joined with " or ". */
function dictionaryList(names: string[]): string {
  const family = /^(DICT_\dX\d_)(\d+)$/;
  const m = names.map((n) => family.exec(n));
  if (names.length > 1 && m.every((x) => x && x[1] === m[0]![1])) {
    return m[0]![1] + m.map((x) => x![2]).join('/');
  }
  return names.join(' or ');
}

/** "0..16" for a run, else a short comma list. */
function idList(ids: number[]): string {
  if (ids.length > 1 && ids[ids.length - 1] - ids[0] === ids.length - 1)
    return `${ids[0]}..${ids[ids.length - 1]}`;
  return ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
}
