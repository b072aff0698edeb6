/**
 * Every node kind of the hardware IR, in one file, as a discriminated union with readonly fields.
 *
 * Numbers have one meaning everywhere: a tensor of type `t` holds integer *codes*; the real value of a code
 * `c` is `c · 2^-frac` where `frac = gridFrac(t)` (see fixed.ts). Fixed point is `{signed, width, frac}`;
 * power-of-two, binary and ternary tensors use the same integer-times-power-of-two encoding (a po2 value
 * `±2^e` is the code `±2^(e - expMin)` on the grid `2^expMin`), so every op is integer arithmetic on codes.
 * Floats exist only at the model input, where the input node's quantizer turns float32 reals into codes.
 *
 * Weights are integers: `IntWeights` hold codes and one exponent per output channel (the per-channel
 * power-of-two scale of `alpha="auto_po2"` becomes part of that exponent), `Po2Weights` hold a sign and an
 * exponent per element. Constants (bias, batch-norm scale) are integer vectors with one exponent.
 *
 * Nodes store their output `shape` (without the batch axis, channels last) and a `type` that is derived
 * from the node's inputs and contents (`null` until the infer-widths pass fills it); the checker proves
 * both consistent. Each node keeps its origin: the Keras layer name and class it was lowered from.
 */

import { assertNever } from '../errors.js';

// ---- tensor types --------------------------------------------------------------------------------------

/** Fixed point: integer codes of `width` bits (two's complement when signed), value = code · 2^-frac. */
export interface FixedType {
  readonly kind: 'fixed';
  readonly signed: boolean;
  readonly width: number;
  readonly frac: number;
}

/** Powers of two `±2^e`, `expMin <= e <= expMax`, and 0 when `zero`. Unsigned: positive values only. */
export interface Po2Type {
  readonly kind: 'po2';
  readonly signed: boolean;
  readonly expMin: number;
  readonly expMax: number;
  readonly zero: boolean;
}

/** Binary values `±2^exp` (or `{0, 2^exp}` when `zeroOne`); exp is the po2 alpha of the quantizer. */
export interface BinaryType {
  readonly kind: 'binary';
  readonly zeroOne: boolean;
  readonly exp: number;
}

/** Ternary values `{-1, 0, 1} · 2^exp`. */
export interface TernaryType {
  readonly kind: 'ternary';
  readonly exp: number;
}

/** float32 reals: only the model input before its quantizer. */
export interface FloatType {
  readonly kind: 'float';
}

export type TensorType = FixedType | Po2Type | BinaryType | TernaryType | FloatType;

/** A type whose values are integer codes on a power-of-two grid (everything but float). */
export type IntType = Exclude<TensorType, FloatType>;

/**
 * QKeras's quantizer classification (`get_quant_mode`): what kind of multiplier an operand needs.
 * `binary01` is QKeras mode 4 (`bernoulli`, `quantized_relu(1,1)`), `float` mode 5 (unquantized).
 */
export type QuantModeName = 'fixed' | 'po2' | 'ternary' | 'binary' | 'binary01' | 'float';

export interface QuantMode {
  readonly mode: QuantModeName;
  readonly bits: number;
  readonly signed: boolean;
}

// ---- constants -----------------------------------------------------------------------------------------

/** Integer weights: `value[i] = codes[i] · 2^exps[outChannel(i)]`. */
export interface IntWeights {
  readonly kind: 'int';
  readonly shape: readonly number[];
  readonly codes: readonly number[];
  /** One exponent per output channel. */
  readonly exps: readonly number[];
  /** Classification of the weight quantizer (drives mult/barrel/mux/xor). */
  readonly quant: QuantMode;
}

/** Power-of-two weights: `value[i] = signs[i] · 2^exps[i]` (sign 0 is a zero weight). */
export interface Po2Weights {
  readonly kind: 'po2';
  readonly shape: readonly number[];
  readonly signs: readonly (-1 | 0 | 1)[];
  readonly exps: readonly number[];
  readonly quant: QuantMode;
}

export type Weights = IntWeights | Po2Weights;

/** A constant vector (bias, batch-norm scale or offset): `value[i] = codes[i] · 2^exp`. */
export interface IntVector {
  readonly codes: readonly number[];
  readonly exp: number;
}

