/**
 * QTools's energy estimate (QKeras `qtools/qenergy/qenergy.py`), in pJ: per layer the energy to read
 * its inputs and parameters from memory, to write its outputs, and of its operations (gate energy from
 * the Horowitz per-bit tables times the operation count).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { pyFormatFloat } from '../utils/py-format.js';
import { inputShapes, type Shape } from '../utils/model-graph.js';
import type { LayerDataType, LayerMap } from './data-type-map.js';
import type { ImplementedAs, QtOperation } from './operators.js';
import type { QtQuantizer } from './quantizer-impl.js';
import { evalPoly, type EnergyTerm, type QToolsSettings } from './settings.js';

export type MemoryKind = 'dram' | 'sram' | 'fixed';

export interface PeOptions {
  /** Where weights live (QKeras default `dram`). */
  readonly weightsOnMemory?: MemoryKind;
  /** Where activations live (default `dram`). */
  readonly activationsOnMemory?: MemoryKind;
  /** Smallest SRAM size in bits the SRAM energy is evaluated for (default 0). */
  readonly minSramSize?: number;
  /** Model inputs come from and outputs go to DRAM through SRAM (default true). */
  readonly rdWrOnIo?: boolean;
}

export interface LayerEnergy {
  readonly class_name: string;
  /** Each term rounded to 2 decimals, as QKeras reports them. */
  readonly energy: Readonly<Record<EnergyTerm, number>>;
}

export interface EnergyEstimate {
  readonly layers: Readonly<Record<string, LayerEnergy>>;
  /** `int()` of the unrounded sum of every term of every layer (QKeras's `total_cost`). */
  readonly total_cost: number;
}

type GateKind = ImplementedAs | 'or';

/** QKeras's `OP` table, bound to one settings object; every cost is clamped at 0. */
class OpTable {
  constructor(private readonly s: QToolsSettings) {}

  /** `fp<bits>` for float results, else `fpm`. */
  opType(q: QtQuantizer): string {
    return q.isFloatingPoint ? `fp${q.bits}` : 'fpm';
  }

  cost(type: string, kind: GateKind, bits: number): number {
    const s = this.s;
    let poly;
    if (type === 'fpm') poly = kind === 'mul' ? s.fpmMul : s.fpmAdd;
    else if (type === 'fp32' && (kind === 'add' || kind === 'mul')) poly = kind === 'add' ? s.fp32Add : s.fp32Mul;
    else if (type === 'fp16' && (kind === 'add' || kind === 'mul')) poly = kind === 'add' ? s.fp16Add : s.fp16Mul;
    else throw new ConfigError('qtools energy', 'operation', `${type} ${kind}`, 'fpm (any gate), fp32 or fp16 (add, mul)');
    return Math.max(evalPoly(poly, bits), 0);
  }

  gate(op: QtOperation): number {
    return op.gateFactor * this.cost(this.opType(op.output), op.implementedAs, op.gateBits);
  }

  sram(log2Bits: number): number {
    return Math.max(evalPoly(this.s.sramRd, log2Bits), 0);
  }

  dram(bits: number): number {
    return Math.max(evalPoly(this.s.dramRd, bits), 0);
  }
}

