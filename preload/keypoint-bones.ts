/**
 * Bones of 2D keypoint layouts, by joint name rather than index so one table serves BODY_25, BODY_25B,
 * COCO and similar layouts: the pairs whose both ends a layout has. Shared by the renderer (drawing) and
 * the export (COCO `skeleton`), hence here beside the API contract.
 */
const BONES_BY_NAME: [string, string][] = [
  // Head
  ['nose', 'leye'],
  ['nose', 'reye'],
  ['leye', 'lear'],
  ['reye', 'rear'],
  ['nose', 'neck'],
  // Trunk
  ['neck', 'lshoulder'],
  ['neck', 'rshoulder'],
  ['neck', 'midhip'],
  ['midhip', 'lhip'],
  ['midhip', 'rhip'],
  // Arms
  ['lshoulder', 'lelbow'],
  ['lelbow', 'lwrist'],
  ['rshoulder', 'relbow'],
  ['relbow', 'rwrist'],
  // Legs
  ['lhip', 'lknee'],
  ['lknee', 'lankle'],
  ['rhip', 'rknee'],
  ['rknee', 'rankle'],
  // Feet
  ['lankle', 'lbigtoe'],
  ['lankle', 'lsmalltoe'],
  ['lankle', 'lheel'],
  ['rankle', 'rbigtoe'],
  ['rankle', 'rsmalltoe'],
  ['rankle', 'rheel'],
];

/** Layouts without a neck joint (BODY_25B, COCO) get the shoulder girdle and pelvis closed instead. */
const FALLBACK_BONES: [string, string][] = [
  ['lshoulder', 'rshoulder'],
  ['lhip', 'rhip'],
  ['lshoulder', 'lhip'],
  ['rshoulder', 'rhip'],
];

export function normalizeJointName(name: string): string {
  // "LShoulder", "left_shoulder" and "L.Shoulder" all become "lshoulder".
  return name
    .toLowerCase()
    .replace(/^left/, 'l')
    .replace(/^right/, 'r')
    .replace(/[^a-z0-9]/g, '');
}

/** Index pairs for the given joint names; joints the table does not know are drawn as dots only. */
export function bonesFor(jointNames: readonly string[]): [number, number][] {
  const index = new Map<string, number>();
  jointNames.forEach((n, i) => index.set(normalizeJointName(n), i));
  const pairs =
    index.has('neck') || index.has('midhip') ? BONES_BY_NAME : [...BONES_BY_NAME, ...FALLBACK_BONES];
  const out: [number, number][] = [];
  for (const [a, b] of pairs) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia !== undefined && ib !== undefined) out.push([ia, ib]);
  }
  return out;
}
