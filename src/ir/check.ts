/**
 * The IR checker. It recomputes everything a graph claims and reports every problem at once:
 * structure (ids, order, inputs/outputs), shapes and types against the op registry, rule sanity, and the
 * accumulator proof: from the actual integer weights and the input ranges, the exact range each
 * accumulator can reach, which the recorded width must hold. The proof is computed here, never assumed.
 *
 * Separately (code `float32`, severity warning) it flags ops where tfjs's float32 evaluation of the
 * quantized model is not proven exact: accumulations beyond 2^24 units of their grid, QKeras's
 * `x + (xq - x)` residual beyond 2^24, divisions by non-power-of-two window counts that float32 rounds,
 * values below float32's normal range. Those warnings are about the graph as lowered (mirroring tfjs's
 * ops); after folding passes they describe the folded arithmetic, so read them on the lowered graph.
 */
import type { Graph } from './graph.js';
import type { FixedType, IntType, Node, Requant, TensorType } from './nodes.js';
import { isAccumulating, typesEqual } from './nodes.js';
import {
  SAFE_LIMIT,
  codeRange,
  fixedForRange,
  fitsRange,
  formatRange,
  gridFrac,
  isCodeOf,
  maxAbs,
  pow2,
  shiftRange,
  type Range,
} from './fixed.js';
import { compileRealRule } from './rules.js';
import { formatType as describeType } from './type-text.js';
import { IRCheckError, IRError } from './errors.js';
import { assertNever } from '../errors.js';
import { opOf } from '../ops/registry.js';

export type Severity = 'error' | 'warning';

export type DiagnosticCode =
  | 'structure'
  | 'arity'
  | 'shape'
  | 'type'
  | 'untyped'
  | 'rule'
  | 'accumulator'
  | 'interpreter-range'
  | 'float32';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  /** Node id, or null for graph-level problems. */
  readonly node: string | null;
  readonly message: string;
}

/** What the checker proved about one accumulator. */
export interface AccumulatorProof {
  readonly node: string;
  /** Natural grid of the exact value. */
  readonly frac: number;
  /** Proven range of codes on that grid. */
  readonly range: Range;
  /** The tightest type holding it. */
  readonly required: FixedType;
  /** The recorded accumulator type (null if not sized yet). */
  readonly recorded: FixedType | null;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly proofs: readonly AccumulatorProof[];
}

