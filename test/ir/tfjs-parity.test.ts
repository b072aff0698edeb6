/**
 * The IR against tfjs float32 (the default wasm backend): QKeras quantizers from src/quantizers applied to
 * every code of an accumulator-like grid, and small networks written with raw tfjs ops in QKeras's order
 * of operations. Every value must be equal (===).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/index.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import {
  GraphBuilder,
  buildRuleFromFunction,
  check,
  compileRule,
  fixedType,
  gridFrac,
  inputRequant,
  intWeightsFromValues,
  planRequant,
  ruleOutType,
  runIRReal,
  weightValues,
  type Requant,
} from '../../src/ir/index.js';
import { randInts, rng } from './reference.js';

beforeAll(async () => {
  await ready();
});

function config(q: Quantizer): { className: string; config: Record<string, unknown> } {
  return { className: q.className, config: q.getConfig() };
}

/** tfjs evaluation of a quantizer on real values (float32). */
function tfEval(q: Quantizer, xs: ArrayLike<number>): Float32Array {
  return tf.tidy(() => q.call(tf.tensor1d(Float32Array.from(xs), 'float32')).dataSync() as Float32Array);
}

function requantFor(q: Quantizer, inFrac: number, width: number): Requant {
  const plan = planRequant(config(q), { text: q.toString() });
  if (plan.kind === 'exact') return plan.requant!;
  return buildRuleFromFunction(plan, fixedType(true, width, inFrac), (xs) => tfEval(q, xs));
}

