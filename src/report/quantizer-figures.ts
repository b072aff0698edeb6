/**
 * Quantizer figures for the report, computed in-process from the quantizers themselves: the inference
 * transfer function of every quantizer a model uses, and the seed's Figures 1 and 2 (binary and ternary,
 * deterministic vs stochastic rounding vs the stochastic quantizers, averaged over training-time calls on
 * sorted N(0, 0.02) data, as the QKeras lab book draws them).
 */
import * as tf from '@tensorflow/tfjs';
import { ActivationFunction } from '../quantizers/functions.js';
import type { Quantizer } from '../quantizers/base.js';
import { Binary, StochasticBinary } from '../quantizers/binary.js';
import { getQuantizer } from '../quantizers/get-quantizer.js';
import { setSeed } from '../quantizers/phase.js';
import { StochasticTernary, Ternary } from '../quantizers/ternary.js';
import type { FigureData, FigureSeries } from './types.js';

/** A quantizer as the model uses it: its QKeras string and the places that use it. */
export interface QuantizerUse {
  readonly spec: string;
  readonly usedBy: readonly string[];
}

/** Six significant digits keep report.json small without changing any plotted pixel. */
function compact(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : 0));
}

/** Evenly spaced points over [lo, hi]. */
function ramp(lo: number, hi: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

/**
 * The quantizer at inference on `xs`, as one channel of `xs.length` values ([n, 1]): quantizers with a
 * data-dependent scale take it from the whole ramp, as they would from one channel of a tensor.
 */
function evaluate(q: Quantizer, xs: readonly number[]): number[] {
  return readAndDispose(tf.tidy(() => q.call(tf.tensor2d([...xs], [xs.length, 1]), { training: false })));
}

/**
 * The values of a tensor that a tidy returned. (Returning the values from inside the tidy instead would
 * make it walk every element of the array looking for tensors.)
 */
function readAndDispose(t: tf.Tensor): number[] {
  const values = compact(t.dataSync());
  t.dispose();
  return values;
}

/** The input range where the output changes, widened by a quarter on each side. */
function interestingRange(q: Quantizer): [number, number] {
  const xs = ramp(-8, 8, 4001);
  const ys = evaluate(q, xs);
  let first = -1;
  let last = -1;
  for (let i = 1; i < ys.length; i += 1) {
    if (ys[i] === ys[i - 1]) continue;
    if (first < 0) first = i - 1;
    last = i;
  }
  if (first < 0) return [-1, 1];
  const lo = xs[first]!;
  const hi = xs[last]!;
  const pad = Math.max((hi - lo) / 4, 0.05);
  return [lo - pad, hi + pad];
}

/**
 * One figure per distinct quantizer: its inference output over the input range where it does something.
 * A fresh instance is built from each string, so the model's own quantizers keep their remembered
 * scales. Keras activation functions (relu, softmax, ...) are not quantizers and are left out; a
 * quantizer that cannot be evaluated on its own is listed in `skipped` with the reason.
 */
export function transferFigures(uses: readonly QuantizerUse[], points = 401): { figures: FigureData[]; skipped: string[] } {
  const figures: FigureData[] = [];
  const skipped: string[] = [];
  for (const use of uses) {
    try {
      const q = getQuantizer(use.spec);
      if (q === null || q instanceof ActivationFunction) continue;
      const [lo, hi] = interestingRange(q);
      const xs = ramp(lo, hi, points);
      figures.push({
        title: use.spec,
        caption: `used by ${use.usedBy.join(', ')}`,
        xLabel: 'input',
        yLabel: 'output (inference)',
        series: [{ name: use.spec, x: compact(xs), y: evaluate(q, xs) }],
      });
      if (q.scale instanceof tf.Tensor) q.scale.dispose();
    } catch (e) {
      skipped.push(`${use.spec} (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
    }
  }
  return { figures, skipped };
}

export interface SeedFigureOptions {
  readonly points?: number;
  readonly runs?: number;
  readonly seed?: number;
}

/** Mean training-time output over `runs` calls: the runs are the channels of one [points, runs] tensor. */
function meanOverRuns(q: Quantizer, x: tf.Tensor1D, runs: number): number[] {
  return readAndDispose(tf.tidy(() => tf.mean(q.call(tf.tile(tf.expandDims(x, 1), [1, runs]), { training: true }), 1)));
}

/** The figures depend only on their options: computed once per process and options. */
const seedFigureCache = new Map<string, FigureData[]>();

/**
 * The seed's Figures 1 and 2. Reseeds the stochastic quantizers' random source (`setSeed`) when it
 * computes them, so the figures are the same on every run.
 */
export function seedFigures(options: SeedFigureOptions = {}): FigureData[] {
  const points = options.points ?? 400;
  const runs = options.runs ?? 300;
  const seed = options.seed ?? 2020;
  const key = `${points}/${runs}/${seed}`;
  let figures = seedFigureCache.get(key);
  if (figures === undefined) {
    figures = computeSeedFigures(points, runs, seed);
    seedFigureCache.set(key, figures);
  }
  return figures;
}

function computeSeedFigures(points: number, runs: number, seed: number): FigureData[] {
  setSeed(seed);
  const x = tf.tidy(() => {
    const draws = tf.randomNormal([points], 0, 0.02, 'float32', seed);
    return tf.reverse(tf.topk(draws, points).values) as tf.Tensor1D;
  });
  const xs = compact(x.dataSync());
  const figure = (title: string, quantizers: readonly Quantizer[]): FigureData => {
    const series: FigureSeries[] = quantizers.map((q) => ({ name: q.toString(), x: xs, y: meanOverRuns(q, x, runs) }));
    for (const q of quantizers) if (q.scale instanceof tf.Tensor) q.scale.dispose();
    return { title, caption: `mean of ${runs} training-phase calls on ${points} sorted N(0, 0.02) values`, xLabel: 'input', yLabel: 'output', series };
  };
  try {
    return [
      figure('Figure 1: binary quantizers on N(0, 0.02) data', [
        new Binary({ alpha: 'auto_po2' }),
        new Binary({ alpha: 'auto_po2', use_stochastic_rounding: true }),
        new StochasticBinary({ alpha: 'auto_po2' }),
      ]),
      figure('Figure 2: ternary quantizers on N(0, 0.02) data', [
        new Ternary({ alpha: 'auto_po2' }),
        new Ternary({ alpha: 'auto_po2', use_stochastic_rounding: true }),
        new StochasticTernary({ alpha: 'auto_po2' }),
      ]),
    ];
  } finally {
    x.dispose();
  }
}
