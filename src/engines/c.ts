/**
 * The c engine: emits C for the lowered graph, builds it with the system compiler (`CC` overrides) and the
 * hw-sim/c harness, quantizes the real inputs with the IR's own input rule in TypeScript, runs every sample
 * in one process and returns graph output 0 as real values (code · 2^-frac). Equal to the ir engine bit
 * for bit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitC } from '../codegen/c.js';
import { buildC } from '../sim/c-runner.js';
import { quantizeSamples } from '../sim/codes.js';
import type { Engine } from './types.js';

export const cEngine: Engine = {
  name: 'c',
  description: 'the emitted fixed-point C, built with the system compiler (CC) and run natively',
  async predict(model, samples, options = {}) {
    const lowered = model.lowered();
    if (options.warn !== undefined) {
      for (const w of lowered.warnings) {
        options.warn(`${w.node === null ? 'graph' : `%${w.node}`}: ${w.message} (tfjs may differ from the exact model here)`);
      }
    }
    const graph = lowered.graph;
    const dir = mkdtempSync(join(tmpdir(), 'qk-engine-c-'));
    try {
      const emitted = emitC(graph, join(dir, 'model'));
      const exe = await buildC(emitted, { buildDir: join(dir, 'build') });
      const codes = quantizeSamples(graph, samples.map((s) => [s]));
      const run = await exe.run(codes);
      const out = emitted.api.outputs[0]!;
      const scale = 2 ** -out.frac;
      const width = run.outputs.width;
      return Array.from({ length: run.outputs.count }, (_, k) =>
        Array.from(run.outputs.data.subarray(k * width, k * width + out.size), (c) => c * scale),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
