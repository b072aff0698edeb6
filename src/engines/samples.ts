/**
 * Samples in and out of `qkeras predict`: `in.json` holds an array of samples, each a nested array in the
 * model's input shape with finite real values; outputs are written nested in the output shape. Every
 * problem names the sample index (and the position inside it) and the expected shape, in one line.
 */
import { QKerasError } from '../errors.js';

/** A problem with the samples file. */
export class SampleError extends QKerasError {}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The nested-list shape of a value, following first elements (`[]` for a number). */
function shapeOf(v: unknown): number[] {
  const out: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    out.push(cur.length);
    cur = cur[0];
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * Validates parsed JSON as samples of `shape` and flattens each one (row-major). `source` names the file
 * in messages.
 */
export function flattenSamples(data: unknown, shape: readonly number[], source: string): number[][] {
  if (!Array.isArray(data)) {
    throw new SampleError(
      `${source} must hold an array of samples (each a nested array of shape ${shapeText(shape)}), found ${describeValue(data)}`,
    );
  }
  return data.map((sample, k) => {
    const flat: number[] = [];
    const walk = (v: unknown, depth: number, at: number[]): void => {
      if (depth === shape.length) {
        if (typeof v !== 'number') {
          const where = at.length > 0 ? ` at ${shapeText(at)}` : '';
          if (Array.isArray(v)) {
            throw new SampleError(`${source}: sample ${k} has shape ${shapeText(shapeOf(sample))}; the model expects ${shapeText(shape)}`);
          }
          throw new SampleError(`${source}: sample ${k}${where} is ${describeValue(v)}, not a number`);
        }
        if (!Number.isFinite(v)) {
          throw new SampleError(`${source}: sample ${k} at ${shapeText(at)} is ${v}; inputs must be finite numbers`);
        }
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) {
        throw new SampleError(`${source}: sample ${k} has shape ${shapeText(shapeOf(sample))}; the model expects ${shapeText(shape)}`);
      }
      v.forEach((e, i) => walk(e, depth + 1, [...at, i]));
    };
    walk(sample, 0, []);
    return flat;
  });
}

/** A flat row-major array as nested arrays of `shape` (a number for the empty shape). */
export function nest(flat: readonly number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const build = (offset: number, depth: number): unknown => {
    const n = shape[depth]!;
    if (depth === shape.length - 1) return flat.slice(offset, offset + n);
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: n }, (_, i) => build(offset + i * stride, depth + 1));
  };
  return build(0, 0);
}

/** The JSON text of outputs: an array with one sample per line. */
export function outputsJson(outputs: readonly (readonly number[])[], shape: readonly number[]): string {
  if (outputs.length === 0) return '[]\n';
  // -0 prints as 0 in JSON anyway; normalising keeps the text independent of the engine.
  return `[\n${outputs.map((o) => JSON.stringify(nest(o.map((v) => v + 0), shape))).join(',\n')}\n]\n`;
}
