/**
 * The hardware-cost estimator's calibration grid: small generated designs (dense chains and CNNs; int
 * weights of 3..8 bits, po2, ternary and binary weights; fixed, ±1 and ternary activations; inputs of
 * 1 to 16 bits; both architectures, reuse 1 and weight ROMs) described as plain JSON specs, so the calibration fixture
 * stores each spec beside its Yosys figures and the test rebuilds exactly the same graph from it.
 * Weights are seeded random codes.
 */
import {
  GraphBuilder,
  inputRequant,
  planRequant,
  runPipeline,
  type Graph,
  type IntWeights,
  type Po2Weights,
  type Requant,
  type Weights,
} from '../../src/ir/index.js';
import { rng } from '../ir/reference.js';
import { holdoutSet1 } from './hw-cost-holdout-1.js';

export type WeightSpec = { readonly kind: 'bits'; readonly bits: number } | { readonly kind: 'po2' | 'ternary' | 'binary' };

export type ActSpec =
  | { readonly kind: 'relu' | 'bits'; readonly bits: number; readonly integer: number }
  | { readonly kind: 'binary' | 'ternary' | 'none' };

export type LayerSpec =
  | { readonly kind: 'dense'; readonly units: number; readonly weights: WeightSpec; readonly act: ActSpec }
  | { readonly kind: 'conv2d'; readonly filters: number; readonly kernel: number; readonly padding: 'valid' | 'same'; readonly weights: WeightSpec; readonly act: ActSpec }
  | { readonly kind: 'maxpool' | 'avgpool'; readonly pool: number }
  | { readonly kind: 'flatten' | 'argmax' };

export interface DesignSpec {
  readonly name: string;
  readonly arch: 'parallel' | 'stream';
  readonly reuse?: number;
  readonly seed: number;
  /** Not used in the fit: the test checks the estimate against it. */
  readonly heldBack?: boolean;
  /** Input shape and quantizer: `quantized_bits(bits, integer)`, `quantized_relu(bits, integer)` (`unsigned`), or ±1 codes (`binary`). */
  readonly input: { readonly shape: readonly number[]; readonly bits: number; readonly integer: number; readonly binary?: boolean; readonly unsigned?: boolean };
  readonly layers: readonly LayerSpec[];
}

function exact(className: string, config: Record<string, unknown>): Requant {
  const p = planRequant({ className, config });
  if (p.kind !== 'exact' || p.requant === null) throw new Error(`expected an exact plan for ${className}`);
  return p.requant;
}

function activation(a: ActSpec): Requant | null {
  switch (a.kind) {
    case 'relu':
      return exact('quantized_relu', { bits: a.bits, integer: a.integer });
    case 'bits':
      return exact('quantized_bits', { bits: a.bits, integer: a.integer, symmetric: 0, keep_negative: true });
    case 'binary':
      return exact('binary', {});
    case 'ternary':
      return exact('ternary', {});
    case 'none':
      return null;
  }
}

/** Seeded weights of a kernel `shape` (output channels last): about a fifth of them zero. */
function weights(r: () => number, shape: number[], w: WeightSpec): Weights {
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = shape[shape.length - 1]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  switch (w.kind) {
    case 'bits': {
      const m = 2 ** (w.bits - 1) - 1;
      const codes = Array.from({ length: n }, () => (r() < 0.2 ? 0 : int(-m, m)));
      const out: IntWeights = { kind: 'int', shape, codes, exps: new Array<number>(channels).fill(-(w.bits - 1)), quant: { mode: 'fixed', bits: w.bits, signed: true } };
      return out;
    }
    case 'po2': {
      const signs = Array.from({ length: n }, () => (r() < 0.15 ? 0 : r() < 0.5 ? -1 : 1) as -1 | 0 | 1);
      const out: Po2Weights = { kind: 'po2', shape, signs, exps: Array.from({ length: n }, () => int(-4, 0)), quant: { mode: 'po2', bits: 4, signed: true } };
      return out;
    }
    case 'ternary':
    case 'binary': {
      const zeros = w.kind === 'ternary';
      const codes = Array.from({ length: n }, () => (zeros && r() < 0.3 ? 0 : r() < 0.5 ? -1 : 1));
      const quant = zeros ? { mode: 'ternary' as const, bits: 2, signed: true } : { mode: 'binary' as const, bits: 1, signed: true };
      return { kind: 'int', shape, codes, exps: Array.from({ length: channels }, () => int(-1, 0)), quant };
    }
  }
}

