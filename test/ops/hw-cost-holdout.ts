/**
 * The estimator's independent hold-out set (the second; the first, test/ops/hw-cost-holdout-1.ts, was
 * measured and so became training data): designs specified and committed on 2026-11-26 at 17:40 UTC,
 * before any of them was synthesized and before the model changes that followed the first set's
 * measurement. Weighted towards the kinds the first set found weak (streamed ternary and int layers on
 * small weight ROMs at reuse 2 to 4, parallel ternary and XNOR layers, streamed convolutions on ROMs).
 *
 * Rules that keep it independent: these specs are never added to the fit, never edited after their
 * Yosys figures are seen, and model changes are frozen (committed) before they are measured. The
 * measured figures are stored in test/fixtures/estimator-holdout.json by `npm run calibrate -- --holdout`
 * and checked by test/ops/hw-cost.test.ts.
 */
import type { DesignSpec, WeightSpec } from './hw-cost-grid.js';

const relu4 = { kind: 'relu', bits: 4, integer: 1 } as const;
const none = { kind: 'none' } as const;
const ter = { kind: 'ternary' } as const;

/** A streamed dense chain: n inputs, h hidden units, 3 outputs, weights `w` from ROMs at `reuse`. */
function smlp(name: string, w: WeightSpec, n: number, h: number, bits: number, reuse: number, seed: number, argmax: boolean): DesignSpec {
  return {
    name,
    arch: 'stream',
    reuse,
    seed,
    input: { shape: [n], bits, integer: 1 },
    layers: [
      { kind: 'dense', units: h, weights: w, act: relu4 },
      { kind: 'dense', units: 3, weights: w, act: none },
      ...(argmax ? [{ kind: 'argmax' } as const] : []),
    ],
  };
}

export function holdoutDesigns(): DesignSpec[] {
  return [
    {
      name: 'ho2_mlp_ter_10x6x3_in5',
      arch: 'parallel',
      seed: 8001,
      input: { shape: [10], bits: 5, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: ter, act: { kind: 'relu', bits: 5, integer: 2 } },
        { kind: 'dense', units: 3, weights: ter, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho2_mlp_xnor_12x8x3',
      arch: 'parallel',
      seed: 8002,
      input: { shape: [12], bits: 1, integer: 0, binary: true },
      layers: [
        { kind: 'dense', units: 8, weights: { kind: 'binary' }, act: { kind: 'binary' } },
        { kind: 'dense', units: 3, weights: { kind: 'binary' }, act: { kind: 'relu', bits: 5, integer: 2 } },
      ],
    },
    {
      name: 'ho2_mlp_b4_9x7x3_in6',
      arch: 'parallel',
      seed: 8003,
      input: { shape: [9], bits: 6, integer: 2 },
      layers: [
        { kind: 'dense', units: 7, weights: { kind: 'bits', bits: 4 }, act: relu4 },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho2_mlp_po2_12x6x4_in5',
      arch: 'parallel',
      seed: 8004,
      input: { shape: [12], bits: 5, integer: 1 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'po2' }, act: { kind: 'bits', bits: 5, integer: 2 } },
        { kind: 'dense', units: 4, weights: { kind: 'po2' }, act: none },
      ],
    },
    {
      name: 'ho2_cnn_b4_6x6',
      arch: 'parallel',
      seed: 8005,
      input: { shape: [6, 6, 1], bits: 4, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 2, kernel: 3, padding: 'valid', weights: { kind: 'bits', bits: 4 }, act: relu4 },
        { kind: 'maxpool', pool: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    smlp('ho2_smlp_ter_12x6_in5_r4', ter, 12, 6, 5, 4, 8006, true),
    smlp('ho2_smlp_ter_8x6_in6_r2', ter, 8, 6, 6, 2, 8007, false),
    smlp('ho2_smlp_b5_10x6_in4_r3', { kind: 'bits', bits: 5 }, 10, 6, 4, 3, 8008, true),
    smlp('ho2_smlp_po2_8x5_in5_r2', { kind: 'po2' }, 8, 5, 5, 2, 8009, true),
    {
      name: 'ho2_scnn_b5_7x7_valid_r3',
      arch: 'stream',
      reuse: 3,
      seed: 8010,
      input: { shape: [7, 7, 1], bits: 6, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 3, kernel: 3, padding: 'valid', weights: { kind: 'bits', bits: 5 }, act: relu4 },
        { kind: 'maxpool', pool: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho2_scnn_ter_8x8_same_r1',
      arch: 'stream',
      reuse: 1,
      seed: 8011,
      input: { shape: [8, 8, 1], bits: 6, integer: 1 },
      layers: [
        { kind: 'conv2d', filters: 4, kernel: 3, padding: 'same', weights: ter, act: relu4 },
        { kind: 'maxpool', pool: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 3, weights: { kind: 'bits', bits: 4 }, act: none },
      ],
    },
    {
      name: 'ho2_wide_b5_10x6x4_in12',
      arch: 'parallel',
      seed: 8012,
      input: { shape: [10], bits: 12, integer: 4 },
      layers: [
        { kind: 'dense', units: 6, weights: { kind: 'bits', bits: 5 }, act: { kind: 'relu', bits: 6, integer: 0 } },
        { kind: 'dense', units: 4, weights: { kind: 'bits', bits: 5 }, act: none },
        { kind: 'argmax' },
      ],
    },
    {
      name: 'ho2_sdense_b3_16x16x8x8_in2u_r1',
      arch: 'stream',
      reuse: 1,
      seed: 8013,
      input: { shape: [16, 16, 8], bits: 2, integer: 2, unsigned: true },
      layers: [{ kind: 'flatten' }, { kind: 'dense', units: 8, weights: { kind: 'bits', bits: 3 }, act: none }],
    },
  ];
}
