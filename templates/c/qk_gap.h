/*
 * qk_gap.h - global average pooling: the sum over all QK_CELLS positions of each channel, times the
 * integer factor QK_K that the IR derives from the divisor and the multiplier (exact by construction).
 *
 *   y[c] = RQ( (sum_p x[p][c]) * QK_K )
 *
 * Parameters (#undef'd at the end): QK_FN, QK_X_T, QK_ACC_T, QK_Y_T, QK_CELLS, QK_C, QK_K, QK_RQ(a, c)
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    QK_ACC_T acc[QK_C];
    qk_index p, c;
    for (c = 0; c < (QK_C); ++c) acc[c] = 0;
    for (p = 0; p < (QK_CELLS); ++p) {
        const QK_X_T *xp = x + p * (QK_C);
        for (c = 0; c < (QK_C); ++c) acc[c] = (QK_ACC_T)(acc[c] + (QK_ACC_T)xp[c]);
    }
    for (c = 0; c < (QK_C); ++c) {
        const QK_ACC_T a = (QK_ACC_T)(acc[c] * (QK_K));
        y[c] = QK_RQ(a, c);
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_CELLS
#undef QK_C
#undef QK_K
#undef QK_RQ
