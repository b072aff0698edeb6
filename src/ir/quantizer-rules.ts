/**
 * QKeras quantizers as IR requantizers: what each quantizer computes in float32, restated as an exact
 * integer rule. This is the knowledge lowering needs and nothing tfjs-specific: it reads a quantizer's
 * class name and `get_config()` record.
 *
 * - `quantized_bits` (alpha None or a power-of-two number), `quantized_relu` (no sigmoid; a power-of-two
 *   negative_slope), Keras `relu`: a shift rule (round half-to-even at the quantizer's grid, clip).
 * - `quantized_bits` with `alpha='auto_po2'` and a frozen power-of-two `post_training_scale`: a shift rule
 *   with QKeras's half-away rounding `floor(|x|/s + 0.5)`, saturating at ±(2^(bits-1) - 1).
 * - `binary`, `stochastic_binary` (inference), 1-bit `quantized_bits`: a sign rule; `ternary`,
 *   `stochastic_ternary`: a ternary rule with the float32 threshold.
 * - `quantized_po2`, `quantized_relu_po2`, `quantized_tanh`, `quantized_sigmoid`, `quantized_relu` with
 *   `use_sigmoid`, `quantized_hswish`: their float math (log2, tanh, ...) is not a
 *   plain rounding, so the plan says "evaluate": `buildRuleFromFunction` turns the quantizer, evaluated on
 *   every input code (by tfjs in lowering, or by the float32 references here for hard/smooth sigmoid and
 *   tanh), into a threshold rule (monotone) or a table, exact by construction.
 *
 * Activation quantizers with a data-dependent scale (`alpha='auto'`/`'auto_po2'` without a frozen scale)
 * and float alphas that are not powers of two have no fixed-point form; they are refused with the fix.
 */
import type { IntType, Requant, ResidualForm, Rule, TensorType } from './nodes.js';
import { RELU, fixedType, po2Type, shiftRule } from './nodes.js';
import { codeRange, formatRange, gridFrac, isCodeOf, pow2, roundReal, toDyadic } from './fixed.js';
import { UnsupportedError } from '../errors.js';

/** A quantizer as Keras serializes it: class name and `get_config()` (snake_case keys). */
export interface QuantizerConfig {
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export type SigmoidMode = 'hard' | 'smooth' | 'real';

export interface RuleOptions {
  /** QKeras's module-wide internal sigmoid (`set_internal_sigmoid`), read at call time. Default hard. */
  readonly sigmoid?: SigmoidMode;
  /** The quantizer's `use_ste` (dropped by get_config; QKeras's default is true). */
  readonly useSte?: boolean;
  /** The quantizer's text for messages and the IR (`str()` in QKeras); defaults to the class name. */
  readonly text?: string;
}

/** An exact rule, or a description of the function to evaluate on every input code. */
export type RequantPlan =
  | { readonly kind: 'exact'; readonly requant: Requant | null }
  | {
      readonly kind: 'evaluate';
      readonly quantizer: string;
      /** The type of the quantizer's outputs (their grid and range). */
      readonly out: IntType;
      readonly residual: ResidualForm;
      /** Non-decreasing in x: the rule can be a threshold list. */
      readonly monotone: boolean;
      /** A float32 reference implementation when one exists in pure JS (hard/smooth sigmoid, tanh). */
      readonly reference: ((x: number) => number) | null;
    };

function where(q: QuantizerConfig, text: string): string {
  return `${text === q.className ? q.className : text}`;
}

function cfgNum(q: QuantizerConfig, key: string, dflt: number): number {
  const v = q.config[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'value' in v && typeof (v as { value: unknown }).value === 'number') {
    return (v as { value: number }).value;
  }
  throw new UnsupportedError(`${q.className}: ${key}=${JSON.stringify(v)} is not a number`);
}

/** An optional numeric field (null or absent → null); accepts PyFloat-style `{value}` wrappers. */
function cfgOptNum(q: QuantizerConfig, key: string): number | null {
  const v = q.config[key];
  return v === undefined || v === null ? null : cfgNum(q, key, 0);
}

function cfgAlpha(q: QuantizerConfig): number | string | null {
  const v = q.config['alpha'];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return cfgNum(q, 'alpha', 1);
}

/** log2 of a positive power of two, or null. */
function log2Exact(x: number): number | null {
  if (!(x > 0) || !Number.isFinite(x)) return null;
  const d = toDyadic(x);
  return d.code === 1 ? d.exp : null;
}

/** The exponent of a numeric alpha; refuses non-po2 alphas with the fix. */
function alphaExp(q: QuantizerConfig, text: string, alpha: number | null): number {
  if (alpha === null) return 0;
  const e = log2Exact(alpha);
  if (e === null) {
    throw new UnsupportedError(
      `${where(q, text)}: alpha=${alpha} is not a power of two, so the scale cannot become a shift in fixed point; ` +
        "retrain with alpha='auto_po2' (per-channel power-of-two scales) or alpha=1",
    );
  }
  return e;
}

/** Output widths the golden integer model computes exactly (codes below 2^53); C and Verilog are checked against it. */
const MAX_RULE_BITS = 53;
/** Integer bits beyond a double's exponent range put the quantizer's grid or range outside every number. */
const MAX_RULE_INTEGER = 1023;

/** The quantizer's `bits`, refused with a clear message beyond what the fixed-point back-ends carry. */
function cfgBits(q: QuantizerConfig, text: string): number {
  const bits = cfgNum(q, 'bits', 8);
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_RULE_BITS) {
    throw new UnsupportedError(
      `${where(q, text)}: bits=${bits} has no fixed-point form here; expected an integer from 1 to ${MAX_RULE_BITS} ` +
        '(the golden integer model computes exactly below 2^53, and the C and Verilog back-ends are verified against it)',
    );
  }
  return bits;
}

