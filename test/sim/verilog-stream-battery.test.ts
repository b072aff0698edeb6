/**
 * A subset of the lowering battery through the Verilog back-end (the whole battery, 38 models in both
 * architectures, is `npm run verify:verilog-battery`): by default two representative models — a
 * depthwise/separable CNN with global average pooling, streamed, and a folded batch-norm CNN, fully
 * parallel — each linted with `verilator --lint-only -Wall` and run in Verilator on 1,000 generated
 * inputs (rounding ties, saturating values) with random gaps and back-pressure, every output code equal
 * to the golden model's. Setting QKERAS_BATTERY_SEED picks two other battery models from that seed
 * (one per architecture), so CI can rotate through the battery while any failure stays reproducible.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import type { VerilogArch } from '../../src/codegen/verilog-manifest.js';
import { VERILATOR, findOptionalTool } from '../../src/sim/tools.js';
import { rng } from '../lower/zoo.js';
import { batteryEntries, batteryModel, verifyBatteryArch, type BatteryEntry } from './verilog-battery.js';

const verilator = findOptionalTool(VERILATOR);
const SKIP = verilator === null ? ' (skipped: Verilator not installed)' : '';
const SEED = process.env['QKERAS_BATTERY_SEED'];

function picks(): { entry: BatteryEntry; arch: VerilogArch }[] {
  const untrained = batteryEntries().filter((e) => !e.trained);
  if (SEED === undefined) {
    const find = (recipe: string, seed: number): BatteryEntry => untrained.find((e) => e.recipe === recipe && e.seed === seed)!;
    return [
      { entry: find('separable', 2), arch: 'stream' },
      { entry: find('batchnorm', 3), arch: 'parallel' },
    ];
  }
  const r = rng(Number(SEED));
  return (['stream', 'parallel'] as const).map((arch) => ({ entry: untrained[Math.floor(r() * untrained.length)]!, arch }));
}

beforeAll(async () => {
  await ready();
});

describe.skipIf(verilator === null)(`lowering battery models in Verilog${SEED === undefined ? '' : ` (QKERAS_BATTERY_SEED=${SEED})`}${SKIP}`, () => {
  for (const { entry, arch } of picks()) {
    it(`${entry.recipe} #${entry.seed}, ${arch}: lints clean, 1,000 inputs with back-pressure equal the golden model`, async () => {
      const m = await batteryModel(entry);
      const r = await verifyBatteryArch(m, arch, { perKind: 500, seed: entry.seed });
      expect(r.skipped).toBeNull();
      expect(r.error).toBeNull();
      expect(r.lintMessages).toBe('');
      expect(r.lintClean).toBe(true);
      expect(r.inputs).toBe(1000);
      expect(r.firstMismatch).toBeNull();
      expect(r.mismatches).toBe(0);
      if (arch === 'parallel') expect(r.interval).toBe(1);
    }, 600_000);
  }
});
