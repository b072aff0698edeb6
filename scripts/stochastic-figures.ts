/**
 * Reproduces Figures 1 and 2 of the QKeras tutorial (notebook/QKerasTutorial.ipynb, "lab book"): binary vs
 * binary with stochastic rounding vs stochastic_binary, and the same for ternary, all with
 * alpha='auto_po2', on sorted N(0, 0.02) data, averaging the training-time (learning phase 1) outputs over
 * many runs. Writes docs/figures/stochastic-binary.svg and docs/figures/stochastic-ternary.svg and prints a
 * numeric summary of each curve.
 *
 * Usage: npm run figures [-- --points 1000 --runs 1000 --seed 2020]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import type { Quantizer } from '../src/quantizers/base.js';
import { Binary, StochasticBinary } from '../src/quantizers/binary.js';
import { setSeed } from '../src/quantizers/phase.js';
import { StochasticTernary, Ternary } from '../src/quantizers/ternary.js';
import { linePlotSvg, type LineSeries } from '../src/report/svg-plot.js';

interface Options {
  points: number;
  runs: number;
  seed: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { points: 1000, runs: 1000, seed: 2020 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if ((key !== 'points' && key !== 'runs' && key !== 'seed') || !Number.isInteger(value) || value < 1) {
      throw new Error(`usage: stochastic-figures [--points N] [--runs N] [--seed N]; got ${argv.slice(i, i + 2).join(' ')}`);
    }
    options[key] = value;
  }
  return options;
}

/**
 * Mean output of `q` over `runs` independent training-time calls on `x`. The runs are columns of one
 * [points, runs] tensor: every statistic these quantizers take (max, std, least-squares scale) is per
 * channel (last axis), so each column is quantized exactly as a separate call on x as [points, 1] would be,
 * with its own random draws.
 */
function averageOverRuns(q: Quantizer, x: tf.Tensor1D, runs: number): number[] {
  return tf.tidy(() => {
    const tiled = tf.tile(tf.reshape(x, [x.shape[0], 1]), [1, runs]);
    return Array.from(tf.mean(q.call(tiled, { training: true }), 1).dataSync());
  });
}

interface CurveSummary {
  name: string;
  min: number;
  max: number;
  levels: number;
  /** Largest drop between neighbouring points (0 for a non-decreasing curve). */
  maxDrop: number;
  /** Input range over which the curve is strictly between its extremes (the transition zone). */
  transition: [number, number];
}

function summarize(name: string, xs: readonly number[], ys: readonly number[]): CurveSummary {
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  let maxDrop = 0;
  for (let i = 1; i < ys.length; i++) maxDrop = Math.max(maxDrop, ys[i - 1]! - ys[i]!);
  const inside = xs.filter((_, i) => ys[i]! > min && ys[i]! < max);
  return {
    name,
    min,
    max,
    levels: new Set(ys).size,
    maxDrop,
    transition: inside.length ? [Math.min(...inside), Math.max(...inside)] : [Number.NaN, Number.NaN],
  };
}

function figure(
  title: string,
  quantizers: readonly Quantizer[],
  x: tf.Tensor1D,
  runs: number,
  legend: 'top-left' | 'bottom-right' | 'below',
): { svg: string; summaries: CurveSummary[] } {
  const xs = Array.from(x.dataSync());
  const series: LineSeries[] = quantizers.map((q) => ({ name: q.toString(), x: xs, y: averageOverRuns(q, x, runs) }));
  const svg = linePlotSvg({
    title,
    series,
    xLabel: 'input',
    yLabel: `output (mean of ${runs} training-phase runs)`,
    legend,
  });
  return { svg, summaries: series.map((s) => summarize(s.name, xs, s.y)) };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await ready();
  setSeed(options.seed);
  const x = tf.tidy(() => {
    const draws = tf.randomNormal([options.points], 0, 0.02, 'float32', options.seed);
    return tf.reverse(tf.topk(draws, options.points).values) as tf.Tensor1D; // ascending
  });

  const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'figures');
  mkdirSync(outDir, { recursive: true });
  const figures = [
    {
      file: 'stochastic-binary.svg',
      title: 'Figure 1: binary quantizers on N(0, 0.02) data',
      legend: 'below' as const,
      quantizers: [
        new Binary({ alpha: 'auto_po2' }),
        new Binary({ alpha: 'auto_po2', use_stochastic_rounding: true }),
        new StochasticBinary({ alpha: 'auto_po2' }),
      ],
    },
    {
      file: 'stochastic-ternary.svg',
      title: 'Figure 2: ternary quantizers on N(0, 0.02) data',
      legend: 'below' as const,
      quantizers: [
        new Ternary({ alpha: 'auto_po2' }),
        new Ternary({ alpha: 'auto_po2', use_stochastic_rounding: true }),
        new StochasticTernary({ alpha: 'auto_po2' }),
      ],
    },
  ];
  for (const f of figures) {
    const { svg, summaries } = figure(f.title, f.quantizers, x, options.runs, f.legend);
    const path = join(outDir, f.file);
    writeFileSync(path, svg);
    console.log(`${relative(process.cwd(), path)}`);
    for (const s of summaries) {
      console.log(
        `  ${s.name.padEnd(58)} range [${s.min.toPrecision(4)}, ${s.max.toPrecision(4)}]  ` +
          `${String(s.levels).padStart(4)} levels  max drop ${s.maxDrop.toPrecision(3)}  ` +
          `transition x in [${s.transition[0].toFixed(4)}, ${s.transition[1].toFixed(4)}]`,
      );
    }
    for (const q of f.quantizers) if (q.scale instanceof tf.Tensor) q.scale.dispose();
  }
  x.dispose();
}

await main();
