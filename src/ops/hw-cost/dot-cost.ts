/**
 * Hardware counts of a layer of constant dot products, from the emitter's own plan: `dotDatapath`
 * says whether the layer became constants, XNOR-popcount or shift-add, and for shift-add
 * `planMatvec` gives the adder networks (`cmvmAdders`: each row's shifted addends and constant, each
 * shared sub-expression's two operands — with `share`, exactly the network the emitter writes). Each
 * network's adder cells come from the carry-save model of `macc.ts`.
 */
import type { DotPlan } from '../../codegen/verilog-plan.js';
import { dotDatapath, type BusRef, type DotKind } from '../../codegen/verilog-datapath.js';
import { planMatvec } from '../../codegen/cmvm-verilog.js';
import { cmvmAdderCount, cmvmAdders } from '../../codegen/cmvm.js';
import { addCells, emptyFeatures, type Features } from './features.js';
import { maccCells } from './macc.js';

export interface DotCost {
  readonly features: Features;
  readonly kind: DotKind;
  /** Two-input additions (constants not counted): the adder count of the datapath. */
  readonly additions: number;
  /** Shared sub-expressions (with `share`). */
  readonly shared: number;
}

/** Counts of the datapath computing `plans` modulo 2^W from the buses `ins`. */
export function dotCost(plans: readonly DotPlan[], ins: readonly BusRef[], W: number, share: boolean): DotCost {
  const features = emptyFeatures();
  const kind = dotDatapath(plans, ins, W);
  if (kind === 'const') return { features, kind, additions: 0, shared: 0 };
  if (kind === 'xnor') {
    // Per output: a popcount of its t agreeing bits, then bias - t·m + (count << (log2 m + 1)) for its
    // weights ±m (the emitter's qk_xnor_matvec).
    let additions = 0;
    for (const p of plans) {
      const ts = p.terms.filter((x) => x.weight !== 0n);
      if (ts.length === 0) continue;
      const m = ts[0]!.weight < 0n ? -ts[0]!.weight : ts[0]!.weight;
      const sh = m.toString(2).length;
      // Synthesis merges the count into the biased sum: one carry-save tree of t one-bit addends.
      addCells(features, maccCells(W, Array.from({ length: ts.length }, () => ({ width: 1, shift: sh })), p.bias - BigInt(ts.length) * m));
      additions += ts.length;
    }
    return { features, kind, additions, shared: 0 };
  }
  const { plan } = planMatvec(plans, ins, W, { share });
  for (const a of cmvmAdders(plan)) addCells(features, maccCells(a.width, a.operands, a.constant));
  return { features, kind, additions: cmvmAdderCount(plan), shared: plan.vars.length - plan.inputs };
}