/** The IR graph of a spec (lowered and typed, as `runPipeline` leaves it). */
export function buildDesign(spec: DesignSpec): Graph {
  const r = rng(spec.seed);
  const b = new GraphBuilder(spec.name);
  const quant = spec.input.binary === true
    ? inputRequant({ className: 'binary', config: {} })
    : spec.input.unsigned === true
      ? inputRequant({ className: 'quantized_relu', config: { bits: spec.input.bits, integer: spec.input.integer } })
      : inputRequant({ className: 'quantized_bits', config: { bits: spec.input.bits, integer: spec.input.integer, symmetric: 0, keep_negative: true } });
  let x = b.input({ id: 'x', origin: { layer: 'x', className: 'InputLayer' }, shape: spec.input.shape, quant });
  let shape = [...spec.input.shape];
  spec.layers.forEach((l, i) => {
    const name = `${l.kind}${i}`;
    const origin = { layer: name, className: l.kind };
    const biasOf = (units: number, w: WeightSpec) => ({
      codes: Array.from({ length: units }, () => Math.floor(r() * 17) - 8),
      exp: w.kind === 'bits' ? -(w.bits - 1) : -3,
    });
    switch (l.kind) {
      case 'dense': {
        const n = shape[shape.length - 1]!;
        x = b.dense(x, { id: name, origin, weights: weights(r, [n, l.units], l.weights), bias: biasOf(l.units, l.weights), requant: activation(l.act) });
        shape = [...shape.slice(0, -1), l.units];
        break;
      }
      case 'conv2d': {
        const C = shape[2]!;
        x = b.conv2d(x, {
          id: name,
          origin,
          kernel: [l.kernel, l.kernel],
          padding: l.padding,
          weights: weights(r, [l.kernel, l.kernel, C, l.filters], l.weights),
          bias: biasOf(l.filters, l.weights),
          requant: activation(l.act),
        });
        const out = (s: number): number => (l.padding === 'same' ? s : s - l.kernel + 1);
        shape = [out(shape[0]!), out(shape[1]!), l.filters];
        break;
      }
      case 'maxpool':
        x = b.maxpool(x, { id: name, origin, pool: [l.pool, l.pool] });
        shape = [Math.floor(shape[0]! / l.pool), Math.floor(shape[1]! / l.pool), shape[2]!];
        break;
      case 'avgpool': {
        // QAveragePooling2D: the window sum times q(1/area), requantized.
        const area = l.pool * l.pool;
        const k = Math.ceil(Math.log2(area)) + 2;
        x = b.avgpool(x, {
          id: name,
          origin,
          pool: [l.pool, l.pool],
          preScale: area,
          mult: { code: Math.round(2 ** k / area), exp: -k },
          requant: activation({ kind: 'bits', bits: 6, integer: 2 }),
        });
        shape = [Math.floor(shape[0]! / l.pool), Math.floor(shape[1]! / l.pool), shape[2]!];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, c) => a * c, 1)];
        x = b.reshape(x, { id: name, origin, shape });
        break;
      case 'argmax':
        x = b.argmax(x, { id: name, origin });
        break;
    }
  });
  return runPipeline(b.build([x])).graph;
}

const W = {
  b3: { kind: 'bits', bits: 3 },
  b4: { kind: 'bits', bits: 4 },
  b5: { kind: 'bits', bits: 5 },
  b6: { kind: 'bits', bits: 6 },
  b8: { kind: 'bits', bits: 8 },
  po2: { kind: 'po2' },
  ter: { kind: 'ternary' },
  bin: { kind: 'binary' },
} as const satisfies Record<string, WeightSpec>;

const ACTS: readonly ActSpec[] = [
  { kind: 'relu', bits: 4, integer: 0 },
  { kind: 'bits', bits: 5, integer: 2 },
  { kind: 'relu', bits: 6, integer: 2 },
  { kind: 'binary' },
  { kind: 'ternary' },
];

