/**
 * Errors of the hardware IR. Like every qkeras-ts error they say where (node id and origin layer), what
 * was expected and what was received.
 */
import { QKerasError } from '../errors.js';

/** Base class of the IR's errors. */
export class IRError extends QKerasError {}

/** The canonical text form could not be parsed. */
export class IRParseError extends IRError {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`IR text ${line}:${column}: ${detail}`);
  }
}

/** A graph or node is malformed (found by a builder, a pass or the checker). */
export class IRGraphError extends IRError {}

/** The checker found errors; `diagnostics` lists every one of them. */
export class IRCheckError extends IRError {
  constructor(readonly diagnostics: readonly { readonly node: string | null; readonly message: string }[]) {
    super(
      `the IR graph failed its check (${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}):\n` +
        diagnostics.map((d) => `  ${d.node === null ? 'graph' : `%${d.node}`}: ${d.message}`).join('\n'),
    );
  }
}

/** The interpreter met a value it cannot compute exactly (bad input, bound exceeded). */
export class IRRuntimeError extends IRError {
  constructor(
    readonly node: string,
    readonly detail: string,
  ) {
    super(`%${node}: ${detail}`);
  }
}
