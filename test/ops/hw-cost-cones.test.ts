/**
 * The tail of a small cone (`Cone.tail`): an XNOR row's bias, shift and requantizer read only its
 * popcount, so LUT mapping may build them as tables of the count's bits while the popcount stays
 * adders (Yosys 0.23, synth_xilinx -nodsp: 4 rows of 8 ±1 inputs into relu(4, 2) outputs, 56 LUTs
 * where tables of the 8 inputs would take 64). `tabledCones` picks the cheapest of the cone's
 * adders, a table of its inputs and the table of its tail.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { tabledCones } from '../../src/ops/hw-cost/cost-model.js';
import { estimateHardware } from '../../src/ops/hw-cost/index.js';
import { emptyFeatures, type Cone, type Features } from '../../src/ops/hw-cost/features.js';
import { buildDesign, calibrationGrid } from './hw-cost-grid.js';

const model = { logic: { ...emptyFeatures(), pop: 1, cpa1: 1, cmpc: 1 }, memFlipFlops: 0 };
const feats = (pop: number, cpa1: number, cmpc: number): Features => ({ ...emptyFeatures(), pop, cpa1, cmpc });

beforeAll(async () => {
  await ready();
});

describe('the tail of a cone as a table of an inner value', () => {
  it('takes the tail table when it is the cheapest, keeping the inner logic', () => {
    // 8 inputs, 4 output bits: adders 8 + 6 + 10 = 24, table 4 × 4 = 16, tail 8 + 4 × 1 = 12.
    const cone: Cone = { features: feats(8, 6, 10), support: 8, bits: 4, count: 2, tail: { features: feats(0, 6, 10), support: 4 } };
    expect(tabledCones(model, [cone])).toEqual({ features: feats(0, 12, 20), luts: 8 });
  });

  it('takes the whole table when it is cheaper than the tail, and nothing when the adders are', () => {
    // 6 inputs: table 4 LUTs beats the tail's 8 + 4.
    const six: Cone = { features: feats(8, 6, 10), support: 6, bits: 4, count: 1, tail: { features: feats(0, 6, 10), support: 4 } };
    expect(tabledCones(model, [six])).toEqual({ features: feats(8, 6, 10), luts: 4 });
    // A tail of 2 adder cells costs less than its 4-LUT table.
    const cheap: Cone = { features: feats(8, 2, 0), support: 12, bits: 4, count: 1, tail: { features: feats(0, 2, 0), support: 4 } };
    expect(tabledCones(model, [cheap])).toEqual({ features: emptyFeatures(), luts: 0 });
  });

  it('XNOR rows of a calibration design carry the tail of their popcount (xilinx only)', () => {
    const spec = calibrationGrid().find((s) => s.name === 'mlp_xnor_16x8x4')!;
    const g = buildDesign(spec);
    const x = estimateHardware(g, { arch: 'parallel', family: 'xilinx', dsp: false });
    // dense0: 8 rows of 16 inputs (beyond a table of the inputs) into a sign; dense1: 4 rows of 8.
    const [d0, d1] = x.layers;
    expect(d0!.cones.map((c) => [c.support, c.tail?.support])).toEqual(Array.from({ length: 8 }, () => [16, 5]));
    expect(d1!.cones.map((c) => [c.support, c.tail?.support])).toEqual(Array.from({ length: 4 }, () => [8, 4]));
    for (const c of [...d0!.cones, ...d1!.cones]) expect(c.tail!.features.pop).toBe(0);
    expect(estimateHardware(g, { arch: 'parallel', family: 'generic', dsp: false }).layers.every((l) => l.cones.length === 0)).toBe(true);
  });
});
