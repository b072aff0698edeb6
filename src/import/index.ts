/**
 * Keras 2 / QKeras model interchange: `importKeras` (model JSON + HDF5 weights, or a full-model HDF5
 * file) and `exportKeras` (the same formats back, for QKeras to load).
 */
export { importKeras, buildKerasModel, type KerasJsonSource, type BuildOptions } from './import-keras.js';
export { exportKeras, exportKerasH5, kerasModelJson, KERAS_JSON_FILE, KERAS_WEIGHTS_FILE, type ExportedKeras } from './export-keras.js';
export { parseKerasModelJson, type KerasModelJson, type KerasLayerJson, type TensorRef, type InboundNode } from './keras-json.js';
export { kerasLayerToTfjs, tfjsLayerToKeras, knownKerasClasses, type TfLayerSpec } from './keras-config.js';
export {
  readKerasH5,
  writeKerasH5,
  assignKerasWeights,
  collectModelWeights,
  KERAS_FORMAT_VERSION,
  type KerasWeights,
  type KerasH5Contents,
  type H5LayerWeights,
  type H5Weight,
} from './h5-weights.js';