export interface CheckOptions {
  /** Require every node type and accumulator to be recorded (true after the pipeline). Default false. */
  readonly complete?: boolean;
  /** Report float32-exactness warnings. Default true. */
  readonly float32?: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Problems of a requantizer applied to inputs of `inType` (float for the input node). */
function ruleProblems(rq: Requant, inType: TensorType): string[] {
  const r = rq.rule;
  const out: string[] = [];
  if (rq.residual === 'relu' && r.kind !== 'shift') out.push('the relu residual form only exists for shift rules');
  switch (r.kind) {
    case 'shift':
      if (r.lo !== null && r.hi !== null && r.lo > r.hi) out.push(`clip bounds lo=${r.lo} > hi=${r.hi}`);
      if (r.negSlopeExp !== null && r.lo === null) out.push('a negative slope needs a lower clip bound');
      if (r.negSlopeExp !== null && r.lo !== null && r.lo > 0) out.push('a negative slope needs lo <= 0');
      break;
    case 'sign':
    case 'ternary':
      break;
    case 'thresholds':
      if (r.values.length !== r.thresholds.length + 1) {
        out.push(`${r.thresholds.length} thresholds need ${r.thresholds.length + 1} values, got ${r.values.length}`);
      }
      if (r.thresholds.some((t, i) => i > 0 && t < r.thresholds[i - 1]!)) out.push('thresholds must be ascending');
      r.values.forEach((v, i) => {
        if (!isCodeOf(v, r.out)) out.push(`value ${v} (entry ${i}) is not a code of ${describeType(r.out)}`);
      });
      break;
    case 'table': {
      r.values.forEach((v, i) => {
        if (!isCodeOf(v, r.out)) out.push(`table value ${v} (entry ${i}) is not a code of ${describeType(r.out)}`);
      });
      if (inType.kind !== 'float') {
        const fi = gridFrac(inType);
        if (fi > r.inFrac) {
          out.push(`the table's grid 2^-${r.inFrac} is coarser than its input's 2^-${fi}`);
        } else {
          const ir = shiftRange(codeRange(inType), r.inFrac - fi);
          const tr = { lo: BigInt(r.inMin), hi: BigInt(r.inMin + r.values.length - 1) };
          if (!fitsRange(ir, tr)) out.push(`the table covers codes ${formatRange(tr)} but inputs reach ${formatRange(ir)}`);
        }
      }
      break;
    }
    default:
      assertNever(r, 'rule');
  }
  if (out.length > 12) return [...out.slice(0, 12), `... and ${out.length - 12} more`];
  if (inType.kind === 'float' && out.length === 0) {
    try {
      compileRealRule(r);
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

function floatRangeWarnings(t: IntType): string[] {
  const msgs: string[] = [];
  const f = gridFrac(t);
  if (f > 126) msgs.push(`values on the grid 2^-${f} are below float32's normal range; TensorFlow flushes such subnormals to zero`);
  const top = Number(maxAbs(codeRange(t))) * pow2(-f);
  if (top >= 2 ** 128) msgs.push('values can exceed the float32 range');
  return msgs;
}

/** Checks a graph; never throws for problems in the graph, it reports them. */
export function check(graph: Graph, options: CheckOptions = {}): CheckReport {
  const complete = options.complete ?? false;
  const wantF32 = options.float32 ?? true;
  const diags: Diagnostic[] = [];
  const proofs: AccumulatorProof[] = [];
  const err = (node: string | null, code: DiagnosticCode, message: string): void => {
    diags.push({ severity: 'error', code, node, message });
  };
  const warn = (node: string | null, code: DiagnosticCode, message: string): void => {
    diags.push({ severity: 'warning', code, node, message });
  };

  const checkAccumulator = (node: Node, acc: FixedType | null, frac: number, proven: Range, required: FixedType): void => {
    if (acc === null) {
      if (complete) err(node.id, 'untyped', `accumulator not sized; the proven range needs ${describeType(required)}`);
    } else if (acc.frac < frac) {
      err(node.id, 'accumulator', `accumulator grid 2^-${acc.frac} is coarser than the exact value's 2^-${frac}`);
    } else {
      const onAcc = shiftRange(proven, acc.frac - frac);
      if (!fitsRange(onAcc, codeRange(acc))) {
        err(
          node.id,
          'accumulator',
          `accumulator ${describeType(acc)} holds codes ${formatRange(codeRange(acc))} but the weights and input ` +
            `ranges reach ${formatRange(onAcc)} (needs ${describeType(fixedForRange(onAcc, acc.frac))})`,
        );
      }
    }
    const used = acc !== null && acc.frac >= frac ? shiftRange(proven, acc.frac - frac) : proven;
    if (maxAbs(used) > BigInt(SAFE_LIMIT)) {
      err(
        node.id,
        'interpreter-range',
        `the accumulator reaches ${maxAbs(used)}, beyond the interpreter's exact 2^53 (layer ${JSON.stringify(node.origin.layer)}: ` +
          'use fewer bits in the quantizers of its input or weights)',
      );
    }
  };

  // ---- structure
  const seen = new Map<string, Node>();
  for (const node of graph.nodes) {
    if (!ID_PATTERN.test(node.id)) err(node.id, 'structure', `id ${JSON.stringify(node.id)} may only use letters, digits, _ . -`);
    if (seen.has(node.id)) err(node.id, 'structure', 'duplicate node id');
    for (const i of node.inputs) {
      if (!seen.has(i)) err(node.id, 'structure', `input %${i} is not defined before this node`);
    }
    seen.set(node.id, node);
  }
  for (const id of graph.inputs) {
    const n = seen.get(id);
    if (n === undefined || n.kind !== 'input') err(null, 'structure', `graph input %${id} is not an input node`);
  }
  for (const n of graph.nodes) {
    if (n.kind === 'input' && !graph.inputs.includes(n.id)) err(n.id, 'structure', 'input node missing from the graph inputs');
  }
  if (graph.outputs.length === 0) err(null, 'structure', 'the graph has no outputs');
  for (const id of graph.outputs) if (!seen.has(id)) err(null, 'structure', `graph output %${id} is not a node`);

  // ---- shapes, types, rules, accumulators (derived values flow on, so one mistake is reported once)
  const shapes = new Map<string, readonly number[]>();
  const types = new Map<string, TensorType | null>();
  for (const node of graph.nodes) {
    const op = opOf(node);
    const inIds = node.inputs.filter((i) => shapes.has(i));
    if (inIds.length !== node.inputs.length) {
      shapes.set(node.id, node.shape);
      types.set(node.id, node.type);
      continue;
    }
    if (node.inputs.length < op.arity[0] || node.inputs.length > op.arity[1]) {
      err(node.id, 'arity', `${node.kind} takes ${op.arity[0]}..${op.arity[1]} inputs, got ${node.inputs.length}`);
      shapes.set(node.id, node.shape);
      types.set(node.id, node.type);
      continue;
    }
    const inShapes = node.inputs.map((i) => shapes.get(i)!);
    let shape: readonly number[] = node.shape;
    try {
      shape = op.shape(node, inShapes);
      if (shape.length !== node.shape.length || shape.some((d, i) => d !== node.shape[i])) {
        err(node.id, 'shape', `recorded shape [${node.shape.join(', ')}] but the ${node.kind} rule gives [${shape.join(', ')}]`);
      }
    } catch (e) {
      if (!(e instanceof IRError)) throw e;
      err(node.id, 'shape', e.message);
    }
    shapes.set(node.id, shape);

    const inTypes = node.inputs.map((i) => types.get(i) ?? null);
    let derived: TensorType | null = null;
    if (inTypes.every((t) => t !== null)) {
      const known = inTypes as TensorType[];
      const allInt = known.every((t) => t.kind !== 'float');
      // The exact accumulator first: the fused rule reads it, and its proof is the point of the checker.
      let accUsed: FixedType | null = null;
      if (allInt && isAccumulating(node)) {
        try {
          const info = op.accumulator(node, known as IntType[], inShapes);
          if (info !== null) {
            const required = fixedForRange(info.range, info.frac);
            proofs.push({ node: node.id, frac: info.frac, range: info.range, required, recorded: node.acc });
            accUsed = node.acc ?? required;
            checkAccumulator(node, node.acc, info.frac, info.range, required);
          }
        } catch (e) {
          if (!(e instanceof IRError)) throw e;
          err(node.id, 'accumulator', e.message);
        }
      }
      const rq = node.kind === 'input' ? node.quant : node.kind === 'requantize' ? node.requant : isAccumulating(node) ? node.requant : null;
      const ruleIn: TensorType | null =
        node.kind === 'input' ? { kind: 'float' } : node.kind === 'requantize' ? known[0]! : accUsed;
      if (rq !== null && ruleIn !== null) {
        for (const p of ruleProblems(rq, ruleIn)) err(node.id, 'rule', `${rq.quantizer}: ${p}`);
      }
      try {
        derived = op.type(node, known, inShapes);
      } catch (e) {
        if (!(e instanceof IRError)) throw e;
        err(node.id, 'type', e.message);
      }
      if (derived !== null && node.type !== null && !typesEqual(derived, node.type)) {
        err(node.id, 'type', `recorded type ${describeType(node.type)} but the inputs and contents give ${describeType(derived)}`);
      }
      if (wantF32 && derived !== null && allInt) {
        try {
          for (const m of op.float32(node, known as IntType[], inShapes)) warn(node.id, 'float32', m);
        } catch (e) {
          if (!(e instanceof IRError)) throw e;
        }
      }
      if (wantF32 && derived !== null && derived.kind !== 'float') {
        for (const m of floatRangeWarnings(derived)) warn(node.id, 'float32', m);
      }
    }
    if (complete && node.type === null) err(node.id, 'untyped', 'node type not inferred (run the infer-widths pass)');
    types.set(node.id, derived ?? node.type);
  }

  return { ok: !diags.some((d) => d.severity === 'error'), diagnostics: diags, proofs };
}

/** Checks and throws IRCheckError listing every error; returns the report (with warnings) otherwise. */
export function assertValid(graph: Graph, options: CheckOptions = {}): CheckReport {
  const report = check(graph, options);
  if (!report.ok) throw new IRCheckError(report.diagnostics.filter((d) => d.severity === 'error'));
  return report;
}

/** Text form of a report, one line per diagnostic. */
export function formatReport(report: CheckReport): string {
  return report.diagnostics
    .map((d) => `${d.severity} ${d.code} ${d.node === null ? 'graph' : `%${d.node}`}: ${d.message}`)
    .join('\n');
}

