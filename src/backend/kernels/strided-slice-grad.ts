/**
 * The gradient of StridedSlice, which tfjs-core 4.22 does not define (tf.grad through tf.stridedSlice
 * throws "gradient function not found" on every backend). The slice picks, along each axis, `count`
 * indices first, first + |s|, ... (walked backwards for a negative stride s); its gradient puts dy back at
 * those indices and zeros elsewhere. Per axis: undo the reversal, insert |s| - 1 zeros between elements,
 * pad to the input's extent. Built from ordinary ops, so it runs on any backend and is itself
 * differentiable. Registered once, for all backends, by `ready()`.
 */
import * as tf from '@tensorflow/tfjs';

/** dx for dy of `tf.stridedSlice(x, ...)` with `x.shape` = xShape. */
export function stridedSliceGradient(dy: tf.Tensor, xShape: readonly number[], attrs: tf.StridedSliceAttrs): tf.Tensor {
  const info = tf.slice_util.sliceInfo(
    [...xShape],
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  const counts = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
  return tf.tidy(() => {
    if (counts.some((c) => c <= 0)) return tf.zeros([...xShape], dy.dtype);
    // dy without the new axes and with the shrunk axes back: one axis per input axis.
    let g = tf.reshape(dy, counts);
    for (let axis = 0; axis < xShape.length; axis++) {
      const count = counts[axis]!;
      const stride = info.strides[axis]!;
      const step = Math.abs(stride);
      let first = info.begin[axis]!;
      if (stride < 0) {
        g = tf.reverse(g, axis);
        first += (count - 1) * stride;
      }
      const span = (count - 1) * step + 1;
      if (step > 1 && count > 1) {
        const shape = g.shape;
        const spread: Array<[number, number]> = [...shape, 1].map(() => [0, 0]);
        spread[axis + 1] = [0, step - 1];
        g = tf.pad(tf.reshape(g, [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)]), spread);
        g = tf.reshape(g, [...shape.slice(0, axis), count * step, ...shape.slice(axis + 1)]);
        g = tf.slice(g, shape.map(() => 0), shape.map((v, i) => (i === axis ? span : v)));
      }
      const padding: Array<[number, number]> = g.shape.map(() => [0, 0]);
      padding[axis] = [first, xShape[axis]! - first - span];
      g = tf.pad(g, padding);
    }
    return g;
  });
}

/** Registers the StridedSlice gradient unless tfjs already has one (a later tfjs may add it). */
export function registerStridedSliceGradient(): void {
  if (tf.getGradient(tf.StridedSlice)) return;
  tf.registerGradient({
    kernelName: tf.StridedSlice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => stridedSliceGradient(dy as tf.Tensor, x.shape, attrs as unknown as tf.StridedSliceAttrs) };
    },
  });
}
