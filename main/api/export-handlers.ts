import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ApiRequest, ApiResponse, ExportFormatInfo } from '../../preload/api';
import { splitFromParams, type ExportJobParams } from '../export/export-job';
import { EXPORT_FORMATS, type ExportFormat, MOTION_FORMATS } from '../export/formats';
import { preflightExport } from '../export/run-export';
import type { AppContext } from './context';
import { ApiError } from './errors';

/**
 * The export calls: the formats with a line each, and an export job that is queued only once every
 * check the export makes has passed (preflightExport, plus write access to the destination's parent),
 * so bad input fails the call with the export's own message and nothing is written.
 */

type ExportMethod = 'exportFormats' | 'exportSessions';
type Handlers = {
  [M in ExportMethod]: (ctx: AppContext, req: ApiRequest<M>) => Promise<ApiResponse<M>>;
};

const DESCRIPTIONS: Record<ExportFormat, string> = {
  amass: 'AMASS-style .npz per sequence: poses, trans, betas, gender, mocap_framerate',
  bvh: 'BVH per sequence: the skeleton with its rest offsets and the motion (centimetres, Y up)',
  glb: 'glTF binary per sequence: the skinned body mesh with its animation (metres, Y up)',
  npy: '.npy per sequence: posed joint positions, frames x joints x 3 float32 (metres, Z up)',
  babel: 'BABEL-style babel.json per split: segments with start/end time, label and source',
  csv: 'annotations.csv per split: one row per segment with frames, seconds, label and source',
  coco: 'COCO keypoints JSON per camera: the stored 2D keypoints of every sequence frame',
};

/** The library's state refuses the export (not the request's shape). */
const CONFLICT = /has no fit to export|exists and is not empty/;

/** A preflight Error as an ApiError with its message. */
function exportError(err: unknown): unknown {
  if (err instanceof ApiError || !(err instanceof Error)) return err;
  if (/ does not exist$/.test(err.message)) return new ApiError('not-found', err.message);
  return new ApiError(CONFLICT.test(err.message) ? 'conflict' : 'bad-input', err.message);
}

/** The export renames `<out>.partial-*` into `<out>`: the nearest existing ancestor must take new entries. */
function checkWritable(out: string): void {
  let dir = dirname(out);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ApiError(
      'bad-input',
      `${out}: cannot write the export folder here (${dir}: ${(err as NodeJS.ErrnoException).code ?? 'not writable'})`,
    );
  }
}

export const EXPORT_HANDLERS: Handlers = {
  exportFormats: async () =>
    EXPORT_FORMATS.map((name): ExportFormatInfo => ({
      name,
      description: DESCRIPTIONS[name],
      needsFit: MOTION_FORMATS.includes(name),
    })),
  exportSessions: async (ctx, req) => {
    const params: ExportJobParams = { ...req, out: resolve(req.out) };
    try {
      await preflightExport(ctx.db, { ...params, split: splitFromParams(params) });
    } catch (err) {
      throw exportError(err);
    }
    checkWritable(params.out);
    return ctx.runner.submit('export', { ...params });
  },
};
