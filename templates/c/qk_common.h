/*
 * qk_common.h - shared helpers of the qkeras-ts C kernels (C99, integers only, no heap).
 *
 * Every tensor holds integer codes: code c of a tensor with grid 2^-f means the real number c * 2^-f.
 * The helpers below are the exact integer forms of the IR's requantization rules: rounding right shifts
 * with the two tie rules QKeras uses (half to even = tf.round, half away from zero = the auto_po2 path),
 * saturation, threshold counting for monotone activation tables, and popcount for XNOR kernels.
 * Right shifts of negative values are written without the implementation-defined `>>` of negative
 * operands, so results do not depend on the compiler.
 */
#ifndef QK_COMMON_H
#define QK_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__cplusplus)
#define QK_RESTRICT
#else
#define QK_RESTRICT restrict
#endif

/* Loop and index type of the kernels. */
typedef long qk_index;

/* floor(x / 2^s) for 0 < s < 32: ~x is non-negative for negative x, and ~floor((-1-x)/2^s) = floor(x/2^s). */
static inline int32_t qk_floor_shr32(int32_t x, int s)
{
    return x >= 0 ? (int32_t)(x >> s) : (int32_t)~(~x >> s);
}

static inline int64_t qk_floor_shr64(int64_t x, int s)
{
    return x >= 0 ? (int64_t)(x >> s) : (int64_t)~(~x >> s);
}

/* round(x / 2^s), ties to even (tf.round), 0 < s < 32. */
static inline int32_t qk_rshift_even32(int32_t x, int s)
{
    const int32_t q = qk_floor_shr32(x, s);
    const uint32_t r = (uint32_t)x & ((UINT32_C(1) << s) - 1u);
    const uint32_t h = UINT32_C(1) << (s - 1);
    return (int32_t)(q + (int32_t)((uint32_t)(r > h) | ((uint32_t)(r == h) & (uint32_t)q & 1u)));
}

/* round(x / 2^s), ties away from zero (QKeras's floor(|x| + 0.5) * sign(x)), 0 < s < 32. */
static inline int32_t qk_rshift_away32(int32_t x, int s)
{
    const int32_t q = qk_floor_shr32(x, s);
    const uint32_t r = (uint32_t)x & ((UINT32_C(1) << s) - 1u);
    const uint32_t h = UINT32_C(1) << (s - 1);
    return (int32_t)(q + (int32_t)((uint32_t)(r > h) | ((uint32_t)(r == h) & (uint32_t)(x >= 0))));
}

/* round(x / 2^s), ties to even, 0 < s < 64. */
static inline int64_t qk_rshift_even64(int64_t x, int s)
{
    const int64_t q = qk_floor_shr64(x, s);
    const uint64_t r = (uint64_t)x & ((UINT64_C(1) << s) - 1u);
    const uint64_t h = UINT64_C(1) << (s - 1);
    return (int64_t)(q + (int64_t)((uint64_t)(r > h) | ((uint64_t)(r == h) & (uint64_t)q & 1u)));
}

/* round(x / 2^s), ties away from zero, 0 < s < 64. */
static inline int64_t qk_rshift_away64(int64_t x, int s)
{
    const int64_t q = qk_floor_shr64(x, s);
    const uint64_t r = (uint64_t)x & ((UINT64_C(1) << s) - 1u);
    const uint64_t h = UINT64_C(1) << (s - 1);
    return (int64_t)(q + (int64_t)((uint64_t)(r > h) | ((uint64_t)(r == h) & (uint64_t)(x >= 0))));
}

/* Saturation to [lo, hi] (and the one-sided forms). */
static inline int32_t qk_clamp32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static inline int32_t qk_max32(int32_t x, int32_t lo)
{
    return x < lo ? lo : x;
}

static inline int32_t qk_min32(int32_t x, int32_t hi)
{
    return x > hi ? hi : x;
}

static inline int64_t qk_clamp64(int64_t x, int64_t lo, int64_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static inline int64_t qk_max64(int64_t x, int64_t lo)
{
    return x < lo ? lo : x;
}

static inline int64_t qk_min64(int64_t x, int64_t hi)
{
    return x > hi ? hi : x;
}

/* Number of ascending thresholds t[0..n) with t[k] <= x (an upper-bound binary search). */
static inline qk_index qk_count_le32(int32_t x, const int32_t *t, qk_index n)
{
    qk_index lo = 0;
    while (n > 0) {
        const qk_index half = n / 2;
        if (t[lo + half] <= x) {
            lo += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

static inline qk_index qk_count_le64(int64_t x, const int64_t *t, qk_index n)
{
    qk_index lo = 0;
    while (n > 0) {
        const qk_index half = n / 2;
        if (t[lo + half] <= x) {
            lo += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

/* Set bits of a 32-bit word (the XNOR-popcount kernels count disagreeing signs with it). */
static inline int qk_popcount32(uint32_t v)
{
#if defined(__GNUC__) && UINT_MAX >= 0xffffffffu
    return __builtin_popcount(v);
#else
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0f0f0f0fu;
    return (int)((v * 0x01010101u) >> 24);
#endif
}

#endif /* QK_COMMON_H */
