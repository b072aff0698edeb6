/**
 * The one place where Keras/QKeras layer configs meet tfjs layer configs, in both directions.
 *
 * Every supported layer class has a table of the arguments Keras writes for it (snake_case) and how each
 * one crosses over: copied, converted (`channels_last` ↔ `channelsLast`, `hard_sigmoid` ↔ `hardSigmoid`,
 * `{class_name, config}` ↔ `{className, config}` for initializers, regularizers and constraints), passed
 * on as written (QKeras quantizer specs, which the Q layers parse themselves), accepted only with the
 * value tfjs implements (`groups: 1`, `sparse: false`), or dropped because it cannot change a result
 * (`fused`, which only picks a TensorFlow kernel). Anything not in a table is a problem, collected with the
 * layer's name and class; callers throw all problems of a model at once.
 *
 * The same tables drive export: a tfjs layer's `getConfig()` goes back to the Keras argument names and
 * spellings, and a tfjs config key no table knows is a problem too.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, type KerasImportIssue } from '../errors.js';
import { PyFloat } from '../quantizers/base.js';
import { isJsonObject, type JsonObject, type KerasLayerJson } from './keras-json.js';

/** A layer config in tfjs form, ready for the class's `fromConfig`. */
export interface TfLayerSpec {
  readonly className: string;
  readonly config: tf.serialization.ConfigDict;
}

type ObjectKind = 'initializer' | 'regularizer' | 'constraint';

/** How one Keras argument maps to tfjs. */
type ArgRule =
  /** Copied unchanged both ways (numbers, booleans, integer tuples, padding strings, names). */
  | { readonly kind: 'plain' }
  | { readonly kind: 'dataFormat' }
  /** A Keras activation name on a plain Keras layer. */
  | { readonly kind: 'activation' }
  /** A QKeras quantizer or activation spec (string or `{class_name, config}`): the Q layer parses it. */
  | { readonly kind: 'spec' }
  | { readonly kind: ObjectKind }
  | { readonly kind: 'shape' }
  | { readonly kind: 'dtype' }
  /** BatchNormalization's axis: an int, or the one-element list TF 2 writes after building. */
  | { readonly kind: 'axis' }
  /** Only these values are implemented; the argument is not passed on (tfjs has no such option). */
  | { readonly kind: 'fixed'; readonly allowed: readonly unknown[] }
  /** Accepted with any value and not passed on, because QKeras ignores it as well. */
  | { readonly kind: 'dropped' };

interface ClassRule {
  /** Extra tfjs config keys that getConfig() writes but have no Keras argument (dropped on export). */
  readonly tfjsOnly?: readonly string[];
  readonly args: Readonly<Record<string, ArgRule>>;
}

const PLAIN: ArgRule = { kind: 'plain' };
const DATA_FORMAT: ArgRule = { kind: 'dataFormat' };
const ACTIVATION: ArgRule = { kind: 'activation' };
const SPEC: ArgRule = { kind: 'spec' };
const INIT: ArgRule = { kind: 'initializer' };
const REG: ArgRule = { kind: 'regularizer' };
const CONS: ArgRule = { kind: 'constraint' };
const DROPPED: ArgRule = { kind: 'dropped' };
const fixed = (...allowed: unknown[]): ArgRule => ({ kind: 'fixed', allowed });

const COMMON: Record<string, ArgRule> = {
  name: PLAIN,
  trainable: PLAIN,
  dtype: { kind: 'dtype' },
  batch_input_shape: { kind: 'shape' },
};

/** `<p>_initializer`, `<p>_regularizer`, `<p>_constraint`. */
function weightArgs(...prefixes: string[]): Record<string, ArgRule> {
  const out: Record<string, ArgRule> = {};
  for (const p of prefixes) {
    out[`${p}_initializer`] = INIT;
    out[`${p}_regularizer`] = REG;
    out[`${p}_constraint`] = CONS;
  }
  return out;
}

