/**
 * The size of a fully parallel design, estimated from the weights before anything is generated. The
 * parallel architecture unrolls every constant multiplication of every output position into its own
 * logic, so a Dense 4096x4096 would become 16.7 million constant multipliers: hundreds of megabytes of
 * Verilog and a netlist no FPGA holds, after a very long generation. Past a limit (overridable), the
 * back-end refuses with the count per layer and points to the stream architecture.
 */
import type { Graph } from '../ir/graph.js';
import { outChannels, type MacNode, type Node } from '../ir/nodes.js';
import { ConfigError, UnsupportedError } from '../errors.js';

/**
 * Default limit on the constant multiplications a parallel design may unroll. 2^16 already is a large
 * FPGA's worth of logic (a Dense 256x256 of 8-bit weights, whose Verilog alone is about a megabyte).
 */
export const DEFAULT_MAX_PARALLEL_MACS = 65_536;

/** Bytes of generated Verilog per unrolled multiplication, measured on 4- to 8-bit dense layers (4 to 21). */
const BYTES_PER_MAC = 16;

const MAC_KINDS: ReadonlySet<Node['kind']> = new Set(['dense', 'conv1d', 'conv2d', 'depthwise', 'pointwise']);

function isMac(n: Node): n is MacNode {
  return MAC_KINDS.has(n.kind);
}

/** Nonzero weights, counted without copying (a model past the limit can hold many millions). */
function nonzero(w: MacNode['weights']): number {
  const values = w.kind === 'int' ? w.codes : w.signs;
  let count = 0;
  for (let i = 0; i < values.length; i += 1) if (values[i] !== 0) count += 1;
  return count;
}

/** One layer's share of a parallel design. */
export interface ParallelLayerSize {
  readonly node: string;
  readonly layer: string;
  /** Constant multiplications unrolled: nonzero weights times the output positions they are applied at. */
  readonly macs: number;
}

/** The unrolled multiplications of every MAC node (largest first). Reads only shapes and weight counts. */
export function parallelMacs(g: Graph): ParallelLayerSize[] {
  const out: ParallelLayerSize[] = [];
  for (const n of g.nodes) {
    if (!isMac(n)) continue;
    const channels = outChannels(n.kind, n.weights.shape);
    const positions = channels === 0 ? 0 : n.shape.reduce((a, b) => a * b, 1) / channels;
    out.push({ node: n.id, layer: n.origin.layer, macs: nonzero(n.weights) * positions });
  }
  return out.sort((a, b) => b.macs - a.macs);
}

/** A parallel design that would be too large to generate; says how large and what to do instead. */
export class DesignTooLargeError extends UnsupportedError {
  constructor(
    readonly graph: string,
    readonly macs: number,
    readonly limit: number,
    readonly layers: readonly ParallelLayerSize[],
  ) {
    const top = layers
      .slice(0, 3)
      .map((l) => `${JSON.stringify(l.layer)} ${l.macs.toLocaleString('en-US')}`)
      .join(', ');
    const mb = Math.max(1, Math.round((macs * BYTES_PER_MAC) / 1e6));
    super(
      `a fully parallel design of ${JSON.stringify(graph)} would unroll ${macs.toLocaleString('en-US')} constant ` +
        `multiplications (largest layers: ${top}), more than the limit of ${limit.toLocaleString('en-US')}: about ` +
        `${mb} MB of Verilog and far more logic than an FPGA holds. Use the stream architecture (--arch stream, ` +
        'whose reuse factors trade multipliers for cycles), or raise the limit (--max-macs, option maxParallelMacs)',
    );
  }
}

/**
 * Throws `DesignTooLargeError` when the parallel design of `g` would unroll more than `limit` multiplications
 * (default DEFAULT_MAX_PARALLEL_MACS), and a ConfigError naming `where` when `limit` is not a non-negative
 * number. The Verilog emitter and the hardware-cost estimator both call it first, so they refuse the same designs.
 */
export function checkParallelSize(g: Graph, limit: unknown = DEFAULT_MAX_PARALLEL_MACS, where = 'emitVerilog'): void {
  if (typeof limit !== 'number' || !(limit >= 0)) throw new ConfigError(where, 'maxParallelMacs', limit, 'a non-negative number (Infinity for no limit)');
  const layers = parallelMacs(g);
  const total = layers.reduce((a, l) => a + l.macs, 0);
  if (total > limit) throw new DesignTooLargeError(g.name, total, limit, layers);
}
