/**
 * The rounding and saturation helpers of templates/c/qk_common.h against the IR's own `roundShift`, on
 * every integer of a range around each tie, for every shift, in 32 and 64 bits, both tie rules — compiled
 * with the strict flags and run once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { roundShift } from '../../src/ir/index.js';
import { templatePath } from '../../src/codegen/render.js';
import { STRICT_C_FLAGS } from '../../src/sim/c-runner.js';
import { C_COMPILER, findOptionalTool, runTool, toolAt } from '../../src/sim/tools.js';

const cc = findOptionalTool(C_COMPILER);
const dir = mkdtempSync(join(tmpdir(), 'qk-ccommon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROGRAM = `
#include "qk_common.h"
#include <stdio.h>

int main(void)
{
    long x;
    int s;
    static const int32_t t[5] = { -7, -2, 0, 0, 9 };
    /* 32-bit: every x in [-1100, 1100] for shifts 1..11, and around +-2^30 for shifts 29..31. */
    for (s = 1; s <= 11; ++s) {
        for (x = -1100; x <= 1100; ++x) {
            printf("e32 %d %ld %ld\\n", s, x, (long)qk_rshift_even32((int32_t)x, s));
            printf("a32 %d %ld %ld\\n", s, x, (long)qk_rshift_away32((int32_t)x, s));
        }
    }
    for (s = 29; s <= 31; ++s) {
        for (x = -3; x <= 3; ++x) {
            const long v = x * 536870912L;
            printf("e32 %d %ld %ld\\n", s, v, (long)qk_rshift_even32((int32_t)v, s));
            printf("a32 %d %ld %ld\\n", s, v, (long)qk_rshift_away32((int32_t)v, s));
        }
        printf("e32 %d %ld %ld\\n", s, -2147483648L, (long)qk_rshift_even32(INT32_MIN, s));
        printf("a32 %d %ld %ld\\n", s, -2147483648L, (long)qk_rshift_away32(INT32_MIN, s));
        printf("e32 %d %ld %ld\\n", s, 2147483647L, (long)qk_rshift_even32(INT32_MAX, s));
    }
    /* 64-bit: ties and neighbours of multiples of 2^(s-1) for shifts 1..50 (below 2^53, where the IR is exact). */
    for (s = 1; s <= 50; ++s) {
        long long k;
        for (k = -7; k <= 7; ++k) {
            const long long base = k * (1LL << (s - 1));
            long long d;
            for (d = -1; d <= 1; ++d) {
                printf("e64 %d %lld %lld\\n", s, base + d, (long long)qk_rshift_even64(base + d, s));
                printf("a64 %d %lld %lld\\n", s, base + d, (long long)qk_rshift_away64(base + d, s));
            }
        }
    }
    for (x = -12; x <= 12; ++x) {
        printf("c %ld %ld %ld %ld\\n", x, (long)qk_clamp32((int32_t)x, -5, 6), (long)qk_max32((int32_t)x, -5), (long)qk_min32((int32_t)x, 6));
        printf("t %ld %ld %ld\\n", x, (long)qk_count_le32((int32_t)x, t, 5), (long)qk_count_le64((int64_t)x, (const int64_t *)0, 0));
    }
    printf("p %d %d %d\\n", qk_popcount32(0u), qk_popcount32(0xffffffffu), qk_popcount32(0x80000001u));
    return 0;
}
`;

describe.skipIf(cc === null)(`qk_common.h helpers${cc === null ? ' (skipped: no C compiler)' : ''}`, () => {
  it('round, saturate and count exactly like the IR on every tested value', async () => {
    writeFileSync(join(dir, 'common.c'), PROGRAM);
    const exe = join(dir, 'common');
    await runTool(cc!, ['-O2', ...STRICT_C_FLAGS, '-I', templatePath('c'), join(dir, 'common.c'), '-o', exe]);
    const out = (await runTool(toolAt(exe, 'common'), [])).stdout;
    writeFileSync(join(dir, 'out.txt'), out);
    const lines = readFileSync(join(dir, 'out.txt'), 'utf8').trim().split('\n');
    let rounding = 0;
    let ties = 0;
    const thresholds = [-7, -2, 0, 0, 9];
    for (const line of lines) {
      const [tag, ...rest] = line.split(' ');
      if (tag === 'e32' || tag === 'a32' || tag === 'e64' || tag === 'a64') {
        const [s, x, got] = rest.map(Number) as [number, number, number];
        const mode = tag.startsWith('e') ? 'half_even' : 'half_away';
        expect(got, `${tag} ${s} ${x}`).toBe(roundShift(x, s, mode));
        if (Math.abs(x % 2 ** s) === 2 ** (s - 1)) ties += 1;
        rounding += 1;
      } else if (tag === 'c') {
        const [x, c, lo, hi] = rest.map(Number) as [number, number, number, number];
        expect([c, lo, hi]).toEqual([Math.min(6, Math.max(-5, x)), Math.max(-5, x), Math.min(6, x)]);
      } else if (tag === 't') {
        const [x, k, k0] = rest.map(Number) as [number, number, number];
        expect(k).toBe(thresholds.filter((t) => t <= x).length);
        expect(k0).toBe(0);
      } else {
        expect(rest.map(Number)).toEqual([0, 32, 2]);
      }
    }
    expect(rounding).toBeGreaterThan(40_000);
    expect(ties).toBeGreaterThan(1_000);
  });
});
