/**
 * The stream cycle model's shortcuts (`simulateStream`): extrapolating a repeating state with one output,
 * skipping whole periods with several outputs while the input is still offered. Each must give exactly
 * what simulating every cycle of every sample gives — latency, mean and steady interval, the per-channel
 * cycles of the first sample's last words (and with several outputs the cycle count) — on every test graph and calibration
 * design in the stream architecture (unrolled and reused MACs, line buffers, pooling, forks, merges,
 * joins), for several sample counts. (Latency and II against Verilator: hw-cost-timing.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { rederive } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { streamStructure } from '../../src/ops/hw-cost/stream.js';
import { simulateStream, type StreamNetwork } from '../../src/ops/hw-cost/stream-sim.js';
import { testGraphs } from '../codegen/verilog-graphs.js';
import { buildDesign, calibrationGrid } from './hw-cost-grid.js';

function networks(): { name: string; net: StreamNetwork }[] {
  const graphs: { name: string; graph: Graph }[] = [
    ...testGraphs().map((t) => ({ name: t.name, graph: t.graph })),
    ...calibrationGrid()
      .filter((s) => s.arch === 'stream')
      .map((s) => ({ name: s.name, graph: buildDesign(s) })),
  ];
  const out: { name: string; net: StreamNetwork }[] = [];
  for (const { name, graph } of graphs) {
    const g = rederive(graph);
    if (g.inputs.length !== 1) continue;
    for (const reuse of [1, 3]) out.push({ name: `${name} reuse ${reuse}`, net: streamStructure(g, { reuse }).network });
  }
  return out;
}

describe('simulateStream shortcuts equal the exhaustive cycle-by-cycle simulation', () => {
  beforeAll(async () => {
    await ready();
  });

  it('every stream test graph and calibration design, 2, 5 and 32 samples', () => {
    const nets = networks();
    expect(nets.length).toBeGreaterThan(20);
    let merged = 0;
    for (const { name, net } of nets) {
      if (net.outputs.length > 1) merged += 1;
      for (const samples of [2, 5, 32]) {
        const { simulated, ...fast } = simulateStream(net, samples);
        const { simulated: all, ...full } = simulateStream(net, samples, { exhaustive: true });
        expect(fast, `${name}, ${samples} samples`).toEqual(full);
        // Extrapolation stops early; skipped periods still count as simulated cycles.
        if (net.outputs.length > 1) expect(simulated, `${name}, ${samples} samples`).toBe(all);
        else expect(simulated).toBeLessThanOrEqual(all);
      }
    }
    // The period skipping (several outputs through a merge) is exercised, not only the extrapolation.
    expect(merged).toBeGreaterThan(0);
  });
});
