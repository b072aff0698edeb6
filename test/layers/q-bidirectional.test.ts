/**
 * QBidirectional: tfjs's Bidirectional with QKeras's quantizer reporting (forward list, then backward),
 * equal to tf.layers.bidirectional without quantizers, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QBidirectional } from '../../src/layers/q-bidirectional.js';
import { QGRU, QLSTM, QSimpleRNN } from '../../src/layers/q-recurrent.js';
import { expectRoundTrip, outputsAndGrads, seeded } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

type Rnn = Parameters<typeof tf.layers.bidirectional>[0]['layer'];
const asRnn = (l: tf.layers.Layer): Rnn => l as unknown as Rnn;

describe('QBidirectional', () => {
  it('reports forward then backward quantizers, the wrapped activation and both quantization configs', () => {
    const l = new QBidirectional({
      layer: asRnn(new QLSTM({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)', stateQuantizer: 'quantized_bits(8,1,1)' })),
    });
    const one = ["quantized_bits(4,0,1,alpha='auto_po2')", undefined, undefined, 'quantized_bits(8,1,1)'];
    expect(l.getQuantizers().map((q) => q?.toString())).toEqual([...one, ...one]);
    expect(l.activation!.className).toBe('quantized_tanh');
    const qc = l.getQuantizationConfig();
    expect(Object.keys(qc)).toEqual(['layer', 'backward_layer']);
    expect(qc.layer['kernel_quantizer']).toBe("quantized_bits(4,0,1,alpha='auto_po2')");
    expect(qc.backward_layer).toEqual(qc.layer);
    l.apply(tf.zeros([1, 3, 2]));
    expect(l.weightConstraints().length).toBe(2);
    expect(l.getClassName()).toBe('QBidirectional');
  });

  for (const mergeMode of ['concat', 'sum', 'ave', 'mul'] as const) {
    it(`without quantizers equals tf.layers.bidirectional (mergeMode ${mergeMode}), outputs and gradients`, () => {
      const q = new QBidirectional({ layer: asRnn(new QGRU({ units: 3, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: true })), mergeMode });
      const k = tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true }) as unknown as Rnn, mergeMode });
      const x = seeded([2, 4, 3], 1);
      q.apply(x);
      k.apply(x);
      q.setWeights(k.getWeights().map((w) => w.clone()));
      const a = outputsAndGrads(q, x, { training: true });
      const b = outputsAndGrads(k, x, { training: true });
      expect(a.output).toEqual(b.output);
      expect(a.grads.length).toBe(7);
      expect(a.grads).toEqual(b.grads);
    });
  }

  it('round-trips through saveQmodel/loadQmodel', async () => {
    const input = tf.input({ shape: [5, 2] });
    const y = new QBidirectional({
      layer: asRnn(new QSimpleRNN({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', recurrentQuantizer: 'quantized_po2(4)', biasQuantizer: 'quantized_bits(8,3,1)' })),
      name: 'bi',
    }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    const bi = model.getLayer('bi');
    bi.setWeights(bi.getWeights().map((w, i) => seeded(w.shape, 10 + i)));
    const loaded = await expectRoundTrip(model, seeded([3, 5, 2], 2));
    const again = loaded.getLayer('bi') as QBidirectional;
    expect(again).toBeInstanceOf(QBidirectional);
    expect(again.getQuantizers().map((q) => q?.toString())).toEqual((bi as QBidirectional).getQuantizers().map((q) => q?.toString()));
  });
});
