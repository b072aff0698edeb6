/**
 * `qkeras quantize <model> --config cfg.json`: QKeras's model_quantize — converts a float (or partly
 * quantized) model by a config in QKeras's own JSON form and saves the quantized model, optionally with the
 * float weights transferred.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadModelFrom } from '../../engines/loaded-model.js';
import { quantizerSummary } from '../../layers/summary.js';
import { modelQuantize, type QuantizerConfig } from '../../utils/model-quantize.js';
import { saveQmodel } from '../../utils/save-load.js';
import { UsageError } from '../errors.js';
import { parseCount } from '../options.js';

interface QuantizeFlags {
  readonly config: string;
  readonly out: string;
  readonly activationBits: string;
  readonly transferWeights?: boolean;
  readonly weights?: string;
}

function readConfig(path: string): QuantizerConfig {
  if (!existsSync(path)) throw new UsageError(`--config: ${path} does not exist`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as QuantizerConfig;
  } catch (e) {
    throw new UsageError(`--config: ${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description("convert a model with a QKeras model_quantize config (QKeras's JSON form) and save it")
    .argument('<model>', 'tfjs model directory or model.json, Keras model JSON (with --weights) or Keras .h5')
    .requiredOption('-c, --config <file>', 'model_quantize config JSON: keys are layer names or Q class names')
    .requiredOption('-o, --out <dir>', 'directory for the quantized model (model.json + weights.bin)')
    .option('--activation-bits <n>', 'bits of activations the config does not name', '4')
    .option('--transfer-weights', "start from the model's weights instead of fresh initial values")
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .addHelpText(
      'after',
      '\nExample (the lab book\'s config):\n' +
        '  echo \'{"QConv2D": {"kernel_quantizer": "stochastic_ternary", "bias_quantizer": "quantized_po2(4)"},\n' +
        '        "QDense": {"kernel_quantizer": "quantized_bits(4,0,1)", "bias_quantizer": "quantized_bits(4)"},\n' +
        '        "QActivation": {"relu": "binary"}}\' > cfg.json\n' +
        '  qkeras quantize out/train/float --config cfg.json --transfer-weights --out out/quantized',
    )
    .action(async (modelPath: string, flags: QuantizeFlags) => {
      const config = readConfig(flags.config);
      const bits = parseCount('--activation-bits', flags.activationBits, 64);
      const model = await loadModelFrom(modelPath, flags.weights === undefined ? {} : { weights: flags.weights });
      const q = modelQuantize(model, config, bits, { transferWeights: Boolean(flags.transferWeights) });
      await saveQmodel(q, flags.out);
      console.log(quantizerSummary(q));
      console.log(`saved the quantized model to ${flags.out}`);
    });
}
