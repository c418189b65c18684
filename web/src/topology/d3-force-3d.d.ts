// Minimal typings for the parts of d3-force-3d the layout worker uses.
declare module "d3-force-3d" {
  export interface SimNode {
    index?: number;
    x?: number;
    y?: number;
    z?: number;
    vx?: number;
    vy?: number;
    vz?: number;
    fx?: number | null;
    fy?: number | null;
    fz?: number | null;
  }
  export interface SimLink {
    source: number | SimNode;
    target: number | SimNode;
  }
  export interface Force {
    (alpha: number): void;
  }
  export interface Simulation {
    tick(iterations?: number): Simulation;
    stop(): Simulation;
    alpha(): number;
    alpha(a: number): Simulation;
    alphaMin(): number;
    alphaDecay(d: number): Simulation;
    velocityDecay(d: number): Simulation;
    force(name: string, force: unknown): Simulation;
    nodes(): SimNode[];
  }
  export function forceSimulation(nodes: SimNode[], dims?: number): Simulation;
  export interface LinkForce extends Force {
    distance(d: number): LinkForce;
    strength(s: number): LinkForce;
    iterations(n: number): LinkForce;
  }
  export function forceLink(links: SimLink[]): LinkForce;
  export interface ManyBody extends Force {
    strength(s: number): ManyBody;
    theta(t: number): ManyBody;
    distanceMax(d: number): ManyBody;
  }
  export function forceManyBody(): ManyBody;
  export interface PositionForce extends Force {
    strength(s: number): PositionForce;
  }
  export function forceX(x?: number): PositionForce;
  export function forceY(y?: number): PositionForce;
  export function forceZ(z?: number): PositionForce;
  export function forceCenter(x?: number, y?: number, z?: number): Force;
}