const DENSE = { units: PLAIN, activation: ACTIVATION, use_bias: PLAIN, ...weightArgs('kernel', 'bias'), activity_regularizer: REG };
const CONV = {
  filters: PLAIN,
  kernel_size: PLAIN,
  strides: PLAIN,
  padding: PLAIN,
  data_format: DATA_FORMAT,
  dilation_rate: PLAIN,
  groups: fixed(1),
  activation: ACTIVATION,
  use_bias: PLAIN,
  ...weightArgs('kernel', 'bias'),
  activity_regularizer: REG,
};
const CONV_TRANSPOSE = { ...CONV, output_padding: fixed(null), dilation_rate: fixed(1, [1, 1]) };
const DEPTHWISE = {
  kernel_size: PLAIN,
  strides: PLAIN,
  padding: PLAIN,
  depth_multiplier: PLAIN,
  data_format: DATA_FORMAT,
  dilation_rate: PLAIN,
  groups: fixed(1),
  activation: ACTIVATION,
  use_bias: PLAIN,
  ...weightArgs('depthwise', 'bias'),
  activity_regularizer: REG,
};
const SEPARABLE = {
  filters: PLAIN,
  kernel_size: PLAIN,
  strides: PLAIN,
  padding: PLAIN,
  data_format: DATA_FORMAT,
  dilation_rate: PLAIN,
  depth_multiplier: PLAIN,
  groups: fixed(1),
  activation: ACTIVATION,
  use_bias: PLAIN,
  ...weightArgs('depthwise', 'pointwise', 'bias'),
  activity_regularizer: REG,
};
const POOL_1D = { pool_size: PLAIN, strides: PLAIN, padding: PLAIN, data_format: fixed('channels_last') };
const POOL_2D = { pool_size: PLAIN, strides: PLAIN, padding: PLAIN, data_format: DATA_FORMAT };
const GLOBAL_POOL_1D = { data_format: fixed('channels_last'), keepdims: fixed(false) };
const GLOBAL_POOL_2D = { data_format: DATA_FORMAT, keepdims: fixed(false) };
const BATCH_NORM = {
  axis: { kind: 'axis' } as ArgRule,
  momentum: PLAIN,
  epsilon: PLAIN,
  center: PLAIN,
  scale: PLAIN,
  beta_initializer: INIT,
  gamma_initializer: INIT,
  moving_mean_initializer: INIT,
  moving_variance_initializer: INIT,
  beta_regularizer: REG,
  gamma_regularizer: REG,
  beta_constraint: CONS,
  gamma_constraint: CONS,
  renorm: fixed(false),
  renorm_clipping: fixed(null),
  renorm_momentum: DROPPED,
  virtual_batch_size: fixed(null),
  adjustment: fixed(null),
  // Only selects a faster kernel in TensorFlow; the result is the same.
  fused: DROPPED,
};
/** A QKeras weight layer: its Keras base with the activation as a QKeras spec and the quantizer slots. */
function quantized(base: Record<string, ArgRule>, slots: string[], deprecatedRanges: string[] = []): Record<string, ArgRule> {
  const out: Record<string, ArgRule> = { ...base, activation: SPEC };
  for (const s of slots) out[`${s}_quantizer`] = SPEC;
  // Deprecated and ignored by QKeras, but kept in its config; the Q layers keep them too.
  for (const r of deprecatedRanges) out[`${r}_range`] = PLAIN;
  return out;
}

