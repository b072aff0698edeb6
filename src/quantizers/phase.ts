/**
 * Learning phase and the seedable random source of the stochastic paths.
 *
 * QKeras reads `K.learning_phase()` when a quantizer is called: stochastic rounding and the stochastic
 * quantizers randomise only while training. tfjs layers receive `kwargs.training` instead, so Q layers
 * forward that flag and quantizers fall back to this module's global phase when called directly.
 */

let learningPhase: 0 | 1 = 0;

export function getLearningPhase(): 0 | 1 {
  return learningPhase;
}

export function setLearningPhase(phase: 0 | 1 | boolean): void {
  learningPhase = phase ? 1 : 0;
}

/** Runs `fn` with the learning phase set, restoring the previous phase afterwards (even on throw). */
export function withLearningPhase<T>(phase: 0 | 1 | boolean, fn: () => T): T {
  const previous = learningPhase;
  setLearningPhase(phase);
  try {
    return fn();
  } finally {
    learningPhase = previous;
  }
}

/** Resolves an explicit `training` flag against the global phase. */
export function isTraining(training?: boolean): boolean {
  return training ?? learningPhase === 1;
}

// A small counter-based generator (splitmix32) hands out the integer seeds that tf.randomUniform takes, so
// a run is reproducible from one `setSeed` call and independent of Math.random.
let rngState = 0x2545f491;

export function setSeed(seed: number): void {
  rngState = seed >>> 0;
}

/** Next 32-bit seed for a tfjs random op. */
export function nextSeed(): number {
  rngState = (rngState + 0x9e3779b9) >>> 0;
  let z = rngState;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
