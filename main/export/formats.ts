/**
 * The dataset export formats, in the order an export writes them. Motion formats need a fit of every
 * session; the others read annotations (babel, csv) or the stored 2D keypoints (coco).
 */
export const EXPORT_FORMATS = ['amass', 'bvh', 'glb', 'npy', 'babel', 'csv', 'coco'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats written from the fitted body (AMASS .npz, BVH, GLB, joint .npy). */
export const MOTION_FORMATS: readonly ExportFormat[] = ['amass', 'bvh', 'glb', 'npy'];

export function needsFit(formats: readonly ExportFormat[]): boolean {
  return formats.some((f) => MOTION_FORMATS.includes(f));
}

/**
 * `--format` as given: a comma list ("amass,bvh"), `all`, or an array of names; whitespace and case are
 * ignored, duplicates dropped, the answer in EXPORT_FORMATS order. Unknown names list the known ones.
 */
export function parseFormats(spec: string | readonly string[]): ExportFormat[] {
  const names = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim().toLowerCase());
  const known = `known: ${EXPORT_FORMATS.join(', ')}, all`;
  if (names.every((n) => n === '')) throw new Error(`export format: none given (${known})`);
  const wanted = new Set<ExportFormat>();
  for (const n of names) {
    if (n === '') continue;
    if (n === 'all') EXPORT_FORMATS.forEach((f) => wanted.add(f));
    else if ((EXPORT_FORMATS as readonly string[]).includes(n)) wanted.add(n as ExportFormat);
    else throw new Error(`unknown export format "${n}" (${known})`);
  }
  return EXPORT_FORMATS.filter((f) => wanted.has(f));
}
