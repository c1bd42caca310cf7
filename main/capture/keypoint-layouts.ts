/** 2D keypoint layouts as detectors write them; names follow each detector's own documentation. */

// COCO-17 keypoints.
const COCO_17 = [
  'Nose',
  'LEye',
  'REye',
  'LEar',
  'REar',
  'LShoulder',
  'RShoulder',
  'LElbow',
  'RElbow',
  'LWrist',
  'RWrist',
  'LHip',
  'RHip',
  'LKnee',
  'RKnee',
  'LAnkle',
  'RAnkle',
] as const;

// The six foot keypoints OpenPose adds in BODY_25 and BODY_25B, in its order.
const FEET = ['LBigToe', 'LSmallToe', 'LHeel', 'RBigToe', 'RSmallToe', 'RHeel'] as const;

export const KEYPOINT_LAYOUTS: Record<string, readonly string[]> = {
  // OpenPose BODY_25 (pose/poseParameters.cpp).
  BODY_25: [
    'Nose',
    'Neck',
    'RShoulder',
    'RElbow',
    'RWrist',
    'LShoulder',
    'LElbow',
    'LWrist',
    'MidHip',
    'RHip',
    'RKnee',
    'RAnkle',
    'LHip',
    'LKnee',
    'LAnkle',
    'REye',
    'LEye',
    'REar',
    'LEar',
    ...FEET,
  ],
  // OpenPose experimental BODY_25B (the model Pose2Sim's demo uses): COCO order, then neck, head top, feet.
  BODY_25B: [...COCO_17, 'Neck', 'Head', ...FEET],
  COCO_17,
  // MediaPipe Pose (BlazePose) 33 landmarks, in its order.
  MEDIAPIPE_33: [
    'nose',
    ...['left', 'right'].flatMap((s) => [`${s}_eye_inner`, `${s}_eye`, `${s}_eye_outer`]),
    'left_ear',
    'right_ear',
    'mouth_left',
    'mouth_right',
    ...[
      'shoulder',
      'elbow',
      'wrist',
      'pinky',
      'index',
      'thumb',
      'hip',
      'knee',
      'ankle',
      'heel',
      'foot_index',
    ].flatMap((j) => [`left_${j}`, `right_${j}`]),
  ],
};

export function layoutNames(layout: string): readonly string[] | undefined {
  return KEYPOINT_LAYOUTS[layout.toUpperCase()];
}
