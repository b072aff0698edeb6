/**
 * Fuzz: the tfjs model.json loader as every CLI command uses it (`loadModel`: loadQmodel, then the tfjs
 * and ir engines). A saved conv + dense model's model.json is mutated — wrong types, missing fields,
 * unknown classes, huge/negative/infinite numbers, broken call graphs — and each variant either loads and
 * predicts, or fails with a typed error. Plus the crashes this suite found, as regression tests: a call
 * graph with a cycle or a dangling reference made tfjs loop forever, and a non-float input dtype escaped
 * as a tfjs ValueError at predict time.
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { KerasImportError } from '../../src/errors.js';
import { irEngine, loadModel, tfjsEngine, ModelSourceError } from '../../src/engines/index.js';
import { QActivation, QConv2D, QDense } from '../../src/layers/index.js';
import { ModelFileError, saveQmodel } from '../../src/utils/save-load.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';
import { describeMutations, jsonPaths, mutatedText, mutationsArb } from './json-mutations.js';

let base = '';
let original = '';
let doc: unknown;

beforeAll(async () => {
  await ready();
  base = mkdtempSync(join(tmpdir(), 'qk-fuzz-model-'));
  const input = tf.input({ shape: [4, 4, 1], name: 'x' });
  let x = new QActivation({ activation: 'quantized_bits(6,2,1)', name: 'qin' }).apply(input) as tf.SymbolicTensor;
  x = new QConv2D({ filters: 2, kernelSize: 3, kernelQuantizer: "quantized_bits(4,0,1,alpha='auto_po2')", biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_relu(4,2)', name: 'conv' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'softmax', name: 'out' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'm' });
  await saveQmodel(model, join(base, 'orig'));
  model.dispose();
  original = readFileSync(join(base, 'orig', 'model.json'), 'utf8');
  doc = JSON.parse(original) as unknown;
});

afterAll(() => {
  if (base !== '') rmSync(base, { recursive: true, force: true });
});

const SAMPLE = Array.from({ length: 16 }, (_, i) => i / 8 - 1);
let caseNo = 0;

/** A copy of the saved model with `text` as its model.json. */
function variant(text: string): string {
  caseNo += 1;
  const dir = join(base, `case${caseNo}`);
  cpSync(join(base, 'orig'), dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), text);
  return dir;
}

/** What `qkeras predict` does with a model directory: load, then run the tfjs and ir engines. */
async function loadAndPredict(dir: string): Promise<void> {
  const m = await loadModel(dir);
  try {
    await tfjsEngine.predict(m, [SAMPLE]);
    await irEngine.predict(m, [SAMPLE]);
  } finally {
    m.model.dispose();
  }
}

describe('fuzz: tfjs model.json', () => {
  it('every mutated model.json loads and predicts, or fails with a typed error', async () => {
    const plan = fuzzPlan('model-json', 60);
    const tally = new FuzzTally(plan);
    const paths = jsonPaths(doc);
    await fc.assert(
      fc.asyncProperty(mutationsArb(paths), async (mutations) => {
        const dir = variant(mutatedText(doc, paths, mutations));
        try {
          await tally.run(
            () => describeMutations(paths, mutations),
            () => loadAndPredict(dir),
            (e) => {
              // Errors about the files name the file.
              if (e instanceof ModelFileError || e instanceof KerasImportError) expect(e.message).toContain(dir);
            },
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      fcParams(plan),
    );
    tally.report();
  });

  function withLayers(edit: (layers: Array<Record<string, unknown>>) => void): string {
    const d = structuredClone(doc) as { modelTopology: { config: { layers: Array<Record<string, unknown>> } } };
    edit(d.modelTopology.config.layers);
    return JSON.stringify(d);
  }

  it('a call graph with a cycle is refused by layer instead of looping forever in tfjs', async () => {
    // qin reads out's output, out reads flat, flat reads conv, conv reads qin: a cycle.
    const dir = variant(withLayers((layers) => (layers[1]!['inbound_nodes'] = [[['out', 0, 0, {}]]])));
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KerasImportError);
    expect((err as Error).message).toMatch(/layer "qin" \(QActivation\), argument inbound_nodes: the call .* waits for a call that never happens \(a cycle/);
    expect((err as Error).message).toMatch(/layer "out" \(QDense\), argument inbound_nodes/);
  });

  it('a call of a layer that does not exist is named (tfjs looped forever on it)', async () => {
    const dir = variant(withLayers((layers) => (layers[3]!['inbound_nodes'] = [[['conv_typo', 0, 0, {}]]])));
    await expect(loadModel(dir)).rejects.toThrow(/layer "flat" \(Flatten\), argument inbound_nodes: refers to layer "conv_typo", which the model does not have/);
    const past = variant(withLayers((layers) => (layers[3]!['inbound_nodes'] = [[['conv', 5, 0, {}]]])));
    await expect(loadModel(past)).rejects.toThrow(/layer "flat" \(Flatten\).*waits for a call that never happens/);
  });

  it('an input dtype other than float32 is a typed error, not a tfjs ValueError at predict time', async () => {
    const dir = variant(withLayers((layers) => ((layers[0]!['config'] as Record<string, unknown>)['dtype'] = 'int32')));
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSourceError);
    expect((err as Error).message).toMatch(/the model input has dtype "int32"; the engines feed float32 values/);
  });
});
