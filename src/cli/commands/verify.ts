/**
 * `qkeras verify <model> --target c|verilog [--arch parallel|stream] [--input in.json] [--count n]`:
 * runs a hardware back-end and the golden model on generated inputs (sweeping the input quantizer's
 * range, ties and saturation included) and on the given ones, compares every output code, and reports
 * the first mismatch by layer and element. Exit code 1 on any mismatch.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { QKerasError } from '../../errors.js';
import { UsageError } from '../errors.js';
import { loadModel } from '../../engines/loaded-model.js';
import { flattenSamples } from '../../engines/samples.js';
import { describeMismatch, verifyGraph, VERIFY_TARGETS, type VerifyReport, type VerifyTarget } from '../../sim/verify.js';
import { ARCH_HELP, PIPELINE_HELP, REUSE_HELP, SHARE_HELP, parseArchFlag, parsePipelineFlag, parseReuseFlag, parseShareFlag, type HwFlags } from './hw-flags.js';

interface VerifyFlags extends HwFlags {
  readonly target: string;
  readonly input?: string;
  readonly count?: string;
  readonly seed?: string;
  readonly inputQuantizer?: string;
  readonly weights?: string;
  readonly json?: boolean;
  readonly backpressure?: boolean;
}

/** A back-end differs from the golden model (the CLI exits with code 1). */
export class VerifyMismatchError extends QKerasError {}

function count(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

export function summary(r: VerifyReport): string {
  const what = r.target === 'verilog' ? `verilog (${r.arch})` : 'c';
  const inputs = `${r.generated} generated + ${r.given} given input${r.given === 1 ? '' : 's'}, ${r.codes} output codes`;
  const timing =
    r.timing === null ? '' : `; measured ${r.timing.latency} cycles to the first result, ${r.timing.meanInterval.toFixed(2)} cycles per sample under back-pressure`;
  if (r.first === null) return `${what}: ${inputs}: every code equals the golden model${timing}`;
  return `${what}: ${inputs}: ${r.mismatchedSamples} sample(s) differ from the golden model`;
}

export async function runVerify(modelPath: string, flags: VerifyFlags, log: (line: string) => void): Promise<VerifyReport> {
  if (!VERIFY_TARGETS.includes(flags.target as VerifyTarget)) {
    throw new UsageError(`--target must be one of ${VERIFY_TARGETS.join(', ')}, got ${JSON.stringify(flags.target)}`);
  }
  const arch = parseArchFlag(flags.arch);
  const reuse = parseReuseFlag(flags.reuse);
  const pipeline = parsePipelineFlag(flags.pipeline);
  const share = parseShareFlag(flags.share, arch);
  const model = await loadModel(modelPath, {
    ...(flags.weights === undefined ? {} : { weights: flags.weights }),
    inputQuantizer: flags.inputQuantizer ?? null,
  });
  let given: number[][] = [];
  if (flags.input !== undefined) {
    if (!existsSync(flags.input)) throw new UsageError(`input file ${flags.input} does not exist`);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(flags.input, 'utf8')) as unknown;
    } catch (e) {
      throw new UsageError(`${flags.input} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    given = flattenSamples(data, model.inputShape, flags.input);
  }
  const report = await verifyGraph(model.graph(), {
    target: flags.target as VerifyTarget,
    arch,
    reuse,
    pipeline,
    share,
    given,
    generated: count(flags.count, '--count', flags.input === undefined ? 1000 : 100),
    seed: count(flags.seed, '--seed', 1),
    backpressure: flags.backpressure !== false,
  });
  if (flags.json === true) log(JSON.stringify(report, null, 2));
  else log(summary(report));
  if (report.first !== null) throw new VerifyMismatchError(`first mismatch: ${describeMismatch(report.first)}`);
  return report;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('compare a hardware back-end (C or Verilog) with the golden model on generated and given inputs')
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .requiredOption('--target <target>', `back-end to check: ${VERIFY_TARGETS.join(' | ')}`)
    .option('--arch <arch>', ARCH_HELP, 'parallel')
    .option('--reuse <factors>', REUSE_HELP)
    .option('--pipeline <n>', PIPELINE_HELP)
    .option('--share', SHARE_HELP)
    .option('--input <file>', "JSON array of samples (real values, the model's input shape) checked besides the generated ones")
    .option('--count <n>', 'how many inputs to generate (default 1000, or 100 with --input)')
    .option('--seed <n>', 'seed of the generated inputs and of the simulated back-pressure', '1')
    .option('--no-backpressure', 'verilog: simulate without random input gaps and output stalls')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer of the model input, e.g. "quantized_bits(8,0,1)" (needed when the model has none)')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--json', 'print the full report as JSON')
    .addHelpText(
      'after',
      '\nExit code 0 when every output code equals the golden model, 1 on the first difference (reported by\n' +
        'output, element and the earliest differing layer).\n\n' +
        'Example:\n' +
        '  $ qkeras verify qkeras_3layer.json --weights qkeras_3layer_weights.h5 --input-quantizer "quantized_bits(16,6,1)" \\\n' +
        '      --target verilog --arch parallel\n',
    )
    .action(async (modelPath: string, flags: VerifyFlags) => {
      await runVerify(modelPath, flags, (line) => console.log(line));
    });
}
