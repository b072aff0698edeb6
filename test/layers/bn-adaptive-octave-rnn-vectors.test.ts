/**
 * Which QKeras test vectors concern the BN, folded, adaptive, octave and recurrent layers, so that a new
 * vector for them cannot go untested: QKeras's own tests have no `layer`/`model` vectors for them (its
 * RNN and BN-folding tests are random or skipped, see the fixture's `skipped` list); the `function_call`
 * vectors that do concern them are run in the layers' test files (listed here with their counts).
 */
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../helpers/qkeras-vectors.js';

const CLASSES = [
  'QBatchNormalization',
  'QConv2DBatchnorm',
  'QDepthwiseConv2DBatchnorm',
  'QDenseBatchnorm',
  'QOctaveConv2D',
  'QAdaptiveActivation',
  'QSimpleRNN',
  'QLSTM',
  'QGRU',
  'QBidirectional',
];

describe('QKeras vectors of these layers', () => {
  it('there are no layer/model vectors for them', () => {
    const mine = loadVectors().filter((v) => {
      if (v.kind !== 'layer' && v.kind !== 'model') return false;
      const text = JSON.stringify([v['layer'], v.input]);
      return CLASSES.some((c) => text.includes(c));
    });
    expect(mine.map((v) => v.id)).toEqual([]);
  });

  it('the function_call vectors about them are the ones their test files run', () => {
    const calls = loadVectors().filter((v) => v.kind === 'function_call');
    const byFile: Record<string, number> = {
      // q-depthwise-conv2d-batchnorm.test.ts
      folded: calls.filter((v) => v.quantizer.startsWith('QDepthwiseConv2DBatchnorm.get_folded_weights')).length,
      // q-adaptive-activation.test.ts
      integerBits: calls.filter((v) => v.quantizer.startsWith('_get_integer_bits(')).length,
      // q-batch-normalization.test.ts
      fusedBn: calls.filter((v) => v.test_name === 'test_find_bn_fusing_layer_pair').length,
    };
    expect(byFile).toEqual({ folded: 1, integerBits: 4, fusedBn: 1 });
  });
});
