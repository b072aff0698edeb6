/**
 * Measures sub-expression sharing (`emitVerilog({arch: 'parallel', share: true})`, `--share`) on the
 * hls4ml jet tagger: the planned two-input adders and what Yosys `synth_xilinx -nodsp` builds (LUTs,
 * flip-flops, carry cells), per layer and in total, without and with sharing.
 *
 * Models:
 * - `jet`: test/fixtures/models/qkeras_3layer (QKeras, as published), input quantized_bits(16,6,1);
 * - `q6`: test/fixtures/models/KERAS_3layer (float) through modelQuantize: kernels and biases
 *   quantized_bits(6,0,alpha=1), relu activations quantized_relu(6); input quantized_bits(16,6,1).
 *
 * `--control` also synthesizes the unshared adder plan written the way shared layers are (explicit
 * wires and sums instead of the qk_const_matvec module), so a saving can be told apart from the
 * emission style.
 *
 * Each layer is synthesized in a Yosys run of its own (two at a time; cached by content in
 * src/sim/yosys.ts, so an interrupted run resumes), the registers with the layers emptied. A cold run
 * of both models takes about an hour of CPU (the unshared fc1 and fc2 of the jet tagger dominate).
 *
 * Usage: npm run measure:sharing [-- --model jet|q6|all] [--control] [--json out.json]
 */
import { fileURLToPath } from 'node:url';
import { ready } from '../src/backend/index.js';
import { importKeras } from '../src/import/import-keras.js';
import { lowerModelDetailed } from '../src/lower/lower-model.js';
import { modelQuantize } from '../src/utils/model-quantize.js';
import { generateVerilog, type VerilogDesign } from '../src/codegen/verilog.js';
import { liveNodes } from '../src/codegen/verilog-parallel.js';
import { layerAdders } from '../src/codegen/cmvm-layer.js';
import { cmvmAdderCount } from '../src/codegen/cmvm.js';
import { cmvmLines, planMatvec } from '../src/codegen/cmvm-verilog.js';
import { inputBuses } from '../src/codegen/verilog-layers.js';
import { accumulatorPlan } from '../src/codegen/verilog-plan.js';
import { isAccumulating, type Node } from '../src/ir/nodes.js';
import type { Graph } from '../src/ir/graph.js';
import type { SynthCounts } from '../src/sim/yosys.js';
import { synthesizeLayers } from '../src/sim/synth-layers.js';
import { writeFileAtomic } from '../src/utils/atomic-file.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/models/', import.meta.url));
const INPUT = 'quantized_bits(16,6,1)';

interface Options {
  models: string[];
  control: boolean;
  json: string | null;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { models: ['jet', 'q6'], control: false, json: null };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--control') o.control = true;
    else if (a === '--model' && (v === 'jet' || v === 'q6' || v === 'all')) {
      o.models = v === 'all' ? ['jet', 'q6'] : [v];
      i += 1;
    } else if (a === '--json' && v !== undefined) {
      o.json = v;
      i += 1;
    } else {
      throw new Error(`usage: measure-sharing [--model jet|q6|all] [--control] [--json out.json]; got ${a}`);
    }
  }
  return o;
}

async function jetTagger(name: string): Promise<Graph> {
  if (name === 'jet') {
    const m = await importKeras(`${FIXTURES}qkeras_3layer.json`, `${FIXTURES}qkeras_3layer_weights.h5`);
    return lowerModelDetailed(m, { inputQuantizer: INPUT }).graph;
  }
  const float = await importKeras(`${FIXTURES}KERAS_3layer.json`, `${FIXTURES}KERAS_3layer_weights.h5`);
  const q6 = modelQuantize(
    float,
    { QDense: { kernel_quantizer: 'quantized_bits(6,0,alpha=1)', bias_quantizer: 'quantized_bits(6,0,alpha=1)' } },
    6,
    { transferWeights: true },
  );
  return lowerModelDetailed(q6, { inputQuantizer: INPUT }).graph;
}

/** Two-input adders each layer plans, without and with sharing (null: no shift-add datapath). */
function adders(g: Graph): Map<string, { plain: number; shared: number; sharedTerms: number }> {
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Map<string, { plain: number; shared: number; sharedTerms: number }>();
  for (const n of nodes) {
    const ins = n.inputs.map((id) => byId.get(id)!);
    const plain = layerAdders(n, ins);
    const shared = layerAdders(n, ins, { share: true });
    if (plain?.plan == null || shared?.plan == null) continue;
    out.set(n.id, { plain: cmvmAdderCount(plain.plan), shared: cmvmAdderCount(shared.plan), sharedTerms: shared.plan.vars.length - shared.plan.inputs });
  }
  return out;
}

/**
 * The control design: every shift-add layer of `design` (generated without sharing) rewritten as the
 * explicit wires and sums of its unshared plan — the emission style of shared layers, nothing shared.
 */
function controlDesign(g: Graph, design: VerilogDesign): VerilogDesign {
  const nodes = liveNodes(g);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const files = design.files.map((f) => {
    const layer = design.manifest.layers.find((l) => `${l.module}.v` === f.name);
    if (layer === undefined || layer.datapath !== 'shiftadd') return f;
    const node = byId.get(layer.node)! as Node;
    if (!isAccumulating(node)) return f;
    const inputs = node.inputs.map((id) => byId.get(id)!);
    const ins = inputBuses(inputs);
    if (ins.some((b) => b.pm)) throw new Error(`${layer.layer}: ±1 inputs are not handled by the control`);
    const acc = accumulatorPlan(node, inputs);
    const { plan, sources } = planMatvec(acc.dots, ins, acc.acc.width);
    const lines = f.text.split('\n');
    const at = lines.findIndex((l) => l.includes('qk_const_matvec #('));
    if (at < 0) throw new Error(`${layer.layer}: no qk_const_matvec instance to replace`);
    const body = cmvmLines('u_mv', plan, sources, ins, () => '', 'acc');
    // Extended inputs (qk_extend_vec) or offset words before the instance are left unread: harmless.
    lines.splice(at, 1, ...body);
    return { name: f.name, text: lines.join('\n') };
  });
  return { manifest: design.manifest, files };
}

