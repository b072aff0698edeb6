/*
 * qk_conv2d.h - 2-D convolution, channels last (a 1-D convolution is the case H = KH = 1).
 * TensorFlow padding: PH/PW cells before, windows clipped at the borders (padding cells contribute 0).
 *
 *   y[oh][ow][f] = RQ( (sum_{i,j,c} x[oh*SH - PH + i*DH][ow*SW - PW + j*DW][c] * w[i][j][c][f]) * mul[f] + b[f] )
 *
 * One accumulator per filter, updated by a contiguous weight row for each input value: the inner loop
 * runs over QK_FP >= QK_F filters (padded with zero weights to a vector-friendly count). Where four
 * neighbouring outputs of a row have their whole windows inside the input, they are computed together:
 * each weight row is loaded once for four independent accumulator rows, which also breaks the chain of
 * dependent read-modify-writes on one accumulator row (the limit of the one-output loop).
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_X_T, QK_W_T, QK_ACC_T, QK_Y_T     function name and element types
 *   QK_H QK_W QK_C       input height, width, channels
 *   QK_OH QK_OW QK_F     output height, width, filters;  QK_FP  padded filter count
 *   QK_KH QK_KW QK_SH QK_SW QK_DH QK_DW QK_PH QK_PW   kernel, strides, dilation, padding before
 *   QK_WEIGHTS           const QK_W_T [QK_KH * QK_KW * QK_C][QK_FP]
 *   QK_CHMUL, QK_BIAS (optional, [QK_F]), QK_RQ(a, f)   as in qk_dense.h
 */
/* Requantizes the accumulator row `acc` of one output position into `yp`. */
#define QK_CONV_STORE(acc, yp)                                                                  \
    do {                                                                                        \
        qk_index f_;                                                                            \
        for (f_ = 0; f_ < (QK_F); ++f_) {                                                       \
            QK_ACC_T a_ = (acc)[f_];                                                            \
            QK_CONV_CHANNEL(a_, f_);                                                            \
            (yp)[f_] = QK_RQ(a_, f_);                                                           \
        }                                                                                       \
    } while (0)

#if defined(QK_CHMUL) && defined(QK_BIAS)
#define QK_CONV_CHANNEL(a, f) ((a) = (QK_ACC_T)((QK_ACC_T)((a) * (QK_CHMUL)[f]) + (QK_BIAS)[f]))
#elif defined(QK_CHMUL)
#define QK_CONV_CHANNEL(a, f) ((a) = (QK_ACC_T)((a) * (QK_CHMUL)[f]))
#elif defined(QK_BIAS)
#define QK_CONV_CHANNEL(a, f) ((a) = (QK_ACC_T)((a) + (QK_BIAS)[f]))
#else
#define QK_CONV_CHANNEL(a, f) ((void)(a), (void)(f))
#endif

static void QK_FN(const QK_X_T *QK_RESTRICT x, QK_Y_T *QK_RESTRICT y)
{
    QK_ACC_T acc[QK_FP];
    QK_ACC_T acc4[4][QK_FP];
    qk_index oh, ow, i, j, c, f, p;
    for (oh = 0; oh < (QK_OH); ++oh) {
        for (ow = 0; ow < (QK_OW);) {
            const qk_index iw0 = ow * (QK_SW) - (QK_PW);
            if (ow + 4 <= (QK_OW) && iw0 >= 0 && iw0 + 3 * (QK_SW) + ((QK_KW) - 1) * (QK_DW) < (QK_W)) {
                /* Four outputs whose windows lie inside the row: no column checks. */
                for (p = 0; p < 4; ++p) {
                    for (f = 0; f < (QK_FP); ++f) acc4[p][f] = 0;
                }
                for (i = 0; i < (QK_KH); ++i) {
                    const qk_index ih = oh * (QK_SH) - (QK_PH) + i * (QK_DH);
                    if (ih < 0 || ih >= (QK_H)) continue;
                    for (j = 0; j < (QK_KW); ++j) {
                        const QK_X_T *xp = x + (ih * (QK_W) + iw0 + j * (QK_DW)) * (QK_C);
                        for (c = 0; c < (QK_C); ++c) {
                            const QK_ACC_T x0 = (QK_ACC_T)xp[c];
                            const QK_ACC_T x1 = (QK_ACC_T)xp[c + (QK_SW) * (QK_C)];
                            const QK_ACC_T x2 = (QK_ACC_T)xp[c + 2 * (QK_SW) * (QK_C)];
                            const QK_ACC_T x3 = (QK_ACC_T)xp[c + 3 * (QK_SW) * (QK_C)];
                            const QK_W_T *wr = (QK_WEIGHTS)[(i * (QK_KW) + j) * (QK_C) + c];
                            for (f = 0; f < (QK_FP); ++f) {
                                const QK_ACC_T w = (QK_ACC_T)wr[f];
                                acc4[0][f] = (QK_ACC_T)(acc4[0][f] + x0 * w);
                                acc4[1][f] = (QK_ACC_T)(acc4[1][f] + x1 * w);
                                acc4[2][f] = (QK_ACC_T)(acc4[2][f] + x2 * w);
                                acc4[3][f] = (QK_ACC_T)(acc4[3][f] + x3 * w);
                            }
                        }
                    }
                }
                for (p = 0; p < 4; ++p) QK_CONV_STORE(acc4[p], y + (oh * (QK_OW) + ow + p) * (QK_F));
                ow += 4;
            } else {
                /* One output, windows clipped at the borders (padding cells contribute 0). */
                for (f = 0; f < (QK_FP); ++f) acc[f] = 0;
                for (i = 0; i < (QK_KH); ++i) {
                    const qk_index ih = oh * (QK_SH) - (QK_PH) + i * (QK_DH);
                    if (ih < 0 || ih >= (QK_H)) continue;
                    for (j = 0; j < (QK_KW); ++j) {
                        const qk_index iw = iw0 + j * (QK_DW);
                        const QK_X_T *xp;
                        if (iw < 0 || iw >= (QK_W)) continue;
                        xp = x + (ih * (QK_W) + iw) * (QK_C);
                        for (c = 0; c < (QK_C); ++c) {
                            const QK_ACC_T xv = (QK_ACC_T)xp[c];
                            const QK_W_T *wr = (QK_WEIGHTS)[(i * (QK_KW) + j) * (QK_C) + c];
                            for (f = 0; f < (QK_FP); ++f) acc[f] = (QK_ACC_T)(acc[f] + xv * (QK_ACC_T)wr[f]);
                        }
                    }
                }
                QK_CONV_STORE(acc, y + (oh * (QK_OW) + ow) * (QK_F));
                ow += 1;
            }
        }
    }
}

#undef QK_CONV_STORE
#undef QK_CONV_CHANNEL
#undef QK_FN
#undef QK_X_T
#undef QK_W_T
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_H
#undef QK_W
#undef QK_C
#undef QK_OH
#undef QK_OW
#undef QK_F
#undef QK_FP
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
