/**
 * Pass tests in the "IR text → pass → expected IR text" form: inputs and expected outputs live under
 * test/golden/ir/ (update expected files with `vitest -u` and review them like code). Each pass output is
 * checked, and must compute exactly what its input computes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  PIPELINE,
  check,
  foldBatchnorm,
  formatReport,
  fuseRequantize,
  inferWidths,
  parseIR,
  printIR,
  pruneZeros,
  removeDead,
  runIRReal,
  runPipeline,
  sizeAccumulators,
  type Graph,
} from '../../src/ir/index.js';
import { rng } from './reference.js';

const GOLDEN = fileURLToPath(new URL('../golden/ir/', import.meta.url));
const read = (name: string): Graph => parseIR(readFileSync(GOLDEN + name, 'utf8'));

/** Random real inputs for every graph input (wide enough to saturate every input quantizer used here). */
function randomInputs(g: Graph, seed: number): number[][] {
  const r = rng(seed);
  return g.inputs.map((id) => {
    const n = g.nodes.find((x) => x.id === id)!.shape.reduce((a, b) => a * b, 1);
    return Array.from({ length: n }, () => (r() - 0.5) * 12);
  });
}

function expectSameFunction(before: Graph, after: Graph): void {
  for (let s = 0; s < 200; s += 1) {
    const xs = randomInputs(before, s);
    expect(runIRReal(after, xs).map((t) => Array.from(t))).toEqual(runIRReal(before, xs).map((t) => Array.from(t)));
  }
}

const cases: [string, string, (g: Graph) => Graph, string][] = [
  ['fold-batchnorm', 'fold-batchnorm.in.ir', foldBatchnorm, 'fold-batchnorm.out.ir'],
  ['fold-batchnorm (conv output used twice: no fold)', 'fold-batchnorm-shared.in.ir', foldBatchnorm, 'fold-batchnorm-shared.out.ir'],
  ['fuse-requantize', 'fuse-requantize.in.ir', fuseRequantize, 'fuse-requantize.out.ir'],
  ['infer-widths', 'infer-widths.in.ir', inferWidths, 'infer-widths.out.ir'],
  ['prune-zeros', 'prune-zeros.in.ir', pruneZeros, 'prune-zeros.out.ir'],
  ['remove-dead', 'prune-zeros.in.ir', removeDead, 'remove-dead.out.ir'],
];

describe('passes: IR text → pass → expected IR text', () => {
  for (const [name, input, pass, output] of cases) {
    it(name, async () => {
      const before = read(input);
      expect(check(before).ok).toBe(true);
      const after = pass(before);
      const report = check(after);
      expect(report.ok, formatReport(report)).toBe(true);
      await expect(printIR(after)).toMatchFileSnapshot(GOLDEN + output);
      expectSameFunction(before, after);
      // passes are pure: the input graph is untouched, and running a pass twice changes nothing more
      expect(printIR(before)).toBe(readFileSync(GOLDEN + input, 'utf8'));
      expect(printIR(pass(after))).toBe(printIR(after));
    });
  }

  it('size-accumulators: replaces a too-narrow and a too-wide accumulator by the proven one', async () => {
    const before = read('size-accumulators.in.ir');
    const errors = check(before).diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.node}: ${d.message}`)).toEqual([
      // the recorded 32-bit accumulator of %wide is the type %narrow's proof starts from
      'narrow: accumulator fixed<s4,12> holds codes [-8, 7] but the weights and input ranges reach ' +
        '[-21474836480, 21474836478] (needs fixed<s36,12>)',
    ]);
    const after = sizeAccumulators(before);
    expect(check(after, { complete: true }).ok).toBe(true);
    await expect(printIR(after)).toMatchFileSnapshot(GOLDEN + 'size-accumulators.out.ir');
    const accs = after.nodes.filter((n) => n.kind === 'dense').map((n) => (n.kind === 'dense' ? n.acc : null));
    expect(accs).toEqual([
      { kind: 'fixed', signed: true, width: 10, frac: 7 },
      { kind: 'fixed', signed: true, width: 14, frac: 7 },
    ]);
    // By hand: %wide (inputs 0..15 on 2^-4, po2 weights, bias 3/16 and -1/16) reaches [-111, 204] and
    // [-38, 322] on 2^-7 per channel; %narrow (inputs [-512, 511]) reaches [-5120, 5110] and [-5112, 5118].
    const proofs = check(after).proofs.map((p) => [p.node, p.range.lo, p.range.hi]);
    expect(proofs).toEqual([
      ['wide', -111n, 322n],
      ['narrow', -5120n, 5118n],
    ]);
  });
});

describe('the pipeline', () => {
  it('is the explicit list of passes', () => {
    expect(PIPELINE.map((p) => p.name)).toEqual([
      'infer-widths',
      'remove-dead',
      'fold-batchnorm',
      'fuse-requantize',
      'size-accumulators',
      'prune-zeros',
    ]);
  });

  for (const input of ['fold-batchnorm.in.ir', 'fuse-requantize.in.ir', 'infer-widths.in.ir', 'prune-zeros.in.ir']) {
    it(`${input}: checked after every pass, complete at the end, same function`, async () => {
      const before = read(input);
      const { graph, final } = runPipeline(before, { checkEachPass: true });
      expect(final.ok).toBe(true);
      expect(final.proofs.every((p) => p.recorded !== null)).toBe(true);
      await expect(printIR(graph)).toMatchFileSnapshot(GOLDEN + input.replace('.in.ir', '.pipeline.ir'));
      expectSameFunction(before, graph);
    });
  }
});
