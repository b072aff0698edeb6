import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import * as qk from '../../src/index.js';
import { pyNumber } from '../../src/quantizers/base.js';
import { ConfigError, QuantizerSpecError } from '../../src/errors.js';
import {
  ActivationFunction,
  Quantizer,
  getQuantizer,
  lookupQuantizer,
  registeredQuantizerNames,
  registerQuantizer,
  resolveArgs,
  serializeQuantizer,
  activationFunctionNames,
  PyFloat,
  QuantizedBits,
  QuantizedPo2,
  QuantizedRelu,
  type ArgValue,
  type ParamSpec,
  type QuantizerArgs,
} from '../../src/quantizers/index.js';

beforeAll(async () => {
  await ready();
});

/** A minimal quantizer registered only in this test file, so the lookup paths are tested on their own. */
class ProbeQuantizer extends Quantizer {
  static readonly qkerasName = 'probe_quantizer';
  static readonly params: readonly ParamSpec[] = [
    { name: 'bits', default: 8 },
    { name: 'integer', default: 0 },
    { name: 'alpha', default: null },
    { name: 'scale_axis', default: null },
  ];
  readonly className = ProbeQuantizer.qkerasName;
  bits: number;
  readonly values: Record<string, ArgValue>;
  readonly positionalCount: number;
  private readonly floats: ReadonlySet<string>;

  constructor(args: QuantizerArgs = {}, positional: readonly ArgValue[] = []) {
    super();
    const { values, floats } = resolveArgs(ProbeQuantizer.qkerasName, ProbeQuantizer.params, positional, args);
    this.values = values;
    this.bits = values.bits as number;
    this.positionalCount = positional.length;
    this.floats = floats;
  }

  call(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(x, 2 ** this.bits));
  }
  toString(): string {
    return `probe_quantizer(${pyNumber(this.bits, this.floats.has('bits'))})`;
  }
  getConfig(): Record<string, unknown> {
    return { ...this.values };
  }
  max(): number {
    return 1;
  }
  min(): number {
    return -1;
  }
}
registerQuantizer(ProbeQuantizer);

function catchError<E extends Error>(cls: new (...a: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`expected a ${cls.name}`);
}

// ---- the `registry` vectors (QKeras tests/quantizer_registry_test.py) -----------------------------

