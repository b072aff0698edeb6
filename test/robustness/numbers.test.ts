/**
 * Numbers at and past the limits. NaN and infinite weights are refused before lowering or predicting,
 * naming the layer, the weight and the element; non-finite inputs are refused naming the sample and
 * position. Quantizer widths past what the golden model and the back-ends carry, and accumulators past
 * 2^53, are errors naming the layer. And the checker's overflow proof meets adversarial weights: every
 * weight at its largest magnitude, with inputs at the extreme codes of their type (what the proof covers),
 * reaches exactly the proven bounds; C (int32 and int64 accumulators) and Verilog equal the golden model
 * on those codes; and a recorded accumulator one bit too narrow is caught.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { SampleError, flattenSamples } from '../../src/engines/index.js';
import { IRCheckError, IRRuntimeError } from '../../src/ir/errors.js';
import { check } from '../../src/ir/check.js';
import { runIRReal } from '../../src/ir/interpret.js';
import type { Graph } from '../../src/ir/index.js';
import { QDense } from '../../src/layers/index.js';
import { UnsupportedLayersError, lowerModelDetailed } from '../../src/lower/index.js';
import { C_COMPILER, VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { NonFiniteWeightsError } from '../../src/utils/finite-weights.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { runIRFromCodes, type CodeMatrix } from '../../src/sim/codes.js';
import { checkC, inputCodes } from '../codegen/c-check.js';
import { expectBitExact } from '../sim/verilog-check.js';
import { runCli } from '../helpers/run-cli.js';

const verilator = findOptionalTool(VERILATOR);
const cc = findOptionalTool(C_COMPILER);

let dir = '';

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-numbers-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** x (n inputs) → Dense `name` (units, weights set by `weights`) → Dense `e`. */
function twoLayers(n: number, units: number, kernel: number[], bias: number[], opts: { kernelQuantizer?: string; activation?: string } = {}): tf.LayersModel {
  const input = tf.input({ shape: [n], name: 'x' });
  let x = new QDense({ units, kernelQuantizer: opts.kernelQuantizer ?? 'quantized_bits(8,0,1,alpha=1)', biasQuantizer: 'quantized_bits(8,3,1)', activation: opts.activation ?? 'quantized_bits(8,3,1)', name: 'd' }).apply(input) as tf.SymbolicTensor;
  x = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', useBias: false, name: 'e' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'numbers' });
  const e = model.getLayer('e').getWeights()[0]!;
  model.getLayer('d').setWeights([tf.tensor(kernel, [n, units]), tf.tensor(bias)]);
  model.getLayer('e').setWeights([tf.onesLike(e)]);
  return model;
}

