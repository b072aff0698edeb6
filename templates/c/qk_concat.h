/*
 * qk_concat.h - one input's share of a concatenation: its QK_INNER_IN values per outer index go to
 * columns [QK_OFFSET, QK_OFFSET + QK_INNER_IN) of the output rows of QK_INNER_OUT values, multiplied by
 * the integer power-of-two factor QK_K that moves them to the output grid. One instance per input.
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_Y_T, QK_OUTER, QK_INNER_IN, QK_INNER_OUT, QK_OFFSET, QK_K
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index o, i;
    for (o = 0; o < (QK_OUTER); ++o) {
        const QK_X_T *xr = x + o * (QK_INNER_IN);
        QK_Y_T *yr = y + o * (QK_INNER_OUT) + (QK_OFFSET);
        for (i = 0; i < (QK_INNER_IN); ++i) yr[i] = (QK_Y_T)(xr[i] * (QK_K));
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_Y_T
#undef QK_OUTER
#undef QK_INNER_IN
#undef QK_INNER_OUT
#undef QK_OFFSET
#undef QK_K
