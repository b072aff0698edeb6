/**
 * The pass pipeline, one explicit list. Each pass is a pure `(Graph) => Graph`; `runPipeline` checks the
 * lowered graph first (its float32 warnings describe tfjs's own arithmetic), can check after every pass,
 * and requires a complete, proven graph at the end.
 */
import type { Graph } from './graph.js';
import { assertValid, check, type CheckReport } from './check.js';
import { IRCheckError } from './errors.js';
import { inferWidths } from './passes/infer-widths.js';
import { removeDead } from './passes/remove-dead.js';
import { foldBatchnorm } from './passes/fold-batchnorm.js';
import { fuseRequantize } from './passes/fuse-requantize.js';
import { sizeAccumulators } from './passes/size-accumulators.js';
import { pruneZeros } from './passes/prune-zeros.js';

export interface Pass {
  readonly name: string;
  readonly run: (g: Graph) => Graph;
}

export const PIPELINE: readonly Pass[] = [
  { name: 'infer-widths', run: inferWidths },
  { name: 'remove-dead', run: removeDead },
  { name: 'fold-batchnorm', run: foldBatchnorm },
  { name: 'fuse-requantize', run: fuseRequantize },
  { name: 'size-accumulators', run: sizeAccumulators },
  { name: 'prune-zeros', run: pruneZeros },
];

export interface PipelineOptions {
  /** Run the checker after every pass and stop at the first pass that breaks the graph. Default false. */
  readonly checkEachPass?: boolean;
  readonly passes?: readonly Pass[];
}

export interface PipelineResult {
  readonly graph: Graph;
  /** The check of the graph as given (float32 warnings refer to tfjs's evaluation of it). */
  readonly initial: CheckReport;
  /** The check of the final graph, with every accumulator proven. */
  readonly final: CheckReport;
}

export function runPipeline(graph: Graph, options: PipelineOptions = {}): PipelineResult {
  const initial = assertValid(graph);
  let g = graph;
  for (const pass of options.passes ?? PIPELINE) {
    g = pass.run(g);
    if (options.checkEachPass === true) {
      const r = check(g);
      if (!r.ok) {
        throw new IRCheckError(
          r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ ...d, message: `after ${pass.name}: ${d.message}` })),
        );
      }
    }
  }
  const final = assertValid(g, { complete: true });
  return { graph: g, initial, final };
}
