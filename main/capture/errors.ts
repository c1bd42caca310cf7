/** An import problem the user can fix: names the file and says what is wrong with it. */
export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly code: 'bad-input' | 'conflict' | 'not-found' = 'bad-input',
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ImportError';
  }
}

/** Thrown when a job's AbortSignal fires; the job ends `cancelled`, not `failed`. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