/** One dyadic constant `code · 2^exp`. */
export interface Dyadic {
  readonly code: number;
  readonly exp: number;
}

// ---- requantization rules ------------------------------------------------------------------------------

export type RoundingMode = 'half_even' | 'half_away';

/**
 * Round to a grid and saturate: `code = clip(round(x · 2^frac), lo, hi)`; output value
 * `code · 2^(scaleExp - frac)`. `frac: null` keeps the input grid (no rounding: an exact relu or clip);
 * `lo`/`hi` null means no bound on that side. With `negSlopeExp` (quantized_relu's po2 `negative_slope`),
 * negative inputs use `clip(round(x · 2^(frac + negSlopeExp)), lo, 0)` instead.
 * quantized_bits (alpha None or a po2 number, half_even), quantized_bits with a frozen auto_po2 scale
 * (half_away, QKeras's `floor(|x|/s + 0.5)`), quantized_relu and Keras `relu` all lower to this rule.
 */
export interface ShiftRule {
  readonly kind: 'shift';
  readonly frac: number | null;
  readonly rounding: RoundingMode;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly negSlopeExp: number | null;
  readonly scaleExp: number;
}

/** binary: `x >= 0 → +1` (0 counts as positive, as QKeras's `sign(x) + (1 - |sign(x)|)`), else -1 or 0. */
export interface SignRule {
  readonly kind: 'sign';
  readonly zeroOne: boolean;
  readonly scaleExp: number;
}

/** ternary: `|x| >= threshold → sign(x)`, else 0. `threshold` is the exact float32 value QKeras compares with. */
export interface TernaryRule {
  readonly kind: 'ternary';
  readonly threshold: number;
  readonly scaleExp: number;
}

/**
 * A monotone step function: `code = values[k]` where `k` counts the thresholds `t` with `x >= t`.
 * Thresholds are exact dyadic reals in ascending order; values are codes of `out`. For quantizers whose
 * float math is not a plain rounding (po2, tanh, sigmoid, ulaw, sigmoid-relu): the breakpoints are found
 * by evaluating the quantizer itself, so the rule is exact by construction.
 */
export interface ThresholdRule {
  readonly kind: 'thresholds';
  readonly thresholds: readonly number[];
  readonly values: readonly number[];
  readonly out: IntType;
}

/** A lookup table over the input grid `2^-inFrac`: `code = values[x · 2^inFrac - inMin]`. */
export interface TableRule {
  readonly kind: 'table';
  readonly inFrac: number;
  readonly inMin: number;
  readonly values: readonly number[];
  readonly out: IntType;
}

export type Rule = ShiftRule | SignRule | TernaryRule | ThresholdRule | TableRule;

/**
 * How tfjs/QKeras forms the quantizer output: `'x'` = `x + (xq - x)` in float32 (quantized_bits,
 * quantized_po2 with use_ste), `'relu'` = `x_u + (xq - x_u)` with the clipped relu `x_u`
 * (quantized_relu), `'none'` = the quantized value itself (tanh-based binary/ternary, tanh, sigmoid,
 * use_ste=False). The residual form is exact only while both terms fit float32's 24-bit significand;
 * the checker proves that (or warns) and the input node verifies it per value.
 */
export type ResidualForm = 'x' | 'relu' | 'none';

export interface Requant {
  readonly rule: Rule;
  readonly residual: ResidualForm;
  /** The QKeras quantizer it came from, for people and reports (e.g. `quantized_relu(6,0)`). */
  readonly quantizer: string;
}

// ---- nodes ---------------------------------------------------------------------------------------------

export interface Origin {
  readonly layer: string;
  readonly className: string;
}

/** TensorFlow padding; `causal` (conv1d only) pads `(k-1)·dilation` cells before and none after. */
export type Padding = 'valid' | 'same' | 'causal';

interface NodeBase {
  readonly id: string;
  readonly inputs: readonly string[];
  /** Output shape without the batch axis, channels last. */
  readonly shape: readonly number[];
  /** Output type, derived from inputs and contents; null until inferred. */
  readonly type: TensorType | null;
  readonly origin: Origin;
}

/** Fields of nodes that compute an exact intermediate ("accumulator") and may requantize it. */
interface Accumulating {
  /** The exact intermediate (sum of products plus bias); null until sized from the actual weights. */
  readonly acc: FixedType | null;
  /** A fused requantizer/activation applied to the accumulator; null keeps the accumulator as output. */
  readonly requant: Requant | null;
}

