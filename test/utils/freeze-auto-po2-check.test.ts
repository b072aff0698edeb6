/**
 * The last step of cloneModelAndFreezeAutoPo2Scale (QKeras `_check_hw_weights_equal`): when the frozen
 * model's hardware weights differ from the original's, a typed error names the layer, the entry and both
 * values. Freezing never changes them by itself, so modelSaveQuantizedWeights is wrapped here to alter
 * its second result (the frozen model's) on request.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QDense } from '../../src/layers/index.js';
import { cloneModelAndFreezeAutoPo2Scale, FreezeAutoPo2Error } from '../../src/utils/freeze-auto-po2.js';
import type { SavedWeights } from '../../src/utils/quantized-weights.js';

const control = vi.hoisted(() => ({ calls: 0, tamper: null as null | ((w: SavedWeights) => void) }));

vi.mock('../../src/utils/quantized-weights.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/utils/quantized-weights.js')>();
  return {
    ...actual,
    modelSaveQuantizedWeights: async (...args: Parameters<typeof actual.modelSaveQuantizedWeights>) => {
      const saved = await actual.modelSaveQuantizedWeights(...args);
      control.calls++;
      // The first call is on the original's clone, the second on the frozen model.
      if (control.calls === 2 && control.tamper !== null) control.tamper(saved);
      return saved;
    },
  };
});

beforeAll(async () => {
  await ready();
});

function denseModel(): tf.LayersModel {
  const input = tf.input({ shape: [3], name: 'in' });
  const out = new QDense({ units: 2, kernelQuantizer: "quantized_bits(4,2,1,alpha='auto_po2')", biasQuantizer: 'quantized_bits(4,2,1)', name: 'dense' }).apply(input);
  const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  const k = tf.tensor([0.13, 0.66, 0.21, 0.23, 1.07, -0.79], [3, 2]);
  const b = tf.tensor([-1.3, 0.7]);
  model.setWeights([k, b]);
  tf.dispose([k, b]);
  return model;
}

describe('cloneModelAndFreezeAutoPo2Scale hardware-weights check', () => {
  it('passes when nothing changed', async () => {
    control.calls = 0;
    control.tamper = null;
    const original = denseModel();
    const { model, hwWeights } = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true });
    expect(control.calls).toBe(2);
    expect(hwWeights!['dense']!.scales).toHaveLength(2);
    model.dispose();
    original.dispose();
  });

  it('names the layer, the entry and both values of a difference', async () => {
    control.calls = 0;
    control.tamper = (saved) => {
      saved['dense']!.scales![0]!.data[1] = 0.5;
    };
    const original = denseModel();
    const error = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeAutoPo2Error);
    expect((error as FreezeAutoPo2Error).issues.map((i) => [i.layer, i.className])).toEqual([['dense', 'QDense']]);
    expect((error as Error).message).toContain("differ from the original model's (frozen vs original): dense.scales[0].data[1]: 0.5 vs 0.125");
    original.dispose();
  });

  it('reports a layer missing from one side', async () => {
    control.calls = 0;
    control.tamper = (saved) => {
      delete saved['dense'];
    };
    const original = denseModel();
    const error = await cloneModelAndFreezeAutoPo2Scale(original, { quantizeModelWeights: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreezeAutoPo2Error);
    expect((error as Error).message).toContain('layer "dense" (QDense) has hardware weights that differ');
    original.dispose();
  });
});
