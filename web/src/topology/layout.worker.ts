// The force-directed 3D layout runs here, off the main thread, so rendering keeps its frame
// rate while the layout settles. It receives node count, initial positions and links, and
// posts positions (a transferred Float32Array) after every few ticks.
import { forceCenter, forceLink, forceManyBody, forceSimulation, forceX, forceY, forceZ, type SimNode } from "d3-force-3d";

interface Start {
  type: "start";
  generation: number;
  positions: Float32Array; // x,y,z per node
  links: Int32Array; // source,target per edge
  maxTicks: number;
}

let generation = 0;

function run(msg: Start): void {
  generation = msg.generation;
  const my = msg.generation;
  const n = msg.positions.length / 3;
  const nodes: SimNode[] = new Array(n);
  for (let i = 0; i < n; i++) {
    nodes[i] = { x: msg.positions[3 * i], y: msg.positions[3 * i + 1], z: msg.positions[3 * i + 2] };
  }
  const links = [];
  for (let i = 0; i < msg.links.length; i += 2) links.push({ source: msg.links[i], target: msg.links[i + 1] });
  const big = n > 2000;
  const sim = forceSimulation(nodes, 3)
    .force("link", forceLink(links).distance(big ? 18 : 30).strength(big ? 0.4 : 0.7))
    .force("charge", forceManyBody().strength(big ? -20 : -60).theta(big ? 1.2 : 0.9).distanceMax(big ? 250 : 600))
    .force("center", forceCenter(0, 0, 0))
    // A weak pull to the middle keeps unconnected entries from drifting off.
    .force("x", forceX(0).strength(0.04))
    .force("y", forceY(0).strength(0.04))
    .force("z", forceZ(0).strength(0.04))
    .alphaDecay(big ? 0.04 : 0.03)
    .stop();
  let ticks = 0;
  const step = (): void => {
    if (generation !== my) return;
    const started = performance.now();
    do {
      sim.tick();
      ticks++;
    } while (performance.now() - started < 12 && ticks < msg.maxTicks && sim.alpha() > sim.alphaMin());
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      out[3 * i] = node.x ?? 0;
      out[3 * i + 1] = node.y ?? 0;
      out[3 * i + 2] = node.z ?? 0;
    }
    const done = ticks >= msg.maxTicks || sim.alpha() <= sim.alphaMin();
    (self as unknown as Worker).postMessage({ type: "positions", generation: my, positions: out, ticks, done }, [out.buffer]);
    if (!done) setTimeout(step, 0);
  };
  setTimeout(step, 0);
}

self.onmessage = (ev: MessageEvent<Start | { type: "stop" }>) => {
  if (ev.data.type === "start") run(ev.data);
  else generation = -1;
};
