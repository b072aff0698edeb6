/**
 * The verilog engine: emits Verilog for the lowered graph (`--arch parallel`, the default, or `stream`),
 * builds it with Verilator and the hw-sim/verilator harness (cached by content), quantizes the real
 * inputs with the IR's own input rule in TypeScript, streams every sample through one simulation and
 * returns graph output 0 as real values (code · 2^-frac). Equal to the ir engine bit for bit.
 */
import { generateVerilog } from '../codegen/verilog.js';
import type { VerilogArch } from '../codegen/verilog-manifest.js';
import { gridFrac } from '../ir/fixed.js';
import type { IntType } from '../ir/nodes.js';
import { ConfigError } from '../errors.js';
import { quantizeSample } from '../sim/codes.js';
import { buildVerilator, runVerilog } from '../sim/verilator-runner.js';
import type { Engine } from './types.js';

export const VERILOG_ARCHS: readonly VerilogArch[] = ['parallel', 'stream'];

export function parseArch(arch: string | undefined, where: string): VerilogArch {
  const a = arch ?? 'parallel';
  if (a !== 'parallel' && a !== 'stream') throw new ConfigError(where, '--arch', a, '"parallel" or "stream"');
  return a;
}

export const verilogEngine: Engine = {
  name: 'verilog',
  description: 'the emitted Verilog simulated in Verilator (--arch parallel, the default, or stream)',
  async predict(model, samples, options = {}) {
    const arch = parseArch(options.arch, 'the verilog engine');
    const lowered = model.lowered();
    if (options.warn !== undefined) {
      for (const w of lowered.warnings) {
        options.warn(`${w.node === null ? 'graph' : `%${w.node}`}: ${w.message} (tfjs may differ from the exact model here)`);
      }
    }
    const graph = lowered.graph;
    const built = await buildVerilator(generateVerilog(graph, { arch, share: options.share }));
    const codes = samples.map((s) => quantizeSample(graph, [s]).map((a) => Array.from(a)));
    const run = await runVerilog(built, codes);
    const out = graph.nodes.find((n) => n.id === graph.outputs[0])!;
    const scale = 2 ** -gridFrac(out.type as IntType);
    return run.outputs.map((o) => o[0]!.map((c) => c * scale));
  },
};
