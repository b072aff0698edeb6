/**
 * QOctaveConv2D: QKeras's quantized octave convolution (Chen et al. 2019, "Drop an Octave"). As in QKeras
 * it is a function, not a layer: `QOctaveConv2D(args)` returns a builder that takes `[xHigh, xLow]` (either
 * may be null) and returns `[yHigh, yLow]`, creating ordinary Q layers on the way:
 *
 * - `filters` split into `coH = int(filters·(1−alpha))` high-frequency and `coL = filters − coH`
 *   low-frequency channels (the low branch runs at half resolution);
 * - high→high: conv of `xHigh`; high→low: 2×2 average pooling (quantized by `poolingQuantizer`) then conv;
 *   low→high: conv of `xLow` then 2× upsampling (a 1×1 'same' QConv2D and no upsampling when `xLow` is
 *   1×1); low→low: conv of `xLow`;
 * - each conv is a QSeparableConv2D (`useSeparable`, default) or a QConv2D, optionally followed by
 *   `QActivation(accQuantizer)`; the two contributions to each output are added, then
 *   `QActivation(activation)`; `alpha = -1` gives a single high→high conv and `[yHigh, null]`.
 *
 * Layer names follow QKeras (`<name>_c_h_to_l`, `<name>_avg_h_to_l`, `<name>_h_act_qr4`, ...), so a
 * model built here has QKeras's layer names.
 *
 * Departures from QKeras's code, which no longer runs with its own current layers: the pooling quantizer
 * is passed as QAveragePooling2D's `averageQuantizer` (QKeras passes a `quantizer=` argument the layer
 * rejects), `depthwiseActivation` is refused with separable convs (QSeparableConv2D has no activation
 * between its two steps; QKeras passes an argument the layer rejects), and the low→low separable conv
 * uses `pointwiseQuantizer` for its pointwise kernel (QKeras passes the depthwise quantizer there, a
 * slip that the other three branches do not have).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedError } from '../errors.js';
import { Quantizer } from '../quantizers/base.js';
import { QActivation } from './q-activation.js';
import { QConv2D } from './q-conv.js';
import type { KerasObjectSpec, QuantizerSpec } from './q-layer-base.js';
import { QAveragePooling2D } from './q-pooling.js';
import { QSeparableConv2D } from './q-separable-conv.js';

/** A tensor flowing through the octave block: symbolic (model building) or concrete. */
export type OctaveTensor = tf.SymbolicTensor | tf.Tensor;
/** The high- and low-frequency parts; either may be absent. */
export type OctavePair = [OctaveTensor | null, OctaveTensor | null];

export interface QOctaveConv2DArgs {
  filters: number;
  kernelSize: number | number[];
  /** Fraction of low-frequency output channels, in [0, 1]; -1 for a plain conv of the high input only. */
  alpha: number;
  strides?: number | number[];
  padding?: string;
  kernelInitializer?: KerasObjectSpec;
  biasInitializer?: KerasObjectSpec;
  kernelRegularizer?: KerasObjectSpec;
  biasRegularizer?: KerasObjectSpec;
  kernelConstraint?: KerasObjectSpec;
  biasConstraint?: KerasObjectSpec;
  useSeparable?: boolean;
  /** Prefix of every layer name (QKeras's default is the empty string). */
  name?: string;
  biasQuantizer?: QuantizerSpec;
  /** The QConv2D kernels' quantizer (useSeparable false). */
  kernelQuantizer?: QuantizerSpec;
  /** The QSeparableConv2D quantizers (useSeparable true). */
  depthwiseQuantizer?: QuantizerSpec;
  pointwiseQuantizer?: QuantizerSpec;
  /** A QActivation after each conv (the accumulator's type), if given. */
  accQuantizer?: QuantizerSpec;
  /** The average quantizer of the high→low pooling. */
  poolingQuantizer?: QuantizerSpec;
  /** Not supported with separable convs (see the module comment); ignored by QConv2D branches, as in QKeras. */
  depthwiseActivation?: QuantizerSpec;
  /** A QActivation on each output, if given. */
  activation?: QuantizerSpec;
  /** Deprecated in QKeras; passed to the QConv2D branches, which keep them in their config. */
  kernelRange?: number | null;
  biasRange?: number | null;
  depthwiseRange?: number | null;
  pointwiseRange?: number | null;
}

