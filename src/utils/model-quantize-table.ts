/**
 * The conversion table of `modelQuantize`: for each Keras layer class, the Q class it becomes, the
 * fields of the QKeras config entry that drive it, and how its tfjs config is rewritten — QKeras's
 * `model_quantize` rules, one entry per class.
 *
 * An entry whose target class is not registered with tfjs (QSimpleRNN, QLSTM, QGRU, QBidirectional,
 * QBatchNormalization, QAdaptiveActivation and the folded *Batchnorm convolutions, until they are
 * written) still converts the config; `modelQuantize` then reports the layer as "not supported yet".
 * Once the class is registered under its QKeras name, the entry works without changes here, provided the
 * layer takes QKeras's arguments in camelCase (`kernelQuantizer`, `recurrentQuantizer`, ...).
 */
import { activationFunctionNames } from '../quantizers/functions.js';

/** QKeras's `quantizer_config`: keys are layer names or Q class names. */
export type QuantizerConfig = Readonly<Record<string, unknown>>;

/** One layer as tfjs serialises it (`model.getConfig().layers[i]`), config in tfjs's camelCase. */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

/** A problem found while converting; `modelQuantize` collects them all before failing. */
export interface ModelQuantizeIssue {
  /** The config key at fault (a layer name or a class key), or null. */
  readonly key: string | null;
  /** The model layer concerned, or null. */
  readonly layer: string | null;
  readonly className: string | null;
  readonly detail: string;
}

export interface ConvertContext {
  readonly config: QuantizerConfig;
  readonly activationBits: number;
  readonly preferQAdaptiveActivation: boolean;
  /** Names of the convolutions that absorb the batch normalisation after them (folding enabled). */
  readonly layersToFold: ReadonlySet<string>;
  /** Class keys and layer names the conversion actually read (to find entries nothing used). */
  readonly used: Set<string>;
  readonly issues: ModelQuantizeIssue[];
}

/** The result of converting one layer: its new class and config, or null when it stays as it is. */
export type Conversion = LayerSpec | null;

export interface ConversionRule {
  /** The Q class keys this rule reads from the config (QKeras's `"Q" + class` and friends). */
  readonly classKeys: readonly string[];
  /** Fields a config entry for this rule may hold; null: the entry is a quantizer string or an activation dict. */
  readonly fields: readonly string[] | null;
  convert(layer: LayerSpec, ctx: ConvertContext): Conversion;
}

// ---- config lookup --------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The layer's entry: by layer name, else by class key (QKeras `get_config`; a name entry shadows the class entry). */
export function entryFor(ctx: ConvertContext, layerName: string, classKey: string): unknown {
  if (Object.hasOwn(ctx.config, layerName)) {
    ctx.used.add(layerName);
    return ctx.config[layerName];
  }
  if (Object.hasOwn(ctx.config, classKey)) {
    ctx.used.add(classKey);
    return ctx.config[classKey];
  }
  return undefined;
}

/** One field of the layer's entry (QKeras `get_config(qc, layer, class, parameter)`), null when absent. */
export function fieldFor(ctx: ConvertContext, layerName: string, classKey: string, field: string): unknown {
  const entry = entryFor(ctx, layerName, classKey);
  if (!isRecord(entry)) return null;
  return entry[field] ?? null;
}

