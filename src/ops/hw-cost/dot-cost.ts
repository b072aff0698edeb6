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
import { addCells, addFeatures, emptyFeatures, type Features } from './features.js';
import { maccCells } from './macc.js';
import { clog2 } from '../../codegen/verilog-format.js';

export interface DotCost {
  readonly features: Features;
  readonly kind: DotKind;
  /** Two-input additions (constants not counted): the adder count of the datapath. */
  readonly additions: number;
  /** Shared sub-expressions (with `share`). */
  readonly shared: number;
  /** Per output row: its own adder cells (null when rows share sub-expressions or are constants). */
  readonly rows: readonly Features[] | null;
}

/** Input bits a row reads (±1 inputs as their one bit): the support of its logic cone. */
export function rowSupport(plan: DotPlan, ins: readonly BusRef[]): number {
  const seen = new Set<string>();
  let bits = 0;
  for (const t of plan.terms) {
    if (t.weight === 0n) continue;
    const key = `${t.slot}:${t.index}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const bus = ins[t.slot]!;
    bits += bus.pm ? 1 : bus.fmt.width;
  }
  return bits;
}

/** Counts of the datapath computing `plans` modulo 2^W from the buses `ins`. */
export function dotCost(plans: readonly DotPlan[], ins: readonly BusRef[], W: number, share: boolean): DotCost {
  const features = emptyFeatures();
  const kind = dotDatapath(plans, ins, W);
  if (kind === 'const') return { features, kind, additions: 0, shared: 0, rows: null };
  if (kind === 'xnor') {
    // Per output: a popcount of its t agreeing bits, then bias - t·m + (count << (log2 m + 1)) for its
    // weights ±m (the emitter's qk_xnor_matvec).
    let additions = 0;
    const rows = plans.map((p) => {
      const row = emptyFeatures();
      const ts = p.terms.filter((x) => x.weight !== 0n);
      if (ts.length === 0) return row;
      const m = ts[0]!.weight < 0n ? -ts[0]!.weight : ts[0]!.weight;
      const sh = m.toString(2).length;
      const pop = maccCells(W, Array.from({ length: ts.length }, () => ({ width: 1, shift: 0 })));
      row.pop += pop.fa + pop.ha + pop.cpa2 + pop.cpa1;
      addCells(row, maccCells(W, [{ width: clog2(ts.length + 1), shift: sh }], p.bias - BigInt(ts.length) * m));
      addFeatures(features, row);
      additions += ts.length;
      return row;
    });
    return { features, kind, additions, shared: 0, rows };
  }
  const { plan } = planMatvec(plans, ins, W, { share });
  const shared = plan.vars.length - plan.inputs;
  const rows = plans.map(() => emptyFeatures());
  for (const a of cmvmAdders(plan)) {
    const cells = maccCells(a.width, a.operands, a.constant);
    addCells(features, cells);
    if (a.kind === 'row') addCells(rows[a.index]!, cells);
  }
  return { features, kind, additions: cmvmAdderCount(plan), shared, rows: shared > 0 ? null : rows };
}
