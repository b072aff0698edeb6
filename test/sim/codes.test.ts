import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, intWeightsFromValues, runIR, runPipeline } from '../../src/ir/index.js';
import {
  VectorFileError,
  firstMismatch,
  goldenOutputs,
  quantizeSamples,
  readOutputFile,
  runIRFromCodes,
  writeVectorFile,
} from '../../src/sim/codes.js';
import { ACT, IN } from '../codegen/c-graphs.js';

const dir = mkdtempSync(join(tmpdir(), 'qk-codes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function graph() {
  const b = new GraphBuilder('g');
  const x = b.input({ id: 'x', shape: [4], quant: IN.q8_3 });
  const w = intWeightsFromValues('dense', [1, -2, 3, 0.5, 0, -1, 2, 2, 1, -3, 1, 0.25], [4, 3], { mode: 'fixed', bits: 4, signed: true });
  const d = b.dense(x, { id: 'd', weights: w, requant: ACT.bits6_2 });
  return runPipeline(b.build([d, x])).graph;
}

describe('input codes', () => {
  it('quantizes real samples with the IR input rule, and the golden model from codes equals runIR', () => {
    const g = graph();
    const reals = [
      [0.03125, -0.03125, 7.97, -9],
      [0.09375, 1e3, -0.5, 0],
    ];
    const m = quantizeSamples(g, reals.map((s) => [s]));
    expect(Array.from(m.data)).toEqual([0, -0, 127, -128, 2, 127, -8, 0].map((v) => v + 0));
    const golden = goldenOutputs(g, m);
    reals.forEach((s, k) => {
      const want = runIR(g, s).flatMap((t) => Array.from(t.data));
      expect(Array.from(golden.data.subarray(k * golden.width, (k + 1) * golden.width))).toEqual(want);
    });
  });

  it('refuses codes that are not values of the input type', () => {
    expect(() => runIRFromCodes(graph(), [[0, 1, 2, 300]])).toThrow('input %x: 300 at index 3 is not a code of fixed<s8,4>');
  });
});

describe('vector files', () => {
  it('writes int32 codes in the binary format', () => {
    const p = join(dir, 'v.bin');
    writeVectorFile(p, { count: 2, width: 3, data: Float64Array.from([1, -2, 3, -2147483648, 2147483647, 0]) });
    const b = readFileSync(p);
    expect(b.subarray(0, 4).toString('ascii')).toBe('QKV1');
    expect([b.readUInt32LE(4), b.readUInt32LE(8)]).toEqual([2, 3]);
    expect(Array.from({ length: 6 }, (_, i) => b.readInt32LE(12 + 4 * i))).toEqual([1, -2, 3, -2147483648, 2147483647, 0]);
  });

  it('falls back to text for codes beyond int32', () => {
    const p = join(dir, 'v.txt');
    writeVectorFile(p, { count: 2, width: 2, data: Float64Array.from([2 ** 40, -1, 5, -(2 ** 33)]) });
    expect(readFileSync(p, 'utf8')).toBe('1099511627776 -1\n5 -8589934592\n');
    expect(() => writeVectorFile(p, { count: 1, width: 1, data: Float64Array.from([2 ** 40]) }, 'binary')).toThrow(VectorFileError);
  });

  it('reads output files and reports malformed lines', () => {
    const p = join(dir, 'out.txt');
    writeFileSync(p, '1 2 3\n-4 5 6\n');
    const m = readOutputFile(p, 3);
    expect(m.count).toBe(2);
    expect(Array.from(m.data)).toEqual([1, 2, 3, -4, 5, 6]);
    writeFileSync(p, '1 2\n');
    expect(() => readOutputFile(p, 3)).toThrow(`${p} line 1: 2 codes, expected 3`);
  });

  it('finds the first mismatch by sample and index', () => {
    const a = { count: 2, width: 2, data: Float64Array.from([1, 2, 3, 4]) };
    expect(firstMismatch(a, { ...a, data: Float64Array.from([1, 2, 3, 4]) })).toBeNull();
    expect(firstMismatch(a, { ...a, data: Float64Array.from([1, 2, 9, 4]) })).toEqual({ sample: 1, index: 0, got: 3, want: 9 });
  });
});
