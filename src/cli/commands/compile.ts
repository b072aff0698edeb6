/**
 * `qkeras compile <model> --target c --out <dir> [--input-quantizer "<q>"] [--weights w.h5] [--name n]`:
 * lowers the model to the IR and writes the back-end's sources (all files replaced together). Targets
 * are a table: each back-end adds one entry.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadModel } from '../../engines/loaded-model.js';
import { emitC } from '../../codegen/c.js';
import type { Graph } from '../../ir/graph.js';
import { emitVerilog } from '../../codegen/verilog.js';
import { ARCH_HELP, PIPELINE_HELP, REUSE_HELP, SHARE_HELP, MAX_MACS_HELP, parseArchFlag, parseMaxMacsFlag, parsePipelineFlag, parseReuseFlag, parseShareFlag } from './hw-flags.js';

interface CompileFlags {
  readonly target: string;
  readonly out: string;
  readonly inputQuantizer?: string;
  readonly weights?: string;
  readonly name?: string;
  /** verilog: architecture, stream reuse factors, parallel pipeline depth. */
  readonly arch?: string;
  readonly reuse?: string;
  readonly pipeline?: string;
  readonly share?: boolean;
  readonly maxMacs?: string;
}

export interface CompileTarget {
  readonly name: string;
  readonly description: string;
  /** Writes the sources for `graph` into `outDir`; returns the lines to print. */
  compile(graph: Graph, outDir: string, flags: CompileFlags): string[];
}

const cTarget: CompileTarget = {
  name: 'c',
  description: 'C99 fixed-point model (model.h, model.c, weights.h, qk_*.h kernels, report.json)',
  compile(graph, outDir, flags) {
    const r = emitC(graph, outDir, flags.name === undefined ? {} : { name: flags.name });
    const inputs = r.api.inputs.map((t) => `${t.typedef} ${t.param}[${t.size}] (codes, real = code * 2^-${t.frac})`).join(', ');
    return [
      `c: wrote ${r.files.length} files to ${outDir}`,
      `   ${r.api.predict}(${inputs}, ...)`,
      `   ROM ${r.report.romBytes} bytes (constants), RAM ${r.report.ramBytes} bytes (activation buffers), ` +
        `largest kernel stack frame ${r.report.stackBytes} bytes`,
    ];
  },
};

const verilogTarget: CompileTarget = {
  name: 'verilog',
  description: 'Verilog-2005 RTL (--arch parallel | stream): top, one module per layer, qk_*.v modules, manifest.json',
  compile(graph, outDir, flags) {
    const arch = parseArchFlag(flags.arch);
    const d = emitVerilog(graph, outDir, {
      arch,
      reuse: parseReuseFlag(flags.reuse),
      pipeline: parsePipelineFlag(flags.pipeline),
      share: parseShareFlag(flags.share, arch),
      maxParallelMacs: parseMaxMacsFlag(flags.maxMacs),
      ...(flags.name === undefined ? {} : { name: flags.name }),
    });
    const p = d.manifest.ports;
    const timing =
      p.kind === 'parallel'
        ? `one sample per clock, latency ${p.latency} clock(s)`
        : `input ${p.input.beats} word(s) of ${p.input.beatElems} element(s) per sample, valid/ready`;
    return [
      `verilog: wrote ${d.files.length} files and manifest.json to ${outDir}`,
      `   top module ${d.manifest.top} (${arch}): in_data ${p.inWidth} bits, out_data ${p.outWidth} bits; ${timing}`,
    ];
  },
};

/** Compile targets by `--target` name. */
export const TARGETS: readonly CompileTarget[] = [
  cTarget,
  verilogTarget,
];

export async function runCompile(modelPath: string, flags: CompileFlags, log: (line: string) => void): Promise<void> {
  const target = TARGETS.find((t) => t.name === flags.target);
  if (target === undefined) {
    throw new UsageError(`unknown target ${JSON.stringify(flags.target)}; choose one of ${TARGETS.map((t) => t.name).join(', ')}`);
  }
  const model = await loadModel(modelPath, {
    ...(flags.weights === undefined ? {} : { weights: flags.weights }),
    inputQuantizer: flags.inputQuantizer ?? null,
  });
  for (const line of target.compile(model.graph(), flags.out, flags)) log(line);
}

export function registerCompile(program: Command): void {
  const targets = TARGETS.map((t) => `  ${t.name.padEnd(8)} ${t.description}`).join('\n');
  program
    .command('compile')
    .description('lower a quantized model to the fixed-point IR and write hardware sources for a target')
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .addOption(new Option('--target <target>', 'what to generate').choices(TARGETS.map((t) => t.name)).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output directory (created; its generated files are replaced together)')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer of the model input, e.g. "quantized_bits(8,0,1)" (needed when the model has none)')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--name <name>', 'prefix of the generated symbols (default: the model name), e.g. mnist -> mnist_predict')
    .option('--arch <arch>', `verilog: ${ARCH_HELP}`)
    .option('--reuse <factors>', `verilog: ${REUSE_HELP}`)
    .option('--pipeline <n>', `verilog: ${PIPELINE_HELP}`)
    .option('--share', `verilog: ${SHARE_HELP}`)
    .option('--max-macs <n>', `verilog: ${MAX_MACS_HELP}`)
    .addHelpText(
      'after',
      `\nTargets:\n${targets}\n\n` +
        'The C takes the input as integer codes of the input quantizer (see model.h for the formula) and\n' +
        'returns output codes; `qkeras predict --engine c` builds and runs it on real inputs.\n\n' +
        'Example:\n' +
        '  $ qkeras compile model/ --target c --out build/mnist --input-quantizer "quantized_bits(8,0,1)" --name mnist\n' +
        '  $ cc -O2 -std=c99 -c build/mnist/model.c -o mnist.o\n' +
        '  $ qkeras compile model/ --target verilog --arch stream --reuse 4 --out build/rtl\n',
    )
    .action(async (modelPath: string, flags: CompileFlags) => {
      await runCompile(modelPath, flags, (line) => console.log(line));
    });
}
