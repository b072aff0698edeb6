/**
 * The report as data: a plain JSON value (numbers, strings, arrays, objects; no typed arrays, no NaN)
 * that `buildReportData` computes once and `renderReportHtml` turns into a page. `report.json` is this
 * value, so other tools (and later runs) can read every figure the page shows without parsing HTML.
 */

/** Bumped when a field changes meaning. */
export const REPORT_FORMAT = 'qkeras-ts-report/1';

/** The sections a report may hold; a section without data is replaced by a one-line note. */
export type SectionId =
  | 'stages'
  | 'accuracy'
  | 'verification'
  | 'ir'
  | 'energy'
  | 'c'
  | 'synthesis'
  | 'timing'
  | 'estimate'
  | 'quantizers'
  | 'seedFigures'
  | 'weights'
  | 'activations';

/**
 * A resource estimate for one layer, from the analytic estimator (src/ops). The report shows it beside
 * Yosys's figures with the relative error when both exist.
 */
export interface LayerEstimate {
  readonly luts: number;
  readonly ffs: number;
  readonly dsps: number;
  readonly latency_cycles: number;
}

/**
 * The estimator's figures for a report: per layer name, and for the whole design (layers plus the top's
 * registers and stream glue, so it compares with Yosys's total).
 */
export interface ReportEstimates {
  readonly layers: Readonly<Record<string, LayerEstimate>>;
  readonly total: LayerEstimate;
  /** What was estimated, e.g. "stream, xilinx (calibrated against Yosys 0.x)". */
  readonly label: string;
}

/** QKeras's classification of a MAC layer's multiplies (`extractModelOperations`). */
export interface LayerOpsData {
  /** The printed name, e.g. `smux_2_16` (signed mux, 2-bit weights, 16-bit inputs). */
  readonly opName: string;
  /** mult, barrel, mux, adder, xor or fmult. */
  readonly op: string;
  readonly weightBits: number;
  readonly inputBits: number;
  readonly count: number;
}

/** One IR node lowered from a layer. */
export interface IrNodeData {
  readonly id: string;
  readonly kind: string;
  /** Output type in the IR's text form, e.g. `fixed<u2,2>`. */
  readonly type: string | null;
  /** The exact accumulator, e.g. `fixed<s21,17>`, for accumulating nodes. */
  readonly acc: string | null;
  /** The fused requantizer's QKeras string, if any. */
  readonly requant: string | null;
}

export interface SynthCountsData {
  readonly cells: number;
  readonly luts: number;
  readonly ffs: number;
  readonly dsps: number;
  readonly carry: number;
}

/** One Keras layer with everything known about it. Fields are null where that analysis did not run. */
export interface LayerRow {
  readonly name: string;
  readonly className: string;
  readonly inputShapes: readonly (readonly (number | null)[])[];
  readonly outputShape: readonly (number | null)[];
  /** Quantizers by slot (`kernel_quantizer`, `bias_quantizer`, `activation`, ...), QKeras strings. */
  readonly quantizers: Readonly<Record<string, string>>;
  readonly params: number;
  readonly ops: LayerOpsData | null;
  /** Bits of all weights and biases at their quantized widths (print_qstats's weight profile). */
  readonly weightBits: number | null;
  /** IR nodes lowered from this layer; empty when it was fused into a neighbour or dropped. Null: no IR. */
  readonly ir: readonly IrNodeData[] | null;
  /** QTools energy estimate (pJ per inference). */
  readonly energyPj: number | null;
  /** C back-end: constants of the layer and bytes of its output tensor. */
  readonly c: { readonly romBytes: number; readonly ramBytes: number } | null;
  /** Yosys, summed over the layer's modules. */
  readonly yosys: SynthCountsData | null;
  /** Filled by the estimator when it runs. */
  readonly estimate: LayerEstimate | null;
}

