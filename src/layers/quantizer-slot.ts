/**
 * One quantizer argument of a Q layer (kernel, bias, depthwise, pointwise, average, activation): the spec
 * exactly as the user gave it (QKeras keeps `self.kernel_quantizer` raw), the parsed `Quantizer` the layer
 * calls (QKeras's `kernel_quantizer_internal`), and its serialised form for `getConfig`.
 *
 * Kernel-like slots tell their quantizer that it quantizes weights (`setTrainableParameter()`, QKeras's
 * `_set_trainable_parameter`): `quantized_bits`/`binary`/`ternary`/... with no alpha switch to
 * `alpha='auto_po2'`. That changed quantizer is what the layer uses, prints and serialises.
 *
 * This module also undoes what tfjs does to layer configs when a model goes through `model.json`: on
 * save every key and string is snake_cased, on load camelCased, so a QKeras `{class_name:
 * 'quantized_bits', config: {keep_negative: false, alpha: 'auto_po2'}}` comes back as `{className:
 * 'quantizedBits', config: {keepNegative: false, alpha: 'autoPo2'}}`. `reviveQuantizerSpec` maps such a
 * value back to QKeras's form using the quantizer registry.
 */
import * as tf from '@tensorflow/tfjs';
// Registers every QKeras quantizer class, so that names in specs and saved configs resolve.
import '../quantizers/index.js';
import { ConfigError, QKerasError } from '../errors.js';
import { PyFloat, Quantizer, type SerializedQuantizer } from '../quantizers/base.js';
import { activationFunctionNames } from '../quantizers/functions.js';
import { getQuantizer, serializeQuantizer, type QuantizerSpec } from '../quantizers/get-quantizer.js';
import { parseQuantizerSpec } from '../quantizers/parse.js';
import { lookupQuantizer, registeredQuantizerNames } from '../quantizers/registry.js';
import { camelCaseIdentifier, isRecord } from './keras-objects.js';

export type { QuantizerSpec } from '../quantizers/get-quantizer.js';

/** What a slot serialises to: `{class_name, config}`, a Keras activation name, or null. */
export type SerializedSlot = SerializedQuantizer | string | null;

/** QKeras values of string-typed quantizer arguments, to undo tfjs's camelCasing of values. */
const KNOWN_STRING_VALUES = ['auto', 'auto_po2', 'rnd', 'floor'];

