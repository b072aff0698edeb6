/**
 * `modelQuantize` against QKeras's `model_quantize` vectors, the lab book's conversion, and the error
 * report (every problem at once).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QConv2D, type QLayer } from '../../src/layers/index.js';
import type { Quantizer } from '../../src/quantizers/base.js';
import { ModelQuantizeError, modelQuantize, type QuantizerConfig } from '../../src/utils/model-quantize.js';
import { loadVectors, type Vector } from '../helpers/qkeras-vectors.js';

beforeAll(async () => {
  await ready();
});

const byId = new Map(loadVectors().map((v) => [Number(v.id), v]));
function vector(id: number): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`vector ${id} missing`);
  return v;
}
const configOf = (v: Vector): QuantizerConfig => (v.input as { quantizer_config: QuantizerConfig }).quantizer_config;

/** QKeras's automatic_conversion_test network (functional). */
function conversionNetwork(): tf.LayersModel {
  const x = tf.input({ shape: [28, 28, 1] });
  let y = tf.layers.conv2d({ filters: 32, kernelSize: 3 }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: 'relu_act' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
  y = new QConv2D({ filters: 32, kernelSize: 3, activation: 'quantized_relu(4)' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** The same network as a Sequential model. */
function conversionSequential(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 32, kernelSize: 3, inputShape: [28, 28, 1] }),
      tf.layers.activation({ activation: 'relu', name: 'relu_act' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.activation({ activation: 'softmax' }),
      new QConv2D({ filters: 32, kernelSize: 3, activation: 'quantized_relu(4)' }),
    ],
  });
}

/** QKeras's print_qstats_test create_network_with_bn. */
function networkWithBn(): tf.LayersModel {
  const x = tf.input({ shape: [28, 28, 1] });
  let y = tf.layers.conv2d({ filters: 32, kernelSize: 3 }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: 'relu_act' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.depthwiseConv2d({ kernelSize: 3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** Whether a Q class is registered (its layer exists and src/layers/index.js registers it). */
function registered(name: string): boolean {
  return tf.serialization.SerializationMap.getMap().classNameMap[name] !== undefined;
}
const NOT_YET = 'which is not supported yet by qkeras-ts (leave the layer out of the config to keep it as it is)';
const quantizersOf = (l: tf.layers.Layer): string[] => ((l as unknown as { getQuantizers(): unknown[] }).getQuantizers() ?? []).map(String);

function specs(layer: tf.layers.Layer): Record<string, unknown> {
  return (layer as QLayer).quantizerSpecs();
}
function activationStr(layer: tf.layers.Layer): string {
  return String((layer as unknown as { activation: Quantizer }).activation);
}

function quantizeError(fn: () => unknown): ModelQuantizeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelQuantizeError) return e;
    throw e;
  }
  throw new Error('expected a ModelQuantizeError');
}

describe('modelQuantize vectors', () => {
  it('covers every model_quantize vector', () => {
    const ids = loadVectors().filter((v) => v.kind === 'model_quantize').map((v) => Number(v.id)).sort((a, b) => a - b);
    expect(ids).toEqual([146, 148, 149, 150, 151, 259, 260, 263, 264, 265]);
  });

  it('259 Activation layers without an entry stay Activation', () => {
    const v = vector(259);
    const qq = modelQuantize(conversionNetwork(), configOf(v), 4);
    const e = v.expected as Record<string, string>;
    expect(qq.layers[2]!.getClassName()).toBe(e['qq.layers[2].__class__.__name__']);
    expect(qq.layers[4]!.getClassName()).toBe(e['qq.layers[4].__class__.__name__']);
    // The converted Conv2D keeps the raw config string, as QKeras's layer attribute does.
    expect(qq.layers[1]!.getClassName()).toBe('QConv2D');
    expect(specs(qq.layers[1]!)).toEqual({ kernel: 'binary', bias: 'binary' });
    expect((qq.layers[1] as QConv2D).kernelQuantizer!.toString()).toBe("binary(alpha='auto_po2')");
  });

  it('260 Conv2D(activation=relu) without activation_quantizer gets quantized_relu(activationBits)', () => {
    const v = vector(260);
    const qq = modelQuantize(conversionNetwork(), configOf(v), 4);
    expect(activationStr(qq.layers[3]!)).toBe((v.expected as Record<string, string>)['str(qq.layers[3].activation)']);
  });

  it('263 a layer-name entry converts relu_act; with preferQAdaptiveActivation it needs QAdaptiveActivation', () => {
    const v = vector(263);
    const e = v.expected as Record<string, Record<string, string> | string>;
    const qq1 = modelQuantize(conversionNetwork(), configOf(v), 4, { preferQAdaptiveActivation: false });
    const f = e['prefer_qadaptiveactivation=False'] as Record<string, string>;
    expect(qq1.layers[2]!.getClassName()).toBe(f['qq1.layers[2].__class__.__name__']);
    expect(String((qq1.layers[2] as QActivation).quantizer).startsWith(f['str(qq1.layers[2].quantizer).startswith']!)).toBe(true);
    expect(qq1.layers[4]!.getClassName()).toBe(e['layers[4]']);
    const t = e['prefer_qadaptiveactivation=True'] as Record<string, string>;
    if (registered('QAdaptiveActivation')) {
      const qq2 = modelQuantize(conversionNetwork(), configOf(v), 4, { preferQAdaptiveActivation: true });
      expect(qq2.layers[2]!.getClassName()).toBe(t['qq2.layers[2].__class__.__name__']);
      expect(String((qq2.layers[2] as unknown as { quantizer: Quantizer }).quantizer).startsWith(t['str(qq2.layers[2].quantizer).startswith']!)).toBe(true);
    } else {
      const err = quantizeError(() => modelQuantize(conversionNetwork(), configOf(v), 4, { preferQAdaptiveActivation: true }));
      expect(err.issues).toEqual([expect.objectContaining({ layer: 'relu_act', detail: `would become QAdaptiveActivation, ${NOT_YET}` })]);
    }
  });

  it('264 Sequential model conversion', () => {
    const v = vector(264);
    const qq = modelQuantize(conversionSequential(), configOf(v), 4);
    expect(qq).toBeInstanceOf(tf.Sequential);
    expect(activationStr(qq.layers[2]!)).toBe((v.expected as Record<string, string>)['str(qq.layers[2].activation)']);
  });

  it('265 folding: no BatchNormalization → plain conversion; with BN → needs the *Batchnorm layers; without folding → QConv2D/QDepthwiseConv2D', () => {
    const v = vector(265);
    const config = configOf(v);
    const m1 = modelQuantize(conversionNetwork(), config, 4, { enableBnFolding: true });
    expect(m1.layers[1]!.getClassName()).toBe('QConv2D');
    expect(String((m1.layers[1] as QConv2D).getQuantizers()[0]).startsWith('binary')).toBe(true);

    const noBnEntries = { ...config } as Record<string, unknown>;
    delete noBnEntries['QConv2DBatchnorm'];
    delete noBnEntries['QDepthwiseConv2DBatchnorm'];
    if (registered('QConv2DBatchnorm') && registered('QDepthwiseConv2DBatchnorm')) {
      for (const [cfg, kernel] of [[config, 'ternary'], [noBnEntries, 'binary']] as const) {
        const m = modelQuantize(networkWithBn(), cfg, 4, { enableBnFolding: true });
        expect(m.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'QConv2DBatchnorm', 'QActivation', 'QConv2D', 'Activation', 'QDepthwiseConv2DBatchnorm']);
        expect(quantizersOf(m.layers[1]!)[0]!.startsWith(kernel)).toBe(true);
        expect(quantizersOf(m.layers[3]!)[0]!.startsWith('binary')).toBe(true);
        expect(quantizersOf(m.layers[5]!)[0]!.startsWith(kernel)).toBe(true);
      }
    } else {
      const withBn = networkWithBn();
      const names = withBn.layers.map((l) => l.name);
      const folded = quantizeError(() => modelQuantize(withBn, config, 4, { enableBnFolding: true }));
      expect(folded.issues.map((i) => [i.layer, i.detail])).toEqual([
        [names[1], `would become QConv2DBatchnorm, ${NOT_YET}`],
        [names[6], `would become QDepthwiseConv2DBatchnorm, ${NOT_YET}`],
      ]);
      const folded2 = quantizeError(() => modelQuantize(networkWithBn(), noBnEntries, 4, { enableBnFolding: true }));
      expect(folded2.issues.map((i) => i.detail)).toEqual(folded.issues.map((i) => i.detail));
    }

    const m2 = modelQuantize(networkWithBn(), config, 4, { enableBnFolding: false });
    expect(m2.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer', 'QConv2D', 'BatchNormalization', 'QActivation', 'QConv2D', 'Activation', 'QDepthwiseConv2D', 'BatchNormalization',
    ]);
    expect(String((m2.layers[1] as QConv2D).getQuantizers()[0]).startsWith('binary')).toBe(true);
    expect(String((m2.layers[3] as QActivation).quantizer).startsWith('quantized_relu')).toBe(true);
    expect(String((m2.layers[6] as unknown as { getQuantizers(): Quantizer[] }).getQuantizers()[0]).startsWith('binary')).toBe(true);
  });

  const rnnCases: Array<[number, () => tf.layers.Layer, string]> = [
    [146, () => tf.layers.simpleRNN({ units: 8 }), 'QSimpleRNN'],
    [148, () => tf.layers.lstm({ units: 8 }), 'QLSTM'],
    [150, () => tf.layers.gru({ units: 8 }), 'QGRU'],
    [149, () => tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 8 }) as never }), 'QBidirectional'],
    [151, () => tf.layers.bidirectional({ layer: tf.layers.gru({ units: 8 }) as never }), 'QBidirectional'],
  ];
  for (const [id, make, target] of rnnCases) {
    it(`${id} ${target}: every quantizer and activation binary (or "not supported yet" until the layer exists)`, () => {
      const v = vector(id);
      const x = tf.input({ shape: [16, 1] });
      const model = tf.model({ inputs: x, outputs: make().apply(x) as tf.SymbolicTensor });
      if (!registered(target)) {
        const err = quantizeError(() => modelQuantize(model, configOf(v), 4));
        expect(err.issues[0]!.detail).toBe(`would become ${target}, ${NOT_YET}`);
        return;
      }
      const layer = modelQuantize(model, configOf(v), 4).layers[1]!;
      expect(layer.getClassName()).toBe(target);
      const qs = quantizersOf(layer);
      expect(qs.length).toBe(target === 'QBidirectional' ? 8 : 4);
      expect(qs.every((s) => s.startsWith('binary'))).toBe(true);
      expect(String((layer as unknown as { activation: unknown }).activation)).toBe('binary()');
      const e = v.expected as Record<string, string>;
      if ('str(layers[1].recurrent_activation)' in e || 'str(layer.recurrent_activation)' in e) {
        const inner = (layer as unknown as { forwardLayer?: tf.layers.Layer }).forwardLayer ?? layer;
        expect(String((inner as unknown as { recurrentActivation?: unknown }).recurrentActivation)).toBe('binary()');
      }
    });
  }
});

