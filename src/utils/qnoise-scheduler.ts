/**
 * QKeras's `QNoiseScheduler` callback: introduces quantization noise gradually during training by moving
 * every quantizer's `qnoise_factor` from 0 (float) to 1 (fully quantized) on a polynomial schedule, per
 * step or per epoch (https://arxiv.org/abs/1903.01061).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';

export type QNoiseFrequency = 'step' | 'epoch';

export interface QNoiseSchedulerArgs {
  /** Step (or epoch) at which the factor starts to rise from 0. */
  start: number;
  /** Step (or epoch) at which it reaches 1. `start === finish` means 1 from the beginning. */
  finish: number;
  freqType?: QNoiseFrequency;
  /** Update every this many steps (epochs). */
  updateFreq?: number;
  initialStepOrEpoch?: number;
  exponent?: number;
  /** Sets `use_ste` on every scheduled quantizer, as QKeras does. */
  useSte?: boolean;
}

/** Quantizers whose QKeras class has a `qnoise_factor` (its config lists one). */
function hasQnoise(q: Quantizer | null | undefined): q is Quantizer {
  return !!q && typeof q.getConfig === 'function' && 'qnoise_factor' in q.getConfig();
}

/** The quantizers QKeras's scheduler collects: each layer's `quantizers` list and its `quantizer`. */
export function scheduledQuantizers(model: tf.LayersModel): Quantizer[] {
  const out: Quantizer[] = [];
  for (const layer of model.layers) {
    const l = layer as unknown as { getQuantizers?: () => (Quantizer | null)[]; quantizer?: Quantizer | null };
    const candidates = [...(typeof l.getQuantizers === 'function' ? l.getQuantizers() : []), ...('quantizer' in l ? [l.quantizer] : [])];
    for (const q of candidates) if (hasQnoise(q)) out.push(q);
  }
  return out;
}

export class QNoiseScheduler extends tf.Callback {
  readonly start: number;
  readonly finish: number;
  readonly freqType: QNoiseFrequency;
  readonly updateFreq: number;
  readonly initialStepOrEpoch: number;
  readonly exponent: number;
  readonly useSte: boolean;
  /** The factor last set (null before training). */
  qnoiseFactor: number | null = null;
  /** The scheduled quantizers, collected at the start of training. */
  quantizers: Quantizer[] | null = null;
  private numIters = 0;

  constructor(args: QNoiseSchedulerArgs) {
    super();
    const where = 'QNoiseScheduler';
    if (!Number.isFinite(args.start)) throw new ConfigError(where, 'start', args.start, 'a number');
    if (!Number.isFinite(args.finish) || args.finish < args.start) {
      throw new ConfigError(where, 'finish', args.finish, `a number >= start (${args.start})`);
    }
    const freqType = args.freqType ?? 'epoch';
    if (freqType !== 'step' && freqType !== 'epoch') throw new ConfigError(where, 'freqType', freqType, "'step' or 'epoch'");
    const updateFreq = args.updateFreq ?? 1;
    if (!Number.isInteger(updateFreq) || updateFreq < 1) throw new ConfigError(where, 'updateFreq', updateFreq, 'an integer >= 1');
    this.start = args.start;
    this.finish = args.finish;
    this.freqType = freqType;
    this.updateFreq = updateFreq;
    this.initialStepOrEpoch = args.initialStepOrEpoch ?? 0;
    this.exponent = args.exponent ?? 3;
    this.useSte = args.useSte ?? true;
  }

  /** 0 before `start`, `1 - ((finish - freq) / (finish - start))^exponent` up to `finish`, then 1. */
  calculateQnoiseFactor(freq: number): number {
    if (freq < this.start) return 0;
    if (freq <= this.finish && this.start !== this.finish) {
      return 1 - ((this.finish - freq) / (this.finish - this.start)) ** this.exponent;
    }
    return 1;
  }

  private setFactor(value: number): void {
    for (const q of this.quantizers ?? []) q.updateQnoiseFactor(value);
    this.qnoiseFactor = value;
  }

  private update(freq: number): void {
    if (freq % this.updateFreq === 0) this.setFactor(this.calculateQnoiseFactor(freq));
    this.numIters++;
  }

  override async onTrainBegin(): Promise<void> {
    if (this.quantizers) return;
    this.quantizers = scheduledQuantizers(this.model as tf.LayersModel);
    for (const q of this.quantizers) {
      if ('useSte' in q) (q as { useSte: boolean }).useSte = this.useSte;
    }
    // Start from the float model: QKeras pre-trains without quantization noise.
    this.setFactor(0);
  }

  override async onEpochBegin(): Promise<void> {
    if (this.freqType === 'epoch') this.update(this.initialStepOrEpoch + this.numIters);
  }

  override async onBatchBegin(): Promise<void> {
    if (this.freqType === 'step') this.update(this.initialStepOrEpoch + this.numIters);
  }
}
