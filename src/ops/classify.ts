/**
 * QKeras's operation classification (qkeras/estimate.py): the quantizer mode of each operand
 * (`get_quant_mode`) and the weight × input table that names the multiplier a MAC needs (mult, barrel,
 * mux, adder, xor, fmult). The one copy in the code base: `extractModelOperations`/`printQstats` and the
 * IR's cost model both read it.
 */
import type { QuantMode, QuantModeName, TensorType } from '../ir/nodes.js';
import { storageBits } from '../ir/fixed.js';
import { ConfigError, assertNever } from '../errors.js';

export type OpType = 'mult' | 'barrel' | 'mux' | 'adder' | 'xor' | 'fmult';

/** QKeras's mode numbers, in table order. */
export const MODE_INDEX: Readonly<Record<QuantModeName, number>> = {
  fixed: 0,
  po2: 1,
  ternary: 2,
  binary: 3,
  binary01: 4,
  float: 5,
};

const MODE_NAMES: readonly QuantModeName[] = ['fixed', 'po2', 'ternary', 'binary', 'binary01', 'float'];

/** Rows: weight mode; columns: input mode (QKeras's `wx_table`). */
const WX_TABLE: readonly (readonly OpType[])[] = [
  ['mult', 'barrel', 'mux', 'mux', 'mux', 'fmult'],
  ['barrel', 'adder', 'mux', 'xor', 'mux', 'fmult'],
  ['mux', 'mux', 'mux', 'mux', 'xor', 'fmult'],
  ['mux', 'xor', 'mux', 'xor', 'xor', 'fmult'],
  ['mux', 'mux', 'xor', 'xor', 'xor', 'fmult'],
  ['fmult', 'fmult', 'fmult', 'fmult', 'fmult', 'fmult'],
];

export function modeName(index: number): QuantModeName {
  const name = MODE_NAMES[index];
  if (name === undefined) throw new ConfigError('quant mode', 'mode', index, 'an integer 0..5');
  return name;
}

/** The multiplier kind for a weight mode and an input mode. */
export function getOpType(weight: QuantModeName, input: QuantModeName): OpType {
  return WX_TABLE[MODE_INDEX[weight]]![MODE_INDEX[input]]!;
}

/**
 * QKeras's op name, e.g. `smult_4_8`: `s` when either operand is signed, the op type, weight bits, input
 * bits.
 */
export function opName(op: OpType, weight: QuantMode, input: QuantMode): string {
  return `${weight.signed || input.signed ? 's' : 'u'}${op}_${weight.bits}_${input.bits}`;
}

/** The fields of a quantizer `get_quant_mode` reads. */
export interface QuantizerFields {
  readonly bits?: number;
  readonly integer?: number;
}

export const FLOAT_MODE: QuantMode = { mode: 'float', bits: 32, signed: true };

/**
 * QKeras `get_quant_mode` from a quantizer's class name and fields; `null` or `'linear'` means float.
 * Matched by exact class name as QKeras does; anything else is an error naming the quantizer.
 */
export function quantModeOf(className: string | null, fields: QuantizerFields = {}): QuantMode {
  if (className === null || className === 'linear') return FLOAT_MODE;
  const bits = (): number => {
    if (fields.bits === undefined) throw new ConfigError(className, 'bits', undefined, 'the quantizer bit width');
    return Math.trunc(fields.bits);
  };
  switch (className) {
    case 'quantized_bits':
    case 'quantized_tanh':
    case 'quantized_ulaw': {
      const b = bits();
      const mode: QuantModeName = b === 2 && Math.trunc(fields.integer ?? 0) === 1 ? 'ternary' : 'fixed';
      return { mode, bits: b, signed: true };
    }
    case 'quantized_relu': {
      const b = bits();
      const mode: QuantModeName = b === 1 && Math.trunc(fields.integer ?? 0) === 1 ? 'binary01' : 'fixed';
      return { mode, bits: b, signed: false };
    }
    case 'bernoulli':
      return { mode: 'binary01', bits: 1, signed: false };
    case 'stochastic_ternary':
    case 'ternary':
      return { mode: 'ternary', bits: 2, signed: true };
    case 'stochastic_binary':
    case 'binary':
      return { mode: 'binary', bits: 1, signed: true };
    case 'quantized_po2':
      return { mode: 'po2', bits: bits(), signed: true };
    case 'quantized_relu_po2':
      return { mode: 'po2', bits: bits(), signed: false };
    default:
      throw new ConfigError(
        'quantizer classification',
        'quantizer',
        className,
        'one of quantized_bits, bernoulli, ternary, stochastic_ternary, binary, stochastic_binary, ' +
          'quantized_relu, quantized_ulaw, quantized_tanh, quantized_po2, quantized_relu_po2, linear or none ' +
          '(QKeras get_quant_mode knows no other)',
      );
  }
}

/** The quant mode of an IR tensor type (what the next MAC multiplies with). */
export function quantModeOfType(t: TensorType): QuantMode {
  switch (t.kind) {
    case 'fixed':
      return { mode: 'fixed', bits: t.width, signed: t.signed };
    case 'po2':
      return { mode: 'po2', bits: storageBits(t), signed: t.signed };
    case 'binary':
      return t.zeroOne ? { mode: 'binary01', bits: 1, signed: false } : { mode: 'binary', bits: 1, signed: true };
    case 'ternary':
      return { mode: 'ternary', bits: 2, signed: true };
    case 'float':
      return FLOAT_MODE;
    default:
      return assertNever(t, 'tensor type');
  }
}
