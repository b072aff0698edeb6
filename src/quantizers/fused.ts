/**
 * The bridge between the quantizers and the fused kernels src/backend registers: a quantizer whose
 * configuration has a fused form asks here whether the active backend provides that kernel and runs it
 * as one op (with one registered gradient) instead of its chain of elementwise ops. The kernels reproduce
 * the chain's float32 values and gradients bit for bit, so the choice only changes speed; backends
 * without them (cpu, tfjs-node, webgl) keep the op chain.
 *
 * `withFusedKernels(false, fn)` forces the op chain, for tests that compare both and for diagnosis;
 * `QKERAS_FUSED=0` in the environment does so for the whole process (benchmarks measure the difference).
 */
import * as tf from '@tensorflow/tfjs';

/** Kernel names (the wasm implementations live in src/backend/kernels/fused-*.ts). */
export const FUSED_QUANTIZED_RELU = 'QkFusedQuantizedRelu';
export const FUSED_QUANTIZED_RELU_GRAD = 'QkFusedQuantizedReluGrad';
export const FUSED_AUTO_PO2_BITS = 'QkFusedAutoPo2Bits';
export const FUSED_AUTO_PO2_BITS_GRAD = 'QkFusedAutoPo2BitsGrad';
export const FUSED_STOCHASTIC_TERNARY = 'QkFusedStochasticTernary';
export const FUSED_STOCHASTIC_BINARY = 'QkFusedStochasticBinary';
export const FUSED_TERNARY_AUTO = 'QkFusedTernaryAuto';
export const FUSED_BINARY_TANH = 'QkFusedBinaryTanh';
export const FUSED_BINARY_TANH_GRAD = 'QkFusedBinaryTanhGrad';
export const FUSED_FIXED_BITS = 'QkFusedFixedBits';
export const FUSED_PO2 = 'QkFusedPo2';
export const FUSED_PO2_GRAD = 'QkFusedPo2Grad';
/** The gradient kernel shared by fused quantizers of the form `x + stop_gradient(...)`. */
export const FUSED_THROUGH_GRAD = 'QkFusedThroughGrad';

const fusedEnv = typeof process === 'undefined' ? '' : (process.env.QKERAS_FUSED ?? '');
let enabled = !['0', 'false', 'off'].includes(fusedEnv.trim().toLowerCase());

/** Runs `fn` with the fused kernels enabled or disabled, restoring the previous setting afterwards. */
export function withFusedKernels<T>(on: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Enables or disables the fused kernels until changed again (for asynchronous code, e.g. a benchmark
 * around `trainOnBatch`, where `withFusedKernels` would restore the setting before the model runs).
 * Returns the previous setting.
 */
export function setFusedKernelsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** Whether fused kernels are in use (true unless disabled). */
export function fusedKernelsEnabled(): boolean {
  return enabled;
}

/** True when fused kernels are enabled and the active backend has `name`. */
export function hasFusedKernel(name: string): boolean {
  return enabled && tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel through the engine (recorded on the tape with its registered gradient). */
export function runFused(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * Runs a fused kernel whose outputs are `[value, scale]`. The kernel signals with a NaN scale that its
 * gradient shortcut does not hold for this input (non-finite or extreme values); then both are disposed
 * and null is returned, and the caller runs its op chain.
 */
export function runFusedWithScale(
  name: string,
  inputs: tf.NamedTensorMap,
  attrs: object,
  usable: (scale: number) => boolean = (s) => !Number.isNaN(s),
): { value: tf.Tensor; scale: tf.Tensor } | null {
  const [value, scale] = runFusedMulti(name, inputs, attrs) as [tf.Tensor, tf.Tensor];
  if ((scale.dataSync() as Float32Array).every(usable)) return { value, scale };
  tf.dispose([value, scale]);
  return null;
}

/** Runs a fused kernel with several outputs. */
export function runFusedMulti(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
