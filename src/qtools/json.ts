/**
 * The data-type map as QKeras's `qtools/interface.py` `map_to_json` writes it: per layer the layer type,
 * input types, output type with its shape (batch -1), weight/bias types with shapes, multiplier and
 * accumulator types with the hardware that implements them (`op_type`), and the operation count.
 *
 * In this JSON, `int_bits` of fixed-point types **includes** the sign bit (QTools's internal values
 * exclude it). Signs are written as 0/1 (QKeras writes Python `True`/`False` where a quantizer's
 * `keep_negative` was a bool; the values are equal in Python).
 */
import type { Shape } from '../utils/model-graph.js';
import type { LayerDataType, LayerMap } from './data-type-map.js';
import { isMergeLayer } from './data-type-map.js';
import type { QtOperation } from './operators.js';
import type { QtQuantizer } from './quantizer-impl.js';

export interface QuantizerJson {
  quantizer_type: string;
  bits?: number;
  int_bits?: number;
  is_signed?: number;
  max_value?: number;
  values?: number[];
  shape?: number | (number | null)[];
  op_type?: string;
}

export type LayerJson = {
  layer_type: string;
  input_quantizer_list: QuantizerJson[];
  operation_count: number;
} & { [key: string]: QuantizerJson | QuantizerJson[] | string | number };

export type QToolsJson = { source_quantizers?: QuantizerJson[] } & { [layer: string]: LayerJson | QuantizerJson[] | undefined };

/** One type as QKeras's `populate_quantizer` writes it. */
export function quantizerJson(q: QtQuantizer, shape?: Shape | readonly number[] | number | null, opType?: string): QuantizerJson {
  const out: QuantizerJson = { quantizer_type: q.name };
  if (q.isFloatingPoint) {
    out.bits = q.bits;
  } else if (q.isPo2) {
    out.bits = q.bits;
    out.is_signed = q.isSigned;
    out.max_value = q.maxValPo2;
  } else if (q.mode === 3 || q.mode === 4) {
    out.bits = q.bits;
    out.int_bits = q.intBits;
    out.is_signed = q.isSigned;
    out.values = q.mode === 4 ? [0, 1] : [-1, 1];
  } else if (q.mode === 2) {
    out.bits = 2;
    out.int_bits = 2;
    out.is_signed = 1;
    out.values = [0, -1, 1];
  } else if (q.mode === 0) {
    out.bits = q.bits;
    out.int_bits = q.intBits + q.isSigned;
    out.is_signed = q.isSigned;
  }
  if (shape !== undefined && shape !== null) {
    // A leading unknown (batch) dimension is written as -1.
    out.shape = typeof shape === 'number' ? shape : shape.map((d, i) => (i === 0 && d === null ? -1 : d));
  }
  if (opType !== undefined) out.op_type = opType;
  return out;
}

function operationJson(op: QtOperation): QuantizerJson {
  return quantizerJson(op.output, undefined, op.implementedAs);
}

function layerJson(f: LayerDataType): LayerJson {
  const cls = f.layer.getClassName();
  // Keys in QKeras's order: operation_count comes last.
  const item: Record<string, QuantizerJson | QuantizerJson[] | string | number> = {
    layer_type: cls,
    input_quantizer_list: f.inputQuantizerList.map((q) => quantizerJson(q)),
  };
  item['output_quantizer'] = quantizerJson(f.outputQuantizer, f.outputShapes);
  const put = (key: string, v: QtQuantizer | QtOperation | null | undefined, shape?: Shape | readonly number[] | number | null): void => {
    if (v === null || v === undefined) return;
    item[key] = 'implementedAs' in v ? operationJson(v) : quantizerJson(v, shape);
  };
  if (cls === 'QBatchNormalization' || cls === 'BatchNormalization') {
    put('gamma_quantizer', f.gammaQuantizer);
    put('beta_quantizer', f.betaQuantizer);
    put('mean_quantizer', f.meanQuantizer);
    put('variance_quantizer', f.varianceQuantizer);
    put('internal_divide_quantizer', f.internalDivideQuantizer);
    put('internal_multiplier', f.internalMultiplier);
    put('internal_accumulator', f.internalAccumulator);
  } else if (f.kind === 'pooling') {
    put('average_quantizer', f.averageQuantizer);
    put('pool_sum_accumulator', f.poolSumAccumulator);
    put('pool_avg_multiplier', f.poolAvgMultiplier);
  } else {
    put('weight_quantizer', f.weightQuantizer, f.wShapes ?? null);
    put('bias_quantizer', f.biasQuantizer, f.bShapes ?? null);
    put(isMergeLayer(cls) ? `${cls}_quantizer` : 'multiplier', f.multiplier);
    put('accumulator', f.accumulator);
    if (f.fusedAccumulator) {
      put('bn_beta_quantizer', f.bnBetaQuantizer);
      put('bn_mean_quantizer', f.bnMeanQuantizer);
      put('bn_inverse_quantizer', f.bnInverseQuantizer);
      put('fused_accumulator', f.fusedAccumulator);
    }
  }
  item['operation_count'] = f.operationCount;
  return item as LayerJson;
}

/** QKeras `map_to_json`: source quantizers, then one entry per layer keyed by layer name, in graph order. */
export function mapToJson(layerMap: LayerMap): QToolsJson {
  const out: QToolsJson = {};
  const sources = layerMap.sourceQuantizerList.map((q) => quantizerJson(q));
  if (sources.length > 0) out.source_quantizers = sources;
  for (const f of layerMap.layerDataTypeMap.values()) out[f.layer.name] = layerJson(f);
  return out;
}
