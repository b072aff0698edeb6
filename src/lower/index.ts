/** Lowering tfjs Q models to the hardware IR. */
export { lowerModel, lowerModelDetailed, type LowerOptions, type LoweredModel } from './lower-model.js';
export { LoweringError, UnsupportedLayersError, InputQuantizerError, type LoweringIssue } from './errors.js';
export { LOWERINGS, unsupportedReason } from './registry.js';
export type { LayerLowering } from './context.js';
