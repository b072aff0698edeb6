/**
 * The cells of QKeras's quantized recurrent layers: QSimpleRNNCell, QLSTMCell and QGRUCell. Each step
 * quantizes the kernel, the recurrent kernel and the bias with their quantizers and the incoming state
 * (h, and c for the LSTM) with `stateQuantizer`, then computes Keras's cell with `activation`
 * (default `quantized_tanh`, i.e. `quantized_tanh()` of 8 bits) and, for LSTM/GRU, `recurrentActivation`
 * (default `hard_sigmoid`, which resolves to QKeras's `hard_sigmoid` of slope 0.5, not Keras's 0.2).
 *
 * Kernel and recurrent kernel are weight-like (QKeras's auto-scale default applies to them); every
 * quantized weight gets QKeras's automatic Clip constraint and QInitializer.
 *
 * The gate arithmetic is Keras's "implementation 2" (one matmul for all gates), the form tfjs's cells
 * always use, so that without quantizers these cells equal tfjs's bit for bit; QKeras's default
 * implementation 1 (one matmul per gate) is the same sum computed in another order. `implementation` is
 * kept in the config. Recurrent dropout follows QKeras's implementation 1: the mask multiplies the
 * state fed to the recurrent matmuls only.
 *
 * Deterministic quantizers see the same weights at every step, so the RNN layers quantize the weights
 * once per sequence (`beginSequence`); stochastic quantizers in training are still drawn at every step,
 * as in QKeras.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { isTraining } from '../quantizers/phase.js';
import { biasAdd, positiveInt, trainingFlag, type Kwargs, type ShapeArg, singleShape } from './layer-utils.js';
import { QBiasLayer, type QBiasLayerArgs } from './q-bias-layer.js';
import {
  activationConfig,
  activationSlot,
  weightFromArgs,
  type KerasObjectSpec,
  type QuantizedWeightArgs,
  type QuantizedWeightSpec,
  type QuantizerSpec,
} from './q-layer-base.js';
import { QuantizerSlot } from './quantizer-slot.js';

/** The arguments every quantized cell takes (camelCase of QKeras's). */
export interface QRNNCellArgs extends QBiasLayerArgs, QuantizedWeightArgs<'kernel' | 'recurrent'> {
  units: number;
  /** Default `'quantized_tanh'`. */
  activation?: QuantizerSpec;
  /** Default `'glorot_uniform'`. */
  kernelInitializer?: KerasObjectSpec;
  /** Default `'orthogonal'`. */
  recurrentInitializer?: KerasObjectSpec;
  /** Quantizes the incoming state(s) at every step. */
  stateQuantizer?: QuantizerSpec;
  dropout?: number;
  recurrentDropout?: number;
}

export interface QGatedCellArgs extends QRNNCellArgs {
  /** Default `'hard_sigmoid'` (QKeras's, slope 0.5). */
  recurrentActivation?: QuantizerSpec;
  /** Kept in the config; the computation is always the fused form (see the module comment). */
  implementation?: number;
}

export interface QLSTMCellArgs extends QGatedCellArgs {
  /** Initialise the forget-gate bias to 1. Default true. */
  unitForgetBias?: boolean;
}

export interface QGRUCellArgs extends QGatedCellArgs {
  /** Apply the reset gate after the recurrent matmul (bias of shape `[2, 3·units]`). Default false. */
  resetAfter?: boolean;
}

/** Quantizers that randomise in training: their draws must stay per step. */
function isStochastic(q: Quantizer | null): boolean {
  if (q === null) return false;
  if (['stochastic_binary', 'stochastic_ternary', 'bernoulli'].includes(q.className)) return true;
  const flag = (q as unknown as { useStochasticRounding?: unknown }).useStochasticRounding;
  return flag !== undefined && flag !== null && flag !== false && flag !== 0;
}

