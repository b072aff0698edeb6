/**
 * The package root exports every name DESIGN.md promises ("add freely, rename never"), plus the hardware
 * flow's later additions, with the kind of value each is (function or class). A rename or a dropped
 * export fails here before it reaches a user.
 */
import { describe, expect, it } from 'vitest';
import * as qk from '../../src/index.js';

const FUNCTIONS = [
  'getQuantizer', 'setInternalSigmoid', 'quantized_bits', 'ready', 'modelQuantize', 'extractModelOperations', 'printQstats',
  'modelSaveQuantizedWeights', 'saveQmodel', 'loadQmodel', 'printModelSparsity', 'quantizedModelDebug', 'binaryToThermometer',
  'lowerModel', 'runIR', 'emitC', 'emitVerilog', 'verify', 'synthesize', 'estimateHardware', 'importKeras', 'exportKeras',
  // QKeras's QOctaveConv2D is a function that builds and wires layers, not a layer class.
  'QOctaveConv2D',
] as const;

const CLASSES = [
  'QDense', 'QConv1D', 'QConv2D', 'QDepthwiseConv2D', 'QSeparableConv2D', 'QActivation', 'QAveragePooling2D',
  'QBatchNormalization', 'QKerasError', 'ConfigError', 'ModelImportError',
] as const;

describe('public API (DESIGN.md)', () => {
  const root = qk as Record<string, unknown>;
  it.each(FUNCTIONS)('%s is an exported function', (name) => {
    expect(typeof root[name]).toBe('function');
  });
  it.each(CLASSES)('%s is an exported class', (name) => {
    expect(typeof root[name]).toBe('function');
    expect(String(root[name])).toMatch(/^class\b/);
  });
});
