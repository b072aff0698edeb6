/**
 * Child process of wasm-threads.test.ts: starts the backend (QKERAS_WASM_THREADS from the environment),
 * runs a convolution's forward and backward passes and a fused quantizer on seeded data, and prints the
 * thread count and an FNV-1a hash of every result's float32 bits as one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/index.js';
import { wasmThreadsInUse } from '../../src/backend/wasm-threads.js';
import { getQuantizer } from '../../src/quantizers/index.js';

await ready();
const x = tf.randomUniform([16, 12, 12, 6], -1, 1, 'float32', 1) as tf.Tensor4D;
const w = tf.randomUniform([3, 3, 6, 8], -1, 1, 'float32', 2) as tf.Tensor4D;
const f = (...args: tf.Tensor[]) => getQuantizer('quantized_relu(3)')!.call(tf.conv2d(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, 1, 'same')).sum();
const grads = tf.grads(f)([x, w]);
const outputs = [tf.conv2d(x, w, 1, 'valid'), ...grads];
let h = 0x811c9dc5;
for (const t of outputs) {
  const bits = new Uint32Array(Float32Array.from(t.dataSync()).buffer);
  for (const b of bits) h = Math.imul(h ^ b, 0x01000193) >>> 0;
}
console.log(JSON.stringify({ threads: wasmThreadsInUse(), hash: h.toString(16) }));
