// The 3D topology renderer: one draw call for all nodes (Points with a round-point
// shader), one for all edges (LineSegments whose colour runs dim at the source to bright at
// the target, so direction reads at any scale), arrowheads (one InstancedMesh) where the
// edge count allows, and a highlight layer for an impact path or a selection.
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  ConeGeometry,
  DynamicDrawUsage,
  InstancedMesh,
  LineBasicMaterial,
  LineSegments,
  type Material,
  Matrix4,
  MeshBasicMaterial,
  PerspectiveCamera,
  Points,
  Quaternion,
  Raycaster,
  Scene,
  ShaderMaterial,
  Vector2,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

export interface SceneNode {
  ref: string;
  kind: string;
  colour: string;
}

const VERTEX = `
attribute float size;
attribute vec3 color;
attribute float alpha;
uniform float uScale;
varying vec3 vColor;
varying float vAlpha;
void main() {
  vColor = color;
  vAlpha = alpha;
  vec4 mv = modelViewMatrix * vec4(position, 1.0);
  gl_PointSize = max(2.5, size * uScale / -mv.z);
  gl_Position = projectionMatrix * mv;
}`;

const FRAGMENT = `
varying vec3 vColor;
varying float vAlpha;
void main() {
  vec2 c = gl_PointCoord - vec2(0.5);
  float d = dot(c, c);
  if (d > 0.25) discard;
  float rim = smoothstep(0.16, 0.25, d);
  gl_FragColor = vec4(mix(vColor, vColor * 0.55, rim) * vAlpha, 1.0);
}`;

const ARROW_LIMIT = 4000;
const BASE_SIZE = 8; // node diameter in world units (links are 18 to 30 long)

export class TopologyScene {
  readonly renderer: WebGLRenderer;
  readonly camera: PerspectiveCamera;
  readonly controls: OrbitControls;
  private scene = new Scene();
  private points: Points | null = null;
  private lines: LineSegments | null = null;
  private hiLines: LineSegments | null = null;
  private arrows: InstancedMesh | null = null;
  private raycaster = new Raycaster();
  private nodes: SceneNode[] = [];
  private links: Int32Array = new Int32Array(0);
  private positions: Float32Array = new Float32Array(0);
  private highlightedNodes = new Set<number>();
  private highlightedEdges: number[] = [];
  private selected = -1;
  private hovered = -1;
  private frames = 0;
  private fpsWindowStart = performance.now();
  private fpsFrames = 0;
  fps = 0;
  firstFrameAt: number | null = null;
  onFirstFrame: (() => void) | null = null;
  private resizeObserver: ResizeObserver;
  private scaleUniform = { value: 800 };
  private lineFade = 0.7;
  private baseSize = BASE_SIZE;
  private dirty = true;
  private lastChange = 0;
  private lowRes = false;
  private motionRatio = 1; // below 1: fewer pixels while the view moves (big graphs)
  private basePixelRatio = 1;

  constructor(private container: HTMLElement) {
    this.renderer = new WebGLRenderer({ antialias: false, powerPreference: "high-performance" });
    this.basePixelRatio = Math.min(window.devicePixelRatio, 1.5);
    this.renderer.setPixelRatio(this.basePixelRatio);
    this.renderer.setClearColor(0x0b1020, 1);
    this.camera = new PerspectiveCamera(55, 1, 1, 100000);
    this.camera.position.set(0, 0, 400);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.listenToKeyEvents(this.renderer.domElement);
    this.controls.addEventListener("change", () => this.moved());
    this.raycaster.params.Points = { threshold: 4 };
    container.appendChild(this.renderer.domElement);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
    this.renderer.setAnimationLoop(() => this.frame());
  }

  get frameCount(): number {
    return this.frames;
  }

  private resize(): void {
    this.renderer.setPixelRatio(this.basePixelRatio * (this.lowRes ? this.motionRatio : 1));
    const w = Math.max(this.container.clientWidth, 1);
    const ht = Math.max(this.container.clientHeight, 1);
    this.renderer.setSize(w, ht, false);
    this.renderer.domElement.style.width = "100%";
    this.renderer.domElement.style.height = "100%";
    this.camera.aspect = w / ht;
    this.camera.updateProjectionMatrix();
    this.invalidate();
    // Pixels per world unit at distance 1: points keep their world size when zooming.
    this.scaleUniform.value = (ht * this.renderer.getPixelRatio()) / (2 * Math.tan((this.camera.fov * Math.PI) / 360));
  }

