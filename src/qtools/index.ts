/**
 * QTools: the data-type map of a quantized model (what width every weight, multiplier, accumulator and
 * activation needs) and its energy estimate, as QKeras's `qkeras.qtools.run_qtools.QTools`.
 *
 * ```ts
 * const q = new QTools(model, { process: 'horowitz', sourceQuantizers: 'int8', isInference: false });
 * q.json                                   // QKeras's map_to_json output
 * const energy = q.pe({ weightsOnMemory: 'sram', activationsOnMemory: 'sram', minSramSize: 2 ** 27, rdWrOnIo: false });
 * q.extractEnergySum(q.settings.includeEnergy, energy);
 * ```
 *
 * Options may be written in QKeras's spelling (`source_quantizers`, `is_inference`, `keras_quantizer`,
 * `keras_accumulator`, `for_reference`, `hw_weight_dict`, ...) or in camelCase.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { createGraph, sourceQuantizerList, type SourceQuantizerSpec } from './graph.js';
import { generateLayerDataTypeMap, type HwLayerInfo, type LayerMap } from './data-type-map.js';
import { mapToJson, type QToolsJson } from './json.js';
import { energyEstimate, extractEnergyProfile, extractEnergySum, type EnergyEstimate, type PeOptions } from './energy.js';
import { settingsFor, type EnergyTerm, type QToolsSettings } from './settings.js';

export interface QToolsOptions {
  /** Energy process tables (`horowitz`, QKeras's only one; others keep the base tables). Default `horowitz`. */
  readonly process?: string;
  /** Types of the model inputs: one for all, or one per input (quantizers, QKeras strings, `int8`, `fp32`...). */
  readonly sourceQuantizers?: SourceQuantizerSpec | readonly SourceQuantizerSpec[] | null;
  /** Weights are trained: po2 weight types count their distinct values (changes shifter energy). */
  readonly isInference?: boolean;
  /** Weight/bias type of the float reference model (`for_reference`), e.g. `int8`. */
  readonly kerasQuantizer?: string | null;
  /** Multiplier/accumulator/activation type of the float reference model, e.g. `int32`. */
  readonly kerasAccumulator?: string | null;
  /** Analyse the model as its float reference: every type replaced by `kerasQuantizer`/`kerasAccumulator`. */
  readonly forReference?: boolean;
  /** Weights are already quantized (`modelSaveQuantizedWeights` was run); else they are quantized here. Default true. */
  readonly modelWeightsAlreadyQuantized?: boolean;
  /** `modelSaveQuantizedWeights`'s result, for batch-norm fusing. */
  readonly hwWeightDict?: Readonly<Record<string, HwLayerInfo>> | null;
  /** Overrides of QTools's settings (default types, energy tables). */
  readonly settings?: Partial<QToolsSettings>;
}

const OPTION_KEYS: Readonly<Record<string, keyof QToolsOptions>> = {
  process: 'process',
  source_quantizers: 'sourceQuantizers',
  sourceQuantizers: 'sourceQuantizers',
  is_inference: 'isInference',
  isInference: 'isInference',
  keras_quantizer: 'kerasQuantizer',
  kerasQuantizer: 'kerasQuantizer',
  keras_accumulator: 'kerasAccumulator',
  kerasAccumulator: 'kerasAccumulator',
  for_reference: 'forReference',
  forReference: 'forReference',
  model_weights_already_quantized: 'modelWeightsAlreadyQuantized',
  modelWeightsAlreadyQuantized: 'modelWeightsAlreadyQuantized',
  hw_weight_dict: 'hwWeightDict',
  hwWeightDict: 'hwWeightDict',
  settings: 'settings',
};

const PE_KEYS: Readonly<Record<string, keyof PeOptions>> = {
  weights_on_memory: 'weightsOnMemory',
  weightsOnMemory: 'weightsOnMemory',
  activations_on_memory: 'activationsOnMemory',
  activationsOnMemory: 'activationsOnMemory',
  min_sram_size: 'minSramSize',
  minSramSize: 'minSramSize',
  rd_wr_on_io: 'rdWrOnIo',
  rdWrOnIo: 'rdWrOnIo',
};

