/**
 * `qkeras estimate`: the per-layer table and totals, the JSON with the field names `qkeras synth --json`
 * uses (layers[].name/luts/ffs/dsps/latency_cycles, total.luts/ffs/dsps/latency_cycles/ii) whose totals
 * add up and whose latency equals the emitted design's, both architectures, and one-line errors for bad
 * flags; and `qkeras synth --json`'s measured fields under the same names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QConv2D, QDense } from '../../src/layers/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { loadModel } from '../../src/engines/loaded-model.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { classifyCells, type SynthReport } from '../../src/sim/yosys.js';
import { measuredFields } from '../../src/cli/commands/synth.js';
import { randomizeWeights, rng } from '../lower/zoo.js';
import { runCli } from '../helpers/run-cli.js';

const Q_IN = 'quantized_bits(6,2,1)';
let dir: string;
let model: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-estimate-'));
  const input = tf.input({ shape: [4, 4, 1], name: 'img' });
  let x = new QConv2D({ filters: 2, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,1,1)', activation: 'quantized_relu(3,1)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({ units: 3, kernelQuantizer: 'ternary', name: 'head' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: x, name: 'tiny' });
  randomizeWeights(m, rng(5));
  model = join(dir, 'model');
  await saveQmodel(m, model);
  m.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface EstimateJson {
  layers: { name: string; luts: number; ffs: number; dsps: number; latency_cycles: number }[];
  glue: { luts: number; ffs: number; dsps: number };
  total: { luts: number; ffs: number; dsps: number; latency_cycles: number; ii: number };
}

describe('qkeras estimate', () => {
  it('prints JSON with synth\'s field names; totals add up and the latency is the design\'s', async () => {
    const r = await runCli('estimate', model, '--input-quantizer', Q_IN, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as EstimateJson;
    expect(j.layers.map((l) => l.name)).toEqual(['conv', 'head', 'softmax']);
    for (const l of j.layers) {
      for (const k of ['luts', 'ffs', 'dsps', 'latency_cycles'] as const) expect(Number.isInteger(l[k]), `${l.name}.${k}`).toBe(true);
      expect(l.luts).toBeGreaterThan(0);
    }
    for (const k of ['luts', 'ffs', 'dsps'] as const) expect(j.total[k]).toBe(j.layers.reduce((a, l) => a + l[k], j.glue[k]));
    const g = (await loadModel(model, { inputQuantizer: Q_IN })).graph();
    const ports = generateVerilog(g, { arch: 'parallel' }).manifest.ports;
    expect(ports.kind === 'parallel' && ports.latency).toBe(j.total.latency_cycles);
    expect(j.total.ii).toBe(1);
    expect(j.total.dsps).toBe(0);
  });

  it('prints a per-layer table; the stream architecture with a reuse factor takes more cycles', async () => {
    const r = await runCli('estimate', model, '--input-quantizer', Q_IN, '--arch', 'stream', '--reuse', '2');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Estimate of .* \(stream\), synth_xilinx model calibrated on /);
    expect(lines[1]).toMatch(/^layer\s+LUTs\s+FFs\s+DSPs\s+mem bits\s+cycles\s+pJ\s+datapath$/);
    expect(lines.find((l) => l.startsWith('conv'))).toMatch(/rom reuse 2$/);
    expect(lines.some((l) => l.startsWith('total'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^latency \d+ cycles, initiation interval [\d.]+ .*cycles; estimated in [\d.]+ ms$/);
    const s = JSON.parse((await runCli('estimate', model, '--input-quantizer', Q_IN, '--arch', 'stream', '--reuse', '2', '--json')).stdout) as EstimateJson;
    expect(s.total.latency_cycles).toBeGreaterThan(2);
    expect(s.total.ii).toBeGreaterThan(1);
  });

  it('generic family counts gates; bad flags fail with one line', async () => {
    const g = await runCli('estimate', model, '--input-quantizer', Q_IN, '--family', 'generic');
    expect(g.code).toBe(0);
    expect(g.stdout.split('\n')[1]).toMatch(/^layer\s+gates\s+FFs/);
    const bad = await runCli('estimate', model, '--input-quantizer', Q_IN, '--family', 'ice40');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: --family must be one of xilinx, generic, got "ice40"\n');
    const share = await runCli('estimate', model, '--input-quantizer', Q_IN, '--arch', 'stream', '--share');
    expect(share.code).toBe(1);
    expect(share.stderr).toMatch(/^error: --share applies to --arch parallel only/);
    // A parallel design over --max-macs is refused as `compile --target verilog` refuses it.
    const big = await runCli('estimate', model, '--input-quantizer', Q_IN, '--max-macs', '1');
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/constant multiplications .*more than the limit of 1\b/);
    expect(big.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('qkeras synth --json: measured figures under the estimate\'s field names', () => {
  it('maps layers, glue, totals and Verilator\'s timing', () => {
    const counts = (luts: number, ffs: number) => classifyCells({ LUT6: luts, FDRE: ffs });
    const report: SynthReport = {
      top: 'tiny',
      arch: 'parallel',
      family: 'xilinx',
      yosys: 'Yosys test',
      engine: 'native',
      layers: [
        { module: 'tiny_conv', layer: 'conv', node: 'conv', counts: counts(40, 0) },
        { module: 'tiny_head', layer: 'head', node: 'head', counts: counts(12, 0) },
      ],
      glue: counts(0, 30),
      total: counts(52, 30),
      seconds: 1,
    };
    expect(measuredFields(report, { latency: 3, interval: 1, samples: 32 })).toEqual({
      layers: [
        { name: 'conv', luts: 40, ffs: 0, dsps: 0, latency_cycles: null },
        { name: 'head', luts: 12, ffs: 0, dsps: 0, latency_cycles: null },
      ],
      glue: { luts: 0, ffs: 30, dsps: 0 },
      total: { luts: 52, ffs: 30, dsps: 0, latency_cycles: 3, ii: 1 },
    });
    expect(measuredFields(report, null).total).toMatchObject({ latency_cycles: null, ii: null });
  });
});
