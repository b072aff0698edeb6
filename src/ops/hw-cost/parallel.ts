/**
 * The parallel architecture's structure, as `generateParallel` builds it: one combinational module per
 * layer (wiring nodes excepted), a register after every `pipeline`-th compute layer, shared delay
 * lines that align branches, the outputs leaving together after at least one register, and a valid
 * bit delayed by the latency. Latency in clocks follows from the same register placement; one sample
 * enters per clock (II = 1).
 */
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/nodes.js';
import { busWidth, liveNodes } from '../../codegen/verilog-parallel.js';
import { ConfigError } from '../../errors.js';
import { bodyCost, type BodyCost } from './layer-cost.js';

export interface ParallelLayer {
  readonly node: Node;
  readonly body: BodyCost;
  /** Register bits of the stage after this layer (0 when it is not registered). */
  readonly registerBits: number;
  /** Clock stages this layer adds (1 when registered). */
  readonly stages: number;
  /** Clock cycle (after the input) at which this layer's result is available. */
  readonly depth: number;
}

export interface ParallelStructure {
  readonly layers: readonly ParallelLayer[];
  /** Flip-flops of the delay lines that align branches and outputs, and of the valid pipeline. */
  readonly delayBits: number;
  readonly latency: number;
}

export function parallelStructure(g: Graph, options: { pipeline?: number; share?: boolean }): ParallelStructure {
  const every = options.pipeline ?? 1;
  if (!Number.isInteger(every) || every < 0) throw new ConfigError('estimateHardware', 'pipeline', every, 'a non-negative integer');
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depthOf = new Map<string, number>();
  // Delay lines are shared per (value, depth): a value delayed to depth d costs width × (d - its depth).
  const delays = new Set<string>();
  let delayBits = 0;
  const delayTo = (id: string, depth: number): void => {
    const d = depth - depthOf.get(id)!;
    const key = `${id}@${depth}`;
    if (d > 0 && !delays.has(key)) {
      delays.add(key);
      delayBits += busWidth(byId.get(id)!) * d;
    }
  };
  for (const id of g.inputs) depthOf.set(id, 0);
  const layers: ParallelLayer[] = [];
  let computeCount = 0;
  for (const n of nodes) {
    if (n.kind === 'input') continue;
    const depth = Math.max(...n.inputs.map((id) => depthOf.get(id)!));
    for (const id of n.inputs) delayTo(id, depth);
    if (n.kind === 'reshape') {
      depthOf.set(n.id, depth);
      continue;
    }
    let registered = false;
    if (n.kind !== 'concat') {
      computeCount += 1;
      registered = every > 0 && computeCount % every === 0;
    }
    const out = depth + (registered ? 1 : 0);
    depthOf.set(n.id, out);
    const ins = n.inputs.map((id) => byId.get(id)!);
    layers.push({
      node: n,
      body: bodyCost(n, ins, options.share === true),
      registerBits: registered ? busWidth(n) : 0,
      stages: registered ? 1 : 0,
      depth: out,
    });
  }
  const latency = Math.max(1, ...g.outputs.map((id) => depthOf.get(id)!));
  for (const id of g.outputs) delayTo(id, latency);
  // The valid bit travels through `latency` registers beside the data.
  return { layers, delayBits: delayBits + latency, latency };
}
