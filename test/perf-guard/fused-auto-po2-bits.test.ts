/**
 * The fused quantized_bits auto_po2 kernel against the quantizer's op chain on the wasm backend: values,
 * the kept per-channel scale and gradients bit for bit, on weight-like tensors with ties, zero channels,
 * saturating values, and non-finite weights (which must fall back to the op chain with the same result).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { FUSED_AUTO_PO2_BITS, hasFusedKernel, withFusedKernels } from '../../src/quantizers/fused.js';
import { getQuantizer } from '../../src/quantizers/index.js';
import { withSimd } from '../../src/backend/simd/heap.js';
import { bothPaths, edgeValues, expectFusedEqualsChain, expectSameBits, gradientValues, makeRng } from './fused-helpers.js';

beforeAll(async () => {
  expect(await ready()).toBe('wasm');
});

const specs = [
  'quantized_bits(3,0,1,alpha="auto_po2")',
  'quantized_bits(4,0,1,alpha="auto_po2")',
  'quantized_bits(8,2,1,alpha="auto_po2")',
  'quantized_bits(2,0,1,alpha="auto_po2")',
  'quantized_bits(4,1,1,alpha="auto_po2",qnoise_factor=0.5)',
  'quantized_bits(5,0,1,alpha="auto_po2",use_ste=False)',
  'quantized_bits(4,0,1,alpha="auto_po2",min_po2_exponent=-3,max_po2_exponent=-1)',
  'quantized_bits(6,0,1,alpha="auto_po2",max_po2_exponent=-8)',
];

/** Weight-like values (mostly small normals) with grid ties and a zero channel. */
function weights(shape: number[], seed: number, special: boolean): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = shape[shape.length - 1]!;
  const rng = makeRng(seed);
  const edge = edgeValues(n, seed, 0.5, 2 ** -5);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % channels;
    if (c === 0) out[i] = 0; // an all-zero channel
    else if (c === 1) out[i] = Math.round((rng() * 2 - 1) * 16) / 32; // ties on a po2 grid
    else if (c === 2) out[i] = (rng() - 0.5) * 1e-6; // tiny
    else out[i] = special ? edge[i]! : (rng() * 2 - 1) * 0.3;
  }
  return out;
}

function scaleOf(q: Quantizer): Float32Array {
  const s = q.scale;
  return s instanceof tf.Tensor ? Float32Array.from(s.dataSync()) : new Float32Array([Number(s)]);
}

describe('fused quantized_bits auto_po2', () => {
  it('is registered on wasm', () => {
    expect(hasFusedKernel(FUSED_AUTO_PO2_BITS)).toBe(true);
  });

  const shapes = [[200, 10], [3, 3, 18, 32], [3, 3, 1, 18], [5, 7], [9, 4]];
  for (const spec of specs) {
    it(`${spec}: values, scale and gradients equal the op chain bit for bit`, () => {
      shapes.forEach((shape, si) => {
        for (const special of [false, true]) {
          const q = getQuantizer(spec)!;
          const x = weights(shape, si * 17 + spec.length + (special ? 1 : 0), special);
          const run = (on: boolean, simd: boolean) =>
            withSimd(simd, () =>
              withFusedKernels(on, () => {
                const y = tf.tidy(() => q.call(tf.tensor(x, shape)));
                const values = Float32Array.from(y.dataSync());
                y.dispose();
                return { values, scale: scaleOf(q) };
              }),
            );
          const chain = run(false, true);
          for (const simd of [true, false]) {
            const fused = run(true, simd);
            const what = `${spec} ${JSON.stringify(shape)}${special ? ' with specials' : ''}${simd ? '' : ' (scalar)'}`;
            expectSameBits(fused.values, chain.values, x, `${what} forward`);
            expectSameBits(fused.scale, chain.scale, x, `${what} scale`);
          }
          const dy = gradientValues(x.length, si + 3);
          const grads = bothPaths(() => tf.grad((t: tf.Tensor) => q.call(t))(tf.tensor(x, shape), tf.tensor(dy, shape)));
          expectFusedEqualsChain(grads, x, `${spec} ${JSON.stringify(shape)}${special ? ' with specials' : ''} gradient`);
        }
      });
    });
  }

  it('runs as one kernel per call for the dense kernel of the lab book', async () => {
    const q = getQuantizer('quantized_bits(3,0,1,alpha="auto_po2")')!;
    const x = tf.randomNormal([18432, 10], 0, 0.05, 'float32', 5);
    const info = await tf.profile(() => q.call(x));
    // The kernel, then the clone the quantizer keeps as its scale.
    expect(info.kernels.map((k) => k.name)).toEqual([FUSED_AUTO_PO2_BITS, 'Identity']);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      q.call(x);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
