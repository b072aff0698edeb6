/**
 * `qkeras synth <model> --arch parallel|stream [--family generic|xilinx|ice40] [--json]`: lowers the
 * model, emits Verilog and synthesizes it with Yosys (native when installed, else @yowasp/yosys):
 * cells, LUTs, flip-flops, DSPs, carry cells and block RAMs per layer and in total; beside them the
 * latency and initiation interval measured in Verilator (when installed).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseCount } from '../options.js';
import { loadModel } from '../../engines/loaded-model.js';
import { generateVerilog } from '../../codegen/verilog.js';
import { synthesize, SYNTH_FAMILIES, type SynthCounts, type SynthFamily, type SynthReport } from '../../sim/yosys.js';
import { VERILATOR, findOptionalTool } from '../../sim/tools.js';
import { buildVerilator, runVerilog } from '../../sim/verilator-runner.js';
import { generateInputs } from '../../sim/verify.js';
import { quantizeSample } from '../../sim/codes.js';
import { ARCH_HELP, PIPELINE_HELP, REUSE_HELP, SHARE_HELP, parseArchFlag, parsePipelineFlag, parseReuseFlag, parseShareFlag, type HwFlags } from './hw-flags.js';

interface SynthFlags extends HwFlags {
  readonly family?: string;
  readonly json?: boolean;
  readonly engine?: string;
  readonly inputQuantizer?: string;
  readonly weights?: string;
  readonly sim?: boolean;
  readonly dsp?: boolean;
  readonly timeout?: string;
}

export interface SynthResult {
  readonly model: string;
  readonly synth: SynthReport;
  /** Verilator's measurement: cycles from input to result and between results, or null when not run. */
  readonly timing: { readonly latency: number; readonly interval: number; readonly samples: number } | null;
  readonly timingNote: string | null;
  /** The measured figures under the field names of `qkeras estimate --json` (layers' latency is not measured). */
  readonly layers: readonly { readonly name: string; readonly luts: number; readonly ffs: number; readonly dsps: number; readonly latency_cycles: null }[];
  readonly glue: { readonly luts: number; readonly ffs: number; readonly dsps: number };
  readonly total: { readonly luts: number; readonly ffs: number; readonly dsps: number; readonly latency_cycles: number | null; readonly ii: number | null };
}

/** `qkeras estimate`'s fields from a synthesis report and Verilator's timing. */
export function measuredFields(s: SynthReport, timing: SynthResult['timing']): Pick<SynthResult, 'layers' | 'glue' | 'total'> {
  const pick = (c: SynthCounts) => ({ luts: c.luts, ffs: c.ffs, dsps: c.dsps });
  return {
    layers: s.layers.map((l) => ({ name: l.layer, ...pick(l.counts), latency_cycles: null })),
    glue: pick(s.glue),
    total: { ...pick(s.total), latency_cycles: timing?.latency ?? null, ii: timing?.interval ?? null },
  };
}

function row(name: string, c: SynthCounts): string {
  const cols = [c.luts, c.ffs, c.carry, c.dsps, c.brams, c.lutram, c.cells].map((v) => String(v).padStart(8));
  return `${name.slice(0, 32).padEnd(32)}${cols.join('')}`;
}

export function synthTable(r: SynthResult): string[] {
  const s = r.synth;
  const lines = [
    `Yosys ${s.family === 'generic' ? 'synth' : `synth_${s.family}`} of ${s.top} (${s.arch}), ${s.yosys} [${s.engine}]`,
    `${'layer'.padEnd(32)}${['LUTs', 'FFs', 'carry', 'DSPs', 'BRAMs', 'LUTRAM', 'cells'].map((h) => h.padStart(8)).join('')}`,
    ...s.layers.map((l) => row(l.layer, l.counts)),
    row('(registers and stream glue)', s.glue),
    row('total', s.total),
  ];
  if (r.timing !== null) {
    lines.push(`Verilator: latency ${r.timing.latency} cycles, initiation interval ${r.timing.interval} cycles (${r.timing.samples} samples, no back-pressure)`);
  } else if (r.timingNote !== null) {
    lines.push(r.timingNote);
  }
  return lines;
}

