/** Messages between the data-parallel trainer (main thread) and its gradient workers. */

export interface InitMessage {
  readonly type: 'init';
  /** `model.toJSON()`: the topology (a JSON string) the replica is rebuilt from. */
  readonly topology: string;
  readonly loss: string;
  readonly metrics: string[];
  /** Seed of this worker's stochastic-quantizer stream (distinct per worker). */
  readonly seed: number;
}

export interface StepMessage {
  readonly type: 'step';
  readonly id: number;
  /** Current trainable weights, in `model.trainableWeights` order. */
  readonly weights: Float32Array[];
  readonly x: Float32Array;
  readonly xShape: number[];
  readonly y: Float32Array;
  readonly yShape: number[];
}

export type ToWorker = InitMessage | StepMessage | { readonly type: 'close' };

export interface ReadyMessage {
  readonly type: 'ready';
  /** Shapes of the replica's trainable weights, checked against the main model's. */
  readonly shapes: number[][];
}

export interface GradsMessage {
  readonly type: 'grads';
  readonly id: number;
  readonly loss: number;
  readonly metrics: number[];
  readonly grads: Float32Array[];
}

export interface ErrorMessage {
  readonly type: 'error';
  /** Class name of the error thrown in the worker (e.g. ValueError, ConfigError). */
  readonly name: string;
  readonly message: string;
}

export type FromWorker = ReadyMessage | GradsMessage | ErrorMessage;
