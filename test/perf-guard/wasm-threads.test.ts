/**
 * The multi-threaded wasm build (QKERAS_WASM_THREADS=2, src/backend/wasm-threads.ts) in Node: it starts
 * with 2 threads, gives bit-identical convolution values and gradients (the filter gradient split with a
 * helper thread, src/backend/kernels/filter-grad-direct.ts) and fused-quantizer results, and
 * lets the process exit. Run in child processes, since a process has one backend.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./threads-probe.ts', import.meta.url));

function run(threads: number): { threads: number; helperRuns: number; hash: string } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', probe], {
    env: { ...process.env, QKERAS_WASM_THREADS: String(threads), QKERAS_BACKEND: 'wasm' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as { threads: number; helperRuns: number; hash: string };
}

describe('multi-threaded wasm backend', () => {
  it('runs 2 threads with results identical to the single-threaded build', () => {
    const single = run(1);
    const threaded = run(2);
    expect(single.threads).toBe(1);
    expect(threaded.threads).toBe(2);
    expect(threaded.hash).toBe(single.hash);
    // The filter gradients of the second pass were shared with the helper thread (6 channels and 1).
    expect(single.helperRuns).toBe(0);
    expect(threaded.helperRuns).toBe(2);
  }, 240_000);
});