describe('non-finite weights and inputs', () => {
  const kernel = Array.from({ length: 12 }, (_, i) => (i - 6) / 8);
  kernel[2 * 3 + 1] = Number.NaN; // [2, 1]
  kernel[3 * 3 + 2] = -Infinity; // [3, 2]
  const bias = [Infinity, 0.5, -0.25];

  it('lowering refuses them first, naming every layer, weight and the first bad element', () => {
    const model = twoLayers(4, 3, kernel, bias);
    const err = (() => {
      try {
        lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NonFiniteWeightsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^model "numbers": 2 weights hold values that are not finite numbers/);
    expect(msg).toContain('  - layer "d" (QDense), weight kernel: NaN at [2, 1] (and 1 more)');
    expect(msg).toContain('  - layer "d" (QDense), weight bias: Infinity at [0]');
    model.dispose();
  });

  it('predict and compile exit 1 with the same message, for every engine and target', async () => {
    const model = twoLayers(4, 3, kernel, bias);
    await saveQmodel(model, join(dir, 'nan'));
    model.dispose();
    const input = join(dir, 'in.json');
    writeFileSync(input, JSON.stringify([[0, 1, 2, 3]]));
    for (const engine of ['tfjs', 'ir']) {
      const r = await runCli('predict', join(dir, 'nan'), '--engine', engine, '--input', input, '--out', join(dir, 'out.json'), '--input-quantizer', 'quantized_bits(8,2,1)');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: model "numbers": 2 weights hold values that are not finite/);
      expect(r.stderr).toContain('layer "d" (QDense), weight kernel: NaN at [2, 1]');
    }
    const c = await runCli('compile', join(dir, 'nan'), '--target', 'c', '--out', join(dir, 'c'), '--input-quantizer', 'quantized_bits(8,2,1)');
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('weight bias: Infinity at [0]');
  });

  it('inputs: NaN and infinities are refused naming the sample and position', () => {
    expect(() => flattenSamples([[0, 1, 2, 3], [0, Number.NaN, 2, 3]], [4], 'in.json')).toThrow(new SampleError('in.json: sample 1 at [1] is NaN; inputs must be finite numbers'));
    expect(() => flattenSamples([[0, 1, -Infinity, 3]], [4], 'in.json')).toThrow(/sample 0 at \[2\] is -Infinity/);
    const model = twoLayers(4, 3, Array.from({ length: 12 }, () => 0.5), [0, 0, 0]);
    const g = lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' }).graph;
    model.dispose();
    expect(() => runIRReal(g, [0, 1, Number.NaN, 3])).toThrow(IRRuntimeError);
    expect(() => runIRReal(g, [0, 1, Number.NaN, 3])).toThrow(/input value at index 2 is NaN/);
  });
});

describe('widths past what the back-ends carry', () => {
  it('a quantizer wider than 53 bits, or with absurd integer bits, is refused naming the layer', () => {
    for (const [activation, want] of [
      ['quantized_bits(60,0,1)', /- d \(QDense\): quantized_bits\(60,0,1\): bits=60 has no fixed-point form here; expected an integer from 1 to 53/],
      ['quantized_relu(80,2)', /- d \(QDense\): quantized_relu\(80,2\): bits=80 has no fixed-point form/],
      ['quantized_bits(6,1e308,1)', /- d \(QDense\): quantized_bits\(6,1e\+308,1\): integer=1e\+308 has no fixed-point form here; expected an integer from -1023 to 1023/],
    ] as const) {
      const model = twoLayers(4, 3, Array.from({ length: 12 }, () => 0.5), [0, 0, 0], { activation });
      expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' }), activation).toThrow(UnsupportedLayersError);
      expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' }), activation).toThrow(want);
      model.dispose();
    }
  });

  it('a kernel quantizer whose parameters overflow float32 is refused naming the layer and kernel', () => {
    const model = twoLayers(4, 3, Array.from({ length: 12 }, () => 0.5), [0, 0, 0], { kernelQuantizer: 'quantized_bits(6,400,1)' });
    expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(8,2,1)' })).toThrow(
      /- d \(QDense\): the kernel quantized by quantized_bits\(6,400,1.*\) has the value NaN at flat index 0: the quantizer's parameters .* overflow float32/,
    );
    model.dispose();
  });

  it('an accumulator past 64 bits is refused by the checker, naming the layer', () => {
    const model = twoLayers(64, 3, Array.from({ length: 192 }, () => 1), [0, 0, 0]);
    expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(53,40,1)' })).toThrow(IRCheckError);
    expect(() => lowerModelDetailed(model, { inputQuantizer: 'quantized_bits(53,40,1)' })).toThrow(/%d: the accumulator reaches \d+, beyond the interpreter.s exact 2\^53 \(layer "d": use fewer bits/);
    model.dispose();
  });
});

/**
 * Dense 16 → 4 with every weight at the kernel quantizer's largest magnitude (±127 on the 2^-7 grid):
 * channel 0 all +, channel 1 all -, channels 2 and 3 alternating; linear output, so the outputs are the
 * accumulators themselves.
 */
function adversarial(inputQuantizer: string): { graph: Graph; proof: { lo: bigint; hi: bigint } } {
  const n = 16;
  const kernel = Array.from({ length: n * 4 }, (_, i) => {
    const [row, col] = [Math.floor(i / 4), i % 4];
    if (col === 0) return 1;
    if (col === 1) return -1;
    return (row + col) % 2 === 0 ? 1 : -1;
  });
  const input = tf.input({ shape: [n], name: 'x' });
  const out = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(8,0,1,alpha=1)', useBias: false, name: 'adv' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'adversarial' });
  model.setWeights([tf.tensor(kernel, [n, 4])]);
  const lowered = lowerModelDetailed(model, { inputQuantizer });
  model.dispose();
  return { graph: lowered.graph, proof: lowered.final.proofs.find((p) => p.node === 'adv')!.range };
}

/** `[sample][input][element]` codes of a code matrix (one-input graphs). */
function samplesOf(m: CodeMatrix): number[][][] {
  return Array.from({ length: m.count }, (_, k) => [Array.from(m.data.subarray(k * m.width, (k + 1) * m.width))]);
}

describe('the overflow proof at the limits', () => {
  // The proof covers every code of the input type: ±127 weights times codes down to -2^(bits-1).
  for (const [label, bits] of [
    ['8-bit inputs (int32 accumulators in C)', 8],
    ['24-bit inputs (int64 accumulators in C)', 24],
  ] as const) {
    it(`${label}: the input type's extreme codes reach exactly the proven bounds${cc === null ? ' (C skipped: no compiler)' : ', and C agrees on every code'}`, async () => {
      const { graph, proof } = adversarial(`quantized_bits(${bits},3,1)`);
      const bound = 16n * 127n * 2n ** BigInt(bits - 1);
      expect(proof).toEqual({ lo: -bound, hi: bound });
      expect(bound > 2n ** 31n - 1n).toBe(bits === 24);
      // Samples 0-3: all minimum codes, all maximum, and both alternations; then random codes.
      const codes = inputCodes(graph, 64, 5);
      const reached = samplesOf(codes).flatMap((s) => Array.from(runIRFromCodes(graph, s)[0]!.data, (v) => BigInt(v)));
      expect(reached.reduce((a, b) => (b > a ? b : a))).toBe(bound);
      expect(reached.reduce((a, b) => (b < a ? b : a))).toBe(-bound);
      // A recorded accumulator one bit narrower than the proof is an error the checker names.
      const narrow = { ...graph, nodes: graph.nodes.map((n) => (n.id === 'adv' && 'acc' in n && n.acc !== null ? { ...n, acc: { ...n.acc, width: n.acc.width - 1 } } : n)) } as Graph;
      const diags = check(narrow).diagnostics.filter((d) => d.code === 'accumulator');
      expect(diags.map((d) => d.node)).toEqual(['adv']);
      expect(diags[0]!.message).toContain(`the weights and input ranges reach [-${bound}, ${bound}]`);
      if (cc !== null) {
        const r = await checkC(graph, { count: 64, seed: 5 });
        expect(r.mismatch).toBeNull();
        expect(r.compared).toBe(64 * 4);
      }
    });
  }

  it.skipIf(verilator === null)(`Verilog equals the golden model on the extreme codes${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, async () => {
    const { graph } = adversarial('quantized_bits(24,3,1)');
    await expectBitExact(graph, { arch: 'parallel' }, samplesOf(inputCodes(graph, 64, 5)), {});
  });
});
