/** qkeras-ts package root: a plain list of the modules' public surfaces. */
export * from './quantizers/index.js';
export * from './layers/index.js';
export * from './import/index.js';
export { ready, backendInfo } from './backend/index.js';
export * from './utils/index.js';
export { type SaveQmodelOptions } from './utils/save-load.js';
export { type BinaryToThermometerOptions } from './utils/b2t.js';
export { extractModelOperations, printQstats } from './ops/estimate.js';
export { estimateHardware, type HardwareEstimate, type HardwareOptions } from './ops/hw-cost/index.js';
export * from './qtools/index.js';
export { loadMnist, prepareSplit, trainingMean, type MnistData, type MnistSplit, type PreparedSplit } from './data/mnist.js';
export { runLabbook, LABBOOK_RUNS, LABBOOK_RECIPES, type LabbookRun, type LabbookResult, type LabbookOptions } from './train/labbook.js';
export { fitModel, evaluateAccuracy, predictClasses, type Dataset, type EpochLog, type FitOptions } from './train/fit.js';
export { DataParallelTrainer, DataParallelError, withDataParallel, type DataParallelOptions } from './train/data-parallel.js';
export {
  lowerModel,
  lowerModelDetailed,
  LoweringError,
  UnsupportedLayersError,
  InputQuantizerError,
  type LowerOptions,
  type LoweredModel,
  type LoweringIssue,
} from './lower/index.js';
export {
  runIR,
  runIRReal,
  traceIR,
  flattenSample,
  printIR,
  parseIR,
  check,
  assertValid,
  formatReport,
  runPipeline,
  PIPELINE,
  IRError,
  IRParseError,
  IRGraphError,
  IRCheckError,
  IRRuntimeError,
  type Graph,
  type IRInputs,
  type IRTensor,
  type CheckReport,
  type Diagnostic,
  type AccumulatorProof,
  type PipelineResult,
} from './ir/index.js';
export {
  ENGINES,
  findEngine,
  engineNames,
  loadModel,
  LoadedModel,
  ModelSourceError,
  ModelImportError,
  type Engine,
  type PredictOptions,
} from './engines/index.js';
export {
  emitC,
  type EmitCOptions,
  type EmitCResult,
  type CApi,
  type CTensorApi,
  type CReport,
  type CLayerReport,
} from './codegen/c.js';
export {
  emitVerilog,
  generateVerilog,
  type VerilogOptions,
  type VerilogDesign,
  type VerilogArch,
  type VerilogManifest,
} from './codegen/verilog.js';
export { DEFAULT_MAX_PARALLEL_MACS, DesignTooLargeError, parallelMacs, type ParallelLayerSize } from './codegen/verilog-size.js';
export { planCmvm, cmvmAdders, cmvmAdderCount, evalCmvm, type CmvmProblem, type CmvmPlan, type CmvmOptions, type CmvmAdder } from './codegen/cmvm.js';
export { layerAdders, type LayerAdders } from './codegen/cmvm-layer.js';
export { synthesize, type SynthReport, type SynthCounts, type SynthFamily, type SynthOptions } from './sim/yosys.js';
export {
  verifyGraph as verify,
  verifyGraph,
  type VerifyOptions,
  type VerifyReport,
  type VerifyTarget,
  type Mismatch,
} from './sim/verify.js';
export { buildReportData, writeReport, type ReportInputs } from './report/build.js';
export { renderReportHtml } from './report/render.js';
export type { ReportData, LayerRow as ReportLayerRow, LayerEstimate as ReportLayerEstimate } from './report/types.js';
export {
  ConfigError,
  KerasImportError,
  KerasWeightsError,
  QKerasError,
  QuantizerSpecError,
  UnsupportedError,
  type KerasImportIssue,
  type KerasWeightIssue,
} from './errors.js';