function rate(value: unknown, where: string, field: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(where, field, value, 'a number in [0, 1]');
  return Math.min(1, Math.max(0, v));
}

/** tfjs's dropout mask: dropped-out ones while training, plain ones otherwise. */
function dropoutMask(like: tf.Tensor, level: number, training: boolean): tf.Tensor {
  const ones = tf.onesLike(like);
  return tf.keep(training ? tf.dropout(ones, level) : ones);
}

interface QuantizedWeights {
  kernel: tf.Tensor;
  recurrent: tf.Tensor;
  bias: tf.Tensor | null;
}

/**
 * What the three cells share: arguments, weights, quantizers (QKeras order `[kernel, recurrent, bias,
 * state]`), dropout masks and the per-sequence cache.
 */
export abstract class QRNNCellBase extends QBiasLayer {
  readonly units: number;
  readonly dropout: number;
  readonly recurrentDropout: number;
  /** Gates per unit: 1 (SimpleRNN), 4 (LSTM), 3 (GRU). */
  protected abstract readonly gates: number;
  abstract readonly stateSize: number | number[];
  protected readonly kernelSpec: QuantizedWeightSpec;
  protected readonly recurrentSpec: QuantizedWeightSpec;
  protected readonly stateSlot: QuantizerSlot;
  kernel: tf.LayerVariable | null = null;
  recurrentKernel: tf.LayerVariable | null = null;
  /** Read by tfjs's RNN; reset by the RNN layers at each call. */
  dropoutMask: tf.Tensor | null = null;
  recurrentDropoutMask: tf.Tensor | null = null;
  private cached: QuantizedWeights | null = null;