/** Model input: float32 reals, quantized by the input quantizer (a rule applied to the float32 value). */
export interface InputNode extends NodeBase {
  readonly kind: 'input';
  readonly quant: Requant;
}

interface MacFields extends Accumulating {
  readonly weights: Weights;
  readonly bias: IntVector | null;
  /** Set by prune-zeros: zero weights may be skipped by back-ends and are not counted as operations. */
  readonly pruned: boolean;
}

/** Dense over the last axis: weights `[in, units]`. */
export interface DenseNode extends NodeBase, MacFields {
  readonly kind: 'dense';
}

/** 1-D convolution over `[steps, channels]`: weights `[k, C, F]`. */
export interface Conv1dNode extends NodeBase, MacFields {
  readonly kind: 'conv1d';
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padding: Padding;
}

/** 2-D convolution over `[H, W, C]`: weights `[kh, kw, C, F]`. */
export interface Conv2dNode extends NodeBase, MacFields {
  readonly kind: 'conv2d';
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: Padding;
}

/** Depthwise 2-D convolution: weights `[kh, kw, C, dm]`, output channel `c·dm + k`. */
export interface DepthwiseNode extends NodeBase, MacFields {
  readonly kind: 'depthwise';
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: Padding;
}

/** 1x1 convolution over the last axis (the second half of a separable convolution): weights `[C, F]`. */
export interface PointwiseNode extends NodeBase, MacFields {
  readonly kind: 'pointwise';
}

/** Max pooling over 1 or 2 spatial axes (padding cells never win). */
export interface MaxPoolNode extends NodeBase {
  readonly kind: 'maxpool';
  readonly pool: readonly number[];
  readonly strides: readonly number[];
  readonly padding: Padding;
}

/**
 * Average pooling, exact: output = `S · preScale / count · mult` for the window sum `S` over the `count`
 * valid cells. Keras AveragePooling has `preScale = 1, mult = null`; QAveragePooling2D computes
 * `avgpool(x · area) · q(1/area)`, i.e. `preScale = area, mult = q(1/area)`. Exact only where
 * `preScale / count` is dyadic and float32 reproduces it (the checker enumerates that).
 */
export interface AvgPoolNode extends NodeBase, Accumulating {
  readonly kind: 'avgpool';
  readonly pool: readonly number[];
  readonly strides: readonly number[];
  readonly padding: Padding;
  readonly preScale: number;
  readonly mult: Dyadic | null;
}

/**
 * Global average pooling over all spatial axes: output = `S / divisor · mult`. Keras's (tf.mean) has
 * `divisor = H·W`; QGlobalAveragePooling2D sums and multiplies by `q(1/(H·W))`: `divisor = 1`.
 */
export interface GlobalAvgPoolNode extends NodeBase, Accumulating {
  readonly kind: 'globalavgpool';
  readonly divisor: number;
  readonly mult: Dyadic | null;
}

/** Batch normalization folded to a per-channel affine map over the last axis: `x · scale + offset`. */
export interface BatchNormNode extends NodeBase, Accumulating {
  readonly kind: 'batchnorm';
  readonly scale: IntVector;
  readonly offset: IntVector;
}

/** Element-wise sum of equally shaped inputs. */
export interface AddNode extends NodeBase, Accumulating {
  readonly kind: 'add';
}

/** Concatenation along `axis` (of the output shape, no batch axis). */
export interface ConcatNode extends NodeBase {
  readonly kind: 'concat';
  readonly axis: number;
}

/** A standalone quantizer / activation (QActivation, a layer's activation before fusion). */
export interface RequantizeNode extends NodeBase {
  readonly kind: 'requantize';
  readonly requant: Requant;
}

/** Reshape / Flatten: row-major (channels-last) order is kept. */
export interface ReshapeNode extends NodeBase {
  readonly kind: 'reshape';
}

/** Index of the first maximum along the last axis (a trailing softmax becomes argmax + logits). */
export interface ArgmaxNode extends NodeBase {
  readonly kind: 'argmax';
}

