/**
 * Fitting the cost coefficients: non-negative least squares (Lawson and Hanson's active-set method)
 * over rows of features and measured cell counts, each row weighted by 1 / max(scale, floor) — with the
 * scale the row's own count the fit minimises relative errors per row; with its design's total, per
 * design (what the calibration does: one layer's error counts by its share of the design).
 */
import { FEATURE_NAMES, addFeatures, type Cone, type FeatureName, type Features } from './features.js';
import { tabledCones } from './cost-model.js';

export interface FitRow {
  readonly features: Features;
  readonly measured: number;
  /** What the residual is relative to (default: the measured value itself). */
  readonly scale?: number;
}

/** Solves `min ||A x - b||` over `x >= 0` (A row-major, m × n). */
export function nnls(A: readonly (readonly number[])[], b: readonly number[], maxIter = 500): number[] {
  const m = A.length;
  const n = A[0]?.length ?? 0;
  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const gradient = (): number[] => {
    const r = b.map((bi, i) => bi - A[i]!.reduce((s, a, j) => s + a * x[j]!, 0));
    return Array.from({ length: n }, (_, j) => A.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
  };
  /** Unconstrained least squares over the passive columns (normal equations, Gaussian elimination). */
  const solvePassive = (): number[] => {
    const cols = passive.flatMap((p, j) => (p ? [j] : []));
    const k = cols.length;
    const M = Array.from({ length: k }, (_, r) => {
      const row = cols.map((cj) => A.reduce((s, a) => s + a[cols[r]!]! * a[cj]!, 0));
      row.push(A.reduce((s, a, i) => s + a[cols[r]!]! * b[i]!, 0));
      return row;
    });
    for (let c = 0; c < k; c += 1) {
      let piv = c;
      for (let r = c + 1; r < k; r += 1) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
      [M[c], M[piv]] = [M[piv]!, M[c]!];
      const d = M[c]![c]!;
      if (Math.abs(d) < 1e-12) continue;
      for (let r = 0; r < k; r += 1) {
        if (r === c) continue;
        const f = M[r]![c]! / d;
        for (let cc = c; cc <= k; cc += 1) M[r]![cc]! -= f * M[c]![cc]!;
      }
    }
    const z = new Array<number>(n).fill(0);
    cols.forEach((cj, r) => {
      const d = M[r]![r]!;
      z[cj] = Math.abs(d) < 1e-12 ? 0 : M[r]![k]! / d;
    });
    return z;
  };
  for (let iter = 0; iter < maxIter && m > 0; iter += 1) {
    const w = gradient();
    let best = -1;
    for (let j = 0; j < n; j += 1) if (!passive[j] && w[j]! > 1e-9 && (best < 0 || w[j]! > w[best]!)) best = j;
    if (best < 0) break;
    passive[best] = true;
    for (;;) {
      const z = solvePassive();
      if (passive.every((p, j) => !p || z[j]! > 0)) {
        for (let j = 0; j < n; j += 1) x[j] = passive[j] ? z[j]! : 0;
        break;
      }
      let alpha = Infinity;
      for (let j = 0; j < n; j += 1) {
        if (passive[j] && z[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - z[j]!));
      }
      for (let j = 0; j < n; j += 1) {
        x[j] = x[j]! + alpha * (z[j]! - x[j]!);
        if (passive[j] && Math.abs(x[j]!) < 1e-12) passive[j] = false;
      }
    }
  }
  return x;
}

/** Fitted coefficients per feature (features absent from every row get 0). */
export function fitCoefficients(rows: readonly FitRow[], floor = 16): Record<FeatureName, number> {
  const used = FEATURE_NAMES.filter((k) => rows.some((r) => r.features[k] !== 0));
  const A = rows.map((r) => used.map((k) => r.features[k] / Math.max(r.scale ?? r.measured, floor)));
  const b = rows.map((r) => r.measured / Math.max(r.scale ?? r.measured, floor));
  const x = nnls(A, b);
  const out = Object.fromEntries(FEATURE_NAMES.map((k) => [k, 0])) as Record<FeatureName, number>;
  used.forEach((k, j) => {
    out[k] = Number(x[j]!.toPrecision(4));
  });
  return out;
}

/** A fit row whose part has small cones (see `Cone`): what of it LUT mapping may build as tables. */
export interface ConeFitRow extends FitRow {
  readonly cones: readonly Cone[];
}

/**
 * Fitted coefficients where small cones become tables when that is cheaper (`partCells`): the choice
 * depends on the coefficients, so this alternates between choosing the tabled cones under the current
 * coefficients (their table LUTs taken out of the measured count, their features out of the row) and
 * refitting, until the choice no longer changes (at most `rounds` times).
 */
export function fitWithCones(rows: readonly ConeFitRow[], floor = 16, rounds = 8): Record<FeatureName, number> {
  let logic = fitCoefficients(rows, floor);
  let choice = '';
  for (let r = 0; r < rounds; r += 1) {
    const tabled = rows.map((row) => tabledCones({ logic, memFlipFlops: 0 }, row.cones));
    const key = tabled.map((t) => t.luts).join(',');
    if (key === choice) break;
    choice = key;
    logic = fitCoefficients(
      rows.map((row, i) => {
        const features = { ...row.features };
        addFeatures(features, tabled[i]!.features, -1);
        return { features, measured: row.measured - tabled[i]!.luts, scale: row.scale ?? row.measured };
      }),
      floor,
    );
  }
  return logic;
}
