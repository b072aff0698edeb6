/**
 * Hardware cost of an IR graph in milliseconds, without synthesis: `estimateHardware(graph, {arch})`
 * gives per layer and in total the LUTs (or generic gate cells), flip-flops, DSPs, memory bits,
 * latency in clock cycles, the initiation interval and energy, for exactly the design `emitVerilog`
 * writes with the same options.
 *
 * How: the counts come from the emitter's own plans (dot-product datapaths and adder networks from
 * `planMatvec`, shared sub-expressions included; accumulator widths the IR proved; requantizers;
 * register stages; for the stream architecture multipliers per reuse factor, line buffers, ROMs) and
 * are turned into cells by coefficients fitted to Yosys (`coefficients.ts`). Flip-flops are counted.
 * Latency and II come from the same register placement (parallel) or a cycle-exact model of the
 * stream handshakes (`stream-sim.ts`), so they equal what Verilator measures.
 */
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/nodes.js';
import { rederive } from '../../ir/builder.js';
import { assertValid } from '../../ir/check.js';
import { checkParallelSize } from '../../codegen/verilog-size.js';
import { ConfigError } from '../../errors.js';
import type { VerilogArch } from '../../codegen/verilog-manifest.js';
import type { DotKind } from '../../codegen/verilog-datapath.js';
import { CALIBRATION } from './coefficients.js';
import { COST_FAMILIES, partCells, type CostFamily, type CostModel, type FamilyModel } from './cost-model.js';
import { energyPerUse } from './energy.js';
import type { Cone, Features } from './features.js';
import { parallelStructure } from './parallel.js';
import { streamStructure, type PartCost } from './stream.js';
import { simulateStream } from './stream-sim.js';

export interface HardwareOptions {
  readonly arch: VerilogArch;
  /** Stream: cycles per input word of each MAC layer (as `emitVerilog`). */
  readonly reuse?: number | Readonly<Record<string, number>>;
  /** Parallel: a register after every `pipeline`-th layer (as `emitVerilog`). */
  readonly pipeline?: number;
  /** Parallel: shared sub-expressions in the constant products (as `emitVerilog`). */
  readonly share?: boolean;
  /** `xilinx` (default): LUT6 counts of `synth_xilinx`; `generic`: gate cells of Yosys `synth`. */
  readonly family?: CostFamily;
  /** Xilinx: map wide variable multipliers to DSP blocks (default true, as `qkeras synth`). */
  readonly dsp?: boolean;
  /** Stream: samples the interval is averaged over (default 32, as `qkeras synth` measures it). */
  readonly samples?: number;
  /** Coefficients (default: the calibrated ones). */
  readonly model?: CostModel;
  /**
   * Parallel: the most constant multiplications the design may unroll (as `emitVerilog`: default 65,536,
   * `Infinity` for no limit). A design the emitter would refuse is refused here too, with the same
   * `DesignTooLargeError`, before seconds are spent costing it.
   */
  readonly maxParallelMacs?: number;
}

export interface LayerEstimate {
  readonly name: string;
  readonly node: string;
  readonly kind: Node['kind'];
  /** LUTs (xilinx) or gate cells (generic) of the layer's module. */
  readonly luts: number;
  /** Flip-flops inside the layer's module (parallel layers are combinational: their registers are glue). */
  readonly ffs: number;
  readonly dsps: number;
  /** Memory bits: line buffers, FIFOs, weight ROMs. */
  readonly bramBits: number;
  /** Clock cycles the layer adds to the first sample's result. */
  readonly latency_cycles: number;
  /** Parallel: flip-flops of the register stage after the layer (counted in the glue). */
  readonly registerBits: number;
  /** pJ per inference. */
  readonly energy_pj: number;
  readonly datapath: DotKind | 'rom' | null;
  /** Two-input additions of its dot products (per use). */
  readonly additions: number;
  /** Stream MAC layers: the reuse factor in effect. */
  readonly reuse: number | null;
  readonly features: Features;
  /** Small cones of the layer that LUT mapping may build as tables (xilinx, parallel layers). */
  readonly cones: readonly Cone[];
}

export interface PartEstimate {
  readonly luts: number;
  readonly ffs: number;
  readonly dsps: number;
  readonly bramBits: number;
}

export interface HardwareEstimate {
  readonly arch: VerilogArch;
  readonly family: CostFamily;
  readonly layers: readonly LayerEstimate[];
  /** The top's own logic: parallel register stages, delay lines and valid bits; stream forks and merge. */
  readonly glue: PartEstimate;
  readonly total: PartEstimate & {
    readonly latency_cycles: number;
    /** Mean cycles between results over `samples` samples (1 in the parallel architecture). */
    readonly ii: number;
    /** The repeating interval once the stream pipeline is full. */
    readonly ii_steady: number;
    readonly energy_pj: number;
  };
  /** The coefficients' Yosys version. */
  readonly calibration: string;
}

function dspsOf(part: Pick<PartCost, 'multipliers'>, family: CostFamily, dsp: boolean): { dsps: number; mulppSaved: number; rommulSaved: number } {
  if (family !== 'xilinx' || !dsp) return { dsps: 0, mulppSaved: 0, rommulSaved: 0 };
  // synth_xilinx maps a multiplier to DSP48 blocks (25 x 18 bits each) when its operands have 2+ bits
  // and its product 9+ bits (not calibrated: the calibration builds multipliers from LUTs).
  let dsps = 0;
  let saved = 0;
  let rommulSaved = 0;
  for (const m of part.multipliers) {
    if (m.a >= 2 && m.b >= 2 && m.a >= 9) {
      dsps += m.count * Math.ceil(m.a / 25) * Math.ceil(m.b / 18);
      saved += m.pp;
      rommulSaved += m.rommul ?? 0;
    }
  }
  return { dsps, mulppSaved: saved, rommulSaved };
}

