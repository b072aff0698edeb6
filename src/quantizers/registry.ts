/**
 * QKeras's `quantizer_registry`: quantizer classes by their QKeras name. Each quantizer module registers
 * its classes when imported; `src/quantizers/index.ts` imports them all.
 */
import type { QuantizerClass } from './base.js';

const registry = new Map<string, QuantizerClass>();

export function registerQuantizer(cls: QuantizerClass): void {
  registry.set(cls.qkerasName, cls);
}

/** The class registered under `name`, or undefined. */
export function lookupQuantizer(name: string): QuantizerClass | undefined {
  return registry.get(name);
}

export function registeredQuantizerNames(): string[] {
  return [...registry.keys()].sort();
}
