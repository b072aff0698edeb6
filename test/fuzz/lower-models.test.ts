/**
 * Fuzz: `lowerModel` over random small Q models — dense, conv, depthwise, pooling, batch-norm and
 * activation layers in random order, with quantizers drawn from the supported menus and from hostile
 * ones (54+ bits, huge integer bits, non-po2 and per-channel alphas, auto-scaled activations, float
 * activations, qnoise), and weights with extreme values (±1e30, subnormals, float32's limits). Each model
 * either lowers — and its graph then runs on zeros, saturating and random inputs — or fails with a typed
 * error; nothing hangs (the bisection that tabulates tanh/sigmoid activations looped forever over input
 * codes beyond 2^53, and took seconds per 12-bit activation before it batched its evaluations).
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { runIRReal } from '../../src/ir/interpret.js';
import { QActivation, QAveragePooling2D, QBatchNormalization, QConv2D, QDense, QDepthwiseConv2D } from '../../src/layers/index.js';
import { UnsupportedLayersError, lowerModelDetailed } from '../../src/lower/index.js';
import { ACTIVATIONS, BIAS_QUANTIZERS, INPUT_QUANTIZERS, KERNEL_QUANTIZERS } from '../lower/zoo.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';

beforeAll(async () => {
  await ready();
});

const HOSTILE = [
  'quantized_bits(53,0,1)', 'quantized_bits(54,0,1)', 'quantized_bits(32,16,1)', 'quantized_bits(1,0,1)', 'quantized_bits(2,-20,1)',
  'quantized_bits(16,40,1)', 'quantized_bits(6,1e308,1)', 'quantized_bits(1e9,0,1)', 'quantized_relu(24,12)', 'quantized_relu(70,2)',
  'quantized_tanh(12)', 'quantized_sigmoid(12)', 'quantized_po2(8)', 'quantized_po2(40)', 'quantized_relu_po2(8)', 'quantized_ulaw(8,0,1)',
  'bernoulli', 'quantized_linear(8,2)', 'quantized_hswish(8,2)', "quantized_bits(4,0,1,alpha='auto')", 'quantized_bits(4,0,1,alpha=0.3)',
  'quantized_bits(4,0,1,alpha=[1 2])', 'ternary(alpha=[0.5 1 2])', 'binary(use_01=True)', 'quantized_relu(4,2,use_sigmoid=1)',
  'quantized_bits(8,0,1,qnoise_factor=0.5)', 'softmax', 'tanh', 'sigmoid', 'linear', 'relu', 'quantized_po2(4,1e30)',
];

const quantizer = (menu: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...menu) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) });

const layerSpec = fc.record({
  kind: fc.constantFrom('dense', 'act', 'conv', 'dw', 'avg', 'bn', 'flat'),
  units: fc.integer({ min: 1, max: 5 }),
  k: fc.integer({ min: 1, max: 3 }),
  kernel: quantizer(KERNEL_QUANTIZERS),
  bias: quantizer(BIAS_QUANTIZERS),
  act: quantizer(ACTIVATIONS),
  useBias: fc.boolean(),
});
type LayerSpec = typeof layerSpec extends fc.Arbitrary<infer T> ? T : never;

const modelSpec = fc.record({
  input: fc.constantFrom(...INPUT_QUANTIZERS, 'quantized_bits(24,8,1)', 'quantized_relu(30,10)'),
  side: fc.integer({ min: 1, max: 5 }),
  channels: fc.integer({ min: 1, max: 3 }),
  layers: fc.array(layerSpec, { minLength: 1, maxLength: 4 }),
  weights: fc.array(
    fc.oneof({ weight: 8, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1e30, -1e30, 1e-40, -1e-45, 3.4e38, 65504, 2 ** -126, 0.5, -0.5) }),
    { minLength: 1, maxLength: 64 },
  ),
});

type T = tf.SymbolicTensor;

/** Appends one layer when it fits the current rank (convolutions need an image, flatten a rank > 2). */
function addLayer(x: T, l: LayerSpec, name: string): T {
  const image = x.shape.length === 4;
  const k = image ? Math.min(l.k, x.shape[1]!) : 1;
  switch (l.kind) {
    case 'dense':
      return new QDense({ units: l.units, kernelQuantizer: l.kernel, biasQuantizer: l.bias, useBias: l.useBias, activation: l.act, name }).apply(x) as T;
    case 'act':
      return new QActivation({ activation: l.act, name }).apply(x) as T;
    case 'conv':
      return image ? (new QConv2D({ filters: l.units, kernelSize: k, padding: 'same', kernelQuantizer: l.kernel, biasQuantizer: l.bias, useBias: l.useBias, activation: l.act, name }).apply(x) as T) : x;
    case 'dw':
      return image ? (new QDepthwiseConv2D({ kernelSize: k, padding: 'same', depthwiseQuantizer: l.kernel, biasQuantizer: l.bias, activation: l.act, name }).apply(x) as T) : x;
    case 'avg':
      return image && x.shape[1]! >= 2 ? (new QAveragePooling2D({ poolSize: 2, averageQuantizer: l.bias, activation: l.act, name }).apply(x) as T) : x;
    case 'bn':
      return new QBatchNormalization({ gammaQuantizer: null, varianceQuantizer: null, inverseQuantizer: 'quantized_po2(5)', betaQuantizer: 'quantized_po2(5)', meanQuantizer: 'quantized_po2(5)', name }).apply(x) as T;
    default:
      return x.shape.length > 2 ? (tf.layers.flatten({ name }).apply(x) as T) : x;
  }
}