/** Maps QKeras (snake_case) or camelCase option names to ours; an unknown name is an error. */
function normalizeOptions<T>(where: string, options: Record<string, unknown>, keys: Readonly<Record<string, string>>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    const key = keys[k];
    if (key === undefined) throw new ConfigError(where, k, v, `one of the options ${[...new Set(Object.values(keys))].join(', ')}`);
    if (v !== undefined) out[key] = v;
  }
  return out as T;
}

export type QToolsOptionsInput = QToolsOptions | Record<string, unknown>;
export type PeOptionsInput = PeOptions | Record<string, unknown>;

export class QTools {
  readonly settings: QToolsSettings;
  readonly layerMap: LayerMap;
  /** QKeras's `map_to_json` output. */
  readonly json: QToolsJson;

  constructor(
    readonly model: tf.LayersModel,
    options: QToolsOptionsInput = {},
  ) {
    const o = normalizeOptions<QToolsOptions>('QTools', options as Record<string, unknown>, OPTION_KEYS);
    this.settings = settingsFor(o.process ?? 'horowitz', o.settings ?? {});
    const s = this.settings;
    const sources = sourceQuantizerList(o.sourceQuantizers, model.inputs.length, s.defaultSourceQuantizer, s.defaultIntermQuantizer);
    const graph = createGraph(model, sources);
    this.layerMap = generateLayerDataTypeMap(graph, sources, {
      settings: s,
      isInference: o.isInference ?? false,
      kerasQuantizer: o.kerasQuantizer ?? null,
      kerasAccumulator: o.kerasAccumulator ?? null,
      forReference: o.forReference ?? false,
      modelWeightsAlreadyQuantized: o.modelWeightsAlreadyQuantized ?? true,
      hwWeightDict: o.hwWeightDict ?? null,
    });
    this.json = mapToJson(this.layerMap);
  }

  /** QKeras `pe`: the energy of every layer and the total. */
  pe(options: PeOptionsInput = {}): EnergyEstimate {
    const o = normalizeOptions<PeOptions>('QTools.pe', options as Record<string, unknown>, PE_KEYS);
    return energyEstimate(this.model, this.layerMap, this.settings, o);
  }

  /** QKeras `extract_energy_sum` (`includeEnergy` defaults to the settings' table). */
  extractEnergySum(includeEnergy: Readonly<Record<string, readonly EnergyTerm[]>> | null, energy: EnergyEstimate): number {
    return extractEnergySum(includeEnergy ?? this.settings.includeEnergy, energy);
  }

  /** QKeras `extract_energy_profile`. */
  extractEnergyProfile(includeEnergy: Readonly<Record<string, readonly EnergyTerm[]>> | null, energy: EnergyEstimate): ReturnType<typeof extractEnergyProfile> {
    return extractEnergyProfile(includeEnergy ?? this.settings.includeEnergy, energy);
  }

  /** QKeras `qtools_stats_to_json`'s text: the JSON with 4-space indentation. */
  statsJson(): string {
    return JSON.stringify(this.json, null, 4);
  }
}

/** The data-type map of `model` as QKeras's `map_to_json` JSON (`new QTools(model, options).json`). */
export function qtools(model: tf.LayersModel, options: QToolsOptionsInput = {}): QToolsJson {
  return new QTools(model, options).json;
}

export { extractEnergySum, extractEnergyProfile, energyEstimate, type EnergyEstimate, type LayerEnergy, type PeOptions, type MemoryKind } from './energy.js';
export { settingsFor, knownProcesses, BASE_SETTINGS, type QToolsSettings, type EnergyTerm } from './settings.js';
export { mapToJson, quantizerJson, type QToolsJson, type LayerJson, type QuantizerJson } from './json.js';
export { generateLayerDataTypeMap, TagMissingError, type LayerDataType, type LayerMap, type HwLayerInfo } from './data-type-map.js';
export { createGraph, sourceQuantizerList, WrongInputQuantizerError, type SourceQuantizerSpec } from './graph.js';
export { QToolsOperatorError, makeAdder, makeMultiplier, makeAccumulator, adjustMultiplierForAutoPo2, type QtOperation } from './operators.js';
export { QtQuantizer, defaultQuantizer, makeQuantizer, type QtImpl } from './quantizer-impl.js';
