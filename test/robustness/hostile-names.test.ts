/**
 * Hostile layer names. tfjs names every layer's output tensor after the layer and accepts only
 * `[A-Za-z0-9][-A-Za-z0-9._/]*`, so a real model can carry Verilog and C keywords, names of the generated
 * code's own symbols, names starting with digits, `a/../../evil`, 10,000 characters and names that
 * collide once sanitised (`a-b`/`a_b`/`A_B`, `int`/`n_int`, `module`/`m_module`); a model file naming a
 * layer with quotes, comment markers, newlines or unicode fails to load with a typed error. Graphs built
 * or edited directly (IR text, passes) carry any text as a layer's origin, so the lowered graph is also
 * given origins with quotes, `*\/`, `/*`, newlines, backslashes, trigraphs, `$display`, unicode and 10k
 * characters. Through save/load, lowering, C and Verilog: the C compiles with -std=c99 -Wall -Wextra
 * -Werror -pedantic, the Verilog passes `verilator --lint-only -Wall` in both architectures, both equal
 * the golden model bit for bit, and every file lands in the output directory under a plain name.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { emitC } from '../../src/codegen/c.js';
import { emitVerilog, generateVerilog } from '../../src/codegen/verilog.js';
import { KerasImportError } from '../../src/errors.js';
import { importKeras } from '../../src/import/index.js';
import type { Graph } from '../../src/ir/index.js';
import { runIRReal } from '../../src/ir/interpret.js';
import { QActivation, QDense } from '../../src/layers/index.js';
import { lowerModel } from '../../src/lower/index.js';
import { C_COMPILER, VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { lintDesign } from '../../src/sim/verilator-runner.js';
import { verifyGraph } from '../../src/sim/verify.js';
import { ModelFileError, loadQmodel, saveQmodel } from '../../src/utils/save-load.js';
import { randomizeWeights, rng } from '../lower/zoo.js';

const verilator = findOptionalTool(VERILATOR);
const cc = findOptionalTool(C_COMPILER);

/** Names tfjs accepts, for the QActivation layers: keywords, our symbols, and the sanitised forms of others. */
const ACT_NAMES = ['endmodule', 'always', 'n_int', 'm_module', 'Verilated', '0', 'a/b/c'];

/** Names tfjs accepts, for the QDense layers. */
const WEIGHT_NAMES = [
  'module',
  'wire',
  'reg',
  'input',
  'end',
  'int',
  'main',
  '1st',
  'a-b',
  'a_b',
  'A_B',
  'a/../../evil',
  'qk_buf0',
  'clk',
  'out_data',
  'x'.repeat(10_000),
  `${'x'.repeat(10_000)}y`,
];

/** Origins for the edited graph: anything at all. */
const FREE_NAMES = [
  'quote"d\'name',
  '*/ int main(void) { return 1; } /*',
  '/* open comment',
  'line\nbreak\r\nand tab\t',
  'back\\slash\\',
  '??/',
  '$display("pwned"); $finish;',
  '`define X 1',
  '// line comment',
  'слой κ 😀 层',
  '../../etc/passwd',
  '/abs/path',
  'a b',
  '\u0000nul\u0007bell',
  'module',
  'int',
  '',
  'y'.repeat(10_000),
  `${'y'.repeat(10_000)}z`,
];

const MODEL_NAME = 'module';
const Q_IN = 'quantized_bits(8,3,1)';

let dir = '';
let graph: Graph;
let original: Graph;

/** Input → [QActivation(act name)? → QDense(weight name)] × 17. */
function hostileModel(): tf.LayersModel {
  const input = tf.input({ shape: [3], name: '9-in/put.v' });
  let x = input;
  WEIGHT_NAMES.forEach((name, i) => {
    const act = ACT_NAMES[i];
    if (act !== undefined) x = new QActivation({ activation: 'quantized_bits(8,3,1)', name: act }).apply(x) as tf.SymbolicTensor;
    x = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1,alpha=1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_bits(8,3,1)', name }).apply(x) as tf.SymbolicTensor;
  });
  const model = tf.model({ inputs: input, outputs: x, name: MODEL_NAME });
  // Weights in [-1, 1] with codes of both signs keep the values alive through 17 layers.
  randomizeWeights(model, rng(2024));
  return model;
}