/** The quantizer's `integer` bits, refused when its grid or range would leave the numbers a double holds. */
function cfgInteger(q: QuantizerConfig, text: string): number {
  const integer = cfgNum(q, 'integer', 0);
  if (!Number.isInteger(integer) || Math.abs(integer) > MAX_RULE_INTEGER) {
    throw new UnsupportedError(`${where(q, text)}: integer=${integer} has no fixed-point form here; expected an integer from -${MAX_RULE_INTEGER} to ${MAX_RULE_INTEGER}`);
  }
  return integer;
}

function checkQnoise(q: QuantizerConfig, text: string): void {
  const qn = cfgNum(q, 'qnoise_factor', 1);
  if (qn !== 1) {
    throw new UnsupportedError(`${where(q, text)}: qnoise_factor=${qn} mixes float and quantized values; set it to 1 for export`);
  }
}

function exact(rule: Rule, residual: ResidualForm, quantizer: string): RequantPlan {
  return { kind: 'exact', requant: { rule, residual, quantizer } };
}

function hardSigmoid32(x: number, mode: SigmoidMode): number {
  const slope = mode === 'smooth' ? 0.1875 : 0.5;
  const v = Math.fround(Math.fround(slope * x) + 0.5);
  return Math.min(1, Math.max(0, v));
}

