/**
 * QSimpleRNN, QLSTM, QGRU and their cells: equal to tfjs's SimpleRNN/LSTM/GRU without quantizers
 * (outputs and gradients, bit for bit), QKeras's defaults, quantized steps by hand (kernel, recurrent
 * kernel, bias and state quantizers), GRU reset_after, the per-sequence weight quantization, training
 * with fit, and a saveQmodel/loadQmodel round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { Clip } from '../../src/layers/constraints.js';
import { QInitializer } from '../../src/layers/initializers.js';
import { QGRUCell, QLSTMCell, QSimpleRNNCell } from '../../src/layers/q-recurrent-cells.js';
import { QGRU, QLSTM, QSimpleRNN } from '../../src/layers/q-recurrent.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { expectRoundTrip, outputsAndGrads, seeded } from '../helpers/layer-checks.js';

beforeAll(async () => {
  await ready();
});

const data = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const dot = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D });

/** Gives `q` the weights of `k` (with a random bias, Keras initialises it to zero) and compares both. */
function expectSameAsTfjs(q: tf.layers.Layer, k: tf.layers.Layer, x: tf.Tensor, kwargs: Record<string, unknown> = {}): void {
  q.apply(x);
  k.apply(x);
  expect(q.getWeights().map((w) => w.shape)).toEqual(k.getWeights().map((w) => w.shape));
  q.setWeights(k.getWeights().map((w, i) => (i === 2 ? seeded(w.shape, 77) : w.clone())));
  k.setWeights(q.getWeights().map((w) => w.clone()));
  for (const training of [false, true]) {
    const a = outputsAndGrads(q, x, { ...kwargs, training });
    const b = outputsAndGrads(k, x, { ...kwargs, training });
    expect(a.output.length).toBeGreaterThan(0);
    expect(a.output).toEqual(b.output);
    expect(a.grads.length).toBe(4);
    expect(a.grads).toEqual(b.grads);
  }
}

