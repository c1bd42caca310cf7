import cliProgress from 'cli-progress';
import type { JobInfo } from '../../preload/api';
import type { AppContext } from '../api/context';

/** Human lines go to stderr when --json is set, so stdout's last line is always the JSON object. */
export class Output {
  constructor(readonly json: boolean) {}

  info(line: string): void {
    (this.json ? process.stderr : process.stdout).write(line + '\n');
  }

  result(obj: unknown): void {
    if (this.json) process.stdout.write(JSON.stringify(obj) + '\n');
  }

  error(message: string): void {
    process.stderr.write(`error: ${message}\n`);
    if (this.json) process.stdout.write(JSON.stringify({ error: message }) + '\n');
  }
}

/**
 * A terminal progress bar on stderr (stdout stays for the --json line), started at 0 of `total`;
 * `format` names what is counted, default a percentage.
 */
export function progressBar(
  first: string,
  total = 100,
  format = ' {bar} {percentage}% | {message}',
): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: false, noTTYOutput: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { message: first });
  return bar;
}

/** Follows a job to its end with a terminal progress bar on stderr. */
export async function followJob(ctx: AppContext, jobId: number): Promise<JobInfo> {
  const bar = progressBar('queued');
  const onJob = (job: JobInfo) => {
    if (job.id === jobId) bar.update(Math.round(job.progress * 100), { message: job.message });
  };
  ctx.runner.events.on('job', onJob);
  try {
    return await ctx.runner.waitFor(jobId);
  } finally {
    ctx.runner.events.off('job', onJob);
    bar.stop();
  }
}