/** Keras class name → its argument table. tfjs registers the same class names (the Q layers under QKeras's). */
const CLASSES: Readonly<Record<string, ClassRule>> = {
  InputLayer: { args: { batch_input_shape: { kind: 'shape' }, dtype: { kind: 'dtype' }, sparse: fixed(false), ragged: fixed(false), name: PLAIN } },
  Dense: { args: DENSE },
  Conv1D: { args: { ...CONV, data_format: fixed('channels_last') } },
  Conv2D: { args: CONV },
  Conv2DTranspose: { args: CONV_TRANSPOSE },
  DepthwiseConv2D: { args: DEPTHWISE },
  SeparableConv2D: { args: SEPARABLE },
  Activation: { args: { activation: ACTIVATION } },
  ReLU: { args: { max_value: PLAIN, negative_slope: fixed(0), threshold: fixed(0) } },
  LeakyReLU: { args: { alpha: PLAIN } },
  ELU: { args: { alpha: PLAIN } },
  Softmax: { args: { axis: PLAIN } },
  PReLU: { args: { ...weightArgs('alpha'), shared_axes: PLAIN } },
  Flatten: { args: { data_format: DATA_FORMAT } },
  Dropout: { args: { rate: PLAIN, noise_shape: PLAIN, seed: PLAIN } },
  MaxPooling1D: { args: POOL_1D },
  AveragePooling1D: { args: POOL_1D },
  MaxPooling2D: { args: POOL_2D },
  AveragePooling2D: { args: POOL_2D },
  GlobalAveragePooling1D: { args: GLOBAL_POOL_1D },
  GlobalMaxPooling1D: { args: GLOBAL_POOL_1D },
  GlobalAveragePooling2D: { args: GLOBAL_POOL_2D },
  GlobalMaxPooling2D: { args: GLOBAL_POOL_2D },
  BatchNormalization: { args: BATCH_NORM },
  Reshape: { args: { target_shape: PLAIN } },
  Permute: { args: { dims: PLAIN } },
  Add: { args: {} },
  Multiply: { args: {} },
  Average: { args: {} },
  Maximum: { args: {} },
  Minimum: { args: {} },
  Concatenate: { args: { axis: PLAIN } },
  ZeroPadding2D: { args: { padding: PLAIN, data_format: DATA_FORMAT } },
  UpSampling2D: { args: { size: PLAIN, data_format: DATA_FORMAT, interpolation: PLAIN } },
  Cropping2D: { args: { cropping: PLAIN, data_format: DATA_FORMAT } },

  QDense: { args: quantized(DENSE, ['kernel', 'bias'], ['kernel', 'bias']) },
  QConv1D: { args: quantized({ ...CONV, data_format: fixed('channels_last') }, ['kernel', 'bias'], ['kernel', 'bias']) },
  QConv2D: { args: { ...quantized(CONV, ['kernel', 'bias'], ['kernel', 'bias']), mask: fixed(null) } },
  QConv2DTranspose: { args: quantized(CONV_TRANSPOSE, ['kernel', 'bias']) },
  QDepthwiseConv2D: { args: quantized(DEPTHWISE, ['depthwise', 'bias'], ['depthwise', 'bias']) },
  QSeparableConv1D: { args: quantized({ ...SEPARABLE, data_format: fixed('channels_last') }, ['depthwise', 'pointwise', 'bias']) },
  QSeparableConv2D: { args: quantized(SEPARABLE, ['depthwise', 'pointwise', 'bias']) },
  QActivation: { args: { activation: SPEC } },
  QAveragePooling2D: { args: { ...POOL_2D, average_quantizer: SPEC, activation: SPEC } },
  QGlobalAveragePooling2D: { args: { ...GLOBAL_POOL_2D, average_quantizer: SPEC, activation: SPEC } },
  QBatchNormalization: {
    args: {
      ...BATCH_NORM,
      beta_quantizer: SPEC,
      gamma_quantizer: SPEC,
      mean_quantizer: SPEC,
      variance_quantizer: SPEC,
      inverse_quantizer: SPEC,
      beta_range: PLAIN,
      gamma_range: PLAIN,
    },
  },
};

/** The Keras/QKeras layer classes this module knows (whether or not tfjs has them registered right now). */
export function knownKerasClasses(): string[] {
  return Object.keys(CLASSES).sort();
}

/** Whether tfjs can build `className` (Q layers register themselves when `src/layers` is imported). */
export function isRegisteredTfjsClass(className: string): boolean {
  return tf.serialization.SerializationMap.getMap().classNameMap[className] !== undefined;
}

// ---- identifier spellings -------------------------------------------------------------------------

/** `kernel_size` → `kernelSize` (tfjs's rule for argument names). */
export function camelCase(s: string): string {
  return s.replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Keras activation names ↔ tfjs identifiers. Keras's `exponential` has no tfjs counterpart. */
const ACTIVATIONS_TO_TFJS: Readonly<Record<string, string>> = {
  linear: 'linear',
  relu: 'relu',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hardSigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  gelu: 'gelu',
};
const ACTIVATIONS_TO_KERAS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ACTIVATIONS_TO_TFJS).map(([k, v]) => [v, k]),
);

const DATA_FORMATS_TO_TFJS: Readonly<Record<string, string>> = { channels_last: 'channelsLast', channels_first: 'channelsFirst' };
const DATA_FORMATS_TO_KERAS: Readonly<Record<string, string>> = { channelsLast: 'channels_last', channelsFirst: 'channels_first' };

// ---- initializers, regularizers, constraints --------------------------------------------------------

type ObjectKey = 'plain' | 'mode' | 'distribution';

interface ObjectRule {
  readonly tfjs: string;
  readonly keys: Readonly<Record<string, ObjectKey>>;
}

