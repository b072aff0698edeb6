/**
 * Accuracy for the report: class predictions of a tfjs model (float or quantized, float32 inference) and
 * of the golden integer model (the IR, with the input quantized by the graph's input node exactly as every
 * back-end receives it), scored against labels, and how often the IR and tfjs pick the same class.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Graph } from '../ir/graph.js';
import { quantizeSample, runIRFromCodes } from '../sim/codes.js';
import { predictClasses } from '../train/fit.js';
import type { AccuracyEntry } from './types.js';

/** A batch of model inputs (row-major, the model's input shape per sample) with optional labels. */
export interface ReportImages {
  readonly x: Float32Array;
  readonly count: number;
  readonly labels: Uint8Array | null;
  /** For people: where the inputs come from, e.g. "MNIST test images". */
  readonly description: string;
}

/** Argmax classes of a tfjs model on the first `count` inputs (first maximum wins, as tf.argMax). */
export function tfjsClasses(model: tf.LayersModel, images: ReportImages, count = images.count): Uint8Array {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  return predictClasses(model, { x: images.x, y: new Float32Array(0), labels: new Uint8Array(0), count }, shape);
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Classes from the IR on the first `count` inputs: the graph's argmax output when the model ended in a
 * softmax (`softmax`: output 1 is the argmax of the logits), else the first maximum of output 0's codes.
 */
export function irClasses(graph: Graph, softmax: boolean, images: ReportImages, count = images.count): Uint8Array {
  const size = images.x.length / images.count;
  const out = new Uint8Array(count);
  for (let k = 0; k < count; k += 1) {
    const codes = quantizeSample(graph, [images.x.subarray(k * size, (k + 1) * size)]);
    const outputs = runIRFromCodes(graph, codes);
    out[k] = softmax ? outputs[1]!.data[0]! : argmax(outputs[0]!.data);
  }
  return out;
}

/** Scores predictions against labels. */
export function scoreClasses(label: string, engine: AccuracyEntry['engine'], predicted: Uint8Array, labels: Uint8Array): AccuracyEntry {
  let correct = 0;
  for (let i = 0; i < predicted.length; i += 1) if (predicted[i] === labels[i]) correct += 1;
  return { label, engine, correct, images: predicted.length, accuracy: predicted.length === 0 ? 0 : correct / predicted.length };
}

/** Samples on which two predictions agree. */
export function agreement(a: Uint8Array, b: Uint8Array): { images: number; same: number } {
  const n = Math.min(a.length, b.length);
  let same = 0;
  for (let i = 0; i < n; i += 1) if (a[i] === b[i]) same += 1;
  return { images: n, same };
}