export type Node =
  | InputNode
  | DenseNode
  | Conv1dNode
  | Conv2dNode
  | DepthwiseNode
  | PointwiseNode
  | MaxPoolNode
  | AvgPoolNode
  | GlobalAvgPoolNode
  | BatchNormNode
  | AddNode
  | ConcatNode
  | RequantizeNode
  | ReshapeNode
  | ArgmaxNode;

export type NodeKind = Node['kind'];
export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>;

export type MacNode = DenseNode | Conv1dNode | Conv2dNode | DepthwiseNode | PointwiseNode;
export type AccumulatingNode = MacNode | AvgPoolNode | GlobalAvgPoolNode | BatchNormNode | AddNode;

export const NODE_KINDS: readonly NodeKind[] = [
  'input',
  'dense',
  'conv1d',
  'conv2d',
  'depthwise',
  'pointwise',
  'maxpool',
  'avgpool',
  'globalavgpool',
  'batchnorm',
  'add',
  'concat',
  'requantize',
  'reshape',
  'argmax',
];

export const MAC_KINDS: readonly NodeKind[] = ['dense', 'conv1d', 'conv2d', 'depthwise', 'pointwise'];
const ACC_KINDS: readonly NodeKind[] = [...MAC_KINDS, 'avgpool', 'globalavgpool', 'batchnorm', 'add'];

export function isMacNode(node: Node): node is MacNode {
  return MAC_KINDS.includes(node.kind);
}

/** Nodes with an accumulator and an optional fused requantizer. */
export function isAccumulating(node: Node): node is AccumulatingNode {
  return ACC_KINDS.includes(node.kind);
}

// ---- small constructors --------------------------------------------------------------------------------

export function fixedType(signed: boolean, width: number, frac: number): FixedType {
  return { kind: 'fixed', signed, width, frac };
}

export function po2Type(signed: boolean, expMin: number, expMax: number, zero = false): Po2Type {
  return { kind: 'po2', signed, expMin, expMax, zero };
}

export function binaryType(zeroOne = false, exp = 0): BinaryType {
  return { kind: 'binary', zeroOne, exp };
}

export function ternaryType(exp = 0): TernaryType {
  return { kind: 'ternary', exp };
}

export const FLOAT: FloatType = { kind: 'float' };

export function shiftRule(fields: Partial<Omit<ShiftRule, 'kind'>> & { frac: number | null }): ShiftRule {
  return {
    kind: 'shift',
    frac: fields.frac,
    rounding: fields.rounding ?? 'half_even',
    lo: fields.lo ?? null,
    hi: fields.hi ?? null,
    negSlopeExp: fields.negSlopeExp ?? null,
    scaleExp: fields.scaleExp ?? 0,
  };
}

/** Keras `relu` on an exact value: no rounding, no upper bound. */
export const RELU: Requant = {
  rule: shiftRule({ frac: null, lo: 0 }),
  residual: 'none',
  quantizer: 'relu',
};

export function typesEqual(a: TensorType | null, b: TensorType | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'fixed': {
      const o = b as FixedType;
      return a.signed === o.signed && a.width === o.width && a.frac === o.frac;
    }
    case 'po2': {
      const o = b as Po2Type;
      return a.signed === o.signed && a.expMin === o.expMin && a.expMax === o.expMax && a.zero === o.zero;
    }
    case 'binary': {
      const o = b as BinaryType;
      return a.zeroOne === o.zeroOne && a.exp === o.exp;
    }
    case 'ternary':
      return a.exp === (b as TernaryType).exp;
    case 'float':
      return true;
    default:
      return assertNever(a, 'tensor type');
  }
}

/** Number of output channels of a weight tensor (the last axis; depthwise: C · dm). */
export function outChannels(kind: MacNode['kind'], shape: readonly number[]): number {
  if (kind === 'depthwise') return (shape[2] ?? 0) * (shape[3] ?? 0);
  return shape[shape.length - 1] ?? 0;
}

/**
 * Output channel of the weight at flat (row-major) index `i`. For every MAC kind the output channel is the
 * flat index modulo the channel count: `[.., F]` layouts trivially, depthwise `[kh, kw, C, dm]` because
 * `c·dm + k` is the index within the last two axes.
 */
export function weightChannel(kind: MacNode['kind'], shape: readonly number[], i: number): number {
  return i % outChannels(kind, shape);
}