interface Vector {
  kind: string;
  id: number;
  test_name: string;
  input: unknown;
  expected: unknown;
}
const registryVectors = (
  JSON.parse(readFileSync(new URL('../fixtures/qkeras_vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors.filter((v) => v.kind === 'registry');

const QKERAS_REGISTRY = [
  'quantized_linear',
  'quantized_bits',
  'bernoulli',
  'ternary',
  'stochastic_ternary',
  'binary',
  'stochastic_binary',
  'quantized_relu',
  'quantized_ulaw',
  'quantized_tanh',
  'quantized_sigmoid',
  'quantized_po2',
  'quantized_relu_po2',
  'quantized_hswish',
];

describe('registry vectors', () => {
  it('the fixture has registry vectors', () => {
    expect(registryVectors.length).toBeGreaterThan(0);
  });

  it.each(registryVectors.map((v) => [`#${v.id} ${v.test_name}`, v] as const))('%s', (_name, v) => {
    expect(v.expected).toEqual({ is_class: true });
    const cls = lookupQuantizer(v.input as string);
    expect(cls).toBeTypeOf('function');
    expect(cls!.qkerasName).toBe(v.input);
    expect(cls!.prototype).toBeInstanceOf(Quantizer);
  });

  it('every QKeras registry name is registered, and nothing else but the test probe', () => {
    expect(registeredQuantizerNames()).toEqual([...QKERAS_REGISTRY, 'probe_quantizer'].sort());
  });

  it.each(QKERAS_REGISTRY)('getQuantizer(%j) builds the class with its defaults', (name) => {
    const cls = lookupQuantizer(name)!;
    const q = getQuantizer(name)!;
    expect(q).toBeInstanceOf(cls);
    expect(q.className).toBe(name);
    expect(q.toString()).toBe(new cls().toString());
  });
});

// ---- strings ---------------------------------------------------------------------------------------

describe('getQuantizer(string)', () => {
  it('passes positional and keyword arguments to the class', () => {
    const q = getQuantizer("probe_quantizer(4, 2.0, alpha='auto_po2', scale_axis=[1 2])") as ProbeQuantizer;
    expect(q).toBeInstanceOf(ProbeQuantizer);
    expect(q.values).toEqual({ bits: 4, integer: 2, alpha: 'auto_po2', scale_axis: [1, 2] });
    expect(q.positionalCount).toBe(2);
  });

  it('a bare class name and empty parentheses both build the defaults', () => {
    for (const spec of ['probe_quantizer', ' probe_quantizer ', 'probe_quantizer()']) {
      const q = getQuantizer(spec) as ProbeQuantizer;
      expect(q.values).toEqual({ bits: 8, integer: 0, alpha: null, scale_axis: null });
    }
    expect(getQuantizer('binary')!.toString()).toBe('binary()');
  });

  it('keeps Python float-ness for str()', () => {
    expect(getQuantizer('probe_quantizer(4.0)')!.toString()).toBe('probe_quantizer(4.0)');
    expect(getQuantizer('probe_quantizer(4)')!.toString()).toBe('probe_quantizer(4)');
  });

  it('the DESIGN.md example, unquoted alpha included', () => {
    const q = getQuantizer('quantized_bits(4,0,1,alpha=auto_po2)')!;
    expect(q).toBeInstanceOf(QuantizedBits);
    expect(q.toString()).toBe("quantized_bits(4,0,1,alpha='auto_po2')");
    expect(q.bits).toBe(4);
    expect(getQuantizer("quantized_bits(4,0,1,alpha='auto_po2')")!.toString()).toBe(q.toString());
    // Worked by hand from QKeras's auto_po2 path: per channel s = 2*max|x|/14 rounded to a power of two
    // (0.125 for both), five least-squares rounds keep it, codes floor(|x|/s + 0.5) saturated at 7:
    // channel 0 codes [1, 2, -6], channel 1 [-4, 2, 7 (8 saturated)]; q.scale = s * 2**(bits-1) = 1.
    const x = tf.tensor2d([[0.1, -0.5], [0.3, 0.25], [-0.7, 1.0]]);
    expect(q.call(x).arraySync()).toEqual([[0.125, -0.5], [0.25, 0.25], [-0.75, 0.875]]);
    expect(q.scale).toBeInstanceOf(tf.Tensor);
    expect((q.scale as tf.Tensor).arraySync()).toEqual([[1, 1]]);
  });

  it('an unknown name lists the known quantizer and function names', () => {
    const err = catchError(QuantizerSpecError, () => getQuantizer('  quantised_bits(4)'));
    expect(err.spec).toBe('  quantised_bits(4)');
    expect(err.position).toBe(2);
    expect(err.detail).toContain('unknown name "quantised_bits"');
    expect(err.detail).toContain(`known quantizers: ${registeredQuantizerNames().join(', ')}`);
    expect(err.detail).toContain(`known activation functions: ${activationFunctionNames().join(', ')}`);
  });

  it('syntax errors come from the parser with their position', () => {
    const err = catchError(QuantizerSpecError, () => getQuantizer('quantized_bits(4,,1)'));
    expect(err.position).toBe(17);
  });

  it("a quantizer's own argument errors are ConfigErrors naming the class and argument", () => {
    const err = catchError(ConfigError, () => getQuantizer('probe_quantizer(bitz=4)'));
    expect(err.where).toBe('probe_quantizer');
    expect(err.field).toBe('bitz');
    const surplus = catchError(ConfigError, () => getQuantizer('probe_quantizer(1,2,3,4,5)'));
    expect(surplus.field).toBe('positional arguments');
    const twice = catchError(ConfigError, () => getQuantizer('probe_quantizer(4, bits=4)'));
    expect(twice.field).toBe('bits');
  });

  it('activation functions resolve after the quantizer classes', () => {
    for (const name of activationFunctionNames()) {
      const q = getQuantizer(name);
      expect(q).toBeInstanceOf(ActivationFunction);
      expect(q!.toString()).toBe(name);
      expect(getQuantizer(`${name}()`)!.toString()).toBe(name);
    }
  });

  it('activation functions take no arguments', () => {
    const err = catchError(QuantizerSpecError, () => getQuantizer('relu(alpha=0.1)'));
    expect(err.position).toBe(4);
    expect(err.detail).toBe('the activation function relu takes no arguments; write it as "relu"');
  });
});

// ---- dicts -------------------------------------------------------------------------------------------

describe('getQuantizer({class_name, config})', () => {
  it('builds from snake_case (QKeras) or camelCase config keys', () => {
    const a = getQuantizer({ class_name: 'probe_quantizer', config: { bits: 3, scale_axis: [0, 1] } }) as ProbeQuantizer;
    expect(a.values).toEqual({ bits: 3, integer: 0, alpha: null, scale_axis: [0, 1] });
    const b = getQuantizer({ class_name: 'probe_quantizer', config: { scaleAxis: 2 } }) as ProbeQuantizer;
    expect(b.values.scale_axis).toBe(2);
    const c = getQuantizer({ class_name: 'probe_quantizer' }) as ProbeQuantizer;
    expect(c.values.bits).toBe(8);
  });

  it('reads the quantizer dicts of QKeras model JSON (hls4ml example models)', () => {
    // Copied from shared/models/qkeras_3layer.json and qkeras_mnist_dense.json (Keras 2.4 / QKeras).
    const bits = getQuantizer({
      class_name: 'quantized_bits',
      config: { bits: 6, integer: 0, symmetric: 0, alpha: 1, keep_negative: true, use_stochastic_rounding: false, qnoise_factor: 1.0 },
      __passive_serialization__: true,
    })!;
    expect(bits).toBeInstanceOf(QuantizedBits);
    expect(bits.toString()).toBe('quantized_bits(6,0,0,alpha=1)');
    const relu = getQuantizer({
      class_name: 'quantized_relu',
      config: { bits: 6, integer: 0, use_sigmoid: 0, negative_slope: 0.0, use_stochastic_rounding: false, relu_upper_bound: null, qnoise_factor: 1.0 },
      __passive_serialization__: true,
    })!;
    expect(relu).toBeInstanceOf(QuantizedRelu);
    expect(relu.toString()).toBe('quantized_relu(6,0)');
    const po2 = getQuantizer({
      class_name: 'quantized_po2',
      config: { bits: 4, max_value: 1, use_stochastic_rounding: false, quadratic_approximation: false },
    })!;
    expect(po2).toBeInstanceOf(QuantizedPo2);
    expect(po2.toString()).toBe('quantized_po2(4,1)');
    const noAlpha = getQuantizer({
      class_name: 'quantized_bits',
      config: { bits: 2, integer: 0, symmetric: 1, alpha: null, keep_negative: true, use_stochastic_rounding: false },
    })!;
    expect(noAlpha.toString()).toBe('quantized_bits(2,0,1)');
    // The same quantizer called on the same data agrees with the string form.
    const x = tf.tensor1d([-1.2, -0.5, -0.03, 0, 0.02, 0.49, 0.51, 0.99, 1.5]);
    expect(bits.call(x).arraySync()).toEqual(getQuantizer('quantized_bits(6,0,0,alpha=1)')!.call(x).arraySync());
  });

  it('activation functions as Keras 2 names or Keras 3 function dicts', () => {
    expect(getQuantizer({ class_name: 'relu', config: {} })!.toString()).toBe('relu');
    expect(getQuantizer({ class_name: 'function', config: 'softmax', module: 'keras.activations', registered_name: 'softmax' })!.toString()).toBe('softmax');
  });

  it.each<[string, unknown, RegExp]>([
    ['unknown class', { class_name: 'quantized_bitz', config: {} }, /^unknown class_name "quantized_bitz"; known quantizers: .*probe_quantizer/],
    ['non-string class_name', { class_name: 3, config: {} }, /^class_name must be a string, received 3$/],
    ['config not an object', { class_name: 'probe_quantizer', config: [4] }, /^config must be an object, received \[4\]$/],
    ['config value an object', { class_name: 'probe_quantizer', config: { bits: { value: 4 } } }, /^config\.bits=\{"value":4\} is not a number, boolean, string, null or list of those$/],
    ['nested bad list value', { class_name: 'probe_quantizer', config: { scale_axis: [1, {}] } }, /^config\.scale_axis\[1\]=\{\} is not/],
    ['function with config', { class_name: 'relu', config: { alpha: 0.1 } }, /^the activation function relu takes no config/],
    ['unknown Keras 3 function', { class_name: 'function', config: 'relu7' }, /^unknown activation function "relu7"; known quantizers/],
  ])('%s is a QuantizerSpecError', (_name, dict, detail) => {
    const err = catchError(QuantizerSpecError, () => getQuantizer(dict as never));
    expect(err.position).toBeNull();
    expect(err.detail).toMatch(detail);
    expect(err.spec).toContain('class_name');
  });

  it('unknown config keys are the ConfigError of the class', () => {
    const err = catchError(ConfigError, () => getQuantizer({ class_name: 'probe_quantizer', config: { width: 4 } }));
    expect([err.where, err.field]).toEqual(['probe_quantizer', 'width']);
  });
});

// ---- other specs ------------------------------------------------------------------------------------

describe('getQuantizer(other)', () => {
  it('null and undefined give null; a quantizer is returned as is', () => {
    expect(getQuantizer(null)).toBeNull();
    expect(getQuantizer(undefined)).toBeNull();
    const q = new ProbeQuantizer({ bits: 2 });
    expect(getQuantizer(q)).toBe(q);
    const relu = getQuantizer('relu')!;
    expect(getQuantizer(relu)).toBe(relu);
  });

  it.each<[string, unknown]>([
    ['number', 4],
    ['boolean', true],
    ['array', ['quantized_bits', 4]],
    ['object without class_name', { bits: 4 }],
    ['function', (x: tf.Tensor) => x],
    ['class', ProbeQuantizer],
  ])('a %s is rejected with a typed error', (_name, value) => {
    const err = catchError(QuantizerSpecError, () => getQuantizer(value as never));
    expect(err.position).toBeNull();
    expect(err.detail).toBe('expected a QKeras quantizer string, a {class_name, config} object, a Quantizer, null or undefined');
  });
});

// ---- activation functions ---------------------------------------------------------------------------

describe('ActivationFunction', () => {
  const xs = [-3, -1.5, -1, -0.25, 0, 0.25, 0.5, 1, 2.5];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const expected: Record<string, (v: number) => number> = {
    hard_sigmoid: (v) => Math.min(Math.max(0.5 * v + 0.5, 0), 1),
    smooth_sigmoid: (v) => Math.min(Math.max(0.1875 * v + 0.5, 0), 1),
    // round half to even: hard_sigmoid(0) = 0.5 -> 0.
    binary_sigmoid: (v) => (0.5 * v + 0.5 > 0.5 ? 1 : 0),
    hard_tanh: (v) => Math.min(Math.max(v, -1), 1),
    smooth_tanh: (v) => 2 * Math.min(Math.max(0.1875 * v + 0.5, 0), 1) - 1,
    binary_tanh: (v) => (v > 0 ? 1 : -1),
    linear: (v) => v,
    relu: (v) => Math.max(v, 0),
    sigmoid: sig,
    tanh: Math.tanh,
    elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
    selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)),
    softplus: (v) => Math.log1p(Math.exp(v)),
    softsign: (v) => v / (1 + Math.abs(v)),
    swish: (v) => v * sig(v),
    exponential: Math.exp,
  };
  const exact = new Set(['hard_sigmoid', 'smooth_sigmoid', 'binary_sigmoid', 'hard_tanh', 'smooth_tanh', 'binary_tanh', 'linear', 'relu']);

  it.each(Object.keys(expected))('%s applies the function', (name) => {
    const fn = getQuantizer(name)!;
    const got = fn.call(tf.tensor1d(xs)).arraySync() as number[];
    const want = xs.map((v) => Math.fround(expected[name]!(v)));
    if (exact.has(name)) expect(got).toEqual(want);
    else got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    for (const g of got) {
      expect(g).toBeGreaterThanOrEqual(fn.min() - 1e-6);
      expect(g).toBeLessThanOrEqual(fn.max());
    }
  });

  it('softmax normalises the last axis; gelu is the erf form', () => {
    const s = getQuantizer('softmax')!.call(tf.tensor2d([[1, 2, 3], [0, 0, 0]])).arraySync() as number[][];
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const sum = e[0]! + e[1]! + e[2]!;
    s[0]!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / sum, 6));
    s[1]!.forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
    const g = getQuantizer('gelu')!.call(tf.tensor1d([-1, 0, 1])).arraySync() as number[];
    // 0.5 * x * (1 + erf(x / sqrt 2)) at x = 1 is 0.8413447460685429.
    expect(g[0]).toBeCloseTo(-0.15865525393145707, 5);
    expect(g[1]).toBe(0);
    expect(g[2]).toBeCloseTo(0.8413447460685429, 5);
  });

  it("QKeras's hard_sigmoid (slope 0.5) shadows Keras's (slope 0.2)", () => {
    expect(getQuantizer('hard_sigmoid')!.call(tf.tensor1d([0.5])).arraySync()).toEqual([0.75]);
  });

  it('serialises as a bare name, with bits, empty config and no leaks', () => {
    const relu = getQuantizer('relu')!;
    expect(relu.serialize()).toBe('relu');
    expect(serializeQuantizer(relu)).toBe('relu');
    expect(getQuantizer(serializeQuantizer(relu))!.toString()).toBe('relu');
    expect(relu.getConfig()).toEqual({});
    expect(relu.className).toBe('relu');
    expect(relu.bits).toBe(32);
    expect(getQuantizer('binary_tanh')!.bits).toBe(1);
    expect(getQuantizer('binary_sigmoid')!.bits).toBe(1);
    const x = tf.tensor1d(xs);
    const before = tf.memory().numTensors;
    for (const name of activationFunctionNames()) getQuantizer(name)!.call(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an unknown name is a ConfigError', () => {
    const err = catchError(ConfigError, () => new ActivationFunction('relu7'));
    expect([err.where, err.field, err.received]).toEqual(['ActivationFunction', 'name', 'relu7']);
  });
});

describe('serializeQuantizer', () => {
  it('null for none, {class_name, config} for quantizers', () => {
    expect(serializeQuantizer(null)).toBeNull();
    expect(serializeQuantizer(undefined)).toBeNull();
    const q = new ProbeQuantizer({}, [new PyFloat(3)]);
    expect(serializeQuantizer(q)).toEqual({ class_name: 'probe_quantizer', config: { bits: 3, integer: 0, alpha: null, scale_axis: null } });
    const back = getQuantizer(serializeQuantizer(q)) as ProbeQuantizer;
    expect(back.values).toEqual(q.values);
  });
});

// ---- factories and the package root --------------------------------------------------------------------

describe('QKeras-named factories', () => {
  const factories: Array<[string, (args?: QuantizerArgs) => Quantizer]> = [
    ['quantized_bits', qk.quantized_bits],
    ['quantized_linear', qk.quantized_linear],
    ['bernoulli', qk.bernoulli],
    ['ternary', qk.ternary],
    ['stochastic_ternary', qk.stochastic_ternary],
    ['binary', qk.binary],
    ['stochastic_binary', qk.stochastic_binary],
    ['quantized_relu', qk.quantized_relu],
    ['quantized_ulaw', qk.quantized_ulaw],
    ['quantized_tanh', qk.quantized_tanh],
    ['quantized_sigmoid', qk.quantized_sigmoid],
    ['quantized_po2', qk.quantized_po2],
    ['quantized_relu_po2', qk.quantized_relu_po2],
    ['quantized_hswish', qk.quantized_hswish],
  ];

  it('there is one factory per QKeras registry name', () => {
    expect(factories.map(([n]) => n).sort()).toEqual([...QKERAS_REGISTRY].sort());
  });

  it.each(factories)('%s() builds the registered class with its defaults', (name, make) => {
    const q = make();
    expect(q).toBeInstanceOf(lookupQuantizer(name)!);
    expect(q.toString()).toBe(getQuantizer(name)!.toString());
  });

  it('take snake_case or camelCase keys, as the DESIGN.md example', () => {
    expect(qk.quantized_bits({ bits: 4, integer: 0, symmetric: 1 }).toString()).toBe('quantized_bits(4,0,1)');
    expect(qk.quantized_bits({ bits: 4, keep_negative: false }).toString()).toBe('quantized_bits(4,0,0,keep_negative=False)');
    expect(qk.quantized_bits({ bits: 4, keepNegative: false }).toString()).toBe('quantized_bits(4,0,0,keep_negative=False)');
    expect(qk.quantized_relu({ bits: 3, integer: 1, useSigmoid: 1 }).toString()).toBe('quantized_relu(3,1,1)');
    expect(() => qk.quantized_bits({ bitz: 4 })).toThrow(ConfigError);
  });
});

describe('package root', () => {
  it('exposes the DESIGN.md names', async () => {
    expect(await qk.ready()).toMatch(/^(wasm|tensorflow|cpu)$/);
    expect(qk.getQuantizer('quantized_bits(4,0,1)')).toBeInstanceOf(qk.QuantizedBits);
    expect(qk.QuantizerSpecError).toBe(QuantizerSpecError);
    expect(qk.ConfigError).toBe(ConfigError);
    expect(typeof qk.setInternalSigmoid).toBe('function');
    expect(typeof qk.setSeed).toBe('function');
    expect(typeof qk.serializeQuantizer).toBe('function');
    expect(typeof qk.parseQuantizerSpec).toBe('function');
  });

  it('setInternalSigmoid switches the sigmoid quantizers read at call time', () => {
    const q = qk.getQuantizer('quantized_sigmoid(4)')!;
    const x = tf.tensor1d([1]);
    try {
      qk.setInternalSigmoid('hard');
      // hard: sigmoid(1) = 1, 16/16 clipped to 1 - 1/16.
      expect(q.call(x).arraySync()).toEqual([0.9375]);
      qk.setInternalSigmoid('smooth');
      // smooth: 0.1875 + 0.5 = 0.6875 = 11/16, already on the grid.
      expect(q.call(x).arraySync()).toEqual([0.6875]);
    } finally {
      qk.setInternalSigmoid('hard');
    }
  });
});
