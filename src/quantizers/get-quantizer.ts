/**
 * `getQuantizer(spec)`: QKeras's `get_quantizer`, turning whatever a user or a saved model gives as a
 * quantizer (a QKeras string, a Keras `{class_name, config}` object, a quantizer) into a `Quantizer`.
 *
 * Names resolve as in QKeras: registered quantizer classes first, then QKeras's sigmoid/tanh helpers,
 * then Keras activations (the last two as `ActivationFunction`s).
 */
import { QuantizerSpecError, describe } from '../errors.js';
import { PyFloat, Quantizer, type ArgValue, type QuantizerArgs, type SerializedQuantizer } from './base.js';
import { ActivationFunction, activationFunctionNames, lookupActivationFunction } from './functions.js';
import { parseQuantizerSpec } from './parse.js';
import { lookupQuantizer, registeredQuantizerNames } from './registry.js';

/**
 * The Keras serialised form as read from JSON. Keras 2 / QKeras write `{class_name, config}` (plus
 * `__passive_serialization__` inside layer configs); Keras 3 writes an activation function as
 * `{class_name: 'function', config: 'relu', ...}`.
 */
export interface SerializedQuantizerLike {
  readonly class_name: string;
  readonly config?: unknown;
  readonly [extra: string]: unknown;
}

/** Everything `getQuantizer` accepts. */
export type QuantizerSpec = string | Quantizer | SerializedQuantizer | SerializedQuantizerLike | null | undefined;

function knownNames(): string {
  return (
    `known quantizers: ${registeredQuantizerNames().join(', ')}; ` +
    `known activation functions: ${activationFunctionNames().join(', ')}`
  );
}

function fromString(spec: string): Quantizer {
  const parsed = parseQuantizerSpec(spec);
  const namePosition = spec.length - spec.trimStart().length;
  const cls = lookupQuantizer(parsed.name);
  if (cls !== undefined) {
    // A bare class name is the class built with its defaults, as QKeras's safe_eval does ("binary").
    return new cls(parsed.keywords, parsed.positional);
  }
  const fn = lookupActivationFunction(parsed.name);
  if (fn !== undefined) {
    if (parsed.positional.length > 0 || Object.keys(parsed.keywords).length > 0) {
      throw new QuantizerSpecError(
        spec,
        spec.indexOf('(', namePosition),
        `the activation function ${parsed.name} takes no arguments; write it as "${parsed.name}"`,
      );
    }
    return fn;
  }
  throw new QuantizerSpecError(spec, namePosition, `unknown name ${JSON.stringify(parsed.name)}; ${knownNames()}`);
}

/** Checks a JSON config value and narrows it to what a quantizer constructor takes. */
function toArgValue(spec: string, key: string, value: unknown): ArgValue {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
    return value;
  }
  if (value instanceof PyFloat) return value;
  if (Array.isArray(value)) return value.map((v, i) => toArgValue(spec, `${key}[${i}]`, v));
  throw new QuantizerSpecError(
    spec,
    null,
    `config.${key}=${describe(value)} is not a number, boolean, string, null or list of those`,
  );
}

function fromDict(dict: SerializedQuantizer | SerializedQuantizerLike): Quantizer {
  const spec = describe(dict);
  const className: unknown = dict.class_name;
  if (typeof className !== 'string') {
    throw new QuantizerSpecError(spec, null, `class_name must be a string, received ${describe(className)}`);
  }
  // Keras 3 writes activation functions as {class_name: 'function', config: '<name>'}.
  if (className === 'function' && typeof dict.config === 'string') {
    const fn = lookupActivationFunction(dict.config);
    if (fn !== undefined) return fn;
    throw new QuantizerSpecError(spec, null, `unknown activation function ${JSON.stringify(dict.config)}; ${knownNames()}`);
  }
  const config: unknown = dict.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new QuantizerSpecError(spec, null, `config must be an object, received ${describe(config)}`);
  }
  const entries = Object.entries(config);
  const cls = lookupQuantizer(className);
  if (cls !== undefined) {
    const args: QuantizerArgs = Object.fromEntries(entries.map(([k, v]) => [k, toArgValue(spec, k, v)]));
    return new cls(args);
  }
  const fn = lookupActivationFunction(className);
  if (fn !== undefined) {
    if (entries.length > 0) {
      throw new QuantizerSpecError(spec, null, `the activation function ${className} takes no config, received ${describe(config)}`);
    }
    return fn;
  }
  throw new QuantizerSpecError(spec, null, `unknown class_name ${JSON.stringify(className)}; ${knownNames()}`);
}

/**
 * QKeras's `get_quantizer`. `null`/`undefined` give null; a `Quantizer` is returned as is; a string is
 * parsed (`"quantized_bits(4,0,1,alpha='auto_po2')"`, `"binary"` = `binary()`, `"relu"`); an object is
 * read as Keras's `{class_name, config}` (config keys snake_case as QKeras writes them, or camelCase).
 * Throws `QuantizerSpecError` for specs that do not parse or name nothing known, and the quantizer's
 * `ConfigError` for arguments it rejects.
 */
export function getQuantizer(spec: QuantizerSpec): Quantizer | null {
  if (spec === null || spec === undefined) return null;
  if (spec instanceof Quantizer) return spec;
  if (typeof spec === 'string') return fromString(spec);
  if (typeof spec === 'object' && !Array.isArray(spec) && 'class_name' in spec) return fromDict(spec);
  throw new QuantizerSpecError(
    describe(spec),
    null,
    'expected a QKeras quantizer string, a {class_name, config} object, a Quantizer, null or undefined',
  );
}

/**
 * Keras's serialised form of a quantizer or activation, as written into a layer config: `{class_name,
 * config}` for quantizers, the bare name for activation functions, null for none. `getQuantizer` reads
 * it back.
 */
export function serializeQuantizer(q: Quantizer | null | undefined): SerializedQuantizer | string | null {
  if (q === null || q === undefined) return null;
  if (q instanceof ActivationFunction) return q.name;
  return q.serialize();
}