/**
 * QKeras's `GetActivationSuffix`: a short layer-name suffix for an activation: `linear` when none,
 * `q2` for po2 quantizers, else `qr`/`qt`/`qb` (relu, tanh, other) followed by the numbers of the spec,
 * numbers longer than one digit followed by `_` (`quantized_relu(4,2)` → `qr42`,
 * `quantized_bits(16,6)` → `qb16_6`).
 */
export function getActivationSuffix(activation: QuantizerSpec | undefined): string {
  if (activation === null || activation === undefined || activation === '') return 'linear';
  const s =
    activation instanceof Quantizer ? activation.toString() : typeof activation === 'string' ? activation : JSON.stringify(activation);
  if (s.includes('po2')) return 'q2';
  const suffix = s.includes('quantized_relu') ? 'qr' : s.includes('quantized_tanh') ? 'qt' : 'qb';
  const numbers = (s.match(/[0-9]+/g) ?? []).map((n) => (n.length > 1 ? `${n}_` : n));
  return suffix + numbers.join('');
}

function applyLayer(layer: tf.layers.Layer, x: OctaveTensor | OctaveTensor[]): OctaveTensor {
  return layer.apply(x as tf.Tensor) as OctaveTensor;
}

/**
 * Builds QKeras's quantized octave convolution; see the module comment. Returns the function that applies
 * it to `[xHigh, xLow]`; every call of that function creates new layers.
 */
