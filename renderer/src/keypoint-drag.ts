import type { ContentRect } from './overlay';

/**
 * Dragging a keypoint in a camera view: image pixels (the detector's and the user keypoints' space)
 * to and from the overlay's CSS pixels through the letterboxed content rect (overlay.ts), and the
 * grabbed handle. Only mapping; what a drop means is the API's (setUserKeypoint).
 */

/** A point the user can grab: a joint of the camera's keypoint layout at image pixel (u, v). */
export interface DragHandle {
  joint: number;
  u: number;
  v: number;
  /** A user keypoint already stored (drawn as one, moved on drop). */
  user: boolean;
}

/** Screen position (CSS pixels in the overlay box) of image pixel (u, v): x = rect.x + u * w / W. */
export function imageToScreen(
  rect: ContentRect,
  W: number,
  H: number,
  u: number,
  v: number,
): [number, number] {
  return [rect.x + (u * rect.width) / W, rect.y + (v * rect.height) / H];
}

/** The inverse: image pixel under screen position (x, y). */
export function screenToImage(
  rect: ContentRect,
  W: number,
  H: number,
  x: number,
  y: number,
): [number, number] {
  return [((x - rect.x) * W) / rect.width, ((y - rect.y) * H) / rect.height];
}

/**
 * The handle nearest screen position (x, y) within `radius` CSS pixels, a user keypoint before a
 * detection (it is drawn on top); null when none is that close.
 */
export function grabHandle(
  handles: readonly DragHandle[],
  rect: ContentRect,
  W: number,
  H: number,
  x: number,
  y: number,
  radius: number,
): DragHandle | null {
  const nearest = (user: boolean): DragHandle | null => {
    let best: DragHandle | null = null;
    let bestD = radius * radius;
    for (const h of handles) {
      if (h.user !== user) continue;
      const [hx, hy] = imageToScreen(rect, W, H, h.u, h.v);
      const d = (hx - x) ** 2 + (hy - y) ** 2;
      if (d <= bestD) [best, bestD] = [h, d];
    }
    return best;
  };
  return nearest(true) ?? nearest(false);
}