/** Every file below `root`, relative to it. */
function filesBelow(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(root, f)).isFile());
}

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-hostile-'));
  const model = hostileModel();
  await saveQmodel(model, join(dir, 'model'));
  model.dispose();
  const back = await loadQmodel(join(dir, 'model'));
  // Every name survives the round trip through model.json.
  expect(back.layers.map((l) => l.name)).toEqual(expect.arrayContaining([...ACT_NAMES, ...WEIGHT_NAMES]));
  const lowered = lowerModel(back, { inputQuantizer: Q_IN });
  back.dispose();
  // The same graph with hostile origins (and name), as an edited or hand-written graph may carry.
  graph = { ...lowered, name: 'int main(void)*/\n', nodes: lowered.nodes.map((n, i) => ({ ...n, origin: { ...n.origin, layer: FREE_NAMES[i % FREE_NAMES.length]! } })) };
  original = lowered;
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('hostile layer names', () => {
  it('lower to a valid graph whose node ids are plain and distinct, with the layer names as origins', () => {
    const ids = original.nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(original.nodes.map((n) => n.origin.layer)).toEqual(expect.arrayContaining(WEIGHT_NAMES));
    // The values stay alive to the output, so the bit-exact comparisons below compare something.
    const outs = new Set([[1, -1, 0.5], [-2, 0.25, 3], [0, 0, 0], [4, 4, -4]].map((x) => Array.from(runIRReal(original, x)[0]!).join(',')));
    expect(outs.size).toBeGreaterThan(1);
  });

  it('emit files only inside the output directory, under plain names', () => {
    const out = join(dir, 'out');
    for (const [k, g] of [graph, original].entries()) {
      emitC(g, join(out, `c${k}`));
      emitVerilog(g, join(out, `v${k}`), { arch: 'parallel' });
      emitVerilog(g, join(out, `s${k}`), { arch: 'stream' });
    }
    expect(readdirSync(dir).sort()).toEqual(['model', 'out']);
    for (const f of filesBelow(out)) {
      expect(relative(out, join(out, f)).startsWith('..')).toBe(false);
      expect(f).toMatch(/^[csv][01]\/[A-Za-z0-9_.]+$/);
    }
  });

  it.skipIf(cc === null)(`C: compiles with -std=c99 -Wall -Wextra -Werror -pedantic and equals the golden model${cc === null ? ' (skipped: no C compiler)' : ''}`, async () => {
    const r = await verifyGraph(graph, { target: 'c', generated: 200, seed: 3 });
    expect(r.mismatchedSamples).toBe(0);
    expect(r.codes).toBe(200 * 3);
  });

  it.skipIf(verilator === null)(`Verilog: lints clean with -Wall (both architectures) and equals the golden model${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, async () => {
    for (const arch of ['parallel', 'stream'] as const) {
      const lint = await lintDesign(generateVerilog(graph, { arch }));
      expect(lint.messages, arch).toBe('');
      expect(lint.ok).toBe(true);
    }
    const r = await verifyGraph(graph, { target: 'verilog', arch: 'parallel', generated: 200, seed: 4, backpressure: false });
    expect(r.mismatchedSamples).toBe(0);
    expect(r.codes).toBe(200 * 3);
  });

  it('a model file naming a layer in a way tfjs refuses fails with a typed error naming it', async () => {
    const model = tf.sequential({ name: 'm', layers: [new QDense({ units: 2, inputShape: [3], kernelQuantizer: 'quantized_bits(4,0,1)', name: 'ok_name' })] });
    await saveQmodel(model, join(dir, 'refused'));
    model.dispose();
    const file = join(dir, 'refused', 'model.json');
    const text = readFileSync(file, 'utf8');
    for (const bad of FREE_NAMES.filter((n) => !/^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(n) && n !== '')) {
      writeFileSync(file, text.replaceAll('"ok_name', JSON.stringify(bad).slice(0, -1)));
      const err = await loadQmodel(join(dir, 'refused')).catch((e: unknown) => e);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(ModelFileError);
      expect((err as Error).message).toMatch(/could not be rebuilt \(Not a valid tensor name/);
    }
    const keras = {
      class_name: 'Sequential',
      config: { name: 'm', layers: [{ class_name: 'Dense', config: { name: 'bad"name */', units: 2, batch_input_shape: [null, 3] } }] },
    };
    const err = await importKeras(keras).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KerasImportError);
    expect((err as Error).message).toContain('layer "bad\\"name */" (Dense)');
  });
});