describe('fuzz: lowerModel', () => {
  it('every random Q model lowers and runs, or fails with a typed error', async () => {
    const plan = fuzzPlan('lower-models', 40);
    const tally = new FuzzTally(plan);
    await fc.assert(
      fc.asyncProperty(modelSpec, async (spec) => {
        let model: tf.LayersModel | null = null;
        await tally.run(
          () => JSON.stringify(spec),
          () => {
            const input = tf.input({ shape: [spec.side, spec.side, spec.channels], name: 'x' });
            let x: T = input;
            spec.layers.forEach((l, i) => (x = addLayer(x, l, `${l.kind}${i}`)));
            model = tf.model({ inputs: input, outputs: x, name: 'fuzzed' });
            let k = 0;
            const m = model;
            const values = m.weights.map((w) => {
              const variance = w.name.includes('variance');
              const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
              const data = Float32Array.from({ length: size }, () => {
                const v = spec.weights[k++ % spec.weights.length]!;
                return variance ? Math.abs(v) + 0.1 : v;
              });
              return tf.tensor(data, w.shape as number[]);
            });
            m.setWeights(values);
            tf.dispose(values);
            const lowered = lowerModelDetailed(m, { inputQuantizer: spec.input });
            const size = spec.side * spec.side * spec.channels;
            for (const v of [0, 0.3, 1e6, -1e6]) runIRReal(lowered.graph, Array.from({ length: size }, (_, j) => (v === 0.3 ? Math.sin(j) * 4 : v)));
          },
          (e) => {
            // Lowering problems are reported per layer.
            if (e instanceof UnsupportedLayersError) expect(e.message).toMatch(/\n {2}- \S+ \(\w+\): /);
          },
        );
        (model as tf.LayersModel | null)?.dispose();
      }),
      fcParams(plan),
    );
    tally.report();
  });

  it('an activation tabulated over input codes beyond 2^53 is refused, naming the layer (its bisection never ended)', () => {
    const input = tf.input({ shape: [4, 4, 2], name: 'x' });
    let x = new QActivation({ activation: 'quantized_bits(53,0,1)', name: 'wide' }).apply(input) as T;
    x = new QAveragePooling2D({ poolSize: 2, averageQuantizer: 'quantized_bits(4,0,1)', activation: 'quantized_sigmoid(4)', name: 'pool' }).apply(x) as T;
    const model = tf.model({ inputs: input, outputs: x, name: 'wide_table' });
    expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(24,8,1)' })).toThrow(
      /- pool \(QAveragePooling2D\): quantized_sigmoid\(4\): its input codes reach \[-18014398509481984, 18014398509481983\], beyond 2\^53/,
    );
    model.dispose();
  });
});
