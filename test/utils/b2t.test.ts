import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { binaryToThermometer } from '../../src/utils/b2t.js';

beforeAll(async () => {
  await ready();
  values = tf.tensor([0, 1, 2, 3, 4, 5, 6, 7], [8]);
});

let values: tf.Tensor;

describe('binaryToThermometer (QKeras BinaryToThermometer)', () => {
  it('lab book example: classes=2, value_range=8, no residue → true one-hot', () => {
    const out = binaryToThermometer(values, 2, 8);
    expect(out.shape).toEqual([8, 2]);
    expect(out.arraySync()).toEqual([
      [1, 0], [1, 0], [1, 0], [1, 0],
      [0, 1], [0, 1], [0, 1], [0, 1],
    ]);
  });

  it('lab book example: with residue the fraction is added to the hot class', () => {
    const out = binaryToThermometer(values, 2, 8, true);
    expect(out.arraySync()).toEqual([
      [1, 0], [1.25, 0], [1.5, 0], [1.75, 0],
      [0, 1], [0, 1.25], [0, 1.5], [0, 1.75],
    ]);
  });

  it('docstring example: two-hot encoding splits a value between floor and ceil classes', () => {
    // value_range=4 (0..3), classes=2: 3 = 0.5·bin1 + 0.5·bin2 per QKeras's comment.
    const out = binaryToThermometer(tf.tensor([0, 1, 2, 3], [4]), 2, 4, true, false, true);
    expect(out.shape).toEqual([4, 3]);
    expect(out.arraySync()).toEqual([
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0, 1, 0],
      [0, 0.5, 0.5],
    ]);
  });

  it('replaces a trailing axis of size 1 (to_categorical) and merges classes into channels', () => {
    const img = tf.tensor([0, 5, 9, 15], [1, 2, 2, 1]);
    expect(binaryToThermometer(img, 4, 16).shape).toEqual([1, 2, 2, 4]);
    const multi = tf.tensor([0, 5, 9, 15, 1, 2], [1, 3, 2]);
    const merged = binaryToThermometer(multi, 4, 16, false, true);
    expect(merged.shape).toEqual([1, 3, 8]);
    // Row 0: values 0 and 5 → classes 0 and 1, each a 4-wide block in channel order.
    expect((merged.arraySync() as number[][][])[0]![0]).toEqual([1, 0, 0, 0, 0, 1, 0, 0]);
    // Without merging the class axis is separate.
    expect(binaryToThermometer(multi, 4, 16).shape).toEqual([1, 3, 2, 4]);
  });

  it('keeps float32 arithmetic for the residue', () => {
    const out = binaryToThermometer(tf.tensor([1], [1]), 3, 10, true).dataSync();
    const ranges = 10 / 3;
    expect(out[0]).toBe(Math.fround(1 + Math.fround(Math.fround(1) / ranges)));
  });

  it('rejects values outside the range and bad arguments with the offending value', () => {
    expect(() => binaryToThermometer(tf.tensor([8], [1]), 2, 8)).toThrow(/x\[0\]=8 is not allowed; expected values in \[0, 8\)/);
    expect(() => binaryToThermometer(tf.tensor([-1], [1]), 2, 8)).toThrow(/x\[0\]=-1/);
    expect(() => binaryToThermometer(values, 0, 8)).toThrow(/classes=0 is not allowed; expected an integer >= 1/);
    expect(() => binaryToThermometer(values, 2, 0)).toThrow(/valueRange=0/);
  });
});
