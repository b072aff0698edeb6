/**
 * Behaviour of the Q layers beyond Keras equivalence: quantized forward passes, QKeras's auto-scale
 * default, default Clip constraints and QInitializer, configs, the training flag, masks, groups, causal
 * padding, pooling arithmetic, error messages and tensor hygiene.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { ConfigError, UnsupportedError } from '../../src/errors.js';
import {
  Clip,
  QActivation,
  QAveragePooling2D,
  QConv1D,
  QConv2D,
  QConv2DTranspose,
  QDense,
  QDepthwiseConv2D,
  QDepthwiseConv2DTranspose,
  QGlobalAveragePooling2D,
  QInitializer,
  QLayer,
  QScaleShift,
  QSeparableConv1D,
  QSeparableConv2D,
  QSeparableConv2DTranspose,
  WeightConstraintsCallback,
  applyWeightConstraints,
  quantizerSummary,
  reviveQuantizerSpec,
} from '../../src/layers/index.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { makeRng } from '../backend/gradient-cases.js';

beforeAll(async () => {
  await ready();
});

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => (rng() * 2 - 1) * scale), shape);
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('quantized forward pass', () => {
  it('QDense computes act(x · q(W) + q(b)) with the layer’s quantizers', () => {
    const layer = new QDense({
      units: 3,
      kernelQuantizer: 'quantized_bits(4,0,1)',
      biasQuantizer: 'quantized_po2(4)',
      activation: 'quantized_relu(3,1)',
    });
    const x = randomTensor([5, 4], 1, 2);
    layer.apply(x);
    const w = randomTensor([4, 3], 2);
    const b = randomTensor([3], 3);
    layer.setWeights([w, b]);
    const y = layer.apply(x) as tf.Tensor;
    const kq = getQuantizer("quantized_bits(4,0,1,alpha='auto_po2')")!;
    const expected = getQuantizer('quantized_relu(3,1)')!.call(
      tf.add(tf.matMul(x, kq.call(w)), getQuantizer('quantized_po2(4)')!.call(b)),
    );
    expect(values(y)).toEqual(values(expected));
    // The outputs are on the activation's grid (steps of 2**(1-3)).
    for (const v of values(y)) expect(v * 4).toBe(Math.round(v * 4));
  });

  it('QConv2D computes act(conv(x, q(W)) + q(b))', () => {
    const layer = new QConv2D({
      filters: 2,
      kernelSize: 2,
      kernelQuantizer: 'ternary(alpha=1.0)',
      biasQuantizer: 'quantized_bits(4,0,1)',
      activation: 'quantized_bits(6,2,1)',
    });
    const x = randomTensor([2, 4, 4, 3], 4);
    layer.apply(x);
    const w = randomTensor([2, 2, 3, 2], 5);
    const b = randomTensor([2], 6);
    layer.setWeights([w, b]);
    const qw = getQuantizer('ternary(alpha=1.0)')!.call(w);
    const expected = getQuantizer('quantized_bits(6,2,1)')!.call(
      tf.add(tf.conv2d(x as tf.Tensor4D, qw as tf.Tensor4D, 1, 'valid'), getQuantizer('quantized_bits(4,0,1)')!.call(b)),
    );
    expect(values(layer.apply(x) as tf.Tensor)).toEqual(values(expected));
  });

  it('gradients flow to the float kernel straight through the quantizer', () => {
    const layer = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(2,0,1,alpha=1.0)', useBias: false });
    const x = randomTensor([3, 4], 7);
    layer.apply(x);
    const kernel = layer.trainableWeights[0]!.read() as tf.Variable;
    const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, [kernel]);
    // d/dW sum(x · q(W)) with a straight-through q is x^T · 1.
    expect(values(grads[kernel.name]!)).toEqual(values(tf.matMul(x, tf.ones([3, 2]), true, false)));
  });
});

describe('quantizerSummary', () => {
  it('lists the effective quantizers of the seed’s QKeras model, layer by layer', () => {
    const model = tf.sequential({
      layers: [
        new QConv2D({ inputShape: [28, 28, 1], filters: 18, kernelSize: 3, kernelQuantizer: 'stochastic_binary', name: 'conv2d_1' }),
        new QActivation({ activation: 'binary', name: 'act_1' }),
        new QConv2D({ filters: 32, kernelSize: 3, kernelQuantizer: 'stochastic_ternary', name: 'conv2d_2' }),
        new QActivation({ activation: 'quantized_relu(3)', name: 'act_2' }),
        tf.layers.flatten({ name: 'flatten' }),
        new QDense({ units: 10, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'dense' }),
      ],
    });
    expect(quantizerSummary(model)).toBe(
      [
        "conv2d_1 (QConv2D): kernel=stochastic_binary(alpha='auto_po2') bias=None activation=linear",
        'act_1 (QActivation): activation=binary()',
        "conv2d_2 (QConv2D): kernel=stochastic_ternary(alpha='auto_po2') bias=None activation=linear",
        'act_2 (QActivation): activation=quantized_relu(3,0)',
        'flatten (Flatten)',
        "dense (QDense): kernel=quantized_bits(4,0,1,alpha='auto_po2') bias=None activation=linear",
      ].join('\n'),
    );
  });
});

describe('QKeras defaults of weight layers', () => {
  it('kernel-like quantizers switch to alpha=auto_po2, others are untouched, the raw spec is kept', () => {
    const dense = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,0,1)' });
    expect(dense.kernelQuantizer!.toString()).toBe("quantized_bits(4,0,1,alpha='auto_po2')");
    expect(dense.biasQuantizer!.toString()).toBe('quantized_bits(4,0,1)');
    expect(dense.quantizerSpecs()).toEqual({ kernel: 'quantized_bits(4,0,1)', bias: 'quantized_bits(4,0,1)' });
    expect(dense.quantizerSummary()).toBe(
      "kernel=quantized_bits(4,0,1,alpha='auto_po2') bias=quantized_bits(4,0,1) activation=linear",
    );
    const sep = new QSeparableConv2D({ filters: 2, kernelSize: 2, depthwiseQuantizer: 'binary', pointwiseQuantizer: 'ternary' });
    expect(sep.getQuantizers().map(String)).toEqual(["binary(alpha='auto_po2')", "ternary(alpha='auto_po2')", 'null']);
    const dw = new QDepthwiseConv2D({ kernelSize: 2, depthwiseQuantizer: 'stochastic_binary' });
    expect(dw.depthwiseQuantizer!.toString()).toBe("stochastic_binary(alpha='auto_po2')");
    // An explicit alpha is kept (plain fixed point).
    expect(new QConv2D({ filters: 1, kernelSize: 1, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)' }).kernelQuantizer!.toString()).toBe(
      'quantized_bits(4,0,1,alpha=1)',
    );
    // Pooling and activation quantizers are not weights.
    expect(new QAveragePooling2D({ averageQuantizer: 'quantized_bits(4,0,1)' }).averageQuantizer!.toString()).toBe('quantized_bits(4,0,1)');
    expect(new QActivation({ activation: 'binary' }).quantizer.toString()).toBe('binary()');
  });

  it('getQuantizers() follows QKeras’s order and names the effective quantizers', () => {
    const c = new QConv1D({ filters: 1, kernelSize: 1, kernelQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_bits(8,3,1)' });
    expect(c.getQuantizers().map((q) => q?.toString() ?? null)).toEqual(['quantized_po2(4)', 'quantized_bits(8,3,1)']);
    const t = new QConv2DTranspose({ filters: 1, kernelSize: 1 });
    expect(t.getQuantizers()).toEqual([null, null]);
    const g = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(8,1,1)', activation: 'quantized_relu(4)' });
    expect(g.getQuantizers().map(String)).toEqual(['quantized_bits(8,1,1)']);
    expect(g.quantizerSummary()).toBe('average=quantized_bits(8,1,1) activation=quantized_relu(4,0)');
    const d = new QDense({ units: 7, kernelQuantizer: 'binary' });
    expect(d.getQuantizationConfig()).toEqual({
      kernel_quantizer: "binary(alpha='auto_po2')",
      bias_quantizer: 'None',
      activation: 'None',
      units: '7',
    });
  });

  it('a quantized weight gets Clip(-M, M) with M = max(1, q.max()); given constraints are kept', () => {
    const clipOf = (l: QLayer): Array<[number, number] | string> =>
      l.weightConstraints().map(({ constraint }) =>
        constraint instanceof Clip ? [constraint.minValue, constraint.maxValue] : constraint.getClassName(),
      );
    const dense = (args: object): QDense => {
      const l = new QDense({ units: 2, ...args });
      l.apply(tf.zeros([1, 3]));
      return l;
    };
    expect(clipOf(dense({ kernelQuantizer: 'quantized_bits(4,0,1)' }))).toEqual([[-1, 1]]);
    expect(clipOf(dense({ kernelQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_bits(8,3,1)' }))).toEqual([
      [-8, 8],
      [-8, 8],
    ]);
    expect(clipOf(dense({ kernelQuantizer: 'quantized_bits(4,0,1)', kernelConstraint: 'nonNeg' }))).toEqual(['NonNeg']);
    expect(
      clipOf(dense({ kernelQuantizer: 'quantized_bits(4,0,1)', kernelConstraint: { class_name: 'Clip', config: { min_value: -2, max_value: 3 } } })),
    ).toEqual([[-2, 3]]);
    expect(clipOf(dense({}))).toEqual([]);
    // No bias quantizer: the bias has no default constraint.
    expect(dense({ kernelQuantizer: 'quantized_bits(4,0,1)' }).getConfig()['biasConstraint']).toBeNull();
  });

  it('the initializer is wrapped in QInitializer unless Zeros/Ones or the alpha is a string', () => {
    const init = (l: QLayer, key: string): string => (l.getConfig()[key] as { className: string }).className;
    expect(init(new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)' }), 'kernelInitializer')).toBe('QInitializer');
    expect(init(new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)' }), 'kernelInitializer')).toBe('VarianceScaling');
    expect(init(new QDense({ units: 2, kernelQuantizer: 'quantized_po2(4)', kernelInitializer: 'zeros' }), 'kernelInitializer')).toBe('Zeros');
    expect(init(new QDense({ units: 2, biasQuantizer: 'quantized_bits(4,0,1)' }), 'biasInitializer')).toBe('Zeros');
    expect(init(new QDense({ units: 2, kernelQuantizer: 'quantized_po2(4)' }), 'kernelInitializer')).toBe('QInitializer');
  });
});

describe('QInitializer', () => {
  it('raises the scale of a too-narrow variance-scaling initializer and clips to ±q.max()', () => {
    const q = getQuantizer('quantized_bits(2,0,1,alpha=1)')!;
    const qi = new QInitializer({ initializer: tf.initializers.varianceScaling({ scale: 1e-4, seed: 3 }), quantizer: q });
    const before = tf.moments(tf.initializers.varianceScaling({ scale: 1e-4, seed: 3 }).apply([50, 40])).variance.sqrt().dataSync()[0]!;
    const w = qi.apply([50, 40]);
    const scale = (qi.getConfig()['initializer'] as { config: { scale: number } }).config.scale;
    // All draws quantize to 0, so the scale grows by q.max()/rms(x) ≈ 1/sqrt(1e-4/50) ≈ 700 (std by ≈ 26).
    expect(scale).toBeGreaterThan(1e-4 * 300);
    expect(scale).toBeLessThan(1e-4 * 1500);
    const data = values(w);
    expect(Math.max(...data.map(Math.abs))).toBeLessThanOrEqual(1);
    expect(tf.moments(w).variance.sqrt().dataSync()[0]!).toBeGreaterThan(15 * before);
  });

  it('clips without rescaling when the initializer has no scale', () => {
    const q = getQuantizer('quantized_bits(4,0,1,alpha=1)')!;
    const qi = new QInitializer({ initializer: tf.initializers.randomNormal({ stddev: 5, seed: 1 }), quantizer: q });
    const data = values(qi.apply([30, 30]));
    expect(Math.max(...data)).toBe(1);
    expect(Math.min(...data)).toBe(-1);
    expect((qi.getConfig()['initializer'] as { className: string }).className).toBe('RandomNormal');
  });

  it('serialises with its quantizer and comes back through fromConfig', () => {
    const q = getQuantizer('quantized_po2(4)')!;
    const qi = new QInitializer({ initializer: tf.initializers.heNormal({}), quantizer: q });
    const config = qi.getConfig();
    expect(config['quantizer']).toEqual(q.serialize());
    const back = QInitializer.fromConfig(QInitializer, config) as QInitializer;
    expect(back.quantizer.toString()).toBe('quantized_po2(4)');
    expect(back.getConfig()).toEqual(config);
  });
});

describe('configs', () => {
  const layers = (): QLayer[] => [
    new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_po2(4)', activation: 'quantized_relu(2)', name: 'd' }),
    new QConv1D({ filters: 2, kernelSize: 3, padding: 'causal', kernelQuantizer: 'stochastic_ternary', activation: 'relu' }),
    new QConv2D({ filters: 2, kernelSize: 3, strides: 2, mask: [[1, 0, 1], [0, 1, 0], [1, 0, 1]], kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)' }),
    new QConv2DTranspose({ filters: 2, kernelSize: 3, kernelQuantizer: 'binary', biasQuantizer: 'binary' }),
    new QDepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'VALID', depthwiseQuantizer: 'ternary(alpha=1.0)' }),
    new QSeparableConv1D({ filters: 2, kernelSize: 2, depthwiseQuantizer: 'quantized_bits(6,2,1,alpha=1.0)', pointwiseQuantizer: 'binary' }),
    new QSeparableConv2D({ filters: 2, kernelSize: 2, depthwiseQuantizer: 'binary(alpha=1.0)', pointwiseQuantizer: 'quantized_bits(4,0,1)', activation: 'softmax' }),
    new QActivation({ activation: 'quantized_relu(6,2,1)' }),
    new QAveragePooling2D({ poolSize: 3, strides: 1, padding: 'same', averageQuantizer: 'quantized_bits(8,1,1)', activation: 'quantized_bits(4,0,1)' }),
    new QGlobalAveragePooling2D({ keepdims: true, averageQuantizer: 'quantized_bits(8,1,1)' }),
    new QScaleShift({ weightQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_po2(4)', activation: 'quantized_relu(4)' }),
    new QSeparableConv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: [1, 0], depthwiseKernelQuantizer: 'binary', pointwiseActivation: 'relu' }),
    new QDepthwiseConv2DTranspose({ filters: 4, kernelSize: 2, groupSize: 2, depthwiseKernelQuantizer: 'ternary', depthwiseActivation: 'quantized_bits(4,2,1)' }),
  ];

  it('fromConfig(getConfig()) rebuilds the same layer', () => {
    for (const layer of layers()) {
      const cls = layer.constructor as typeof QDense;
      const config = layer.getConfig();
      // A structured clone is the config as plain data (no class instances), as after a JSON round trip.
      const copy = cls.fromConfig(cls, structuredClone(config)) as unknown as QLayer;
      expect(copy.getClassName()).toBe(layer.getClassName());
      expect(copy.quantizerSummary()).toBe(layer.quantizerSummary());
      expect(JSON.stringify(copy.getConfig())).toBe(JSON.stringify(config));
    }
  });

  it('writes quantizers in Keras’s {class_name, config} form and the activation like Keras', () => {
    const [dense, conv1d, conv2d] = layers() as [QDense, QConv1D, QConv2D];
    const c = dense.getConfig();
    expect(c['kernelQuantizer']).toEqual(dense.kernelQuantizer!.serialize());
    expect((c['kernelQuantizer'] as { class_name: string }).class_name).toBe('quantized_bits');
    expect((c['activation'] as { class_name: string }).class_name).toBe('quantized_relu');
    expect(conv1d.getConfig()['activation']).toBe('relu');
    expect(conv2d.getConfig()['activation']).toBe('linear');
    expect(conv2d.getConfig()['mask']).toEqual([[[[1]], [[0]], [[1]]], [[[0]], [[1]], [[0]]], [[[1]], [[0]], [[1]]]]);
    expect(new QActivation({ activation: 'tanh' }).getConfig()['activation']).toBe('tanh');
    expect(new QActivation({ activation: 'quantized_bits(4,0,1,keep_negative=False)' }).getConfig()['activation']).toEqual({
      class_name: 'quantized_bits',
      config: getQuantizer('quantized_bits(4,0,1,keep_negative=False)')!.getConfig(),
    });
  });

  it('read back specs that tfjs’s model.json loader camelCased', () => {
    const same = (mangled: unknown, qkeras: string): void => {
      expect(getQuantizer(reviveQuantizerSpec(mangled) as never)!.toString()).toBe(getQuantizer(qkeras)!.toString());
    };
    same('quantizedRelu(6,2,1)', 'quantized_relu(6,2,1)');
    same("quantizedBits(4,0,1,keepNegative=False,alpha='autoPo2')", "quantized_bits(4,0,1,keep_negative=False,alpha='auto_po2')");
    same({ className: 'quantizedBits', config: { bits: 4, integer: 0, symmetric: 1, keepNegative: false, alpha: 'autoPo2' } }, "quantized_bits(4,0,1,keep_negative=False,alpha='auto_po2')");
    same({ className: 'binary', config: { use01: true, alpha: { value: 1 } } }, 'binary(use_01=1,alpha=1.0)');
    same({ className: 'quantizedReluPo2', config: { bits: 4, maxValue: 2 } }, 'quantized_relu_po2(4,2)');
    same('hardSigmoid', 'hard_sigmoid');
    // QKeras's own forms pass unchanged.
    expect(reviveQuantizerSpec('quantized_relu(6,2,1)')).toBe('quantized_relu(6,2,1)');
    const dict = { class_name: 'ternary', config: { alpha: 'auto_po2' } };
    expect(reviveQuantizerSpec(dict)).toEqual(dict);
    const act = QActivation.fromConfig(QActivation, { activation: 'quantizedRelu(6,2,1)', name: 'a' }) as unknown as QActivation;
    expect(act.quantizer.toString()).toBe('quantized_relu(6,2,1)');
  });

  it('are registered under QKeras’s class names', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of [
      'QDense', 'QConv1D', 'QConv2D', 'QConv2DTranspose', 'QDepthwiseConv2D', 'QSeparableConv1D',
      'QSeparableConv2D', 'QActivation', 'QAveragePooling2D', 'QGlobalAveragePooling2D', 'Clip', 'QInitializer',
    ]) {
      expect(map[name], name).toBeDefined();
    }
  });
});

describe('learning phase', () => {
  it('stochastic quantizers randomise only when the layer is called in training', () => {
    const act = new QActivation({ activation: 'stochastic_binary()' });
    const x = tf.linspace(-0.2, 0.2, 64);
    const inference = values(act.apply(x) as tf.Tensor);
    expect(inference).toEqual(values(act.apply(x, { training: false }) as tf.Tensor));
    expect(inference).toEqual(values(tf.where(tf.greaterEqual(x, 0), 1, -1)));
    const training = values(act.apply(x, { training: true }) as tf.Tensor).map(Math.round);
    expect(training.every((v) => v === 1 || v === -1)).toBe(true);
    expect(training).not.toEqual(inference);
    // model.predict runs in inference.
    const model = tf.sequential({ layers: [new QActivation({ activation: 'stochastic_binary()', inputShape: [64] })] });
    expect(values(model.predict(tf.reshape(x, [1, 64])) as tf.Tensor)).toEqual(inference);
  });
});

describe('QConv2D mask and groups, causal 1-D convolutions', () => {
  it('the mask multiplies the quantized kernel', () => {
    const mask = [
      [1, 0],
      [0, 1],
    ];
    const masked = new QConv2D({ filters: 2, kernelSize: 2, mask, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)' });
    const plain = new QConv2D({ filters: 2, kernelSize: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1.0)' });
    const x = randomTensor([1, 4, 4, 2], 11);
    masked.apply(x);
    plain.apply(x);
    const w = randomTensor([2, 2, 2, 2], 12);
    const m = tf.reshape(tf.tensor2d(mask), [2, 2, 1, 1]);
    masked.setWeights([w, tf.zeros([2])]);
    plain.setWeights([tf.mul(w, m), tf.zeros([2])]);
    expect(values(masked.apply(x) as tf.Tensor)).toEqual(values(plain.apply(x) as tf.Tensor));
    expect(() => new QConv2D({ filters: 1, kernelSize: 2, mask: [1, 2, 3] })).toThrow(ConfigError);
    expect(() => new QConv2D({ filters: 1, kernelSize: 2, mask: [[1, 2], [3]] })).toThrow(/mask/);
  });

  it('groups convolve channel groups independently', () => {
    const grouped = new QConv2D({ filters: 4, kernelSize: 1, groups: 2, useBias: false });
    const x = randomTensor([1, 3, 3, 4], 13);
    grouped.apply(x);
    const w = randomTensor([1, 1, 2, 4], 14);
    grouped.setWeights([w]);
    const [x0, x1] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    const [w0, w1] = tf.split(w, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    const expected = tf.concat([tf.conv2d(x0, w0, 1, 'valid'), tf.conv2d(x1, w1, 1, 'valid')], 3);
    expect(values(grouped.apply(x) as tf.Tensor)).toEqual(values(expected));
    expect(() => new QConv2D({ filters: 3, kernelSize: 1, groups: 2 })).toThrow(/groups/);
  });

  it('causal padding sees only the past and keeps the length', () => {
    const layer = new QConv1D({ filters: 1, kernelSize: 3, dilationRate: 2, padding: 'causal', useBias: false });
    const x = tf.tensor3d([[[1], [2], [3], [4], [5], [6]]]);
    layer.apply(x);
    layer.setWeights([tf.tensor3d([[[1]], [[10]], [[100]]])]);
    // y[t] = x[t-4] + 10 x[t-2] + 100 x[t] (zeros before the start).
    expect(values(layer.apply(x) as tf.Tensor)).toEqual([100, 200, 310, 420, 531, 642]);
    expect(layer.computeOutputShape([null, 6, 1])).toEqual([null, 6, 1]);
  });
});

describe('QKeras’s contributed layers', () => {
  /** Small integers, so that any summation order gives the same float32 result. */
  function ints(shape: number[], seed: number): tf.Tensor {
    const rng = makeRng(seed);
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Array.from({ length: n }, () => Math.floor(rng() * 7) - 3), shape);
  }

  it('QDepthwiseConv2DTranspose with one group is a transposed convolution', () => {
    const dt = new QDepthwiseConv2DTranspose({ filters: 3, kernelSize: 3, strides: 2, groupSize: 3 });
    const t = new QConv2DTranspose({ filters: 3, kernelSize: 3, strides: 2 });
    const x = ints([2, 3, 4, 3], 31);
    dt.apply(x);
    t.apply(x);
    const w = [ints([3, 3, 3, 3], 32), ints([3], 33)];
    dt.setWeights(w);
    t.setWeights(w);
    expect((dt.apply(x) as tf.Tensor).shape).toEqual([2, 7, 9, 3]);
    expect(values(dt.apply(x) as tf.Tensor)).toEqual(values(t.apply(x) as tf.Tensor));
  });

  it('QDepthwiseConv2DTranspose with groups of 1 convolves channels independently', () => {
    const dt = new QDepthwiseConv2DTranspose({ filters: 2, kernelSize: 2, groupSize: 1, padding: 'same', useBias: false });
    const t = new QConv2DTranspose({ filters: 2, kernelSize: 2, padding: 'same', useBias: false });
    const x = ints([1, 3, 3, 2], 34);
    dt.apply(x);
    t.apply(x);
    const k = ints([2, 2, 2, 1], 35);
    dt.setWeights([k]);
    // The same as a full transposed convolution whose kernel is zero between different channels.
    const eye = tf.reshape(tf.eye(2), [1, 1, 2, 2]);
    t.setWeights([tf.mul(tf.reshape(k, [2, 2, 2, 1]), eye)]);
    expect(values(dt.apply(x) as tf.Tensor)).toEqual(values(t.apply(x) as tf.Tensor));
    expect(dt.getQuantizers()).toEqual([null, null, null]);
  });

  it('QSeparableConv2DTranspose honours outputPadding and lists its activations among its quantizers', () => {
    const l = new QSeparableConv2DTranspose({
      filters: 2,
      kernelSize: 3,
      strides: 2,
      outputPadding: 1,
      depthwiseActivation: 'quantized_bits(8,3,1)',
      pointwiseKernelQuantizer: 'quantized_bits(4,0,1)',
    });
    expect(l.computeOutputShape([null, 4, 5, 3])).toEqual([null, 10, 12, 2]);
    expect((l.apply(tf.ones([1, 4, 5, 3])) as tf.Tensor).shape).toEqual([1, 10, 12, 2]);
    expect(l.getQuantizers().map((q) => q?.toString() ?? null)).toEqual([
      null,
      "quantized_bits(4,0,1,alpha='auto_po2')",
      null,
      'quantized_bits(8,3,1)',
      null,
    ]);
    expect(() => new QSeparableConv2DTranspose({ filters: 1, kernelSize: 2, strides: 2, outputPadding: 2 })).toThrow(/outputPadding/);
  });

  it('QScaleShift picks its initializer before the auto-scale default and quantizes both weights', () => {
    const l = new QScaleShift({ weightQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,0,1)' });
    expect(l.getQuantizers().map(String)).toEqual([
      "quantized_bits(4,0,1,alpha='auto_po2')",
      "quantized_bits(4,0,1,alpha='auto_po2')",
    ]);
    expect((l.getConfig()['weightInitializer'] as { className: string }).className).toBe('QInitializer');
    const x = tf.tensor2d([[1, -2], [3, 0.5]]);
    l.apply(x);
    l.setWeights([tf.tensor2d([[0.75]]), tf.tensor2d([[0.5]])]);
    // auto_po2 on a single value: scale makes q(w) = w for these dyadic values.
    const qw = l.weightQuantizer!.call(tf.tensor2d([[0.75]]));
    const qb = l.biasQuantizer!.call(tf.tensor2d([[0.5]]));
    expect(values(l.apply(x) as tf.Tensor)).toEqual(values(tf.add(qb, tf.mul(x, qw))));
    expect(l.weightConstraints()).toEqual([]);
  });
});

