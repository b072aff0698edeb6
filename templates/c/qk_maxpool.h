/*
 * qk_maxpool.h - max pooling over 2 spatial axes (1-D pooling is the case H = KH = 1), channels last.
 * Padding cells never win (TensorFlow): every window has at least one valid cell, and the running
 * maximum starts at the smallest value of the element type.
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_T (element type of input and output), QK_T_MIN (its smallest value)
 *   QK_H QK_W QK_C QK_OH QK_OW QK_KH QK_KW QK_SH QK_SW QK_PH QK_PW
 */
static void QK_FN(const QK_T *QK_RESTRICT x, QK_T *QK_RESTRICT y)
{
    qk_index oh, ow, i, j, c;
    for (oh = 0; oh < (QK_OH); ++oh) {
        for (ow = 0; ow < (QK_OW); ++ow) {
            QK_T *yp = y + (oh * (QK_OW) + ow) * (QK_C);
            for (c = 0; c < (QK_C); ++c) yp[c] = (QK_T_MIN);
            for (i = 0; i < (QK_KH); ++i) {
                const qk_index ih = oh * (QK_SH) - (QK_PH) + i;
                if (ih < 0 || ih >= (QK_H)) continue;
                for (j = 0; j < (QK_KW); ++j) {
                    const qk_index iw = ow * (QK_SW) - (QK_PW) + j;
                    const QK_T *xp;
                    if (iw < 0 || iw >= (QK_W)) continue;
                    xp = x + (ih * (QK_W) + iw) * (QK_C);
                    for (c = 0; c < (QK_C); ++c) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
                }
            }
        }
    }
}

#undef QK_FN
#undef QK_T
#undef QK_T_MIN
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
