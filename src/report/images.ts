/**
 * The inputs a report runs the model on: MNIST test images (lab-book preprocessing, with labels) for a
 * model that takes 28×28×1 inputs, else inputs generated over the input quantizer's range (no labels,
 * so no accuracy), or uniform values in [-1, 1) when the model could not be lowered.
 */
import { MNIST_SIDE, loadMnist, prepareSplit, trainingMean, type PreparedSplit } from '../data/mnist.js';
import type { Graph } from '../ir/graph.js';
import { generateInputs } from '../sim/verify.js';
import type { ReportImages } from './accuracy.js';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The first `count` images of a prepared MNIST split (lab-book preprocessing) with their labels. */
export function splitImages(split: PreparedSplit, count: number): ReportImages {
  const n = Math.min(count, split.count);
  const size = split.x.length / Math.max(split.count, 1);
  return {
    x: split.x.subarray(0, n * size),
    count: n,
    labels: split.labels.subarray(0, n),
    description: `the first ${n} MNIST test images (lab-book preprocessing: pixels / 256 minus the training mean)`,
  };
}

/** MNIST test images 0..count-1 as the lab book feeds them. */
export function mnistTestImages(count: number): ReportImages {
  const mnist = loadMnist();
  return splitImages(prepareSplit(mnist.test, trainingMean(mnist.train), 0, Math.min(count, mnist.test.count)), count);
}

/** `count` inputs for a model of the given input and output shapes (see the module comment). */
export function reportImages(inputShape: readonly number[], outputShape: readonly number[], graph: Graph | null, count: number): ReportImages {
  if (sameShape(inputShape, [MNIST_SIDE, MNIST_SIDE, 1])) {
    const images = mnistTestImages(count);
    return sameShape(outputShape, [10]) ? images : { ...images, labels: null };
  }
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count * size);
  if (graph !== null && graph.inputs.length === 1) {
    generateInputs(graph, count, 1).forEach((s, k) => x.set(s[0]!, k * size));
    return { x, count, labels: null, description: `${count} inputs generated over the input quantizer's range` };
  }
  let state = 1;
  for (let i = 0; i < x.length; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 2 ** 31 - 1;
  }
  return { x, count, labels: null, description: `${count} uniform random inputs in [-1, 1)` };
}