/** tfjs's TS→Python identifier rule, used as the fallback inverse of `camelCaseIdentifier`. */
function snakeCaseIdentifier(s: string): string {
  return s
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The registered quantizer or activation-function name whose tfjs camelCase form is `name`. */
function uncamelName(name: string): string {
  if (lookupQuantizer(name) !== undefined) return name;
  for (const n of [...registeredQuantizerNames(), ...activationFunctionNames()]) {
    if (n === name || camelCaseIdentifier(n) === name) return n;
  }
  return name;
}

/**
 * A quantizer argument as it may come back from JSON: tfjs's config conversion turns a `PyFloat` into
 * `{value: n}` (and the model.json reader does so for `1.0` literals), and camelCases string values.
 */
function reviveValue(v: unknown, camelCased: boolean): unknown {
  if (Array.isArray(v)) return v.map((e) => reviveValue(e, camelCased));
  if (isRecord(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'value' && typeof v['value'] === 'number') return new PyFloat(v['value']);
    return v;
  }
  if (camelCased && typeof v === 'string') return KNOWN_STRING_VALUES.find((s) => camelCaseIdentifier(s) === v) ?? v;
  return v;
}

/**
 * A quantizer string whose name is unknown but is the camelCase of a known one went through tfjs's
 * loader (a Keras model.json, e.g. from tensorflowjs_converter, holds QActivation's raw string): it is
 * re-read as QKeras's `{class_name, config}`, keyword names and string values mapped back.
 */
function reviveString(spec: string): unknown {
  const head = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(spec);
  if (head === null) return spec;
  const name = head[1]!;
  const real = uncamelName(name);
  if (real === name) return spec;
  let parsed: ReturnType<typeof parseQuantizerSpec>;
  try {
    parsed = parseQuantizerSpec(real + spec.slice(head[0].length));
  } catch {
    return spec;
  }
  const cls = lookupQuantizer(real);
  if (cls === undefined) return parsed.hasParens ? spec : real; // an activation function name
  const byCamel = new Map(cls.params.map((p) => [camelCaseIdentifier(p.name), p.name] as const));
  const config: Record<string, unknown> = {};
  parsed.positional.forEach((v, i) => {
    const p = cls.params[i];
    if (p !== undefined) config[p.name] = reviveValue(v, true);
  });
  for (const [k, v] of Object.entries(parsed.keywords)) config[byCamel.get(k) ?? k] = reviveValue(v, true);
  return { class_name: real, config };
}

/**
 * Maps a quantizer spec that went through tfjs's `model.json` conversion back to QKeras's form; specs
 * already in QKeras's form are returned unchanged. Handles `{className, config}` objects (tfjs spelling,
 * camelCased keys and values), PyFloats flattened to `{value: n}`, and camelCased names in strings
 * (`hardSigmoid` → `hard_sigmoid`).
 */
export function reviveQuantizerSpec(spec: unknown): unknown {
  if (typeof spec === 'string') return reviveString(spec);
  if (!isRecord(spec) || spec instanceof Quantizer) return spec;
  const camelCased = typeof spec['className'] === 'string' && !('class_name' in spec);
  const rawName = camelCased ? spec['className'] : spec['class_name'];
  if (typeof rawName !== 'string') return spec;
  const className = camelCased ? uncamelName(rawName) : rawName;
  const rawConfig = spec['config'];
  if (!isRecord(rawConfig)) return { class_name: className, config: rawConfig };
  const cls = lookupQuantizer(className);
  const byCamel = new Map<string, string>();
  for (const p of cls?.params ?? []) byCamel.set(camelCaseIdentifier(p.name), p.name);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawConfig)) {
    if (k === 'customObjects') continue;
    const key = camelCased ? (byCamel.get(k) ?? (k.includes('_') ? k : snakeCaseIdentifier(k))) : k;
    config[key] = reviveValue(v, camelCased);
  }
  return { ...(camelCased ? {} : spec), class_name: className, config };
}

/** True when a quantizer's `alpha` is a string (`auto`, `auto_po2`): such quantizers keep their initializer. */
export function hasStringAlpha(q: Quantizer): boolean {
  return typeof (q as unknown as { alpha?: unknown }).alpha === 'string';
}

/** Parses a spec with an error that names the layer and the argument. */
export function parseQuantizer(spec: unknown, where: string, field: string): Quantizer | null {
  try {
    return getQuantizer(reviveQuantizerSpec(spec) as QuantizerSpec);
  } catch (e) {
    if (e instanceof QKerasError) {
      throw new ConfigError(where, field, spec instanceof Quantizer ? spec.toString() : spec, `a quantizer (${e.message})`);
    }
    throw e;
  }
}

/** Keras's serialised form of a quantizer (`{class_name, config}`) or activation (its name), or null. */
export function serializeSlotValue(q: Quantizer | null): SerializedSlot {
  return serializeQuantizer(q);
}

export interface SlotOptions {
  /** The slot quantizes a weight tensor (kernel, depthwise, pointwise): call `setTrainableParameter()`. */
  readonly weight?: boolean;
}

export class QuantizerSlot {
  /** The spec as given to the constructor (string, `{class_name, config}`, Quantizer, or null). */
  readonly spec: QuantizerSpec;
  /** The parsed quantizer the layer calls, or null when the slot is empty. */
  readonly quantizer: Quantizer | null;

  constructor(
    readonly where: string,
    readonly field: string,
    spec: unknown,
    options: SlotOptions = {},
  ) {
    this.spec = (spec ?? null) as QuantizerSpec;
    this.quantizer = parseQuantizer(spec, where, field);
    if (options.weight === true && this.quantizer !== null) this.quantizer.setTrainableParameter();
  }

  /** Quantizes `x` (unchanged when the slot is empty), passing the layer call's training flag on. */
  apply(x: tf.Tensor, training: boolean | undefined): tf.Tensor {
    if (this.quantizer === null) return x;
    return this.quantizer.call(x, training === undefined ? {} : { training });
  }

  serialize(): SerializedSlot {
    return serializeSlotValue(this.quantizer);
  }

  /** QKeras's `str()` of the internal quantizer (`None` when empty). */
  toString(): string {
    return this.quantizer === null ? 'None' : this.quantizer.toString();
  }
}

