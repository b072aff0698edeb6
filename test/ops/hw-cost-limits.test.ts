/**
 * The estimator refuses what the Verilog emitter refuses: a parallel design that unrolls more constant
 * multiplications than `maxParallelMacs` (default 65,536) gets the emitter's DesignTooLargeError, before
 * any costing; the stream architecture has no such limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { DesignTooLargeError, parallelMacs } from '../../src/codegen/verilog-size.js';
import { generateVerilog } from '../../src/codegen/verilog.js';
import { estimateHardware } from '../../src/ops/hw-cost/index.js';
import { ConfigError } from '../../src/errors.js';
import { buildDesign, calibrationGrid } from './hw-cost-grid.js';

beforeAll(async () => {
  await ready();
});

describe('estimateHardware: the parallel size limit', () => {
  const spec = calibrationGrid().find((d) => d.name === 'mlp_b4_12x6_in4')!;
  const g = buildDesign(spec);
  const macs = parallelMacs(g).reduce((a, l) => a + l.macs, 0);

  it('refuses a parallel design over the limit with the emitter\'s error, and accepts it at the limit', () => {
    expect(macs).toBeGreaterThan(10);
    const estimate = (): unknown => estimateHardware(g, { arch: 'parallel', maxParallelMacs: macs - 1 });
    const emit = (): unknown => generateVerilog(g, { arch: 'parallel', maxParallelMacs: macs - 1 });
    expect(estimate).toThrow(DesignTooLargeError);
    expect(estimate).toThrow(new RegExp(`would unroll ${macs.toLocaleString('en-US')} constant multiplications`));
    expect(emit).toThrow(DesignTooLargeError);
    expect(estimateHardware(g, { arch: 'parallel', maxParallelMacs: macs }).total.luts).toBeGreaterThan(0);
    expect(estimateHardware(g, { arch: 'parallel', maxParallelMacs: Infinity }).total.luts).toBeGreaterThan(0);
  });

  it('applies to the parallel architecture only, and checks the option', () => {
    expect(estimateHardware(g, { arch: 'stream', maxParallelMacs: 1 }).total.luts).toBeGreaterThan(0);
    expect(() => estimateHardware(g, { arch: 'parallel', maxParallelMacs: -1 })).toThrow(ConfigError);
    expect(() => estimateHardware(g, { arch: 'parallel', maxParallelMacs: Number.NaN })).toThrow(/maxParallelMacs/);
  });
});
