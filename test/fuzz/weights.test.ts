/**
 * Fuzz: the weights loaders. tfjs `weights.bin` truncated, extended, replaced by garbage or with bytes
 * flipped, and its manifest given wrong sizes, shapes, dtypes, names, quantization and paths; Keras HDF5
 * weight files truncated, extended, zeroed or flipped. Each variant either loads — and then holds exactly
 * the file's bytes, and predicts or refuses non-finite weights — or fails with a typed error. A truncated
 * file never yields a model (no zeros filling the missing tail), and a manifest path never reads outside
 * the model's directory.
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { LoadedModel, irEngine, tfjsEngine } from '../../src/engines/index.js';
import { importKeras } from '../../src/import/index.js';
import { QDense } from '../../src/layers/index.js';
import { ModelFileError, loadQmodel, saveQmodel } from '../../src/utils/save-load.js';
import { QKerasError } from '../../src/errors.js';
import { jsonPath, weightsPath } from '../import/fixtures.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';

let base = '';
let manifestDoc: { weightsManifest: Array<{ paths: unknown; weights: Array<Record<string, unknown>> }> };
let bin = new Uint8Array(0);
let h5 = new Uint8Array(0);

beforeAll(async () => {
  await ready();
  base = mkdtempSync(join(tmpdir(), 'qk-fuzz-weights-'));
  const input = tf.input({ shape: [5], name: 'x' });
  const out = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'out' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'm' });
  model.setWeights([tf.tensor(Array.from({ length: 15 }, (_, i) => (i - 7) / 8), [5, 3]), tf.tensor([0.25, -0.5, 0.75])]);
  await saveQmodel(model, join(base, 'orig'));
  model.dispose();
  manifestDoc = JSON.parse(readFileSync(join(base, 'orig', 'model.json'), 'utf8')) as typeof manifestDoc;
  bin = new Uint8Array(readFileSync(join(base, 'orig', 'weights.bin')));
  h5 = new Uint8Array(readFileSync(weightsPath('qkeras_3layer')));
});

afterAll(() => {
  if (base !== '') rmSync(base, { recursive: true, force: true });
});

let caseNo = 0;
function freshDir(): string {
  caseNo += 1;
  const dir = join(base, `case${caseNo}`);
  mkdirSync(dir);
  return dir;
}

/** Byte edits: truncate, extend, replace, flip one byte, zero a run. */
const byteEdit = (size: number): fc.Arbitrary<{ kind: string; at: number; n: number; bytes: Uint8Array }> =>
  fc.record({
    kind: fc.constantFrom('truncate', 'extend', 'garbage', 'flip', 'zero'),
    at: fc.nat(Math.max(0, size - 1)),
    n: fc.integer({ min: 1, max: 4096 }),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 96 }),
  });

function applyByteEdits(original: Uint8Array, edits: ReadonlyArray<{ kind: string; at: number; n: number; bytes: Uint8Array }>): Uint8Array {
  let b = Uint8Array.from(original);
  for (const e of edits) {
    if (e.kind === 'truncate') b = b.slice(0, Math.min(e.at, b.length));
    if (e.kind === 'extend') b = Uint8Array.from([...b, ...(e.bytes.length > 0 ? e.bytes : [0])]);
    if (e.kind === 'garbage') b = Uint8Array.from(e.bytes);
    if (e.kind === 'flip' && e.at < b.length) b[e.at] = (b[e.at]! ^ (e.n & 0xff || 1)) & 0xff;
    if (e.kind === 'zero' && e.at < b.length) b.fill(0, e.at, Math.min(b.length, e.at + e.n));
  }
  return b;
}

/** Manifest edits: every field of a weight spec and the group's paths. */
const manifestEdit = fc.oneof(
  fc.record({ field: fc.constant('dtype'), w: fc.nat(1), value: fc.constantFrom<unknown>('float16', 'int32', 'uint8', 'string', 'complex64', 'bool', 'float64', 'int8', '', 'xyz', 5) }),
  fc.record({ field: fc.constant('shape'), w: fc.nat(1), value: fc.constantFrom<unknown>([], [0], [5], [3, 5], [5, 3, 1], [-1, 3], [1e9, 1e9], [2.5, 2], [15], [1, 15], null, 'x', [2 ** 31, 0]) }),
  fc.record({ field: fc.constant('name'), w: fc.nat(1), value: fc.constantFrom<unknown>('out/bias', 'out/kernel', 'nope', '', 5, null) }),
  fc.record({ field: fc.constant('quantization'), w: fc.nat(1), value: fc.constantFrom<unknown>({ dtype: 'uint8', scale: 0.1, min: 0 }, { dtype: 'uint16', scale: 1, min: 0 }, { dtype: 'float16' }, { dtype: 'bogus' }, 'x', {}) }),
  fc.record({ field: fc.constant('drop'), w: fc.nat(1), value: fc.constant<unknown>(null) }),
  fc.record({
    field: fc.constant('paths'),
    w: fc.constant(0),
    value: fc.constantFrom<unknown>([], ['weights.bin', 'weights.bin'], ['../weights.bin'], ['/etc/hostname'], ['nope.bin'], [''], ['.'], [5], 'weights.bin', null, ['sub/../weights.bin']),
  }),
);