  constructor(args: QRNNCellArgs) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.units = positiveInt(args.units, where, 'units');
    this.dropout = rate(args.dropout, where, 'dropout');
    this.recurrentDropout = rate(args.recurrentDropout, where, 'recurrentDropout');
    this.kernelSpec = this.declareWeight('kernel', weightFromArgs(where, 'kernel', args, 'glorot_uniform', { weight: true }));
    this.recurrentSpec = this.declareWeight('recurrent', weightFromArgs(where, 'recurrent', args, 'orthogonal', { weight: true }));
    this.declareBias(where, args);
    this.stateSlot = this.declareSlot('state', new QuantizerSlot(where, 'stateQuantizer', args.stateQuantizer));
    this.activationQ = this.declareActivation(where, args.activation === undefined ? 'quantized_tanh' : args.activation);
  }

  get kernelQuantizer(): Quantizer | null {
    return this.kernelSpec.slot.quantizer;
  }
  get recurrentQuantizer(): Quantizer | null {
    return this.recurrentSpec.slot.quantizer;
  }
  get stateQuantizer(): Quantizer | null {
    return this.stateSlot.quantizer;
  }

  /** The bias shape (GRU with resetAfter has two bias rows). */
  protected biasShape(): number[] {
    return [this.units * this.gates];
  }

  /** The bias initial value, for cells that compose it (LSTM's unit forget bias); null: the initializer's. */
  protected initialBias(): tf.Tensor | null {
    return null;
  }

  override build(inputShape: ShapeArg): void {
    const shape = singleShape(inputShape, this.name);
    const inputDim = shape[shape.length - 1];
    if (inputDim === null || inputDim === undefined) {
      throw new ConfigError(this.name, 'input shape', shape, 'a defined feature (last) dimension');
    }
    const n = this.units * this.gates;
    this.kernel = this.addQuantizedWeight('kernel', [inputDim, n], this.kernelSpec);
    this.recurrentKernel = this.addQuantizedWeight('recurrent_kernel', [this.units, n], this.recurrentSpec);
    this.buildBias(this.biasShape());
    const init = this.bias === null ? null : this.initialBias();
    if (init !== null) {
      this.bias!.write(init);
      init.dispose();
    }
    this.built = true;
  }

  /** Drops the dropout masks; the RNN layer calls this at the start of each sequence, as tfjs does. */
  resetDropoutMasks(): void {
    tf.dispose([this.dropoutMask ?? [], this.recurrentDropoutMask ?? []]);
    this.dropoutMask = null;
    this.recurrentDropoutMask = null;
  }

  /** Also drops the dropout masks kept from the last training call. */
  override disposeQuantizers(): void {
    super.disposeQuantizers();
    this.resetDropoutMasks();
  }

  /**
   * Quantizes the weights once for a whole sequence when every weight quantizer is deterministic in this
   * phase. The tensors belong to the caller's tidy scope; `endSequence` forgets them.
   */
  beginSequence(training: boolean | undefined): void {
    this.cached = null;
    const slots = [this.kernelSpec.slot, this.recurrentSpec.slot, this.biasSpec.slot];
    if (isTraining(training) && slots.some((s) => isStochastic(s.quantizer))) return;
    this.cached = this.quantizeWeights(training);
  }

  endSequence(): void {
    this.cached = null;
  }

  private quantizeWeights(training: boolean | undefined): QuantizedWeights {
    return {
      kernel: this.kernelSpec.slot.apply(this.kernel!.read(), training),
      recurrent: this.recurrentSpec.slot.apply(this.recurrentKernel!.read(), training),
      bias: this.quantizedBias(training),
    };
  }

  /** The quantized weights of this step. */
  protected weightsForStep(training: boolean | undefined): QuantizedWeights {
    return this.cached ?? this.quantizeWeights(training);
  }

  /** The input and recurrent dropout masks of this sequence (created on first use, as tfjs does). */
  protected masks(x: tf.Tensor, h: tf.Tensor, training: boolean): { input: tf.Tensor | null; recurrent: tf.Tensor | null } {
    if (this.dropout > 0 && this.dropout < 1 && this.dropoutMask === null) {
      this.dropoutMask = dropoutMask(x, this.dropout, training);
    }
    if (this.recurrentDropout > 0 && this.recurrentDropout < 1 && this.recurrentDropoutMask === null) {
      this.recurrentDropoutMask = dropoutMask(h, this.recurrentDropout, training);
    }
    return { input: this.dropoutMask, recurrent: this.recurrentDropoutMask };
  }

  /** Keras's `K.dot` as tfjs computes it (a fused matMul), for bit equality with tfjs's cells. */
  protected dot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D });
  }

  /** One step: `[input, ...states]` → `[output, ...newStates]`. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const states = Array.isArray(this.stateSize) ? this.stateSize.length : 1;
      if (list.length !== 1 + states) {
        throw new ConfigError(this.name, 'inputs', `${list.length} tensors`, `the step input and ${states} state tensor(s)`);
      }
      const flag = trainingFlag(kwargs);
      return this.step(list[0]!, list.slice(1), flag);
    });
  }

  protected abstract step(x: tf.Tensor, states: tf.Tensor[], training: boolean | undefined): tf.Tensor[];

  /** The config entries every cell has (QKeras's names, camelCased). */
  protected baseCellConfig(): tf.serialization.ConfigDict {
    return {
      units: this.units,
      ...this.biasLayerConfig(),
      stateQuantizer: this.stateSlot.serialize(),
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
    } as tf.serialization.ConfigDict;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.baseCellConfig(), ...super.getConfig() };
  }
}

/** `x·kernel (+ bias)` and `h·recurrent` with dropout masks applied, the shared start of every step. */
function maskedInputs(
  x: tf.Tensor,
  h: tf.Tensor,
  masks: { input: tf.Tensor | null; recurrent: tf.Tensor | null },
): { x: tf.Tensor; h: tf.Tensor } {
  return {
    x: masks.input === null ? x : tf.mul(x, masks.input),
    h: masks.recurrent === null ? h : tf.mul(h, masks.recurrent),
  };
}

