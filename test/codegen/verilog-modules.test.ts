/**
 * The hand-written Verilog modules: every file lints clean under `verilator --lint-only -Wall` as
 * Verilog-2005, across parameter sets that reach each generate branch; and the pure helpers the
 * generator relies on (non-adjacent form, literals, packing, the manifest's word layout).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handWrittenModules } from '../../src/codegen/verilog-templates.js';
import { nafDigits } from '../../src/codegen/verilog-datapath.js';
import { fromBits, packBits, toBits, unpackBits, vlit, vpack } from '../../src/codegen/verilog-format.js';
import { decodeRun, encodeSample, type VerilogManifest } from '../../src/codegen/verilog-manifest.js';
import { VERILATOR, findOptionalTool, runTool } from '../../src/sim/tools.js';
import { LINT_FLAGS } from '../../src/sim/verilator-runner.js';

const verilator = findOptionalTool(VERILATOR);

/** Parameter sets per module (beyond the defaults) that reach its other generate branches. */
const PARAMETER_SETS: Readonly<Record<string, readonly string[][]>> = {
  qk_adder_tree: [[], ['-GN=1'], ['-GN=7', '-GW=3']],
  qk_argmax: [[], ['-GN=1', '-GOUT_W=1'], ['-GN=9', '-GOUT_W=4', '-GSIGNED=0']],
  qk_const_matvec: [[], ['-GNI=3', '-GNO=2', '-GT=3', '-GIB=2', '-GTB=2', '-GIN_W=20', '-GW=8']],
  qk_delay: [[], ['-GD=0'], ['-GD=3', '-GW=5', '-GRESET=1']],
  qk_extend: [[], ['-GOUT_W=4'], ['-GIN_SIGNED=0', '-GOUT_W=8']],
  qk_extend_vec: [[], ['-GN=3', '-GOUT_W=4'], ['-GN=200', '-GIN_SIGNED=0', '-GIN_W=3']],
  qk_lut_vec: [[], ['-GN=3', '-GIN_SIGNED=0']],
  qk_max_gather: [[], ['-GNO=2', '-GSIGNED=0']],
  qk_pm_bits: [[], ['-GN=5'], ['-GN=300']],
  qk_requant_vec: [
    [],
    ['-GN=3', '-GSHIFT=0', '-GLO_EN=1', '-GHI_EN=1'],
    ['-GN=2', '-GSHIFT=-3', '-GOUT_W=20', '-GIN_SIGNED=0'],
    ['-GSHIFT=9', '-GOUT_W=3', '-GNEG_EN=1', '-GNEG_SHIFT=11', '-GLO_EN=1', '-GEVEN=0'],
  ],
  qk_sign_vec: [[], ['-GN=3', '-GZERO_ONE=1', '-GIN_SIGNED=0']],
  qk_stream_fork: [[], ['-GM=3', '-GW=1']],
  qk_stream_fifo: [[], ['-GDEPTH=1'], ['-GDEPTH=5', '-GW=1'], ['-GDEPTH=16']],
  qk_stream_gap: [[], ['-GK=1', '-GC=3']],
  qk_stream_join: [[], ['-GM=1'], ['-GM=4']],
  qk_stream_mac: [[], ['-GR=3', '-GS=2', '-GK=5', '-GAW=4'], ['-GR=2', '-GS=2', '-GN=4', '-GIN_SIGNED=0']],
  qk_stream_merge: [[], ['-GM=3', '-GTW=2']],
  qk_stream_reg: [[], ['-GW=1']],
  qk_stream_window: [[], ['-GH=1', '-GKH=1', '-GW=7', '-GKW=3', '-GPL=2', '-GOH=1', '-GOW=7'], ['-GW=1', '-GKW=1', '-GOW=1', '-GSH=2', '-GOH=1']],
  qk_ternary_vec: [[], ['-GN=4', '-GIN_SIGNED=0']],
  qk_thresholds_vec: [[], ['-GN=2', '-GNT=3']],
  qk_window_avg: [[], ['-GFW=20', '-GSIGNED=0']],
  qk_window_max: [[], ['-GC=3', '-GSIGNED=0']],
  qk_xnor_matvec: [[], ['-GNO=3', '-GNI=5']],
};

