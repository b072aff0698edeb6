/**
 * QAdaptiveActivation: integer bits from the moving min/max (QKeras's _get_integer_bits vectors, through
 * the layer), the EMA update, quantization delay, EMA freezing, per-channel integer bits, QKeras's
 * string form, hidden weights, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError } from '../../src/errors.js';
import { QAdaptiveActivation } from '../../src/layers/q-adaptive-activation.js';
import { QDense } from '../../src/layers/q-dense.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';
import { expectMatches, loadVectors } from '../helpers/qkeras-vectors.js';
import { expectRoundTrip, seeded } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

const data = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('QAdaptiveActivation arguments', () => {
  it('takes only the bare names quantized_bits / quantized_relu', () => {
    expect(() => new QAdaptiveActivation({ activation: 'quantized_bits(4,2)', totalBits: 4 })).toThrow(ConfigError);
    expect(() => new QAdaptiveActivation({ activation: 'binary', totalBits: 4 })).toThrow(/quantized_bits' or 'quantized_relu/);
    expect(() => new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 0 })).toThrow(ConfigError);
    expect(() => new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, reluNegSlope: 0.3 })).toThrow(ConfigError);
  });

  it('sets alpha=1.0, the total bits and QKeras defaults; prints like QKeras', () => {
    const bits = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 6 });
    expect(bits.quantizerString()).toBe('quantized_bits(6,0,1,alpha=1.0)');
    expect(bits.keepNegative).toBe(true);
    expect([bits.symmetric, bits.quantizationDelay, bits.emaFreezeDelay, bits.emaDecay, bits.perChannel, bits.po2Rounding, bits.step]).toEqual([
      true,
      0,
      null,
      0.9999,
      false,
      false,
      -1,
    ]);
    const relu = new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, reluNegSlope: 0.25 });
    expect(relu.keepNegative).toBe(true);
    expect(relu.getQuantizationConfig()).toEqual({ activation: 'quantized_relu(4,0,0.25)' });
    expect(relu.activation.toString()).toBe('quantized_relu(4,0,0.25)');
    expect(new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4 }).keepNegative).toBe(false);
  });
});

describe('QAdaptiveActivation integer bits (QKeras qalpha_test _get_integer_bits vectors)', () => {
  const vectors = loadVectors().filter((v) => v.kind === 'function_call' && v.quantizer.startsWith('_get_integer_bits('));
  it('has the four parameter sets', () => {
    expect(vectors.length).toBe(4);
  });
  for (const v of vectors) {
    it(v.test_name, () => {
      const flag = (name: string): boolean => new RegExp(`${name}=True`).test(v.quantizer);
      const input = v.input as { min_value: number[]; max_value: number[]; bits: number };
      // keep_negative is the layer's: always for quantized_bits, never for quantized_relu without slope.
      const layer = new QAdaptiveActivation({
        activation: flag('keep_negative') ? 'quantized_bits' : 'quantized_relu',
        totalBits: input.bits,
        symmetric: flag('symmetric'),
        po2Rounding: flag('is_clipping'),
        perChannel: true,
      });
      layer.apply(tf.zeros([1, input.min_value.length]));
      layer.emaMin!.write(tf.tensor1d(input.min_value));
      layer.emaMax!.write(tf.tensor1d(input.max_value));
      const bits = layer.integerBits();
      expectMatches({ values: bits, shape: [bits.length] }, v.expected, v.tolerance, v.test_name);
    });
  }
});

describe('QAdaptiveActivation training behaviour', () => {
  it('moves the EMA of the unquantized min/max each training call, and quantizes with the bits it implies', () => {
    const layer = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 8, emaDecay: 0.5 });
    const x = tf.tensor2d([
      [0.3, -2.7],
      [5.1, 1.2],
    ]);
    // Inference before any training: integer bits 0, nothing moves.
    expect(data(layer.apply(x) as tf.Tensor)).toEqual(data(getQuantizer('quantized_bits(8,0,1,alpha=1.0)')!.call(x)));
    expect([data(layer.emaMin!.read()), data(layer.emaMax!.read())]).toEqual([[0], [0]]);
    expect(layer.step).toBe(-1);
    // Training call 1 (step 0 >= delay 0): quantized with the old bits (0), then EMA: 0 → 0.5·min/max.
    expect(data(layer.apply(x, { training: true }) as tf.Tensor)).toEqual(data(getQuantizer('quantized_bits(8,0,1,alpha=1.0)')!.call(x)));
    expect(layer.step).toBe(0);
    expect([data(layer.emaMin!.read()), data(layer.emaMax!.read())]).toEqual([[-1.350000023841858], [2.549999952316284]]);
    // ceil(log2 2.55) = 2 integer bits (and 2.55 fits below 4 − 2^-5).
    expect(layer.integerBits()).toEqual([2]);
    expect(layer.quantizerString()).toBe('quantized_bits(8,2,1,alpha=1.0)');
    expect(data(layer.apply(x) as tf.Tensor)).toEqual(data(getQuantizer('quantized_bits(8,2,1,alpha=1.0)')!.call(x)));
    // QKeras casts the decay to float32 before 1 − decay.
    const slow = new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4 });
    slow.apply(x, { training: true });
    const rate = Math.fround(1 - Math.fround(0.9999));
    expect(data(slow.emaMax!.read())).toEqual([Math.fround(5.099999904632568 * rate)]);
    expect(data(slow.emaMin!.read())).toEqual([0]);
  });

  it('passes the float activation until quantizationDelay steps, then quantizes; inference always quantizes', () => {
    const layer = new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, quantizationDelay: 2, emaDecay: 0 });
    const x = tf.tensor2d([[0.3, -1, 2.7]]);
    const relu = [Math.fround(0.3), 0, Math.fround(2.7)];
    expect(data(layer.apply(x, { training: true }) as tf.Tensor)).toEqual(relu); // step 0
    expect(data(layer.apply(x, { training: true }) as tf.Tensor)).toEqual(relu); // step 1
    // EMA (decay 0) holds this batch's range: max 2.7 → 2 integer bits.
    expect(layer.integerBits()).toEqual([2]);
    const q = data(getQuantizer('quantized_relu(4,2)')!.call(x));
    expect(data(layer.apply(x) as tf.Tensor)).toEqual(q);
    expect(data(layer.apply(x, { training: true }) as tf.Tensor)).toEqual(q); // step 2
    expect(layer.step).toBe(2);
  });

  it('stops the averages after emaFreezeDelay steps; inference never moves them', () => {
    const layer = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 4, emaFreezeDelay: 1, emaDecay: 0.5 });
    const x = seeded([3, 2], 1, -4, 4);
    const max = (): number[] => data(layer.emaMax!.read());
    const seen = [];
    for (let i = 0; i < 4; i++) {
      layer.apply(x, { training: true });
      seen.push(max()[0]);
    }
    // Steps 0 and 1 update (step <= 1), steps 2 and 3 do not.
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[2]).toBe(seen[1]);
    expect(seen[3]).toBe(seen[1]);
    const frozen = max();
    layer.apply(x);
    expect(max()).toEqual(frozen);
    expect(layer.step).toBe(3);
  });

  it('per channel: each channel quantized with its own integer bits', () => {
    const layer = new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, perChannel: true, emaDecay: 0 });
    const x = tf.tensor3d([[[0.3, 2.7, 9.1]], [[1.2, -3, 5.5]]]);
    layer.apply(x, { training: true });
    expect(data(layer.emaMax!.read())).toEqual(data(tf.tensor1d([1.2, 2.7, 9.1])));
    expect(layer.integerBits()).toEqual([1, 2, 4]);
    expect(layer.quantizerString()).toBe('quantized_relu(4,[1 2 4])');
    const out = data(layer.apply(x) as tf.Tensor);
    const byChannel = [1, 2, 4].map((i) => data(getQuantizer(`quantized_relu(4,${i})`)!.call(x)));
    expect(out).toEqual(out.map((_, j) => byChannel[j % 3]![j]!));
    // `quantizer` reports the widest channel.
    expect(layer.quantizer.toString()).toBe('quantized_relu(4,4)');
  });

  it('hides its averages from getWeights/setWeights (QKeras) but keeps them as model weights', () => {
    const layer = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 4 });
    layer.apply(tf.zeros([1, 2]));
    expect(layer.getWeights()).toEqual([]);
    layer.setWeights([]);
    expect(layer.weights.map((w) => [w.name.split('/').pop(), w.trainable])).toEqual([
      ['ema_min', false],
      ['ema_max', false],
    ]);
  });

  it('a step source function replaces self-counting', () => {
    let step = 10;
    const layer = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 4, currentStep: () => step, quantizationDelay: 20 });
    const x = tf.tensor2d([[0.3, 0.6]]);
    expect(data(layer.apply(x, { training: true }) as tf.Tensor)).toEqual(data(x));
    expect(layer.step).toBe(10);
    step = 20;
    layer.apply(x, { training: true });
    expect(layer.step).toBe(20);
  });
});

describe('QAdaptiveActivation in model.fit', () => {
  it('counts one step per batch and tracks the range while training', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [4] }),
        new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, quantizationDelay: 2, emaDecay: 0.5, name: 'ada' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    await model.fit(seeded([16, 4], 1), seeded([16, 1], 2), { epochs: 2, batchSize: 8, verbose: 0 });
    const ada = model.getLayer('ada') as QAdaptiveActivation;
    expect(ada.step).toBe(3);
    expect(Array.from(ada.emaMax!.read().dataSync())[0]).toBeGreaterThan(0);
    model.predict(seeded([2, 4], 3));
    expect(ada.step).toBe(3);
  });
});

describe('QAdaptiveActivation serialization', () => {
  it('round-trips through saveQmodel/loadQmodel with its averages, step and options', async () => {
    const input = tf.input({ shape: [5] });
    let y = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'dense' }).apply(input) as tf.SymbolicTensor;
    y = new QAdaptiveActivation({ activation: 'quantized_relu', totalBits: 4, perChannel: true, emaDecay: 0.9, reluUpperBound: 6, name: 'ada' }).apply(y) as tf.SymbolicTensor;
    y = new QAdaptiveActivation({ activation: 'quantized_bits', totalBits: 6, symmetric: false, po2Rounding: true, emaFreezeDelay: 100, name: 'ada2' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    const x = seeded([4, 5], 3, -3, 3);
    for (let i = 0; i < 3; i++) model.apply(x, { training: true });
    const loaded = await expectRoundTrip(model, x);
    const ada = loaded.getLayer('ada') as QAdaptiveActivation;
    expect(ada.step).toBe(2);
    expect(ada.reluUpperBound).toBe(6);
    expect(ada.integerBits()).toEqual((model.getLayer('ada') as QAdaptiveActivation).integerBits());
  });
});