export interface ReportTotals {
  /** Operation counts by op name over all MAC layers (print_qstats's "operation types"). */
  readonly ops: Readonly<Record<string, number>>;
  readonly weightBits: number | null;
  readonly params: number;
  readonly energyPj: number | null;
  /** C: all constants, the static activation buffers (shared slots), the largest stack frame. */
  readonly c: { readonly romBytes: number; readonly ramBytes: number; readonly stackBytes: number } | null;
  /** Yosys over the whole design, and the top's own registers and stream glue. */
  readonly yosys: (SynthCountsData & { readonly glue: SynthCountsData }) | null;
  readonly estimate: LayerEstimate | null;
}

export interface AccuracyEntry {
  readonly label: string;
  /** Which model computed it. */
  readonly engine: 'float' | 'tfjs' | 'ir';
  readonly correct: number;
  readonly images: number;
  readonly accuracy: number;
}

export interface AccuracyData {
  readonly entries: readonly AccuracyEntry[];
  /** IR vs quantized tfjs: images on which both predict the same class. */
  readonly agreement: { readonly images: number; readonly same: number } | null;
  /** What the accuracy was computed on here (e.g. "1000 MNIST test images ..."), if anything. */
  readonly inputs: string | null;
  readonly note: string | null;
}

export interface VerificationRow {
  readonly target: string;
  readonly arch: string | null;
  readonly samples: number;
  readonly generated: number;
  readonly given: number;
  readonly codes: number;
  readonly mismatchedSamples: number;
  /** The first mismatch in words (sample, output, element, earliest differing layer), or null. */
  readonly firstMismatch: string | null;
  readonly seconds: number;
}

/** Cycles measured in simulation (the whole design). */
export interface TimingRow {
  readonly source: string;
  readonly arch: string;
  readonly latency: number;
  readonly interval: number;
  readonly samples: number;
}

export interface SynthesisData {
  readonly top: string;
  readonly arch: string;
  readonly family: string;
  readonly yosys: string;
  readonly seconds: number;
}

export interface StageRow {
  readonly stage: string;
  readonly seconds: number;
}

export interface FigureSeries {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** A line plot. */
export interface FigureData {
  readonly title: string;
  /** One line under the plot (what the data is, who uses the quantizer). */
  readonly caption: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly FigureSeries[];
}

/** A histogram of one tensor's values (numpy binning), with summary statistics. */
export interface HistogramData {
  readonly layer: string;
  /** What was counted, e.g. `kernel (quantized)` or `output`. */
  readonly what: string;
  readonly quantizer: string | null;
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly values: number;
  readonly min: number;
  readonly max: number;
  /** Number of distinct values, or null when there are more than `DISTINCT_LIMIT`. */
  readonly distinct: number | null;
}

export interface ReportModelInfo {
  readonly name: string;
  readonly source: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly inputQuantizer: string | null;
  readonly layers: number;
  readonly irNodes: number | null;
}

export interface ReportData {
  readonly format: typeof REPORT_FORMAT;
  readonly title: string;
  readonly generator: string;
  /** ISO time the data was built. */
  readonly created: string;
  readonly model: ReportModelInfo;
  readonly layers: readonly LayerRow[];
  readonly totals: ReportTotals;
  readonly stages: readonly StageRow[] | null;
  readonly accuracy: AccuracyData | null;
  readonly verification: readonly VerificationRow[] | null;
  readonly synthesis: SynthesisData | null;
  /** What the estimator estimated (architecture, target, calibration), when it ran. */
  readonly estimateSource: string | null;
  readonly timing: readonly TimingRow[] | null;
  /** Transfer functions of the model's own quantizers (inference). */
  readonly quantizerFigures: readonly FigureData[];
  /** The seed's Figures 1 and 2 (stochastic binary and ternary, training-time averages). */
  readonly seedFigures: readonly FigureData[] | null;
  readonly weightHistograms: readonly HistogramData[];
  readonly activationHistograms: readonly HistogramData[];
  /** Where the activations came from (e.g. "100 MNIST test images"). */
  readonly activationSource: string | null;
  /** IR checker warnings (places where tfjs float32 may differ from the exact model). */
  readonly irWarnings: readonly string[];
  /** Why a section is absent (shown in its place). */
  readonly notes: Readonly<Partial<Record<SectionId, string>>>;
}