/** Plans the requantizer of an activation quantizer (or a Keras activation name: 'relu', 'linear'). */
export function planRequant(q: QuantizerConfig | string | null, options: RuleOptions = {}): RequantPlan {
  if (q === null) return { kind: 'exact', requant: null };
  if (typeof q === 'string') {
    if (q === 'linear') return { kind: 'exact', requant: null };
    if (q === 'relu') return { kind: 'exact', requant: RELU };
    throw new UnsupportedError(
      `the float activation ${JSON.stringify(q)} has no exact fixed-point form; quantize it (e.g. quantized_relu, ` +
        'quantized_tanh) or, for a final softmax, let lowering turn it into argmax + logits',
    );
  }
  const text = options.text ?? q.className;
  const useSte = options.useSte ?? true;
  const sigmoid = options.sigmoid ?? 'hard';
  const residualX: ResidualForm = useSte ? 'x' : 'none';
  switch (q.className) {
    case 'quantized_bits': {
      checkQnoise(q, text);
      const bits = cfgBits(q, text);
      const integer = cfgInteger(q, text);
      const symmetric = cfgNum(q, 'symmetric', 0) !== 0;
      const keepNegative = cfgNum(q, 'keep_negative', 1) !== 0;
      const alpha = cfgAlpha(q);
      if (typeof alpha === 'string') {
        const pts = q.config['post_training_scale'];
        const scales = Array.isArray(pts) ? (pts.flat(8) as unknown[]) : pts === undefined || pts === null ? [] : [cfgOptNum(q, 'post_training_scale')];
        if (alpha !== 'auto_po2' || scales.length !== 1 || typeof scales[0] !== 'number' || log2Exact(scales[0]) === null) {
          throw new UnsupportedError(
            `${where(q, text)}: an activation quantizer with alpha='${alpha}' computes its scale from each batch, ` +
              "so no fixed-point form matches it; use alpha=None/1 for activations, or freeze one power-of-two scale " +
              "with alpha='auto_po2' and post_training_scale",
          );
        }
        // Frozen auto_po2: codes floor(|x| / step + 0.5)·sign(x), step = scale·m_i/m, saturated at levels/2.
        const m = pow2(bits - (keepNegative ? 1 : 0));
        const step = scales[0] * pow2(integer) / m;
        const frac = -log2Exact(step)!;
        const half = pow2(bits - 1) - 1;
        return exact(shiftRule({ frac, rounding: 'half_away', lo: -half, hi: half }), residualX, text);
      }
      const scaleExp = alphaExp(q, text, alpha);
      const unsigned = bits - (keepNegative ? 1 : 0);
      if (unsigned > 0) {
        const m = pow2(unsigned);
        const lo = keepNegative ? -m + (symmetric ? 1 : 0) : 0;
        return exact(shiftRule({ frac: unsigned - integer, lo, hi: m - 1, scaleExp }), residualX, text);
      }
      return exact({ kind: 'sign', zeroOne: !keepNegative, scaleExp }, residualX, text);
    }
    case 'quantized_relu': {
      checkQnoise(q, text);
      const bits = cfgBits(q, text);
      const integer = cfgInteger(q, text);
      const slope = cfgNum(q, 'negative_slope', 0);
      const useSigmoid = cfgNum(q, 'use_sigmoid', 0) !== 0;
      const nsb = bits - (slope !== 0 ? 1 : 0);
      const frac = nsb - integer;
      if (useSigmoid) {
        // Outputs m_i·(2·round(p)/m - 1) (and the leaky part) lie on the grid m_i/m; tabulate them.
        const { signed, width } = slope !== 0 ? { signed: true, width: nsb + 1 } : { signed: false, width: nsb };
        return { kind: 'evaluate', quantizer: text, out: fixedType(signed, width, frac), residual: useSte ? 'relu' : 'none', monotone: true, reference: null };
      }
      const quantizedClip = cfgNum(q, 'is_quantized_clip', 1) !== 0;
      const upper = cfgOptNum(q, 'relu_upper_bound');
      let hi = pow2(nsb) - 1;
      if (!quantizedClip && upper !== null) {
        const ub = upper * pow2(frac);
        if (!Number.isInteger(ub)) {
          throw new UnsupportedError(`${where(q, text)}: relu_upper_bound=${upper} is not on the quantizer's grid 2^-${frac}`);
        }
        hi = Math.min(hi, ub);
      }
      if (slope === 0) return exact(shiftRule({ frac, lo: 0, hi }), useSte ? 'relu' : 'none', text);
      const k = log2Exact(slope);
      const lo = -slope * pow2(nsb);
      if (k === null || !Number.isInteger(lo)) {
        throw new UnsupportedError(
          `${where(q, text)}: negative_slope=${slope} must be a power of two with slope·2^(bits-1) >= 1 for the ` +
            'negative codes to stay on the quantizer grid',
        );
      }
      return exact(shiftRule({ frac, lo, hi, negSlopeExp: k }), useSte ? 'relu' : 'none', text);
    }
    case 'binary':
    case 'stochastic_binary': {
      const alpha = cfgAlpha(q);
      if (typeof alpha === 'string') {
        throw new UnsupportedError(`${where(q, text)}: alpha='${alpha}' scales activations per batch; use alpha=None or a power of two`);
      }
      const zeroOne = cfgNum(q, 'use_01', 0) !== 0;
      // alpha None: QKeras builds on tanh(x); t + (±1 - t) rounds back to ±1 in float32, so no residual.
      return exact({ kind: 'sign', zeroOne, scaleExp: alphaExp(q, text, alpha) }, alpha === null ? 'none' : 'x', text);
    }
    case 'ternary':
    case 'stochastic_ternary': {
      const alpha = cfgAlpha(q);
      if (typeof alpha === 'string') {
        throw new UnsupportedError(`${where(q, text)}: alpha='${alpha}' is for weights; activations need alpha=None or a power of two`);
      }
      const threshold = Math.fround(cfgOptNum(q, 'threshold') ?? 0.33);
      return exact({ kind: 'ternary', threshold, scaleExp: alphaExp(q, text, alpha) }, alpha === null ? 'none' : 'x', text);
    }
    case 'quantized_po2':
    case 'quantized_relu_po2': {
      checkQnoise(q, text);
      const bits = cfgBits(q, text);
      const maxValue = cfgOptNum(q, 'max_value');
      const needSign = maxValue !== null && maxValue <= 1 ? 0 : 1;
      const signed = q.className === 'quantized_po2';
      const effect = signed ? bits - 1 - needSign : bits - needSign;
      let expMax = pow2(effect) - 1;
      const expMin = -pow2(effect);
      if (maxValue !== null && maxValue > 0) expMax = Math.min(expMax, Math.ceil(Math.log2(maxValue)));
      const slope = cfgNum(q, 'negative_slope', 0);
      const out = po2Type(signed || slope !== 0, expMin, Math.max(expMin, expMax), false);
      return { kind: 'evaluate', quantizer: text, out, residual: useSte ? 'x' : 'none', monotone: true, reference: null };
    }
    case 'quantized_tanh': {
      const bits = cfgBits(q, text);
      const symmetric = cfgNum(q, 'symmetric', 0) !== 0;
      const realTanh = cfgNum(q, 'use_real_tanh', 0) !== 0;
      const m = pow2(bits - 1);
      const lo = -m + (symmetric ? 1 : 0);
      const reference =
        realTanh || sigmoid === 'real'
          ? null
          : (x: number): number => {
              const p = Math.fround(Math.fround(2 * hardSigmoid32(x, sigmoid)) - 1);
              return Math.min(m - 1, Math.max(lo, roundReal(Math.fround(p * m), 'half_even'))) / m;
            };
      return { kind: 'evaluate', quantizer: text, out: fixedType(true, bits, bits - 1), residual: 'none', monotone: true, reference };
    }
    case 'quantized_sigmoid': {
      const bits = cfgBits(q, text);
      const symmetric = cfgNum(q, 'symmetric', 0) !== 0;
      const realSigmoid = cfgNum(q, 'use_real_sigmoid', 0) !== 0;
      const m = pow2(bits);
      const lo = symmetric ? 1 : 0;
      const reference =
        realSigmoid || sigmoid === 'real'
          ? null
          : (x: number): number => Math.min(m - 1, Math.max(lo, roundReal(Math.fround(hardSigmoid32(x, sigmoid) * m), 'half_even'))) / m;
      return { kind: 'evaluate', quantizer: text, out: fixedType(false, bits, bits), residual: 'none', monotone: true, reference };
    }
    case 'quantized_hswish': {
      const bits = cfgBits(q, text);
      const integer = cfgInteger(q, text);
      return { kind: 'evaluate', quantizer: text, out: fixedType(true, bits, bits - 1 - integer), residual: residualX, monotone: false, reference: null };
    }
    default:
      throw new UnsupportedError(
        `${where(q, text)}: no fixed-point form is known for this quantizer as an activation (quantized_ulaw's ` +
          'log outputs lie on no fixed grid; bernoulli and quantized_linear are not supported for export)',
      );
  }
}

