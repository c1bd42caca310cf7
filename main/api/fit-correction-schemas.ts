import { z } from 'zod';

/**
 * Request shapes of the fit-correction calls (bad frame ranges, user keypoints, refit, comparison, the
 * exported version). Shapes only: frames, cameras, joints and fits are checked by the store and the
 * handlers (fit-correction-handlers.ts), whose errors name the session, fit, camera and frame.
 */

const id = z.number().int().positive();
const frame = z.number().int().min(0);
const count = z.number().int().min(1).max(1_000_000);
const pixel = z.number().finite().min(-100_000).max(100_000);

export const FIT_CORRECTION_SCHEMAS = {
  listBadRanges: z.object({ sessionId: id }).strict(),
  markBadRange: z
    .object({ sessionId: id, start: frame, end: frame, note: z.string().max(2000).optional() })
    .strict(),
  removeBadRange: z.object({ sessionId: id, rangeId: id }).strict(),
  listUserKeypoints: z.object({ sessionId: id, start: frame.optional(), count: count.optional() }).strict(),
  setUserKeypoint: z
    .object({
      sessionId: id,
      cameraId: id,
      frame,
      joint: z.number().int().min(0),
      u: pixel,
      v: pixel,
      confidence: z.number().gt(0).max(1).optional(),
    })
    .strict(),
  removeUserKeypoint: z
    .object({ sessionId: id, cameraId: id, frame, joint: z.number().int().min(0) })
    .strict(),
  refitWindow: z.object({ sessionId: id, baseFitId: id, start: frame, count }).strict(),
  compareFits: z.object({ fitA: id, fitB: id, start: frame.optional(), count: count.optional() }).strict(),
  pickFit: z.object({ sessionId: id, fitId: id.nullable() }).strict(),
  pickedFit: z.object({ sessionId: id }).strict(),
};