describe('fuzz: weights files', () => {
  it('tfjs weights.bin and manifest: exact bytes or a typed error; truncation never loads', async () => {
    const plan = fuzzPlan('weights-bin', 100);
    const tally = new FuzzTally(plan);
    const arb = fc.record({ bytes: fc.array(byteEdit(bin.length), { maxLength: 2 }), manifest: fc.array(manifestEdit, { maxLength: 2 }) }).filter((c) => c.bytes.length + c.manifest.length > 0);
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const dir = freshDir();
        const doc = structuredClone(manifestDoc);
        const group = doc.weightsManifest[0]!;
        for (const m of c.manifest) {
          if (m.field === 'paths') group.paths = m.value;
          else if (m.field === 'drop') group.weights.splice(m.w, 1);
          else if (group.weights[m.w] !== undefined) group.weights[m.w]![m.field] = m.value;
        }
        const bytes = applyByteEdits(bin, c.bytes);
        writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
        writeFileSync(join(dir, 'weights.bin'), bytes);
        try {
          await tally.run(
            () => JSON.stringify({ bytes: c.bytes.map((e) => ({ ...e, bytes: e.bytes.length })), manifest: c.manifest }),
            async () => {
              const model = await loadQmodel(dir);
              try {
                // With the manifest as saved: never a model from a shorter (or longer) file, and exactly its bytes.
                if (c.manifest.length === 0) {
                  expect(bytes.length).toBe(bin.length);
                  const loaded = model.getWeights().flatMap((w) => Array.from(new Uint8Array((w.dataSync() as Float32Array).slice().buffer)));
                  expect(loaded).toEqual(Array.from(bytes));
                }
                const m = new LoadedModel(dir, model, 'quantized_bits(8,2,1)');
                await tfjsEngine.predict(m, [[0.5, -0.25, 1, 0, 2]]);
                await irEngine.predict(m, [[0.5, -0.25, 1, 0, 2]]);
              } finally {
                model.dispose();
              }
            },
            (e) => expect(e.message).toMatch(/model\.json|weights\.bin|weight|not finite/),
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      fcParams(plan),
    );
    tally.report();
  });

  it('Keras HDF5 weights: the file weights or a typed error', async () => {
    const plan = fuzzPlan('weights-h5', 15);
    const tally = new FuzzTally(plan);
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit(h5.length), { minLength: 1, maxLength: 3 }), async (edits) => {
        const dir = freshDir();
        const file = join(dir, 'w.h5');
        writeFileSync(file, applyByteEdits(h5, edits));
        try {
          await tally.run(
            () => JSON.stringify(edits.map((e) => ({ ...e, bytes: e.bytes.length }))),
            async () => {
              const model = await importKeras(jsonPath('qkeras_3layer'), file);
              try {
                const m = new LoadedModel(file, model, 'quantized_bits(16,6,1)');
                const sample = new Array<number>(m.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
                await tfjsEngine.predict(m, [sample]);
                await irEngine.predict(m, [sample]);
              } finally {
                model.dispose();
              }
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

  it('a weights.bin cut at any length is refused as truncated', async () => {
    for (let n = 0; n < bin.length; n += 7) {
      const dir = freshDir();
      cpSync(join(base, 'orig', 'model.json'), join(dir, 'model.json'));
      writeFileSync(join(dir, 'weights.bin'), bin.slice(0, n));
      await expect(loadQmodel(dir)).rejects.toThrow(new RegExp(`expected ${bin.length} bytes .* but found ${n} bytes; the file is truncated`));
    }
  });

  it('manifest paths outside the model directory are refused before any read', async () => {
    const outside = join(base, 'secret.bin');
    writeFileSync(outside, bin);
    for (const p of ['../secret.bin', outside, '', '.', 'sub/../../secret.bin']) {
      const dir = freshDir();
      const doc = structuredClone(manifestDoc);
      doc.weightsManifest[0]!.paths = [p];
      writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
      const err = await loadQmodel(dir).catch((e: unknown) => e);
      expect(err, p).toBeInstanceOf(ModelFileError);
      expect((err as Error).message).toContain(`weights path ${JSON.stringify(p)} (listed in model.json) is not a file name inside the model directory`);
    }
    // Below the model directory is fine.
    const dir = freshDir();
    mkdirSync(join(dir, 'shards'));
    writeFileSync(join(dir, 'shards', 'w.bin'), bin);
    const doc = structuredClone(manifestDoc);
    doc.weightsManifest[0]!.paths = ['shards/w.bin'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
    (await loadQmodel(dir)).dispose();
  });

  it('a truncated HDF5 file is a typed error naming the file and HDF5\'s reason on one line', async () => {
    const file = join(freshDir(), 'cut.h5');
    const cut = Math.floor(h5.length * 0.7);
    writeFileSync(file, h5.slice(0, cut));
    const err = await importKeras(jsonPath('qkeras_3layer'), file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QKerasError);
    // h5wasm used to print dozens of HDF5-DIAG lines to stderr and throw a bare "name not defined".
    expect((err as Error).message).toBe(
      `${file} is damaged or truncated: HDF5 cannot read it (HDF5: truncated file: eof = ${cut}, sblock->base_addr = 0, stored_eof = ${h5.length})`,
    );
  });
});