describe('activation quantizers: integer rules equal tfjs on every code', () => {
  const IN_FRAC = 6;
  const WIDTH = 12; // codes -2048..2047, reals -32..31.98 on a 2^-6 grid: plenty of ties and saturation
  const codes = Array.from({ length: 2 ** WIDTH }, (_, i) => i - 2 ** (WIDTH - 1));
  const reals = codes.map((c) => c * 2 ** -IN_FRAC);
  const specs = [
    'quantized_bits(6,2,1)',
    'quantized_bits(4,0,1,alpha=1)',
    'quantized_bits(8,3,0)',
    'quantized_bits(5,1,0,keep_negative=False)',
    'quantized_bits(1,0,1)',
    'quantized_bits(4,2,1,alpha=0.5)',
    'quantized_relu(4,2)',
    'quantized_relu(6,0)',
    'quantized_relu(3)',
    'quantized_relu(8,7)',
    'binary()',
    'binary(use_01=1)',
    'binary(alpha=2.0)',
    'stochastic_binary()',
    'ternary()',
    'ternary(alpha=1.0,threshold=0.5)',
    'stochastic_ternary(alpha=0.5,threshold=0.25)',
    'quantized_tanh(4)',
    'quantized_tanh(6,0,1)',
    'quantized_sigmoid(4)',
    'quantized_po2(4)',
    'quantized_po2(5,2)',
    'quantized_relu_po2(4)',
    'quantized_relu_po2(6,4)',
  ];
  for (const spec of specs) {
    it(spec, () => {
      const q = getQuantizer(spec) as Quantizer;
      const want = tfEval(q, reals);
      const rq = requantFor(q, IN_FRAC, WIDTH);
      const inType = fixedType(true, WIDTH, IN_FRAC);
      const out = ruleOutType(rq.rule, inType);
      const fn = compileRule(rq.rule, IN_FRAC);
      const step = 2 ** -gridFrac(out);
      const got = codes.map((c) => fn(c) * step);
      expect(got).toEqual(Array.from(want));
    });
  }

  it('quantized_relu with a negative slope (config form)', () => {
    const q = getQuantizer({ class_name: 'quantized_relu', config: { bits: 4, integer: 1, negative_slope: 0.25 } }) as Quantizer;
    const rq = requantFor(q, IN_FRAC, WIDTH);
    const fn = compileRule(rq.rule, IN_FRAC);
    const step = 2 ** -gridFrac(ruleOutType(rq.rule, fixedType(true, WIDTH, IN_FRAC)));
    expect(codes.map((c) => fn(c) * step)).toEqual(Array.from(tfEval(q, reals)));
  });

  it('quantized_bits with a frozen auto_po2 scale rounds half away from zero', () => {
    const q = getQuantizer({
      class_name: 'quantized_bits',
      config: { bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2', post_training_scale: [0.5] },
    }) as Quantizer;
    const rq = requantFor(q, IN_FRAC, WIDTH);
    expect(rq.rule).toMatchObject({ kind: 'shift', rounding: 'half_away', lo: -7, hi: 7 });
    const fn = compileRule(rq.rule, IN_FRAC);
    const step = 2 ** -gridFrac(ruleOutType(rq.rule, fixedType(true, WIDTH, IN_FRAC)));
    expect(codes.map((c) => fn(c) * step)).toEqual(Array.from(tfEval(q, reals)));
  });
});

describe('networks: runIR equals tfjs float32 inference', () => {
  const r = rng(21);

  /** Real inputs: random, on exact ties of the input grid, and saturating. */
  function samples(n: number, size: number, frac: number, scale: number): number[][] {
    return Array.from({ length: n }, (_, k) =>
      Array.from({ length: size }, () => {
        const u = r();
        if (k % 3 === 0) return (Math.floor((u - 0.5) * scale * 2 ** (frac + 1)) + 0.5) / 2 ** frac; // ties
        if (k % 3 === 1) return (u - 0.5) * 4 * scale; // saturating
        return (u - 0.5) * scale;
      }),
    );
  }

  it('conv2d (stride 2, same) + bias + quantized_relu, then dense + quantized_bits, then argmax', () => {
    const qIn = getQuantizer('quantized_bits(8,2,1)') as Quantizer;
    const qAct = getQuantizer('quantized_relu(4,1)') as Quantizer;
    const qOut = getQuantizer('quantized_bits(8,4,1)') as Quantizer;
    const [H, W, C, F, U] = [6, 5, 2, 3, 4];
    const kv = randInts(r, 3 * 3 * C * F, -7, 7).map((c, i) => c * 2 ** [-3, -2, -4][i % F]!);
    const kernel = intWeightsFromValues('conv2d', kv, [3, 3, C, F], { mode: 'fixed', bits: 4, signed: true });
    const bias = [0.25, -0.5, 0.125];
    const dv = randInts(r, 3 * 3 * F * U, -15, 15).map((c) => c / 16);
    const dense = intWeightsFromValues('dense', dv, [27, U], { mode: 'fixed', bits: 5, signed: true });

    const b = new GraphBuilder('cnn');
    const x = b.input({ id: 'x', shape: [H, W, C], quant: inputRequant(config(qIn)) });
    const c = b.conv2d(x, { id: 'c', kernel: [3, 3], strides: [2, 2], padding: 'same', weights: kernel, bias: { codes: [2, -4, 1], exp: -3 } });
    const a = b.requantize(c, { id: 'a', requant: requantFor(qAct, 0, 1) });
    const f = b.reshape(a, { id: 'f', shape: [27] });
    const d = b.dense(f, { id: 'd', weights: dense, requant: requantFor(qOut, 0, 1) });
    const am = b.argmax(d, { id: 'am' });
    const g = b.build([d, am]);
    expect(check(g).diagnostics).toEqual([]);

    const xs = samples(300, H * W * C, 6, 6);
    const tfOut = tf.tidy(() => {
      const xt = qIn.call(tf.tensor4d(xs.flat(), [xs.length, H, W, C], 'float32'));
      const ct = tf.add(tf.conv2d(xt as tf.Tensor4D, tf.tensor4d(weightValues('conv2d', kernel), [3, 3, C, F]), [2, 2], 'same'), tf.tensor1d(bias));
      const at = qAct.call(ct);
      const dt = qOut.call(tf.matMul(tf.reshape(at, [xs.length, 27]), tf.tensor2d(weightValues('dense', dense), [27, U])));
      return { d: Array.from(dt.dataSync()), am: Array.from(tf.argMax(dt, 1).dataSync()) };
    });
    xs.forEach((sample, k) => {
      const [od, oam] = runIRReal(g, sample);
      expect(Array.from(od!)).toEqual(tfOut.d.slice(k * U, (k + 1) * U));
      expect(oam![0]).toBe(tfOut.am[k]);
    });
  });

  it('depthwise conv (multiplier 2) + quantized_bits', () => {
    const qIn = getQuantizer('quantized_relu(6,2)') as Quantizer;
    const qAct = getQuantizer('quantized_bits(6,3,1)') as Quantizer;
    const [H, W, C, dm] = [5, 5, 3, 2];
    const kv = randInts(r, 3 * 3 * C * dm, -3, 3).map((v, i) => v * 2 ** -(i % 2));
    const kernel = intWeightsFromValues('depthwise', kv, [3, 3, C, dm], { mode: 'fixed', bits: 3, signed: true });
    const b = new GraphBuilder('dw');
    const x = b.input({ id: 'x', shape: [H, W, C], quant: inputRequant(config(qIn)) });
    const y = b.depthwise(x, { id: 'y', kernel: [3, 3], padding: 'same', weights: kernel, requant: requantFor(qAct, 0, 1) });
    const g = b.build([y]);
    const xs = samples(200, H * W * C, 4, 4);
    const want = tf.tidy(() => {
      const xt = qIn.call(tf.tensor4d(xs.flat(), [xs.length, H, W, C]));
      const yt = tf.depthwiseConv2d(xt as tf.Tensor4D, tf.tensor4d(weightValues('depthwise', kernel), [3, 3, C, dm]), 1, 'same');
      return Array.from(qAct.call(yt).dataSync());
    });
    const n = H * W * C * dm;
    xs.forEach((s, k) => expect(Array.from(runIRReal(g, s)[0]!)).toEqual(want.slice(k * n, (k + 1) * n)));
  });

  it('QAveragePooling2D 3x3 same: avgpool(x·9)·q(1/9) on 4-, 6- and 9-cell windows', () => {
    const qIn = getQuantizer('quantized_relu(8,3)') as Quantizer;
    const qAvg = getQuantizer('quantized_bits(8,1,1)') as Quantizer;
    const qv = tfEval(qAvg, [1 / 9])[0]!;
    expect(qv).toBe(0.109375);
    const b = new GraphBuilder('qap');
    const x = b.input({ id: 'x', shape: [5, 6, 2], quant: inputRequant(config(qIn)) });
    const y = b.avgpool(x, { id: 'y', pool: [3, 3], strides: [1, 1], padding: 'same', preScale: 9, mult: { code: 7, exp: -6 } });
    const g = b.build([y]);
    expect(check(g).diagnostics).toEqual([]);
    const xs = samples(200, 60, 5, 8).map((s) => s.map(Math.abs));
    const want = tf.tidy(() => {
      const xt = qIn.call(tf.tensor4d(xs.flat(), [xs.length, 5, 6, 2]));
      return Array.from(tf.mul(tf.avgPool(tf.mul(xt, 9) as tf.Tensor4D, 3, 1, 'same'), qv).dataSync());
    });
    xs.forEach((s, k) => expect(Array.from(runIRReal(g, s)[0]!)).toEqual(want.slice(k * 60, (k + 1) * 60)));
  });

  it('the checker is right to warn: a 1x7 window times 7 is not reproduced by tfjs float32', () => {
    const b = new GraphBuilder('ap7');
    const x = b.input({ id: 'x', shape: [1, 7, 1], quant: inputRequant({ className: 'quantized_relu', config: { bits: 8, integer: 8 } }) });
    const y = b.avgpool(x, { id: 'y', pool: [1, 7], preScale: 7, mult: { code: 1, exp: -3 } });
    const g = b.build([y]);
    const warnings = check(g).diagnostics.filter((d) => d.code === 'float32');
    expect(warnings.map((d) => d.message)).toEqual([
      'average over 7 cells: float32 gives a rounded result for the window sum 3: 7·3/7 = 3 but fround(fround(21)·fround(1/7)) = 3.000000238418579',
    ]);
    // integer inputs 3,0,0,...: tfjs wasm computes avgPool(21, 0, ...) = 21·fround(1/7), not 3
    const sample = [3, 0, 0, 0, 0, 0, 0];
    const tfv = tf.tidy(() => tf.mul(tf.avgPool(tf.mul(tf.tensor4d(sample, [1, 1, 7, 1]), 7) as tf.Tensor4D, [1, 7], [1, 7], 'valid'), 0.125).dataSync()[0]!);
    expect(runIRReal(g, sample)[0]![0]).toBe(0.375);
    expect(tfv).not.toBe(0.375);
  });
});

describe('configs with integral Python floats (PyFloat) read like plain numbers', () => {
  it('ternary(threshold=1.0) and quantized_po2(4,max_value=1.0)', () => {
    for (const spec of ['ternary(alpha=1.0,threshold=1.0)', 'quantized_relu_po2(4,2.0)']) {
      const q = getQuantizer(spec) as Quantizer;
      const codes = Array.from({ length: 512 }, (_, i) => i - 256);
      const rq = requantFor(q, 5, 10);
      const fn = compileRule(rq.rule, 5);
      const step = 2 ** -gridFrac(ruleOutType(rq.rule, fixedType(true, 10, 5)));
      expect(codes.map((c) => fn(c) * step)).toEqual(Array.from(tfEval(q, codes.map((c) => c / 32))));
    }
  });
});