/** Quantized SimpleRNN cell: `h' = activation(x·K + b + q(h)·R)`. */
export class QSimpleRNNCell extends QRNNCellBase {
  static className = 'QSimpleRNNCell';
  protected readonly gates = 1;
  readonly stateSize: number;

  constructor(args: QRNNCellArgs) {
    super(args);
    this.stateSize = this.units;
  }

  protected step(x: tf.Tensor, states: tf.Tensor[], training: boolean | undefined): tf.Tensor[] {
    const w = this.weightsForStep(training);
    const hq = this.stateSlot.apply(states[0]!, training);
    const m = maskedInputs(x, hq, this.masks(x, states[0]!, isTraining(training)));
    let h = this.dot(m.x, w.kernel);
    if (w.bias !== null) h = biasAdd(h, w.bias);
    const out = this.activationQ.apply(tf.add(h, this.dot(m.h, w.recurrent)), training);
    return [out, out];
  }
}
tf.serialization.registerClass(QSimpleRNNCell);

/** What the LSTM and GRU cells add: the recurrent activation and `implementation`. */
export abstract class QGatedCell extends QRNNCellBase {
  readonly implementation: number;
  protected readonly recurrentActivationQ: QuantizerSlot;

  constructor(args: QGatedCellArgs) {
    super(args);
    const where = `${this.getClassName()}(${this.name})`;
    this.implementation = args.implementation ?? 1;
    if (this.implementation !== 1 && this.implementation !== 2) {
      throw new ConfigError(where, 'implementation', this.implementation, '1 or 2');
    }
    const recurrent = args.recurrentActivation === undefined ? 'hard_sigmoid' : args.recurrentActivation;
    this.recurrentActivationQ = activationSlot(where, recurrent);
  }

  get recurrentActivation(): Quantizer | null {
    return this.recurrentActivationQ.quantizer;
  }

  override getQuantizationConfig(): Record<string, string> {
    return { ...super.getQuantizationConfig(), recurrent_activation: this.recurrentActivationQ.toString() };
  }

  override quantizerSummary(): string {
    const rec = this.recurrentActivationQ;
    return `${super.quantizerSummary()} recurrent_activation=${rec.quantizer === null ? 'linear' : rec.toString()}`;
  }

  protected override ownedQuantizers(): Quantizer[] {
    const rec = this.recurrentActivationQ.quantizer;
    return rec === null ? super.ownedQuantizers() : [...super.ownedQuantizers(), rec];
  }

  protected override baseCellConfig(): tf.serialization.ConfigDict {
    return {
      ...super.baseCellConfig(),
      recurrentActivation: activationConfig(this.recurrentActivationQ),
      implementation: this.implementation,
    } as tf.serialization.ConfigDict;
  }
}

/** Quantized LSTM cell; states `[h, c]`, both quantized by `stateQuantizer` at every step. */
export class QLSTMCell extends QGatedCell {
  static className = 'QLSTMCell';
  protected readonly gates = 4;
  readonly stateSize: number[];
  readonly unitForgetBias: boolean;

  constructor(args: QLSTMCellArgs) {
    super(args);
    this.stateSize = [this.units, this.units];
    this.unitForgetBias = args.unitForgetBias ?? true;
  }

  /** Keras's unit forget bias: `[init(units), ones(units), init(2·units)]`. */
  protected override initialBias(): tf.Tensor | null {
    if (!this.unitForgetBias) return null;
    const init = this.biasSpec.initializer;
    return tf.tidy(() => tf.concat([init.apply([this.units]), tf.ones([this.units]), init.apply([this.units * 2])]));
  }

