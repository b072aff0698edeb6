import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  FLOAT_MODE,
  OPS,
  getOpType,
  opName,
  opOf,
  quantModeOf,
  quantModeOfType,
} from '../../src/ops/registry.js';
import {
  GraphBuilder,
  NODE_KINDS,
  binaryType,
  fixedType,
  getNode,
  inputRequant,
  intWeightsFromValues,
  po2Type,
  po2WeightsFromValues,
  pruneZeros,
  ternaryType,
  type Graph,
  type QuantMode,
} from '../../src/ir/index.js';

const IN8 = inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 0 } });

describe('QKeras classification (estimate.py)', () => {
  it('names the multiplier for every weight × input mode like wx_table', () => {
    const modes = ['fixed', 'po2', 'ternary', 'binary', 'binary01', 'float'] as const;
    const table = modes.map((w) => modes.map((x) => getOpType(w, x)));
    expect(table).toEqual([
      ['mult', 'barrel', 'mux', 'mux', 'mux', 'fmult'],
      ['barrel', 'adder', 'mux', 'xor', 'mux', 'fmult'],
      ['mux', 'mux', 'mux', 'mux', 'xor', 'fmult'],
      ['mux', 'xor', 'mux', 'xor', 'xor', 'fmult'],
      ['mux', 'mux', 'xor', 'xor', 'xor', 'fmult'],
      ['fmult', 'fmult', 'fmult', 'fmult', 'fmult', 'fmult'],
    ]);
  });

  it("reproduces print_qstats's op names for the seed example", () => {
    const name = (w: QuantMode, x: QuantMode): string => opName(getOpType(w.mode, x.mode), w, x);
    const relu8 = quantModeOf('quantized_relu', { bits: 8, integer: 0 }); // the assumed unquantized input
    expect(name(quantModeOf('stochastic_binary'), relu8)).toBe('smux_1_8');
    expect(name(quantModeOf('stochastic_ternary'), quantModeOf('binary'))).toBe('smux_2_1');
    expect(name(quantModeOf('quantized_bits', { bits: 4, integer: 0 }), quantModeOf('quantized_relu', { bits: 3, integer: 0 }))).toBe('smult_4_3');
    expect(name(quantModeOf('quantized_bits', { bits: 4 }), relu8)).toBe('smult_4_8');
    expect(name(quantModeOf('quantized_relu', { bits: 3 }), relu8)).toBe('umult_3_8');
    expect(name(quantModeOf('quantized_po2', { bits: 4 }), relu8)).toBe('sbarrel_4_8');
    expect(name(quantModeOf('binary'), quantModeOf('binary'))).toBe('sxor_1_1');
    expect(name(quantModeOf(null), quantModeOf('linear'))).toBe('sfmult_32_32');
  });

  it('applies get_quant_mode special cases and refuses unknown quantizers', () => {
    expect(quantModeOf('quantized_bits', { bits: 2, integer: 1 })).toEqual({ mode: 'ternary', bits: 2, signed: true });
    expect(quantModeOf('quantized_tanh', { bits: 2, integer: 1 })).toEqual({ mode: 'ternary', bits: 2, signed: true });
    expect(quantModeOf('quantized_relu', { bits: 1, integer: 1 })).toEqual({ mode: 'binary01', bits: 1, signed: false });
    expect(quantModeOf('bernoulli')).toEqual({ mode: 'binary01', bits: 1, signed: false });
    expect(quantModeOf('quantized_relu_po2', { bits: 5 })).toEqual({ mode: 'po2', bits: 5, signed: false });
    expect(quantModeOf(null)).toEqual(FLOAT_MODE);
    expect(() => quantModeOf('quantized_linear', { bits: 4 })).toThrow(ConfigError);
    expect(() => quantModeOf('quantized_linear', { bits: 4 })).toThrow(/quantizer="quantized_linear" is not allowed; expected one of quantized_bits/);
  });

  it('classifies IR tensor types', () => {
    expect(quantModeOfType(fixedType(true, 8, 7))).toEqual({ mode: 'fixed', bits: 8, signed: true });
    expect(quantModeOfType(fixedType(false, 3, 3))).toEqual({ mode: 'fixed', bits: 3, signed: false });
    expect(quantModeOfType(po2Type(true, -4, 3))).toEqual({ mode: 'po2', bits: 4, signed: true });
    expect(quantModeOfType(binaryType(false))).toEqual({ mode: 'binary', bits: 1, signed: true });
    expect(quantModeOfType(binaryType(true))).toEqual({ mode: 'binary01', bits: 1, signed: false });
    expect(quantModeOfType(ternaryType())).toEqual({ mode: 'ternary', bits: 2, signed: true });
    expect(quantModeOfType({ kind: 'float' })).toEqual(FLOAT_MODE);
  });
});

