/**
 * Child process of wasm-threads.test.ts: starts the backend (QKERAS_WASM_THREADS from the environment),
 * runs a convolution's forward and backward passes and a fused quantizer on seeded data, and prints the
 * thread count, how many filter gradients the threaded build's helper thread shared, and an FNV-1a hash
 * of every result's float32 bits as one JSON line. The gradients run twice, the second time after the
 * helper (started by the first) has had time to get ready; both results are hashed. Convolutions with
 * 6 input channels and with 1 (whose helper splits taps instead of channels) are both covered.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/index.js';
import { wasmThreadsInUse } from '../../src/backend/wasm-threads.js';
import { filterGradHelperRuns } from '../../src/backend/kernels/filter-grad-direct.js';
import { getQuantizer } from '../../src/quantizers/index.js';

await ready();
const x = tf.randomUniform([16, 12, 12, 6], -1, 1, 'float32', 1) as tf.Tensor4D;
const w = tf.randomUniform([3, 3, 6, 8], -1, 1, 'float32', 2) as tf.Tensor4D;
const f = (...args: tf.Tensor[]) => getQuantizer('quantized_relu(3)')!.call(tf.conv2d(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, 1, 'same')).sum();
const x1 = tf.randomUniform([32, 14, 14, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
const w1 = tf.randomUniform([3, 3, 1, 10], -1, 1, 'float32', 4) as tf.Tensor4D;
const grads = (): tf.Tensor[] => [...tf.grads(f)([x, w]), ...tf.grads(f)([x1, w1])];
const first = grads();
await new Promise((resolve) => setTimeout(resolve, 500));
const outputs = [tf.conv2d(x, w, 1, 'valid'), ...first, ...grads()];
let h = 0x811c9dc5;
for (const t of outputs) {
  const bits = new Uint32Array(Float32Array.from(t.dataSync()).buffer);
  for (const b of bits) h = Math.imul(h ^ b, 0x01000193) >>> 0;
}
console.log(JSON.stringify({ threads: wasmThreadsInUse(), helperRuns: filterGradHelperRuns(), hash: h.toString(16) }));