/**
 * The input quantizer of a model: must be an exact rule that applies to float32 reals (quantized_bits,
 * quantized_relu, binary, ternary). Functions such as po2 or tanh on raw floats have no integer grid to
 * tabulate; put a quantized_bits before them.
 */
export function inputRequant(q: QuantizerConfig, options: RuleOptions = {}): Requant {
  const plan = planRequant(q, options);
  const text = options.text ?? q.className;
  if (plan.kind !== 'exact' || plan.requant === null) {
    throw new UnsupportedError(
      `${text}: as the model's input quantizer it would need a table over float32 values; use quantized_bits ` +
        '(or quantized_relu, binary, ternary) as the input quantizer',
    );
  }
  const r = plan.requant.rule;
  if (r.kind === 'shift' && (r.frac === null || r.lo === null || r.hi === null)) {
    throw new UnsupportedError(`${text}: an input quantizer must round to a grid and clip`);
  }
  return plan.requant;
}

/** Evaluates `f` on real inputs in batches (lowering passes a tfjs-backed function). */
export type BatchFunction = (xs: Float64Array) => ArrayLike<number>;

const SCAN_LIMIT = 2 ** 20;

/**
 * Builds an exact rule from a quantizer function evaluated on every code of `inType`: a threshold rule
 * when the plan is monotone (found by scanning small ranges and by bisection on large ones), a table
 * otherwise. Every output must be a code of `plan.out` (exact float32 values on its grid).
 */
