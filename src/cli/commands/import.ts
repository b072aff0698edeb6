/**
 * `qkeras import <model.json|model.h5> [--weights w.h5] --out <dir>`: reads a Keras 2 / QKeras model
 * (`model.to_json()` + `save_weights`, or a full `model.save` .h5) and writes it as a tfjs model directory
 * (saveQmodel: model.json + weights.bin, replaced together) that every other command takes. It prints the
 * layers with their quantizers, and whether the model lowers to the fixed-point IR as it is: a float input
 * needs `--input-quantizer` in compile/predict/verify/synth, float layers need `qkeras quantize` first.
 */
import type { Command } from 'commander';
import type * as tf from '@tensorflow/tfjs';
import { loadModelFrom } from '../../engines/loaded-model.js';
import { quantizerSummary } from '../../layers/summary.js';
import { lowerModel } from '../../lower/lower-model.js';
import { InputQuantizerError, LoweringError, UnsupportedLayersError } from '../../lower/errors.js';
import { saveQmodel } from '../../utils/save-load.js';

interface ImportFlags {
  readonly out: string;
  readonly weights?: string;
}

/** Stands in for the input quantizer while checking the layers of a model whose input is float. */
const PROBE_INPUT_QUANTIZER = 'quantized_bits(16,6,1)';

/** Why a layer-level lowering problem stops the hardware commands, as one line. */
function notLowerable(e: LoweringError): string {
  if (e instanceof UnsupportedLayersError) {
    const layers = e.issues.map((i) => `${i.layer} (${i.className})`).join(', ');
    const n = e.issues.length;
    return `hardware: ${n} layer${n === 1 ? ' has' : 's have'} no fixed-point form: ${layers}; convert them with \`qkeras quantize --config cfg.json\``;
  }
  return `hardware: not lowerable to the fixed-point IR: ${e.message.split('\n')[0]}`;
}

/** What the model needs before the hardware commands take it, as one line. */
export function hardwareReadiness(model: tf.LayersModel): string {
  try {
    lowerModel(model);
    return 'hardware: lowers to the fixed-point IR as it is (compile, verify and synth take it directly)';
  } catch (e) {
    if (!(e instanceof LoweringError)) throw e;
    if (!(e instanceof InputQuantizerError)) return notLowerable(e);
  }
  // The input is float: check the layers with a stand-in input quantizer.
  try {
    lowerModel(model, { inputQuantizer: PROBE_INPUT_QUANTIZER });
  } catch (e) {
    if (!(e instanceof LoweringError)) throw e;
    return notLowerable(e);
  }
  return 'hardware: the model input is float; give compile, predict, verify and synth --input-quantizer, e.g. "quantized_bits(16,6,1)" for ap_fixed<16,6>';
}

export async function runImport(modelPath: string, flags: ImportFlags, log: (line: string) => void): Promise<void> {
  const model = await loadModelFrom(modelPath, flags.weights === undefined ? {} : { weights: flags.weights });
  try {
    const params = model.countParams();
    const from = flags.weights === undefined ? modelPath : `${modelPath} + ${flags.weights}`;
    log(`imported ${from}: ${model.getClassName()} "${model.name}", ${model.layers.length} layers, ${params.toLocaleString('en-US')} parameters`);
    log(quantizerSummary(model));
    log(hardwareReadiness(model));
    await saveQmodel(model, flags.out, { includeOptimizer: false });
    log(`wrote the tfjs model (model.json + weights.bin) to ${flags.out}`);
  } finally {
    model.dispose();
  }
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('read a Keras/QKeras model (JSON + HDF5 weights, or a full .h5) and save it as a tfjs model directory')
    .argument('<model>', 'Keras model JSON (model.to_json(), with --weights) or a full Keras .h5 (model.save)')
    .option('--weights <file>', 'HDF5 weights (save_weights) for a Keras model JSON')
    .requiredOption('--out <dir>', 'directory for model.json + weights.bin (created; both files replaced together)')
    .addHelpText(
      'after',
      '\nThe files hold the latent float weights; the quantizers named in the JSON are applied at inference,\n' +
        'as QKeras does. Every layer or argument that cannot be mapped is reported at once, by name and class.\n' +
        'compile, predict, verify, synth, qstats and quantize also take the .json + --weights (or .h5) directly.\n\n' +
        'Example:\n' +
        '  $ qkeras import qkeras_3layer.json --weights qkeras_3layer_weights.h5 --out jet-tagger\n' +
        '  $ qkeras verify jet-tagger --input-quantizer "quantized_bits(16,6,1)" --target c\n',
    )
    .action(async (modelPath: string, flags: ImportFlags) => {
      await runImport(modelPath, flags, (line) => console.log(line));
    });
}
