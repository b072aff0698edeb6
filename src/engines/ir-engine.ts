/**
 * The ir engine: the golden integer interpreter (`runIR`) over the lowered graph, sample by sample.
 * Its input node applies the input quantizer to the float32 value of each real input as QKeras does;
 * graph output 0 (the network's output, or the logits of a final softmax) is returned as real values.
 */
import { runIRReal } from '../ir/interpret.js';
import type { Engine } from './types.js';

export const irEngine: Engine = {
  name: 'ir',
  description: 'the golden integer model: exact fixed-point interpretation of the lowered IR',
  predict(model, samples, options = {}) {
    const lowered = model.lowered();
    if (options.warn !== undefined) {
      for (const w of lowered.warnings) {
        options.warn(`${w.node === null ? 'graph' : `%${w.node}`}: ${w.message} (tfjs may differ from the exact model here)`);
      }
    }
    const graph = lowered.graph;
    return Promise.resolve(samples.map((s) => Array.from(runIRReal(graph, s)[0]!, (v) => v + 0)));
  },
};
