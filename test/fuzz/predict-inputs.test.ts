/**
 * Fuzz: the files and strings `qkeras predict` reads from a user — the samples of in.json (wrong
 * shapes, non-numbers, NaN, infinities, huge values, nesting, invalid JSON text), the input quantizer and
 * the batch size. The sample reader and both engines run on every variant (a sample either predicts or
 * is refused with a typed error); a share of the variants goes through the whole CLI, which must exit 0
 * or 1 with one `error:` line — never 2 (an internal error) and never a stack trace.
 */
import * as tf from '@tensorflow/tfjs';
import * as fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { SampleError, flattenSamples, irEngine, loadModel, tfjsEngine, type LoadedModel } from '../../src/engines/index.js';
import { QDense } from '../../src/layers/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { runCli } from '../helpers/run-cli.js';
import { FuzzTally, fcParams, fuzzPlan } from './fuzz.js';

const Q_IN = 'quantized_bits(8,2,1)';
let dir = '';
let loaded: LoadedModel;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-fuzz-predict-'));
  const input = tf.input({ shape: [2, 3], name: 'x' });
  let x = tf.layers.flatten({ name: 'flat' }).apply(input) as tf.SymbolicTensor;
  x = new QDense({ units: 2, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', name: 'out' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'tiny' });
  await saveQmodel(model, join(dir, 'model'));
  model.dispose();
  loaded = await loadModel(join(dir, 'model'), { inputQuantizer: Q_IN });
});

afterAll(() => {
  loaded.model.dispose();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const number = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -8, max: 8, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 3.4e38, 1e6, -1e6, 0.125, 2 ** 53) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) },
);
const notNumber = fc.oneof(fc.constantFrom<unknown>(null, true, '1', 'NaN', '', {}, [], [[]], { x: 1 }), fc.string({ maxLength: 5 }));
/** A value at a leaf: mostly a number, sometimes anything. */
const leaf = fc.oneof({ weight: 12, arbitrary: number }, { weight: 1, arbitrary: notNumber });
/** A sample of shape [2, 3], or of a nearby wrong shape. */
const sample = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.array(leaf, { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(fc.array(leaf, { minLength: 0, maxLength: 4 }), { minLength: 0, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(fc.array(fc.array(leaf, { maxLength: 2 }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }) },
  { weight: 1, arbitrary: leaf },
);
/** The document: an array of samples, or something else entirely. */
const document = fc.oneof({ weight: 8, arbitrary: fc.array(sample, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });

/** JSON text of a document; NaN and infinities written the way people try to (not JSON: must be refused). */
function text(doc: unknown, raw: number): string {
  const base = JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0001${String(v)}\u0001` : v));
  const literal = base.replace(/"\\u0001(NaN|Infinity|-Infinity)\\u0001"/g, '$1');
  if (raw === 0) return literal.slice(0, Math.floor(literal.length / 2)); // cut short
  if (raw === 1) return `${'['.repeat(50_000)}${']'.repeat(50_000)}`; // nesting deep enough to break a recursive parser
  return literal;
}

describe('fuzz: predict inputs', () => {
  it('every in.json document predicts on both engines or is refused with a typed error', async () => {
    const plan = fuzzPlan('predict-samples', 400);
    const tally = new FuzzTally(plan);
    await fc.assert(
      fc.asyncProperty(document, async (doc) => {
        await tally.run(
          () => JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)).slice(0, 400),
          async () => {
            const flat = flattenSamples(doc, loaded.inputShape, 'in.json');
            const viaTfjs = await tfjsEngine.predict(loaded, flat);
            const viaIr = await irEngine.predict(loaded, flat);
            // Both engines agree to the bit on whatever they accept.
            expect(viaIr).toEqual(viaTfjs);
          },
          (e) => {
            if (e instanceof SampleError) expect(e.message).toMatch(/^in\.json(:| must)/);
          },
        );
      }),
      fcParams(plan),
    );
    tally.report();
  });

  it('the CLI exits 0 or 1 with one error line on any in.json, input quantizer or batch size', async () => {
    const plan = fuzzPlan('predict-cli', 12);
    let ok = 0;
    let refused = 0;
    const arb = fc.record({
      doc: document,
      raw: fc.nat(9),
      engine: fc.constantFrom('tfjs', 'ir'),
      quantizer: fc.oneof(fc.constant(Q_IN), fc.constantFrom('quantized_bits(8,2,1', 'binary(', 'quantized_po2(4)', 'relu', '', 'quantized_bits(99,0,1)')),
      batch: fc.constantFrom(undefined, '1', '0', '-3', 'x', '1e9', '2.5'),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const input = join(dir, 'in.json');
        writeFileSync(input, text(c.doc, c.raw));
        const args = ['predict', join(dir, 'model'), '--engine', c.engine, '--input', input, '--out', join(dir, 'out.json'), '--input-quantizer', c.quantizer];
        if (c.batch !== undefined) args.push('--batch-size', c.batch);
        const r = await runCli(...args);
        const context = `${JSON.stringify({ ...c, doc: undefined })} -> ${r.code}: ${r.stderr}`;
        expect([0, 1], context).toContain(r.code);
        if (r.code === 0) ok += 1;
        else {
          refused += 1;
          expect(r.stderr.trim().split('\n'), context).toHaveLength(1);
          expect(r.stderr, context).toMatch(/^error: /);
        }
      }),
      fcParams(plan),
    );
    console.log(`fuzz predict-cli: ${ok + refused} cases (${ok} exit 0, ${refused} exit 1), seed ${plan.seed}`);
    expect(ok + refused).toBe(plan.runs);
  });
});
