/** qkeras-ts package root: a plain list of the modules' public surfaces. */
export * from './quantizers/index.js';
export * from './layers/index.js';
export * from './import/index.js';
export { ready } from './backend/index.js';
export { saveQmodel, loadQmodel, ModelFileError, type SaveQmodelOptions, type LoadQmodelOptions } from './utils/save-load.js';
export { binaryToThermometer, type BinaryToThermometerOptions } from './utils/b2t.js';
export { writeFileAtomic, writeFilesAtomic } from './utils/atomic-file.js';
export { loadMnist, prepareSplit, trainingMean, type MnistData, type MnistSplit, type PreparedSplit } from './data/mnist.js';
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
