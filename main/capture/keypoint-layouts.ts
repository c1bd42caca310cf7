/** 2D keypoint layouts as detectors write them; names follow each detector's own documentation. */
export const KEYPOINT_LAYOUTS: Record<string, readonly string[]> = {
  // OpenPose BODY_25 (pose/poseParameters.cpp).
  BODY_25: [
    'Nose', 'Neck', 'RShoulder', 'RElbow', 'RWrist', 'LShoulder', 'LElbow', 'LWrist', 'MidHip',
    'RHip', 'RKnee', 'RAnkle', 'LHip', 'LKnee', 'LAnkle', 'REye', 'LEye', 'REar', 'LEar',
    'LBigToe', 'LSmallToe', 'LHeel', 'RBigToe', 'RSmallToe', 'RHeel',
  ],
  // OpenPose experimental BODY_25B (the model Pose2Sim's demo uses).
  BODY_25B: [
    'Nose', 'LEye', 'REye', 'LEar', 'REar', 'LShoulder', 'RShoulder', 'LElbow', 'RElbow', 'LWrist',
    'RWrist', 'LHip', 'RHip', 'LKnee', 'RKnee', 'LAnkle', 'RAnkle', 'Neck', 'Head', 'LBigToe',
    'LSmallToe', 'LHeel', 'RBigToe', 'RSmallToe', 'RHeel',
  ],
  // COCO-17 keypoints.
  COCO_17: [
    'Nose', 'LEye', 'REye', 'LEar', 'REar', 'LShoulder', 'RShoulder', 'LElbow', 'RElbow', 'LWrist',
    'RWrist', 'LHip', 'RHip', 'LKnee', 'RKnee', 'LAnkle', 'RAnkle',
  ],
};

export function layoutNames(layout: string): readonly string[] | undefined {
  return KEYPOINT_LAYOUTS[layout.toUpperCase()];
}