const SEED_ONLY = { seed: 'plain' } as const;
/** Keras class → tfjs class and the config keys Keras writes. */
const OBJECTS: Readonly<Record<ObjectKind, Readonly<Record<string, ObjectRule>>>> = {
  initializer: {
    Zeros: { tfjs: 'Zeros', keys: {} },
    Ones: { tfjs: 'Ones', keys: {} },
    Constant: { tfjs: 'Constant', keys: { value: 'plain' } },
    RandomNormal: { tfjs: 'RandomNormal', keys: { mean: 'plain', stddev: 'plain', seed: 'plain' } },
    RandomUniform: { tfjs: 'RandomUniform', keys: { minval: 'plain', maxval: 'plain', seed: 'plain' } },
    TruncatedNormal: { tfjs: 'TruncatedNormal', keys: { mean: 'plain', stddev: 'plain', seed: 'plain' } },
    VarianceScaling: { tfjs: 'VarianceScaling', keys: { scale: 'plain', mode: 'mode', distribution: 'distribution', seed: 'plain' } },
    Orthogonal: { tfjs: 'Orthogonal', keys: { gain: 'plain', seed: 'plain' } },
    Identity: { tfjs: 'Identity', keys: { gain: 'plain' } },
    GlorotNormal: { tfjs: 'GlorotNormal', keys: SEED_ONLY },
    GlorotUniform: { tfjs: 'GlorotUniform', keys: SEED_ONLY },
    HeNormal: { tfjs: 'HeNormal', keys: SEED_ONLY },
    HeUniform: { tfjs: 'HeUniform', keys: SEED_ONLY },
    LecunNormal: { tfjs: 'LeCunNormal', keys: SEED_ONLY },
    LecunUniform: { tfjs: 'LeCunUniform', keys: SEED_ONLY },
  },
  regularizer: {
    L1L2: { tfjs: 'L1L2', keys: { l1: 'plain', l2: 'plain' } },
    // tfjs has only L1L2; Keras's L1 and L2 are L1L2 with the other factor 0 (export writes L1L2).
    L1: { tfjs: 'L1L2', keys: { l1: 'plain' } },
    L2: { tfjs: 'L1L2', keys: { l2: 'plain' } },
  },
  constraint: {
    MaxNorm: { tfjs: 'MaxNorm', keys: { max_value: 'plain', axis: 'plain' } },
    NonNeg: { tfjs: 'NonNeg', keys: {} },
    UnitNorm: { tfjs: 'UnitNorm', keys: { axis: 'plain' } },
    MinMaxNorm: { tfjs: 'MinMaxNorm', keys: { min_value: 'plain', max_value: 'plain', rate: 'plain', axis: 'plain' } },
    // QKeras's constraint (registered in tfjs by src/layers/constraints.ts).
    Clip: { tfjs: 'Clip', keys: { min_value: 'plain', max_value: 'plain' } },
  },
};

/** Keras string identifiers for the same objects (`'he_normal'`, `'l2'`). */
const OBJECT_ALIASES: Readonly<Record<ObjectKind, Readonly<Record<string, string>>>> = {
  initializer: {
    zeros: 'Zeros',
    ones: 'Ones',
    constant: 'Constant',
    random_normal: 'RandomNormal',
    random_uniform: 'RandomUniform',
    truncated_normal: 'TruncatedNormal',
    variance_scaling: 'VarianceScaling',
    orthogonal: 'Orthogonal',
    identity: 'Identity',
    glorot_normal: 'GlorotNormal',
    glorot_uniform: 'GlorotUniform',
    he_normal: 'HeNormal',
    he_uniform: 'HeUniform',
    lecun_normal: 'LecunNormal',
    lecun_uniform: 'LecunUniform',
  },
  regularizer: { l1: 'L1', l2: 'L2', l1_l2: 'L1L2' },
  constraint: { max_norm: 'MaxNorm', non_neg: 'NonNeg', unit_norm: 'UnitNorm', min_max_norm: 'MinMaxNorm' },
};