export function buildRuleFromFunction(
  plan: Extract<RequantPlan, { kind: 'evaluate' }>,
  inType: TensorType,
  f: BatchFunction,
): Requant {
  if (inType.kind === 'float') {
    throw new UnsupportedError(`${plan.quantizer}: cannot tabulate over float inputs; quantize the input first`);
  }
  const fi = gridFrac(inType);
  const fo = gridFrac(plan.out);
  const r = codeRange(inType);
  const lo = Number(r.lo);
  const hi = Number(r.hi);
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) {
    // Beyond 2^53 the codes are not exact doubles: a bisection over them would never close.
    throw new UnsupportedError(
      `${plan.quantizer}: its input codes reach ${formatRange(r)}, beyond 2^53; narrow the quantizer before this activation`,
    );
  }
  const step = pow2(-fi);
  const toCode = (y: number, x: number): number => {
    const c = y * pow2(fo);
    if (!isCodeOf(c, plan.out)) {
      throw new UnsupportedError(
        `${plan.quantizer}: at input ${x} the quantizer gives ${y}, which is not a value of its output grid 2^-${fo}`,
      );
    }
    return c + 0;
  };
  const evalCodes = (codes: readonly number[]): number[] => {
    const xs = Float64Array.from(codes, (c) => c * step);
    const ys = f(xs);
    return codes.map((_, i) => toCode(ys[i]!, xs[i]!));
  };
  const count = hi - lo + 1;
  const rule = ((): Rule => {
    if (!plan.monotone) {
      if (count > SCAN_LIMIT) {
        throw new UnsupportedError(`${plan.quantizer}: a table over ${count} input codes is too large; narrow the input type`);
      }
      const codes = Array.from({ length: count }, (_, i) => lo + i);
      return { kind: 'table', inFrac: fi, inMin: lo, values: evalCodes(codes), out: plan.out };
    }
    const breaks: { at: number; value: number }[] = [];
    let first: number;
    if (count <= SCAN_LIMIT) {
      const codes = Array.from({ length: count }, (_, i) => lo + i);
      const values = evalCodes(codes);
      first = values[0]!;
      for (let i = 1; i < values.length; i += 1) {
        if (values[i]! < values[i - 1]!) throw new UnsupportedError(`${plan.quantizer}: not monotone at input code ${codes[i]}`);
        if (values[i] !== values[i - 1]) breaks.push({ at: codes[i]!, value: values[i]! });
      }
    } else {
      // Bisection for the change points, one level at a time so that each level is one batched call
      // of the quantizer (a call per probe made a 12-bit tanh take seconds and a 16-bit one minutes).
      const cache = new Map<number, number>();
      const evaluate = (codes: readonly number[]): void => {
        const todo = [...new Set(codes)].filter((c) => !cache.has(c));
        if (todo.length > 0) evalCodes(todo).forEach((v, i) => cache.set(todo[i]!, v));
      };
      evaluate([lo, hi]);
      first = cache.get(lo)!;
      let intervals: Array<[number, number]> = [[lo, hi]];
      const middle = ([a, b]: [number, number]): number => Math.floor((a + b) / 2);
      while (intervals.length > 0) {
        const split: Array<[number, number]> = [];
        for (const [a, b] of intervals) {
          const va = cache.get(a)!;
          const vb = cache.get(b)!;
          if (va === vb) continue;
          if (vb < va) throw new UnsupportedError(`${plan.quantizer}: not monotone between input codes ${a} and ${b}`);
          if (b === a + 1) {
            breaks.push({ at: b, value: vb });
            if (breaks.length > SCAN_LIMIT) {
              throw new UnsupportedError(`${plan.quantizer}: more than ${SCAN_LIMIT} output steps; use fewer bits for this activation`);
            }
            continue;
          }
          split.push([a, b]);
        }
        evaluate(split.map(middle));
        intervals = split.flatMap((ab): Array<[number, number]> => [[ab[0], middle(ab)], [middle(ab), ab[1]]]);
      }
      breaks.sort((x, y) => x.at - y.at);
    }
    return {
      kind: 'thresholds',
      thresholds: breaks.map((b) => b.at * step),
      values: [first, ...breaks.map((b) => b.value)],
      out: plan.out,
    };
  })();
  return { rule, residual: plan.residual, quantizer: plan.quantizer };
}

/** `buildRuleFromFunction` with the plan's own float32 reference (hard/smooth sigmoid and tanh). */
export function buildRuleFromReference(plan: Extract<RequantPlan, { kind: 'evaluate' }>, inType: TensorType): Requant {
  const ref = plan.reference;
  if (ref === null) {
    throw new UnsupportedError(`${plan.quantizer}: no pure float32 reference; evaluate the quantizer with tfjs instead`);
  }
  return buildRuleFromFunction(plan, inType, (xs) => Array.from(xs, (x) => ref(Math.fround(x))));
}
