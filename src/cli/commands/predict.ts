/**
 * `qkeras predict <model> --engine <name> --input in.json --out out.json [--input-quantizer "<q>"]
 * [--weights w.h5]`: runs one engine on the samples of in.json and writes its outputs (real values, one
 * sample per line) to out.json atomically. All engines agree to the bit; comparing their out.json files
 * is how a back-end is checked against the golden model.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { ENGINES, engineNames, findEngine } from '../../engines/index.js';
import { loadModel } from '../../engines/loaded-model.js';
import { SampleError, flattenSamples, outputsJson } from '../../engines/samples.js';
import { writeFileAtomic } from '../../utils/atomic-file.js';
import { SHARE_HELP, parseArchFlag, parseShareFlag } from './hw-flags.js';

interface PredictFlags {
  readonly engine: string;
  readonly input: string;
  readonly out: string;
  readonly inputQuantizer?: string;
  readonly weights?: string;
  readonly batchSize?: string;
  readonly arch?: string;
  readonly share?: boolean;
}

function readSamplesFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`input file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new UsageError(`input file ${path} is a directory`);
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new SampleError(`${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export async function runPredict(modelPath: string, flags: PredictFlags, log: (line: string) => void, warn: (line: string) => void): Promise<void> {
  const engine = findEngine(flags.engine);
  if (engine === undefined) throw new UsageError(`unknown engine ${JSON.stringify(flags.engine)}; choose one of ${engineNames().join(', ')}`);
  const batchSize = positiveInt(flags.batchSize, '--batch-size');
  if (flags.share === true && engine.name !== 'verilog') throw new UsageError(`--share applies to the verilog engine, got --engine ${engine.name}`);
  const share = flags.share === true ? parseShareFlag(true, parseArchFlag(flags.arch)) : undefined;
  const data = readSamplesFile(flags.input);
  const model = await loadModel(modelPath, {
    ...(flags.weights === undefined ? {} : { weights: flags.weights }),
    inputQuantizer: flags.inputQuantizer ?? null,
  });
  const samples = flattenSamples(data, model.inputShape, flags.input);
  const outputs = await engine.predict(model, samples, {
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(flags.arch === undefined ? {} : { arch: flags.arch }),
    ...(share === undefined ? {} : { share }),
    warn: (line) => warn(`warning: ${line}`),
  });
  writeFileAtomic(flags.out, outputsJson(outputs, model.outputShape));
  log(`${engine.name}: wrote ${outputs.length} output${outputs.length === 1 ? '' : 's'} of shape [${model.outputShape.join(', ')}] to ${flags.out}`);
}

export function registerPredict(program: Command): void {
  const engines = ENGINES.map((e) => `  ${e.name.padEnd(8)} ${e.description}`).join('\n');
  program
    .command('predict')
    .description("run a model on the samples of a JSON file with one engine and write the outputs as JSON")
    .argument('<model>', 'tfjs model directory or model.json (saveQmodel), Keras model JSON (with --weights), or Keras .h5')
    .addOption(new Option('--engine <name>', 'engine to run').choices(engineNames()).makeOptionMandatory())
    .requiredOption('--input <file>', "JSON array of samples, each a nested array in the model's input shape (real values)")
    .requiredOption('--out <file>', 'where to write the outputs (JSON array, one sample per line; written atomically)')
    .option('--input-quantizer <quantizer>', 'QKeras quantizer applied to the inputs first by every engine, e.g. "quantized_bits(8,0,1)"')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--batch-size <n>', 'samples per tfjs call')
    .option('--arch <arch>', 'hardware architecture, for engines that have several (verilog: parallel | stream)')
    .option('--share', `verilog: ${SHARE_HELP}`)
    .addHelpText(
      'after',
      `\nEngines:\n${engines}\n\nThe outputs are real values: the network's output, or for a model ending in softmax the logits\n` +
        'feeding it. Every engine applies the input quantizer first; all engines agree to the bit.\n\n' +
        'Example:\n' +
        '  $ qkeras predict model/ --engine tfjs --input in.json --out tfjs.json --input-quantizer "quantized_bits(8,0,1)"\n' +
        '  $ qkeras predict model/ --engine ir   --input in.json --out ir.json   --input-quantizer "quantized_bits(8,0,1)"\n' +
        '  $ cmp tfjs.json ir.json\n',
    )
    .action(async (modelPath: string, flags: PredictFlags) => {
      await runPredict(
        modelPath,
        flags,
        (line) => console.log(line),
        (line) => console.error(line),
      );
    });
}
