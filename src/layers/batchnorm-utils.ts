/**
 * What QBatchNormalization and the BN-folded layers share: Keras's batch-normalisation arguments, axis
 * handling, the moving-average update, and the options QKeras switches off.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, UnsupportedError } from '../errors.js';
import { isTraining } from '../quantizers/phase.js';
import { trainingFlag, type Kwargs } from './layer-utils.js';
import type { KerasObjectSpec } from './q-layer-base.js';

/** Keras's BatchNormalization arguments, camelCased (shared by QBatchNormalization and the folded layers). */
export interface BatchNormArgs {
  /** The feature axis; Keras allows a list, of which one entry is supported here. Default -1. */
  axis?: number | number[];
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: KerasObjectSpec;
  gammaInitializer?: KerasObjectSpec;
  movingMeanInitializer?: KerasObjectSpec;
  movingVarianceInitializer?: KerasObjectSpec;
  betaRegularizer?: KerasObjectSpec;
  gammaRegularizer?: KerasObjectSpec;
  betaConstraint?: KerasObjectSpec;
  gammaConstraint?: KerasObjectSpec;
  /** Keras options that QKeras turns off (QBatchNormalization) or that are not supported here. */
  renorm?: boolean;
  renormClipping?: unknown;
  renormMomentum?: number;
  fused?: boolean | null;
  virtualBatchSize?: number | null;
  adjustment?: unknown;
}

/** Checks a single feature axis (`-1`, `3`, `[-1]`) and returns it as a number. */
export function readAxis(value: unknown, where: string): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : (value ?? -1);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(where, 'axis', value, 'one integer axis (e.g. -1), or a list holding one');
  }
  return v;
}

/** The axis as a non-negative index for a tensor of `rank`, with an error naming the layer. */
export function resolveAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ConfigError(where, 'axis', axis, `an axis of a rank-${rank} input`);
  return a;
}

export function readPositiveNumber(value: unknown, where: string, field: string, dflt: number): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(where, field, value, 'a finite number >= 0');
  return v;
}

/**
 * Rejects Keras options with no equivalent here (renorm, virtual batches, adjustment). `fused` is only a
 * speed choice in Keras and is accepted and ignored.
 */
export function rejectUnsupportedBnOptions(args: BatchNormArgs, where: string): void {
  if (args.renorm === true) {
    throw new UnsupportedError(`${where}: renorm=true is not supported; batch renormalisation has no implementation here`);
  }
  if (args.virtualBatchSize !== undefined && args.virtualBatchSize !== null) {
    throw new UnsupportedError(`${where}: virtualBatchSize=${String(args.virtualBatchSize)} is not supported; use null`);
  }
  if (args.adjustment !== undefined && args.adjustment !== null) {
    throw new UnsupportedError(`${where}: adjustment is not supported; use null`);
  }
}

/**
 * Keras's moving-average update `v ← v − (v − value)·(1 − momentum)`, written exactly as tfjs's
 * BatchNormalization writes it so that both layers hold identical statistics after a training step.
 */
export function movingAverageUpdate(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
  });
}

/** Every axis of a rank-`rank` tensor except `axis`. */
export function reductionAxes(rank: number, axis: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
}

/**
 * Whether a batch-normalisation call trains: the call's flag, else the global learning phase (as Keras's
 * `K.learning_phase()`); a non-trainable layer always runs in inference mode, as in Keras 2.
 */
export function bnTrainingFlag(kwargs: Kwargs | undefined, trainable: boolean): boolean {
  return trainable && isTraining(trainingFlag(kwargs));
}