describe('without quantizers the Q RNN layers equal tfjs’s (outputs and gradients)', () => {
  const input = (): tf.Tensor => seeded([3, 5, 4], 1, -1.5, 1.5);
  it('QSimpleRNN = simpleRNN (last output, sequences, backwards)', () => {
    const x = input();
    expectSameAsTfjs(new QSimpleRNN({ units: 3, activation: 'tanh' }), tf.layers.simpleRNN({ units: 3 }), x);
    expectSameAsTfjs(
      new QSimpleRNN({ units: 2, activation: 'relu', returnSequences: true, goBackwards: true }),
      tf.layers.simpleRNN({ units: 2, activation: 'relu', returnSequences: true, goBackwards: true }),
      x,
    );
  });
  it('QLSTM = lstm', () => {
    const x = input();
    expectSameAsTfjs(new QLSTM({ units: 3, activation: 'tanh', recurrentActivation: 'sigmoid' }), tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' }), x);
    expectSameAsTfjs(
      new QLSTM({ units: 2, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: true, useBias: true }),
      tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid', returnSequences: true }),
      x,
    );
  });
  it('QGRU = gru', () => {
    const x = input();
    expectSameAsTfjs(new QGRU({ units: 3, activation: 'tanh', recurrentActivation: 'sigmoid' }), tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid' }), x);
    expectSameAsTfjs(
      new QGRU({ units: 2, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: true, goBackwards: true }),
      tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid', returnSequences: true, goBackwards: true }),
      x,
    );
  });
  it('masked inputs and returnState behave as tfjs', () => {
    const masked = tf.tensor3d([
      [[1, 2], [0, 0], [3, 1]],
      [[0.5, -1], [2, 2], [0, 0]],
    ]);
    const q = tf.sequential({ layers: [tf.layers.masking({ inputShape: [3, 2] }), new QLSTM({ units: 2, activation: 'tanh', recurrentActivation: 'sigmoid' })] });
    const k = tf.sequential({ layers: [tf.layers.masking({ inputShape: [3, 2] }), tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid' })] });
    k.setWeights(q.getWeights());
    expect(data(q.predict(masked) as tf.Tensor)).toEqual(data(k.predict(masked) as tf.Tensor));
    const withState = new QGRU({ units: 2, activation: 'tanh', recurrentActivation: 'sigmoid', returnState: true });
    const out = withState.apply(masked) as tf.Tensor[];
    expect(out.length).toBe(2);
    expect(data(out[0]!)).toEqual(data(out[1]!));
  });
});

describe('QKeras defaults and quantizer plumbing', () => {
  it('activation quantized_tanh, recurrent activation QKeras hard_sigmoid (slope 0.5), glorot/orthogonal/zeros', () => {
    const l = new QLSTM({ units: 2 });
    expect(l.activation!.toString()).toBe(new QSimpleRNN({ units: 1 }).activation!.toString());
    expect(l.activation!.className).toBe('quantized_tanh');
    expect(l.recurrentActivation!.toString()).toBe('hard_sigmoid');
    expect(data(l.recurrentActivation!.call(tf.tensor1d([-3, 0.6, 3])))).toEqual([0, Math.fround(0.8), 1]);
    const c = l.getConfig();
    // tfjs serialises glorot_uniform as its VarianceScaling form.
    expect(c['kernelInitializer']).toEqual({ className: 'VarianceScaling', config: { scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: null } });
    expect((c['recurrentInitializer'] as { className: string }).className).toBe('Orthogonal');
    expect(c['unitForgetBias']).toBe(true);
    expect(c['implementation']).toBe(1);
    expect(new QGRU({ units: 2 }).resetAfter).toBe(false);
  });

  it('getQuantizers = [kernel, recurrent, bias, state]; kernel-like quantizers get auto_po2, Clip and QInitializer', () => {
    const l = new QGRU({
      units: 2,
      kernelQuantizer: 'quantized_bits(4,0,1)',
      recurrentQuantizer: 'quantized_bits(4,0,1,alpha=1)',
      biasQuantizer: 'quantized_bits(4,0,1)',
      stateQuantizer: 'quantized_bits(8,1,1)',
    });
    expect(l.getQuantizers().map((q) => q?.toString())).toEqual([
      "quantized_bits(4,0,1,alpha='auto_po2')",
      'quantized_bits(4,0,1,alpha=1)',
      'quantized_bits(4,0,1)',
      'quantized_bits(8,1,1)',
    ]);
    expect(l.getQuantizationConfig()).toEqual({
      kernel_quantizer: "quantized_bits(4,0,1,alpha='auto_po2')",
      recurrent_quantizer: 'quantized_bits(4,0,1,alpha=1)',
      bias_quantizer: 'quantized_bits(4,0,1)',
      state_quantizer: 'quantized_bits(8,1,1)',
      activation: l.activation!.toString(),
      recurrent_activation: 'hard_sigmoid',
    });
    l.apply(tf.zeros([1, 2, 3]));
    expect(l.weightConstraints().map((c) => (c.constraint as Clip).maxValue)).toEqual([1, 1, 1]);
    const config = l.getConfig();
    expect((config['recurrentInitializer'] as { className: string }).className).toBe(QInitializer.className);
    // An auto_po2 kernel keeps its initializer (QKeras skips QInitializer for string alphas).
    expect((config['kernelInitializer'] as { className: string }).className).toBe('VarianceScaling');
  });

  it('LSTM unit forget bias: the forget gate starts at 1', () => {
    const l = new QLSTM({ units: 2 });
    l.apply(tf.zeros([1, 1, 3]));
    expect(data(l.getWeights()[2]!)).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    const off = new QLSTM({ units: 2, unitForgetBias: false });
    off.apply(tf.zeros([1, 1, 3]));
    expect(data(off.getWeights()[2]!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('quantized steps by hand', () => {
  const QS = {
    kernelQuantizer: 'quantized_bits(4,0,1)',
    recurrentQuantizer: 'quantized_bits(4,0,1)',
    biasQuantizer: 'quantized_bits(6,2,1)',
    stateQuantizer: 'quantized_bits(4,0,1)',
  };

  /** Sets random weights and returns them quantized, with the layer's state quantizer and activations. */
  function prepare(l: QSimpleRNN | QLSTM | QGRU, x: tf.Tensor) {
    l.apply(x);
    l.setWeights(l.getWeights().map((w, i) => seeded(w.shape, 30 + i)));
    const [kq, rq, bq, sq] = l.getQuantizers() as Quantizer[];
    const [k, r, b] = l.getWeights();
    return { k: kq!.call(k!), r: rq!.call(r!), b: bq!.call(b!), s: (t: tf.Tensor) => sq!.call(t) };
  }

  it('QSimpleRNN: h_t = act(x·q(K) + q(b) + q(h_{t-1})·q(R))', () => {
    const l = new QSimpleRNN({ units: 3, ...QS, activation: 'quantized_tanh(6)', returnSequences: true });
    const x = seeded([2, 3, 2], 5);
    const w = prepare(l, x);
    const act = l.activation!;
    let h = tf.zeros([2, 3]);
    const steps: tf.Tensor[] = [];
    for (const xt of tf.unstack(x, 1)) {
      h = act.call(tf.add(tf.add(dot(xt, w.k), w.b), dot(w.s(h), w.r)));
      steps.push(h);
    }
    expect(data(l.apply(x) as tf.Tensor)).toEqual(data(tf.stack(steps, 1)));
  });

  it('QLSTM: gates from x·q(K) + q(h)·q(R) + q(b); h and c both through the state quantizer', () => {
    const l = new QLSTM({ units: 2, ...QS });
    const x = seeded([2, 3, 2], 6);
    const w = prepare(l, x);
    const act = (t: tf.Tensor): tf.Tensor => l.activation!.call(t);
    const rec = (t: tf.Tensor): tf.Tensor => l.recurrentActivation!.call(t);
    let h = tf.zeros([2, 2]);
    let c = tf.zeros([2, 2]);
    for (const xt of tf.unstack(x, 1)) {
      const z = tf.add(tf.add(dot(xt, w.k), dot(w.s(h), w.r)), w.b);
      const [i, f, g, o] = tf.split(z, 4, 1) as tf.Tensor[];
      c = tf.add(tf.mul(rec(f!), w.s(c)), tf.mul(rec(i!), act(g!)));
      h = tf.mul(rec(o!), act(c));
    }
    expect(data(l.apply(x) as tf.Tensor)).toEqual(data(h));
  });

  for (const resetAfter of [false, true]) {
    it(`QGRU (resetAfter=${resetAfter}): update/reset gates, candidate, mix with the quantized state`, () => {
      const l = new QGRU({ units: 2, ...QS, resetAfter });
      const x = seeded([2, 3, 2], 7);
      const w = prepare(l, x);
      expect(l.getWeights()[2]!.shape).toEqual(resetAfter ? [2, 6] : [6]);
      const act = (t: tf.Tensor): tf.Tensor => l.activation!.call(t);
      const rec = (t: tf.Tensor): tf.Tensor => l.recurrentActivation!.call(t);
      let h = tf.zeros([2, 2]);
      for (const xt of tf.unstack(x, 1)) {
        const hq = w.s(h);
        const inputBias = resetAfter ? tf.unstack(w.b)[0]! : w.b;
        const [xz, xr, xh] = tf.split(tf.add(dot(xt, w.k), inputBias), 3, 1) as tf.Tensor[];
        let hh: tf.Tensor;
        let z: tf.Tensor;
        if (resetAfter) {
          const [rz, rr, rh] = tf.split(tf.add(dot(hq, w.r), tf.unstack(w.b)[1]!), 3, 1) as tf.Tensor[];
          z = rec(tf.add(xz!, rz!));
          hh = act(tf.add(xh!, tf.mul(rec(tf.add(xr!, rr!)), rh!)));
        } else {
          const [rk1, rk2] = tf.split(w.r, [4, 2], 1);
          const [rz, rr] = tf.split(dot(hq, rk1!), 2, 1) as tf.Tensor[];
          z = rec(tf.add(xz!, rz!));
          hh = act(tf.add(xh!, dot(tf.mul(rec(tf.add(xr!, rr!)), hq), rk2!)));
        }
        h = tf.add(tf.mul(z, hq), tf.mul(tf.add(1, tf.neg(z)), hh));
      }
      expect(data(l.apply(x) as tf.Tensor)).toEqual(data(h));
    });
  }

  it('deterministic weight quantizers run once per sequence; stochastic ones at every training step', () => {
    const x = seeded([1, 4, 2], 8);
    const det = new QSimpleRNN({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)' });
    det.apply(x);
    const spyDet = vi.spyOn(det.kernelQuantizer!, 'call');
    det.apply(x, { training: true });
    expect(spyDet).toHaveBeenCalledTimes(1);
    const sto = new QSimpleRNN({ units: 2, kernelQuantizer: 'stochastic_ternary' });
    sto.apply(x);
    const spySto = vi.spyOn(sto.kernelQuantizer!, 'call');
    sto.apply(x, { training: true });
    expect(spySto).toHaveBeenCalledTimes(4);
    sto.apply(x);
    expect(spySto).toHaveBeenCalledTimes(5);
  });
});

describe('training and serialization', () => {
  it('a QLSTM model trains with fit', async () => {
    const model = tf.sequential({
      layers: [
        new QLSTM({ units: 4, inputShape: [5, 2], kernelQuantizer: 'quantized_bits(4,0,1)', recurrentQuantizer: 'quantized_bits(4,0,1)', name: 'lstm' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const before = model.getLayer('lstm').getWeights().map(data);
    const h = await model.fit(seeded([16, 5, 2], 1), seeded([16, 1], 2), { epochs: 3, batchSize: 8, verbose: 0 });
    expect(h.history['loss']!.every((v) => Number.isFinite(v as number))).toBe(true);
    const after = model.getLayer('lstm').getWeights().map(data);
    after.forEach((w, i) => expect(w).not.toEqual(before[i]));
  });

  it('round-trips through saveQmodel/loadQmodel', async () => {
    const input = tf.input({ shape: [4, 3] });
    let y = new QSimpleRNN({ units: 3, returnSequences: true, kernelQuantizer: 'quantized_bits(6,0,1)', stateQuantizer: 'quantized_bits(8,1,1)', name: 'rnn' }).apply(input) as tf.SymbolicTensor;
    y = new QLSTM({ units: 3, returnSequences: true, kernelQuantizer: 'quantized_po2(4)', recurrentQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(8,3,1)', name: 'lstm' }).apply(y) as tf.SymbolicTensor;
    y = new QGRU({ units: 2, resetAfter: true, activation: 'quantized_tanh(6)', recurrentActivation: 'hard_sigmoid', recurrentQuantizer: 'ternary', name: 'gru' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    for (const l of model.layers.slice(1)) l.setWeights(l.getWeights().map((w, i) => seeded(w.shape, 40 + i)));
    const loaded = await expectRoundTrip(model, seeded([2, 4, 3], 9));
    expect(loaded.getLayer('gru')).toBeInstanceOf(QGRU);
    expect((loaded.getLayer('gru') as QGRU).resetAfter).toBe(true);
    expect((loaded.getLayer('rnn') as QSimpleRNN).qcell).toBeInstanceOf(QSimpleRNNCell);
    expect((loaded.getLayer('lstm') as QLSTM).qcell).toBeInstanceOf(QLSTMCell);
    expect((loaded.getLayer('gru') as QGRU).qcell).toBeInstanceOf(QGRUCell);
  });

  it('a quantized cell inside tfjs’s generic RNN layer serializes by its QKeras class name', () => {
    const rnn = tf.layers.rnn({ cell: new QGRUCell({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)' }) as unknown as Parameters<typeof tf.layers.rnn>[0]['cell'], returnSequences: true });
    const y = rnn.apply(seeded([1, 3, 2], 3)) as tf.Tensor;
    expect(y.shape).toEqual([1, 3, 2]);
    const cellConfig = rnn.getConfig()['cell'] as { className: string };
    expect(cellConfig.className).toBe('QGRUCell');
  });
});