describe('pooling arithmetic', () => {
  it('QGlobalAveragePooling2D multiplies the sum by q(1/(H·W))', () => {
    const layer = new QGlobalAveragePooling2D({ averageQuantizer: 'quantized_bits(8,1,1)' });
    // quantized_bits(8,1,1)(1/9) = 0.109375, the example in QKeras's docs.
    expect(values(layer.apply(tf.ones([1, 3, 3, 2])) as tf.Tensor)).toEqual([9 * 0.109375, 9 * 0.109375]);
  });

  it('QAveragePooling2D with same padding divides edge windows by their valid cells', () => {
    const layer = new QAveragePooling2D({ poolSize: 2, strides: 2, padding: 'same', averageQuantizer: 'quantized_bits(8,0,1)' });
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    // avgpool(4x) * q(1/4): windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    expect(values(layer.apply(x) as tf.Tensor)).toEqual([12 * 0.25, 18 * 0.25, 30 * 0.25, 36 * 0.25]);
  });
});

describe('constraints are applied where Keras applies them', () => {
  it('setWeights keeps out-of-range values; applyWeightConstraints clips them', () => {
    const model = tf.sequential({
      layers: [new QDense({ units: 2, inputShape: [2], kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_po2(4)' })],
    });
    model.layers[0]!.setWeights([tf.tensor2d([[3, -0.5], [-4, 0.25]]), tf.tensor1d([20, -1])]);
    expect(values(model.layers[0]!.getWeights()[0]!)).toEqual([3, -0.5, -4, 0.25]);
    expect(applyWeightConstraints(model)).toBe(2);
    expect(values(model.layers[0]!.getWeights()[0]!)).toEqual([1, -0.5, -1, 0.25]);
    expect(values(model.layers[0]!.getWeights()[1]!)).toEqual([8, -1]);
  });

  it('WeightConstraintsCallback clips after every training batch (fit alone does not)', async () => {
    const train = async (callbacks: tf.Callback[]): Promise<number[]> => {
      const model = tf.sequential({
        layers: [new QDense({ units: 1, inputShape: [2], useBias: false, kernelQuantizer: 'quantized_bits(4,0,1)', kernelInitializer: 'zeros' })],
      });
      model.compile({ optimizer: tf.train.sgd(10), loss: 'meanSquaredError' });
      await model.fit(tf.tensor2d([[1, 1], [2, 2]]), tf.tensor2d([[100], [200]]), { epochs: 2, batchSize: 1, verbose: 0, callbacks });
      return values(model.layers[0]!.getWeights()[0]!);
    };
    expect(await train([new WeightConstraintsCallback()])).toEqual([1, 1]);
    expect(Math.max(...(await train([])).map(Math.abs))).toBeGreaterThan(1);
  });
});

describe('errors name the layer, the argument and what is allowed', () => {
  it('reports bad quantizers, shapes and layouts', () => {
    expect(() => new QDense({ units: 2, kernelQuantizer: 'quantized_bitz(4)', name: 'fc' })).toThrow(ConfigError);
    expect(() => new QDense({ units: 2, kernelQuantizer: 'quantized_bitz(4)', name: 'fc' })).toThrow(
      /QDense\(fc\): kernelQuantizer="quantized_bitz\(4\)" is not allowed; expected a quantizer \(.*unknown name "quantized_bitz"/,
    );
    expect(() => new QDense({ units: 0 })).toThrow(/units=0 is not allowed; expected a positive integer/);
    expect(() => new QConv2D({ filters: 2, kernelSize: [1, 2, 3] })).toThrow(/kernelSize/);
    expect(() => new QConv2D({ filters: 2, kernelSize: 2, padding: 'causal' })).toThrow(/padding="causal"/);
    expect(() => new QConv2D({ filters: 2, kernelSize: 2, dataFormat: 'channels_first' })).toThrow(UnsupportedError);
    expect(() => new QConv2DTranspose({ filters: 2, kernelSize: 2, dilationRate: 2 })).toThrow(/dilationRate/);
    expect(() => new QActivation({ activation: null })).toThrow(/activation=null/);
    expect(() => new QDense({ units: 2, kernelInitializer: 'not_an_initializer' })).toThrow(/kernelInitializer/);
  });

  it('refuses a registered object of another kind (an activation as initializer, found by fuzzing model.json)', () => {
    // tfjs's registry maps "softmax" to its activation class, which has an `apply` too: it used to be
    // accepted and then crash inside the layer's build ("Softmax along a non-last dimension").
    const bad = { className: 'softmax', config: {} } as unknown as string;
    expect(() => new QDense({ units: 2, name: 'fc', kernelInitializer: bad })).toThrow(
      'QDense(fc): kernelInitializer="softmax" is not allowed; expected the class name of an initializer (softmax is an activation)',
    );
    expect(() => new QDense({ units: 2, name: 'fc', kernelRegularizer: bad })).toThrow(/kernelRegularizer="softmax" .* \(softmax is an activation\)$/);
    expect(() => new QDense({ units: 2, name: 'fc', kernelConstraint: { className: 'L1L2', config: { l2: 0.1 } } as unknown as string })).toThrow(
      /kernelConstraint="L1L2" .*expected the class name of a constraint \(L1L2 is a regularizer\)$/,
    );
    // A string or NaN among an initializer's numbers made truncatedNormal loop forever in build (found by
    // npm run fuzz, seed 20261126: kernel_initializer.config.scale replaced by a string).
    const vs = (scale: unknown) => ({ className: 'VarianceScaling', config: { scale, mode: 'fanIn', distribution: 'truncatedNormal' } }) as unknown as string;
    expect(() => new QDense({ units: 2, name: 'fc', kernelInitializer: vs('x') })).toThrow(
      'QDense(fc): kernelInitializer.scale="x" is not allowed; expected a finite number > 0 (VarianceScaling)',
    );
    expect(() => new QDense({ units: 2, name: 'fc', kernelInitializer: vs(Number.NaN) })).toThrow(/kernelInitializer\.scale=NaN is not allowed/);
    const normal = { className: 'TruncatedNormal', config: { mean: 0, stddev: -1 } } as unknown as string;
    expect(() => new QDense({ units: 2, name: 'fc', biasInitializer: normal })).toThrow(/biasInitializer\.stddev=-1 is not allowed; expected a finite number >= 0 \(TruncatedNormal\)/);
    expect(() => new QDense({ units: 2, kernelInitializer: vs(2) })).not.toThrow();
    // The kinds' own classes still load.
    expect(() => new QDense({ units: 2, kernelInitializer: { className: 'QInitializer', config: { initializer: { className: 'Zeros', config: {} }, use_scale: true, quantizer: 'quantized_bits(4,0,1)' } } as unknown as string })).not.toThrow();
    expect(() => new QDense({ units: 2, kernelConstraint: { className: 'Clip', config: { min_value: -1, max_value: 1 } } as unknown as string })).not.toThrow();
  });
});

describe('tensor hygiene', () => {
  it('repeated calls leak no tensors', () => {
    const model = tf.sequential({
      layers: [
        new QConv2D({ filters: 2, kernelSize: 2, inputShape: [5, 5, 2], kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,0,1)', activation: 'quantized_relu(3)' }),
        new QSeparableConv2D({ filters: 2, kernelSize: 2, depthwiseQuantizer: 'binary', pointwiseQuantizer: 'ternary' }),
        new QAveragePooling2D({ averageQuantizer: 'quantized_bits(4,0,1)' }),
        tf.layers.flatten(),
        new QDense({ units: 2, kernelQuantizer: 'stochastic_ternary' }),
      ],
    });
    const x = randomTensor([2, 5, 5, 2], 21);
    tf.dispose(model.predict(x) as tf.Tensor);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(model.predict(x) as tf.Tensor);
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
