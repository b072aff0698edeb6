/**
 * Backend selection: wasm here (tfjs-node is not installable offline), and QKERAS_BACKEND honoured. The
 * environment is read once per process, so the forced cases run print-backend.ts in child processes.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, ready } from '../../src/backend/index.js';
import { wasmTrainingKernelNames } from '../../src/backend/wasm-kernels.js';

const script = fileURLToPath(new URL('./print-backend.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Whether the optional tfjs-node is installed (it is not, offline); then 'tensorflow' is the default. */
function nodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
const forcedHere = process.env.QKERAS_BACKEND?.trim().toLowerCase() || undefined;
const expectedHere = forcedHere ?? (nodeInstalled() ? 'tensorflow' : 'wasm');

/** Runs print-backend.ts with QKERAS_BACKEND set (or unset) and parses its JSON line. */
function selectIn(child: string | undefined): Promise<Record<string, unknown>> {
  const env = { ...process.env };
  delete env.QKERAS_BACKEND;
  if (child !== undefined) env.QKERAS_BACKEND = child;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script], { cwd: root, env, timeout: 60_000 }, (error, stdout) => {
      if (error) return reject(error);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

beforeAll(async () => {
  await ready();
});

describe('ready()', () => {
  it.runIf(expectedHere === 'wasm' && !forcedHere)('picks wasm when tfjs-node is absent and says why', () => {
    expect(tf.getBackend()).toBe('wasm');
    const info = backendInfo();
    expect(info).not.toBeNull();
    expect(info!.name).toBe('wasm');
    expect(info!.forced).toBe(false);
    expect(info!.reason).toMatch(/^@tensorflow\/tfjs-node is not available \(.+\); using wasm/);
    expect(info!.registeredKernels).toEqual(wasmTrainingKernelNames);
  });

  it('is idempotent', async () => {
    const first = ready();
    expect(ready()).toBe(first);
    expect(await first).toBe(expectedHere);
  });

  it('honours QKERAS_BACKEND in a fresh process, and rejects unusable or unknown values', async () => {
    const [cpu, wasm, tensorflow, unknown] = await Promise.all([
      selectIn('cpu'),
      selectIn('WASM'),
      selectIn('tensorflow'),
      selectIn('gpu'),
    ]);
    expect(cpu).toEqual({ name: 'cpu', forced: true, reason: 'QKERAS_BACKEND=cpu', registeredKernels: [] });
    expect(wasm).toMatchObject({ name: 'wasm', forced: true, reason: 'QKERAS_BACKEND=wasm' });
    expect(tensorflow.error).toBe('QKerasError');
    expect(tensorflow.message).toMatch(
      /^QKERAS_BACKEND=tensorflow but @tensorflow\/tfjs-node cannot be used \(.+\); install it with `npm install @tensorflow\/tfjs-node`/,
    );
    expect(unknown).toEqual({
      error: 'ConfigError',
      message: 'environment: QKERAS_BACKEND="gpu" is not allowed; expected tensorflow, wasm, cpu (or unset to choose automatically)',
    });
  });
});
