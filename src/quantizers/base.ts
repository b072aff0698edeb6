/**
 * The Quantizer contract and the argument machinery every quantizer shares.
 *
 * Each quantizer class declares its constructor parameters once (`static params`, QKeras order and
 * defaults). That single list drives positional/keyword parsing of QKeras strings, the factories
 * (`quantized_bits({bits: 4})`), unknown-argument errors and `fromConfig`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, describe } from '../errors.js';

/**
 * A Python float literal whose value is integral (`1.0`). JS numbers cannot tell `1` from `1.0`, but
 * QKeras's `str()` does (`alpha=1.0` vs `alpha=1`), so the string parser keeps the distinction here and
 * `resolveArgs` unwraps it into a plain number plus an entry in `floats`.
 */
export class PyFloat {
  constructor(readonly value: number) {}

  /** JSON has one number type: a config holding a PyFloat serialises as the plain number. */
  toJSON(): number {
    return this.value;
  }
}

/** A value a QKeras argument can take once parsed: what QKeras's `GetArg` can produce. */
export type ArgValue = number | boolean | string | null | PyFloat | ArgValue[];

export type QuantizerArgs = Record<string, ArgValue | undefined>;

/** One constructor parameter: its QKeras (snake_case) name and default. */
export interface ParamSpec {
  readonly name: string;
  readonly default: ArgValue;
}

/** The `{class_name, config}` form Keras uses to serialise a quantizer. */
export interface SerializedQuantizer {
  class_name: string;
  config: Record<string, unknown>;
}

/** What a quantizer tensor call may be told: `training` overrides the global learning phase. */
export interface CallOptions {
  training?: boolean;
}

export abstract class Quantizer {
  /** QKeras's registry/class name, e.g. `quantized_bits`. */
  abstract readonly className: string;
  /** Number of bits of the quantized value (1 for binary, 2 for ternary). */
  abstract bits: number;
  /** The scale of the last call: per-channel tensor after an `auto`/`auto_po2` call, else a number or null. */
  scale: tf.Tensor | number | null = null;

  abstract call(x: tf.Tensor, options?: CallOptions): tf.Tensor;
  /** QKeras's exact `str()`, quirks included. */
  abstract toString(): string;
  /** QKeras's `get_config()` (only the keys QKeras writes). */
  abstract getConfig(): Record<string, unknown>;
  /** QKeras `max()`: the clip bound used for constraints/initializers, not always the largest value. */
  abstract max(): number;
  abstract min(): number;

  /** All representable values, for the quantizers where QKeras defines `range()`. */
  range(): number[] {
    throw new ConfigError(this.toString(), 'range()', 'call', 'a quantizer that defines range()');
  }

  /** QKeras `_set_trainable_parameter`: weight layers call it; a no-op unless a quantizer overrides it. */
  setTrainableParameter(): void {}

  /** Forward blend factor between float (0) and quantized (1), for quantizers that support it. */
  qnoiseFactor = 1;

  updateQnoiseFactor(value: number): void {
    this.qnoiseFactor = value;
  }

  /** Keras's serialised form: `{class_name, config}`, or a bare name for a plain activation function. */
  serialize(): SerializedQuantizer | string {
    return { class_name: this.className, config: this.getConfig() };
  }

  /**
   * Frees the tensors the quantizer keeps from its last call (a per-channel `scale`) and returns to its
   * state before the first call; it stays usable (the next call computes them again). Q layers call it
   * when they are disposed.
   */
  dispose(): void {
    if (this.scale instanceof tf.Tensor) {
      if (!this.scale.isDisposed) this.scale.dispose();
      this.scale = null;
    }
  }

  /** Replaces the stored scale, keeping the new tensor alive outside tidy scopes and freeing the old one. */
  protected setScale(scale: tf.Tensor | number | null): void {
    if (this.scale instanceof tf.Tensor && !this.scale.isDisposed) this.scale.dispose();
    this.scale = scale instanceof tf.Tensor ? tf.keep(scale.clone()) : scale;
  }
}

