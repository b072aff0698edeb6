/*
 * qk_argmax.h - index of the first maximum along the last axis, for each of QK_ROWS rows of QK_N values
 * (a trailing softmax is monotone, so this is the predicted class).
 *
 * Parameters (#undef'd at the end): QK_FN, QK_X_T, QK_Y_T, QK_ROWS, QK_N
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index r, i;
    for (r = 0; r < (QK_ROWS); ++r) {
        const QK_X_T *xr = x + r * (QK_N);
        qk_index best = 0;
        for (i = 1; i < (QK_N); ++i) {
            if (xr[i] > xr[best]) best = i;
        }
        y[r] = (QK_Y_T)best;
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_Y_T
#undef QK_ROWS
#undef QK_N
