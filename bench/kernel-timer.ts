/**
 * A kernel timer for the training bench's profile mode: wraps every kernel registered for the active
 * backend so each call adds its wall time to a per-(kernel, output shape) bucket. The wasm backend runs
 * kernels synchronously, so a kernel's wall time is its cost; the remainder of a step (engine bookkeeping,
 * gradient tape, JS in layers and the optimizer) shows up as "outside kernels".
 *
 * Kernels that call other kernels' functions directly (this package's composite wasm kernels) count as one
 * inclusive bucket, which is what matters when deciding what to replace.
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelBucket {
  readonly kernel: string;
  readonly shape: string;
  calls: number;
  ms: number;
}

const buckets = new Map<string, KernelBucket>();
let installed = false;
let enabled = false;

function shapeKey(out: tf.TensorInfo | tf.TensorInfo[]): string {
  const first = Array.isArray(out) ? out[0] : out;
  return first ? `[${first.shape.join(',')}]` : '[]';
}

/** Wraps every kernel of `backendName` (idempotent). Timing is off until `startKernelTimer()`. */
export function installKernelTimer(backendName = tf.getBackend()): void {
  if (installed) return;
  installed = true;
  for (const config of tf.getKernelsForBackend(backendName)) {
    const inner = config.kernelFunc;
    const wrapped: tf.KernelFunc = (args) => {
      if (!enabled) return inner(args);
      const t0 = performance.now();
      const out = inner(args);
      const ms = performance.now() - t0;
      const key = `${config.kernelName} ${shapeKey(out)}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { kernel: config.kernelName, shape: shapeKey(out), calls: 0, ms: 0 };
        buckets.set(key, bucket);
      }
      bucket.calls++;
      bucket.ms += ms;
      return out;
    };
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: wrapped });
  }
}

export function startKernelTimer(): void {
  buckets.clear();
  enabled = true;
}

/** Stops timing and returns the buckets, most expensive first. */
export function stopKernelTimer(): KernelBucket[] {
  enabled = false;
  return [...buckets.values()].sort((a, b) => b.ms - a.ms);
}

/** Per-kernel-name totals (all shapes together), most expensive first. */
export function byKernel(rows: readonly KernelBucket[]): KernelBucket[] {
  const totals = new Map<string, KernelBucket>();
  for (const r of rows) {
    const t = totals.get(r.kernel) ?? { kernel: r.kernel, shape: '*', calls: 0, ms: 0 };
    t.calls += r.calls;
    t.ms += r.ms;
    totals.set(r.kernel, t);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

/** A text table of the top rows, per step (divides by `steps`). */
export function formatBuckets(title: string, rows: readonly KernelBucket[], steps: number, top = 25): string {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const lines = [`  ${title}: ${(total / steps).toFixed(1)} ms/step in ${rows.reduce((s, r) => s + r.calls, 0) / steps} kernel calls/step`];
  for (const r of rows.slice(0, top)) {
    const share = total > 0 ? (100 * r.ms) / total : 0;
    lines.push(
      `    ${(r.ms / steps).toFixed(2).padStart(8)} ms ${share.toFixed(1).padStart(5)}%  ${String(r.calls / steps).padStart(5)}x  ${r.kernel} ${r.shape === '*' ? '' : r.shape}`,
    );
  }
  return lines.join('\n');
}
