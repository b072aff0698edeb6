/**
 * `lowerModel`: a trained tfjs Q model → the IR graph, exact against tfjs's float32 inference.
 *
 * Each layer, in the model's topological order, becomes IR nodes through its family's lowering (see
 * registry.ts), with the values tfjs uses at inference: quantized kernels and biases read back from tfjs
 * and turned into exact integer codes, activation quantizers mapped to exact rules. Layers that cannot be
 * lowered are all collected and reported in one `UnsupportedLayersError`.
 *
 * The model input is float; it needs a declared input quantizer (a QKeras string such as
 * `quantized_bits(8,0,1)`), unless its only consumer is a QActivation whose quantizer can be applied to
 * float32 reals (quantized_bits, quantized_relu, binary, ternary), which then becomes the input node.
 * Without either, an `InputQuantizerError` says how to declare one.
 *
 * A softmax at the model's output (a final Activation/QActivation, or a layer's `activation='softmax'`)
 * has no fixed-point form: it becomes an argmax over its logits, and the graph's outputs are
 * `[logits, argmax]`. Graph output 0 is always the network's value: its output, or the logits that fed
 * the softmax (what `qkeras predict` writes).
 *
 * The lowered graph then runs through the pass pipeline (`runPipeline`), whose checker proves every
 * accumulator width. Its float32 warnings (computed on the graph as lowered, i.e. on tfjs's own order of
 * operations) say where tfjs's float32 inference is not proven to equal the exact integer model.
 */
import type * as tf from '@tensorflow/tfjs';
import { QKerasError, UnsupportedError } from '../errors.js';
import type { Quantizer } from '../quantizers/base.js';
import { getQuantizer, type QuantizerSpec } from '../quantizers/get-quantizer.js';
import { QActivation } from '../layers/q-activation.js';
import { allLayers } from '../utils/model-graph.js';
import { assertFiniteWeights } from '../utils/finite-weights.js';
import type { Graph } from '../ir/graph.js';
import type { Requant } from '../ir/nodes.js';
import { inputRequant } from '../ir/quantizer-rules.js';
import { runPipeline, type PipelineOptions } from '../ir/pipeline.js';
import type { CheckReport, Diagnostic } from '../ir/check.js';
import { IRError } from '../ir/errors.js';
import { LowerContext, tfNodes } from './context.js';
import { InputQuantizerError, UnsupportedLayersError, type LoweringIssue } from './errors.js';
import { activationName, quantizerConfig } from './quantizers.js';
import { LOWERINGS, unsupportedReason } from './registry.js';

export interface LowerOptions {
  /**
   * How the float model input is quantized: a QKeras quantizer string (`"quantized_bits(8,0,1)"`), a
   * `{class_name, config}` object or a Quantizer. Every engine applies it before the model.
   */
  readonly inputQuantizer?: QuantizerSpec | null;
  /** Run the checker after every pass (slower; for tests). */
  readonly checkEachPass?: boolean;
}

export interface LoweredModel {
  /** The graph after the pass pipeline: folded, fused, every accumulator sized and proven. */
  readonly graph: Graph;
  /** The graph as lowered, before any pass (mirrors tfjs's order of operations). */
  readonly lowered: Graph;
  /** The checker's float32 warnings on the lowered graph: where tfjs is not proven to equal the IR. */
  readonly warnings: readonly Diagnostic[];
  /** The final check, with one accumulator proof per accumulating node. */
  readonly final: CheckReport;
  /** True when the model ends in a softmax: graph output 0 is its logits, output 1 their argmax. */
  readonly softmax: boolean;
}

const EXAMPLE_QUANTIZER = 'quantized_bits(8,0,1)';

function parseInputQuantizer(spec: QuantizerSpec): Quantizer {
  const q = getQuantizer(spec);
  if (q === null) throw new InputQuantizerError('the input quantizer is empty; give a QKeras quantizer such as quantized_bits(8,0,1)');
  return q;
}

