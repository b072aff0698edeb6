/**
 * From counts to cells: logic cells are a linear function of the features (coefficients fitted to
 * Yosys by the calibration script), flip-flops are the register bits plus, where the synthesis flow
 * builds memories from registers (generic `synth`), the memory bits.
 */
import { FEATURE_NAMES, addFeatures, emptyFeatures, tableLuts, type Cone, type FeatureName, type Features } from './features.js';

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

/**
 * The small cones (see `Cone`) cheaper as tables than as their adders under `model`: their features
 * (to take out of the layer's) and the LUTs of their tables. Technology mapping (ABC) collapses a
 * function of a few inputs into LUTs whatever its adder structure, so such a cone never costs more
 * than its table.
 */
export function tabledCones(model: FamilyModel, cones: readonly Cone[]): { features: Features; luts: number } {
  const features = emptyFeatures();
  let luts = 0;
  for (const c of cones) {
    const whole = logicCells(model, c.features);
    const table = tableLuts(c.support, c.bits);
    // Or only the tail after the inner value as a table of the value's bits.
    const tailTable = c.tail === undefined ? Infinity : tableLuts(c.tail.support, c.bits);
    const tail = c.tail === undefined ? Infinity : whole - logicCells(model, c.tail.features) + tailTable;
    if (table < whole && table <= tail) {
      addFeatures(features, c.features, c.count);
      luts += table * c.count;
    } else if (tail < whole) {
      addFeatures(features, c.tail!.features, c.count);
      luts += tailTable * c.count;
    }
  }
  return { features, luts };
}

/** Logic cells of a part with features `f` of which `cones` are small cones (xilinx: cheaper as tables). */
export function partCells(model: FamilyModel, f: Features, cones: readonly Cone[]): number {
  if (cones.length === 0) return logicCells(model, f);
  const t = tabledCones(model, cones);
  const rest = { ...f };
  addFeatures(rest, t.features, -1);
  return logicCells(model, rest) + t.luts;
}
