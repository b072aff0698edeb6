/**
 * The estimator's FIRST independent hold-out set, now consumed: measured once with the model frozen at
 * commit 711ca9d (`npm run calibrate -- --holdout`, stored in test/fixtures/estimator-holdout-1.json):
 * synth_xilinx -nodsp LUTs mean |error| 12.6%, median 12.3%, max 44.0%, 4 of 13 designs beyond 15%
 * (ho_smlp_ter_9x5_in4_r3 -44.0, ho_mlp_xnor_14x7x4 -20.0, ho_mlp_ter_12x8x4_in6 +19.5,
 * ho_scnn_b4_8x8_same_r2 -15.1); generic synth mean 5.1%, max 20.0%. Having been seen, these designs are
 * training data of the calibration grid from then on; the next independent check is
 * test/ops/hw-cost-holdout.ts.
 *
 * As first written: designs specified (and committed) on 2026-11-26 before any
 * of them was synthesized and before the session's model changes, one or more per kind of the
 * calibration grid, weighted towards the kinds a previous fresh check found weak (streamed layers on
 * small weight ROMs at reuse > 1, 16-bit-input convolutions on line buffers, ternary adder trees).
 *
 * Rules that keep it independent: these specs are never added to the fit, never edited after their
 * Yosys figures are seen, and model changes are frozen (committed) before they are measured. The
 * measured figures are stored in test/fixtures/estimator-holdout.json by `npm run calibrate -- --holdout`
 * and checked by test/ops/hw-cost.test.ts.
 */
import type { DesignSpec } from './hw-cost-grid.js';

const relu4 = { kind: 'relu', bits: 4, integer: 1 } as const;
const none = { kind: 'none' } as const;

export function holdoutSet1(): DesignSpec[] {
  return [
    {
      name: 'ho_mlp_b3_12x6x4_in6',
      arch: 'parallel',
      seed: 7001,
      input: { shape: [12], bits: 6, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'bits', bits: 3 }, act: { kind: 'bits', bits: 5, integer: 2 } },
        { kind: 'dense', units: 4, weights: { kind: 'bits', bits: 3 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_mlp_bin_10x8x3_in5',
      arch: 'parallel',
      seed: 7002,
      input: { shape: [10], bits: 5, integer: 1 },
      layers: [
        { kind: 'dense', units: 8, weights: { kind: 'binary' }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'binary' }, act: none },
      ],
    },
    {
      name: 'ho_mlp_xnor_14x7x4',
      arch: 'parallel',
      seed: 7003,
      input: { shape: [14], bits: 1, integer: 0, binary: true },
      layers: [
        { kind: 'dense', units: 7, weights: { kind: 'binary' }, act: { kind: 'binary' } },
        { kind: 'dense', units: 4, weights: { kind: 'binary' }, act: { kind: 'relu', bits: 4, integer: 2 } },
      ],
    },
    {
      name: 'ho_mlp_ter_12x8x4_in6',
      arch: 'parallel',
      seed: 7004,
      input: { shape: [12], bits: 6, integer: 2 },
      layers: [
        { kind: 'dense', units: 8, weights: { kind: 'ternary' }, act: { kind: 'ternary' } },
        { kind: 'dense', units: 4, weights: { kind: 'ternary' }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_wide_b6_12x8x4_in16',
      arch: 'parallel',
      seed: 7005,
      input: { shape: [12], bits: 16, integer: 6 },
      layers: [
        { kind: 'dense', units: 8, weights: { kind: 'bits', bits: 6 }, act: { kind: 'relu', bits: 6, integer: 0 } },
        { kind: 'dense', units: 4, weights: { kind: 'bits', bits: 6 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_cnn_b5_5x5',
      arch: 'parallel',
      seed: 7006,
      input: { shape: [5, 5, 1], bits: 4, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 2, kernel: 3, padding: 'valid', weights: { kind: 'bits', bits: 5 }, act: relu4 },
        { kind: 'flatten' },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_smlp_b4_12x6_in5_r2',
      arch: 'stream',
      reuse: 2,
      seed: 7007,
      input: { shape: [12], bits: 5, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'bits', bits: 4 }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_smlp_b6_16x6_in6_r4',
      arch: 'stream',
      reuse: 4,
      seed: 7008,
      input: { shape: [16], bits: 6, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'bits', bits: 6 }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 6 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_smlp_ter_9x5_in4_r3',
      arch: 'stream',
      reuse: 3,
      seed: 7009,
      input: { shape: [9], bits: 4, integer: 1 },
      layers: [
        { kind: 'dense', units: 5, weights: { kind: 'ternary' }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'ternary' }, act: none },
      ],
    },
    {
      name: 'ho_smlp_po2_10x6_in6_r1',
      arch: 'stream',
      reuse: 1,
      seed: 7010,
      input: { shape: [10], bits: 6, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'po2' }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'po2' }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_scnn_b4_8x8_same_r2',
      arch: 'stream',
      reuse: 2,
      seed: 7011,
      input: { shape: [8, 8, 1], bits: 6, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 3, kernel: 3, padding: 'same', weights: { kind: 'bits', bits: 4 }, act: relu4 },
        { kind: 'maxpool', pool: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_scnn_b4_10x10_in16_r1',
      arch: 'stream',
      reuse: 1,
      seed: 7012,
      input: { shape: [10, 10, 1], bits: 16, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 4, kernel: 3, padding: 'valid', weights: { kind: 'bits', bits: 4 }, act: { kind: 'relu', bits: 3, integer: 1 } },
        { kind: 'maxpool', pool: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 4, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho_sdense_b4_20x20x6x10_in3_r1',
      arch: 'stream',
      reuse: 1,
      seed: 7013,
      input: { shape: [20, 20, 6], bits: 3, integer: 1 },
      layers: [{ kind: 'flatten' }, { kind: 'dense', units: 10, weights: { kind: 'bits', bits: 4 }, act: none }],
    },
  ];
}
