/**
 * Checks shared by the tests of the BN, folded, adaptive and recurrent Q layers: seeded inputs, outputs
 * plus gradients of a layer (w.r.t. the input and every trainable weight), and a saveQmodel/loadQmodel
 * round trip that must reproduce predictions, weights, configs and quantizers exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { loadQmodel, saveQmodel } from '../../src/utils/save-load.js';
import { makeRng } from '../backend/gradient-cases.js';

/** Uniform values in [lo, hi) from a seeded generator (independent of tfjs's RNG). */
export function seeded(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => lo + (hi - lo) * rng()), shape);
}

export interface OutputsAndGrads {
  output: number[];
  /** d sum(output·r) / d input, then / d each trainable weight in weight order. */
  grads: number[][];
}

/**
 * Runs `layer` on `x` (with `kwargs`), and the gradients of `sum(output·r)` for a fixed random `r`. The
 * forward pass runs once, inside the gradient computation, so training-mode side effects happen once.
 */
export function outputsAndGrads(layer: tf.layers.Layer, x: tf.Tensor, kwargs: Record<string, unknown> = {}, seed = 11): OutputsAndGrads {
  return tf.tidy(() => {
    const xv = tf.variable(x);
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    let output: number[] = [];
    const { grads } = tf.variableGrads(() => {
      const y = layer.apply(xv, kwargs) as tf.Tensor;
      output = Array.from(y.dataSync());
      return tf.sum(tf.mul(y, seeded(y.shape, seed))) as tf.Scalar;
    }, [xv, ...weights]);
    const ordered = [xv, ...weights].map((v) => Array.from(grads[v.name]!.dataSync()));
    xv.dispose();
    return { output, grads: ordered };
  });
}

/** Element-wise |a − b| <= atol + rtol·|b| (numpy's allclose), failing with the first index that is not. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    expect(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${label}[${i}]: got ${a}, expected ${e}`).toBe(true);
  }
}

function values(t: tf.Tensor | tf.Tensor[]): number[][] {
  return (Array.isArray(t) ? t : [t]).map((x) => Array.from(x.dataSync()));
}

/**
 * Saves `model` with saveQmodel, loads it back with loadQmodel and checks that the reloaded model
 * predicts exactly the same on `x`, holds the same weights, has the same config (so the same quantizers
 * and options) and, for every layer with a `quantizerSummary()`, the same effective quantizers. Returns
 * the reloaded model.
 */
export async function expectRoundTrip(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[]): Promise<tf.LayersModel> {
  const dir = mkdtempSync(join(tmpdir(), 'qkeras-ts-layers-'));
  try {
    await saveQmodel(model, dir);
    const loaded = await loadQmodel(dir);
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
    expect(values(loaded.predict(x) as tf.Tensor | tf.Tensor[])).toEqual(values(model.predict(x) as tf.Tensor | tf.Tensor[]));
    expect(loaded.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(model.weights.map((w) => Array.from(w.read().dataSync())));
    expect(JSON.stringify(loaded.layers.map((l) => l.getConfig()))).toBe(JSON.stringify(model.layers.map((l) => l.getConfig())));
    const summary = (l: tf.layers.Layer): string | null => {
      const f = (l as unknown as { quantizerSummary?: () => string }).quantizerSummary;
      return typeof f === 'function' ? f.call(l) : null;
    };
    expect(loaded.layers.map(summary)).toEqual(model.layers.map(summary));
    return loaded;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
