/**
 * The per-layer table of the report: one row per Keras layer joining what each analysis knows about it —
 * shapes and quantizers from the model, QKeras's op classification and weight profile, the IR nodes it
 * became (types and exact accumulators), the QTools energy, the C back-end's memory, Yosys's cells and the
 * estimator's figures — plus the totals over the model.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CReport } from '../codegen/c.js';
import type { Graph } from '../ir/graph.js';
import { isAccumulating, type Node } from '../ir/nodes.js';
import { formatType } from '../ir/type-text.js';
import type { LayerOperations, ModelOperations, QuantModeTuple } from '../ops/estimate.js';
import type { SynthCounts, SynthReport } from '../sim/yosys.js';
import { QLayer } from '../layers/q-layer-base.js';
import { allLayers, inputShapes, outputShape } from '../utils/model-graph.js';
import type { IrNodeData, LayerOpsData, LayerRow, ReportEstimates, ReportTotals, SynthCountsData } from './types.js';

/** What the rows are joined from; every part but the model is optional. */
export interface LayerSources {
  readonly model: tf.LayersModel;
  readonly inputQuantizer: string | null;
  readonly ops: ModelOperations | null;
  /** QTools energy per layer name (pJ) and the model total. */
  readonly energy: { readonly layers: Readonly<Record<string, number>>; readonly total: number } | null;
  readonly graph: Graph | null;
  readonly c: CReport | null;
  readonly synth: SynthReport | null;
  readonly estimates: ReportEstimates | null;
}

/** The quantizers of a layer by slot, as QKeras strings. */
function layerQuantizers(layer: tf.layers.Layer, inputQuantizer: string | null): Record<string, string> {
  if (layer instanceof QLayer) {
    // get_quantization_config also lists sizes (filters, units); keep the quantizers and activation.
    const config = Object.entries(layer.getQuantizationConfig()).filter(([k, v]) => /(quantizer|activation)$/.test(k) && v !== 'None' && v !== 'linear');
    return Object.fromEntries(config);
  }
  const cls = layer.getClassName();
  if (cls === 'InputLayer') return inputQuantizer === null ? {} : { input_quantizer: inputQuantizer };
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof activation === 'string' && activation !== 'linear' ? { activation } : {};
}

function opsData(l: LayerOperations): LayerOpsData {
  return { opName: l.opName, op: l.type[0], weightBits: l.type[2][0], inputBits: l.type[2][1], count: l.numberOfOperations };
}

/** Bits of the layer's weights and biases at their quantized widths, as print_qstats's weight profile. */
function weightBits(l: LayerOperations): number {
  const counts = Array.isArray(l.numberOfWeights) ? (l.numberOfWeights as readonly number[]) : [l.numberOfWeights as number];
  const types = Array.isArray(l.typeOfWeights[0]) ? (l.typeOfWeights as readonly QuantModeTuple[]) : [l.typeOfWeights as QuantModeTuple];
  const weights = counts.reduce((s, n, i) => s + n * (types[i]?.[1] ?? 0), 0);
  return weights + l.numberOfBias * l.typeOfBias[1];
}

/** The QKeras string of the quantizer a node applies (fused, standalone or the input's), if any. */
function requantOf(n: Node): string | null {
  if (n.kind === 'input') return n.quant.quantizer;
  if (n.kind === 'requantize') return n.requant.quantizer;
  return isAccumulating(n) ? n.requant?.quantizer ?? null : null;
}

function irNodes(graph: Graph, layer: string): IrNodeData[] {
  return graph.nodes
    .filter((n) => n.origin.layer === layer)
    .map((n) => ({
      id: n.id,
      kind: n.kind,
      type: n.type === null ? null : formatType(n.type),
      acc: isAccumulating(n) && n.acc !== null ? formatType(n.acc) : null,
      requant: requantOf(n),
    }));
}

function countsData(c: SynthCounts): SynthCountsData {
  return { cells: c.cells, luts: c.luts, ffs: c.ffs, dsps: c.dsps, carry: c.carry };
}

function addCounts(a: SynthCountsData | null, b: SynthCountsData): SynthCountsData {
  if (a === null) return b;
  return { cells: a.cells + b.cells, luts: a.luts + b.luts, ffs: a.ffs + b.ffs, dsps: a.dsps + b.dsps, carry: a.carry + b.carry };
}

/** One row per layer of the model (the hidden InputLayer of a Sequential model included). */
export function layerRows(src: LayerSources): LayerRow[] {
  const yosysByLayer = new Map<string, SynthCountsData>();
  for (const l of src.synth?.layers ?? []) yosysByLayer.set(l.layer, addCounts(yosysByLayer.get(l.layer) ?? null, countsData(l.counts)));
  const cByLayer = new Map<string, { romBytes: number; ramBytes: number }>();
  for (const l of src.c?.layers ?? []) {
    const prev = cByLayer.get(l.layer) ?? { romBytes: 0, ramBytes: 0 };
    cByLayer.set(l.layer, { romBytes: prev.romBytes + l.romBytes, ramBytes: prev.ramBytes + l.ramBytes });
  }
  return allLayers(src.model).map((layer) => {
    const ops = src.ops?.layers[layer.name];
    return {
      name: layer.name,
      className: layer.getClassName(),
      inputShapes: inputShapes(layer),
      outputShape: outputShape(layer),
      quantizers: layerQuantizers(layer, src.inputQuantizer),
      params: layer.countParams(),
      ops: ops === undefined ? null : opsData(ops),
      weightBits: ops === undefined ? null : weightBits(ops),
      ir: src.graph === null ? null : irNodes(src.graph, layer.name),
      energyPj: src.energy?.layers[layer.name] ?? null,
      c: src.c === null ? null : cByLayer.get(layer.name) ?? null,
      yosys: src.synth === null ? null : yosysByLayer.get(layer.name) ?? null,
      estimate: src.estimates?.layers[layer.name] ?? null,
    };
  });
}

/** Totals over the rows and the whole-design figures of each analysis. */
export function reportTotals(src: LayerSources, rows: readonly LayerRow[]): ReportTotals {
  const ops: Record<string, number> = {};
  for (const r of rows) if (r.ops !== null) ops[r.ops.opName] = (ops[r.ops.opName] ?? 0) + r.ops.count;
  const bits = rows.filter((r) => r.weightBits !== null);
  return {
    ops,
    weightBits: bits.length === 0 ? null : bits.reduce((s, r) => s + r.weightBits!, 0),
    params: rows.reduce((s, r) => s + r.params, 0),
    energyPj: src.energy?.total ?? null,
    c: src.c === null ? null : { romBytes: src.c.romBytes, ramBytes: src.c.ramBytes, stackBytes: src.c.stackBytes },
    yosys: src.synth === null ? null : { ...countsData(src.synth.total), glue: countsData(src.synth.glue) },
    estimate: src.estimates?.total ?? null,
  };
}