export function QOctaveConv2D(args: QOctaveConv2DArgs): (inputs: OctavePair) => OctavePair {
  const where = `QOctaveConv2D(${args.name ?? ''})`;
  const { filters, kernelSize, alpha } = args;
  if (typeof filters !== 'number' || !Number.isInteger(filters) || filters < 1) {
    throw new ConfigError(where, 'filters', filters, 'a positive integer');
  }
  if (typeof alpha !== 'number' || !(alpha === -1 || (alpha >= 0 && alpha <= 1))) {
    throw new ConfigError(where, 'alpha', alpha, 'a fraction in [0, 1], or -1 for a single high-frequency conv');
  }
  const useSeparable = args.useSeparable ?? true;
  if (useSeparable && args.depthwiseActivation !== undefined && args.depthwiseActivation !== null) {
    throw new UnsupportedError(
      `${where}: depthwiseActivation is not supported with useSeparable=true (QSeparableConv2D applies no ` +
        'activation between its depthwise and pointwise steps; QKeras fails on this argument too). ' +
        'Leave it out, or use useSeparable=false.',
    );
  }
  const name = args.name ?? '';
  const strides = args.strides ?? 1;
  const padding = args.padding ?? 'valid';
  const kernelInitializer = args.kernelInitializer ?? 'he_normal';
  const biasInitializer = args.biasInitializer ?? 'zeros';

  /** One conv branch: separable or plain, with QKeras's arguments. */
  const conv = (
    x: OctaveTensor,
    outFilters: number,
    suffix: string,
    local: { kernelSize: number | number[]; strides: number | number[]; padding: string; separable: boolean },
  ): OctaveTensor => {
    const common = {
      strides: local.strides,
      padding: local.padding,
      biasRegularizer: args.biasRegularizer,
      biasConstraint: args.biasConstraint,
      biasInitializer,
      biasQuantizer: args.biasQuantizer,
      name: `${name}${suffix}`,
    };
    const layer = local.separable
      ? new QSeparableConv2D({
          filters: outFilters,
          kernelSize: local.kernelSize,
          ...common,
          depthwiseRegularizer: args.kernelRegularizer,
          depthwiseConstraint: args.kernelConstraint,
          depthwiseInitializer: kernelInitializer,
          pointwiseRegularizer: args.kernelRegularizer,
          pointwiseConstraint: args.kernelConstraint,
          pointwiseInitializer: kernelInitializer,
          depthwiseQuantizer: args.depthwiseQuantizer,
          pointwiseQuantizer: args.pointwiseQuantizer,
        })
      : new QConv2D({
          filters: outFilters,
          kernelSize: local.kernelSize,
          ...common,
          kernelRegularizer: args.kernelRegularizer,
          kernelConstraint: args.kernelConstraint,
          kernelInitializer,
          kernelQuantizer: args.kernelQuantizer,
          kernelRange: args.kernelRange ?? null,
          biasRange: args.biasRange ?? null,
        });
    return applyLayer(layer, x);
  };
  const regular = { kernelSize, strides, padding, separable: useSeparable };
  const activate = (x: OctaveTensor, spec: QuantizerSpec | undefined, layerName: string): OctaveTensor =>
    spec === null || spec === undefined || spec === '' ? x : applyLayer(new QActivation({ activation: spec, name: layerName }), x);
  const actSuffix = `_${getActivationSuffix(args.activation)}`;
  const accSuffix = `_${getActivationSuffix(args.accQuantizer)}`;

  return ([xHigh, xLow]: OctavePair): OctavePair => {
    if (alpha === -1) {
      if (xHigh === null) throw new ConfigError(where, 'inputs', '[null, ...]', 'a high-frequency input when alpha is -1');
      const y = conv(xHigh, filters, '_c_h_to_h', regular);
      return [activate(y, args.activation, `${name}_c_h_to_h_act${actSuffix}`), null];
    }
    const coH = Math.trunc(filters * (1 - alpha));
    const coL = filters - coH;
    let hToH: OctaveTensor | null = null;
    let hToL: OctaveTensor | null = null;
    let lToH: OctaveTensor | null = null;
    let lToL: OctaveTensor | null = null;

    if (coH > 0 && xHigh !== null) {
      hToH = activate(conv(xHigh, coH, '_c_h_to_h', regular), args.accQuantizer, `${name}_c_h_to_h_act${accSuffix}`);
    }
    if (coL > 0 && xHigh !== null) {
      const pool = new QAveragePooling2D({
        poolSize: 2,
        strides: 2,
        averageQuantizer: args.poolingQuantizer,
        name: `${name}_avg_h_to_l`,
      });
      const pooled = applyLayer(pool, xHigh);
      hToL = activate(conv(pooled, coL, '_c_h_to_l', regular), args.accQuantizer, `${name}_c_h_to_l_act${accSuffix}`);
    }
    if (coH > 0 && xLow !== null) {
      const [, height, width] = xLow.shape;
      // A 1×1 low-frequency map has nothing to upsample: a 1×1 'same' QConv2D maps it to the high size.
      const upsampling = !(height === 1 && width === 1);
      const local = upsampling ? regular : { kernelSize: 1, strides: 1, padding: 'same', separable: false };
      lToH = activate(conv(xLow, coH, '_c_l_to_h', local), args.accQuantizer, `${name}_c_l_to_h_act${accSuffix}`);
      if (upsampling) lToH = applyLayer(tf.layers.upSampling2d({ size: [2, 2], name: `${name}_u_l_to_h` }), lToH);
    }
    if (coL > 0 && xLow !== null) {
      lToL = activate(conv(xLow, coL, '_c_l_to_l', regular), args.accQuantizer, `${name}_c_l_to_l_act${accSuffix}`);
    }

    const merge = (a: OctaveTensor | null, b: OctaveTensor | null, suffix: string): OctaveTensor | null =>
      a !== null && b !== null ? applyLayer(tf.layers.add({ name: `${name}${suffix}` }), [a, b]) : (a ?? b);
    let yHigh = merge(hToH, lToH, '_a_h');
    let yLow = merge(lToL, hToL, '_a_l');
    if (yHigh !== null) yHigh = activate(yHigh, args.activation, `${name}_h_act${actSuffix}`);
    if (yLow !== null) yLow = activate(yLow, args.activation, `${name}_l_act${actSuffix}`);
    return [yHigh, yLow];
  };
}