function pct(before: number, after: number): string {
  if (before === 0) return '';
  const d = ((after - before) / before) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}%`;
}

/** What Yosys built for a design: each layer, the registers, and their sum. */
interface Synth {
  readonly yosys: string;
  readonly layers: readonly SynthCounts[];
  readonly glue: SynthCounts;
  readonly total: SynthCounts;
}

const SYNTH = { family: 'xilinx', dsp: false, timeoutMs: 12 * 3_600_000 } as const;

/**
 * Synthesizes every layer module of `design` on its own (flattened, as `synthesize` does) and the top's
 * registers with empty layers: per-layer runs are cached one by one, and two run at once.
 */
async function synthLayers(label: string, design: VerilogDesign): Promise<Synth> {
  const r = await synthesizeLayers(design, {
    ...SYNTH,
    onLayer: (layer, i, n) => process.stderr.write(`${label}: synthesizing ${layer} (${i + 1}/${n}) with Yosys...\n`),
  });
  return { yosys: `${r.yosys} [${r.engine}]`, layers: r.layers.map((l) => l.counts), glue: r.glue, total: r.total };
}

interface Row {
  readonly layer: string;
  readonly addersBefore: number | null;
  readonly addersAfter: number | null;
  readonly sharedTerms: number | null;
  readonly before: SynthCounts;
  readonly after: SynthCounts;
  readonly control: SynthCounts | null;
}

function table(model: string, rows: readonly Row[], yosys: string): string[] {
  const head = ['layer', 'adders', '→shared', 'Δ', 'terms', 'LUTs', '→shared', 'Δ', 'FFs', '→shared', 'CARRY4', '→shared', 'ctrl LUTs'];
  const widths = [14, 8, 9, 8, 7, 8, 9, 8, 6, 8, 8, 8, 10];
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('');
  const out = [`${model}: Yosys synth_xilinx -nodsp (${yosys})`, fmt(head)];
  for (const r of rows) {
    out.push(
      fmt([
        r.layer,
        r.addersBefore === null ? '' : String(r.addersBefore),
        r.addersAfter === null ? '' : String(r.addersAfter),
        r.addersBefore === null || r.addersAfter === null ? '' : pct(r.addersBefore, r.addersAfter),
        r.sharedTerms === null ? '' : String(r.sharedTerms),
        String(r.before.luts),
        String(r.after.luts),
        pct(r.before.luts, r.after.luts),
        String(r.before.ffs),
        String(r.after.ffs),
        String(r.before.carry),
        String(r.after.carry),
        r.control === null ? '' : String(r.control.luts),
      ]),
    );
  }
  return out;
}

function rowsOf(g: Graph, design: VerilogDesign, before: Synth, after: Synth, control: Synth | null): Row[] {
  const add = adders(g);
  const rows: Row[] = design.manifest.layers.map((l, i) => {
    const a = add.get(l.node);
    return {
      layer: l.layer,
      addersBefore: a?.plain ?? null,
      addersAfter: a?.shared ?? null,
      sharedTerms: a?.sharedTerms ?? null,
      before: before.layers[i]!,
      after: after.layers[i]!,
      control: control?.layers[i] ?? null,
    };
  });
  const sum = (f: (r: Row) => number | null): number | null => (rows.some((r) => f(r) !== null) ? rows.reduce((s, r) => s + (f(r) ?? 0), 0) : null);
  rows.push({ layer: '(registers)', addersBefore: null, addersAfter: null, sharedTerms: null, before: before.glue, after: after.glue, control: control?.glue ?? null });
  rows.push({
    layer: 'total',
    addersBefore: sum((r) => r.addersBefore),
    addersAfter: sum((r) => r.addersAfter),
    sharedTerms: sum((r) => r.sharedTerms),
    before: before.total,
    after: after.total,
    control: control?.total ?? null,
  });
  return rows;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  await ready();
  const results: Record<string, unknown> = {};
  for (const name of o.models) {
    const g = await jetTagger(name);
    const plain = generateVerilog(g, { arch: 'parallel' });
    const shared = generateVerilog(g, { arch: 'parallel', share: true });
    const started = Date.now();
    const before = await synthLayers(`${name} without sharing`, plain);
    const after = await synthLayers(`${name} with sharing`, shared);
    const control = o.control ? await synthLayers(`${name} control`, controlDesign(g, plain)) : null;
    const rows = rowsOf(g, plain, before, after, control);
    for (const line of table(name, rows, before.yosys)) console.log(line);
    if (before.total.dsps + after.total.dsps > 0) console.log(`note: ${before.total.dsps} / ${after.total.dsps} DSP cells despite -nodsp`);
    console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    results[name] = rows.map((r) => ({
      layer: r.layer,
      adders: { before: r.addersBefore, after: r.addersAfter, sharedTerms: r.sharedTerms },
      luts: { before: r.before.luts, after: r.after.luts, control: r.control?.luts ?? null },
      ffs: { before: r.before.ffs, after: r.after.ffs },
      carry: { before: r.before.carry, after: r.after.carry },
    }));
  }
  if (o.json !== null) writeFileAtomic(o.json, `${JSON.stringify(results, null, 2)}\n`);
}

await main();
