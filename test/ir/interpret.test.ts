import { describe, expect, it } from 'vitest';
import {
  GraphBuilder,
  IRGraphError,
  IRRuntimeError,
  assertValid,
  buildRuleFromReference,
  flattenSample,
  inputRequant,
  intWeightsFromValues,
  planRequant,
  po2WeightsFromValues,
  runIR,
  runIRReal,
  runPipeline,
  shiftRule,
  traceIR,
  weightValues,
  type Graph,
  type Requant,
} from '../../src/ir/index.js';
import { avgPoolRef, conv2dRef, denseRef, depthwiseRef, quantRef, randInts, rng, roundRef, type Mode } from './reference.js';

const FIXED4 = { mode: 'fixed', bits: 4, signed: true } as const;

function exactPlan(cfg: { className: string; config: Record<string, unknown> }): Requant {
  const p = planRequant(cfg);
  if (p.kind !== 'exact' || p.requant === null) throw new Error('expected an exact plan');
  return p.requant;
}

/** quantized_bits(8,3,1): frac 4, codes [-128, 127]. */
const IN_Q8_3 = inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3, symmetric: 0, keep_negative: true } });

function denseGraph(requant: Requant | null): Graph {
  const b = new GraphBuilder('dense43');
  const x = b.input({ id: 'x', shape: [4], quant: IN_Q8_3 });
  const weights = intWeightsFromValues('dense', [1, -2, 3, 0.5, 0, -1, 2, 2, 1, -3, 1, 0.25], [4, 3], FIXED4);
  const d = b.dense(x, { id: 'd', weights, bias: { codes: [1, 2, -3], exp: -3 }, requant, origin: { layer: 'd', className: 'QDense' } });
  return b.build([d]);
}

const W43 = [1, -2, 3, 0.5, 0, -1, 2, 2, 1, -3, 1, 0.25];
const B43 = [0.125, 0.25, -0.375];

/** Inputs that saturate, that sit exactly on ties of the input grid, and random ones. */
function denseInputs(): number[][] {
  const r = rng(7);
  const xs: number[][] = [];
  for (let k = -140; k < 140; k += 4) xs.push([(2 * k + 1) / 32, (2 * k + 3) / 32, (2 * k - 1) / 32, (2 * k + 5) / 32]);
  xs.push([100, -100, 7.97, -8.5], [1e3, -1e3, 0, -0]);
  for (let i = 0; i < 400; i += 1) xs.push(Array.from({ length: 4 }, () => (r() - 0.5) * 20));
  return xs;
}

