import { useEffect, useRef, useState } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { CameraCalibration, FitScene } from '../../../preload/api';
import { cameraCentre } from '../../../main/geometry/camera';
import { decodeUint32, type FitBody } from '../fit-frame';

/** A foot camera's localised world -> camera pose at the shown frame. */
export interface FootCameraPose {
  cameraId: number;
  R: number[];
  t: number[];
}

interface Props {
  scene: FitScene;
  body: FitBody | null;
  footPoses: FootCameraPose[];
  /** The room camera whose video is shown, drawn highlighted. */
  selectedCameraId: number | null;
}

const COLOUR = {
  background: 0x14161a,
  grid: 0x363c45,
  floor: 0x1b1f25,
  room: 0x6f9fe8,
  selected: 0xffd166,
  'foot-left': 0xffb340,
  'foot-right': 0x3fb8ff,
  board: 0xe8e8e8,
  body: 0xd9a38a,
  skeleton: 0xff50be,
};
/** Frustum depths drawn, metres: room cameras stand metres away, foot cameras are on the shoes. */
const ROOM_FRUSTUM_M = 0.35;
const FOOT_FRUSTUM_M = 0.15;

/**
 * The 3D review: floor grid at z = 0 (world Z up), room cameras and boards from the session, the foot
 * cameras at their localised pose of the frame, and the fitted mesh and skeleton of the frame.
 */
export function FitScene3D({ scene, body, footPoses, selectedCameraId }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<SceneView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    let view: SceneView;
    try {
      view = new SceneView(box);
    } catch (err) {
      // No WebGL (a locked-down GPU, a remote desktop): say so instead of a blank box.
      setError(`3D view unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    viewRef.current = view;
    return () => {
      viewRef.current = null;
      view.dispose();
    };
  }, []);
  useEffect(() => viewRef.current?.setScene(scene), [scene]);
  useEffect(() => viewRef.current?.setBody(body), [body, scene]);
  useEffect(() => viewRef.current?.setFootPoses(footPoses), [footPoses, scene]);
  useEffect(() => viewRef.current?.highlight(selectedCameraId), [selectedCameraId, scene]);

  return (
    <div className="fit-3d" ref={boxRef}>
      {error && <p className="muted empty">{error}</p>}
    </div>
  );
}

const scratchC = new Float64Array(3);

/** Camera -> world transform of an OpenCV camera: X_w = R^T X_c + C, with C = -R^T t. */
function placeCamera(obj: THREE.Object3D, cal: CameraCalibration): void {
  const C = cameraCentre(cal, scratchC);
  const R = cal.R;
  obj.matrixAutoUpdate = false;
  obj.matrix.set(R[0], R[3], R[6], C[0], R[1], R[4], R[7], C[1], R[2], R[5], R[8], C[2], 0, 0, 0, 1);
  obj.matrixWorldNeedsUpdate = true;
}

/**
 * A camera's frustum in its own frame (x right, y down, z forward): apex, the image corners back-projected
 * through K^-1 to `depth`, and a notch above the top edge to show which way is up in the image.
 */
function frustum(cal: CameraCalibration, depth: number, colour: number, name: string): THREE.Group {
  const [fx, , cx, , fy, cy] = cal.K;
  const ray = (u: number, v: number) =>
    new THREE.Vector3(((u - cx) / fx) * depth, ((v - cy) / fy) * depth, depth);
  const c = [ray(0, 0), ray(cal.width, 0), ray(cal.width, cal.height), ray(0, cal.height)];
  const o = new THREE.Vector3();
  const topMid = c[0].clone().lerp(c[1], 0.5);
  const notch = topMid.clone().addScaledVector(new THREE.Vector3(0, -1, 0), 0.2 * (c[3].y - c[0].y));
  const points = [o, c[0], o, c[1], o, c[2], o, c[3], c[0], c[1], c[1], c[2], c[2], c[3], c[3], c[0]];
  points.push(c[0].clone().lerp(c[1], 0.3), notch, notch, c[0].clone().lerp(c[1], 0.7));
  const group = new THREE.Group();
  const lines = new THREE.LineSegments(
    new THREE.BufferGeometry().setFromPoints(points),
    new THREE.LineBasicMaterial({ color: colour }),
  );
  group.add(lines);
  const label = textSprite(name, colour, 2.4 * depth);
  label.position.set(0, -0.6 * depth, 0);
  group.add(label);
  return group;
}

/** A camera's name facing the viewer, `width` metres wide. */
function textSprite(text: string, colour: number, width: number): THREE.Sprite {
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 64;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    ctx.font = '600 34px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = `#${colour.toString(16).padStart(6, '0')}`;
    ctx.fillText(text, 128, 32);
  }
  const material = new THREE.SpriteMaterial({ map: new THREE.CanvasTexture(canvas), depthTest: false });
  const sprite = new THREE.Sprite(material);
  sprite.scale.set(width, width / 4, 1);
  sprite.renderOrder = 3;
  return sprite;
}

/** Grid lines over the floor extent (x0, y0, x1, y1) at z = 0, and a dark plane under them. */
function floor(extent: number[]): THREE.Group {
  const [ex0, ey0, ex1, ey1] = extent.length === 4 ? extent : [-3, -3, 3, 3];
  const size = Math.max(ex1 - ex0, ey1 - ey0, 1);
  const step = [0.25, 0.5, 1, 2, 5, 10].find((s) => size / s <= 40) ?? 20;
  const x0 = Math.floor(ex0 / step) * step;
  const y0 = Math.floor(ey0 / step) * step;
  const x1 = Math.ceil(ex1 / step) * step;
  const y1 = Math.ceil(ey1 / step) * step;
  const pts: THREE.Vector3[] = [];
  for (let x = x0; x <= x1 + 1e-9; x += step)
    pts.push(new THREE.Vector3(x, y0, 0), new THREE.Vector3(x, y1, 0));
  for (let y = y0; y <= y1 + 1e-9; y += step)
    pts.push(new THREE.Vector3(x0, y, 0), new THREE.Vector3(x1, y, 0));
  const group = new THREE.Group();
  group.add(
    new THREE.LineSegments(
      new THREE.BufferGeometry().setFromPoints(pts),
      new THREE.LineBasicMaterial({ color: COLOUR.grid }),
    ),
  );
  const plane = new THREE.Mesh(
    new THREE.PlaneGeometry(x1 - x0, y1 - y0),
    new THREE.MeshBasicMaterial({ color: COLOUR.floor, side: THREE.DoubleSide }),
  );
  // Just under the grid so the lines never fight the plane for depth.
  plane.position.set((x0 + x1) / 2, (y0 + y1) / 2, -0.002);
  group.add(plane);
  group.add(new THREE.AxesHelper(0.5));
  return group;
}

/** A board as a translucent quad with its outline, from its four world corners. */
function boardQuad(corners: number[]): THREE.Group {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(corners.slice(0, 12), 3));
  geometry.setIndex([0, 1, 2, 0, 2, 3]);
  const group = new THREE.Group();
  group.add(
    new THREE.Mesh(
      geometry,
      new THREE.MeshBasicMaterial({
        color: COLOUR.board,
        transparent: true,
        opacity: 0.22,
        side: THREE.DoubleSide,
      }),
    ),
  );
  group.add(new THREE.LineLoop(geometry, new THREE.LineBasicMaterial({ color: COLOUR.board })));
  return group;
}

