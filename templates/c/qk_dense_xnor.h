/*
 * qk_dense_xnor.h - dense / pointwise layer with binary +-1 inputs and binary +-1 weights: XNOR-popcount.
 * Signs are packed 32 to a word (bit set = -1); the dot product of n signs is n - 2 * (number of
 * positions where the signs differ) = n - 2 * popcount(x ^ w). Padding bits are 0 in both operands.
 *
 *   y[r][j] = RQ( (QK_N - 2 * popcount(xbits[r] ^ wbits[j])) * mul[j] + b[j] )
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_ACC_T, QK_Y_T, QK_ROWS, QK_N, QK_M   as in qk_dense.h (QK_X_T holds codes -1/+1)
 *   QK_WORDS                    (QK_N + 31) / 32
 *   QK_WBITS                    const uint32_t [QK_M][QK_WORDS]: packed weight signs
 *   QK_CHMUL, QK_BIAS (optional), QK_RQ(a, j)   as in qk_dense.h
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    uint32_t xb[QK_WORDS];
    qk_index r, j, i, k;
    for (r = 0; r < (QK_ROWS); ++r) {
        const QK_X_T *xr = x + r * (QK_N);
        QK_Y_T *yr = y + r * (QK_M);
        for (k = 0; k < (QK_WORDS); ++k) xb[k] = 0u;
        for (i = 0; i < (QK_N); ++i) xb[i / 32] |= (uint32_t)(xr[i] < 0) << (i % 32);
        for (j = 0; j < (QK_M); ++j) {
            const uint32_t *wj = (QK_WBITS)[j];
            long differ = 0;
            QK_ACC_T acc;
            for (k = 0; k < (QK_WORDS); ++k) differ += qk_popcount32(xb[k] ^ wj[k]);
            acc = (QK_ACC_T)((long)(QK_N) - 2 * differ);
#ifdef QK_CHMUL
            acc = (QK_ACC_T)(acc * (QK_CHMUL)[j]);
#endif
#ifdef QK_BIAS
            acc = (QK_ACC_T)(acc + (QK_BIAS)[j]);
#endif
            yr[j] = QK_RQ(acc, j);
        }
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_ROWS
#undef QK_N
#undef QK_M
#undef QK_WORDS
#undef QK_WBITS
#undef QK_CHMUL
#undef QK_BIAS
#undef QK_RQ
