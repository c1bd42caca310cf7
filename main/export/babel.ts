import type { AnnotationSource } from '../store/annotation-history';
import type { TierAnnotations } from '../store/annotations';

/**
 * Annotations as BABEL-style JSON (Punnakkal et al. 2021: per sequence `frame_ann.labels` with
 * `start_t` / `end_t` seconds, `proc_label`, `raw_label`, `act_cat`) and as CSV. Times and frames are
 * relative to the exported sequence (its frame 0 is the first frame of the motion files, session
 * frame `firstFrame`); segments are clipped to the sequence and those outside it dropped, with both
 * counted. A segment is [start_frame, end_frame), end exclusive, as the studio stores it.
 */

export interface ExportSegment {
  tier: string;
  tierKind: string;
  /** Sequence frames [start, end). */
  start: number;
  end: number;
  label: string;
  source: AnnotationSource;
  annotationId: number;
  clipped: boolean;
}

export interface SegmentCounts {
  tiers: number;
  segments: number;
  clipped: number;
  dropped: number;
  bySource: Record<string, number>;
}

export interface SequenceSegments {
  sequence: string;
  sessionId: number;
  sessionName: string;
  fps: number;
  firstFrame: number;
  frameCount: number;
  segments: ExportSegment[];
  /** The sequence's AMASS file, relative to the split folder, when one is exported. */
  motionFile: string | null;
}

/** Segments of every tier (tier order, then start) within sequence frames [0, frameCount). */
export function clipSegments(
  tiers: readonly TierAnnotations[],
  firstFrame: number,
  frameCount: number,
): { segments: ExportSegment[]; counts: SegmentCounts } {
  const segments: ExportSegment[] = [];
  const counts: SegmentCounts = { tiers: tiers.length, segments: 0, clipped: 0, dropped: 0, bySource: {} };
  for (const t of tiers)
    for (const a of t.annotations) {
      const start = Math.max(0, a.start - firstFrame);
      const end = Math.min(frameCount, a.end - firstFrame);
      if (end <= start) {
        counts.dropped++;
        continue;
      }
      const clipped = start !== a.start - firstFrame || end !== a.end - firstFrame;
      if (clipped) counts.clipped++;
      counts.segments++;
      counts.bySource[a.source.kind] = (counts.bySource[a.source.kind] ?? 0) + 1;
      segments.push({
        tier: t.name,
        tierKind: t.kind,
        start,
        end,
        label: a.label,
        source: a.source,
        annotationId: a.id,
        clipped,
      });
    }
  return { segments, counts };
}

/** One entry of a split's babel.json, keyed there by sequence name. */
export function babelSequence(s: SequenceSegments): Record<string, unknown> {
  return {
    babel_sid: s.sessionId,
    sequence: s.sequence,
    session_name: s.sessionName,
    feat_p: s.motionFile,
    fps: s.fps,
    frames: s.frameCount,
    dur: s.frameCount / s.fps,
    first_session_frame: s.firstFrame,
    seq_ann: null,
    frame_ann: {
      labels: s.segments.map((g) => ({
        seg_id: `${s.sequence}:${g.annotationId}`,
        start_t: g.start / s.fps,
        end_t: g.end / s.fps,
        start_frame: g.start,
        end_frame: g.end,
        proc_label: g.label,
        raw_label: g.label,
        act_cat: [g.label],
        tier: g.tier,
        tier_kind: g.tierKind,
        source: g.source,
        clipped: g.clipped,
      })),
    },
  };
}

/** "user" or "motif-family:model=<id>:family=<n>:proposal=<id>". */
export function sourceText(s: AnnotationSource): string {
  return s.kind === 'user'
    ? 'user'
    : `motif-family:model=${s.modelId}:family=${s.family}:proposal=${s.proposalId}`;
}

/** RFC 4180: quoted when the field holds a comma, quote or line break; quotes doubled. */
function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = [
  'sequence',
  'tier',
  'start_frame',
  'end_frame',
  'start_s',
  'end_s',
  'label',
  'source',
];

/** annotations.csv of a split: a header and one row per segment, "\n" line ends. */
export function annotationsCsv(sequences: readonly SequenceSegments[]): string {
  const rows = [CSV_HEADER.join(',')];
  for (const s of sequences)
    for (const g of s.segments)
      rows.push(
        [
          s.sequence,
          g.tier,
          g.start,
          g.end,
          (g.start / s.fps).toFixed(6),
          (g.end / s.fps).toFixed(6),
          g.label,
          sourceText(g.source),
        ]
          .map(csvField)
          .join(','),
      );
  return rows.join('\n') + '\n';
}