describe("QKeras's other model_quantize tests (not in the vector file)", () => {
  it('test_linear_activation_conversion: activation_quantizer applies even to a linear activation', () => {
    const qq = modelQuantize(conversionNetwork(), { QConv2D: { kernel_quantizer: 'binary', bias_quantizer: 'binary', activation_quantizer: 'binary' } }, 4);
    expect(activationStr(qq.layers[1]!)).toBe('binary()');
  });

  it('test_conversion_from_relu_activation_to_qr_qactivation: QActivation dict keyed by activation', () => {
    const qq = modelQuantize(conversionNetwork(), { QConv2D: { kernel_quantizer: 'binary', bias_quantizer: 'binary' }, QActivation: { relu: 'ternary' } }, 4);
    expect(qq.layers[2]!.getClassName()).toBe('QActivation');
    expect(String((qq.layers[2] as QActivation).quantizer)).toBe('ternary()');
    expect(qq.layers[4]!.getClassName()).toBe('Activation');
  });

  it('test_qpooling_in_model_quantize: average pooling layers with average and activation quantizers', () => {
    const x = tf.input({ shape: [16, 16, 3] });
    let y = tf.layers.averagePooling2d({ poolSize: [2, 2], name: 'pooling' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.globalAveragePooling2d({ name: 'global_pooling' }).apply(y) as tf.SymbolicTensor;
    const qmodel = modelQuantize(
      tf.model({ inputs: x, outputs: y }),
      {
        QAveragePooling2D: { average_quantizer: 'binary', activation_quantizer: 'binary' },
        QGlobalAveragePooling2D: { average_quantizer: 'quantized_bits(4, 0, 1)', activation_quantizer: 'ternary' },
      },
      4,
    );
    const pool = qmodel.layers[1] as unknown as { averageQuantizer: Quantizer; activation: Quantizer };
    const gap = qmodel.layers[2] as unknown as { averageQuantizer: Quantizer; activation: Quantizer };
    expect([String(pool.averageQuantizer), String(pool.activation)]).toEqual(['binary()', 'binary()']);
    expect([String(gap.averageQuantizer), String(gap.activation)]).toEqual(['quantized_bits(4,0,1)', 'ternary()']);
  });
});

describe('modelQuantize on the lab book', () => {
  /** The lab book's float model. */
  function labBookModel(): tf.LayersModel {
    const x = tf.input({ shape: [28, 28, 1], name: 'input' });
    let y = tf.layers.conv2d({ filters: 18, kernelSize: [3, 3], name: 'conv2d_1' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: 'act_1' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.conv2d({ filters: 32, kernelSize: [3, 3], name: 'conv2d_2' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: 'act_2' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 10, name: 'dense' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(y) as tf.SymbolicTensor;
    return tf.model({ inputs: x, outputs: y });
  }
  const labBookConfig = {
    conv2d_1: { kernel_quantizer: 'stochastic_binary', bias_quantizer: 'quantized_po2(4)' },
    QConv2D: { kernel_quantizer: 'stochastic_ternary', bias_quantizer: 'quantized_po2(4)' },
    QDense: { kernel_quantizer: 'quantized_bits(4,0,1)', bias_quantizer: 'quantized_bits(4)' },
    QActivation: { relu: 'binary' },
    act_2: 'quantized_relu(3)',
  };

  it("prints QKeras's quantizer strings and transfers the weights", () => {
    const model = labBookModel();
    const qmodel = modelQuantize(model, labBookConfig, 4, { transferWeights: true });
    // The notebook's loop: kernel/bias quantizers of weight layers, the quantizer of QActivations.
    const lines = qmodel.layers.flatMap((l) => {
      const qs = (l as unknown as { getQuantizers?: () => (Quantizer | null)[] }).getQuantizers?.();
      if (l instanceof QActivation) return [`${l.name} quantizer: ${l.quantizer.toString()}`];
      if (qs !== undefined && 'kernelQuantizer' in l) return [`${l.name} kernel: ${String(qs[0])} bias: ${String(qs[1])}`];
      return [];
    });
    expect(lines).toEqual([
      "conv2d_1 kernel: stochastic_binary(alpha='auto_po2') bias: quantized_po2(4)",
      'act_1 quantizer: binary()',
      "conv2d_2 kernel: stochastic_ternary(alpha='auto_po2') bias: quantized_po2(4)",
      'act_2 quantizer: quantized_relu(3,0)',
      "dense kernel: quantized_bits(4,0,1,alpha='auto_po2') bias: quantized_bits(4,0,0)",
    ]);
    expect(qmodel.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer', 'QConv2D', 'QActivation', 'QConv2D', 'QActivation', 'Flatten', 'QDense', 'Activation',
    ]);
    model.layers.forEach((l, i) => {
      const a = l.getWeights().map((w) => Array.from(w.dataSync()));
      const b = qmodel.layers[i]!.getWeights().map((w) => Array.from(w.dataSync()));
      expect(b).toEqual(a);
    });
    // The quantized model runs.
    const out = qmodel.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
    expect(out.shape).toEqual([2, 10]);
    out.dispose();
  });

  it('reports unknown keys, missing layers, bad fields and quantizers, and unsupported layers all at once', () => {
    const x = tf.input({ shape: [16, 1] });
    let y = tf.layers.simpleRNN({ units: 8, name: 'rnn', returnSequences: true }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.flatten({ name: 'flat' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 4, name: 'fc' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const err = quantizeError(() =>
      modelQuantize(
        model,
        {
          default: { kernel: 'quantized_bits(4)' },
          conv9: { kernel_quantizer: 'binary' },
          flat: 'binary',
          QDense: { kernel_quantizer: 'quantized_bitz(4)', bias: 'binary' },
          QSimpleRNN: { kernel_quantizer: 'binary' },
          QActivation: { rellu: 'binary' },
        },
        4,
      ),
    );
    const byKey = (key: string | null): string[] => err.issues.filter((i) => i.key === key).map((i) => i.detail);
    expect(byKey('default')[0]).toMatch(/neither a layer of the model nor a class key \(QKeras documents a "default" key but never implemented it\)/);
    expect(byKey('conv9')[0]).toMatch(/neither a layer of the model nor a class key; layers: input\d*, rnn, flat, fc;/);
    expect(byKey('flat')).toEqual([expect.stringMatching(/^model_quantize does not convert Flatten layers/)]);
    expect(byKey('QDense')).toEqual([
      expect.stringMatching(/^kernel_quantizer: invalid quantizer spec "quantized_bitz\(4\)"/),
      'unknown field "bias"; this entry may have kernel_quantizer, bias_quantizer, activation_quantizer',
    ]);
    expect(byKey('QActivation')).toEqual([expect.stringMatching(/^unknown activation "rellu"/)]);
    // The recurrent layer counts only while QSimpleRNN does not exist.
    const rnn = registered('QSimpleRNN') ? [] : [`would become QSimpleRNN, ${NOT_YET}`];
    expect(err.issues.filter((i) => i.layer === 'rnn').map((i) => i.detail)).toEqual(rnn);
    expect(err.issues).toHaveLength(6 + rnn.length);
    expect(err.message.split('\n')[0]).toBe(`modelQuantize: ${6 + rnn.length} problems:`);
  });
});
