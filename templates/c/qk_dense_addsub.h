/*
 * qk_dense_addsub.h - dense / pointwise layer with binary or ternary weights (codes -1, 0, +1): no
 * multiplier at all. Each unit keeps the indices of its +1 and -1 weights; zero weights cost nothing.
 *
 *   y[r][j] = RQ( (sum_{i in P_j} x[r][i] - sum_{i in N_j} x[r][i]) * mul[j] + b[j] )
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_ACC_T, QK_Y_T, QK_ROWS, QK_N, QK_M   as in qk_dense.h
 *   QK_POS, QK_NEG              const index arrays: input indices of the +1 and -1 weights, unit by unit
 *   QK_POS_AT, QK_NEG_AT        const [QK_M + 1]: where each unit's indices start in QK_POS / QK_NEG
 *   QK_CHMUL, QK_BIAS (optional), QK_RQ(a, j)   as in qk_dense.h
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index r, j, k;
    for (r = 0; r < (QK_ROWS); ++r) {
        const QK_X_T *xr = x + r * (QK_N);
        QK_Y_T *yr = y + r * (QK_M);
        for (j = 0; j < (QK_M); ++j) {
            QK_ACC_T acc = 0;
            for (k = (qk_index)(QK_POS_AT)[j]; k < (qk_index)(QK_POS_AT)[j + 1]; ++k) {
                acc = (QK_ACC_T)(acc + (QK_ACC_T)xr[(QK_POS)[k]]);
            }
            for (k = (qk_index)(QK_NEG_AT)[j]; k < (qk_index)(QK_NEG_AT)[j + 1]; ++k) {
                acc = (QK_ACC_T)(acc - (QK_ACC_T)xr[(QK_NEG)[k]]);
            }
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
#undef QK_POS
#undef QK_NEG
#undef QK_POS_AT
#undef QK_NEG_AT
#undef QK_CHMUL
#undef QK_BIAS
#undef QK_RQ
