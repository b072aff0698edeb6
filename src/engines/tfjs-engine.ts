/**
 * The tfjs engine: float32 inference of the quantized model on the active backend (wasm by default),
 * in batches, after the declared input quantizer; for a model ending in softmax it returns the logits.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import type { Engine } from './types.js';
import { logitsModel } from './logits-model.js';
import type { LoadedModel } from './loaded-model.js';

const DEFAULT_BATCH = 256;

const cache = new WeakMap<LoadedModel, tf.LayersModel>();

function outputModel(model: LoadedModel): tf.LayersModel {
  let m = cache.get(model);
  if (m === undefined) {
    m = logitsModel(model.model);
    cache.set(model, m);
  }
  return m;
}

export const tfjsEngine: Engine = {
  name: 'tfjs',
  description: 'tfjs float32 inference of the quantized model (the reference every other engine must equal)',
  async predict(model, samples, options = {}) {
    await ready();
    const net = outputModel(model);
    const q = model.inputQuantizer === null ? null : getQuantizer(model.inputQuantizer);
    const perSample = model.inputShape.reduce((a, b) => a * b, 1);
    const outSize = model.outputShape.reduce((a, b) => a * b, 1);
    const batch = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const out: number[][] = [];
    for (let start = 0; start < samples.length; start += batch) {
      const chunk = samples.slice(start, start + batch);
      const flat = new Float32Array(chunk.length * perSample);
      chunk.forEach((s, i) => flat.set(s, i * perSample));
      const y = tf.tidy(() => {
        let x: tf.Tensor = tf.tensor(flat, [chunk.length, ...model.inputShape], 'float32');
        if (q !== null) x = q.call(x, { training: false });
        return (net.predict(x) as tf.Tensor).dataSync() as Float32Array;
      });
      // `+ 0` turns float32's -0 into 0: the same real value, as every other engine returns it.
      for (let i = 0; i < chunk.length; i += 1) out.push(Array.from(y.subarray(i * outSize, (i + 1) * outSize), (v) => v + 0));
    }
    return out;
  },
};
