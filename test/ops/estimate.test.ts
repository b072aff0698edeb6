/**
 * `extractModelOperations` / `printQstats` against the two `derived` print_qstats entries of the vector
 * file (QKeras's tutorial example and the seed's lab-book model), in QKeras's exact text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv1D, QConv2D, QDense, QSeparableConv1D } from '../../src/layers/index.js';
import { extractModelOperations, printQstats } from '../../src/ops/estimate.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';

beforeAll(async () => {
  await ready();
});

interface DerivedEntry {
  readonly kind: string;
  readonly model: string[];
  readonly expected_ops: Record<string, [number, string]>;
  readonly expected_op_types?: Record<string, number>;
  readonly expected_weight_profile_if_bias_unquantized?: Record<string, [number, number] | number>;
}

const derived = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/qkeras_vectors.json', import.meta.url)), 'utf8')) as { derived: DerivedEntry[] }
).derived.filter((d) => d.kind === 'print_qstats');

/** The seed's lab-book model (derived entry 2). */
function seedModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      new QConv2D({ inputShape: [28, 28, 1], filters: 18, kernelSize: [3, 3], kernelQuantizer: getQuantizer('stochastic_binary()'), name: 'conv2d_1' }),
      new QActivation({ activation: 'binary', name: 'act_1' }),
      new QConv2D({ filters: 32, kernelSize: [3, 3], kernelQuantizer: getQuantizer('stochastic_ternary()'), name: 'conv2d_2' }),
      new QActivation({ activation: 'quantized_relu(3)', name: 'act_2' }),
      tf.layers.flatten({ name: 'flatten' }),
      new QDense({ units: 10, kernelQuantizer: getQuantizer('quantized_bits(4,0,1)'), name: 'dense' }),
    ],
  });
}

