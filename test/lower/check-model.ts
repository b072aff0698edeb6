/**
 * The equality check every battery model goes through: lower it, require a proven graph with no float32
 * warning, then run the tfjs and ir engines on ≥ 1,000 inputs and compare every output value with ===.
 */
import { expect } from 'vitest';
import { isAccumulating, printIR, runPipeline, type InputNode } from '../../src/ir/index.js';
import { irEngine } from '../../src/engines/ir-engine.js';
import { tfjsEngine } from '../../src/engines/tfjs-engine.js';
import { LoadedModel } from '../../src/engines/loaded-model.js';
import { rng, samples, type InputGrid, type ZooModel } from './zoo.js';

export const INPUTS_PER_MODEL = 1000;

function inputGrid(lm: LoadedModel): InputGrid {
  const input = lm.graph().nodes.find((n) => n.kind === 'input') as InputNode;
  const rule = input.quant.rule;
  if (rule.kind === 'shift') return { frac: rule.frac!, lo: rule.lo!, hi: rule.hi! };
  return { frac: 4, lo: -16, hi: 16 };
}

export interface CheckResult {
  readonly inputs: number;
  readonly values: number;
}

/** Lowers, proves, and compares the two engines on every value. */
export async function checkModel(z: ZooModel, seed: number, inputs = INPUTS_PER_MODEL): Promise<CheckResult> {
  const lm = new LoadedModel(z.name, z.model, z.inputQuantizer);
  const lowered = lm.lowered();
  // tfjs's float32 evaluation of the lowered graph is proven exact: no warning at all.
  expect(lowered.warnings.map((w) => `${w.node}: ${w.message}`)).toEqual([]);
  // Every accumulator of the final graph is recorded, proven by the checker, and as tight as the proof.
  expect(lowered.final.ok).toBe(true);
  for (const n of lowered.graph.nodes.filter(isAccumulating)) {
    const proof = lowered.final.proofs.find((p) => p.node === n.id);
    expect(proof, `proof of %${n.id}`).toBeDefined();
    expect(n.acc).not.toBeNull();
    expect(proof!.recorded).toEqual(n.acc);
    expect(n.acc!.width).toBe(proof!.required.width);
  }
  // Every pass keeps the graph valid (checked after each one).
  expect(printIR(runPipeline(lowered.lowered, { checkEachPass: true }).graph)).toBe(printIR(lowered.graph));
  const size = lm.inputShape.reduce((a, b) => a * b, 1);
  const xs = samples(rng(seed), inputs, size, inputGrid(lm));
  const want = await tfjsEngine.predict(lm, xs);
  const got = await irEngine.predict(lm, xs);
  expect(got.length).toBe(xs.length);
  let values = 0;
  for (let k = 0; k < xs.length; k += 1) {
    const g = got[k]!;
    const w = want[k]!;
    expect(g.length).toBe(w.length);
    for (let j = 0; j < g.length; j += 1) {
      if (g[j] !== w[j]) {
        expect.fail(`${z.name}: sample ${k} output ${j}: ir ${g[j]} !== tfjs ${w[j]} (input ${JSON.stringify(xs[k])})`);
      }
    }
    values += g.length;
  }
  return { inputs: xs.length, values };
}