export async function runSynth(modelPath: string, flags: SynthFlags, log: (line: string) => void, progress: (line: string) => void = () => {}): Promise<SynthResult> {
  const family = (flags.family ?? 'xilinx') as SynthFamily;
  if (!SYNTH_FAMILIES.includes(family)) throw new UsageError(`--family must be one of ${SYNTH_FAMILIES.join(', ')}, got ${JSON.stringify(flags.family)}`);
  const engine = flags.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'native' && engine !== 'wasm') throw new UsageError(`--yosys must be auto, native or wasm, got ${JSON.stringify(engine)}`);
  const arch = parseArchFlag(flags.arch);
  const timeoutMs = flags.timeout === undefined ? undefined : parseCount('--timeout', flags.timeout, 10_080) * 60_000;
  const model = await loadModel(modelPath, {
    ...(flags.weights === undefined ? {} : { weights: flags.weights }),
    inputQuantizer: flags.inputQuantizer ?? null,
  });
  const graph = model.graph();
  const design = generateVerilog(graph, { arch, reuse: parseReuseFlag(flags.reuse), pipeline: parsePipelineFlag(flags.pipeline), share: parseShareFlag(flags.share, arch) });
  const synth = await synthesize(design, { family, engine, onModule: () => progress(`synthesizing ${design.manifest.top} with Yosys (this takes a while)...`), dsp: flags.dsp !== false, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  let timing: SynthResult['timing'] = null;
  let timingNote: string | null = null;
  if (flags.sim === false) {
    timingNote = 'latency and II: not measured (--no-sim)';
  } else if (findOptionalTool(VERILATOR) === null) {
    timingNote = 'latency and II: not measured (Verilator not installed: apt-get install verilator)';
  } else {
    const samples = generateInputs(graph, 32, 1).map((s) => quantizeSample(graph, s).map((a) => Array.from(a)));
    const run = await runVerilog(await buildVerilator(design), samples);
    timing = { latency: run.timing.latency, interval: run.timing.meanInterval, samples: samples.length };
  }
  const result: SynthResult = { model: modelPath, synth, timing, timingNote, ...measuredFields(synth, timing) };
  if (flags.json === true) log(JSON.stringify(result, null, 2));
  else for (const line of synthTable(result)) log(line);
  return result;
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('synthesize the model\'s Verilog with Yosys and report LUTs, FFs, DSPs and carry cells per layer')
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .option('--arch <arch>', ARCH_HELP, 'parallel')
    .option('--family <family>', `target: ${SYNTH_FAMILIES.join(' | ')} (synth, synth_xilinx, synth_ice40)`, 'xilinx')
    .option('--reuse <factors>', REUSE_HELP)
    .option('--pipeline <n>', PIPELINE_HELP)
    .option('--share', SHARE_HELP)
    .option('--yosys <engine>', 'auto (native yosys when installed, else WebAssembly) | native | wasm', 'auto')
    .option('--no-sim', 'skip measuring latency and II in Verilator')
    .option('--timeout <minutes>', 'stop a native Yosys run after this many minutes (default 60)')
    .option('--no-dsp', 'build multipliers from logic (synth_xilinx -nodsp, synth_ice40 without -dsp)')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer of the model input, e.g. "quantized_bits(8,0,1)" (needed when the model has none)')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nEach layer is synthesized flattened on its own, the registers and stream glue with the layers as\n' +
        'black boxes; results are cached by content. Synthesis of a large unrolled layer takes minutes.\n\n' +
        'Example:\n' +
        '  $ qkeras synth qkeras_3layer.json --weights qkeras_3layer_weights.h5 --input-quantizer "quantized_bits(16,6,1)" \\\n' +
        '      --arch parallel --family xilinx\n',
    )
    .action(async (modelPath: string, flags: SynthFlags & { yosys?: string }) => {
      await runSynth(
        modelPath,
        { ...flags, ...(flags.yosys === undefined ? {} : { engine: flags.yosys }) },
        (line) => console.log(line),
        (line) => console.error(line),
      );
    });
}