/** QKeras's tutorial model (examples/example_mnist.py, derived entry 1). */
function tutorialModel(): tf.LayersModel {
  const q = (): string => 'quantized_bits(4,0,1)';
  const x = tf.input({ shape: [28, 28, 1] });
  let y = new QConv2D({ filters: 32, kernelSize: [2, 2], strides: [2, 2], kernelQuantizer: q(), biasQuantizer: q(), name: 'conv2d_0_m' }).apply(x) as tf.SymbolicTensor;
  y = new QActivation({ activation: 'quantized_relu(4,0)', name: 'act0_m' }).apply(y) as tf.SymbolicTensor;
  y = new QConv2D({ filters: 64, kernelSize: [3, 3], strides: [2, 2], kernelQuantizer: q(), biasQuantizer: q(), name: 'conv2d_1_m' }).apply(y) as tf.SymbolicTensor;
  y = new QActivation({ activation: 'quantized_relu(4,0)', name: 'act1_m' }).apply(y) as tf.SymbolicTensor;
  y = new QConv2D({ filters: 64, kernelSize: [2, 2], strides: [2, 2], kernelQuantizer: q(), biasQuantizer: q(), name: 'conv2d_2_m' }).apply(y) as tf.SymbolicTensor;
  y = new QActivation({ activation: 'quantized_relu(4,0)', name: 'act2_m' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = new QDense({ units: 10, kernelQuantizer: q(), biasQuantizer: q(), name: 'dense' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** Fraction of exact zeros of q(w) over a layer's weights, computed independently of the code under test. */
function zeroFraction(layer: tf.layers.Layer): number {
  const qs = (layer as unknown as { getQuantizers(): (ReturnType<typeof getQuantizer> | null)[] }).getQuantizers();
  let zeros = 0;
  let n = 0;
  layer.getWeights().forEach((w, i) => {
    const v = tf.tidy(() => (qs[i] ? qs[i]!.call(w, { training: false }) : w.clone()).dataSync());
    for (const e of v) if (e === 0) zeros++;
    n += v.length;
  });
  return zeros / n;
}

const four = (v: number): string => v.toFixed(4);

describe('printQstats', () => {
  it('covers both derived print_qstats entries', () => {
    expect(derived.map((d) => Object.keys(d.expected_ops).sort())).toEqual([
      ['conv2d_0_m', 'conv2d_1_m', 'conv2d_2_m', 'dense'],
      ['conv2d_1', 'conv2d_2', 'dense'],
    ]);
  });

  it("the seed's lab-book model prints QKeras's exact report, weights untouched", () => {
    const d = derived[1]!;
    const model = seedModel();
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const ops = extractModelOperations(model);
    for (const [name, [count, opName]] of Object.entries(d.expected_ops)) {
      expect([ops.layers[name]!.numberOfOperations, ops.layers[name]!.opName]).toEqual([count, opName]);
    }
    expect(ops.layers['conv2d_1']!.type).toEqual(['mux', [3, 0], [1, 8], [1, 0]]);
    expect(ops.layers['dense']!.typeOfBias).toEqual([5, 32, 1]);
    expect(ops.unclassified).toEqual([]);

    const text = printQstats(model, { print: false });
    const layers = ['conv2d_1', 'conv2d_2', 'dense'].map((n) => model.getLayer(n));
    const fractions = layers.map(zeroFraction);
    const counts = layers.map((l) => l.getWeights().reduce((a, w) => a + w.size, 0));
    const total = fractions.reduce((a, f, i) => a + f * counts[i]!, 0) / counts.reduce((a, b) => a + b, 0);
    const profile = d.expected_weight_profile_if_bias_unquantized!;
    expect(profile['Total Bits']).toBe(749730);
    expect(text).toBe(
      [
        '',
        'Number of operations in model:',
        '    conv2d_1                      : 109512 (smux_1_8)',
        '    conv2d_2                      : 2985984 (smux_2_1)',
        '    dense                         : 184320 (smult_4_3)',
        '',
        'Number of operation types in model:',
        '    smult_4_3                     : 184320',
        '    smux_1_8                      : 109512',
        '    smux_2_1                      : 2985984',
        '',
        'Weight profiling:',
        '    conv2d_1_weights               : 162   (1-bit unit)',
        '    conv2d_1_bias                  : 18    (32-bit unit)',
        '    conv2d_2_weights               : 5184  (2-bit unit)',
        '    conv2d_2_bias                  : 32    (32-bit unit)',
        '    dense_weights                  : 184320 (4-bit unit)',
        '    dense_bias                     : 10    (32-bit unit)',
        '    ----------------------------------------',
        '    Total Bits                     : 749730',
        '',
        'Weight sparsity:',
        `    conv2d_1                       : ${four(fractions[0]!)}`,
        `    conv2d_2                       : ${four(fractions[1]!)}`,
        `    dense                          : ${four(fractions[2]!)}`,
        '    ----------------------------------------',
        `    Total Sparsity                 : ${four(total)}`,
        '',
      ].join('\n'),
    );
    // Unlike QKeras, the report does not overwrite the weights with their quantized values.
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    // And it leaves no tensors behind (the quantizers' kept scales exist since the first call).
    const tensors = tf.memory().numTensors;
    printQstats(model, { print: false });
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it("QKeras's tutorial model: per-layer counts, op-type totals and column format", () => {
    const d = derived[0]!;
    const text = printQstats(tutorialModel(), { print: false });
    const lines = text.split('\n');
    expect(lines.slice(0, 13)).toEqual([
      '',
      'Number of operations in model:',
      '    conv2d_0_m                    : 25088 (smult_4_8)',
      '    conv2d_1_m                    : 663552 (smult_4_4)',
      '    conv2d_2_m                    : 147456 (smult_4_4)',
      // `{:5}` on a string left-aligns: "5760 " then " (smult_4_4)".
      '    dense                         : 5760  (smult_4_4)',
      '',
      'Number of operation types in model:',
      '    smult_4_4                     : 816768',
      '    smult_4_8                     : 25088',
      '',
      'Weight profiling:',
      '    conv2d_0_m_weights             : 128   (4-bit unit)',
    ]);
    for (const [name, [count, op]] of Object.entries(d.expected_ops)) {
      expect(lines).toContain(`    ${name.padEnd(30)}: ${String(count).padEnd(5)} (${op})`);
    }
    for (const [op, n] of Object.entries(d.expected_op_types!)) expect(lines).toContain(`    ${op.padEnd(30)}: ${n}`);
  });

  it('QKeras test_qconv1d: QConv1D counts 32 operations, QSeparableConv1D 30', () => {
    const x = tf.input({ shape: [4, 4] });
    const conv = new QConv1D({ filters: 2, kernelSize: 1, kernelQuantizer: 'quantized_bits(6,2,1,alpha=1.0)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'qconv1d' });
    const sep = new QSeparableConv1D({ filters: 2, kernelSize: 2, depthwiseQuantizer: 'quantized_bits(6,2,1,alpha=1.0)', pointwiseQuantizer: 'quantized_bits(4,0,1,alpha=1.0)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'qconv1d' });
    const a = extractModelOperations(tf.model({ inputs: x, outputs: conv.apply(x) as tf.SymbolicTensor })).layers['qconv1d']!;
    expect([a.numberOfOperations, a.opName, a.numberOfWeights, a.numberOfBias]).toEqual([32, 'smult_6_8', 8, 2]);
    const x2 = tf.input({ shape: [4, 4] });
    const b = extractModelOperations(tf.model({ inputs: x2, outputs: sep.apply(x2) as tf.SymbolicTensor })).layers['qconv1d']!;
    expect([b.numberOfOperations, b.opName, b.numberOfWeights, b.numberOfBias]).toEqual([30, 'smult_6_8', [8, 8], 2]);
    expect(b.typeOfWeights).toEqual([[0, 6, 1], [0, 4, 1]]);
  });

  it('reports layers it cannot classify instead of throwing', () => {
    const x = tf.input({ shape: [8] });
    let y = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(4,0,1)', activation: 'relu', name: 'd_relu' }).apply(x) as tf.SymbolicTensor;
    y = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'after_relu' }).apply(y) as tf.SymbolicTensor;
    y = new QDense({ units: 2, kernelQuantizer: 'quantized_linear(4)', name: 'linear_kernel' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const ops = extractModelOperations(model);
    expect(Object.keys(ops.layers)).toEqual(['d_relu']);
    expect(ops.unclassified.map((u) => u.name)).toEqual(['after_relu', 'linear_kernel']);
    expect(ops.unclassified[0]!.reason).toMatch(/input quantizer relu \(from d_relu's activation\)/);
    expect(ops.unclassified[1]!.reason).toMatch(/quantized_linear/);
    const text = printQstats(model, { print: false });
    expect(text).toContain('    d_relu                        : 32    (smult_4_8)');
    expect(text).toContain('\nLayers not classified:\n    after_relu                    : QDense: its input quantizer relu');
  });

  it('a model without Q layers prints empty sections (QKeras test_conversion_print_qstats)', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });
    expect(printQstats(model, { print: false })).toBe(
      [
        '',
        'Number of operations in model:',
        '',
        'Number of operation types in model:',
        '',
        'Weight profiling:',
        '    ----------------------------------------',
        '    Total Bits                     :     0',
        '',
        'Weight sparsity:',
        '    ----------------------------------------',
        '    Total Sparsity                 : 0.0000',
        '',
      ].join('\n'),
    );
  });
});
