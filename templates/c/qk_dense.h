/*
 * qk_dense.h - dense layer (and pointwise 1x1 convolution, one row per position), multiply-accumulate.
 *
 *   y[r][j] = RQ( (sum_i x[r][i] * w[j][i]) * mul[j] + b[j] )
 *
 * The kernel is stored transposed, one contiguous row of QK_N weights per unit, so the inner loop is a
 * dot product over contiguous memory with a trip count fixed at compile time (vectorisable).
 * Instantiate by defining the parameters below and including this file; it #undefs them afterwards.
 *   QK_FN                       name of the static function to define: void QK_FN(const x *, y *)
 *   QK_X_T QK_W_T QK_ACC_T QK_Y_T   input, weight, accumulator and output element types
 *   QK_ROWS QK_N QK_M           rows (positions), inputs per row, units
 *   QK_WEIGHTS                  const QK_W_T [QK_M][QK_N]
 *   QK_CHMUL (optional)         const QK_ACC_T [QK_M]: per-unit power-of-two factor aligning the unit's grid
 *   QK_BIAS (optional)          const QK_ACC_T [QK_M]: bias on the accumulator grid
 *   QK_RQ(a, j)                 output code of accumulator a of unit j
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index r, j, i;
    for (r = 0; r < (QK_ROWS); ++r) {
        const QK_X_T *xr = x + r * (QK_N);
        QK_Y_T *yr = y + r * (QK_M);
        for (j = 0; j < (QK_M); ++j) {
            const QK_W_T *wj = (QK_WEIGHTS)[j];
            QK_ACC_T acc = 0;
            for (i = 0; i < (QK_N); ++i) {
                acc = (QK_ACC_T)(acc + (QK_ACC_T)xr[i] * (QK_ACC_T)wj[i]);
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
#undef QK_W_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_ROWS
#undef QK_N
#undef QK_M
#undef QK_WEIGHTS
#undef QK_CHMUL
#undef QK_BIAS
#undef QK_RQ
