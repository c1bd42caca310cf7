import { bonesFor } from '../../preload/keypoint-bones';

/** COCO skeleton: 1-based keypoint index pairs for the limbs whose both ends the layout has. */
export function cocoSkeleton(jointNames: readonly string[]): [number, number][] {
  return bonesFor(jointNames).map(([a, b]) => [a + 1, b + 1]);
}
