/**
 * Limb pairs of a 2D keypoint layout for COCO's `skeleton` (1-based index pairs), matched by joint
 * name so one table serves BODY_25, BODY_25B, COCO-17 and MediaPipe names. The same table as the
 * renderer's drawing bones (renderer/src/skeleton.ts), kept here because main/ does not import the
 * renderer.
 */

const BONES_BY_NAME: [string, string][] = [
  ['nose', 'leye'],
  ['nose', 'reye'],
  ['leye', 'lear'],
  ['reye', 'rear'],
  ['nose', 'neck'],
  ['neck', 'lshoulder'],
  ['neck', 'rshoulder'],
  ['neck', 'midhip'],
  ['midhip', 'lhip'],
  ['midhip', 'rhip'],
  ['lshoulder', 'lelbow'],
  ['lelbow', 'lwrist'],
  ['rshoulder', 'relbow'],
  ['relbow', 'rwrist'],
  ['lhip', 'lknee'],
  ['lknee', 'lankle'],
  ['rhip', 'rknee'],
  ['rknee', 'rankle'],
  ['lankle', 'lbigtoe'],
  ['lankle', 'lsmalltoe'],
  ['lankle', 'lheel'],
  ['rankle', 'rbigtoe'],
  ['rankle', 'rsmalltoe'],
  ['rankle', 'rheel'],
];

/** Layouts without a neck (BODY_25B, COCO-17) close the shoulder girdle and the pelvis instead. */
const NO_NECK_BONES: [string, string][] = [
  ['lshoulder', 'rshoulder'],
  ['lhip', 'rhip'],
  ['lshoulder', 'lhip'],
  ['rshoulder', 'rhip'],
];

/** "LShoulder", "left_shoulder" and "L.Shoulder" all become "lshoulder". */
function normalize(name: string): string {
  return name
    .toLowerCase()
    .replace(/^left/, 'l')
    .replace(/^right/, 'r')
    .replace(/[^a-z0-9]/g, '');
}

/** COCO skeleton: 1-based keypoint index pairs for the limbs whose both ends the layout has. */
export function cocoSkeleton(jointNames: readonly string[]): [number, number][] {
  const index = new Map<string, number>();
  jointNames.forEach((n, i) => index.set(normalize(n), i));
  const pairs =
    index.has('neck') || index.has('midhip') ? BONES_BY_NAME : [...BONES_BY_NAME, ...NO_NECK_BONES];
  const out: [number, number][] = [];
  for (const [a, b] of pairs) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia !== undefined && ib !== undefined) out.push([ia + 1, ib + 1]);
  }
  return out;
}