const MODES_TO_TFJS: Readonly<Record<string, string>> = { fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' };
const DISTRIBUTIONS_TO_TFJS: Readonly<Record<string, string>> = { normal: 'normal', uniform: 'uniform', truncated_normal: 'truncatedNormal' };
const invert = (m: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
const MODES_TO_KERAS = invert(MODES_TO_TFJS);
const DISTRIBUTIONS_TO_KERAS = invert(DISTRIBUTIONS_TO_TFJS);

/** Keys Keras ≥ 2.4 adds to serialised objects that carry no meaning for the object itself. */
const OBJECT_ENTRY_KEYS: ReadonlySet<string> = new Set(['class_name', 'config', '__passive_serialization__', 'module', 'registered_name']);

/** Collects problems for one layer; every converter reports through it instead of throwing. */
export class LayerIssues {
  constructor(
    readonly layer: string,
    readonly className: string,
    private readonly sink: KerasImportIssue[],
  ) {}

  add(argument: string | null, detail: string): void {
    this.sink.push({ layer: this.layer, className: this.className, argument, detail });
  }
}

function objectToTfjs(kind: ObjectKind, value: unknown, arg: string, issues: LayerIssues): unknown {
  if (value === null || value === undefined) return null;
  let className: string;
  let config: JsonObject = {};
  if (typeof value === 'string') {
    const alias = OBJECT_ALIASES[kind][value] ?? (OBJECTS[kind][value] ? value : undefined);
    if (alias === undefined) {
      issues.add(arg, `unknown ${kind} ${JSON.stringify(value)}; supported: ${Object.keys(OBJECT_ALIASES[kind]).join(', ')}`);
      return null;
    }
    className = alias;
  } else if (isJsonObject(value) && typeof value.class_name === 'string') {
    className = value.class_name;
    if (value.config !== undefined && !isJsonObject(value.config)) {
      issues.add(arg, `config must be an object, found ${describe(value.config)}`);
      return null;
    }
    config = (value.config as JsonObject | undefined) ?? {};
    for (const k of Object.keys(value)) if (!OBJECT_ENTRY_KEYS.has(k)) issues.add(`${arg}.${k}`, 'unknown key');
  } else {
    issues.add(arg, `expected a ${kind} name or {class_name, config}, found ${describe(value)}`);
    return null;
  }
  if (kind === 'initializer' && className === 'QInitializer') {
    // QKeras wraps initializers to rescale and clip the initial draw to the quantizer's range. It only
    // changes freshly initialised weights; the Q layers add the same wrapping by default, so the inner
    // initializer is what crosses over.
    if (isRegisteredTfjsClass('QInitializer')) {
      return { className: 'QInitializer', config: { initializer: objectToTfjs('initializer', config.initializer, `${arg}.initializer`, issues), useScale: config.use_scale ?? true, quantizer: config.quantizer ?? null } };
    }
    return objectToTfjs('initializer', config.initializer, `${arg}.initializer`, issues);
  }
  const rule = OBJECTS[kind][className];
  if (!rule) {
    issues.add(arg, `unknown ${kind} class ${JSON.stringify(className)}; supported: ${Object.keys(OBJECTS[kind]).join(', ')}${kind === 'initializer' ? ', QInitializer' : ''}`);
    return null;
  }
  // Keras's L1L2 factors default to 0, tfjs's to 0.01: write both so the penalty is the file's.
  const out: JsonObject = kind === 'regularizer' ? { l1: 0, l2: 0 } : {};
  for (const [k, v] of Object.entries(config)) {
    const keyRule = rule.keys[k];
    if (keyRule === undefined) {
      issues.add(`${arg}.${k}`, `unknown ${className} argument; expected one of ${Object.keys(rule.keys).join(', ') || '(none)'}`);
      continue;
    }
    if (keyRule === 'plain') out[camelCase(k)] = v;
    else {
      const table = keyRule === 'mode' ? MODES_TO_TFJS : DISTRIBUTIONS_TO_TFJS;
      const mapped = typeof v === 'string' ? table[v] : undefined;
      if (mapped === undefined) issues.add(`${arg}.${k}`, `${describe(v)} is not supported; expected one of ${Object.keys(table).join(', ')}`);
      else out[k] = mapped;
    }
  }
  return { className: rule.tfjs, config: out };
}

function objectToKeras(kind: ObjectKind, value: unknown, arg: string, issues: LayerIssues): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    // tfjs identifiers such as 'glorotUniform' or 'zeros'.
    const snake = value.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const cls = OBJECT_ALIASES[kind][snake];
    if (cls === undefined) {
      issues.add(arg, `the ${kind} ${JSON.stringify(value)} has no Keras counterpart`);
      return null;
    }
    return objectToKeras(kind, { className: OBJECTS[kind][cls]!.tfjs, config: {} }, arg, issues);
  }
  if (!isJsonObject(value) || typeof value.className !== 'string') {
    issues.add(arg, `expected a serialised ${kind} {className, config}, found ${describe(value)}`);
    return null;
  }
  const config = isJsonObject(value.config) ? value.config : {};
  if (kind === 'initializer' && value.className === 'QInitializer') {
    return {
      class_name: 'QInitializer',
      config: { initializer: objectToKeras('initializer', config.initializer, `${arg}.initializer`, issues), use_scale: config.useScale ?? true, quantizer: config.quantizer ?? null },
    };
  }
  // L1L2 is the canonical Keras name for tfjs's only regularizer class; the first match wins otherwise.
  const entry = Object.entries(OBJECTS[kind]).find(([, r]) => r.tfjs === value.className);
  if (!entry) {
    issues.add(arg, `the ${kind} class ${value.className} has no Keras counterpart`);
    return null;
  }
  const [kerasClass, rule] = entry;
  const out: JsonObject = {};
  for (const [k, keyRule] of Object.entries(rule.keys)) {
    const v = config[camelCase(k)];
    if (v === undefined) continue;
    if (keyRule === 'plain') out[k] = v;
    else {
      const table = keyRule === 'mode' ? MODES_TO_KERAS : DISTRIBUTIONS_TO_KERAS;
      const mapped = typeof v === 'string' ? table[v] : undefined;
      if (mapped === undefined) issues.add(`${arg}.${k}`, `tfjs value ${describe(v)} has no Keras counterpart`);
      else out[k] = mapped;
    }
  }
  return { class_name: kerasClass, config: out };
}

