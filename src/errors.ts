/**
 * Typed errors of qkeras-ts. Errors are product output: each says what was wrong (the layer, field or
 * spec), what was expected and what was received, so that a user can fix the input without reading code.
 */

/** Base class of every error this package raises on purpose. The CLI prints `message` alone for these. */
export class QKerasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A quantizer spec (QKeras string, config object) that cannot be parsed or names nothing known. */
export class QuantizerSpecError extends QKerasError {
  constructor(
    readonly spec: string,
    readonly position: number | null,
    readonly detail: string,
  ) {
    super(
      `invalid quantizer spec ${JSON.stringify(spec)}` +
        (position === null ? '' : ` at position ${position}`) +
        `: ${detail}`,
    );
  }
}

/** A constructor argument or config field with a value that is not allowed. */
export class ConfigError extends QKerasError {
  constructor(
    readonly where: string,
    readonly field: string,
    readonly received: unknown,
    readonly allowed: string,
  ) {
    super(`${where}: ${field}=${describe(received)} is not allowed; expected ${allowed}`);
  }
}

/** Something QKeras supports that qkeras-ts does not (yet); says what to do instead. */
export class UnsupportedError extends QKerasError {}

/** One problem found in a Keras/QKeras model file: the layer (name and Keras class), the argument, what. */
export interface KerasImportIssue {
  readonly layer: string;
  readonly className: string;
  /** The Keras (snake_case) argument at fault, or null when the layer as a whole is the problem. */
  readonly argument: string | null;
  readonly detail: string;
}

/**
 * A Keras model that cannot be imported or exported. Every problem found is listed at once, so a user sees
 * all unsupported layers and arguments of a model in one run.
 */
export class KerasImportError extends QKerasError {
  constructor(
    readonly source: string,
    readonly issues: readonly KerasImportIssue[],
  ) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues
          .map(
            (i) =>
              `  - layer ${JSON.stringify(i.layer)} (${i.className})` +
              (i.argument === null ? '' : `, argument ${i.argument}`) +
              `: ${i.detail}`,
          )
          .join('\n'),
    );
  }
}

/** One weight that does not fit the layer it is loaded into. */
export interface KerasWeightIssue {
  readonly layer: string;
  /** The weight's name in the file (`q_dense/kernel:0`), or null when a whole layer is missing/extra. */
  readonly weight: string | null;
  readonly expected: string;
  readonly found: string;
}

/** Weights in an HDF5 file that do not match the model: every mismatch is listed at once. */
export class KerasWeightsError extends QKerasError {
  constructor(
    readonly file: string,
    readonly issues: readonly KerasWeightIssue[],
  ) {
    super(
      `${file}: the weights do not match the model:\n` +
        issues
          .map(
            (i) =>
              `  - layer ${JSON.stringify(i.layer)}` +
              (i.weight === null ? '' : `, weight ${i.weight}`) +
              `: expected ${i.expected}, found ${i.found}`,
          )
          .join('\n'),
    );
  }
}

/** Renders a received value for an error message without flooding it. */
export function describe(value: unknown): string {
  let text: string;
  try {
    // JSON would print NaN and the infinities as null.
    text = typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
