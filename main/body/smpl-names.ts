/** Joint names of the SMPL family in kintree order (smplx `joint_names.py`), by joint count. */

const SMPL_BODY = [
  'pelvis',
  'left_hip',
  'right_hip',
  'spine1',
  'left_knee',
  'right_knee',
  'spine2',
  'left_ankle',
  'right_ankle',
  'spine3',
  'left_foot',
  'right_foot',
  'neck',
  'left_collar',
  'right_collar',
  'head',
  'left_shoulder',
  'right_shoulder',
  'left_elbow',
  'right_elbow',
  'left_wrist',
  'right_wrist',
];

const FINGERS = ['index', 'middle', 'pinky', 'ring', 'thumb'];
const hand = (side: string): string[] => FINGERS.flatMap((f) => [1, 2, 3].map((k) => `${side}_${f}${k}`));

export const SMPL_FAMILY_JOINT_NAMES: Record<number, string[]> = {
  24: [...SMPL_BODY, 'left_hand', 'right_hand'],
  52: [...SMPL_BODY, ...hand('left'), ...hand('right')],
  55: [...SMPL_BODY, 'jaw', 'left_eye_smplhf', 'right_eye_smplhf', ...hand('left'), ...hand('right')],
};
