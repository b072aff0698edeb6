/**
 * Errors of lowering a tfjs model to the IR. Every unsupported layer is collected first and reported in
 * one error, each with its name, class, what is wrong and how to fix it.
 */
import { QKerasError } from '../errors.js';

/** One layer that cannot be lowered exactly. */
export interface LoweringIssue {
  /** Keras layer name. */
  readonly layer: string;
  /** Keras class name. */
  readonly className: string;
  /** What is wrong, and the fix. */
  readonly reason: string;
}

/** Base class of lowering errors. */
export class LoweringError extends QKerasError {}

/** Every layer of the model that has no exact fixed-point form, listed at once. */
export class UnsupportedLayersError extends LoweringError {
  constructor(
    readonly model: string,
    readonly issues: readonly LoweringIssue[],
  ) {
    super(
      `cannot lower model ${JSON.stringify(model)} to fixed point: ${issues.length} layer` +
        `${issues.length === 1 ? ' is' : 's are'} not supported\n` +
        issues.map((i) => `  - ${i.layer} (${i.className}): ${i.reason}`).join('\n'),
    );
  }
}

/** The model input reaches a layer unquantized and no input quantizer was declared. */
export class InputQuantizerError extends LoweringError {}