describe('hand-written modules', () => {
  const modules = handWrittenModules();

  it('every module has parameter sets listed here (so none escapes linting)', () => {
    expect(modules.map((m) => m.name.replace(/\.v$/, '')).sort()).toEqual(Object.keys(PARAMETER_SETS).sort());
  });

  it('every module is one module named like its file, Verilog-2005 with default_nettype none', () => {
    for (const m of modules) {
      const name = m.name.replace(/\.v$/, '');
      expect(m.text.match(/^module\s+(\w+)/gm)).toEqual([`module ${name}`]);
      expect(m.text).toContain('`default_nettype none');
      // No SystemVerilog-only constructs in the synthesizable code.
      expect(m.text).not.toMatch(/\b(logic|always_ff|always_comb|always_latch|interface|typedef|unique|priority)\b|'0|'1/);
    }
  });

  describe.skipIf(verilator === null)(`verilator --lint-only -Wall${verilator === null ? ' (skipped: Verilator not installed)' : ''}`, () => {
    for (const [name, sets] of Object.entries(PARAMETER_SETS)) {
      it(`${name} lints clean`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'qk-lint-'));
        try {
          for (const m of modules) writeFileSync(join(dir, m.name), m.text);
          for (const params of sets) {
            const r = await runTool(verilator!, [...LINT_FLAGS, '--top-module', name, ...params, ...modules.map((m) => m.name)], {
              cwd: dir,
              allowFailure: true,
            });
            expect(`${params.join(' ')}\n${r.stderr}`.trim()).toBe(params.join(' '));
            expect(r.code).toBe(0);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
});

describe('non-adjacent form', () => {
  it('reconstructs every weight up to ±2048 with no two adjacent digits and no more digits than binary', () => {
    for (let w = -2048; w <= 2048; w += 1) {
      const digits = nafDigits(BigInt(w));
      const value = digits.reduce((s, d) => s + (d.neg ? -1 : 1) * 2 ** d.shift, 0);
      expect(value).toBe(w);
      const shifts = digits.map((d) => d.shift).sort((a, b) => a - b);
      for (let i = 1; i < shifts.length; i += 1) expect(shifts[i]! - shifts[i - 1]!).toBeGreaterThanOrEqual(2);
      expect(digits.length).toBeLessThanOrEqual(Math.abs(w).toString(2).replace(/0/g, '').length);
    }
  });

  it('makes a power of two a single digit (a wire) and zero no digit', () => {
    expect(nafDigits(0n)).toEqual([]);
    expect(nafDigits(64n)).toEqual([{ shift: 6, neg: false }]);
    expect(nafDigits(-8n)).toEqual([{ shift: 3, neg: true }]);
    expect(nafDigits(7n)).toEqual([
      { shift: 0, neg: true },
      { shift: 3, neg: false },
    ]);
  });
});

describe('literals and packing', () => {
  it('writes two\'s complement literals of the stated width', () => {
    expect(vlit(-1, 4)).toBe("4'hf");
    expect(vlit(5, 8)).toBe("8'h5");
    expect(vlit(-128, 8)).toBe("8'h80");
    expect(vpack([1, -1, 2], 4)).toBe("12'h2f1");
    expect(toBits(-3n, 3)).toBe(5n);
    expect(fromBits(5n, 3, true)).toBe(-3n);
    expect(fromBits(5n, 3, false)).toBe(5n);
  });

  it('packs element 0 in the lowest bits and unpacks every code back', () => {
    const codes = [-8, 7, 0, -1, 3, -5];
    const bus = packBits(codes, 4);
    expect(unpackBits(bus, 0, codes.length, { width: 4, signed: true })).toEqual(codes);
  });

  it('lays samples onto port words as the manifest says, and reads tagged stream words back', () => {
    const m = {
      ports: {
        kind: 'stream',
        inWidth: 8,
        outWidth: 7,
        tagWidth: 1,
        input: { node: 'x', layer: 'x', shape: [2, 2], type: 'fixed<s4,0>', width: 4, signed: true, count: 4, beats: 2, beatElems: 2 },
        outputs: [
          { node: 'a', layer: 'a', shape: [2], type: 'fixed<s3,0>', width: 3, signed: true, count: 2, beats: 1, beatElems: 2 },
          { node: 'b', layer: 'b', shape: [], type: 'fixed<u1,0>', width: 1, signed: false, count: 1, beats: 1, beatElems: 1 },
        ],
      },
    } as unknown as VerilogManifest;
    expect(encodeSample(m, [[1, -2, 3, -4]])).toEqual([0xe1n, 0xc3n]);
    // Output b arrives first (tag 1), then a (tag 0): per-output order is all that matters.
    const words = [(1n << 6n) | 1n, packBits([-3, 2], 3)];
    expect(decodeRun(m, words, 1)).toEqual([[[-3, 2], [1]]]);
    expect(() => decodeRun(m, words.slice(1), 1)).toThrow(/output b: expected 1 words/);
  });
});
