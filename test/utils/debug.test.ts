/**
 * `quantizedModelDebug`: QKeras's format strings (`"{:30} {: 8.4f} {: 8.4f}"`, `" ({: 8.4f} {: 8.4f})"`,
 * `" a({: 10.6f} {: 10.6f})"`, `" a[{: 8.4f} {:8.4f}]"`) on a small model with exactly representable values,
 * and the SVG histograms written with `plot`.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QActivation, QDense } from '../../src/layers/index.js';
import { getQuantizer } from '../../src/quantizers/get-quantizer.js';
import { quantizedModelDebug } from '../../src/utils/debug.js';
import { pyFormatFloat } from '../../src/utils/py-format.js';

let dir: string;
beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qkeras-ts-debug-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function debugModel(): tf.LayersModel {
  const qd = new QDense({ inputShape: [4], units: 2, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: 'quantized_bits(4,0,1)', name: 'qd' });
  const qa = new QActivation({ activation: 'quantized_relu(4,0)', name: 'qa' });
  // No alpha: the kernel quantizer becomes auto_po2 (per-channel scale 0.5 for this kernel).
  const qd2 = new QDense({ units: 1, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'qd2' });
  const model = tf.sequential({ layers: [qd, qa, tf.layers.dropout({ rate: 0.5, name: 'drop' }), qd2] });
  qd.setWeights([tf.tensor([[0.5, -0.25], [0.125, 0.75], [-0.5, 0.25], [0.25, -0.125]]), tf.tensor([0.125, -0.25])]);
  qd2.setWeights([tf.tensor([[0.5], [0.25]]), tf.tensor([0])]);
  return model;
}

/** Minimal XML well-formedness: one root, tags balanced and properly nested. */
function checkXml(text: string): void {
  const stack: string[] = [];
  const tags = text.replace(/<\?xml[^>]*\?>/, '').match(/<\/?[A-Za-z][^>]*?\/?>/g) ?? [];
  let roots = 0;
  for (const t of tags) {
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(t)![1]!;
    if (t.startsWith('</')) expect(stack.pop(), `closing ${t}`).toBe(name);
    else if (!t.endsWith('/>')) {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('quantizedModelDebug', () => {
  it("prints QKeras's debug table", () => {
    const x = tf.tensor([[0.5, -1.0, 0.25, 2.0]]);
    const text = quantizedModelDebug(debugModel(), x, { print: false });
    expect(text).toBe(
      [
        // "{:30} {: 8.4f} {: 8.4f}": name padded to 30, then two 8-wide fields with a sign column.
        `${'input'.padEnd(30)}  -1.0000   2.0000`,
        // qd: outputs 0.625 and -1.3125; quantized kernel and bias ranges (scale 1: no a(...)).
        `${'qd'.padEnd(30)}  -1.3125   0.6250 ( -0.5000   0.7500) ( -0.2500   0.1250)`,
        `${'qa'.padEnd(30)}   0.0000   0.6250`,
        // qd2: auto_po2 kernel 0.5, 0.25 -> q = 7/16, 4/16 with scale 0.5, shown divided by it.
        `${'qd2'.padEnd(30)}   0.2734   0.2734 (  0.5000   0.8750) (  0.0000   0.0000) a(  0.500000   0.500000)`,
        '',
      ].join('\n'),
    );
    const model = debugModel();
    quantizedModelDebug(model, x, { print: false });
    const tensors = tf.memory().numTensors;
    quantizedModelDebug(model, x, { print: false });
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('divides a QActivation given as a quantizer object by its scale and shows it in a[...]', () => {
    const act = getQuantizer("quantized_bits(4,0,1,alpha='auto_po2')")!;
    const x = tf.input({ shape: [4] });
    const y = new QActivation({ activation: act, name: 'qact' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const text = quantizedModelDebug(model, tf.tensor([[0.5, -1, 0.25, 2]]), { print: false });
    const out = (model.predict(tf.tensor([[0.5, -1, 0.25, 2]])) as tf.Tensor).dataSync();
    const s = (act.scale as tf.Tensor).dataSync();
    const divided = Array.from(out, (v, i) => v / s[i % s.length]!);
    const f = (v: number): string => pyFormatFloat(v, { sign: ' ', width: 8, precision: 4 });
    const lines = text.split('\n');
    expect(lines[1]).toBe(
      `${'qact'.padEnd(30)} ${f(Math.min(...divided))} ${f(Math.max(...divided))} a[${f(Math.min(...s))} ${pyFormatFloat(Math.max(...s), { width: 8, precision: 4 })}]`,
    );
    // QKeras ends the a[...] print with a newline, then prints an empty line for the (absent) weights.
    expect(lines[2]).toBe('');
  });

  it('writes valid SVG histograms of outputs and quantized kernels with plot', () => {
    const x = tf.randomUniform([16, 4], -1, 1, 'float32', 7);
    const folder = join(dir, 'plots');
    quantizedModelDebug(debugModel(), x, { print: false, plot: folder });
    const files = readdirSync(folder).sort();
    expect(files).toEqual(['qa_output.svg', 'qd2_output.svg', 'qd2_weights.svg', 'qd_output.svg', 'qd_weights.svg']);
    for (const f of files) {
      const svg = readFileSync(join(folder, f), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      checkXml(svg);
      // Every value is in one bar: the bar titles' counts add up to the number of values.
      const counts = [...svg.matchAll(/<title>\[[^<]*?\): (\d+)<\/title>/g)].map((m) => Number(m[1]));
      const expected = f.endsWith('_weights.svg') ? (f.startsWith('qd2') ? 2 : 8) : f.startsWith('qd2') ? 16 : 32;
      expect(counts.reduce((a, b) => a + b, 0), f).toBe(expected);
      expect(svg).toContain(`>${f.replace('_output.svg', '(output)').replace('_weights.svg', '(weights)')}</text>`);
    }
  });
});
