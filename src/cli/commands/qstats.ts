/**
 * `qkeras qstats <model>`: QKeras's print_qstats (operation counts by multiplier type and bit widths, weight
 * profiling, sparsity) and, with --energy, the QTools energy estimate. The model's weights are not changed.
 */
import type { Command } from 'commander';
import { loadModelFrom } from '../../engines/loaded-model.js';
import { printQstats } from '../../ops/estimate.js';
import { QTools } from '../../qtools/index.js';

interface QstatsFlags {
  readonly weights?: string;
  readonly energy?: boolean;
  readonly sourceQuantizer?: string;
}

export function registerQstats(program: Command): void {
  program
    .command('qstats')
    .description("print QKeras's operation and weight statistics of a model (print_qstats), optionally its energy")
    .argument('<model>', 'tfjs model directory or model.json, Keras model JSON (with --weights) or Keras .h5')
    .option('--weights <file>', 'HDF5 weights for a Keras model JSON')
    .option('--energy', 'also print the QTools energy estimate (Horowitz 45 nm, pJ per inference)')
    .option('--source-quantizer <q>', 'quantizer assumed for the model input in the energy estimate', 'quantized_bits(8,0,1)')
    .addHelpText('after', '\nExample:\n  qkeras qstats out/train/qmodel --energy')
    .action(async (modelPath: string, flags: QstatsFlags) => {
      const model = await loadModelFrom(modelPath, flags.weights === undefined ? {} : { weights: flags.weights });
      const text = printQstats(model, { print: false });
      process.stdout.write(`${text}\n`);
      if (flags.energy) {
        // The model holds latent float weights: QTools quantizes them itself (model_weights_already_quantized=False).
        const tools = new QTools(model, { sourceQuantizers: flags.sourceQuantizer!, process: 'horowitz', isInference: true, modelWeightsAlreadyQuantized: false });
        const energy = tools.pe({ weightsOnMemory: 'sram', activationsOnMemory: 'sram' });
        const total = tools.extractEnergySum(null, energy);
        console.log(`\nEnergy estimate (QTools, horowitz process, SRAM): ${total} pJ per inference`);
      }
    });
}
