import type { ApiErrorBody } from '../../preload/api';
import { ImportError } from '../capture/errors';
import { JobError } from '../jobs/runner';

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorBody['code'],
    message: string,
  ) {
    super(message);
  }
}

/** Maps any thrown value to the body that crosses a transport. */
export function toErrorBody(err: unknown): ApiErrorBody {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err instanceof ImportError) return { code: err.code, message: err.message };
  if (err instanceof JobError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export const HTTP_STATUS: Record<ApiErrorBody['code'], number> = {
  'invalid-request': 400,
  'bad-input': 422,
  'not-found': 404,
  conflict: 409,
  unauthorized: 401,
  internal: 500,
};
