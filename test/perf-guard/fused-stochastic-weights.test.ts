/**
 * The fused auto-alpha weight quantizers — ternary (deterministic; also stochastic_ternary's inference
 * path), stochastic_ternary and stochastic_binary while training — against the op chains on the wasm
 * backend, with the same seeds: values, the kept scale and gradients bit for bit, including zero and
 * zero-variance channels and non-finite weights (which fall back to the op chain).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { FUSED_STOCHASTIC_BINARY, FUSED_STOCHASTIC_TERNARY, FUSED_TERNARY_AUTO, withFusedKernels } from '../../src/quantizers/fused.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { setSeed } from '../../src/quantizers/phase.js';
import { edgeValues, expectSameBits, gradientValues, makeRng } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

const specs = [
  'ternary(alpha="auto_po2")',
  'ternary(alpha="auto")',
  'ternary(alpha="auto_po2",number_of_unrolls=2)',
  'ternary(alpha="auto",use_stochastic_rounding=1)',
  'stochastic_ternary(alpha="auto_po2")',
  'stochastic_ternary(alpha="auto")',
  'stochastic_ternary(alpha="auto_po2",temperature=3,number_of_unrolls=2)',
  'stochastic_ternary(alpha="auto_po2",number_of_unrolls=0)',
  'stochastic_binary(alpha="auto_po2")',
  'stochastic_binary(alpha="auto")',
  'stochastic_binary(alpha="auto_po2",temperature=2.5)',
];
const shapes = [[3, 3, 18, 32], [3, 3, 1, 18], [20, 10], [5, 4]];

type Kind = 'plain' | 'constant channel' | 'zero channel' | 'specials';

function weights(shape: number[], seed: number, kind: Kind): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = shape[shape.length - 1]!;
  const rng = makeRng(seed);
  const edge = edgeValues(n, seed, 0.4, 2 ** -5);
  return Float32Array.from({ length: n }, (_, i) => {
    const c = i % channels;
    if (kind === 'constant channel' && c === 1) return 0.25;
    if (kind === 'zero channel' && c === 1) return 0;
    if (kind === 'specials' && c >= 2) return edge[i]!;
    if (c === 0) return Math.round((rng() * 2 - 1) * 8) / 16; // ties
    return (rng() * 2 - 1) * 0.3;
  });
}

function run(q: Quantizer, x: Float32Array, shape: number[], dy: Float32Array, fused: boolean, training: boolean) {
  return withFusedKernels(fused, () => {
    setSeed(1234);
    const y = tf.tidy(() => q.call(tf.tensor(x, shape), { training }));
    const values = Float32Array.from(y.dataSync());
    y.dispose();
    const s = q.scale;
    const scale = s instanceof tf.Tensor ? Float32Array.from(s.dataSync()) : new Float32Array([Number(s)]);
    setSeed(1234);
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => q.call(t, { training }))(tf.tensor(x, shape), tf.tensor(dy, shape)));
    const grad = Float32Array.from(g.dataSync());
    g.dispose();
    return { values, scale, grad };
  });
}

describe('fused stochastic weight quantizers', () => {
  for (const spec of specs) {
    it(`${spec}: values, scale and gradients equal the op chain bit for bit`, () => {
      shapes.forEach((shape, si) => {
        for (const [kind, training] of [
          ['plain', true], ['constant channel', true], ['specials', true], ['plain', false], ['zero channel', false],
        ] as Array<[Kind, boolean]>) {
          const q = getQuantizer(spec)!;
          if (!training && spec.includes('number_of_unrolls=0')) {
            // Inference with zero unrolls is an error in both paths (QKeras asserts it).
            for (const fused of [true, false]) {
              expect(() => withFusedKernels(fused, () => tf.tidy(() => q.call(tf.tensor(weights(shape, 1, kind), shape), { training })))).toThrow(/number_of_unrolls/);
            }
            continue;
          }
          const x = weights(shape, si * 31 + spec.length, kind);
          const dy = gradientValues(x.length, si + 11);
          const chain = run(q, x, shape, dy, false, training);
          const fused = run(q, x, shape, dy, true, training);
          const what = `${spec} ${JSON.stringify(shape)} ${kind}${training ? ' training' : ' inference'}`;
          expectSameBits(fused.values, chain.values, x, `${what} forward`);
          expectSameBits(fused.scale, chain.scale, x, `${what} scale`);
          expectSameBits(fused.grad, chain.grad, x, `${what} gradient`);
        }
      });
    });
  }

  it('runs as one kernel while training and leaves inference to the op chain', async () => {
    const x = tf.randomNormal([3, 3, 18, 32], 0, 0.1, 'float32', 9);
    for (const [spec, kernel] of [
      ['stochastic_ternary(alpha="auto_po2")', FUSED_STOCHASTIC_TERNARY],
      ['stochastic_binary(alpha="auto_po2")', FUSED_STOCHASTIC_BINARY],
    ] as const) {
      const q = getQuantizer(spec)!;
      const training = (await tf.profile(() => q.call(x, { training: true }))).kernels.map((k) => k.name);
      expect(training).toEqual([kernel, 'Identity']);
      const inference = (await tf.profile(() => q.call(x, { training: false }))).kernels.map((k) => k.name);
      expect(inference).not.toContain(kernel);
      if (kernel === FUSED_STOCHASTIC_TERNARY) expect(inference).toEqual([FUSED_TERNARY_AUTO, 'Identity']);
    }
    x.dispose();
  });
});
