/**
 * `qkeras estimate <model> --arch parallel|stream [--family xilinx|generic] [--json]`: the hardware cost of
 * the model's Verilog without synthesizing it — LUTs (or generic gates), flip-flops, DSPs, memory bits,
 * latency and energy per layer, and in total with the initiation interval — from the estimator in
 * src/ops/hw-cost, calibrated against Yosys. Milliseconds instead of the minutes `qkeras synth` takes;
 * the JSON uses the same field names as `qkeras synth --json` (`layers[].luts/ffs/dsps/latency_cycles`,
 * `total.luts/ffs/dsps/latency_cycles/ii`).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadModel } from '../../engines/loaded-model.js';
import { COST_FAMILIES, estimateHardware, type CostFamily, type HardwareEstimate, type LayerEstimate } from '../../ops/hw-cost/index.js';
import { ARCH_HELP, MAX_MACS_HELP, PIPELINE_HELP, REUSE_HELP, SHARE_HELP, parseArchFlag, parseMaxMacsFlag, parsePipelineFlag, parseReuseFlag, parseShareFlag, type HwFlags } from './hw-flags.js';

interface EstimateFlags extends HwFlags {
  readonly family?: string;
  readonly json?: boolean;
  readonly dsp?: boolean;
  readonly inputQuantizer?: string;
  readonly weights?: string;
  readonly maxMacs?: string;
}

/** The estimate as `--json` prints it: synth's field names, without the internal feature counts. */
export interface EstimateResult {
  readonly model: string;
  readonly arch: string;
  readonly family: CostFamily;
  /** The Yosys the coefficients were calibrated against. */
  readonly calibration: string;
  readonly layers: readonly Omit<LayerEstimate, 'features'>[];
  readonly glue: HardwareEstimate['glue'];
  readonly total: HardwareEstimate['total'];
  /** Time the estimate took (the lowered graph in hand). */
  readonly ms: number;
}

function num(v: number, digits = 0): string {
  return v.toFixed(digits);
}

export function estimateTable(r: EstimateResult): string[] {
  const logic = r.family === 'xilinx' ? 'LUTs' : 'gates';
  const head = [logic, 'FFs', 'DSPs', 'mem bits', 'cycles', 'pJ'];
  const row = (name: string, cols: readonly string[], note = ''): string => `${name.slice(0, 28).padEnd(28)}${cols.map((c) => c.padStart(9)).join('')}${note}`;
  const lines = [
    `Estimate of ${r.model} (${r.arch}), ${r.family === 'xilinx' ? 'synth_xilinx' : 'generic synth'} model calibrated on ${r.calibration}`,
    row('layer', head, '  datapath'),
  ];
  for (const l of r.layers) {
    const note = `  ${l.datapath ?? ''}${l.reuse !== null ? ` reuse ${l.reuse}` : ''}`;
    lines.push(row(l.name, [num(l.luts), num(l.ffs), num(l.dsps), num(l.bramBits), num(l.latency_cycles), num(l.energy_pj, 1)], note.trimEnd()));
  }
  lines.push(row('(registers and stream glue)', [num(r.glue.luts), num(r.glue.ffs), num(r.glue.dsps), num(r.glue.bramBits), '', '']));
  const t = r.total;
  lines.push(row('total', [num(t.luts), num(t.ffs), num(t.dsps), num(t.bramBits), num(t.latency_cycles), num(t.energy_pj, 1)]));
  const ii = Number.isInteger(t.ii) ? String(t.ii) : `${t.ii.toFixed(2)} (mean over 32 samples; ${t.ii_steady} once full)`;
  lines.push(`latency ${t.latency_cycles} cycles, initiation interval ${ii} cycles; estimated in ${r.ms.toFixed(1)} ms`);
  return lines;
}

export async function runEstimate(modelPath: string, flags: EstimateFlags, log: (line: string) => void): Promise<EstimateResult> {
  const family = (flags.family ?? 'xilinx') as CostFamily;
  if (!COST_FAMILIES.includes(family)) throw new UsageError(`--family must be one of ${COST_FAMILIES.join(', ')}, got ${JSON.stringify(flags.family)}`);
  const arch = parseArchFlag(flags.arch);
  const share = parseShareFlag(flags.share, arch) === true;
  const model = await loadModel(modelPath, {
    ...(flags.weights === undefined ? {} : { weights: flags.weights }),
    inputQuantizer: flags.inputQuantizer ?? null,
  });
  const graph = model.graph();
  const t0 = performance.now();
  const est = estimateHardware(graph, {
    arch,
    reuse: parseReuseFlag(flags.reuse),
    pipeline: parsePipelineFlag(flags.pipeline),
    share,
    family,
    dsp: flags.dsp !== false,
    ...(arch === 'parallel' ? { maxParallelMacs: parseMaxMacsFlag(flags.maxMacs) } : {}),
  });
  const ms = performance.now() - t0;
  const result: EstimateResult = {
    model: modelPath,
    arch,
    family,
    calibration: est.calibration,
    layers: est.layers.map(({ features: _features, ...rest }) => rest),
    glue: est.glue,
    total: est.total,
    ms,
  };
  if (flags.json === true) log(JSON.stringify(result, null, 2));
  else for (const line of estimateTable(result)) log(line);
  return result;
}

export function registerEstimate(program: Command): void {
  program
    .command('estimate')
    .description('estimate LUTs, FFs, DSPs, latency and energy of the model\'s Verilog in milliseconds (calibrated against Yosys)')
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .option('--arch <arch>', ARCH_HELP, 'parallel')
    .option('--family <family>', `cost model: ${COST_FAMILIES.join(' | ')} (LUTs of synth_xilinx, gates of generic synth)`, 'xilinx')
    .option('--reuse <factors>', REUSE_HELP)
    .option('--pipeline <n>', PIPELINE_HELP)
    .option('--share', SHARE_HELP)
    .option('--max-macs <n>', MAX_MACS_HELP)
    .option('--no-dsp', 'xilinx: build multipliers from LUTs instead of DSP blocks (synth_xilinx -nodsp)')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer of the model input, e.g. "quantized_bits(8,0,1)" (needed when the model has none)')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--json', 'print the estimate as JSON (the field names of qkeras synth --json)')
    .addHelpText(
      'after',
      '\nLatency and initiation interval are exact (the emitter\'s register placement; a cycle model of the\n' +
        'stream handshakes), LUTs and gates come from coefficients fitted to Yosys on a grid of designs.\n\n' +
        'Example:\n' +
        '  $ qkeras estimate qkeras_3layer.json --weights qkeras_3layer_weights.h5 --input-quantizer "quantized_bits(16,6,1)"\n',
    )
    .action(async (modelPath: string, flags: EstimateFlags) => {
      await runEstimate(modelPath, flags, (line) => console.log(line));
    });
}
