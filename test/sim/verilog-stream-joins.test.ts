/**
 * Streams that meet: residual adds and concatenations in the stream architecture equal the golden model
 * bit for bit in Verilator over 1,000 generated inputs each (saturating values and rounding ties of the
 * input quantizer included) with random input gaps and random back-pressure, with constant weights
 * unrolled and with weight ROMs; the branch that runs ahead gets a FIFO and the one the join waits for
 * none; a design free of stalls keeps its pipeline busy through its joins; and a concatenation the
 * stream architecture cannot stream is refused with a typed error naming the layer and pointing to the
 * parallel architecture. Icarus Verilog (strict -g2005) agrees on a sample.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { UnsupportedError } from '../../src/errors.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { IVERILOG, VERILATOR, VVP, findOptionalTool } from '../../src/sim/tools.js';
import { runIverilog } from '../../src/sim/iverilog-runner.js';
import { quantizeSample } from '../../src/sim/codes.js';
import { generateInputs } from '../../src/sim/verify.js';
import type { Graph } from '../../src/ir/index.js';
import { expectBitExact, firstDifference, goldenCodes } from './verilog-check.js';
import { branchesModel, conv1dJoinModel, inputSkipModel, vectorsModel, widthConcatModel, type JoinModel } from './verilog-join-models.js';

const verilator = findOptionalTool(VERILATOR);
const SKIP = verilator === null ? ' (skipped: Verilator not installed)' : '';
const INPUTS = 1000;

function codes(g: Graph, count: number, seed: number): number[][][] {
  return generateInputs(g, count, seed).map((s) => quantizeSample(g, s).map((a) => Array.from(a)));
}

function fifos(m: JoinModel, reuse = 1): Record<string, readonly number[]> {
  const d = generateVerilog(m.graph, { arch: 'stream', reuse });
  return Object.fromEntries(d.manifest.layers.filter((l) => l.fifos !== undefined).map((l) => [l.layer, l.fifos!]));
}

beforeAll(async () => {
  await ready();
});

describe('stream joins: design', () => {
  it('puts a FIFO only on the inputs that run ahead of their join', () => {
    const depths = fifos(branchesModel());
    // Inception: the dilated 3x3 conv (a 5x5 reach) lags; the 1x1 conv, the 3x3 conv and the pool run ahead.
    expect(depths['inception']!.map((d) => d > 0)).toEqual([true, true, true, false]);
    // The max pool skips row and column 6 that the strided conv reads; the add waits for the conv.
    expect(depths['add_strided']!.map((d) => d > 0)).toEqual([false, true]);
    // a + b(a) + c(b): the 3x3 conv c lags, a and b run ahead of it.
    expect(depths['add3']!.map((d) => d > 0)).toEqual([true, true, false]);
    // The input straight into the add runs ahead of the same-padded conv of it.
    expect(fifos(inputSkipModel())['skip']!.map((d) => d > 0)).toEqual([true, false]);
    // Whole vectors, one word each: no FIFO.
    expect(fifos(vectorsModel())).toEqual({ sum: [0, 0], cat: [0, 0, 0] });
  });

  it('refuses a concatenation along the width axis, naming the layer and the parallel architecture', () => {
    const { graph } = widthConcatModel();
    expect(() => generateVerilog(graph, { arch: 'stream' })).toThrow(UnsupportedError);
    expect(() => generateVerilog(graph, { arch: 'stream' })).toThrow(/layer "wide_cat" \(concat\): concatenating streamed feature maps along axis 1.*arch "parallel"/);
    expect(() => generateVerilog(graph, { arch: 'parallel' })).not.toThrow();
  });
});

describe.skipIf(verilator === null)(`stream joins === runIR in Verilator${SKIP}`, () => {
  const cases: { make: () => JoinModel; reuse: number; inGap: number; outStall: number }[] = [
    { make: branchesModel, reuse: 1, inGap: 0.3, outStall: 0.3 },
    { make: inputSkipModel, reuse: 1, inGap: 0.5, outStall: 0.2 },
    // Weight ROMs, two or three cycles per word: joins with other timing.
    { make: vectorsModel, reuse: 2, inGap: 0.3, outStall: 0.5 },
    { make: conv1dJoinModel, reuse: 3, inGap: 0, outStall: 0.7 },
  ];
  for (const c of cases) {
    it(`${c.make.name.replace(/Model$/, '')}, reuse ${c.reuse}: ${INPUTS} inputs, gaps ${c.inGap}, stalls ${c.outStall}`, async () => {
      const { graph } = c.make();
      const run = await expectBitExact(graph, { arch: 'stream', reuse: c.reuse }, codes(graph, INPUTS, 17 + c.reuse), { seed: 31 + c.reuse, inGap: c.inGap, outStall: c.outStall });
      expect(run.outputs.length).toBe(INPUTS);
    }, 600_000);
  }

  it('without stalls the input skip keeps its pipeline busy: under two clocks per input pixel', async () => {
    const { graph } = inputSkipModel();
    const run = await expectBitExact(graph, { arch: 'stream' }, codes(graph, 100, 3), {});
    // 4 x 8 = 32 pixels per image.
    expect(run.timing.meanInterval).toBeLessThan(2 * 32);
  }, 600_000);
});

const icarus = findOptionalTool(IVERILOG) !== null && findOptionalTool(VVP) !== null;

describe.skipIf(!icarus)(`stream joins in Icarus Verilog${icarus ? '' : ' (skipped: iverilog not installed)'}`, () => {
  it('the input skip: 10 inputs with back-pressure equal the golden model', async () => {
    const { graph } = inputSkipModel();
    const samples = codes(graph, 10, 5);
    const run = await runIverilog(generateVerilog(graph, { arch: 'stream' }), samples, { seed: 2, inGap: 0.3, outStall: 0.3 });
    expect(firstDifference(graph, run.outputs, goldenCodes(graph, samples))).toBeNull();
  }, 600_000);
});