/** Keras's spelling of a tfjs activation identifier (`hardSigmoid` → `hard_sigmoid`). */
export function kerasActivationName(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  return v.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * QKeras `quantize_activation`: relu/tanh/sigmoid become `quantized_relu/tanh/sigmoid(activationBits)`;
 * anything else (linear, softmax, ...) is left alone.
 */
export function quantizeActivation(config: Record<string, unknown>, bits: number): void {
  const name = kerasActivationName(config['activation']);
  if (name === 'relu') config['activation'] = `quantized_relu(${bits})`;
  else if (name === 'tanh') config['activation'] = `quantized_tanh(${bits})`;
  else if (name === 'sigmoid') config['activation'] = `quantized_sigmoid(${bits})`;
}

function truthy(v: unknown): boolean {
  return v !== null && v !== undefined && v !== false && v !== '' && v !== 0;
}

/** The layer's explicit `activation_quantizer`, else the activation-bits rule. */
function setActivation(ctx: ConvertContext, layerName: string, classKey: string, config: Record<string, unknown>): void {
  const q = fieldFor(ctx, layerName, classKey, 'activation_quantizer');
  if (truthy(q)) config['activation'] = q;
  else quantizeActivation(config, ctx.activationBits);
}

// ---- rules ----------------------------------------------------------------------------------------------

const WEIGHT_FIELDS = ['kernel_quantizer', 'bias_quantizer', 'activation_quantizer'];
const FOLD_FIELDS = ['folding_mode', 'ema_freeze_delay'];
const DEPTHWISE_FIELDS = ['depthwise_quantizer', 'bias_quantizer', 'activation_quantizer'];
const SEPARABLE_FIELDS = ['depthwise_quantizer', 'pointwise_quantizer', 'bias_quantizer', 'activation_quantizer'];
const RNN_FIELDS = ['kernel_quantizer', 'recurrent_quantizer', 'bias_quantizer', 'state_quantizer', 'activation_quantizer'];
const GATED_RNN_FIELDS = [...RNN_FIELDS, 'recurrent_activation_quantizer'];
const BN_FIELDS = ['gamma_quantizer', 'beta_quantizer', 'mean_quantizer', 'variance_quantizer'];
const POOL_FIELDS = ['average_quantizer', 'activation_quantizer'];

/** Dense/Conv1D/Conv2D/Conv2DTranspose → Q class (folded Conv2D → QConv2DBatchnorm). */
function weightLayerRule(cls: string, foldable: boolean): ConversionRule {
  const q = `Q${cls}`;
  const folded = `Q${cls}Batchnorm`;
  return {
    classKeys: foldable ? [q, folded] : [q],
    fields: foldable ? [...WEIGHT_FIELDS, ...FOLD_FIELDS] : WEIGHT_FIELDS,
    convert(layer, ctx) {
      const name = String(layer.config['name']);
      const config = { ...layer.config };
      const fold = foldable && ctx.layersToFold.has(name);
      let target = q;
      if (fold) {
        target = folded;
        config['useBias'] = true;
        config['foldingMode'] = fieldFor(ctx, name, folded, 'folding_mode') || 'ema_stats_folding';
        config['emaFreezeDelay'] = fieldFor(ctx, name, folded, 'ema_freeze_delay') || null;
      }
      let kernel = fieldFor(ctx, name, target, 'kernel_quantizer');
      let bias = config['useBias'] ? fieldFor(ctx, name, target, 'bias_quantizer') : null;
      if (kernel === null && fold) {
        // A folded layer falls back to the unfolded class's quantizers.
        kernel = fieldFor(ctx, name, q, 'kernel_quantizer');
        bias = fieldFor(ctx, name, q, 'bias_quantizer');
      }
      if (kernel === null) return null;
      config['kernelQuantizer'] = kernel;
      config['biasQuantizer'] = bias;
      setActivation(ctx, name, target, config);
      return { className: target, config };
    },
  };
}

/**
 * SeparableConv1D/2D → QSeparableConv1D/2D. QKeras writes `kernel_quantizer`/`bias_quantizer` into the
 * config, which QSeparableConv* do not take (the conversion fails there); the separable layers' own
 * `depthwise_quantizer` and `pointwise_quantizer` are read instead.
 */
function separableRule(cls: string): ConversionRule {
  const q = `Q${cls}`;
  return {
    classKeys: [q],
    fields: SEPARABLE_FIELDS,
    convert(layer, ctx) {
      const name = String(layer.config['name']);
      const depthwise = fieldFor(ctx, name, q, 'depthwise_quantizer');
      const pointwise = fieldFor(ctx, name, q, 'pointwise_quantizer');
      if (depthwise === null && pointwise === null) return null;
      const config = { ...layer.config };
      config['depthwiseQuantizer'] = depthwise;
      config['pointwiseQuantizer'] = pointwise;
      config['biasQuantizer'] = config['useBias'] ? fieldFor(ctx, name, q, 'bias_quantizer') : null;
      setActivation(ctx, name, q, config);
      return { className: q, config };
    },
  };
}

const depthwiseRule: ConversionRule = {
  classKeys: ['QDepthwiseConv2D', 'QDepthwiseConv2DBatchnorm'],
  fields: [...DEPTHWISE_FIELDS, ...FOLD_FIELDS],
  convert(layer, ctx) {
    const name = String(layer.config['name']);
    const config = { ...layer.config };
    const fold = ctx.layersToFold.has(name);
    const target = fold ? 'QDepthwiseConv2DBatchnorm' : 'QDepthwiseConv2D';
    if (fold) {
      config['useBias'] = true;
      config['foldingMode'] = fieldFor(ctx, name, target, 'folding_mode') || 'ema_stats_folding';
      config['emaFreezeDelay'] = fieldFor(ctx, name, target, 'ema_freeze_delay') || null;
    }
    let depthwise = fieldFor(ctx, name, target, 'depthwise_quantizer');
    let bias = config['useBias'] ? fieldFor(ctx, name, target, 'bias_quantizer') : null;
    if (depthwise === null && fold) {
      depthwise = fieldFor(ctx, name, 'QDepthwiseConv2D', 'depthwise_quantizer');
      bias = fieldFor(ctx, name, 'QDepthwiseConv2D', 'bias_quantizer');
    }
    if (depthwise === null) return null;
    config['depthwiseQuantizer'] = depthwise;
    config['biasQuantizer'] = bias;
    setActivation(ctx, name, target, config);
    return { className: target, config };
  },
};

/** QKeras `quantize_rnn` on one (possibly inner) RNN layer config, looked up under `classKey`. */
function convertRnn(layer: LayerSpec, ctx: ConvertContext, classKey: string, lookupName: string): Conversion {
  const target = `Q${layer.className}`;
  const kernel = fieldFor(ctx, lookupName, classKey, 'kernel_quantizer');
  if (kernel === null) return null;
  const config = { ...layer.config };
  config['kernelQuantizer'] = kernel;
  config['recurrentQuantizer'] = fieldFor(ctx, lookupName, classKey, 'recurrent_quantizer');
  config['biasQuantizer'] = config['useBias'] ? fieldFor(ctx, lookupName, classKey, 'bias_quantizer') : null;
  config['stateQuantizer'] = fieldFor(ctx, lookupName, classKey, 'state_quantizer');
  setActivation(ctx, lookupName, classKey, config);
  if (layer.className === 'LSTM' || layer.className === 'GRU') {
    const ra = fieldFor(ctx, lookupName, classKey, 'recurrent_activation_quantizer');
    if (truthy(ra)) config['recurrentActivation'] = ra;
  }
  return { className: target, config };
}

function rnnRule(cls: 'SimpleRNN' | 'LSTM' | 'GRU'): ConversionRule {
  return {
    classKeys: [`Q${cls}`],
    fields: cls === 'SimpleRNN' ? RNN_FIELDS : GATED_RNN_FIELDS,
    convert: (layer, ctx) => convertRnn(layer, ctx, `Q${cls}`, String(layer.config['name'])),
  };
}

/**
 * Bidirectional → QBidirectional, the same entry (by the wrapper's name or `QBidirectional`) applied to
 * the wrapped RNN. QKeras renames every Bidirectional to QBidirectional even without an entry; here a
 * wrapper without one stays a plain Bidirectional.
 */
const bidirectionalRule: ConversionRule = {
  classKeys: ['QBidirectional'],
  fields: GATED_RNN_FIELDS,
  convert(layer, ctx) {
    const name = String(layer.config['name']);
    const inner = layer.config['layer'];
    if (!isRecord(inner) || typeof inner['className'] !== 'string' || !isRecord(inner['config'])) return null;
    if (entryFor(ctx, name, 'QBidirectional') === undefined) return null;
    const converted = convertRnn({ className: inner['className'], config: inner['config'] }, ctx, 'QBidirectional', name);
    if (converted === null) return null;
    return { className: 'QBidirectional', config: { ...layer.config, layer: { className: converted.className, config: converted.config } } };
  },
};

/**
 * Activation → QActivation (or QAdaptiveActivation). The entry is a quantizer string (every Activation
 * layer converts, softmax included) or a dict keyed by Keras activation names (only those convert).
 */
const activationRule: ConversionRule = {
  classKeys: ['QActivation', 'QAdaptiveActivation'],
  fields: null,
  convert(layer, ctx) {
    const name = String(layer.config['name']);
    const order = ctx.preferQAdaptiveActivation ? ['QAdaptiveActivation', 'QActivation'] : ['QActivation', 'QAdaptiveActivation'];
    let quantizer: unknown;
    let target = order[0]!;
    for (const key of order) {
      quantizer = entryFor(ctx, name, key);
      target = key;
      if (quantizer !== undefined && quantizer !== null) break;
    }
    if (quantizer === undefined || quantizer === null) return null;
    const act = kerasActivationName(layer.config['activation']) ?? '';
    if (isRecord(quantizer)) {
      if (!truthy(quantizer[act])) return null;
      quantizer = quantizer[act];
    }
    const config = { ...layer.config };
    if (truthy(quantizer)) {
      if (target === 'QAdaptiveActivation') {
        const spec = String(quantizer);
        if (spec.includes(',')) {
          ctx.issues.push({ key: name, layer: name, className: layer.className, detail: `QAdaptiveActivation takes only the total bits, e.g. "quantized_relu(4)"; received ${JSON.stringify(spec)}` });
          return null;
        }
        config['totalBits'] = Number(spec.replace(/[^\d]/g, ''));
        quantizer = spec.replace(/\(.*/, '');
      }
      config['activation'] = quantizer;
    } else {
      quantizeActivation(config, ctx.activationBits);
    }
    return { className: target, config };
  },
};

/**
 * ReLU / LeakyReLU layers → QActivation, looked up under `QActivation` with the keys `relu` and
 * `leakyrelu`. Their own arguments are dropped (quantized relus are bounded by their bits). QKeras fails
 * on LeakyReLU (it deletes a key the layer does not have); here it converts.
 */
const reluLayerRule: ConversionRule = {
  classKeys: ['QActivation'],
  fields: null,
  convert(layer, ctx) {
    const name = String(layer.config['name']);
    let quantizer = entryFor(ctx, name, 'QActivation');
    if (quantizer === undefined || quantizer === null) return null;
    const slope = layer.className === 'LeakyReLU' ? Number(layer.config['alpha'] ?? 0.3) : Number(layer.config['negativeSlope'] ?? 0);
    const key = slope > 0 ? 'leakyrelu' : 'relu';
    if (isRecord(quantizer)) {
      if (!truthy(quantizer[key])) return null;
      quantizer = quantizer[key];
    }
    const config: Record<string, unknown> = {};
    for (const k of ['name', 'trainable', 'dtype', 'batchInputShape']) if (k in layer.config) config[k] = layer.config[k];
    if (truthy(quantizer)) {
      config['activation'] = quantizer;
    } else if (key === 'relu') {
      config['activation'] = `quantized_relu(${ctx.activationBits})`;
    } else {
      ctx.issues.push({ key: name, layer: name, className: layer.className, detail: 'a leaky relu needs an explicit quantizer (the activation-bits rule covers relu, tanh and sigmoid only)' });
      return null;
    }
    return { className: 'QActivation', config };
  },
};

/** BatchNormalization → QBatchNormalization, only when its name or `QBatchNormalization` has an entry. */
const batchNormRule: ConversionRule = {
  classKeys: ['QBatchNormalization'],
  fields: BN_FIELDS,
  convert(layer, ctx) {
    const name = String(layer.config['name']);
    if (entryFor(ctx, name, 'QBatchNormalization') === undefined) return null;
    const config = { ...layer.config };
    // Absent quantizers become None, overriding QBatchNormalization's defaults, as in QKeras.
    config['gammaQuantizer'] = fieldFor(ctx, name, 'QBatchNormalization', 'gamma_quantizer');
    config['betaQuantizer'] = fieldFor(ctx, name, 'QBatchNormalization', 'beta_quantizer');
    config['meanQuantizer'] = fieldFor(ctx, name, 'QBatchNormalization', 'mean_quantizer');
    config['varianceQuantizer'] = fieldFor(ctx, name, 'QBatchNormalization', 'variance_quantizer');
    return { className: 'QBatchNormalization', config };
  },
};

function poolingRule(cls: 'AveragePooling2D' | 'GlobalAveragePooling2D'): ConversionRule {
  const q = `Q${cls}`;
  return {
    classKeys: [q],
    fields: POOL_FIELDS,
    convert(layer, ctx) {
      const name = String(layer.config['name']);
      const average = fieldFor(ctx, name, q, 'average_quantizer');
      if (average === null) return null;
      const config = { ...layer.config, averageQuantizer: average };
      setActivation(ctx, name, q, config);
      return { className: q, config };
    },
  };
}

/** Keras (tfjs) class name → conversion rule. */
export const CONVERSIONS: Readonly<Record<string, ConversionRule>> = {
  // QKeras names a QDenseBatchnorm target too, but only ever folds Conv2D and DepthwiseConv2D.
  Dense: weightLayerRule('Dense', false),
  Conv1D: weightLayerRule('Conv1D', false),
  Conv2D: weightLayerRule('Conv2D', true),
  Conv2DTranspose: weightLayerRule('Conv2DTranspose', false),
  SeparableConv1D: separableRule('SeparableConv1D'),
  SeparableConv2D: separableRule('SeparableConv2D'),
  DepthwiseConv2D: depthwiseRule,
  SimpleRNN: rnnRule('SimpleRNN'),
  LSTM: rnnRule('LSTM'),
  GRU: rnnRule('GRU'),
  Bidirectional: bidirectionalRule,
  Activation: activationRule,
  ReLU: reluLayerRule,
  LeakyReLU: reluLayerRule,
  BatchNormalization: batchNormRule,
  AveragePooling2D: poolingRule('AveragePooling2D'),
  GlobalAveragePooling2D: poolingRule('GlobalAveragePooling2D'),
};

/** Every class key a config may use, with the fields its entry may hold (null: string or activation dict). */
export function classKeyFields(): Map<string, readonly string[] | null> {
  const out = new Map<string, readonly string[] | null>();
  for (const rule of Object.values(CONVERSIONS)) {
    for (const key of rule.classKeys) {
      const prev = out.get(key);
      const fields = rule.fields;
      out.set(key, prev === undefined || prev === null || fields === null ? fields : [...new Set([...prev, ...fields])]);
    }
  }
  return out;
}

/** Keys of an activation dict: Keras activation names, plus `leakyrelu` for LeakyReLU layers. */
export function activationDictKeys(): string[] {
  return [...activationFunctionNames(), 'leakyrelu'];
}
