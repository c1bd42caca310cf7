import { bonesFor, normalizeJointName } from '../../preload/keypoint-bones';

export { bonesFor };

/** Left joints warm, right joints cool, centre neutral: the usual convention, so sides read at a glance. */
export function jointColor(name: string): string {
  const n = normalizeJointName(name);
  if (n.startsWith('l') && n !== 'lowerback') return '#ffb340';
  if (n.startsWith('r')) return '#3fb8ff';
  return '#e6e6e6';
}