describe('the registry', () => {
  it('declares every node kind exactly once', () => {
    expect(Object.keys(OPS).sort()).toEqual([...NODE_KINDS].sort());
    for (const k of NODE_KINDS) expect(OPS[k].kind).toBe(k);
  });

  function convGraph(values: number[]): Graph {
    const b = new GraphBuilder('c');
    const x = b.input({ id: 'x', shape: [5, 6, 2], quant: IN8 });
    const c = b.conv2d(x, {
      id: 'c',
      kernel: [3, 3],
      strides: [2, 2],
      padding: 'same',
      weights: intWeightsFromValues('conv2d', values, [3, 3, 2, 4], { mode: 'fixed', bits: 4, signed: true }),
    });
    return b.build([c]);
  }

  it('conv2d: shape, cost and classification', () => {
    const values = Array.from({ length: 72 }, (_, i) => (i % 3 === 0 ? 0 : ((i % 7) - 3) / 8));
    const g = convGraph(values);
    const node = getNode(g, 'c');
    expect(node.shape).toEqual([3, 3, 4]);
    const x = getNode(g, 'x');
    const cost = opOf(node).cost(node, [x.shape], [x.type!]);
    const nonzero = values.filter((v) => v !== 0).length;
    expect(cost).toMatchObject({
      macs: 3 * 3 * 4 * 3 * 3 * 2,
      activeMacs: 3 * 3 * 4 * 3 * 3 * 2,
      weights: 72,
      nonzeroWeights: nonzero,
      weightBits: 72 * 3, // codes -3..3 need 3 bits, whatever the quantizer allowed
      classification: { op: 'mult', name: 'smult_4_8' },
    });
    const pruned = getNode(pruneZeros(g), 'c');
    expect(opOf(pruned).cost(pruned, [x.shape], [x.type!]).activeMacs).toBe(9 * nonzero);
  });

  it('po2 weights on fixed inputs are barrel shifters; depthwise counts its multiplier', () => {
    const b = new GraphBuilder('p');
    const x = b.input({ id: 'x', shape: [4, 4, 3], quant: IN8 });
    const dw = b.depthwise(x, {
      id: 'dw',
      kernel: [2, 2],
      weights: po2WeightsFromValues(Array.from({ length: 24 }, (_, i) => 2 ** -(i % 4)), [2, 2, 3, 2], { mode: 'po2', bits: 4, signed: true }),
    });
    const g = b.build([dw]);
    const node = getNode(g, 'dw');
    expect(node.shape).toEqual([3, 3, 6]);
    const cost = opOf(node).cost(node, [[4, 4, 3]], [getNode(g, 'x').type!]);
    expect(cost.macs).toBe(3 * 3 * 6 * 2 * 2);
    expect(cost.classification?.name).toBe('sbarrel_4_8');
  });

  it('shape rules explain what does not fit', () => {
    const b = new GraphBuilder('s');
    const x = b.input({ id: 'x', shape: [4, 4, 2], quant: IN8 });
    expect(() => b.maxpool(x, { id: 'm', pool: [2] })).toThrow(/%m \(maxpool, layer "m"\): input shape \[4, 4, 2\] does not have 1 spatial axes and channels/);
    expect(() => b.reshape(x, { id: 'r', shape: [31] })).toThrow(/cannot reshape \[4, 4, 2\] to \[31\]/);
    const y = b.input({ id: 'y', shape: [4, 3, 2], quant: IN8 });
    expect(() => b.addition([x, y], { id: 'a' })).toThrow(/inputs have different shapes \[4, 4, 2\], \[4, 3, 2\]/);
    expect(() => b.concat([x, y], { id: 'k', axis: -1 })).toThrow(/do not concatenate on axis 2/);
    expect(b.concat([x, y], { id: 'k', axis: 1 })).toBe('k');
    expect(() =>
      b.conv2d(x, { id: 'c', kernel: [5, 5], weights: intWeightsFromValues('conv2d', new Array(50).fill(1), [5, 5, 2, 1], { mode: 'fixed', bits: 2, signed: true }) }),
    ).toThrow(/input size 4 is smaller than the window span 5 with padding valid/);
  });

  it('evaluates through the same definitions the interpreter uses', () => {
    const g = convGraph(Array.from({ length: 72 }, () => 0.125));
    const node = getNode(g, 'c');
    const x = { shape: [5, 6, 2], type: fixedType(true, 8, 7), data: new Float64Array(60).fill(1) };
    const out = opOf(node).evaluate(node, [x]);
    // centre window: 3·3·2 cells of 1 times weight code 1 on 2^-3 → 18 on the accumulator grid 2^-10
    expect(out.shape).toEqual([3, 3, 4]);
    expect(out.type).toEqual(node.type);
    expect(out.data[(1 * 3 + 1) * 4]).toBe(18);
  });
});
