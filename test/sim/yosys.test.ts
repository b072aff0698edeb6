/**
 * Yosys figures for one small design (synthesis is slow; the suite synthesizes this one only): `qkeras
 * synth --json` on a small CNN (conv → flatten → dense → softmax) in the parallel architecture with
 * synth_xilinx reports LUTs, flip-flops and carry cells per layer, a total that is their sum, as many
 * flip-flops as the design has register bits, and Verilator's measured latency and II = 1. The second
 * call comes from the cache.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { QConv2D, QDense } from '../../src/layers/index.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { runSynth, synthTable, type SynthResult } from '../../src/cli/commands/synth.js';
import { runCompile } from '../../src/cli/commands/compile.js';
import { classifyCells, parseStat } from '../../src/sim/yosys.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { randomizeWeights, rng } from '../lower/zoo.js';

const Q_IN = 'quantized_bits(6,2,1)';
let dir: string;

beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'qk-yosys-'));
  const input = tf.input({ shape: [4, 4, 1], name: 'img' });
  let x = new QConv2D({ filters: 2, kernelSize: 3, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(4,1,1)', activation: 'quantized_relu(3,1)', name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  x = new QDense({ units: 3, kernelQuantizer: 'ternary', name: 'head' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'tiny' });
  randomizeWeights(model, rng(5));
  await saveQmodel(model, join(dir, 'model'));
  model.dispose();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Yosys statistics parsing', () => {
  it('sorts cell types into LUTs, flip-flops, carry, DSPs, RAM and ignores annotations', () => {
    const c = classifyCells({ LUT2: 3, LUT6: 2, INV: 1, FDRE: 4, FDSE: 1, CARRY4: 2, DSP48E1: 1, RAMB18E1: 1, SRL16E: 2, $scopeinfo: 7, MUXF7: 1 });
    expect(c).toMatchObject({ luts: 6, ffs: 5, carry: 2, dsps: 1, brams: 1, lutram: 2, cells: 18 });
    const stat = 'log noise {"creator": "Yosys", "modules": {"\\\\top": {"num_cells_by_type": {"SB_LUT4": 5, "SB_DFF": 2, "SB_CARRY": 1}}}}';
    expect(parseStat(stat, 'top')).toMatchObject({ luts: 5, ffs: 2, carry: 1, cells: 8 });
    expect(() => parseStat(stat, 'other')).toThrow(/no module other \(found \\top\)/);
  });
});

describe('qkeras synth (Yosys synth_xilinx, one small design)', () => {
  it('reports per-layer and total figures that add up, FFs = register bits, and the measured II', async () => {
    let out = '';
    const result: SynthResult = await runSynth(join(dir, 'model'), { arch: 'parallel', family: 'xilinx', json: true, inputQuantizer: Q_IN }, (l) => {
      out += `${l}\n`;
    });
    expect(JSON.parse(out)).toMatchObject({ synth: { family: 'xilinx', arch: 'parallel', top: 'tiny' } });
    const s = result.synth;
    expect(s.layers.map((l) => l.layer)).toEqual(['conv', 'head', 'softmax']);
    for (const l of s.layers) {
      expect(l.counts.luts).toBeGreaterThan(0);
      expect(l.counts.ffs).toBe(0); // layers are combinational; registers live in the top
      expect(l.counts.dsps).toBe(0); // constant weights need no multipliers
    }
    for (const k of ['luts', 'ffs', 'carry', 'cells'] as const) {
      expect(s.total[k]).toBe(s.layers.reduce((a, l) => a + l.counts[k], s.glue[k]));
    }
    // Every register bit of the generated top (qk_delay W x D) is one flip-flop.
    const rtl = join(dir, 'rtl');
    await runCompile(join(dir, 'model'), { target: 'verilog', out: rtl, arch: 'parallel', inputQuantizer: Q_IN }, () => {});
    const top = readFileSync(join(rtl, 'tiny.v'), 'utf8');
    const bits = [...top.matchAll(/qk_delay #\(\.W\((\d+)\), \.D\((\d+)\)/g)].reduce((a, m) => a + Number(m[1]) * Number(m[2]), 0);
    expect(bits).toBeGreaterThan(0);
    expect(s.total.ffs).toBe(bits);
    if (findOptionalTool(VERILATOR) !== null) {
      expect(result.timing).toMatchObject({ latency: 3, interval: 1 });
    } else {
      expect(result.timingNote).toContain('Verilator not installed');
    }
    const table = synthTable(result);
    expect(table[1]).toMatch(/^layer\s+LUTs\s+FFs\s+carry\s+DSPs\s+BRAMs\s+LUTRAM\s+cells$/);
    expect(table.find((l) => l.startsWith('total'))).toContain(String(s.total.luts));
    // Again: from the cache, the same figures.
    const again = await runSynth(join(dir, 'model'), { arch: 'parallel', family: 'xilinx', inputQuantizer: Q_IN, sim: false }, () => {});
    expect(again.synth.total).toEqual(s.total);
    expect(again.synth.seconds).toBeLessThan(5);
  }, 900_000);
});
