/**
 * QTools's settings (QKeras `qtools/settings.py` and `config_public.py`): the default source and
 * intermediate types and the energy tables, per-bit polynomials from Horowitz, "Computing's energy
 * problem" (ISSCC 2014, 45 nm), in pJ.
 *
 * QKeras keeps these in one process-wide object that every `QTools(...)` call updates; here each call
 * gets its own copy, so one analysis never changes the next.
 */

/** Polynomial coefficients, highest degree first (numpy `poly1d`). */
export type Poly = readonly number[];

export interface QToolsSettings {
  /** The type assumed for model inputs when no source quantizer is given. */
  readonly defaultSourceQuantizer: string;
  /** The type of values QTools cannot derive (unquantized weights, Keras activations, ...). */
  readonly defaultIntermQuantizer: string;
  readonly fpmAdd: Poly;
  readonly fpmMul: Poly;
  readonly fp16Add: Poly;
  readonly fp16Mul: Poly;
  readonly fp32Add: Poly;
  readonly fp32Mul: Poly;
  /** SRAM access of 64 bits, as a function of log2 of the SRAM size in bits. */
  readonly sramRd: Poly;
  /** DRAM access as a function of the number of bits. */
  readonly dramRd: Poly;
  readonly sramMulFactor: number;
  readonly dramMulFactor: number;
  /** Which energy terms count per layer class in `extractEnergySum` (`default` for the rest). */
  readonly includeEnergy: Readonly<Record<string, readonly EnergyTerm[]>>;
}

export type EnergyTerm = 'inputs' | 'outputs' | 'parameters' | 'op_cost';

const INCLUDE_ENERGY: Readonly<Record<string, readonly EnergyTerm[]>> = {
  default: ['inputs', 'parameters', 'op_cost'],
  QActivation: ['outputs'],
  QAdaptiveActivation: ['outputs'],
  // config_public also registers each Q class's rule under the name without the Q.
  AdaptiveActivation: ['outputs'],
  Activation: ['outputs'],
  QBatchNormalization: ['parameters'],
  BatchNormalization: ['parameters'],
  Add: ['op_cost'],
  Subtract: ['op_cost'],
  MaxPooling2D: ['op_cost'],
};

/** QKeras `settings.py` as it is before any `QTools(...)` call. */
export const BASE_SETTINGS: QToolsSettings = {
  defaultSourceQuantizer: 'quantized_bits(8, 0, 1)',
  defaultIntermQuantizer: 'fp32',
  fpmAdd: [0.003125, 0],
  fpmMul: [0.002994791667, 0.001041666667, 0],
  fp16Add: [0.4],
  fp16Mul: [1.1],
  fp32Add: [0.9],
  fp32Mul: [3.7],
  sramRd: [0.02455, -0.2656, 0.8661],
  dramRd: [20.3125, 0],
  sramMulFactor: 1 / 64,
  dramMulFactor: 1.0,
  includeEnergy: INCLUDE_ENERGY,
};

/** QKeras `config_public.py`: per-process tables (only `horowitz`), and the defaults QTools installs. */
const PROCESSES: Readonly<Record<string, Partial<QToolsSettings>>> = {
  horowitz: {
    fpmAdd: [0.003125, 0],
    fpmMul: [0.002994791667, 0.001041666667, 0],
    fp16Add: [0.4],
    fp16Mul: [1.1],
    fp32Add: [0.9],
    fp32Mul: [3.7],
    sramRd: [9.02427321e-4, -2.68847858e-2, 2.08900804e-1, 0.0],
    dramRd: [20.3125, 0],
  },
};

/** The process names with their own tables. */
export function knownProcesses(): string[] {
  return Object.keys(PROCESSES);
}

/**
 * The settings a `QTools(model, process)` call uses: QKeras's base settings, the public defaults
 * (source and intermediate type `quantized_bits(8, 0, 1)`), and the process's tables when it has some
 * (an unknown process keeps the base tables, as in QKeras).
 */
export function settingsFor(process: string, overrides: Partial<QToolsSettings> = {}): QToolsSettings {
  return {
    ...BASE_SETTINGS,
    defaultSourceQuantizer: 'quantized_bits(8, 0, 1)',
    defaultIntermQuantizer: 'quantized_bits(8, 0, 1)',
    ...(PROCESSES[process] ?? {}),
    ...overrides,
  };
}

/** numpy `poly1d(coefficients)(x)`. */
export function evalPoly(p: Poly, x: number): number {
  let y = 0;
  for (const c of p) y = y * x + c;
  return y;
}
