import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation } from '../../src/layers/q-activation.js';
import { QConv2D } from '../../src/layers/q-conv.js';
import { QNoiseScheduler, scheduledQuantizers } from '../../src/utils/qnoise-scheduler.js';
import { loadVectors } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

/** QKeras's callbacks_test model: QConv2D(1, 2) with kernel/bias quantizers, then QActivation. */
function qconvModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 1], name: 'input' });
  let x = new QConv2D({
    filters: 1,
    kernelSize: 2,
    strides: 1,
    kernelQuantizer: 'quantized_bits(6,2,1,alpha=1.0)',
    biasQuantizer: 'quantized_bits(4,0,1)',
    name: 'qconv2d_1',
  }).apply(input) as tf.SymbolicTensor;
  x = new QActivation({ activation: 'quantized_relu(4)', name: 'QA_1' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

describe('QNoiseScheduler (QKeras callbacks_test vectors)', () => {
  const vectors = loadVectors().filter((v) => v.test_name.startsWith('test_QNoiseScheduler'));

  it('covers every QNoiseScheduler vector', () => {
    expect(vectors).toHaveLength(4);
  });

  for (const v of loadVectors().filter((x) => x.test_name.startsWith('test_QNoiseScheduler'))) {
    it(`${v.test_name}: after fit (5 samples, batch 1, step schedule) every quantizer's factor is ${JSON.stringify(v.expected)}`, async () => {
      const input = v.input as { start: number; finish: number; exponent: number; last_update_freq: number };
      const model = qconvModel();
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const x = tf.randomUniform([5, 4, 4, 1], 0, 1, 'float32', 11);
      const y = tf.randomUniform([5, 3, 3, 1], 0, 1, 'float32', 12);
      const cb = new QNoiseScheduler({ start: input.start, finish: input.finish, freqType: 'step', exponent: input.exponent });
      await model.fit(x, y, { batchSize: 1, epochs: 1, verbose: 0, callbacks: [cb] });
      // The kernel and bias quantizers of the conv and the activation's quantizer, as in QKeras's test.
      expect(cb.quantizers).toHaveLength(3);
      for (const q of cb.quantizers!) expect(q.qnoiseFactor).toBe(v.expected);
      expect(cb.calculateQnoiseFactor(input.last_update_freq)).toBe(v.expected);
    });
  }

  it('schedules per epoch and every updateFreq steps, starting from 0', async () => {
    const model = qconvModel();
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const seen: number[] = [];
    const cb = new QNoiseScheduler({ start: 1, finish: 3, freqType: 'epoch', exponent: 1 });
    const probe = new (class extends tf.Callback {
      override async onEpochBegin(): Promise<void> {
        seen.push(cb.quantizers![0]!.qnoiseFactor);
      }
    })();
    await model.fit(tf.zeros([2, 4, 4, 1]), tf.zeros([2, 3, 3, 1]), { batchSize: 2, epochs: 5, verbose: 0, callbacks: [cb, probe] });
    expect(seen).toEqual([0, 0, 0.5, 1, 1]);
    const every2 = new QNoiseScheduler({ start: 0, finish: 4, updateFreq: 2, exponent: 1 });
    expect([0, 1, 2, 3, 4].map((f) => every2.calculateQnoiseFactor(f))).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('collects only quantizers that have a qnoise_factor (binary has none)', () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const y = new QConv2D({ filters: 1, kernelSize: 2, kernelQuantizer: 'binary', biasQuantizer: 'quantized_bits(4,0,1)' }).apply(input) as tf.SymbolicTensor;
    const names = scheduledQuantizers(tf.model({ inputs: input, outputs: y })).map((q) => q.className);
    expect(names).toEqual(['quantized_bits']);
  });

  it('rejects a schedule that ends before it starts, and unknown frequencies', () => {
    expect(() => new QNoiseScheduler({ start: 5, finish: 2 })).toThrow(/finish=2 is not allowed; expected a number >= start \(5\)/);
    expect(() => new QNoiseScheduler({ start: 0, finish: 2, freqType: 'batch' as 'step' })).toThrow(/freqType="batch"/);
  });
});
