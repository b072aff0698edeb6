/**
 * From counts to cells: logic cells are a linear function of the features (coefficients fitted to
 * Yosys by the calibration script), flip-flops are the register bits plus, where the synthesis flow
 * builds memories from registers (generic `synth`), the memory bits.
 */
import { FEATURE_NAMES, type FeatureName, type Features } from './features.js';

/** Estimation targets: Yosys `synth_xilinx` (LUT6 counts) and generic `synth` (gate cells). */
export type CostFamily = 'xilinx' | 'generic';
export const COST_FAMILIES: readonly CostFamily[] = ['xilinx', 'generic'];

export interface FamilyModel {
  /** Logic cells per unit of each feature. */
  readonly logic: Readonly<Record<FeatureName, number>>;
  /** Flip-flops per memory bit (1 where memories are built from registers, 0 where they are LUT RAM). */
  readonly memFlipFlops: number;
}

export interface CostModel {
  /** The Yosys version the coefficients were fitted with, and when. */
  readonly yosys: string;
  readonly date: string;
  readonly families: Readonly<Record<CostFamily, FamilyModel>>;
}

/** Logic cells of a feature vector (unrounded). */
export function logicCells(model: FamilyModel, f: Features): number {
  let s = 0;
  for (const k of FEATURE_NAMES) s += model.logic[k] * f[k];
  return s;
}
