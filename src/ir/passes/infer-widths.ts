/**
 * infer-widths: derives every node's output type from its inputs and contents, in graph order (fixed
 * widths of sums and requantized outputs, the accumulator type where none is recorded yet). Recorded
 * accumulators are kept; types are recomputed, so stale ones are corrected.
 */
import type { Graph } from '../graph.js';
import { rederive } from '../builder.js';

export function inferWidths(g: Graph): Graph {
  return rederive(g);
}
