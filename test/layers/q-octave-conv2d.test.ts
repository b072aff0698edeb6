/**
 * QOctaveConv2D: QKeras's function form (layers and names as qoctave.py creates them), the channel
 * split, the alpha = -1 and 1×1 low-frequency special cases, the computation itself against the layers
 * it created, quantizer wiring, and a saveQmodel/loadQmodel round trip of a model built with it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { UnsupportedError } from '../../src/errors.js';
import { QOctaveConv2D, getActivationSuffix } from '../../src/layers/q-octave-conv2d.js';
import { QSeparableConv2D } from '../../src/layers/q-separable-conv.js';
import { QAveragePooling2D } from '../../src/layers/q-pooling.js';
import { expectRoundTrip, seeded } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

function octaveModel(args: Parameters<typeof QOctaveConv2D>[0], hShape = [8, 8, 3], lShape: number[] | null = [4, 4, 3]): tf.LayersModel {
  const xh = tf.input({ shape: hShape, name: 'xh' });
  const xl = lShape === null ? null : tf.input({ shape: lShape, name: 'xl' });
  const [h, l] = QOctaveConv2D(args)([xh, xl]);
  const outputs = [h, l].filter((t): t is tf.SymbolicTensor => t !== null);
  return tf.model({ inputs: xl === null ? [xh] : [xh, xl], outputs });
}

const data = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('getActivationSuffix (QKeras GetActivationSuffix)', () => {
  it('abbreviates the quantizer and lists its numbers', () => {
    expect(getActivationSuffix('quantized_relu(4,2)')).toBe('qr42');
    expect(getActivationSuffix('quantized_bits(16,6)')).toBe('qb16_6');
    expect(getActivationSuffix('quantized_tanh(8)')).toBe('qt8');
    expect(getActivationSuffix('quantized_po2(4,1)')).toBe('q2');
    expect(getActivationSuffix(null)).toBe('linear');
  });
});

describe('QOctaveConv2D', () => {
  it("creates QKeras's layers with QKeras's names", () => {
    const m = octaveModel({
      filters: 8,
      kernelSize: 3,
      alpha: 0.25,
      padding: 'same',
      name: 'oct',
      activation: 'quantized_relu(4,2)',
      accQuantizer: 'quantized_bits(16,6)',
      poolingQuantizer: 'quantized_bits(8,0,1)',
      depthwiseQuantizer: 'quantized_bits(4,0,1)',
      pointwiseQuantizer: 'ternary',
    });
    const names = m.layers.map((l) => `${l.name}:${l.getClassName()}`).sort();
    expect(names).toEqual(
      [
        'xh:InputLayer',
        'xl:InputLayer',
        'oct_c_h_to_h:QSeparableConv2D',
        'oct_c_h_to_h_act_qb16_6:QActivation',
        'oct_avg_h_to_l:QAveragePooling2D',
        'oct_c_h_to_l:QSeparableConv2D',
        'oct_c_h_to_l_act_qb16_6:QActivation',
        'oct_c_l_to_h:QSeparableConv2D',
        'oct_c_l_to_h_act_qb16_6:QActivation',
        'oct_u_l_to_h:UpSampling2D',
        'oct_c_l_to_l:QSeparableConv2D',
        'oct_c_l_to_l_act_qb16_6:QActivation',
        'oct_a_h:Add',
        'oct_a_l:Add',
        'oct_h_act_qr42:QActivation',
        'oct_l_act_qr42:QActivation',
      ].sort(),
    );
    // 8·(1 − 0.25) = 6 high-frequency and 2 low-frequency channels, low at half resolution.
    expect(m.outputs.map((o) => o.shape)).toEqual([
      [null, 8, 8, 6],
      [null, 4, 4, 2],
    ]);
    // Every separable conv has both quantizers (including low→low, where QKeras passes the depthwise one twice).
    for (const name of ['oct_c_h_to_h', 'oct_c_h_to_l', 'oct_c_l_to_h', 'oct_c_l_to_l']) {
      const l = m.getLayer(name) as QSeparableConv2D;
      expect(l.getQuantizers().map((q) => q?.toString())).toEqual(["quantized_bits(4,0,1,alpha='auto_po2')", "ternary(alpha='auto_po2')", undefined]);
    }
    expect((m.getLayer('oct_avg_h_to_l') as QAveragePooling2D).getQuantizers()[0]!.toString()).toBe('quantized_bits(8,0,1)');
  });

  it('splits channels with int(filters·(1 − alpha)) and computes the four paths', () => {
    const m = octaveModel({ filters: 5, kernelSize: 3, alpha: 0.3, padding: 'same', useSeparable: false, name: 'o' });
    expect(m.outputs.map((o) => o.shape)).toEqual([
      [null, 8, 8, 3],
      [null, 4, 4, 2],
    ]);
    const xh = seeded([2, 8, 8, 3], 1);
    const xl = seeded([2, 4, 4, 3], 2);
    const [yh, yl] = m.predict([xh, xl]) as tf.Tensor[];
    const run = (name: string, x: tf.Tensor): tf.Tensor => m.getLayer(name).apply(x) as tf.Tensor;
    const up = (t: tf.Tensor): tf.Tensor => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [t.shape[1]! * 2, t.shape[2]! * 2]);
    expect(data(yh!)).toEqual(data(tf.add(run('o_c_h_to_h', xh), up(run('o_c_l_to_h', xl)))));
    const pooled = tf.avgPool(xh as tf.Tensor4D, 2, 2, 'valid');
    expect(data(yl!)).toEqual(data(tf.add(run('o_c_l_to_l', xl), run('o_c_h_to_l', pooled))));
  });

  it('alpha = -1: one high-frequency conv, no low output', () => {
    const [h, l] = QOctaveConv2D({ filters: 4, kernelSize: 3, alpha: -1, useSeparable: false, activation: 'quantized_relu(4)', name: 'single' })([
      tf.input({ shape: [6, 6, 2] }),
      null,
    ]);
    expect(l).toBeNull();
    expect(h!.shape).toEqual([null, 4, 4, 4]);
    expect((h as tf.SymbolicTensor).sourceLayer.name).toBe('single_c_h_to_h_act_qr4');
  });

  it('a 1×1 low-frequency input goes through a 1×1 same QConv2D without upsampling', () => {
    const m = octaveModel({ filters: 4, kernelSize: 3, alpha: 0.5, padding: 'same', name: 'tiny' }, [1, 1, 2], [1, 1, 2]);
    expect(m.layers.some((l) => l.name === 'tiny_u_l_to_h')).toBe(false);
    const lh = m.getLayer('tiny_c_l_to_h');
    expect(lh.getClassName()).toBe('QConv2D');
    expect(lh.getConfig()['kernelSize']).toEqual([1, 1]);
  });

  it('without a low input only the high→high and high→low paths exist', () => {
    const m = octaveModel({ filters: 4, kernelSize: 3, alpha: 0.5, padding: 'same', name: 'first' }, [8, 8, 2], null);
    expect(m.outputs.map((o) => o.shape)).toEqual([
      [null, 8, 8, 2],
      [null, 4, 4, 2],
    ]);
    expect(m.layers.some((l) => l.name.includes('l_to'))).toBe(false);
  });

  it('refuses depthwiseActivation with separable convs', () => {
    expect(() => QOctaveConv2D({ filters: 4, kernelSize: 3, alpha: 0.5, depthwiseActivation: 'quantized_relu(4)' })).toThrow(UnsupportedError);
  });

  it('a model built with it round-trips through saveQmodel/loadQmodel', async () => {
    const m = octaveModel({
      filters: 6,
      kernelSize: 3,
      alpha: 0.5,
      padding: 'same',
      name: 'rt',
      activation: 'quantized_relu(4,2)',
      kernelQuantizer: 'quantized_bits(4,0,1)',
      biasQuantizer: 'quantized_bits(8,3,1)',
      useSeparable: false,
      poolingQuantizer: 'quantized_bits(8,0,1)',
    });
    await expectRoundTrip(m, [seeded([2, 8, 8, 3], 5), seeded([2, 4, 4, 3], 6)]);
  });
});
