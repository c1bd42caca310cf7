import type { ExportSessionsRequest } from '../../../preload/api';

/** The Export dialog's fields, as typed; exportRequest turns them into the call's request. */

export type SplitMode = 'none' | 'ratios' | 'subjects';

export interface ExportForm {
  formats: string[];
  out: string;
  splitMode: SplitMode;
  /** "train=0.8,val=0.1,test=0.1" */
  ratios: string;
  /** With ratios: an integer, or empty for subject name order. */
  seed: string;
  /** "train:alice,bob;test:carol" */
  subjects: string;
  force: boolean;
}

export const EMPTY_EXPORT_FORM: ExportForm = {
  formats: [],
  out: '',
  splitMode: 'none',
  ratios: '',
  seed: '',
  subjects: '',
  force: false,
};

/**
 * The exportSessions request of a filled form, or a sentence saying what is missing; everything else
 * (known formats, fits, split syntax, the folder) is checked by the call itself.
 */
export function exportRequest(sessionIds: number[], f: ExportForm): ExportSessionsRequest | string {
  if (sessionIds.length === 0) return 'Select at least one session to export.';
  if (f.formats.length === 0) return 'Pick at least one format.';
  const out = f.out.trim();
  if (out === '') return 'Enter the destination folder (an absolute path).';
  const req: ExportSessionsRequest = { sessionIds, formats: f.formats, out, force: f.force };
  if (f.splitMode === 'ratios') {
    if (f.ratios.trim() === '') return 'Enter the split ratios, e.g. train=0.8,val=0.1,test=0.1.';
    req.split = f.ratios.trim();
    const seed = f.seed.trim();
    if (seed !== '') {
      if (!/^-?\d+$/.test(seed) || !Number.isSafeInteger(Number(seed)))
        return `The shuffle seed "${seed}" is not a whole number.`;
      req.splitSeed = Number(seed);
    }
  } else if (f.splitMode === 'subjects') {
    if (f.subjects.trim() === '') return 'Enter the subject lists, e.g. train:alice,bob;test:carol.';
    req.splitSubjects = f.subjects.trim();
  }
  return req;
}

/** "1.2 MB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
