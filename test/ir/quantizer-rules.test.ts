import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/errors.js';
import {
  buildRuleFromFunction,
  buildRuleFromReference,
  compileRule,
  fixedType,
  inputRequant,
  planRequant,
  ruleOutType,
  type RequantPlan,
} from '../../src/ir/index.js';
import { rng } from './reference.js';

type Evaluate = Extract<RequantPlan, { kind: 'evaluate' }>;

function evaluatePlan(className: string, config: Record<string, unknown>, options = {}): Evaluate {
  const p = planRequant({ className, config }, options);
  if (p.kind !== 'evaluate') throw new Error(`expected an evaluate plan for ${className}`);
  return p;
}

describe('planRequant: exact rules', () => {
  it('maps quantized_bits and quantized_relu to shift rules on their grids', () => {
    expect(planRequant({ className: 'quantized_bits', config: { bits: 8, integer: 3, symmetric: 1 } })).toEqual({
      kind: 'exact',
      requant: {
        rule: { kind: 'shift', frac: 4, rounding: 'half_even', lo: -127, hi: 127, negSlopeExp: null, scaleExp: 0 },
        residual: 'x',
        quantizer: 'quantized_bits',
      },
    });
    // integer > bits: a grid coarser than 1
    const coarse = planRequant({ className: 'quantized_bits', config: { bits: 4, integer: 6 } });
    expect(coarse.kind === 'exact' && coarse.requant?.rule).toMatchObject({ frac: -3, lo: -8, hi: 7 });
    const relu = planRequant({ className: 'quantized_relu', config: { bits: 6, integer: 0 } }, { text: 'quantized_relu(6,0)' });
    expect(relu).toEqual({
      kind: 'exact',
      requant: {
        rule: { kind: 'shift', frac: 6, rounding: 'half_even', lo: 0, hi: 63, negSlopeExp: null, scaleExp: 0 },
        residual: 'relu',
        quantizer: 'quantized_relu(6,0)',
      },
    });
    expect(planRequant('relu')).toMatchObject({ kind: 'exact', requant: { rule: { kind: 'shift', frac: null, lo: 0, hi: null } } });
    expect(planRequant('linear')).toEqual({ kind: 'exact', requant: null });
    expect(planRequant(null)).toEqual({ kind: 'exact', requant: null });
  });

  it('without use_ste the output is the quantized value itself (no residual)', () => {
    const p = planRequant({ className: 'quantized_bits', config: { bits: 4 } }, { useSte: false });
    expect(p.kind === 'exact' && p.requant?.residual).toBe('none');
  });

  it('gives po2, tanh and sigmoid outputs their grids', () => {
    expect(evaluatePlan('quantized_po2', { bits: 4 }).out).toEqual({ kind: 'po2', signed: true, expMin: -4, expMax: 3, zero: false });
    expect(evaluatePlan('quantized_po2', { bits: 4, max_value: 1 }).out).toEqual({ kind: 'po2', signed: true, expMin: -8, expMax: 0, zero: false });
    expect(evaluatePlan('quantized_relu_po2', { bits: 4 }).out).toEqual({ kind: 'po2', signed: false, expMin: -8, expMax: 7, zero: false });
    expect(evaluatePlan('quantized_tanh', { bits: 4 }).out).toEqual(fixedType(true, 4, 3));
    expect(evaluatePlan('quantized_sigmoid', { bits: 6 }).out).toEqual(fixedType(false, 6, 6));
    expect(evaluatePlan('quantized_tanh', { bits: 4, use_real_tanh: true }).reference).toBeNull();
    expect(evaluatePlan('quantized_tanh', { bits: 4 }, { sigmoid: 'real' }).reference).toBeNull();
    expect(evaluatePlan('quantized_hswish', { bits: 8, integer: 2 }).monotone).toBe(false);
  });
});

