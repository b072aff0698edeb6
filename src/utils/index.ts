/**
 * The QKeras utilities (QKeras `qkeras/utils.py`, `b2t.py`) and the helpers around them: converting a
 * float model, exporting quantized weights, sparsity, debugging, saving and loading.
 */
export { binaryToThermometer } from './b2t.js';
export { modelQuantize, ModelQuantizeError, type ModelQuantizeOptions, type ModelQuantizeIssue, type QuantizerConfig } from './model-quantize.js';
export { CONVERSIONS, type ConversionRule } from './model-quantize-table.js';
export {
  modelSaveQuantizedWeights,
  quantizedLayerWeights,
  type SavedWeights,
  type SavedLayerWeights,
  type SaveQuantizedWeightsOptions,
  type WeightArray,
  type IntArray,
  type Po2Weight,
  type AutoPo2Weight,
} from './quantized-weights.js';
export { getModelSparsity, printModelSparsity, DEFAULT_SPARSITY_ALLOW_LIST, type ModelSparsity, type SparsityOptions, type PrintOptions } from './sparsity.js';
export { quantizedModelDebug, REGISTERED_LAYERS, type QuantizedModelDebugOptions } from './debug.js';
export { saveQmodel, loadQmodel, ModelFileError, type LoadQmodelOptions } from './save-load.js';
export { writeFileAtomic, writeFilesAtomic } from './atomic-file.js';
export { assertFiniteWeights, nonFiniteWeights, NonFiniteWeightsError, type NonFiniteWeight } from './finite-weights.js';
export { QNoiseScheduler, scheduledQuantizers, type QNoiseSchedulerArgs, type QNoiseFrequency } from './qnoise-scheduler.js';
export { cloneModelAndFreezeAutoPo2Scale, FreezeAutoPo2Error, type FreezeAutoPo2Options, type FreezeAutoPo2Issue, type FrozenAutoPo2Model } from './freeze-auto-po2.js';