function cells(model: FamilyModel, f: Features, mulppSaved: number, cones: readonly Cone[] = [], rommulSaved = 0): number {
  return Math.round(partCells(model, { ...f, mulpp: Math.max(0, f.mulpp - mulppSaved), rommul: Math.max(0, f.rommul - rommulSaved) }, cones));
}

/** Estimates the hardware `emitVerilog(graph, dir, options)` would produce. */
export function estimateHardware(graph: Graph, options: HardwareOptions): HardwareEstimate {
  if (options.arch !== 'parallel' && options.arch !== 'stream') {
    throw new ConfigError('estimateHardware', 'arch', options.arch, '"parallel" or "stream"');
  }
  const family = options.family ?? 'xilinx';
  if (!COST_FAMILIES.includes(family)) throw new ConfigError('estimateHardware', 'family', family, COST_FAMILIES.map((f) => `"${f}"`).join(', '));
  const samples = options.samples ?? 32;
  if (!Number.isInteger(samples) || samples < 2) throw new ConfigError('estimateHardware', 'samples', samples, 'an integer of at least 2');
  const model = (options.model ?? CALIBRATION).families[family];
  const dsp = options.dsp ?? true;
  if (options.arch === 'parallel') {
    checkParallelSize(graph, options.maxParallelMacs, 'estimateHardware');
  }
  const g = rederive(graph);
  assertValid(g, { float32: false });

  const layers: LayerEstimate[] = [];
  let glue: PartEstimate;
  let latency: number;
  let ii: number;
  let steady: number;
  if (options.arch === 'parallel') {
    const s = parallelStructure(g, { pipeline: options.pipeline, share: options.share });
    for (const l of s.layers) {
      // Only LUT mapping turns a small cone into a table; generic gates stay adders.
      const cones = family === 'xilinx' ? l.body.cones : [];
      layers.push({
        name: l.node.origin.layer,
        node: l.node.id,
        kind: l.node.kind,
        luts: cells(model, l.body.features, 0, cones),
        ffs: 0,
        dsps: 0,
        bramBits: 0,
        latency_cycles: l.stages,
        registerBits: l.registerBits,
        energy_pj: energyPerUse(l.body.features, []),
        datapath: l.body.datapath,
        additions: l.body.additions,
        reuse: null,
        features: l.body.features,
        cones,
      });
    }
    const regs = s.layers.reduce((a, l) => a + l.registerBits, 0) + s.delayBits;
    glue = { luts: 0, ffs: regs, dsps: 0, bramBits: 0 };
    latency = s.latency;
    ii = 1;
    steady = 1;
  } else {
    if (options.share === true) throw new ConfigError('estimateHardware', 'share', options.share, 'false with arch "stream" (sharing applies to the parallel architecture)');
    const s = streamStructure(g, { reuse: options.reuse });
    const timing = simulateStream(s.network, samples);
    const done = timing.lastWordOfFirst;
    for (const st of s.stages) {
      const d = dspsOf(st, family, dsp);
      const features = family === 'xilinx' || st.blockRamRom === 0 ? st.features : { ...st.features, rom: st.features.rom + st.blockRamRom };
      // Uses per sample: one per output word, or one per cycle of a reused MAC.
      const words = s.network.beats[st.outChannel]!;
      const mac = s.network.prims.find((p) => p.kind === 'mac' && p.outs[0] === st.outChannel);
      const uses = mac !== undefined && mac.kind === 'mac' ? words * mac.R * mac.K : words;
      layers.push({
        name: st.node.origin.layer,
        node: st.node.id,
        kind: st.node.kind,
        luts: cells(model, features, d.mulppSaved, [], d.rommulSaved),
        ffs: st.ffs + Math.round(model.memFlipFlops * st.ramBits),
        dsps: d.dsps,
        bramBits: st.memBits,
        latency_cycles: done[st.outChannel]! - Math.max(...st.inChannels.map((c) => done[c]!)),
        registerBits: 0,
        energy_pj: uses * energyPerUse(st.features, st.multipliers),
        datapath: st.datapath,
        additions: st.additions,
        reuse: st.reuse,
        features,
        cones: [],
      });
    }
    glue = { luts: cells(model, s.glue.features, 0), ffs: s.glue.ffs, dsps: 0, bramBits: 0 };
    latency = timing.latency;
    ii = timing.interval;
    steady = timing.steadyInterval;
  }
  const sum = (k: keyof PartEstimate): number => layers.reduce((a, l) => a + l[k], glue[k]);
  return {
    arch: options.arch,
    family,
    layers,
    glue,
    total: {
      luts: sum('luts'),
      ffs: sum('ffs'),
      dsps: sum('dsps'),
      bramBits: sum('bramBits'),
      latency_cycles: latency,
      ii,
      ii_steady: steady,
      energy_pj: layers.reduce((a, l) => a + l.energy_pj, 0),
    },
    calibration: (options.model ?? CALIBRATION).yosys,
  };
}

export { emptyFeatures, FEATURE_NAMES, type Cone, type Features, type FeatureName } from './features.js';
export { COST_FAMILIES, logicCells, partCells, tabledCones, type CostFamily, type CostModel, type FamilyModel } from './cost-model.js';
export { CALIBRATION } from './coefficients.js';
