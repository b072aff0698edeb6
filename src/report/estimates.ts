/**
 * The hardware-cost estimator's figures in the report's shape: per layer name (a layer lowered to
 * several IR nodes adds them up) and for the whole design, glue included, so the total compares with
 * Yosys's total rather than with the sum of its layer modules.
 */
import type { HardwareEstimate } from '../ops/hw-cost/index.js';
import type { LayerEstimate, ReportEstimates } from './types.js';

export function reportEstimates(est: HardwareEstimate): ReportEstimates {
  const layers: Record<string, LayerEstimate> = {};
  for (const l of est.layers) {
    const prev = layers[l.name];
    layers[l.name] =
      prev === undefined
        ? { luts: l.luts, ffs: l.ffs, dsps: l.dsps, latency_cycles: l.latency_cycles }
        : { luts: prev.luts + l.luts, ffs: prev.ffs + l.ffs, dsps: prev.dsps + l.dsps, latency_cycles: prev.latency_cycles + l.latency_cycles };
  }
  const t = est.total;
  const calibrated = est.calibration === 'uncalibrated' ? 'uncalibrated coefficients' : `coefficients fitted to ${est.calibration}`;
  return {
    layers,
    total: { luts: t.luts, ffs: t.ffs, dsps: t.dsps, latency_cycles: t.latency_cycles },
    label: `${est.arch} architecture, ${est.family} target, ${calibrated}`,
  };
}