function disposeTree(root: THREE.Object3D): void {
  root.traverse((o) => {
    const m = o as THREE.Mesh;
    m.geometry?.dispose();
    const mats = Array.isArray(m.material) ? m.material : m.material ? [m.material] : [];
    for (const mat of mats) {
      (mat as THREE.SpriteMaterial).map?.dispose();
      mat.dispose();
    }
  });
}

/** The three.js side: renderer, orbit camera, scene content; renders on demand, not in a loop. */
class SceneView {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(45, 1, 0.01, 200);
  private readonly controls: OrbitControls;
  private readonly resize: ResizeObserver;
  private content = new THREE.Group();
  private roomMaterials = new Map<number, THREE.LineBasicMaterial>();
  private footFrusta = new Map<number, { group: THREE.Group; calibration: CameraCalibration }>();
  private mesh: THREE.Mesh | null = null;
  private skeleton: THREE.LineSegments | null = null;
  private parents: number[] = [];
  private frameRequest = 0;

  constructor(private readonly box: HTMLElement) {
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    const canvas = this.renderer.domElement;
    canvas.dataset.testid = 'fit-3d';
    canvas.className = 'fit-3d-canvas';
    box.appendChild(canvas);
    this.scene.background = new THREE.Color(COLOUR.background);
    this.camera.up.set(0, 0, 1);
    const sky = new THREE.HemisphereLight(0xffffff, 0x404040, 1.6);
    sky.position.set(0, 0, 1);
    const sun = new THREE.DirectionalLight(0xffffff, 1.8);
    sun.position.set(3, -4, 6);
    this.scene.add(sky, sun, this.content);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.addEventListener('change', () => this.requestRender());
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(box);
    this.fit();
  }

