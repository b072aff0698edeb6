/**
 * Resource limits: a model too large for the fully parallel Verilog architecture (every constant
 * multiplication unrolled) is refused before anything is generated — a Dense 4096x4096 would be 16.7
 * million multipliers, hundreds of megabytes of Verilog — with the count per layer and the way out
 * (`--arch stream`, or raising the limit). The estimate reads only weight counts and shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { emitVerilog, generateVerilog } from '../../src/codegen/verilog.js';
import { DEFAULT_MAX_PARALLEL_MACS, DesignTooLargeError, parallelMacs } from '../../src/codegen/verilog-size.js';
import { ConfigError } from '../../src/errors.js';
import { GraphBuilder, makeGraph, type Graph, type Node } from '../../src/ir/index.js';
import { inputRequant } from '../../src/ir/quantizer-rules.js';
import { opOf } from '../../src/ops/registry.js';
import { QConv2D, QDense, QDepthwiseConv2D } from '../../src/layers/index.js';
import { lowerModel } from '../../src/lower/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { randomizeWeights, rng } from '../lower/zoo.js';
import { runCli } from '../helpers/run-cli.js';

let dir = '';

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-resources-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/**
 * A graph with one Dense n x n (weights 1..7 and -7..-1, a few zeros), assembled directly: a builder or
 * lowering would spend most of a minute deriving types for 16.7 million weights the check never needs.
 */
function hugeDense(n: number): Graph {
  const b = new GraphBuilder('huge');
  b.input({ id: 'x', origin: { layer: 'x', className: 'InputLayer' }, shape: [n], quant: inputRequant({ className: 'quantized_bits', config: { bits: 8, integer: 2, symmetric: 1 } }) });
  const input = b.current.nodes[0]!;
  const codes = new Array<number>(n * n);
  for (let i = 0; i < codes.length; i += 1) codes[i] = (i % 15) - 7;
  const dense = {
    kind: 'dense',
    id: 'big',
    inputs: ['x'],
    origin: { layer: 'big', className: 'QDense' },
    shape: [n],
    type: null,
    weights: { kind: 'int', shape: [n, n], codes, exps: new Array<number>(n).fill(-3), quant: { mode: 'fixed', bits: 4, signed: true } },
    bias: null,
    requant: null,
    acc: null,
    pruned: false,
  } as unknown as Node;
  return makeGraph('huge', [input, dense], ['x'], ['big']);
}

describe('parallel designs too large to generate', () => {
  it('a Dense 4096x4096 is refused before generation, with the count, the layer and the way out', () => {
    const g = hugeDense(4096);
    const macs = 4096 * 4096 - Math.floor((4096 * 4096 + 7) / 15); // every 15th weight is 0
    expect(parallelMacs(g)).toEqual([{ node: 'big', layer: 'big', macs }]);
    const out = join(dir, 'huge');
    let err: unknown = null;
    try {
      emitVerilog(g, out, { arch: 'parallel' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DesignTooLargeError);
    expect((err as Error).message).toBe(
      `a fully parallel design of "huge" would unroll ${macs.toLocaleString('en-US')} constant multiplications (largest layers: "big" ${macs.toLocaleString('en-US')}), ` +
        `more than the limit of 65,536: about ${Math.round((macs * 16) / 1e6)} MB of Verilog and far more logic than an FPGA holds. Use the stream ` +
        'architecture (--arch stream, whose reuse factors trade multipliers for cycles), or raise the limit (--max-macs, option maxParallelMacs)',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('counts what the parallel architecture unrolls: nonzero weights times output positions, as the op costs do', () => {
    const input = tf.input({ shape: [6, 6, 2], name: 'x' });
    let x = new QConv2D({ filters: 3, kernelSize: 3, padding: 'same', kernelQuantizer: 'quantized_bits(4,0,1)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
    x = new QDepthwiseConv2D({ kernelSize: 3, strides: 2, depthwiseQuantizer: 'quantized_bits(4,0,1)', name: 'dw' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
    x = new QDense({ units: 5, kernelQuantizer: 'ternary', name: 'fc' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x, name: 'mixed' });
    randomizeWeights(model, rng(9));
    const g = lowerModel(model, { inputQuantizer: 'quantized_bits(8,2,1)' });
    model.dispose();
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    for (const { node, macs } of parallelMacs(g)) {
      const n = byId.get(node)!;
      const cost = opOf(n).cost(n, n.inputs.map((i) => byId.get(i)!.shape), n.inputs.map((i) => byId.get(i)!.type!));
      expect(macs, node).toBe(cost.activeMacs);
    }
    expect(parallelMacs(g).map((l) => l.layer).sort()).toEqual(['conv', 'dw', 'fc']);
  });

  it('the limit is an option: lower refuses, higher or Infinity allows, nonsense is a ConfigError; stream is not limited', () => {
    const input = tf.input({ shape: [8], name: 'x' });
    const out = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'fc' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: 'small' });
    randomizeWeights(model, rng(3));
    const g = lowerModel(model, { inputQuantizer: 'quantized_bits(8,2,1)' });
    model.dispose();
    const macs = parallelMacs(g)[0]!.macs;
    expect(macs).toBeGreaterThan(10);
    expect(macs).toBeLessThan(DEFAULT_MAX_PARALLEL_MACS);
    expect(() => generateVerilog(g, { arch: 'parallel', maxParallelMacs: 10 })).toThrow(/would unroll \d+ constant multiplications .* more than the limit of 10/);
    expect(generateVerilog(g, { arch: 'parallel', maxParallelMacs: macs }).manifest.arch).toBe('parallel');
    expect(generateVerilog(g, { arch: 'parallel', maxParallelMacs: Infinity }).manifest.arch).toBe('parallel');
    expect(generateVerilog(g, { arch: 'stream', maxParallelMacs: 10 }).manifest.arch).toBe('stream');
    expect(() => generateVerilog(g, { arch: 'parallel', maxParallelMacs: -1 })).toThrow(ConfigError);
  });

  it('qkeras compile: exit 1 naming the limit and --arch stream; --max-macs raises it', async () => {
    const input = tf.input({ shape: [8], name: 'x' });
    const out = new QDense({ units: 4, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'fc' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: 'small' });
    randomizeWeights(model, rng(3));
    await saveQmodel(model, join(dir, 'small'));
    model.dispose();
    const args = ['compile', join(dir, 'small'), '--target', 'verilog', '--arch', 'parallel', '--input-quantizer', 'quantized_bits(8,2,1)'];
    const refused = await runCli(...args, '--out', join(dir, 'rtl1'), '--max-macs', '10');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: a fully parallel design of "small" would unroll \d+ constant multiplications .* more than the limit of 10: .* Use the stream architecture \(--arch stream/);
    expect(existsSync(join(dir, 'rtl1'))).toBe(false);
    expect((await runCli(...args, '--out', join(dir, 'rtl2'), '--max-macs', 'none')).code).toBe(0);
    const bad = await runCli(...args, '--out', join(dir, 'rtl3'), '--max-macs', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--max-macs must be a positive integer or none, got "0"/);
  });
});
