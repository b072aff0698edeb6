/**
 * Public surface of the hardware IR: node and type definitions, graphs and builders, the text form, the
 * checker, the golden interpreter, the pass pipeline, and the QKeras-quantizer rule mapping that lowering
 * uses. Free of tfjs, code generation and process spawning.
 */
export * from './nodes.js';
export type { Graph } from './graph.js';
export { makeGraph, nodeMap, getNode, consumers, useCount, replaceNode, mapNodes, addNode, removeNode, withOutputs, freshId } from './graph.js';
export { GraphBuilder, appendNode, deriveNode, rederive, type NodeSpec } from './builder.js';
export {
  F32_EXACT,
  roundShift,
  roundReal,
  saturate,
  gridFrac,
  codeRange,
  isCodeOf,
  storageBits,
  widthForRange,
  fixedForRange,
  toDyadic,
  type Range,
} from './fixed.js';
export { compileRule, ruleOutType, composeRequant } from './rules.js';
export {
  intWeightsFromValues,
  po2WeightsFromValues,
  vectorFromValues,
  vectorValues,
  weightValues,
  channelCodes,
  nonzeroCount,
} from './weights.js';
export { realValues, type IRTensor } from './tensor.js';
export { printIR, printNode, IR_TEXT_VERSION } from './print.js';
export { parseIR } from './parse-ir.js';
export { formatType, parseType } from './type-text.js';
export {
  check,
  assertValid,
  formatReport,
  type CheckReport,
  type CheckOptions,
  type Diagnostic,
  type DiagnosticCode,
  type AccumulatorProof,
} from './check.js';
export { runIR, runIRReal, traceIR, flattenSample, type IRInputs } from './interpret.js';
export { PIPELINE, runPipeline, type Pass, type PipelineOptions, type PipelineResult } from './pipeline.js';
export { inferWidths } from './passes/infer-widths.js';
export { removeDead } from './passes/remove-dead.js';
export { foldBatchnorm } from './passes/fold-batchnorm.js';
export { fuseRequantize } from './passes/fuse-requantize.js';
export { sizeAccumulators } from './passes/size-accumulators.js';
export { pruneZeros } from './passes/prune-zeros.js';
export {
  planRequant,
  inputRequant,
  buildRuleFromFunction,
  buildRuleFromReference,
  type QuantizerConfig,
  type RequantPlan,
  type RuleOptions,
  type SigmoidMode,
  type BatchFunction,
} from './quantizer-rules.js';
export { IRError, IRParseError, IRGraphError, IRCheckError, IRRuntimeError } from './errors.js';