describe('planRequant: refusals say why and what to do', () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ['float alpha', 'quantized_bits', { bits: 4, alpha: 0.3 }, /alpha=0\.3 is not a power of two.*alpha='auto_po2'/],
    ['per-batch activation scale', 'quantized_bits', { bits: 4, alpha: 'auto_po2' }, /computes its scale from each batch.*post_training_scale/],
    ['qnoise', 'quantized_bits', { bits: 4, qnoise_factor: 0.5 }, /qnoise_factor=0\.5 mixes float and quantized values; set it to 1 for export/],
    ['slope not po2', 'quantized_relu', { bits: 4, negative_slope: 0.1 }, /negative_slope=0\.1 must be a power of two/],
    ['ulaw', 'quantized_ulaw', { bits: 8 }, /quantized_ulaw's log outputs lie on no fixed grid/],
    ['binary auto', 'binary', { alpha: 'auto_po2' }, /alpha='auto_po2' scales activations per batch/],
  ];
  for (const [name, className, config, re] of cases) {
    it(name, () => {
      expect(() => planRequant({ className, config })).toThrow(UnsupportedError);
      expect(() => planRequant({ className, config })).toThrow(re);
    });
  }

  it('float Keras activations other than relu/linear', () => {
    expect(() => planRequant('softmax')).toThrow(/"softmax" has no exact fixed-point form.*argmax \+ logits/);
  });

  it('input quantizers must be plain roundings', () => {
    expect(() => inputRequant({ className: 'quantized_po2', config: { bits: 4 } }, { text: 'quantized_po2(4)' })).toThrow(
      /quantized_po2\(4\): as the model's input quantizer it would need a table over float32 values; use quantized_bits/,
    );
  });
});

describe('rules built from a quantizer function', () => {
  it('scanning and bisection find the same thresholds (hard tanh), and the rule equals the function', () => {
    const plan = evaluatePlan('quantized_tanh', { bits: 5 });
    const small = buildRuleFromReference(plan, fixedType(true, 16, 10)); // 65536 codes: scanned
    const large = buildRuleFromReference(plan, fixedType(true, 22, 10)); // 4M codes: bisection
    expect(small.rule.kind).toBe('thresholds');
    expect(large.rule).toEqual(small.rule);
    const fn = compileRule(large.rule, 10);
    const step = 2 ** -3 / 2; // out grid 2^-4
    const r = rng(8);
    for (let i = 0; i < 5000; i += 1) {
      const c = Math.floor((r() - 0.5) * 2 ** 22);
      expect(fn(c) * step).toBe(plan.reference!(Math.fround(c / 1024)));
    }
    expect(ruleOutType(large.rule, fixedType(true, 22, 10))).toEqual(fixedType(true, 5, 4));
  });

  it('a non-monotone quantizer (hswish) becomes a table', () => {
    const plan = evaluatePlan('quantized_hswish', { bits: 6, integer: 2 });
    // h = x·min(relu(x+3), 6)/6, then quantized_bits(6,2) on the grid 2^-3: a made-up float64 stand-in
    const f = (x: number): number => Math.min(31, Math.max(-32, Math.round(((x * Math.min(Math.max(x + 3, 0), 6)) / 6) * 8))) / 8 + 0;
    const rq = buildRuleFromFunction(plan, fixedType(true, 8, 4), (xs) => Array.from(xs, f));
    expect(rq.rule.kind).toBe('table');
    const fn = compileRule(rq.rule, 4);
    for (let c = -128; c < 128; c += 1) expect(fn(c) / 8).toBe(f(c / 16));
  });

  it('refuses outputs off the grid and non-monotone outputs for a monotone plan', () => {
    const plan = evaluatePlan('quantized_sigmoid', { bits: 4 });
    expect(() => buildRuleFromFunction(plan, fixedType(true, 6, 2), (xs) => Array.from(xs, () => 0.01))).toThrow(
      /at input -8 the quantizer gives 0\.01, which is not a value of its output grid 2\^-4/,
    );
    expect(() => buildRuleFromFunction(plan, fixedType(true, 6, 2), (xs) => Array.from(xs, (x) => (x > 0 ? 0 : 0.5)))).toThrow(/not monotone at input code 1/);
  });
});
