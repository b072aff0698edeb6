/**
 * A small quantized CNN for the report tests, with a hostile model name and source (markup and quotes:
 * tfjs refuses such layer names, but not model names) so every test that renders it also checks the
 * escaping, and labelled inputs that lie exactly on the input quantizer's grid (so tfjs and the integer
 * IR see the same values and must pick the same classes).
 */
import * as tf from '@tensorflow/tfjs';
import { emitC } from '../../src/codegen/c.js';
import { QActivation, QConv2D, QDense } from '../../src/layers/index.js';
import { lowerModelDetailed, type LoweredModel } from '../../src/lower/lower-model.js';
import type { ReportImages } from '../../src/report/accuracy.js';
import { buildReportData, type ReportInputs } from '../../src/report/build.js';
import type { ReportData } from '../../src/report/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomizeWeights, rng } from '../lower/zoo.js';

export const HOSTILE = 'm"><script>alert(1)</script>&amp;';
export const HOSTILE_SOURCE = "<img src=x onerror='alert(2)'>.json";
/** The convolution's name: every character tfjs allows in a layer name that is not a letter. */
export const CONV = 'conv_1/a.b-c';
export const INPUT_QUANTIZER = 'quantized_bits(8,0,1)';
type T = tf.SymbolicTensor;

export function smallCnn(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 1], name: 'img' });
  let x = new QConv2D({ filters: 3, kernelSize: 3, kernelQuantizer: 'ternary', biasQuantizer: 'quantized_po2(4)', name: CONV }).apply(input) as T;
  x = new QActivation({ activation: 'quantized_relu(3)', name: 'act' }).apply(x) as T;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as T;
  x = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4)', name: 'head' }).apply(x) as T;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as T;
  const m = tf.model({ inputs: input, outputs: x, name: HOSTILE });
  randomizeWeights(m, rng(7));
  return m;
}

/** `count` inputs on the grid of quantized_bits(8,0,1) (k / 128, k in -127..127) with arbitrary labels. */
export function gridImages(count: number): ReportImages {
  const r = rng(11);
  const x = new Float32Array(count * 36);
  for (let i = 0; i < x.length; i += 1) x[i] = (Math.floor(r() * 255) - 127) / 128;
  const labels = Uint8Array.from({ length: count }, () => Math.floor(r() * 4));
  return { x, count, labels, description: `${count} grid inputs` };
}

export interface Fixture {
  readonly model: tf.LayersModel;
  readonly lowered: LoweredModel;
  readonly images: ReportImages;
  readonly data: ReportData;
  readonly inputs: ReportInputs;
}

/** The model, its lowering and C report, and the report data built from them. */
export function buildFixture(extra: Partial<ReportInputs> = {}): Fixture {
  const model = smallCnn();
  const lowered = lowerModelDetailed(model, { inputQuantizer: INPUT_QUANTIZER });
  const dir = mkdtempSync(join(tmpdir(), 'qk-report-fixture-'));
  let c;
  try {
    c = emitC(lowered.graph, dir).report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const images = gridImages(40);
  const inputs: ReportInputs = {
    model,
    source: HOSTILE_SOURCE,
    inputQuantizer: INPUT_QUANTIZER,
    lowered,
    images,
    c,
    seedFigures: { points: 60, runs: 10 },
    activationImages: 10,
    created: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
  return { model, lowered, images, data: buildReportData(inputs), inputs };
}