  protected step(x: tf.Tensor, states: tf.Tensor[], training: boolean | undefined): tf.Tensor[] {
    const w = this.weightsForStep(training);
    const hq = this.stateSlot.apply(states[0]!, training);
    const cq = this.stateSlot.apply(states[1]!, training);
    const m = maskedInputs(x, hq, this.masks(x, hq, isTraining(training)));
    let z = tf.add(this.dot(m.x, w.kernel), this.dot(m.h, w.recurrent));
    if (w.bias !== null) z = biasAdd(z, w.bias);
    const [z0, z1, z2, z3] = tf.split(z, 4, z.rank - 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const act = (t: tf.Tensor): tf.Tensor => this.activationQ.apply(t, training);
    const rec = (t: tf.Tensor): tf.Tensor => this.recurrentActivationQ.apply(t, training);
    const i = rec(z0);
    const f = rec(z1);
    const c = tf.add(tf.mul(f, cq), tf.mul(i, act(z2)));
    const o = rec(z3);
    const h = tf.mul(o, act(c));
    return [h, h, c];
  }

  protected override baseCellConfig(): tf.serialization.ConfigDict {
    return { ...super.baseCellConfig(), unitForgetBias: this.unitForgetBias };
  }
}
tf.serialization.registerClass(QLSTMCell);

/** Quantized GRU cell (`resetAfter` false by default, as in QKeras); state `[h]`. */
export class QGRUCell extends QGatedCell {
  static className = 'QGRUCell';
  protected readonly gates = 3;
  readonly stateSize: number;
  readonly resetAfter: boolean;

  constructor(args: QGRUCellArgs) {
    super(args);
    this.stateSize = this.units;
    this.resetAfter = args.resetAfter ?? false;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, this.units * 3] : [this.units * 3];
  }

  protected step(x: tf.Tensor, states: tf.Tensor[], training: boolean | undefined): tf.Tensor[] {
    const w = this.weightsForStep(training);
    const hq = this.stateSlot.apply(states[0]!, training);
    const m = maskedInputs(x, hq, this.masks(x, states[0]!, isTraining(training)));
    const u = this.units;
    const act = (t: tf.Tensor): tf.Tensor => this.activationQ.apply(t, training);
    const rec = (t: tf.Tensor): tf.Tensor => this.recurrentActivationQ.apply(t, training);
    let inputBias: tf.Tensor | null = w.bias;
    let recurrentBias: tf.Tensor | null = null;
    if (this.resetAfter && w.bias !== null) [inputBias, recurrentBias] = tf.unstack(w.bias) as [tf.Tensor, tf.Tensor];
    let matrixX = this.dot(m.x, w.kernel);
    if (inputBias !== null) matrixX = biasAdd(matrixX, inputBias);
    const [xZ, xR, xH] = tf.split(matrixX, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    let hh: tf.Tensor;
    let z: tf.Tensor;
    if (this.resetAfter) {
      let inner = this.dot(m.h, w.recurrent);
      if (recurrentBias !== null) inner = biasAdd(inner, recurrentBias);
      const [recZ, recR, recH] = tf.split(inner, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      z = rec(tf.add(xZ, recZ));
      const r = rec(tf.add(xR, recR));
      hh = act(tf.add(xH, tf.mul(r, recH)));
    } else {
      const [rk1, rk2] = tf.split(w.recurrent, [2 * u, u], 1) as [tf.Tensor, tf.Tensor];
      const [recZ, recR] = tf.split(this.dot(m.h, rk1), 2, 1) as [tf.Tensor, tf.Tensor];
      z = rec(tf.add(xZ, recZ));
      const r = rec(tf.add(xR, recR));
      hh = act(tf.add(xH, this.dot(tf.mul(r, m.h), rk2)));
    }
    // The state mixed by the update gate is the quantized one, as in QKeras.
    const h = tf.add(tf.mul(z, hq), tf.mul(tf.add(1, tf.neg(z)), hh));
    return [h, h];
  }

  protected override baseCellConfig(): tf.serialization.ConfigDict {
    return { ...super.baseCellConfig(), resetAfter: this.resetAfter };
  }
}
tf.serialization.registerClass(QGRUCell);