/** The input rule of a quantizer, with an error naming where it came from. */
function inputRule(q: Quantizer, where: string): Requant {
  if (activationName(q) !== null) {
    throw new InputQuantizerError(`${where} ${q.toString()} is a float function, not a quantizer; use e.g. ${EXAMPLE_QUANTIZER}`);
  }
  const { config, options } = quantizerConfig(q);
  try {
    return inputRequant(config, options);
  } catch (e) {
    if (e instanceof UnsupportedError) throw new InputQuantizerError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Layers reading a symbolic tensor (first call only). */
function consumersOf(model: tf.LayersModel, t: tf.SymbolicTensor): tf.layers.Layer[] {
  // An InputLayer's own node lists the tensor it creates as its input.
  return model.layers.filter((l) => l !== t.sourceLayer && (tfNodes(l)[0]?.inputTensors ?? []).some((x) => x.id === t.id));
}

/** The input node's rule, and the QActivation it absorbs when the model quantizes its own input. */
function planInput(model: tf.LayersModel, options: LowerOptions): { requant: Requant; absorbed: tf.layers.Layer | null } {
  const input = model.inputs[0]!;
  if (options.inputQuantizer !== undefined && options.inputQuantizer !== null) {
    return { requant: inputRule(parseInputQuantizer(options.inputQuantizer), 'input quantizer'), absorbed: null };
  }
  const consumers = consumersOf(model, input);
  const first = consumers[0];
  if (consumers.length === 1 && first instanceof QActivation && activationName(first.quantizer) === null) {
    try {
      return { requant: inputRule(first.quantizer, `QActivation ${JSON.stringify(first.name)}`), absorbed: first };
    } catch (e) {
      if (!(e instanceof InputQuantizerError)) throw e;
    }
  }
  const shape = JSON.stringify(input.shape.slice(1)).replace(/,/g, ', ');
  const readers = consumers.map((l) => `${l.getClassName()} ${JSON.stringify(l.name)}`).join(', ') || 'nothing';
  throw new InputQuantizerError(
    `the model input ${JSON.stringify(input.sourceLayer.name)} (shape ${shape}) holds float values and feeds ${readers} ` +
      'unquantized; declare how inputs are quantized: lowerModel(model, {inputQuantizer: ' +
      `'${EXAMPLE_QUANTIZER}'}) or \`qkeras predict --input-quantizer "${EXAMPLE_QUANTIZER}"\` (choose bits and ` +
      "integer bits that cover the input range), or start the model with QActivation('quantized_bits(...)')",
  );
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Lowers `model` and runs the pipeline; see the module comment. */
export function lowerModelDetailed(model: tf.LayersModel, options: LowerOptions = {}): LoweredModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedError(
      `model ${JSON.stringify(model.name)} has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ` +
        'lowering supports one input and one output',
    );
  }
  // A NaN or infinite weight would pass a quantizer's clip as an ordinary code: refuse it up front.
  assertFiniteWeights(model);
  const ctx = new LowerContext(model);
  const { requant, absorbed } = planInput(model, options);
  const input = model.inputs[0]!;
  const inputShape = input.shape.slice(1);
  if (inputShape.some((d) => d === null)) {
    throw new UnsupportedError(`the model input shape ${JSON.stringify(input.shape)} has undefined dimensions; give a fixed input shape`);
  }
  const inputLayer = input.sourceLayer as tf.layers.Layer;
  const x = ctx.builder.input({ id: ctx.freshId(inputLayer.name), origin: ctx.origin(inputLayer), shape: inputShape as number[], quant: requant });
  ctx.setTensor(input, x);
  if (absorbed !== null) ctx.setOutput(absorbed, x);

  const issues: LoweringIssue[] = [];
  const issue = (layer: tf.layers.Layer, reason: string): void => {
    issues.push({ layer: layer.name, className: layer.getClassName(), reason });
  };
  for (const layer of allLayers(model)) {
    if (layer === inputLayer || layer === absorbed) continue;
    const className = layer.getClassName();
    const lowering = LOWERINGS[className];
    if (lowering === undefined) {
      issue(layer, unsupportedReason(className));
      continue;
    }
    if (tfNodes(layer).length !== 1) {
      issue(layer, `the layer is called ${tfNodes(layer).length} times; shared layers are not supported (use one layer per call)`);
      continue;
    }
    const problems = lowering.check(layer, ctx);
    if (problems.length > 0) {
      for (const p of problems) issue(layer, p);
      continue;
    }
    const inputs = ctx.inputsOf(layer);
    if (inputs === null) continue; // an earlier layer failed; its issue is already listed
    try {
      const out = lowering.lower(layer, inputs, ctx);
      const want = tfNodes(layer)[0]!.outputTensors[0]!.shape.slice(1);
      const got = ctx.shapeOf(out);
      if (!want.some((d) => d === null) && !sameShape(got, want)) {
        throw new Error(`internal: ${layer.name} lowered to shape [${got.join(', ')}] but tfjs gives [${want.join(', ')}]`);
      }
      ctx.setOutput(layer, out);
    } catch (e) {
      if (e instanceof QKerasError || e instanceof IRError) issue(layer, message(e));
      else throw e;
    }
  }
  if (issues.length > 0) throw new UnsupportedLayersError(model.name, issues);

  const out = ctx.tensorNode(model.outputs[0]!);
  if (out === undefined) throw new Error('internal: the model output was not lowered');
  const outputs = [out];
  if (ctx.softmax !== null) {
    if (ctx.softmax.logits !== out) throw new Error('internal: the softmax logits are not the model output');
    const base = `${ctx.softmax.origin.layer}_argmax`;
    outputs.push(ctx.builder.argmax(out, { id: ctx.freshId(base), origin: ctx.softmax.origin }));
  }
  const lowered = ctx.builder.build(outputs);
  const pipelineOptions: PipelineOptions = options.checkEachPass === true ? { checkEachPass: true } : {};
  const result = runPipeline(lowered, pipelineOptions);
  return {
    graph: result.graph,
    lowered,
    warnings: result.initial.diagnostics.filter((d) => d.severity === 'warning'),
    final: result.final,
    softmax: ctx.softmax !== null,
  };
}

/** The IR graph of a trained tfjs Q model (after the pass pipeline); see `lowerModelDetailed`. */
export function lowerModel(model: tf.LayersModel, options: LowerOptions = {}): Graph {
  return lowerModelDetailed(model, options).graph;
}
