import { describe, expect, it } from 'vitest';
import { FIT_FLAGS, type FitQualityBlock, type FootPoseBlock } from '../../preload/api';
import {
  decodeFitFrame,
  decodeFloat32,
  decodeUint32,
  flagNames,
  footPoseAt,
  qualitySeries,
  stepFlagged,
} from '../../renderer/src/fit-frame';

const b64 = (a: Float32Array | Uint32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

describe('fit data in the review view', () => {
  it('decodes base64 float32 and uint32 arrays as the server encodes them, reusing the buffer', () => {
    const v = new Float32Array([1.5, -2.25, NaN, 3e-7]);
    const out = decodeFloat32(b64(v));
    expect(Array.from(out)).toEqual(Array.from(v));
    const reused = new Float32Array(4);
    expect(decodeFloat32(b64(v), reused)).toBe(reused);
    expect(reused[1]).toBe(-2.25);
    // A different length cannot reuse it.
    expect(decodeFloat32(b64(new Float32Array([7])), reused)).not.toBe(reused);
    expect(Array.from(decodeUint32(b64(new Uint32Array([0, 1, 4294967295]))))).toEqual([0, 1, 4294967295]);
    expect(() => decodeFloat32(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not a float32 array/);
  });

  it('decodes a fit frame into the previous frame buffers', () => {
    const frame = {
      fitId: 3,
      frame: 12,
      vertices: b64(new Float32Array([0, 0, 1, 1, 0, 1])),
      joints: b64(new Float32Array([0, 0, 0.9])),
      projected: {
        cameraId: 2,
        vertices: b64(new Float32Array([10, 20, 30, 40])),
        joints: b64(new Float32Array([5, 6])),
      },
      quality: [],
    };
    const first = decodeFitFrame(frame, null);
    const second = decodeFitFrame({ ...frame, frame: 13 }, first);
    expect(second.vertices).toBe(first.vertices);
    expect(second.projected!.vertices).toBe(first.projected!.vertices);
    expect(second).toMatchObject({ fitId: 3, frame: 13 });
    expect(Array.from(second.projected!.joints)).toEqual([5, 6]);
  });

  it('arranges quality columns as curves: worst view, penetration, foot millimetres (not degrees), flags', () => {
    const fields = [
      'reprojRms:cam01',
      'reprojRms:cam02',
      'views',
      'maxPenetrationMm',
      'footCamMm:foot-left',
      'footCamDeg:foot-left',
      'flags',
    ];
    const block: FitQualityBlock = {
      start: 10,
      count: 3,
      fields,
      data: [
        ...[4, 6, 2, 0.5, 12, 40, 0],
        ...[null, 3, 1, 11, null, null, FIT_FLAGS.penetration | FIT_FLAGS.weak],
        ...[20, 2, 2, 0, 35, 2, FIT_FLAGS.reprojection | FIT_FLAGS.footCamera],
      ],
    };
    const q = qualitySeries(block);
    expect(q.frames).toEqual([10, 11, 12]);
    expect(q.reprojPx).toEqual([6, 3, 20]);
    expect(q.penetrationMm).toEqual([0.5, 11, 0]);
    expect(q.footMm).toEqual([12, null, 35]);
    expect(q.flagged).toEqual([11, 12]);
    expect(flagNames(q.flags[1])).toEqual(['penetration', 'weak']);
    expect(stepFlagged(q.flagged, 10, 1)).toBe(11);
    expect(stepFlagged(q.flagged, 11, 1)).toBe(12);
    expect(stepFlagged(q.flagged, 12, 1)).toBeNull();
    expect(stepFlagged(q.flagged, 12, -1)).toBe(11);
    expect(stepFlagged(q.flagged, 11, -1)).toBeNull();
  });

  it("reads a foot camera's pose at a frame, none where it was not localised", () => {
    const fields = ['r00', 'r01', 'r02', 'r10', 'r11', 'r12', 'r20', 'r21', 'r22', 'tx', 'ty', 'tz'];
    const block: FootPoseBlock = {
      start: 5,
      count: 2,
      fields: [...fields, 'rms', 'corners', 'status', 'resolved'],
      data: [
        ...[1, 0, 0, 0, 1, 0, 0, 0, 1, 0.1, 0.2, 0.3, 0.4, 20, 1, 0],
        ...[null, null, null, null, null, null, null, null, null, null, null, null, null, 0, 0, 0],
      ],
      corners: null,
    };
    expect(footPoseAt(block, 5)).toEqual({ R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0.1, 0.2, 0.3] });
    expect(footPoseAt(block, 6)).toBeNull();
    expect(footPoseAt(block, 7)).toBeNull();
  });
});
