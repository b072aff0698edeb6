/**
 * Energy per inference from QTools's 45 nm Horowitz gate tables (`settingsFor('horowitz')`), over the
 * arithmetic the emitter actually builds rather than QKeras's one-multiplier-per-MAC view: every adder
 * bit cell (carry-save full and half adders, carry-propagate bits) and comparator bit costs one bit of
 * an adder (`fpm_add`), every variable multiplier one `fpm_mul` at its width, each as often as the
 * hardware is used per sample (once in the parallel architecture; per output word, or per cycle of a
 * reused MAC, in the stream architecture). Memory traffic and registers are not counted.
 */
import { evalPoly, settingsFor } from '../../qtools/settings.js';
import type { Features } from './features.js';

const HOROWITZ = settingsFor('horowitz');

/** pJ of one use of hardware with features `f` and variable multipliers `mults`. */
export function energyPerUse(f: Features, mults: readonly { readonly a: number; readonly count: number }[]): number {
  const bitAdd = Math.max(evalPoly(HOROWITZ.fpmAdd, 1), 0);
  let e = bitAdd * (f.fa + f.ha + f.cpa2 + f.cpa1 + f.pop + f.cmpc + f.cmpv);
  for (const m of mults) e += m.count * Math.max(evalPoly(HOROWITZ.fpmMul, m.a), 0);
  return e;
}
