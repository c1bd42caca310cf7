import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { ApiMethod } from '../../preload/api';
import { ANNOTATION_SCHEMAS } from './annotation-schemas';
import { FIT_CORRECTION_SCHEMAS } from './fit-correction-schemas';

const id = z.number().int().positive();
const frame = z.number().int().min(0);
const empty = z.object({}).strict();
const modelPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => isAbsolute(p), 'must be an absolute file path')
  .nullable();

/** Request validation for every call; the handler only ever sees a request that passed these. */
export const REQUEST_SCHEMAS = {
  libraryInfo: empty,
  listSessions: empty,
  getSession: z.object({ sessionId: id }).strict(),
  deleteSession: z.object({ sessionId: id }).strict(),
  pickFolder: empty,
  importSession: z.object({ path: z.string().min(1).max(4096) }).strict(),
  listJobs: z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
  getJob: z.object({ jobId: id }).strict(),
  cancelJob: z.object({ jobId: id }).strict(),
  retryJob: z.object({ jobId: id }).strict(),
  mediaUrl: z.object({ sessionId: id, cameraId: id }).strict(),
  thumbnail: z.object({ sessionId: id, cameraId: id }).strict(),
  keypoints: z
    .object({
      sessionId: id,
      cameraId: id,
      start: z.number().int().min(0),
      count: z.number().int().min(1).max(10_000),
    })
    .strict(),
  localizeSession: z.object({ sessionId: id, maxGap: z.number().int().min(0).max(300).optional() }).strict(),
  footPoses: z
    .object({
      sessionId: id,
      cameraId: id,
      start: z.number().int().min(0),
      count: z.number().int().min(1).max(100_000),
    })
    .strict(),
  getSettings: empty,
  setSettings: z
    .object({
      bodyModels: z.object({ smpl: modelPath, smplh: modelPath, smplx: modelPath }).strict().optional(),
    })
    .strict(),
  listBodyModels: empty,
  boardPrint: z
    .object({ sessionId: id, board: z.string().min(1).max(200), format: z.enum(['png', 'pdf']) })
    .strict(),
  fitSession: z
    .object({
      sessionId: id,
      ground: z.boolean().optional(),
      footCameras: z.boolean().optional(),
      start: frame.optional(),
      count: z.number().int().min(1).optional(),
    })
    .strict(),
  listFits: z.object({ sessionId: id }).strict(),
  fitQuality: z.object({ fitId: id, start: frame, count: z.number().int().min(1).max(100_000) }).strict(),
  fitFrame: z.object({ fitId: id, frame, cameraId: id.optional() }).strict(),
  fitScene: z.object({ sessionId: id, fitId: id }).strict(),
  listMotifModels: empty,
  trainingCurve: z.object({ modelId: id }).strict(),
  motifProposals: z.object({ sessionId: id }).strict(),
  motifFamily: z.object({ modelId: id, family: z.number().int().min(0) }).strict(),
  trainMotifModel: z
    .object({
      name: z.string().min(1).max(200).optional(),
      datasets: z.array(z.string().min(1).max(4096)).max(100).optional(),
      sessionIds: z.array(id).max(10_000).optional(),
      steps: z.array(z.number().int().min(1).max(10_000_000)).length(3).optional(),
      modelId: id.optional(),
    })
    .strict(),
  extractMotifs: z.object({ sessionId: id, modelId: id.optional() }).strict(),
  shippedMotifModels: empty,
  installShippedMotifModel: z
    .object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a model folder name') })
    .strict(),
  exportFormats: empty,
  exportSessions: z
    .object({
      sessionIds: z.array(id).min(1).max(10_000),
      formats: z.array(z.string().min(1).max(100)).min(1).max(100),
      out: z
        .string()
        .min(1)
        .max(4096)
        .refine((p) => isAbsolute(p), 'must be an absolute folder path'),
      split: z.string().min(1).max(10_000).optional(),
      splitSeed: z.number().int().optional(),
      splitSubjects: z.string().min(1).max(100_000).optional(),
      fitIds: z.array(id).max(10_000).optional(),
      force: z.boolean().optional(),
    })
    .strict(),
  ...ANNOTATION_SCHEMAS,
  ...FIT_CORRECTION_SCHEMAS,
} satisfies Record<ApiMethod, z.ZodType>;