  /** Draws `frames` frames back to back and waits for the GL to finish: ms per frame, at
   * full resolution or (`motion`) at the resolution used while the view moves. */
  measureDraw(frames: number, motion = false): number {
    const gl = this.renderer.getContext();
    this.lowRes = motion && this.motionRatio < 1;
    this.resize();
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) {
      this.controls.rotateLeft?.(0.01);
      this.controls.update();
      this.renderer.render(this.scene, this.camera);
    }
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); // waits for the GL
    return (performance.now() - t0) / Math.max(frames, 1);
  }

  /** Turns the camera round the graph on its own (a frame every display refresh). */
  spin(on: boolean): void {
    this.controls.autoRotate = on;
    this.controls.autoRotateSpeed = 4;
  }

  /** Asks for a frame: the scene is drawn only when something changed. */
  invalidate(): void {
    this.dirty = true;
  }

  /** The view or the layout moved: draw, at the motion resolution for a moment. */
  private moved(): void {
    this.lastChange = performance.now();
    this.invalidate();
  }

  private frame(): void {
    this.controls.update(); // fires "change" while the view moves (damping included)
    // Big graphs draw at a lower resolution while moving (edge rasterisation dominates a
    // frame on a software renderer), and once at full resolution when they stop.
    const low = this.motionRatio < 1 && performance.now() - this.lastChange < 250;
    if (low !== this.lowRes) {
      this.lowRes = low;
      this.resize();
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    this.frames++;
    this.fpsFrames++;
    const now = performance.now();
    if (now - this.fpsWindowStart >= 1000) {
      this.fps = (this.fpsFrames * 1000) / (now - this.fpsWindowStart);
      this.fpsWindowStart = now;
      this.fpsFrames = 0;
    }
    if (this.firstFrameAt === null && this.points) {
      this.firstFrameAt = now;
      this.onFirstFrame?.();
    }
  }

  /** Replaces the graph. `positions` holds x,y,z per node; `links` source,target per edge. */
  setGraph(nodes: SceneNode[], links: Int32Array, positions: Float32Array): void {
    this.disposeGraph();
    this.nodes = nodes;
    this.links = links;
    this.positions = positions;
    this.highlightedNodes.clear();
    this.highlightedEdges = [];
    this.selected = -1;
    this.hovered = -1;
    const n = nodes.length;
    this.baseSize = n > 2000 ? BASE_SIZE * 0.7 : BASE_SIZE;
    this.motionRatio = links.length / 2 > 3000 ? 0.5 : 1;
    const geo = new BufferGeometry();
    geo.setAttribute("position", new BufferAttribute(positions, 3).setUsage(DynamicDrawUsage));
    geo.setAttribute("color", new BufferAttribute(new Float32Array(n * 3), 3));
    geo.setAttribute("size", new BufferAttribute(new Float32Array(n).fill(this.baseSize), 1));
    geo.setAttribute("alpha", new BufferAttribute(new Float32Array(n).fill(1), 1));
    const mat = new ShaderMaterial({
      vertexShader: VERTEX,
      fragmentShader: FRAGMENT,
      transparent: false,
      depthWrite: true,
      uniforms: { uScale: this.scaleUniform },
    });
    this.points = new Points(geo, mat);
    this.points.frustumCulled = false;
    this.scene.add(this.points);

    const m = links.length / 2;
    const lgeo = new BufferGeometry();
    lgeo.setAttribute("position", new BufferAttribute(new Float32Array(m * 6), 3).setUsage(DynamicDrawUsage));
    lgeo.setAttribute("color", new BufferAttribute(new Float32Array(m * 6), 3));
    // Opaque (no blending: far cheaper on software GL); faintness is in the colours.
    this.lineFade = m > 3000 ? 0.45 : 0.7;
    this.lines = new LineSegments(lgeo, new LineBasicMaterial({ vertexColors: true }));
    this.lines.frustumCulled = false;
    this.scene.add(this.lines);

    const hgeo = new BufferGeometry();
    hgeo.setAttribute("position", new BufferAttribute(new Float32Array(0), 3));
    this.hiLines = new LineSegments(hgeo, new LineBasicMaterial({ color: 0xff3b3b }));
    this.hiLines.frustumCulled = false;
    this.scene.add(this.hiLines);

    this.colourise();
    this.rebuildArrows();
    this.updatePositions(positions);
    this.fit();
  }

  private disposeGraph(): void {
    for (const obj of [this.points, this.lines, this.hiLines, this.arrows]) {
      if (!obj) continue;
      this.scene.remove(obj);
      obj.geometry.dispose();
      (obj.material as Material).dispose();
    }
    this.points = this.lines = this.hiLines = null;
    this.arrows = null;
  }

  /** Highlights nodes and edges (an impact path); everything else is dimmed. Empty clears. */
  highlight(nodes: Set<number>, edges: number[]): void {
    this.highlightedNodes = nodes;
    this.highlightedEdges = edges;
    this.colourise();
    this.rebuildArrows();
    this.updatePositions(this.positions);
  }

  select(index: number): void {
    this.selected = index;
    this.colourise();
  }

  private colourise(): void {
    if (!this.points || !this.lines) return;
    const n = this.nodes.length;
    const active = this.highlightedNodes.size > 0;
    const colour = this.points.geometry.getAttribute("color") as BufferAttribute;
    const size = this.points.geometry.getAttribute("size") as BufferAttribute;
    const alpha = this.points.geometry.getAttribute("alpha") as BufferAttribute;
    const c = new Color();
    const rgb: number[] = new Array(n * 3);
    for (let i = 0; i < n; i++) {
      c.set(this.nodes[i].colour);
      const hot = this.highlightedNodes.has(i);
      const dim = active && !hot;
      const f = dim ? 0.3 : 1;
      rgb[3 * i] = c.r * f;
      rgb[3 * i + 1] = c.g * f;
      rgb[3 * i + 2] = c.b * f;
      colour.setXYZ(i, rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
      const b = this.baseSize;
      size.setX(i, i === this.selected ? b * 2.4 : i === this.hovered ? b * 1.8 : hot ? b * 1.7 : b);
      alpha.setX(i, dim ? 0.6 : 1);
    }
    colour.needsUpdate = size.needsUpdate = alpha.needsUpdate = true;
    this.invalidate();
    const lc = this.lines.geometry.getAttribute("color") as BufferAttribute;
    const m = this.links.length / 2;
    const fade = (active ? 0.25 : 1) * this.lineFade;
    for (let e = 0; e < m; e++) {
      const s = this.links[2 * e];
      const t = this.links[2 * e + 1];
      // Source end dark, target end in the target's colour: the direction of the relation.
      lc.setXYZ(2 * e, rgb[3 * s] * 0.25 * fade, rgb[3 * s + 1] * 0.25 * fade, rgb[3 * s + 2] * 0.25 * fade);
      lc.setXYZ(2 * e + 1, rgb[3 * t] * fade, rgb[3 * t + 1] * fade, rgb[3 * t + 2] * fade);
    }
    lc.needsUpdate = true;
  }

  private arrowEdges(): number[] {
    const m = this.links.length / 2;
    if (this.highlightedEdges.length) return this.highlightedEdges;
    if (m > ARROW_LIMIT) return [];
    return Array.from({ length: m }, (_, i) => i);
  }

  private rebuildArrows(): void {
    if (this.arrows) {
      this.scene.remove(this.arrows);
      this.arrows.geometry.dispose();
      (this.arrows.material as Material).dispose();
      this.arrows = null;
    }
    const edges = this.arrowEdges();
    if (!edges.length) return;
    const cone = new ConeGeometry(1.6, 5, 6);
    cone.translate(0, -2.5, 0); // the tip at the origin
    const mat = new MeshBasicMaterial({ color: this.highlightedEdges.length ? 0xff3b3b : 0x9aa7bd });
    this.arrows = new InstancedMesh(cone, mat, edges.length);
    this.arrows.frustumCulled = false;
    this.arrows.userData.edges = edges;
    this.scene.add(this.arrows);
    this.placeArrows();
  }

  private placeArrows(): void {
    if (!this.arrows) return;
    const edges = this.arrows.userData.edges as number[];
    const p = this.positions;
    const m = new Matrix4();
    const q = new Quaternion();
    const up = new Vector3(0, 1, 0);
    const dir = new Vector3();
    const at = new Vector3();
    const one = new Vector3(1, 1, 1);
    edges.forEach((e, k) => {
      const s = this.links[2 * e];
      const t = this.links[2 * e + 1];
      dir.set(p[3 * t] - p[3 * s], p[3 * t + 1] - p[3 * s + 1], p[3 * t + 2] - p[3 * s + 2]);
      const len = dir.length() || 1;
      dir.divideScalar(len);
      // The tip stops a node radius short of the target.
      at.set(p[3 * t], p[3 * t + 1], p[3 * t + 2]).addScaledVector(dir, -Math.min(4, len / 2));
      q.setFromUnitVectors(up, dir);
      m.compose(at, q, one);
      this.arrows!.setMatrixAt(k, m);
    });
    this.arrows.instanceMatrix.needsUpdate = true;
  }

  updatePositions(positions: Float32Array): void {
    if (!this.points || !this.lines || !this.hiLines) return;
    this.positions = positions;
    const pos = this.points.geometry.getAttribute("position") as BufferAttribute;
    (pos.array as Float32Array).set(positions);
    pos.needsUpdate = true;
    const lp = this.lines.geometry.getAttribute("position") as BufferAttribute;
    const la = lp.array as Float32Array;
    const m = this.links.length / 2;
    for (let e = 0; e < m; e++) {
      const s = this.links[2 * e] * 3;
      const t = this.links[2 * e + 1] * 3;
      la[6 * e] = positions[s];
      la[6 * e + 1] = positions[s + 1];
      la[6 * e + 2] = positions[s + 2];
      la[6 * e + 3] = positions[t];
      la[6 * e + 4] = positions[t + 1];
      la[6 * e + 5] = positions[t + 2];
    }
    lp.needsUpdate = true;
    const hiAttr = this.hiLines.geometry.getAttribute("position") as BufferAttribute;
    const want = this.highlightedEdges.length * 6;
    if (want > 0 || hiAttr.array.length > 0) {
      const hi = hiAttr.array.length === want ? (hiAttr.array as Float32Array) : new Float32Array(want);
      this.highlightedEdges.forEach((e, k) => hi.set(la.subarray(6 * e, 6 * e + 6), 6 * k));
      if (hi === hiAttr.array) hiAttr.needsUpdate = true;
      else {
        this.hiLines.geometry.dispose();
        this.hiLines.geometry.setAttribute("position", new BufferAttribute(hi, 3));
      }
    }
    this.placeArrows();
    this.moved();
  }

  /** Moves the camera so the whole graph is in view. */
  fit(): void {
    const p = this.positions;
    if (!p.length) return;
    let r = 1;
    let cx = 0;
    let cy = 0;
    let cz = 0;
    const n = p.length / 3;
    for (let i = 0; i < n; i++) {
      cx += p[3 * i];
      cy += p[3 * i + 1];
      cz += p[3 * i + 2];
    }
    cx /= n;
    cy /= n;
    cz /= n;
    for (let i = 0; i < n; i++) r = Math.max(r, Math.hypot(p[3 * i] - cx, p[3 * i + 1] - cy, p[3 * i + 2] - cz));
    this.controls.target.set(cx, cy, cz);
    const dist = r / Math.sin((this.camera.fov * Math.PI) / 360) + 20;
    const d = this.camera.position.clone().sub(this.controls.target).normalize().multiplyScalar(dist);
    this.camera.position.copy(this.controls.target).add(d);
    this.camera.far = dist * 10;
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  zoom(factor: number): void {
    const d = this.camera.position.clone().sub(this.controls.target).multiplyScalar(factor);
    this.camera.position.copy(this.controls.target).add(d);
    this.invalidate();
  }

  /** The node under a client point, or -1. */
  pick(clientX: number, clientY: number): number {
    if (!this.points) return -1;
    const rect = this.renderer.domElement.getBoundingClientRect();
    const v = new Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(v, this.camera);
    const dist = this.camera.position.distanceTo(this.controls.target);
    this.raycaster.params.Points = { threshold: Math.max(2, dist / 120) };
    const hits = this.raycaster.intersectObject(this.points);
    return hits.length ? (hits[0].index ?? -1) : -1;
  }

  hover(index: number): void {
    if (index === this.hovered) return;
    this.hovered = index;
    this.colourise();
  }

  dispose(): void {
    this.renderer.setAnimationLoop(null);
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.disposeGraph();
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}