describe('dense 4→3 against a float64 reference', () => {
  const cases: [string, Requant | null, (acc: number) => number][] = [
    ['accumulator output', null, (a) => a],
    ['quantized_relu(4,2)', exactPlan({ className: 'quantized_relu', config: { bits: 4, integer: 2 } }), (a) => quantRef(a, 2, 0, 15)],
    ['quantized_bits(6,2,1)', exactPlan({ className: 'quantized_bits', config: { bits: 6, integer: 2, symmetric: 1 } }), (a) => quantRef(a, 3, -31, 31)],
    [
      "quantized_bits(4,0,1,alpha='auto_po2') frozen at scale 1 (half away)",
      exactPlan({ className: 'quantized_bits', config: { bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2', post_training_scale: [1] } }),
      (a) => quantRef(a, 3, -7, 7, 'half_away'),
    ],
  ];
  for (const [name, requant, ref] of cases) {
    it(`${name}: every output equals the reference`, () => {
      const g = denseGraph(requant);
      assertValid(g);
      let ties = 0;
      for (const x of denseInputs()) {
        const xq = x.map((v) => quantRef(v, 4, -128, 127));
        if (x.some((v) => Math.abs(v * 16 - Math.round(v * 16)) === 0.5)) ties += 1;
        const want = denseRef(xq, W43, 3, B43).map(ref);
        expect(Array.from(runIRReal(g, x)[0]!)).toEqual(want);
      }
      expect(ties).toBeGreaterThan(50);
    });
  }

  it('produces integer codes of the declared type', () => {
    const [out] = runIR(denseGraph(exactPlan({ className: 'quantized_relu', config: { bits: 4, integer: 2 } })), [0.5, 1.25, -3, 7.9]);
    expect(out!.type).toEqual({ kind: 'fixed', signed: false, width: 4, frac: 2 });
    // 0.5·(-2) + 1.25·0 - 3·2 + 7.875·1 + 0.25 = 1.125 → 4.5 quarter steps, a tie → 4 (half to even)
    expect(Array.from(out!.data)).toEqual([0, 4, 0]);
  });
});

describe('requantization ties', () => {
  function identityDense(rule: Requant): Graph {
    const b = new GraphBuilder('tie');
    const x = b.input({ id: 'x', shape: [1], quant: IN_Q8_3 });
    const d = b.dense(x, { id: 'd', weights: intWeightsFromValues('dense', [1], [1, 1], FIXED4), requant: rule });
    return b.build([d]);
  }
  const halfEven = identityDense({ rule: shiftRule({ frac: 2, lo: -32, hi: 31 }), residual: 'x', quantizer: 'half_even' });
  const halfAway = identityDense({ rule: shiftRule({ frac: 2, lo: -32, hi: 31, rounding: 'half_away' }), residual: 'x', quantizer: 'half_away' });

  it('rounds x.5 codes half to even and half away from zero', () => {
    const xs = [0.125, 0.375, 0.625, 0.875, -0.125, -0.375, -0.625, -0.875];
    // in quarter steps: 0.5, 1.5, 2.5, 3.5 and negatives
    expect(xs.map((x) => runIR(halfEven, [x])[0]!.data[0])).toEqual([0, 2, 2, 4, 0, -2, -2, -4]);
    expect(xs.map((x) => runIR(halfAway, [x])[0]!.data[0])).toEqual([1, 2, 3, 4, -1, -2, -3, -4]);
  });

  it('agrees with the reference on every tie of the grid, saturating at the clip bounds', () => {
    for (let k = -80; k <= 80; k += 1) {
      const x = (2 * k + 1) / 8;
      for (const [g, mode] of [[halfEven, 'half_even'], [halfAway, 'half_away']] as [Graph, Mode][]) {
        const want = Math.min(31, Math.max(-32, roundRef(quantRef(x, 4, -128, 127) * 4, mode)));
        expect(runIR(g, [x])[0]!.data[0]).toBe(want);
      }
    }
  });
});

describe('convolutions against float64 references', () => {
  const inQ = inputRequant({ className: 'quantized_bits', config: { bits: 6, integer: 2, symmetric: 0 } }); // frac 3, [-32, 31]
  const r = rng(11);

  function inputs(n: number): number[] {
    return Array.from({ length: n }, () => (r() - 0.5) * 10);
  }

  for (const [name, opts] of [
    ['stride 2, padding same', { strides: [2, 2] as const, padding: 'same' as const, dilation: [1, 1] as const }],
    ['stride 1, padding valid, dilation 2', { strides: [1, 1] as const, padding: 'valid' as const, dilation: [2, 2] as const }],
  ] as const) {
    it(`conv2d ${name}`, () => {
      const [H, W, C, F] = [5, 6, 2, 3];
      const codes = randInts(r, 3 * 3 * C * F, -7, 7);
      // per-output-channel power-of-two scales, as alpha='auto_po2' produces
      const values = codes.map((c, i) => c * 2 ** [-3, -2, -4][i % F]!);
      const weights = intWeightsFromValues('conv2d', values, [3, 3, C, F], FIXED4);
      const bias = [0.5, -0.25, 0.125];
      const b = new GraphBuilder('conv');
      const x = b.input({ id: 'x', shape: [H, W, C], quant: inQ });
      const y = b.conv2d(x, { id: 'y', kernel: [3, 3], ...opts, weights, bias: { codes: [4, -2, 1], exp: -3 } });
      const g = b.build([y]);
      assertValid(g);
      for (let t = 0; t < 20; t += 1) {
        const xs = inputs(H * W * C);
        const ref = conv2dRef(
          xs.map((v) => quantRef(v, 3, -32, 31)),
          { H, W, C, kh: 3, kw: 3, sh: opts.strides[0], sw: opts.strides[1], same: opts.padding === 'same', dh: opts.dilation[0], dw: opts.dilation[1] },
          weightValues('conv2d', weights),
          F,
          bias,
        );
        const [out] = runIR(g, xs);
        expect(out!.shape).toEqual(ref.shape);
        expect(Array.from(runIRReal(g, xs)[0]!)).toEqual(ref.out);
      }
    });
  }

  it('conv1d stride 2, padding same (as a height-1 conv2d)', () => {
    const [T, C, F] = [7, 2, 2];
    const weights = intWeightsFromValues('conv1d', randInts(r, 3 * C * F, -5, 5).map((c) => c / 4), [3, C, F], FIXED4);
    const b = new GraphBuilder('c1');
    const x = b.input({ id: 'x', shape: [T, C], quant: inQ });
    const y = b.conv1d(x, { id: 'y', kernel: 3, stride: 2, padding: 'same', weights });
    const g = b.build([y]);
    for (let t = 0; t < 10; t += 1) {
      const xs = inputs(T * C);
      const ref = conv2dRef(xs.map((v) => quantRef(v, 3, -32, 31)), { H: 1, W: T, C, kh: 1, kw: 3, sh: 1, sw: 2, same: true }, weightValues('conv1d', weights), F, []);
      expect(runIR(g, xs)[0]!.shape).toEqual([4, 2]);
      expect(Array.from(runIRReal(g, xs)[0]!)).toEqual(ref.out);
    }
  });

  it('conv1d with causal padding (k-1 cells before, none after)', () => {
    const [T, C, F] = [6, 1, 1];
    const weights = intWeightsFromValues('conv1d', [1, 2, 4], [3, C, F], FIXED4);
    const b = new GraphBuilder('causal');
    const x = b.input({ id: 'x', shape: [T, C], quant: inQ });
    const y = b.conv1d(x, { id: 'y', kernel: 3, dilation: 2, padding: 'causal', weights });
    const g = b.build([y]);
    // y[t] = 1·x[t-4] + 2·x[t-2] + 4·x[t]
    expect(Array.from(runIRReal(g, [1, 2, 3, 0.5, 0.25, 0.125])[0]!)).toEqual([4, 8, 14, 6, 8, 3.5]);
  });

  for (const [name, strides, padding] of [
    ['stride 1, padding same', [1, 1], 'same'],
    ['stride 2, padding valid', [2, 2], 'valid'],
  ] as const) {
    it(`depthwise conv (depth multiplier 2), ${name}`, () => {
      const [H, W, C, dm] = [5, 4, 3, 2];
      const codes = randInts(r, 3 * 3 * C * dm, -3, 3);
      const values = codes.map((c, i) => c * 2 ** -((i % (C * dm)) % 3));
      const weights = intWeightsFromValues('depthwise', values, [3, 3, C, dm], FIXED4);
      const bias = [0.25, 0, -0.5, 1, 0.125, -0.125];
      const b = new GraphBuilder('dw');
      const x = b.input({ id: 'x', shape: [H, W, C], quant: inQ });
      const y = b.depthwise(x, { id: 'y', kernel: [3, 3], strides, padding, weights, bias: { codes: bias.map((v) => v * 8), exp: -3 } });
      const g = b.build([y]);
      for (let t = 0; t < 20; t += 1) {
        const xs = inputs(H * W * C);
        const ref = depthwiseRef(
          xs.map((v) => quantRef(v, 3, -32, 31)),
          { H, W, C, kh: 3, kw: 3, sh: strides[0], sw: strides[1], same: padding === 'same' },
          weightValues('depthwise', weights),
          dm,
          bias,
        );
        expect(runIR(g, xs)[0]!.shape).toEqual(ref.shape);
        expect(Array.from(runIRReal(g, xs)[0]!)).toEqual(ref.out);
      }
    });
  }
});

describe('average pooling', () => {
  const inQ = inputRequant({ className: 'quantized_relu', config: { bits: 8, integer: 3 } }); // frac 5, [0, 255]
  const r = rng(5);

  it('Keras AveragePooling2D 2x2: divides by 4 exactly', () => {
    const b = new GraphBuilder('ap');
    const x = b.input({ id: 'x', shape: [4, 4, 2], quant: inQ });
    const y = b.avgpool(x, { id: 'y', pool: [2, 2] });
    const g = b.build([y]);
    // the average of 8-bit codes on 2^-5 lands on 2^-7: two more fraction bits, same integer range
    expect(runIR(g, new Array(32).fill(1))[0]!.type).toEqual({ kind: 'fixed', signed: false, width: 10, frac: 7 });
    for (let t = 0; t < 20; t += 1) {
      const xs = Array.from({ length: 32 }, () => r() * 9 - 0.5);
      const ref = avgPoolRef(xs.map((v) => quantRef(v, 5, 0, 255)), { H: 4, W: 4, C: 2, kh: 2, kw: 2, sh: 2, sw: 2, same: false }, 1, 1);
      expect(Array.from(runIRReal(g, xs)[0]!)).toEqual(ref.out);
    }
  });

  it("QAveragePooling2D 3x3, padding same: avgpool(x·9)·q(1/9) with edge windows of 4 and 6 cells", () => {
    // quantized_bits(8,1,1)(1/9) = 0.109375 = 7·2^-6
    const b = new GraphBuilder('qap');
    const x = b.input({ id: 'x', shape: [5, 5, 1], quant: inQ });
    const y = b.avgpool(x, { id: 'y', pool: [3, 3], strides: [1, 1], padding: 'same', preScale: 9, mult: { code: 7, exp: -6 } });
    const g = b.build([y]);
    const report = assertValid(g);
    expect(report.diagnostics.filter((d) => d.code === 'float32')).toEqual([]);
    for (let t = 0; t < 20; t += 1) {
      const xs = Array.from({ length: 25 }, () => r() * 9);
      const ref = avgPoolRef(xs.map((v) => quantRef(v, 5, 0, 255)), { H: 5, W: 5, C: 1, kh: 3, kw: 3, sh: 1, sw: 1, same: true }, 9, 0.109375);
      expect(Array.from(runIRReal(g, xs)[0]!)).toEqual(ref.out);
    }
  });

  it('refuses an average over 9 cells without the QKeras pre-scale (S/9 is not dyadic)', () => {
    const b = new GraphBuilder('bad');
    const x = b.input({ id: 'x', shape: [6, 6, 1], quant: inQ });
    expect(() => b.avgpool(x, { id: 'y', pool: [3, 3], origin: { layer: 'average_pooling2d', className: 'AveragePooling2D' } })).toThrow(
      /%y \(avgpool, layer "average_pooling2d"\): windows of 9 valid cells make the average S\/9, which is not a dyadic number.*QAveragePooling2D/,
    );
  });

  it('global average pooling: QKeras sum·q(1/16) and tf.mean over 4 cells', () => {
    const b = new GraphBuilder('gap');
    const x = b.input({ id: 'x', shape: [4, 4, 3], quant: inQ });
    const q = b.globalAvgPool(x, { id: 'q', divisor: 1, mult: { code: 1, exp: -4 } });
    const x2 = b.input({ id: 'x2', shape: [2, 2, 3], quant: inQ });
    const m = b.globalAvgPool(x2, { id: 'm', divisor: 4 });
    const g = b.build([q, m]);
    for (let t = 0; t < 10; t += 1) {
      const xs = Array.from({ length: 48 }, () => r() * 8);
      const x2s = Array.from({ length: 12 }, () => r() * 8);
      const xq = xs.map((v) => quantRef(v, 5, 0, 255));
      const x2q = x2s.map((v) => quantRef(v, 5, 0, 255));
      const want1 = [0, 1, 2].map((c) => xq.filter((_, i) => i % 3 === c).reduce((a, v) => a + v, 0) / 16);
      const want2 = [0, 1, 2].map((c) => x2q.filter((_, i) => i % 3 === c).reduce((a, v) => a + v, 0) / 4);
      const [o1, o2] = runIRReal(g, [xs, x2s]);
      expect(Array.from(o1!)).toEqual(want1);
      expect(Array.from(o2!)).toEqual(want2);
    }
  });
});

describe('batch-norm, max pooling, add, concat, reshape, argmax', () => {
  const inQ = inputRequant({ className: 'quantized_bits', config: { bits: 6, integer: 2, symmetric: 1 } }); // frac 3, [-31, 31]

  it('a small graph of the shape-only and element-wise ops equals its reference', () => {
    const b = new GraphBuilder('misc');
    const x = b.input({ id: 'x', shape: [2, 2, 3], quant: inQ });
    const bn = b.batchnorm(x, { id: 'bn', scale: { codes: [3, -1, 2], exp: -2 }, offset: { codes: [1, 0, -5], exp: -3 } });
    const mp = b.maxpool(bn, { id: 'mp', pool: [2, 2] });
    const flat = b.reshape(mp, { id: 'flat', shape: [3] });
    const gap = b.globalAvgPool(x, { id: 'gap', divisor: 4 });
    const sum = b.addition([flat, gap], { id: 'sum' });
    const cat = b.concat([flat, sum], { id: 'cat' });
    const am = b.argmax(cat, { id: 'am' });
    const g = b.build([cat, am]);
    assertValid(g);
    const r = rng(3);
    for (let t = 0; t < 50; t += 1) {
      const xs = Array.from({ length: 12 }, () => (r() - 0.5) * 9);
      const xq = xs.map((v) => quantRef(v, 3, -31, 31));
      const bnv = xq.map((v, i) => v * [0.75, -0.25, 0.5][i % 3]! + [0.125, 0, -0.625][i % 3]!);
      const mpv = [0, 1, 2].map((c) => Math.max(...bnv.filter((_, i) => i % 3 === c)));
      const gapv = [0, 1, 2].map((c) => xq.filter((_, i) => i % 3 === c).reduce((a, v) => a + v, 0) / 4);
      const catv = [...mpv, ...mpv.map((v, c) => v + gapv[c]!)];
      const [outCat, outArg] = runIRReal(g, xs);
      expect(Array.from(outCat!)).toEqual(catv);
      expect(outArg![0]).toBe(catv.indexOf(Math.max(...catv)));
    }
  });

  it('argmax returns the first index of a tie, like tf.argMax', () => {
    const b = new GraphBuilder('am');
    const x = b.input({ id: 'x', shape: [4], quant: inQ });
    const am = b.argmax(x, { id: 'am' });
    const g = b.build([am]);
    expect(runIR(g, [1, 3, 3, 2])[0]!.data[0]).toBe(1);
    expect(runIR(g, [-1, -1, -1, -1])[0]!.data[0]).toBe(0);
    expect(runIR(g, [1, 3, 3, 2])[0]!.type).toEqual({ kind: 'fixed', signed: false, width: 2, frac: 0 });
  });
});

describe('po2 weights, binary, ternary and table activations', () => {
  const inQ = inputRequant({ className: 'quantized_relu', config: { bits: 4, integer: 2 } }); // frac 2, [0, 15]
  const PO2 = { mode: 'po2', bits: 4, signed: true } as const;
  const wv = [0.5, -0.25, 1, -2, 0.125, 1, -1, 0.5, -0.0625, 2, 0.25, -0.5];

  function graph(requant: Requant | null): Graph {
    const b = new GraphBuilder('po2');
    const x = b.input({ id: 'x', shape: [4], quant: inQ });
    const d = b.dense(x, { id: 'd', weights: po2WeightsFromValues(wv, [4, 3], PO2), requant });
    return b.build([d]);
  }

  const r = rng(9);
  const samples = Array.from({ length: 200 }, () => Array.from({ length: 4 }, () => r() * 5 - 0.5));
  const accOf = (x: number[]): number[] => denseRef(x.map((v) => quantRef(v, 2, 0, 15)), wv, 3, []);

  it('po2 (barrel-shift) weights accumulate exactly', () => {
    const g = graph(null);
    for (const x of samples) expect(Array.from(runIRReal(g, x)[0]!)).toEqual(accOf(x));
  });

  it('binary(): x >= 0 → +1 (0 counts as positive), else -1', () => {
    const g = graph(exactPlan({ className: 'binary', config: {} }));
    for (const x of samples) expect(Array.from(runIRReal(g, x)[0]!)).toEqual(accOf(x).map((a) => (a >= 0 ? 1 : -1)));
  });

  it('ternary(alpha=0.5, threshold=0.33) compares |x| with the float32 threshold', () => {
    const g = graph(exactPlan({ className: 'ternary', config: { alpha: 0.5, threshold: 0.33 } }));
    const t = Math.fround(0.33);
    for (const x of samples) {
      expect(Array.from(runIRReal(g, x)[0]!)).toEqual(accOf(x).map((a) => (Math.abs(a) >= t ? Math.sign(a) * 0.5 : 0) + 0));
    }
  });

  it('quantized_tanh(4) with the hard internal sigmoid becomes an exact threshold rule', () => {
    const plan = planRequant({ className: 'quantized_tanh', config: { bits: 4 } });
    if (plan.kind !== 'evaluate') throw new Error('expected an evaluate plan');
    const g0 = graph(null);
    const accType = g0.nodes[1]!.type!;
    const g = graph(buildRuleFromReference(plan, accType));
    expect(g.nodes[1]!.type).toEqual({ kind: 'fixed', signed: true, width: 4, frac: 3 });
    for (const x of samples) {
      // QKeras: clip(round((2·clip(0.5a + 0.5, 0, 1) - 1)·8)/8, -1, 7/8)
      const want = accOf(x).map((a) => Math.min(7, Math.max(-8, roundRef((2 * Math.min(1, Math.max(0, 0.5 * a + 0.5)) - 1) * 8, 'half_even'))) / 8);
      expect(Array.from(runIRReal(g, x)[0]!)).toEqual(want);
    }
  });
});

describe('the input quantizer', () => {
  const b = new GraphBuilder('in');
  const x = b.input({ id: 'x', shape: [3], quant: inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 0, symmetric: 0 } }) });
  const g = b.build([x]);

  it('rounds the float32 value of each input half to even and saturates', () => {
    // 1/256 is half a step of 2^-7, a tie: 0. float32 keeps 2^-8 + 2^-30 (24 significant bits), just above
    // the tie: 1. It cannot keep 2^-8 + 2^-40, which becomes the tie again: 0.
    expect(Array.from(runIR(g, [1 / 256, 3 / 256, 5])[0]!.data)).toEqual([0, 2, 127]);
    expect(Array.from(runIR(g, [1 / 256 + 2 ** -30, -1 / 256 - 2 ** -40, -5])[0]!.data)).toEqual([1, 0, -128]);
  });

  it('refuses inputs so large that QKeras x + (xq - x) in float32 no longer gives the quantized value', () => {
    expect(() => runIR(g, [2 ** 20, 0, 0])).toThrow(IRRuntimeError);
    expect(() => runIR(g, [2 ** 20, 0, 0])).toThrow(/input value 1048576 at index 0 is so large that quantized_bits, computed as x \+ \(xq - x\) in float32/);
    expect(Array.from(runIR(g, [1000, -1000, 0])[0]!.data)).toEqual([127, -128, 0]);
  });

  it('rejects NaN and wrongly sized inputs with the node named', () => {
    expect(() => runIR(g, [NaN, 0, 0])).toThrow(/%x: input value at index 0 is NaN/);
    expect(() => runIR(g, [0, 0])).toThrow(/%x: expected 3 input values for shape \[3\], got 2/);
    expect(() => runIR(g, [[[0, 0, 0]]] as unknown as number[][])).toThrow(/flatten nested samples with flattenSample/);
    expect(runIR(g, [flattenSample([[0.5], [0.25, [1]]])])[0]!.data).toEqual(Float64Array.from([64, 32, 127]));
  });

  it('applies quantized_relu with a power-of-two negative slope on both sides of 0', () => {
    const q = inputRequant({ className: 'quantized_relu', config: { bits: 4, integer: 1, negative_slope: 0.25 } });
    // nsb = 3, m = 8, grid 2^-2: positives clip(round(4x), 0, 7)/4; negatives clip(round(x), -2, 0)/4
    const b2 = new GraphBuilder('leaky');
    const y = b2.input({ id: 'y', shape: [6], quant: q });
    const g2 = b2.build([y]);
    expect(Array.from(runIRReal(g2, [0.6, 5, -1.5, -2.5, -9, -0.4])[0]!)).toEqual([0.5, 1.75, -0.5, -0.5, -0.5, 0]);
  });
});