// ---- one argument -----------------------------------------------------------------------------------

function isShape(v: unknown): v is (number | null)[] {
  return Array.isArray(v) && v.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d) && d >= 0));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b;
}

const SKIP = Symbol('skip');

/**
 * A deep copy made of JSON values only. Quantizer configs may hold `PyFloat` (a Python float literal kept
 * for QKeras's `str()`); JSON has one number type, so it becomes its number.
 */
export function plainJson(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plainJson);
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plainJson(x);
    return out;
  }
  return v;
}

function argToTfjs(rule: ArgRule, value: unknown, arg: string, issues: LayerIssues): unknown {
  switch (rule.kind) {
    case 'plain':
    case 'spec':
      return value;
    case 'dataFormat': {
      if (value === null) return SKIP;
      const mapped = typeof value === 'string' ? DATA_FORMATS_TO_TFJS[value] : undefined;
      if (mapped === undefined) issues.add(arg, `${describe(value)} is not a data format; expected 'channels_last' or 'channels_first'`);
      return mapped ?? SKIP;
    }
    case 'activation': {
      if (value === null) return SKIP;
      const mapped = typeof value === 'string' ? ACTIVATIONS_TO_TFJS[value] : undefined;
      if (mapped === undefined) issues.add(arg, `${describe(value)} is not supported; expected one of ${Object.keys(ACTIVATIONS_TO_TFJS).join(', ')}`);
      return mapped ?? SKIP;
    }
    case 'initializer':
    case 'regularizer':
    case 'constraint':
      return objectToTfjs(rule.kind, value, arg, issues);
    case 'shape':
      if (!isShape(value)) {
        issues.add(arg, `expected a list of dimensions (integers or null), found ${describe(value)}`);
        return SKIP;
      }
      return value;
    case 'dtype': {
      const name = isJsonObject(value) && isJsonObject(value.config) ? value.config.name : value;
      if (name !== 'float32') issues.add(arg, `${describe(value)} is not supported; only float32 models are`);
      return 'float32';
    }
    case 'axis': {
      const axis = Array.isArray(value) && value.length === 1 ? value[0] : value;
      if (typeof axis !== 'number' || !Number.isInteger(axis)) {
        issues.add(arg, `${describe(value)} is not supported; expected one axis (an integer or a list of one)`);
        return SKIP;
      }
      return axis;
    }
    case 'fixed':
      if (!rule.allowed.some((a) => sameValue(a, value))) {
        issues.add(arg, `${describe(value)} is not supported; only ${rule.allowed.map((a) => describe(a)).join(' or ')}`);
      }
      return SKIP;
    case 'dropped':
      return SKIP;
  }
}

