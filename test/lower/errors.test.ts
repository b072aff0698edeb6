/**
 * What lowering refuses, and how it says so: every unsupported layer listed at once (name, class, fix),
 * a float model input without a declared input quantizer, non-power-of-two alphas (suggesting auto_po2),
 * batch norms that float32 cannot evaluate exactly, and the documented special cases that do lower: a
 * model that quantizes its own input with a QActivation, a trailing softmax (argmax + logits), Sequential
 * models.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  QActivation,
  QBatchNormalization,
  QConv2D,
  QConv2DBatchnorm,
  QDense,
} from '../../src/layers/index.js';
import { InputQuantizerError, UnsupportedLayersError, lowerModel, lowerModelDetailed } from '../../src/lower/index.js';
import { runIR, runIRReal, type InputNode } from '../../src/ir/index.js';
import { createFloatModel } from '../../src/models/labbook.js';
import { QKerasError } from '../../src/errors.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { logitsModel } from '../../src/engines/index.js';
import { randomizeWeights, rng } from './zoo.js';

beforeAll(async () => {
  await ready();
});

type T = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: T | T[]): T => l.apply(x) as T;

function issuesOf(fn: () => unknown): { layer: string; className: string; reason: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsupportedLayersError);
    return [...(e as UnsupportedLayersError).issues];
  }
  expect.unreachable('lowering should have failed');
}

describe('unsupported layers are all reported at once', () => {
  it('lists each offending layer by name and class with its fix', () => {
    const input = tf.input({ shape: [6, 6, 2], name: 'x' });
    let x = ap(tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'float_conv' }), input);
    x = ap(new QActivation({ activation: 'quantized_bits(4,0,1,alpha=0.3)', name: 'odd_alpha' }), x);
    x = ap(new QConv2D({ filters: 2, kernelSize: 1, kernelQuantizer: 'quantized_bits(4,0,1,alpha=0.75)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'odd_kernel' }), x);
    x = ap(new QConv2D({ filters: 2, kernelSize: 1, kernelQuantizer: "quantized_bits(4,0,1,alpha='auto')", name: 'auto_kernel' }), x);
    x = ap(new QConv2D({ filters: 2, kernelSize: 1, name: 'no_quantizer' }), x);
    x = ap(tf.layers.activation({ activation: 'softmax', name: 'mid_softmax' }), x);
    const y = ap(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2, name: 'deconv' }), x);
    const z = ap(tf.layers.multiply({ name: 'mul' }), [y, y]);
    const out = ap(new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', activation: 'tanh', name: 'tanh_head' }), ap(tf.layers.flatten({ name: 'flat' }), z));
    const model = tf.model({ inputs: input, outputs: out, name: 'bad' });
    const issues = issuesOf(() => lowerModel(model, { inputQuantizer: 'quantized_bits(8,2,1)' }));
    expect(issues.map((i) => `${i.layer} (${i.className})`)).toEqual([
      'float_conv (Conv2D)',
      'odd_alpha (QActivation)',
      'odd_kernel (QConv2D)',
      'auto_kernel (QConv2D)',
      'no_quantizer (QConv2D)',
      'mid_softmax (Activation)',
      'deconv (Conv2DTranspose)',
      'mul (Multiply)',
      'tanh_head (QDense)',
    ]);
    const reason = (layer: string): string => issues.find((i) => i.layer === layer)!.reason;
    expect(reason('float_conv')).toMatch(/use QConv2D with a kernel_quantizer/);
    expect(reason('odd_alpha')).toMatch(/alpha=0.3 is not a power of two.*alpha='auto_po2'/);
    expect(reason('odd_kernel')).toMatch(/kernel_quantizer quantized_bits\(4,0,1,alpha=0.75\): alpha=0.75 is not a power of two.*retrain with alpha='auto_po2'/);
    expect(reason('auto_kernel')).toMatch(/alpha='auto' gives per-channel scales that are not powers of two.*retrain with alpha='auto_po2'/);
    expect(reason('no_quantizer')).toMatch(/kernel_quantizer has no quantizer.*give kernel_quantizer a quantizer/);
    expect(reason('mid_softmax')).toMatch(/softmax inside the model has no fixed-point form/);
    expect(reason('deconv')).toMatch(/transposed convolutions have no IR node/);
    expect(reason('mul')).toMatch(/only Add and Concatenate/);
    expect(reason('tanh_head')).toMatch(/the float activation "tanh" has no exact fixed-point form/);
  });

  it("the lab book's float CNN is refused layer by layer", () => {
    const issues = issuesOf(() => lowerModel(createFloatModel(), { inputQuantizer: 'quantized_bits(8,0,1)' }));
    expect(issues.map((i) => i.layer)).toEqual(['conv2d_1', 'conv2d_2', 'dense']);
    const e = (() => {
      try {
        lowerModel(createFloatModel(), { inputQuantizer: 'quantized_bits(8,0,1)' });
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e!.message.split('\n')[0]).toBe('cannot lower model "labbook_float" to fixed point: 3 layers are not supported');
    expect(e!.message.split('\n')[1]).toMatch(/^ {2}- conv2d_1 \(Conv2D\): its weights are float32 values/);
  });

  it('a Keras AveragePooling2D whose windows do not average to dyadic values is refused with the fix', () => {
    const input = tf.input({ shape: [6, 6, 1] });
    const out = ap(tf.layers.averagePooling2d({ poolSize: 3, name: 'avg3' }), input);
    const issues = issuesOf(() => lowerModel(tf.model({ inputs: input, outputs: out }), { inputQuantizer: 'quantized_bits(8,2,1)' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.reason).toMatch(/windows of 9 valid cells.*not a dyadic number.*QAveragePooling2D with an average_quantizer/);
  });

  it('shared layers and multi-input models are refused', () => {
    const input = tf.input({ shape: [4] });
    const d = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'shared' });
    const out = ap(d, ap(d, input));
    const issues = issuesOf(() => lowerModel(tf.model({ inputs: input, outputs: out }), { inputQuantizer: 'quantized_bits(8,2,1)' }));
    expect(issues[0]).toMatchObject({ layer: 'shared', className: 'QDense' });
    expect(issues[0]!.reason).toMatch(/called 2 times; shared layers are not supported/);
    const a = tf.input({ shape: [4] });
    const b = tf.input({ shape: [4] });
    const sum = ap(tf.layers.add({}), [a, b]);
    expect(() => lowerModel(tf.model({ inputs: [a, b], outputs: sum, name: 'two' }), { inputQuantizer: 'quantized_bits(8,2,1)' })).toThrow(
      /model "two" has 2 inputs and 1 outputs; lowering supports one input and one output/,
    );
  });
});

describe('batch normalization: folded exactly, or a clear error', () => {
  it("QBatchNormalization with QKeras's default quantizers is refused (its inv is not a short dyadic)", () => {
    const input = tf.input({ shape: [4, 4, 2] });
    let x = ap(new QConv2D({ filters: 2, kernelSize: 3, padding: 'same', kernelQuantizer: 'quantized_bits(4,0,1)', name: 'c' }), input);
    x = ap(new QBatchNormalization({ name: 'bn' }), x);
    const model = tf.model({ inputs: input, outputs: x });
    randomizeWeights(model, rng(3));
    const issues = issuesOf(() => lowerModel(model, { inputQuantizer: 'quantized_bits(8,2,1)' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.layer).toBe('bn');
    expect(issues[0]!.reason).toMatch(/x·inv \+ offset is not exact in float32 .*inverse_quantizer='quantized_po2\(8\)'/);
  });

  it('a QBatchNormalization with a po2 inverse folds into the convolution before it', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    let x = ap(new QConv2D({ filters: 2, kernelSize: 3, padding: 'same', kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'c' }), input);
    x = ap(new QBatchNormalization({ gammaQuantizer: null, varianceQuantizer: null, inverseQuantizer: 'quantized_po2(5)', name: 'bn' }), x);
    x = ap(new QActivation({ activation: 'quantized_relu(4,2)', name: 'act' }), x);
    const model = tf.model({ inputs: input, outputs: x });
    randomizeWeights(model, rng(4));
    const lo = lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' });
    expect(lo.lowered.nodes.map((n) => n.kind)).toEqual(['input', 'conv2d', 'batchnorm', 'requantize']);
    // After the pipeline the batch norm is folded into the convolution and the activation fused.
    expect(lo.graph.nodes.map((n) => n.kind)).toEqual(['input', 'conv2d']);
    expect(lo.graph.nodes[1]!.id).toBe('c');
    expect(lo.warnings).toEqual([]);
  });

  it('a folded *Batchnorm layer needs a bias quantizer (its folded bias is a float32 value)', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const x = ap(new QConv2DBatchnorm({ filters: 2, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'cbn' }), input);
    const issues = issuesOf(() => lowerModel(tf.model({ inputs: input, outputs: x }), { inputQuantizer: 'quantized_bits(8,2,1)' }));
    expect(issues).toEqual([
      {
        layer: 'cbn',
        className: 'QConv2DBatchnorm',
        reason:
          'bias_quantizer has no quantizer, so the folded bias inv·(bias − mean) + beta is a full-precision float32 value ' +
          'with no short fixed-point form; give bias_quantizer a quantizer (e.g. quantized_bits(4,0,1))',
      },
    ]);
  });
});

describe('the model input', () => {
  function smallModel(first?: tf.layers.Layer): tf.LayersModel {
    const input = tf.input({ shape: [8], name: 'pixels' });
    const x = first === undefined ? input : ap(first, input);
    const out = ap(new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'fc' }), x);
    const m = tf.model({ inputs: input, outputs: out, name: 'small' });
    randomizeWeights(m, rng(5));
    return m;
  }

  it('without an input quantizer the error says how to declare one', () => {
    expect(() => lowerModel(smallModel())).toThrow(InputQuantizerError);
    expect(() => lowerModel(smallModel())).toThrow(
      'the model input "pixels" (shape [8]) holds float values and feeds QDense "fc" unquantized; declare how inputs are ' +
        "quantized: lowerModel(model, {inputQuantizer: 'quantized_bits(8,0,1)'}) or `qkeras predict --input-quantizer " +
        '"quantized_bits(8,0,1)"` (choose bits and integer bits that cover the input range), or start the model with ' +
        "QActivation('quantized_bits(...)')",
    );
  });

  it('a first QActivation with an exact quantizer becomes the input node', async () => {
    const m = smallModel(new QActivation({ activation: 'quantized_bits(6,2,1)', name: 'q_in' }));
    const g = lowerModel(m);
    const input = g.nodes[0] as InputNode;
    expect(input.kind).toBe('input');
    expect(input.quant.quantizer).toBe('quantized_bits(6,2,1)');
    expect(g.nodes.map((n) => n.kind)).toEqual(['input', 'dense']);
    const r = rng(6);
    const xs = Array.from({ length: 200 }, () => Array.from({ length: 8 }, () => (r() - 0.5) * 20));
    const want = tf.tidy(() => (m.predict(tf.tensor2d(xs)) as tf.Tensor).arraySync() as number[][]);
    xs.forEach((x, k) => expect(Array.from(runIRReal(g, x)[0]!)).toEqual(want[k]));
  });

  it('input quantizers without a rule on float32 reals are refused', () => {
    expect(() => lowerModel(smallModel(), { inputQuantizer: 'quantized_po2(4)' })).toThrow(
      /input quantizer: quantized_po2\(4\): as the model's input quantizer it would need a table over float32 values; use quantized_bits/,
    );
    expect(() => lowerModel(smallModel(), { inputQuantizer: 'relu' })).toThrow(/input quantizer relu is a float function, not a quantizer/);
    expect(() => lowerModel(smallModel(), { inputQuantizer: 'quantized_bits(8,0,1,alpha=0.3)' })).toThrow(/alpha=0.3 is not a power of two/);
  });
});

describe('a trailing softmax becomes argmax over its logits', () => {
  for (const form of ['Activation layer', 'layer activation', 'QActivation']) {
    it(`softmax as ${form}`, () => {
      const input = tf.input({ shape: [10] });
      const inner = form === 'layer activation' ? 'softmax' : 'quantized_relu(4,2)';
      let x = ap(new QDense({ units: 6, kernelQuantizer: 'ternary', biasQuantizer: 'quantized_bits(6,2,1)', activation: inner, name: 'fc' }), input);
      if (form === 'Activation layer') x = ap(tf.layers.activation({ activation: 'softmax', name: 'softmax' }), x);
      if (form === 'QActivation') x = ap(new QActivation({ activation: 'softmax', name: 'softmax' }), x);
      const model = tf.model({ inputs: input, outputs: x });
      randomizeWeights(model, rng(7));
      const lo = lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,3,1)' });
      expect(lo.softmax).toBe(true);
      const g = lo.graph;
      expect(g.outputs).toHaveLength(2);
      const argmax = g.nodes.find((n) => n.id === g.outputs[1])!;
      expect(argmax.kind).toBe('argmax');
      expect(argmax.origin.className).toBe(form === 'layer activation' ? 'QDense' : form === 'QActivation' ? 'QActivation' : 'Activation');
      const r = rng(8);
      const xs = Array.from({ length: 300 }, () => Array.from({ length: 10 }, () => (r() - 0.5) * 16));
      const q = getQuantizer('quantized_bits(8,3,1)')!;
      const { logits, classes } = tf.tidy(() => {
        const l = logitsModel(model).predict(q.call(tf.tensor2d(xs), { training: false })) as tf.Tensor;
        return { logits: l.arraySync() as number[][], classes: tf.argMax(l, 1).arraySync() as number[] };
      });
      xs.forEach((x, k) => {
        const [lg, am] = runIR(g, x);
        expect(Array.from(runIRReal(g, x)[0]!)).toEqual(logits[k]);
        expect(am!.data[0]).toBe(classes[k]);
        expect(lg!.shape).toEqual([6]);
      });
    });
  }

  it('Sequential models lower too (their InputLayer is hidden)', () => {
    const m = tf.sequential({
      layers: [
        new QDense({ units: 4, inputShape: [6], kernelQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_po2(4)', activation: 'quantized_relu(3,1)', name: 'a' }),
        new QDense({ units: 2, kernelQuantizer: 'binary', activation: 'softmax', name: 'b' }),
      ],
    });
    const g = lowerModel(m, { inputQuantizer: 'quantized_bits(6,2,1)' });
    expect(g.nodes.map((n) => n.kind)).toEqual(['input', 'dense', 'dense', 'argmax']);
  });
});

describe('errors are typed', () => {
  it('UnsupportedLayersError and InputQuantizerError are QKerasErrors (the CLI prints them without a stack)', () => {
    const e = new UnsupportedLayersError('m', [{ layer: 'a', className: 'Dense', reason: 'why' }]);
    expect(e).toBeInstanceOf(QKerasError);
    expect(e.message).toBe('cannot lower model "m" to fixed point: 1 layer is not supported\n  - a (Dense): why');
    expect(new InputQuantizerError('x')).toBeInstanceOf(QKerasError);
  });
});
