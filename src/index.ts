/** qkeras-ts package root: a plain list of the modules' public surfaces. */
export * from './quantizers/index.js';
export * from './layers/index.js';
export * from './import/index.js';
export { ready, backendInfo } from './backend/index.js';
export * from './utils/index.js';
export { type SaveQmodelOptions } from './utils/save-load.js';
export { type BinaryToThermometerOptions } from './utils/b2t.js';
export { extractModelOperations, printQstats } from './ops/estimate.js';
export * from './qtools/index.js';
export { loadMnist, prepareSplit, trainingMean, type MnistData, type MnistSplit, type PreparedSplit } from './data/mnist.js';
export { runLabbook, LABBOOK_RUNS, LABBOOK_RECIPES, type LabbookRun, type LabbookResult, type LabbookOptions } from './train/labbook.js';
export { fitModel, evaluateAccuracy, predictClasses, type Dataset, type EpochLog, type FitOptions } from './train/fit.js';
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