function prodShape(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

interface MemoryArgs {
  readonly mode: MemoryKind;
  readonly minSramSize: number;
  readonly rdWrOnIo: boolean;
}

/** Energy to bring `elements` values of `bits` bits in (QKeras `memory_read_energy`). */
function readEnergy(t: OpTable, s: QToolsSettings, atIo: boolean, elements: number, bits: number, m: MemoryArgs): number {
  const mode = atIo ? (m.rdWrOnIo ? 'dram' : 'sram') : m.mode;
  const totalBits = elements * bits;
  const log2 = Math.log2(Math.max(totalBits, m.minSramSize));
  const sramAccess = (): number => Math.ceil(totalBits * s.sramMulFactor) * t.sram(log2);
  if (mode === 'dram') return t.dram(totalBits) + (m.rdWrOnIo ? sramAccess() : 0);
  if (mode === 'sram') return sramAccess();
  return 0;
}

/** Energy to take `elements` values out (QKeras `memory_write_energy`). */
function writeEnergy(t: OpTable, s: QToolsSettings, atIo: boolean, elements: number, bits: number, m: MemoryArgs): number {
  const mode = atIo ? (m.rdWrOnIo ? 'dram' : 'sram') : m.mode;
  const totalBits = elements * bits;
  const log2 = Math.log2(Math.max(totalBits, m.minSramSize));
  const sramAccess = (): number => Math.ceil(totalBits * s.sramMulFactor) * t.sram(log2);
  if (mode === 'dram') return (m.rdWrOnIo ? sramAccess() : 0) + t.dram(totalBits);
  if (mode === 'sram') return sramAccess();
  return 0;
}

const MAC_LAYERS = ['QConv2D', 'QConv1D', 'QDepthwiseConv2D', 'QDense', 'Conv2D', 'Conv1D', 'DepthwiseConv2D', 'Dense'];
const PARAMETER_LAYERS = ['QDense', 'QConv1D', 'QConv2D', 'QDepthwiseConv2D', 'QConv2DTranspose', 'Dense', 'Conv1D', 'Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose'];
const POOLING = ['AveragePooling2D', 'AvgPool2D', 'GlobalAvgPool2D', 'GlobalAveragePooling2D'];

function parameterEnergy(t: OpTable, s: QToolsSettings, f: LayerDataType, m: MemoryArgs): number {
  const cls = f.layer.getClassName();
  if (cls === 'QBatchNormalization' || cls === 'BatchNormalization') {
    const channels = f.layer.weights[0]?.shape[0] ?? 0;
    let e = 0;
    for (const q of [f.gammaQuantizer, f.betaQuantizer, f.meanQuantizer, f.varianceQuantizer]) {
      if (q) e += readEnergy(t, s, false, channels, q.bits, m);
    }
    return e;
  }
  if (PARAMETER_LAYERS.includes(cls) && f.weightQuantizer) {
    let e = readEnergy(t, s, false, prodShape(f.wShapes ?? []), f.weightQuantizer.bits, m);
    if (f.biasQuantizer) e += readEnergy(t, s, false, f.bShapes ?? 0, f.biasQuantizer.bits, m);
    return e;
  }
  return 0;
}

/**
 * QKeras's operation energy. Two deliberate differences: Keras average pooling is charged with its sum
 * accumulator (QKeras looks up an `accumulator` key that pooling entries do not have and fails), and a
 * fused batch normalisation, whose work is in the convolution before it, costs 0 here (QKeras fails).
 */
function operationEnergy(t: OpTable, f: LayerDataType): number {
  const cls = f.layer.getClassName();
  if (cls === 'QActivation' || cls === 'QAdaptiveActivation' || cls === 'Activation') return 0;
  if (cls === 'QBatchNormalization' || cls === 'BatchNormalization') {
    let e = 0;
    if (f.internalDivideQuantizer) e += t.gate(f.internalDivideQuantizer);
    if (f.internalMultiplier) e += t.gate(f.internalMultiplier);
    return e * f.operationCount;
  }
  if (cls === 'Add' || cls === 'Multiply' || cls === 'Subtract') {
    const merge = f.multiplier!;
    return (f.inputQuantizerList.length - 1) * f.operationCount * t.gate(merge);
  }
  if (POOLING.includes(cls) && f.poolSumAccumulator) {
    const acc = f.poolSumAccumulator.output;
    return f.operationCount * t.cost(t.opType(acc), 'add', acc.bits);
  }
  if (MAC_LAYERS.includes(cls) && f.multiplier && f.accumulator) {
    const acc = f.accumulator.output;
    return f.operationCount * (t.gate(f.multiplier) + t.cost(t.opType(acc), 'add', acc.bits));
  }
  return 0;
}

/** `float("{0:.2f}".format(v))`. */
function round2(v: number): number {
  return Number(pyFormatFloat(v, { precision: 2 }));
}

/** QKeras `energy_estimate` (what `QTools.pe` returns), for the layers of `model` in its own order. */
export function energyEstimate(model: tf.LayersModel, layerMap: LayerMap, settings: QToolsSettings, options: PeOptions = {}): EnergyEstimate {
  const weightsOnMemory = options.weightsOnMemory ?? 'dram';
  const activationsOnMemory = options.activationsOnMemory ?? 'dram';
  for (const [field, v] of [['weightsOnMemory', weightsOnMemory], ['activationsOnMemory', activationsOnMemory]] as const) {
    if (!['dram', 'sram', 'fixed'].includes(v)) throw new ConfigError('qtools pe', field, v, "'dram', 'sram' or 'fixed'");
  }
  const minSramSize = options.minSramSize ?? 0;
  const rdWrOnIo = options.rdWrOnIo ?? true;
  const t = new OpTable(settings);
  const act: MemoryArgs = { mode: activationsOnMemory, minSramSize, rdWrOnIo };
  const par: MemoryArgs = { mode: weightsOnMemory, minSramSize, rdWrOnIo };
  const layers: Record<string, LayerEnergy> = {};
  let total = 0;
  for (const layer of model.layers) {
    const f = layerMap.layerDataTypeMap.get(layer);
    if (f === undefined) continue;
    const isInput = layerMap.inputLayers.includes(layer);
    const isOutput = layerMap.outputLayers.includes(layer);
    const shapes: Shape[] = inputShapes(layer);
    let inputs = 0;
    shapes.forEach((shape, i) => {
      const q = f.inputQuantizerList[i];
      if (q !== undefined) inputs += readEnergy(t, settings, isInput, prodShape(shape.slice(1)), q.bits, act);
    });
    const outputs = writeEnergy(t, settings, isOutput, prodShape((f.outputShapes ?? []).slice(1)), f.outputQuantizer.bits, act);
    const parameters = parameterEnergy(t, settings, f, par);
    const opCost = operationEnergy(t, f);
    layers[layer.name] = {
      class_name: layer.getClassName(),
      energy: { inputs: round2(inputs), outputs: round2(outputs), parameters: round2(parameters), op_cost: round2(opCost) },
    };
    total += inputs + outputs + parameters + opCost;
  }
  return { layers, total_cost: Math.trunc(total) };
}

/**
 * QKeras `extract_energy_sum`: per layer the terms its class counts (`includeEnergy[class]`, else
 * `default`), of the rounded values, summed over layers and truncated to an int.
 */
export function extractEnergySum(includeEnergy: Readonly<Record<string, readonly EnergyTerm[]>>, energy: EnergyEstimate): number {
  let value = 0;
  for (const l of Object.values(energy.layers)) {
    const keys = includeEnergy[l.class_name] ?? includeEnergy['default'] ?? [];
    for (const k of keys) value += l.energy[k];
  }
  return Math.trunc(value);
}

/** QKeras `extract_energy_profile`: each layer's terms and the total of the terms its class counts. */
export function extractEnergyProfile(
  includeEnergy: Readonly<Record<string, readonly EnergyTerm[]>>,
  energy: EnergyEstimate,
): Record<string, { energy: Readonly<Record<EnergyTerm, number>>; total: number }> {
  const out: Record<string, { energy: Readonly<Record<EnergyTerm, number>>; total: number }> = {};
  for (const [name, l] of Object.entries(energy.layers)) {
    const keys = includeEnergy[l.class_name] ?? includeEnergy['default'] ?? [];
    out[name] = { energy: l.energy, total: keys.reduce((a, k) => a + l.energy[k], 0) };
  }
  return out;
}
