/*
 * qk_depthwise.h - depthwise 2-D convolution, channels last, depth multiplier QK_DM: output channel
 * c * QK_DM + k filters input channel c with its own kernel. Padding as in qk_conv2d.h.
 *
 *   y[oh][ow][c*DM+k] = RQ( (sum_{i,j} x[ih][iw][c] * w[i][j][c][k]) * mul[c*DM+k] + b[c*DM+k] )
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_W_T, QK_ACC_T, QK_Y_T
 *   QK_H QK_W QK_C QK_DM QK_OH QK_OW   (QK_O = QK_C * QK_DM output channels)
 *   QK_KH QK_KW QK_SH QK_SW QK_DH QK_DW QK_PH QK_PW
 *   QK_WEIGHTS           const QK_W_T [QK_KH * QK_KW][QK_C * QK_DM]
 *   QK_CHMUL, QK_BIAS (optional, [QK_C * QK_DM]), QK_RQ(a, o)
 */
static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    QK_ACC_T acc[(QK_C) * (QK_DM)];
    qk_index oh, ow, i, j, c, k, o;
    for (oh = 0; oh < (QK_OH); ++oh) {
        for (ow = 0; ow < (QK_OW); ++ow) {
            QK_Y_T *yp = y + (oh * (QK_OW) + ow) * ((QK_C) * (QK_DM));
            for (o = 0; o < (QK_C) * (QK_DM); ++o) acc[o] = 0;
            for (i = 0; i < (QK_KH); ++i) {
                const qk_index ih = oh * (QK_SH) - (QK_PH) + i * (QK_DH);
                if (ih < 0 || ih >= (QK_H)) continue;
                for (j = 0; j < (QK_KW); ++j) {
                    const qk_index iw = ow * (QK_SW) - (QK_PW) + j * (QK_DW);
                    const QK_X_T *xp;
                    const QK_W_T *wr;
                    if (iw < 0 || iw >= (QK_W)) continue;
                    xp = x + (ih * (QK_W) + iw) * (QK_C);
                    wr = (QK_WEIGHTS)[i * (QK_KW) + j];
                    for (c = 0; c < (QK_C); ++c) {
                        const QK_ACC_T xv = (QK_ACC_T)xp[c];
                        for (k = 0; k < (QK_DM); ++k) {
                            acc[c * (QK_DM) + k] = (QK_ACC_T)(acc[c * (QK_DM) + k] + xv * (QK_ACC_T)wr[c * (QK_DM) + k]);
                        }
                    }
                }
            }
            for (o = 0; o < (QK_C) * (QK_DM); ++o) {
                QK_ACC_T a = acc[o];
#ifdef QK_CHMUL
                a = (QK_ACC_T)(a * (QK_CHMUL)[o]);
#endif
#ifdef QK_BIAS
                a = (QK_ACC_T)(a + (QK_BIAS)[o]);
#endif
                yp[o] = QK_RQ(a, o);
            }
        }
    }
}

#undef QK_FN
#undef QK_X_T
#undef QK_W_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_H
#undef QK_W
#undef QK_C
#undef QK_DM
#undef QK_OH
#undef QK_OW
#undef QK_KH
#undef QK_KW
#undef QK_SH
#undef QK_SW
#undef QK_DH
#undef QK_DW
#undef QK_PH
#undef QK_PW
#undef QK_WEIGHTS
#undef QK_CHMUL
#undef QK_BIAS
#undef QK_RQ
