/**
 * Where a ChArUco board's markers sit, as OpenCV's CharucoBoardImpl::createCharucoBoard lays them out:
 * in the squares of one colour, row by row (marker k = the k-th such square, id firstMarkerId + k).
 * The first square (0, 0) is black, except in the pre-4.6 ("legacy") layout of boards with an even
 * number of rows, where the colours are swapped. Each inner chessboard corner touches two marker squares
 * diagonally: its "nearest markers" (calcNearestMarkerCorners), both of which must be seen for OpenCV to
 * report the corner (CharucoParameters.minMarkers = 2).
 */

/** Whether square (x, y) (column, row) holds a marker. */
export function isMarkerSquare(x: number, y: number, squaresY: number, legacyPattern: boolean): boolean {
  const swapped = legacyPattern && squaresY % 2 === 0;
  return (x + y) % 2 === (swapped ? 0 : 1);
}

/**
 * For each chessboard corner id (row-major over the inner grid), the indices (0-based, board order) of
 * the two markers diagonally next to it: two numbers per corner.
 */
export function cornerMarkerPairs(squaresX: number, squaresY: number, legacyPattern: boolean): Int32Array {
  // Marker index of every square (-1: a black square).
  const index = new Int32Array(squaresX * squaresY).fill(-1);
  let k = 0;
  for (let y = 0; y < squaresY; y++) {
    for (let x = 0; x < squaresX; x++) {
      if (isMarkerSquare(x, y, squaresY, legacyPattern)) index[y * squaresX + x] = k++;
    }
  }
  const nx = squaresX - 1;
  const pairs = new Int32Array(2 * nx * (squaresY - 1));
  for (let r = 0; r < squaresY - 1; r++) {
    for (let c = 0; c < nx; c++) {
      // Corner (c, r) is the bottom-right corner of square (c, r).
      let n = 0;
      for (const [x, y] of [
        [c, r],
        [c + 1, r],
        [c, r + 1],
        [c + 1, r + 1],
      ]) {
        const m = index[y * squaresX + x];
        if (m >= 0) pairs[2 * (r * nx + c) + n++] = m;
      }
    }
  }
  return pairs;
}
