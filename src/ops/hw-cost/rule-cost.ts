/**
 * Hardware counts of one requantization rule applied to `n` elements, as the emitter builds it
 * (`ruleLines` → qk_requant_vec, qk_sign_vec, qk_ternary_vec, qk_thresholds_vec, qk_lut_vec): the
 * rounding incrementer and the saturation comparators and multiplexers of a shift rule work on the
 * bits left after the shift; a sign rule is a wire; thresholds compare against constants; a table is a
 * ROM indexed by the code.
 */
import type { IntType, Rule } from '../../ir/nodes.js';
import { codeRange, gridFrac } from '../../ir/fixed.js';
import { assertNever } from '../../errors.js';
import { elemFormat } from '../../codegen/verilog-format.js';
import { emptyFeatures, romUnits, type Features } from './features.js';

/** Counts of `rule` over `n` elements from `inType` codes to `outType` codes. */
export function ruleFeatures(rule: Rule, inType: IntType, outType: IntType, n: number): Features {
  const f = emptyFeatures();
  const inW = elemFormat(inType).width;
  const outW = elemFormat(outType).width;
  switch (rule.kind) {
    case 'shift': {
      const fi = gridFrac(inType);
      const fr = rule.frac ?? fi;
      const path = (shift: number, lo: boolean, hi: boolean, loZero: boolean): void => {
        // Bits that survive the shift (a left shift keeps all of them).
        const kept = Math.max(1, inW - Math.max(shift, 0));
        if (shift > 0) {
          f.cpa1 += (kept + 1) * n; // + the rounding bit
          f.cmpc += (shift - 1) * n; // sticky bits below the half
        }
        // Each bound: a comparison with a constant and forcing the result to that constant (one gate
        // per output bit); a lower bound of 0 (a relu) compares the sign bit alone.
        const bounds = (lo ? 1 : 0) + (hi ? 1 : 0);
        f.cmpc += (bounds * (kept + 1) + bounds * outW) * n;
        if (lo && loZero) f.cmpc -= kept * n;
      };
      path(fi - fr, rule.lo !== null, rule.hi !== null, rule.lo === 0);
      if (rule.negSlopeExp !== null) {
        // Negative inputs take their own rounding path, clamped to [lo, 0], then a select.
        path(fi - (fr + rule.negSlopeExp), rule.lo !== null, true, rule.lo === 0);
        f.mux += outW * n; // which path
      }
      return f;
    }
    case 'sign':
      return f;
    case 'ternary':
      f.cmpc += 2 * (inW + 2) * n;
      return f;
    case 'thresholds':
      // Comparisons with constants, then the count of thresholds passed picks a constant output.
      f.cmpc += rule.thresholds.length * (inW + 2) * n;
      f.rom += romUnits(rule.thresholds.length + 1, outW) * n;
      return f;
    case 'table': {
      const r = codeRange(inType);
      f.rom += romUnits(Number(r.hi - r.lo) + 1, outW) * n;
      if (r.lo !== 0n) f.cpa1 += (inW + 1) * n; // index = code - lowest code
      return f;
    }
    default:
      return assertNever(rule, 'rule');
  }
}
