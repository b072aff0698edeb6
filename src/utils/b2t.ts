/**
 * QKeras's `BinaryToThermometer`: turns integer-valued inputs into one-hot (or two-hot) class planes, with
 * the remainder optionally kept as a fraction. Used to feed low-bit first layers with wide inputs.
 *
 * Arithmetic is float32 like QKeras's numpy code (`x.astype(float32)`, Python-float range folded in).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

export interface BinaryToThermometerOptions {
  withResidue?: boolean;
  mergeWithChannels?: boolean;
  useTwoHotEncoding?: boolean;
}

/**
 * `binaryToThermometer(x, classes, valueRange, withResidue, mergeWithChannels, useTwoHotEncoding)`.
 * The output appends a class axis of size `classes` (+1 with two-hot encoding); like Keras's
 * `to_categorical`, a trailing input axis of size 1 is replaced rather than kept. With `mergeWithChannels`
 * the class axis is folded into the last axis (C·classes).
 */
export function binaryToThermometer(
  x: tf.Tensor,
  classes: number,
  valueRange: number,
  withResidue: boolean | BinaryToThermometerOptions = false,
  mergeWithChannels = false,
  useTwoHotEncoding = false,
): tf.Tensor {
  const opts: Required<BinaryToThermometerOptions> =
    typeof withResidue === 'object'
      ? { withResidue: !!withResidue.withResidue, mergeWithChannels: !!withResidue.mergeWithChannels, useTwoHotEncoding: !!withResidue.useTwoHotEncoding }
      : { withResidue, mergeWithChannels, useTwoHotEncoding };
  if (!Number.isInteger(classes) || classes < 1) {
    throw new ConfigError('binaryToThermometer', 'classes', classes, 'an integer >= 1');
  }
  if (!(valueRange > 0) || !Number.isFinite(valueRange)) {
    throw new ConfigError('binaryToThermometer', 'valueRange', valueRange, 'a finite number > 0');
  }
  const outClasses = classes + (opts.useTwoHotEncoding ? 1 : 0);
  const values = x.dataSync();
  const ranges = valueRange / classes; // a Python float in QKeras; numpy keeps float32 arrays float32
  const cells = new Float32Array(values.length * outClasses);
  for (let i = 0; i < values.length; i++) {
    const v = Math.fround(values[i]!);
    const q = Math.fround(v / ranges);
    const lo = Math.floor(q);
    const hi = Math.ceil(q);
    for (const idx of opts.useTwoHotEncoding && opts.withResidue ? [lo, hi] : [lo]) {
      if (!(idx >= 0 && idx < outClasses)) {
        throw new ConfigError(
          'binaryToThermometer',
          `x[${i}]`,
          v,
          `values in [0, ${valueRange}) so that the class index stays below ${outClasses} (got class ${idx})`,
        );
      }
    }
    const base = i * outClasses;
    if (!opts.withResidue) {
      cells[base + lo] = 1;
      continue;
    }
    const residue = Math.fround(Math.fround(v - Math.fround(lo * ranges)) / ranges);
    if (opts.useTwoHotEncoding) {
      // QKeras writes the floor class as 1 - residue and the ceil class as residue, then adds the planes:
      // an exact value lands entirely (1 + 0) in its own class.
      cells[base + lo] = Math.fround(1 - residue);
      cells[base + hi] = Math.fround(cells[base + hi]! + residue);
    } else {
      cells[base + lo] = Math.fround(1 + residue);
    }
  }
  const inShape = x.shape;
  const squeezed = inShape.length > 1 && inShape[inShape.length - 1] === 1 ? inShape.slice(0, -1) : inShape;
  let outShape = [...squeezed, outClasses];
  if (opts.mergeWithChannels && outShape.length !== inShape.length) {
    outShape = [...outShape.slice(0, -2), outShape[outShape.length - 2]! * outClasses];
  }
  return tf.tensor(cells, outShape, 'float32');
}