function argToKeras(rule: ArgRule, value: unknown, arg: string, issues: LayerIssues): unknown {
  switch (rule.kind) {
    case 'plain':
    case 'spec':
    case 'shape':
    case 'axis':
      return value;
    case 'dataFormat': {
      const mapped = typeof value === 'string' ? DATA_FORMATS_TO_KERAS[value] : undefined;
      if (mapped === undefined) issues.add(arg, `tfjs data format ${describe(value)} has no Keras counterpart`);
      return mapped ?? SKIP;
    }
    case 'activation': {
      const mapped = typeof value === 'string' ? ACTIVATIONS_TO_KERAS[value] : undefined;
      if (mapped === undefined) issues.add(arg, `tfjs activation ${describe(value)} has no Keras counterpart`);
      return mapped ?? SKIP;
    }
    case 'initializer':
    case 'regularizer':
    case 'constraint':
      return objectToKeras(rule.kind, value, arg, issues);
    case 'dtype':
      return 'float32';
    case 'fixed':
    case 'dropped':
      return SKIP;
  }
}

// ---- whole layers -----------------------------------------------------------------------------------

/**
 * Maps one Keras layer entry to a tfjs layer spec. Problems go to `sink`; the result is null when the class
 * itself cannot be built (a bad argument still yields a spec, so that all problems surface in one pass).
 */
export function kerasLayerToTfjs(layer: KerasLayerJson, sink: KerasImportIssue[]): TfLayerSpec | null {
  const issues = new LayerIssues(layer.name, layer.className, sink);
  const rule = CLASSES[layer.className];
  if (!rule) {
    issues.add(null, `unknown layer class; supported: ${knownKerasClasses().join(', ')}`);
    return null;
  }
  if (!isRegisteredTfjsClass(layer.className)) {
    issues.add(null, 'known to QKeras but not implemented in qkeras-ts yet');
    return null;
  }
  const args = layer.className === 'InputLayer' ? rule.args : { ...COMMON, ...rule.args };
  const config: tf.serialization.ConfigDict = {};
  for (const [key, value] of Object.entries(layer.config)) {
    const argRule = args[key];
    if (argRule === undefined) {
      issues.add(key, `unknown argument (value ${describe(value)}); ${layer.className} takes ${Object.keys(args).join(', ')}`);
      continue;
    }
    const mapped = argToTfjs(argRule, value, key, issues);
    if (mapped !== SKIP) config[camelCase(key)] = plainJson(mapped) as tf.serialization.ConfigDictValue;
  }
  return { className: layer.className, config };
}

/**
 * Maps a tfjs layer's class and `getConfig()` back to a Keras config (snake_case, Keras spellings).
 * Problems (a class or a config key Keras cannot express) go to `sink`.
 */
export function tfjsLayerToKeras(layerName: string, className: string, config: tf.serialization.ConfigDict, sink: KerasImportIssue[]): JsonObject | null {
  const issues = new LayerIssues(layerName, className, sink);
  const rule = CLASSES[className];
  if (!rule) {
    issues.add(null, `the tfjs layer class has no Keras/QKeras counterpart; supported: ${knownKerasClasses().join(', ')}`);
    return null;
  }
  const args = className === 'InputLayer' ? rule.args : { ...COMMON, ...rule.args };
  const out: JsonObject = {};
  const used = new Set<string>();
  // Table order puts name, trainable, dtype and batch_input_shape first, as Keras writes them.
  for (const [kerasKey, argRule] of Object.entries(args)) {
    const key = camelCase(kerasKey);
    const value = config[key];
    used.add(key);
    // Keras always writes dtype; every other absent argument takes Keras's default.
    if (value === undefined && argRule.kind !== 'dtype') continue;
    if (argRule.kind === 'fixed') {
      // Keras's default is the one implemented value, so it need not be written.
      if (!argRule.allowed.some((a) => sameValue(a, value) || (typeof a === 'string' && camelCase(a) === value))) {
        issues.add(kerasKey, `${describe(value)} cannot be written; only ${argRule.allowed.map((a) => describe(a)).join(' or ')} can`);
      }
      continue;
    }
    const mapped = argToKeras(argRule, value, kerasKey, issues);
    if (mapped !== SKIP) out[kerasKey] = plainJson(mapped);
  }
  for (const [key, value] of Object.entries(config)) {
    if (used.has(key) || value === undefined || rule.tfjsOnly?.includes(key)) continue;
    // tfjs-only options left at their neutral value do not need a Keras counterpart.
    if (value === null) continue;
    issues.add(key, `tfjs option ${describe(value)} cannot be written as a Keras ${className} argument`);
  }
  return out;
}
