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

/** Renders a received value for an error message without flooding it. */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
