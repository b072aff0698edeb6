/**
 * A streamed average pool's multiplier by the factor of its cell count (`qk_window_avg`): only the
 * factor bits that are one for some count make partial-product rows, and only the bits that differ
 * between counts are table logic. A valid 2 x 2 pool has factors 0 (counts that never occur) and 4:
 * one row of AND gates, no adder cells, a one-bit table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { estimateHardware } from '../../src/ops/hw-cost/index.js';
import { buildDesign, calibrationGrid } from './hw-cost-grid.js';

beforeAll(async () => {
  await ready();
});

describe('streamed average pool: the factor multiplier', () => {
  it('a power-of-two factor makes no adder cells and a one-bit table', () => {
    const spec = calibrationGrid().find((s) => s.name === 'scnn_avg_r1')!;
    const est = estimateHardware(buildDesign(spec), { arch: 'stream', reuse: 1, family: 'generic', dsp: false });
    const pool = est.layers.find((l) => l.name.startsWith('avgpool'))!;
    expect(pool.features.mulpp).toBe(0);
    expect(pool.features.rom).toBe(1);
  });
});