/** A quantizer class as the registry sees it. */
export interface QuantizerClass {
  readonly qkerasName: string;
  readonly params: readonly ParamSpec[];
  /** `positional` are QKeras positional arguments (from a parsed string), in `params` order. */
  new (args?: QuantizerArgs, positional?: readonly ArgValue[]): Quantizer;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Merges positional and keyword arguments into one record keyed by QKeras parameter names, with defaults
 * filled in. Keys may be snake_case (QKeras) or camelCase (tfjs style). Rejects unknown names, duplicates
 * and surplus positionals with an error naming the quantizer, the argument and what is allowed.
 */
export interface ResolvedArgs {
  /** Every parameter, defaults filled in, PyFloat unwrapped to numbers. */
  readonly values: Record<string, ArgValue>;
  /** Names of the parameters given as Python floats with integral values (print as `1.0`). */
  readonly floats: ReadonlySet<string>;
}

export function resolveArgs(
  className: string,
  params: readonly ParamSpec[],
  positional: readonly ArgValue[] = [],
  keywords: QuantizerArgs = {},
): ResolvedArgs {
  const names = params.map((p) => p.name);
  if (positional.length > params.length) {
    throw new ConfigError(
      className,
      'positional arguments',
      positional,
      `at most ${params.length} (${names.join(', ')})`,
    );
  }
  const out: Record<string, ArgValue> = {};
  positional.forEach((v, i) => {
    out[names[i]!] = v;
  });
  for (const [rawKey, value] of Object.entries(keywords)) {
    if (value === undefined) continue;
    const key = names.includes(rawKey) ? rawKey : snakeCase(rawKey);
    if (!names.includes(key)) {
      throw new ConfigError(className, rawKey, value, `one of the arguments ${names.join(', ')}`);
    }
    if (key in out) {
      throw new ConfigError(className, key, value, 'each argument given once (it was also given by position)');
    }
    out[key] = value;
  }
  for (const p of params) if (!(p.name in out)) out[p.name] = p.default;
  const floats = new Set<string>();
  for (const [k, v] of Object.entries(out)) {
    if (v instanceof PyFloat) {
      floats.add(k);
      out[k] = v.value;
    }
  }
  return { values: out, floats };
}

// ---- small validators used by the quantizer constructors --------------------------------------------

export function asNumber(className: string, field: string, v: ArgValue, allowed = 'a number'): number {
  if (typeof v === 'boolean') return v ? 1 : 0; // Python bools are ints.
  if (v instanceof PyFloat) return v.value;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(className, field, v, allowed);
  return v;
}

export function asInt(className: string, field: string, v: ArgValue, min = -Infinity): number {
  const n = asNumber(className, field, v, `an integer >= ${min}`);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(className, field, v, `an integer >= ${min}`);
  return n;
}

export function asBool(className: string, field: string, v: ArgValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v === null) return false;
  throw new ConfigError(className, field, v, 'a boolean or 0/1');
}

export function asOptionalNumber(className: string, field: string, v: ArgValue): number | null {
  return v === null ? null : asNumber(className, field, v);
}

/**
 * Python's `str()`/`repr()` of a number. `isFloat` says the value was a Python float (see PyFloat), so an
 * integral value prints as `1.0`. Non-integral values use Python's shortest round-trip form, which for
 * doubles matches JS except for exponents (`1e-05` in Python, `0.00001` in JS).
 */
export function pyNumber(n: number, isFloat: boolean): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n) && !isFloat) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    // Python switches to exponent form below 1e-4 and at 1e16, with at least two exponent digits.
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const e = Number(exp);
    const sign = e < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

export function pyRepr(v: unknown, isFloat = false): string {
  if (typeof v === 'number') return pyNumber(v, isFloat);
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return describe(v);
}

/**
 * A number for a `getConfig()` record: an integral value that was a Python float stays a PyFloat, so that
 * the config rebuilds a quantizer with the same `str()` (`1.0`, not `1`).
 */
export function configNumber(v: number, isFloat: boolean): number | PyFloat {
  return isFloat && Number.isInteger(v) ? new PyFloat(v) : v;
}
