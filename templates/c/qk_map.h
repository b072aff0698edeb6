/*
 * qk_map.h - an element-wise rule (standalone requantizer or activation, or a typed copy):
 *
 *   y[i] = RQ( (QK_ACC_T) x[i] )
 *
 * Parameters (#undef'd at the end): QK_FN, QK_X_T, QK_ACC_T, QK_Y_T, QK_SIZE, QK_RQ(a, i)
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    qk_index i;
    for (i = 0; i < (QK_SIZE); ++i) {
        const QK_ACC_T a = (QK_ACC_T)x[i];
        y[i] = QK_RQ(a, i);
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_SIZE
#undef QK_RQ
