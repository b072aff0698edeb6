/*
 * qk_avgpool.h - exact average pooling, channels last (1-D: H = KH = 1). The window sum S over the
 * n valid cells becomes S * factor[n]: the IR proves preScale / n * mult dyadic for every n that occurs,
 * so factor[n] is an integer on the accumulator grid.
 *
 *   y[oh][ow][c] = RQ( (sum over valid cells of x[..][..][c]) * factor[n] )
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_ACC_T, QK_Y_T
 *   QK_H QK_W QK_C QK_OH QK_OW QK_KH QK_KW QK_SH QK_SW QK_PH QK_PW
 *   QK_FACTORS    const QK_ACC_T [QK_KH * QK_KW + 1], indexed by the valid-cell count
 *   QK_RQ(a, c)
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    QK_ACC_T acc[QK_C];
    qk_index oh, ow, i, j, c;
    for (oh = 0; oh < (QK_OH); ++oh) {
        for (ow = 0; ow < (QK_OW); ++ow) {
            QK_Y_T *yp = y + (oh * (QK_OW) + ow) * (QK_C);
            qk_index n = 0;
            QK_ACC_T k;
            for (c = 0; c < (QK_C); ++c) acc[c] = 0;
            for (i = 0; i < (QK_KH); ++i) {
                const qk_index ih = oh * (QK_SH) - (QK_PH) + i;
                if (ih < 0 || ih >= (QK_H)) continue;
                for (j = 0; j < (QK_KW); ++j) {
                    const qk_index iw = ow * (QK_SW) - (QK_PW) + j;
                    const QK_X_T *xp;
                    if (iw < 0 || iw >= (QK_W)) continue;
                    xp = x + (ih * (QK_W) + iw) * (QK_C);
                    ++n;
                    for (c = 0; c < (QK_C); ++c) acc[c] = (QK_ACC_T)(acc[c] + (QK_ACC_T)xp[c]);
                }
            }
            k = (QK_FACTORS)[n];
            for (c = 0; c < (QK_C); ++c) {
                const QK_ACC_T a = (QK_ACC_T)(acc[c] * k);
                yp[c] = QK_RQ(a, c);
            }
        }
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_H
#undef QK_W
#undef QK_C
#undef QK_OH
#undef QK_OW
#undef QK_KH
#undef QK_KW
#undef QK_SH
#undef QK_SW
#undef QK_PH
#undef QK_PW
#undef QK_FACTORS
#undef QK_RQ
