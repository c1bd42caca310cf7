import type { ImportResult } from '../../preload/api';
import type { Db } from '../store/db';
import { findSessionBySource } from '../store/sessions';
import { writeTrack } from '../store/tracks';
import { ImportError, throwIfAborted } from './errors';
import { readOpenPoseFolder } from './openpose';
import { planSession } from './plan';
import type { ProbedVideo } from './video';
import { probeVideo, videoThumbnail } from './video';

export interface JobContext {
  jobId: number;
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
}

/**
 * Imports a capture folder. Everything that can be checked without writing (calibration, every
 * video, every keypoint folder listing) is checked first. Rows are then written in stages, the
 * session kept in state 'importing' (invisible) until the last stage flips it to 'ready'; any failure
 * deletes what this job wrote, and a retry first deletes what a killed attempt left, so the library
 * never shows a partial session and never holds duplicates.
 */
export async function importSession(db: Db, folder: string, ctx: JobContext): Promise<ImportResult> {
  ctx.progress(0, 'reading calibration');
  const plan = planSession(folder);

  const existing = await findSessionBySource(db, plan.root);
  if (existing && !(existing.state === 'importing' && existing.job_id === ctx.jobId)) {
    throw new ImportError(
      plan.root,
      existing.state === 'ready'
        ? `already imported as session #${existing.id} "${existing.name}"`
        : `is being imported by job #${existing.job_id}; retry or cancel that job`,
      'conflict',
    );
  }

  const videos: (ProbedVideo | null)[] = [];
  const thumbs: (Buffer | null)[] = [];
  for (const [i, cam] of plan.cameras.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress((0.1 * i) / plan.cameras.length, `probing video of ${cam.name}`);
    const v = cam.videoPath ? await probeVideo(cam.videoPath, ctx.signal) : null;
    videos.push(v);
    thumbs.push(v ? await videoThumbnail(v.path, 240, ctx.signal) : null);
  }
  const reference = videos.find((v) => v !== null) ?? null;

  let sessionId = 0;
  const cameraIds: number[] = [];
  await db.transaction(async () => {
    await db.run(`DELETE FROM sessions WHERE job_id = ? AND state = 'importing'`, [ctx.jobId]);
    const frameCount = Math.max(0, ...videos.map((v) => v?.frameCount ?? 0));
    ({ lastID: sessionId } = await db.run(
      `INSERT INTO sessions (name, source_path, format, state, job_id, fps_num, fps_den, frame_count, created_at, meta)
       VALUES (?, ?, ?, 'importing', ?, ?, ?, ?, ?, ?)`,
      [
        plan.name,
        plan.root,
        plan.format,
        ctx.jobId,
        reference?.fpsNum ?? 0,
        reference?.fpsDen ?? 1,
        frameCount,
        new Date().toISOString(),
        JSON.stringify(plan.meta ?? {}),
      ],
    ));
    for (const [i, cam] of plan.cameras.entries()) {
      const { lastID: cameraId } = await db.run(
        'INSERT INTO cameras (session_id, idx, name, role, calibration) VALUES (?, ?, ?, ?, ?)',
        [sessionId, i, cam.name, cam.role, JSON.stringify(cam.calibration)],
      );
      cameraIds.push(cameraId);
      const v = videos[i];
      if (v) {
        await db.run(
          `INSERT INTO media (camera_id, path, mime, fps_num, fps_den, frame_count, width, height, duration_s, codec, size_bytes, thumbnail)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            cameraId,
            v.path,
            v.mime,
            v.fpsNum,
            v.fpsDen,
            v.frameCount,
            v.width,
            v.height,
            v.durationS,
            v.codec,
            v.sizeBytes,
            thumbs[i],
          ],
        );
      }
    }
  });

  try {
    const keypointFrames: number[] = [];
    const totalFiles = plan.cameras.reduce((n, c) => n + (c.keypoints?.folder.files.length ?? 0), 0);
    let doneFiles = 0;
    for (const [i, cam] of plan.cameras.entries()) {
      throwIfAborted(ctx.signal);
      if (!cam.keypoints) {
        keypointFrames.push(0);
        continue;
      }
      const joints = cam.keypoints.jointNames.length;
      const kp = readOpenPoseFolder(
        cam.keypoints.folder,
        joints,
        (done, total) => {
          if (done % 16 === 0 || done === total) {
            ctx.progress(
              0.1 + (0.85 * (doneFiles + done)) / Math.max(1, totalFiles),
              `keypoints of ${cam.name}: ${done}/${total}`,
            );
          }
        },
        ctx.signal,
      );
      doneFiles += cam.keypoints.folder.files.length;
      // Yield so a cancel message can reach the worker between cameras.
      await new Promise((r) => setImmediate(r));
      throwIfAborted(ctx.signal);
      await db.transaction(() =>
        writeTrack(
          db,
          {
            sessionId,
            cameraId: cameraIds[i],
            kind: 'keypoints2d',
            layout: cam.keypoints!.layout,
            names: [...cam.keypoints!.jointNames],
            frameShape: [joints, 3],
            firstFrame: kp.firstFrame,
          },
          kp.data,
        ),
      );
      keypointFrames.push(kp.frames);
    }
    throwIfAborted(ctx.signal);
    await db.run(`UPDATE sessions SET state = 'ready' WHERE id = ?`, [sessionId]);
    ctx.progress(1, 'imported');
    return {
      sessionId,
      cameras: plan.cameras.length,
      keypointFrames,
      videoFrames: videos.map((v) => v?.frameCount ?? 0),
    };
  } catch (err) {
    await removePartialImport(db, ctx.jobId);
    throw err;
  }
}

/** Deletes whatever an import job left unfinished (cascade removes cameras, media, tracks, chunks). */
export async function removePartialImport(db: Db, jobId: number): Promise<void> {
  await db.transaction(() =>
    db.run(`DELETE FROM sessions WHERE job_id = ? AND state = 'importing'`, [jobId]),
  );
}