  setScene(s: FitScene): void {
    this.scene.remove(this.content);
    disposeTree(this.content);
    this.content = new THREE.Group();
    this.roomMaterials.clear();
    this.footFrusta.clear();
    this.content.add(floor(s.floor));
    for (const cam of s.cameras) {
      const room = cam.role === 'room';
      const f = frustum(cam.calibration, room ? ROOM_FRUSTUM_M : FOOT_FRUSTUM_M, COLOUR[cam.role], cam.name);
      if (room) {
        placeCamera(f, cam.calibration);
        this.roomMaterials.set(
          cam.id,
          (f.children[0] as THREE.LineSegments).material as THREE.LineBasicMaterial,
        );
      } else {
        f.visible = false; // until the frame has a localised pose
        this.footFrusta.set(cam.id, { group: f, calibration: cam.calibration });
      }
      this.content.add(f);
    }
    for (const b of s.boards) if (b.corners.length >= 12) this.content.add(boardQuad(b.corners));

    const faces = decodeUint32(s.faces);
    let vertexCount = 0;
    for (let i = 0; i < faces.length; i++) if (faces[i] + 1 > vertexCount) vertexCount = faces[i] + 1;
    const geometry = new THREE.BufferGeometry();
    const position = new THREE.BufferAttribute(new Float32Array(3 * vertexCount), 3);
    position.setUsage(THREE.DynamicDrawUsage);
    geometry.setAttribute('position', position);
    geometry.setIndex(new THREE.BufferAttribute(faces, 1));
    this.mesh = new THREE.Mesh(
      geometry,
      new THREE.MeshStandardMaterial({ color: COLOUR.body, roughness: 0.75, metalness: 0 }),
    );
    this.mesh.frustumCulled = false; // its bounds change every frame
    this.mesh.visible = false;
    this.parents = s.parents;
    const bones = new THREE.BufferGeometry();
    bones.setAttribute('position', new THREE.BufferAttribute(new Float32Array(6 * s.parents.length), 3));
    this.skeleton = new THREE.LineSegments(
      bones,
      new THREE.LineBasicMaterial({ color: COLOUR.skeleton, depthTest: false, transparent: true }),
    );
    this.skeleton.renderOrder = 2;
    this.skeleton.frustumCulled = false;
    this.skeleton.visible = false;
    this.content.add(this.mesh, this.skeleton);
    this.scene.add(this.content);
    this.lookAtFloor(s.floor);
  }

  /** Copies the frame's vertices into the mesh's position attribute (in place) and the skeleton. */
  setBody(body: FitBody | null): void {
    const mesh = this.mesh;
    const skeleton = this.skeleton;
    const canvas = this.renderer.domElement;
    if (!mesh || !skeleton) return;
    const position = mesh.geometry.getAttribute('position') as THREE.BufferAttribute;
    const fits = !!body && body.vertices.length === position.array.length;
    mesh.visible = fits;
    skeleton.visible = fits && body.joints.length >= 3 * this.parents.length;
    if (fits) {
      (position.array as Float32Array).set(body.vertices);
      position.needsUpdate = true;
      mesh.geometry.computeVertexNormals();
      if (skeleton.visible) this.updateBones(body.joints);
    }
    canvas.dataset.frame = fits ? String(body.frame) : '';
    canvas.dataset.vertices = fits ? String(body.vertices.length / 3) : '0';
    this.requestRender();
  }

  setFootPoses(poses: { cameraId: number; R: number[]; t: number[] }[]): void {
    for (const { group } of this.footFrusta.values()) group.visible = false;
    for (const p of poses) {
      const foot = this.footFrusta.get(p.cameraId);
      if (!foot) continue;
      placeCamera(foot.group, { ...foot.calibration, R: p.R, t: p.t });
      foot.group.visible = true;
    }
    this.requestRender();
  }

  highlight(cameraId: number | null): void {
    for (const [id, material] of this.roomMaterials)
      material.color.setHex(id === cameraId ? COLOUR.selected : COLOUR.room);
    this.requestRender();
  }

  dispose(): void {
    cancelAnimationFrame(this.frameRequest);
    this.resize.disconnect();
    this.controls.dispose();
    disposeTree(this.scene);
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.renderer.domElement.remove();
  }

  private updateBones(joints: Float32Array): void {
    const attr = this.skeleton!.geometry.getAttribute('position') as THREE.BufferAttribute;
    const out = attr.array as Float32Array;
    out.fill(0);
    let k = 0;
    this.parents.forEach((p, j) => {
      if (p < 0) return;
      for (let d = 0; d < 3; d++) {
        out[k + d] = joints[3 * p + d];
        out[k + 3 + d] = joints[3 * j + d];
      }
      k += 6;
    });
    attr.needsUpdate = true;
    this.skeleton!.geometry.setDrawRange(0, k / 3);
  }

  /** Starts looking at the middle of the floor from a corner, high enough to see the cameras. */
  private lookAtFloor(extent: number[]): void {
    const [x0, y0, x1, y1] = extent.length === 4 ? extent : [-3, -3, 3, 3];
    const size = Math.max(x1 - x0, y1 - y0, 2);
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    this.controls.target.set(cx, cy, 0.8);
    this.camera.position.set(cx - 0.55 * size, cy - 0.85 * size, 0.65 * size);
    this.controls.update();
    this.requestRender();
  }

  private fit(): void {
    const w = Math.max(1, this.box.clientWidth);
    const h = Math.max(1, this.box.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  private requestRender(): void {
    if (this.frameRequest) return;
    this.frameRequest = requestAnimationFrame(() => {
      this.frameRequest = 0;
      this.renderer.render(this.scene, this.camera);
    });
  }
}