describe('traceIR and the pipeline keep the values', () => {
  it('returns every intermediate value and the optimized graph computes the same outputs', () => {
    const b = new GraphBuilder('pipe');
    const inQ = inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3 } });
    const x = b.input({ id: 'x', shape: [4, 4, 2], quant: inQ });
    const c = b.conv2d(x, {
      id: 'c',
      kernel: [3, 3],
      padding: 'same',
      weights: intWeightsFromValues('conv2d', randInts(rng(1), 36, -6, 6).map((v) => v / 8), [3, 3, 2, 2], FIXED4),
    });
    const bn = b.batchnorm(c, { id: 'bn', scale: { codes: [3, 1], exp: -1 }, offset: { codes: [1, -1], exp: -2 } });
    const act = b.requantize(bn, { id: 'act', requant: exactPlan({ className: 'quantized_relu', config: { bits: 6, integer: 2 } }) });
    const g = b.build([act]);
    const { graph: opt } = runPipeline(g, { checkEachPass: true });
    expect(opt.nodes.map((n) => n.kind)).toEqual(['input', 'conv2d']);
    const r = rng(2);
    for (let t = 0; t < 30; t += 1) {
      const xs = Array.from({ length: 32 }, () => (r() - 0.5) * 12);
      const trace = traceIR(g, xs);
      expect([...trace.keys()]).toEqual(['x', 'c', 'bn', 'act']);
      expect(Array.from(runIRReal(opt, xs)[0]!)).toEqual(Array.from(runIRReal(g, xs)[0]!));
    }
  });

  it('names the node when a graph is inconsistent', () => {
    const b = new GraphBuilder('bad');
    const x = b.input({ id: 'x', shape: [3], quant: IN_Q8_3 });
    expect(() => b.dense(x, { id: 'd', weights: intWeightsFromValues('dense', [1, 2], [2, 1], FIXED4) })).toThrow(IRGraphError);
    expect(() => b.dense(x, { id: 'd', weights: intWeightsFromValues('dense', [1, 2], [2, 1], FIXED4) })).toThrow(
      /%d \(dense, layer "d"\): weights have shape \[2, 1\], expected \[3, 1\]/,
    );
  });
});
