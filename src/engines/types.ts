/**
 * The engine interface `qkeras predict` runs: an engine computes the network's outputs for a batch of
 * samples, all engines from the same loaded model, and all of them agree to the bit. The tfjs and ir
 * engines live here; the C and Verilog back-ends add theirs (one file each, one line in index.ts).
 */
import type { LoadedModel } from './loaded-model.js';

export interface PredictOptions {
  /** Samples per tfjs call (tfjs engine). */
  readonly batchSize?: number;
  /** Hardware architecture for engines that have several (verilog: parallel | stream). */
  readonly arch?: string;
  /** Verilog (parallel): share sub-expressions across each layer's constant products. */
  readonly share?: boolean;
  /** Where an engine reports warnings (one line each); silent when absent. */
  readonly warn?: (line: string) => void;
}

export interface Engine {
  /** The `--engine` value. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /**
   * Runs the model on `samples` — each a flat row-major array of real values in the model's input shape
   * — and returns one flat row-major array of real outputs per sample: the network's output, or the
   * logits feeding a final softmax. The model's input quantizer (if declared) is applied first.
   */
  predict(model: LoadedModel, samples: readonly (readonly number[])[], options?: PredictOptions): Promise<number[][]>;
}