/** Designs held back from the fit: each has siblings of its kind (weights, architecture) in the fit. */
const HELD_BACK = new Set(['wide_bits6_16x6x6_in16', 'mlp_bits8_6x4x3_in4', 'mlp_b4_12x6_in4', 'mlp_xnor_16x8x4', 'cnn_ter_4x4', 'smlp_ternary_8x6_in4_r1', 'scnn_b4_same_r3', 'sdense_bits3_24x24x16x10_in2u_r1']);

/**
 * The grid, in a fixed order. Most designs are a few hundred LUTs, so that Yosys finishes each in a
 * minute or two; the four wide ones (4k to 9k LUTs, two or three minutes) carry the deep full-adder
 * trees of real layers.
 */
export function calibrationGrid(): DesignSpec[] {
  const grid: DesignSpec[] = [];
  // Dense chains, parallel: every weight kind, input widths and activations varied.
  const mlp = (w: WeightSpec, sizes: readonly [number, number, number], bits: number, act: ActSpec, seed: number): DesignSpec => ({
    name: `mlp_${w.kind}${'bits' in w ? w.bits : ''}_${sizes.join('x')}_in${bits}`,
    arch: 'parallel',
    seed,
    input: { shape: [sizes[0]], bits, integer: 1 },
    layers: [
      { kind: 'dense', units: sizes[1], weights: w, act },
      { kind: 'dense', units: sizes[2], weights: w, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(mlp(W.b3, [8, 6, 4], 4, ACTS[0]!, 1001));
  grid.push(mlp(W.b3, [12, 8, 3], 6, ACTS[2]!, 1002));
  grid.push(mlp(W.b5, [8, 6, 4], 6, ACTS[1]!, 1003));
  grid.push(mlp(W.b8, [6, 4, 3], 4, ACTS[2]!, 1005));
  grid.push(mlp(W.po2, [8, 6, 4], 4, ACTS[3]!, 1007));
  grid.push(mlp(W.ter, [8, 6, 4], 6, ACTS[4]!, 1009));
  grid.push(mlp(W.bin, [8, 6, 4], 4, ACTS[0]!, 1011));
  // XNOR-popcount: ±1 inputs and weights, a binary hidden layer; wider and deeper int layers.
  const xnorMlp = (sizes: readonly [number, number, number], seed: number, act: ActSpec): DesignSpec => ({
    name: `mlp_xnor_${sizes.join('x')}`,
    arch: 'parallel',
    seed,
    input: { shape: [sizes[0]], bits: 1, integer: 0, binary: true },
    layers: [
      { kind: 'dense', units: sizes[1], weights: W.bin, act: { kind: 'binary' } },
      { kind: 'dense', units: sizes[2], weights: W.bin, act },
    ],
  });
  grid.push(xnorMlp([16, 8, 4], 1013, { kind: 'relu', bits: 4, integer: 2 }));
  grid.push(xnorMlp([12, 6, 3], 1030, { kind: 'none' }));
  grid.push(xnorMlp([10, 10, 5], 1031, { kind: 'relu', bits: 5, integer: 2 }));
  grid.push({
    name: 'mlp_b4_12x6_in4',
    arch: 'parallel',
    seed: 1014,
    input: { shape: [12], bits: 4, integer: 1 },
    layers: [{ kind: 'dense', units: 6, weights: W.b4, act: { kind: 'relu', bits: 6, integer: 2 } }],
  });
  grid.push({
    name: 'mlp_b6_6x6x4_in6',
    arch: 'parallel',
    seed: 1015,
    input: { shape: [6], bits: 6, integer: 2 },
    layers: [
      { kind: 'dense', units: 6, weights: W.b6, act: { kind: 'relu', bits: 5, integer: 1 } },
      { kind: 'dense', units: 4, weights: W.b6, act: { kind: 'bits', bits: 6, integer: 2 } },
    ],
  });
  // Wide layers of the jet tagger's kind: 16- and 12-bit inputs into 6-bit weights and 6-bit relus. The
  // adder trees of wide operands are deeper and full-adder heavy; the small designs alone do not tell a
  // full adder's cost from a half adder's.
  const wide = (sizes: readonly [number, number, number], bits: number, integer: number, w: WeightSpec, seed: number): DesignSpec => ({
    name: `wide_${w.kind}${'bits' in w ? w.bits : ''}_${sizes.join('x')}_in${bits}`,
    arch: 'parallel',
    seed,
    input: { shape: [sizes[0]], bits, integer },
    layers: [
      { kind: 'dense', units: sizes[1], weights: w, act: { kind: 'relu', bits: 6, integer: 0 } },
      { kind: 'dense', units: sizes[2], weights: w, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(wide([16, 8, 5], 16, 6, W.b6, 1040));
  grid.push(wide([12, 8, 4], 12, 4, W.b5, 1041));
  grid.push(wide([16, 6, 6], 16, 6, W.b6, 1042));
  grid.push(wide([10, 10, 5], 8, 3, W.b6, 1043));
  // Small CNNs: convolution, max pooling, flatten, dense, argmax.
  const cnn = (name: string, w: WeightSpec, size: number, padding: 'valid' | 'same', arch: 'parallel' | 'stream', seed: number, reuse?: number): DesignSpec => ({
    name,
    arch,
    ...(reuse === undefined ? {} : { reuse }),
    seed,
    input: { shape: [size, size, 1], bits: arch === 'parallel' ? 4 : 6, integer: 1 },
    layers: [
      { kind: 'conv2d', filters: arch === 'parallel' ? 2 : 3, kernel: 3, padding, weights: w, act: { kind: 'relu', bits: 4, integer: 1 } },
      { kind: 'maxpool', pool: 2 },
      { kind: 'flatten' },
      { kind: 'dense', units: 3, weights: W.b4, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(cnn('cnn_b4_4x4', W.b4, 4, 'valid', 'parallel', 1016));
  grid.push(cnn('cnn_ter_4x4', W.ter, 4, 'valid', 'parallel', 1017));
  // Stream: dense chains unrolled (reuse 1) and on weight ROMs, CNNs on line buffers, average pooling.
  const smlp = (w: WeightSpec, reuse: number, n: number, h: number, bits: number, seed: number): DesignSpec => ({
    name: `smlp_${w.kind}${'bits' in w ? w.bits : ''}_${n}x${h}_in${bits}_r${reuse}`,
    arch: 'stream',
    reuse,
    seed,
    input: { shape: [n], bits, integer: 1 },
    layers: [
      { kind: 'dense', units: h, weights: w, act: { kind: 'relu', bits: 4, integer: 1 } },
      { kind: 'dense', units: 3, weights: w, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(smlp(W.b4, 1, 8, 6, 6, 1020));
  grid.push(smlp(W.b6, 4, 8, 4, 6, 1021));
  grid.push(smlp(W.b4, 4, 12, 4, 4, 1022));
  grid.push(smlp(W.ter, 1, 8, 6, 4, 1023));
  grid.push(smlp(W.ter, 1, 10, 5, 5, 1032));
  grid.push(smlp(W.b3, 3, 6, 4, 6, 1024));
  grid.push(smlp(W.po2, 3, 9, 4, 6, 1025));
  grid.push(cnn('scnn_b4_valid_r1', W.b4, 6, 'valid', 'stream', 1026, 1));
  grid.push(cnn('scnn_b4_same_r3', W.b4, 6, 'same', 'stream', 1027, 3));
  grid.push(cnn('scnn_b6_valid_r9', W.b6, 6, 'valid', 'stream', 1028, 9));
  grid.push({
    name: 'scnn_avg_r1',
    arch: 'stream',
    reuse: 1,
    seed: 1029,
    input: { shape: [6, 6, 2], bits: 5, integer: 1 },
    layers: [
      { kind: 'conv2d', filters: 2, kernel: 2, padding: 'valid', weights: W.b4, act: { kind: 'relu', bits: 5, integer: 1 } },
      { kind: 'avgpool', pool: 2 },
      { kind: 'flatten' },
      { kind: 'dense', units: 3, weights: W.b4, act: { kind: 'none' } },
    ],
  });
  // Stream dense chains at reuse 2..4 on small weight ROMs that synthesis builds from logic (2 to 4
  // words): a weight bit constant over the words drops its partial products, and each product reads
  // few enough bits (the input element and one or two address bits) to become a table of LUTs.
  const romChain = (w: WeightSpec, reuse: number, sizes: readonly [number, number, number], bits: number, seed: number): DesignSpec => ({
    name: `srom_${w.kind}${'bits' in w ? w.bits : ''}_${sizes.join('x')}_in${bits}_r${reuse}`,
    arch: 'stream',
    reuse,
    seed,
    input: { shape: [sizes[0]], bits, integer: 1 },
    layers: [
      { kind: 'dense', units: sizes[1], weights: w, act: { kind: 'relu', bits: 4, integer: 1 } },
      { kind: 'dense', units: sizes[2], weights: w, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(romChain(W.b5, 2, [10, 5, 3], 5, 1060));
  grid.push(romChain(W.b3, 3, [12, 6, 3], 6, 1061));
  grid.push(romChain(W.ter, 2, [12, 8, 3], 4, 1062));
  grid.push(romChain(W.po2, 4, [12, 6, 3], 5, 1063));
  grid.push(romChain(W.b6, 2, [8, 6, 3], 4, 1064));
  grid.push(romChain(W.b4, 4, [16, 6, 4], 6, 1065));
  grid.push(romChain(W.b8, 3, [9, 4, 3], 4, 1066));
  // Streamed convolutions of 16-bit inputs (as the MNIST CNN's first layer) on line buffers of wider
  // images, unrolled at reuse 1; the dense layer after them reads a logic ROM.
  const wideCnn = (size: number, filters: number, padding: 'valid' | 'same', w: WeightSpec, seed: number): DesignSpec => ({
    name: `scnn16_${w.kind}${'bits' in w ? w.bits : ''}_${size}x${size}x${filters}_${padding}_r1`,
    arch: 'stream',
    reuse: 1,
    seed,
    input: { shape: [size, size, 1], bits: 16, integer: 0 },
    layers: [
      { kind: 'conv2d', filters, kernel: 3, padding, weights: w, act: { kind: 'relu', bits: 4, integer: 1 } },
      { kind: 'maxpool', pool: 2 },
      { kind: 'flatten' },
      { kind: 'dense', units: 3, weights: W.b4, act: { kind: 'none' } },
      { kind: 'argmax' },
    ],
  });
  grid.push(wideCnn(10, 3, 'valid', W.b4, 1070));
  grid.push(wideCnn(12, 4, 'same', W.b3, 1071));
  // Stream dense layers reading a flattened feature map from a weight ROM at reuse 1 (the MNIST CNN's
  // last layer): one ROM word per input word, many narrow multipliers (2-3 bit activations, 3-4 bit
  // weights) into sign-extended channel sums.
  const romDense = (shape: readonly [number, number, number], units: number, w: WeightSpec, bits: number, unsigned: boolean, seed: number): DesignSpec => ({
    name: `sdense_${w.kind}${'bits' in w ? w.bits : ''}_${shape.join('x')}x${units}_in${bits}${unsigned ? 'u' : ''}_r1`,
    arch: 'stream',
    reuse: 1,
    seed,
    input: { shape, bits, integer: unsigned ? bits : 1, ...(unsigned ? { unsigned } : {}) },
    layers: [{ kind: 'flatten' }, { kind: 'dense', units, weights: w, act: { kind: 'none' } }],
  });
  // Feature maps of 400+ pixels: ROMs of that many words go to block RAM (as the CNN's), not logic.
  grid.push(romDense([20, 20, 8], 10, W.b3, 2, true, 1050));
  grid.push(romDense([16, 32, 12], 8, W.b4, 3, false, 1051));
  grid.push(romDense([24, 24, 16], 10, W.b3, 2, true, 1052));
  // The first independent hold-out set, consumed (measured once, then seen): ordinary training designs.
  grid.push(...holdoutSet1());
  return grid.map((d) => (HELD_BACK.has(d.name) ? { ...d, heldBack: true } : d));
}
