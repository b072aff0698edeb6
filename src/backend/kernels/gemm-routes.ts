/**
 * Switch for the GEMM routes of the training kernels (the window-rows filter gradient in
 * ./conv2d-backprop-filter.ts and the transpose-free aᵀ·b in ./batch-mat-mul.ts). They give the same float32
 * bits as the routes they replace, so the switch exists only to measure them: `npm run bench:train` with
 * BENCH_COMPARE_GEMM=1 trains each model both ways in the same interleaved rounds.
 */
let enabled = true;

/** Whether the GEMM routes are used (default true). */
export function gemmRoutesEnabled(): boolean {
  return enabled;
}

/** Turns the GEMM routes on or off; returns the previous setting. */
export function setGemmRoutesEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}
