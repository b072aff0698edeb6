/**
 * The C back-end equals the golden interpreter bit for bit: every graph of the battery (each node kind,
 * both rounding rules, saturation, ties, binary / ternary / po2 / auto_po2 weights, strides, dilation,
 * padding, every rule kind, 64-bit accumulators) and every golden IR file, compiled once with
 * `cc -O2 -std=c99 -Wall -Wextra -Werror -pedantic -Wconversion` and run on 1,000 input vectors
 * (extremes included); a few graphs also under AddressSanitizer + UBSan, and with clang when present.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIR, runPipeline, type Graph } from '../../src/ir/index.js';
import { CLANG, C_COMPILER, findOptionalTool } from '../../src/sim/tools.js';
import { batteryGraphs } from './c-graphs.js';
import { checkC } from './c-check.js';

const VECTORS = 1000;
const GOLDEN_IR = join(import.meta.dirname, '..', 'golden', 'ir');

function goldenIrGraphs(): { name: string; graph: Graph }[] {
  return readdirSync(GOLDEN_IR)
    // size-accumulators.in.ir records a deliberately too-narrow accumulator: the checker refuses it. The
    // lab-book models are checked on MNIST images in c-lowered.test.ts (interpreting them on 1,000 random
    // vectors here would take half a minute each).
    .filter((f) => f.endsWith('.ir') && f !== 'size-accumulators.in.ir' && !f.startsWith('labbook-'))
    .sort()
    .map((f) => ({ name: `golden ${f}`, graph: runPipeline(parseIR(readFileSync(join(GOLDEN_IR, f), 'utf8'))).graph }));
}

const battery = batteryGraphs();
const cc = findOptionalTool(C_COMPILER);

describe.skipIf(cc === null)(`C (-O2, strict flags) equals runIR on ${VECTORS} vectors per graph${cc === null ? ' (skipped: no C compiler; set CC)' : ''}`, () => {
  for (const { name, graph } of [...battery, ...goldenIrGraphs()]) {
    it(name, async () => {
      const r = await checkC(graph, { count: VECTORS });
      expect(r.mismatch, JSON.stringify(r.located)).toBeNull();
      expect(r.count).toBe(VECTORS);
      expect(r.compared).toBeGreaterThanOrEqual(VECTORS);
    });
  }
});

const SANITIZED = ['cnn-flatten-argmax', 'conv2d-blocks-and-borders', 'lookup-rules', 'avgpool-q-same-and-plain', 'dense-xnor', 'dense-ternary-addsub', 'conv1d-causal-same-strided', 'depthwise-dm2-same-stride2', 'outputs-that-copy'];

describe.skipIf(cc === null)('C under -fsanitize=address,undefined', () => {
  it(`${SANITIZED.length} graphs and all-kinds.ir run clean and equal runIR`, async () => {
    const graphs = [
      ...battery.filter((g) => SANITIZED.includes(g.name)),
      ...goldenIrGraphs().filter((g) => g.name === 'golden all-kinds.ir'),
    ];
    expect(graphs).toHaveLength(SANITIZED.length + 1);
    for (const { graph } of graphs) {
      const r = await checkC(graph, { count: 300, sanitize: true, optimize: ['-O1'] });
      expect(r.mismatch, JSON.stringify(r.located)).toBeNull();
    }
  });
});

const clang = findOptionalTool(CLANG);

describe.skipIf(clang === null)(`C compiled with clang${clang === null ? ' (skipped: clang is not installed; set CLANG or install clang)' : ''}`, () => {
  it('the whole battery compiles warning-free and equals runIR', async () => {
    for (const { graph } of battery) {
      const r = await checkC(graph, { count: 200, compiler: clang! });
      expect(r.mismatch, JSON.stringify(r.located)).toBeNull();
    }
  });
});
