/*
 * qk_affine.h - per-channel affine map over the last axis (batch normalization folded to integers):
 *
 *   y[p][c] = RQ( x[p][c] * scale[c] + offset[c] )      scale and offset on the accumulator grid
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_ACC_T, QK_Y_T, QK_POS (positions), QK_C (channels)
 *   QK_SCALE, QK_OFFSET   const QK_ACC_T [QK_C]
 *   QK_RQ(a, c)
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index p, c;
    for (p = 0; p < (QK_POS); ++p) {
        const QK_X_T *xp = x + p * (QK_C);
        QK_Y_T *yp = y + p * (QK_C);
        for (c = 0; c < (QK_C); ++c) {
            const QK_ACC_T a = (QK_ACC_T)((QK_ACC_T)xp[c] * (QK_SCALE)[c] + (QK_OFFSET)[c]);
            yp[c] = QK_RQ(a, c);
        }
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_POS
#undef QK_C
#undef QK_SCALE
#undef QK_OFFSET
#undef QK_RQ
