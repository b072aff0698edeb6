/**
 * Resolution and serialisation of the Keras objects a layer config names: initializers, regularizers and
 * constraints. tfjs-layers keeps its own `getInitializer`/`getConstraint` private, so this module does
 * the same job from the public API: Keras spellings (`'he_normal'`), tfjs spellings (`'heNormal'`),
 * serialised objects in tfjs form (`{className, config}`) or Keras JSON form (`{class_name, config}`),
 * and instances are all accepted.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

/** tfjs's Initializer/Regularizer/Constraint types, taken from the public layer factories' signatures. */
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
export type TfInitializer = Exclude<NonNullable<DenseArgs['kernelInitializer']>, string>;
export type TfRegularizer = Exclude<NonNullable<DenseArgs['kernelRegularizer']>, string>;
export type TfConstraint = Exclude<NonNullable<DenseArgs['kernelConstraint']>, string>;

/** A serialised Keras object as tfjs writes it in memory. */
export interface TfSerialized {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** A serialised Keras object as Keras (and tfjs's model.json) writes it. */
export interface KerasSerialized {
  class_name: string;
  config: Record<string, unknown>;
}

export type InitializerSpec = string | TfInitializer | TfSerialized | KerasSerialized;
export type RegularizerSpec = string | TfRegularizer | TfSerialized | KerasSerialized;
export type ConstraintSpec = string | TfConstraint | TfSerialized | KerasSerialized;

type Kind = 'initializer' | 'regularizer' | 'constraint';

/** Lower-cased names without underscores, so `he_normal`, `heNormal` and `HeNormal` all match. */
function key(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

const INITIALIZERS: Record<string, () => TfInitializer> = {
  zeros: () => tf.initializers.zeros(),
  ones: () => tf.initializers.ones(),
  henormal: () => tf.initializers.heNormal({}),
  heuniform: () => tf.initializers.heUniform({}),
  glorotnormal: () => tf.initializers.glorotNormal({}),
  glorotuniform: () => tf.initializers.glorotUniform({}),
  lecunnormal: () => tf.initializers.leCunNormal({}),
  lecununiform: () => tf.initializers.leCunUniform({}),
  randomuniform: () => tf.initializers.randomUniform({}),
  randomnormal: () => tf.initializers.randomNormal({}),
  truncatednormal: () => tf.initializers.truncatedNormal({}),
  orthogonal: () => tf.initializers.orthogonal({}),
  identity: () => tf.initializers.identity({}),
  variancescaling: () => tf.initializers.varianceScaling({}),
};

const REGULARIZERS: Record<string, () => TfRegularizer> = {
  l1: () => tf.regularizers.l1(),
  l2: () => tf.regularizers.l2(),
  l1l2: () => tf.regularizers.l1l2(),
};

const CONSTRAINTS: Record<string, () => TfConstraint> = {
  maxnorm: () => tf.constraints.maxNorm({}),
  nonneg: () => tf.constraints.nonNeg(),
  unitnorm: () => tf.constraints.unitNorm({}),
  minmaxnorm: () => tf.constraints.minMaxNorm({}),
};

const FACTORIES: Record<Kind, Record<string, () => unknown>> = {
  initializer: INITIALIZERS,
  regularizer: REGULARIZERS,
  constraint: CONSTRAINTS,
};

/** tfjs's own Python→TS identifier rule (`fan_in` → `fanIn`), so Keras JSON reads as tfjs would read it. */
export function camelCaseIdentifier(s: string): string {
  return s.includes('_') ? s.replace(/_+(\w|$)/g, (_m, c: string) => c.toUpperCase()) : s;
}

/** Converts Keras-JSON keys and string values to tfjs's camelCase convention, recursively. */
export function pythonicToTs(value: unknown): unknown {
  if (typeof value === 'string') return camelCaseIdentifier(value);
  if (Array.isArray(value)) return value.map(pythonicToTs);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[camelCaseIdentifier(k)] = k === 'name' ? v : pythonicToTs(v);
    return out;
  }
  return value;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads `{className, config}` or `{class_name, config}`; returns the tfjs form, or null if neither. */
export function asTfSerialized(v: unknown): TfSerialized | null {
  if (!isRecord(v)) return null;
  if (typeof v['className'] === 'string' && isRecord(v['config'] ?? {})) {
    return { className: v['className'], config: (v['config'] ?? {}) as tf.serialization.ConfigDict };
  }
  if (typeof v['class_name'] === 'string' && isRecord(v['config'] ?? {})) {
    return {
      className: v['class_name'],
      config: pythonicToTs(v['config'] ?? {}) as tf.serialization.ConfigDict,
    };
  }
  return null;
}

function isInstance(v: unknown): v is tf.serialization.Serializable {
  return v instanceof tf.serialization.Serializable;
}

function fromRegistry(kind: Kind, spec: TfSerialized, where: string, field: string): unknown {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (entry === undefined) {
    throw new ConfigError(where, field, spec.className, `a registered ${kind} class (tf.serialization.registerClass)`);
  }
  const [cls, fromConfig] = entry;
  const obj: unknown = fromConfig(cls, { ...spec.config });
  if (obj instanceof tf.layers.Layer || !isInstance(obj) || typeof (obj as { apply?: unknown }).apply !== 'function' || otherKind(kind, obj) !== null) {
    const other = isInstance(obj) ? otherKind(kind, obj) : null;
    throw new ConfigError(where, field, spec.className, `the class name of ${a(kind)}${other === null ? '' : ` (${spec.className} is ${a(other)})`}`);
  }
  return obj;
}

/** "an initializer", "a constraint". */
function a(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** The base class tfjs derives an object's class from (tfjs exports none of these bases). */
function baseOf(cls: unknown): unknown {
  return typeof cls === 'function' ? Object.getPrototypeOf(cls) : null;
}

/**
 * Which other kind of Keras object `obj` is, if any: tfjs's registry maps activation names ("softmax")
 * and initializer, regularizer and constraint classes alike, and all of them have an `apply` — used as an
 * initializer, an activation fails deep inside a layer's build.
 */
function otherKind(kind: Kind, obj: tf.serialization.Serializable): string | null {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap;
  const bases: Record<Kind | 'activation', readonly unknown[]> = {
    initializer: [baseOf(tf.initializers.zeros().constructor), registered['QInitializer']?.[0]],
    regularizer: [baseOf(tf.regularizers.l2().constructor)],
    constraint: [baseOf(tf.constraints.nonNeg().constructor), registered['Clip']?.[0]],
    activation: [baseOf(registered['linear']?.[0])],
  };
  for (const [other, classes] of Object.entries(bases)) {
    if (other === kind) continue;
    if (classes.some((c) => typeof c === 'function' && c !== Object && c !== tf.serialization.Serializable && obj instanceof c)) return other;
  }
  return null;
}

function resolve(kind: Kind, spec: unknown, where: string, field: string): unknown {
  if (spec === null || spec === undefined) return null;
  if (typeof spec === 'string') {
    const make = FACTORIES[kind][key(spec)];
    if (make !== undefined) return make();
    // A registered class name given as a plain string (e.g. a custom initializer): build it with defaults.
    if (tf.serialization.SerializationMap.getMap().classNameMap[spec] !== undefined) {
      return fromRegistry(kind, { className: spec, config: {} }, where, field);
    }
    throw new ConfigError(where, field, spec, `a ${kind} name (${Object.keys(FACTORIES[kind]).join(', ')})`);
  }
  const serialized = asTfSerialized(spec);
  if (serialized !== null) return fromRegistry(kind, serialized, where, field);
  if (isInstance(spec) && typeof (spec as { apply?: unknown }).apply === 'function') return spec;
  throw new ConfigError(where, field, spec, `a ${kind}: a name, a {className, config} object or an instance`);
}

/**
 * Numeric settings of tfjs's initializers and the least value each may take. A string or NaN in one of
 * them does not fail: it turns the drawn weights into NaN, and `truncatedNormal` (behind every
 * variance-scaling initializer) then rejects every sample and loops forever.
 */
const INITIALIZER_NUMBERS: Readonly<Record<string, number>> = {
  scale: Number.MIN_VALUE,
  stddev: 0,
  gain: -Infinity,
  mean: -Infinity,
  minval: -Infinity,
  maxval: -Infinity,
  value: -Infinity,
};

function checkInitializerNumbers(init: TfInitializer, where: string, field: string): void {
  const config = (init as unknown as tf.serialization.Serializable).getConfig();
  for (const [name, least] of Object.entries(INITIALIZER_NUMBERS)) {
    const v = config[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < least) {
      const allowed = least === -Infinity ? 'a finite number' : least === 0 ? 'a finite number >= 0' : 'a finite number > 0';
      throw new ConfigError(where, `${field}.${name}`, v, `${allowed} (${init.getClassName()})`);
    }
  }
}

/** Resolves an initializer spec; null/undefined give null. */
export function getInitializer(spec: unknown, where: string, field: string): TfInitializer | null {
  const init = resolve('initializer', spec, where, field) as TfInitializer | null;
  if (init !== null) checkInitializerNumbers(init, where, field);
  return init;
}

export function getRegularizer(spec: unknown, where: string, field: string): TfRegularizer | null {
  return resolve('regularizer', spec, where, field) as TfRegularizer | null;
}

export function getConstraint(spec: unknown, where: string, field: string): TfConstraint | null {
  return resolve('constraint', spec, where, field) as TfConstraint | null;
}

/**
 * tfjs's `serializeKerasObject`: `{className, config}`, or null for a missing object. Unset config values
 * are written as null (Keras's `None`), so that a config reads the same before and after a JSON round
 * trip (an unseeded initializer has `seed: null` either way).
 */
export function serializeKerasObject(obj: tf.serialization.Serializable | null): TfSerialized | null {
  if (obj === null) return null;
  const config: tf.serialization.ConfigDict = {};
  for (const [k, v] of Object.entries(obj.getConfig())) config[k] = v === undefined ? null : v;
  return { className: obj.getClassName(), config };
}
