/**
 * For every registered quantizer: its QKeras string reads back as the same quantizer (same `str()`, same
 * outputs), except the forms QKeras itself prints lossily, listed with their reasons; and its Keras
 * dict (`serialize()`) reads back exactly.
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import {
  PyFloat,
  getQuantizer,
  lookupQuantizer,
  registeredQuantizerNames,
  setSeed,
  withLearningPhase,
  type Quantizer,
  type QuantizerArgs,
} from '../../src/quantizers/index.js';
import { lossyCases, roundTripArgs, unprintedCases } from './quantizer-samples.js';

beforeAll(async () => {
  await ready();
});

/** Sample data: rounding ties, zeros, values past every clip bound, tiny and large magnitudes. */
const DATA = [
  [-4.5, -2.5, -1.5],
  [-1, -0.7, -0.5],
  [-0.25, -0.001, 0],
  [0.001, 0.125, 0.3],
  [0.5, 0.75, 1],
  [1.5, 2.5, 7],
];

interface Outputs {
  readonly y: unknown;
  readonly scale: unknown;
}

/** Inference outputs and the scale left by the call; the seed makes any random path repeatable. */
function run(q: Quantizer): Outputs {
  return withLearningPhase(0, () => {
    setSeed(20240611);
    const x = tf.tensor2d(DATA);
    const out = q.call(x);
    const y = out.arraySync();
    tf.dispose([x, out]);
    const scale = q.scale instanceof tf.Tensor ? q.scale.arraySync() : q.scale;
    return { y, scale };
  });
}

function sameOutputs(a: Outputs, b: Outputs): boolean {
  // Object.is-based deep comparison: NaN equals NaN, -0 and 0 differ (both matter for bit exactness).
  try {
    expect(b).toStrictEqual(a);
    return true;
  } catch {
    return false;
  }
}

function build(name: string, args: QuantizerArgs): Quantizer {
  const cls = lookupQuantizer(name);
  if (cls === undefined) throw new Error(`no quantizer ${name}`);
  return new cls(args);
}

/** Hand-picked forms the generators do not produce (lists, and the values DESIGN.md and QKeras use). */
const EXTRA_SAMPLES: ReadonlyArray<[string, QuantizerArgs]> = [
  ['quantized_bits', { bits: 4, integer: 0, symmetric: 1, alpha: 'auto_po2' }],
  ['quantized_bits', { bits: 1, integer: 0, symmetric: 1, alpha: new PyFloat(1) }],
  ['quantized_bits', { bits: 6, integer: 0, alpha: [new PyFloat(1), 0.5, new PyFloat(2)] }],
  ['quantized_bits', { bits: 10, integer: 3, symmetric: 1 }],
  ['quantized_bits', { bits: 8, integer: 100, symmetric: 0 }],
  ['quantized_linear', { bits: 4, integer: 1, alpha: [0.5, new PyFloat(1), 0.25] }],
  ['binary', { alpha: 'auto_po2', scale_axis: 1, elements_per_scale: 3 }],
  ['binary', { use_01: true, alpha: 'auto', scale_axis: [0, 1] }],
  ['quantized_relu', { bits: 6, integer: 2, use_sigmoid: 1, negative_slope: 0.25, use_stochastic_rounding: 1 }],
  ['quantized_po2', { bits: 4, max_value: new PyFloat(1), quadratic_approximation: true }],
  ['quantized_relu_po2', { bits: 8, max_value: 16, negative_slope: 0.0625 }],
  ['quantized_ulaw', { bits: 8, integer: 0, symmetric: 1, u: 255 }],
];

describe('getQuantizer(q.toString()) reads back the same quantizer', () => {
  it('every registered quantizer has samples', () => {
    expect(Object.keys(roundTripArgs).sort()).toEqual(registeredQuantizerNames());
  });

  it.each(registeredQuantizerNames())('%s', (name) => {
    const generated = fc.sample(roundTripArgs[name]!, { seed: 42, numRuns: 40 });
    const samples = [...generated, ...EXTRA_SAMPLES.filter(([n]) => n === name).map(([, a]) => a)];
    for (const args of samples) {
      const q = build(name, args);
      const text = q.toString();
      const back = getQuantizer(text)!;
      expect(back.className, text).toBe(name);
      expect(back.toString(), text).toBe(text);
      expect(run(back), text).toStrictEqual(run(q));
    }
  });
});

describe('lossy string forms (QKeras prints these ambiguously; prefer dict configs to persist them)', () => {
  it.each(lossyCases.map((c) => [`${c.name} ${JSON.stringify(c.args)}: ${c.reason}`, c] as const))('%s', (_title, c) => {
    const q = build(c.name, c.args);
    const back = getQuantizer(q.toString())!;
    expect(back.toString()).toBe(c.reread);
    // Lossy: either the string or the behaviour (or both) changed.
    expect(back.toString() === q.toString() && sameOutputs(run(q), run(back))).toBe(false);
  });

  it.each(unprintedCases.map((c) => [`${c.name} ${JSON.stringify(c.args)}`, c] as const))(
    '%s: str() cannot carry the argument',
    (_title, c) => {
      const q = build(c.name, c.args);
      const back = getQuantizer(q.toString())!;
      expect(back.toString()).toBe(q.toString());
      expect(sameOutputs(run(q), run(back))).toBe(false);
    },
  );
});

describe('serialize() / getQuantizer(dict) round trips', () => {
  const allSamples: Array<[string, QuantizerArgs]> = [
    ...registeredQuantizerNames().flatMap((name) =>
      fc.sample(roundTripArgs[name]!, { seed: 7, numRuns: 15 }).map((a): [string, QuantizerArgs] => [name, a]),
    ),
    ...EXTRA_SAMPLES,
    ...lossyCases.map((c): [string, QuantizerArgs] => [c.name, c.args]),
    ...unprintedCases.map((c): [string, QuantizerArgs] => [c.name, c.args]),
  ];

  it.each(registeredQuantizerNames())('%s', (name) => {
    const samples = allSamples.filter(([n]) => n === name);
    expect(samples.length).toBeGreaterThan(0);
    for (const [, args] of samples) {
      const q = build(name, args);
      const label = `${q.toString()} ${JSON.stringify(args)}`;
      const dict = q.serialize();
      if (typeof dict === 'string') throw new Error(`${label}: a quantizer serialises as {class_name, config}`);
      expect(dict.class_name, label).toBe(name);

      // In memory (PyFloat kept): the config reads back to the same config and the same str().
      const back = getQuantizer(dict)!;
      expect(back.serialize(), label).toStrictEqual(dict);
      // Through JSON text, as in a saved model: the same JSON again.
      const json = JSON.stringify(dict);
      const fromJson = getQuantizer(JSON.parse(json) as typeof dict)!;
      expect(JSON.stringify(fromJson.serialize()), label).toBe(json);

      // The config holds every argument the sample set: then the behaviour survives as well.
      const configKeys = Object.keys(dict.config);
      if (Object.keys(args).every((k) => configKeys.includes(k))) {
        expect(back.toString(), label).toBe(q.toString());
        const expected = run(q);
        expect(run(back), label).toStrictEqual(expected);
        expect(run(fromJson), label).toStrictEqual(expected);
      }
    }
  });
});
