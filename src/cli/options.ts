/** Parsing of numeric CLI options with one-line errors naming the flag. */
import { UsageError } from './errors.js';

/** A whole number in [min, max], else a UsageError naming the flag and the allowed range. */
export function parseCount(flag: string, raw: string, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not allowed; expected a whole number from ${min} to ${max}`);
  }
  return n;
}
