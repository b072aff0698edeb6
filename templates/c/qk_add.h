/*
 * qk_add.h - element-wise sum of 2 to 8 equally shaped inputs, each aligned to the accumulator grid by an
 * integer power-of-two factor:
 *
 *   y[i] = RQ( x0[i] * K0 + x1[i] * K1 + ... )
 *
 * Parameters (#undef'd at the end):
 *   QK_FN, QK_ACC_T, QK_Y_T, QK_SIZE (elements), QK_NIN (2..8)
 *   QK_X0_T .. QK_X7_T, QK_K0 .. QK_K7   element type and grid factor of each input (the first QK_NIN)
 *   QK_RQ(a, i)
 */
#if QK_NIN < 2 || QK_NIN > 8
#error "qk_add.h: QK_NIN must be between 2 and 8"
#endif

static void QK_FN(const QK_X0_T *QK_RESTRICT x0, const QK_X1_T *QK_RESTRICT x1,
#if QK_NIN > 2
                  const QK_X2_T *QK_RESTRICT x2,
#endif
#if QK_NIN > 3
                  const QK_X3_T *QK_RESTRICT x3,
#endif
#if QK_NIN > 4
                  const QK_X4_T *QK_RESTRICT x4,
#endif
#if QK_NIN > 5
                  const QK_X5_T *QK_RESTRICT x5,
#endif
#if QK_NIN > 6
                  const QK_X6_T *QK_RESTRICT x6,
#endif
#if QK_NIN > 7
                  const QK_X7_T *QK_RESTRICT x7,
#endif
                  QK_Y_T *QK_RESTRICT y)
{
    qk_index i;
    for (i = 0; i < (QK_SIZE); ++i) {
        QK_ACC_T a = (QK_ACC_T)((QK_ACC_T)x0[i] * (QK_K0) + (QK_ACC_T)x1[i] * (QK_K1));
#if QK_NIN > 2
        a = (QK_ACC_T)(a + (QK_ACC_T)x2[i] * (QK_K2));
#endif
#if QK_NIN > 3
        a = (QK_ACC_T)(a + (QK_ACC_T)x3[i] * (QK_K3));
#endif
#if QK_NIN > 4
        a = (QK_ACC_T)(a + (QK_ACC_T)x4[i] * (QK_K4));
#endif
#if QK_NIN > 5
        a = (QK_ACC_T)(a + (QK_ACC_T)x5[i] * (QK_K5));
#endif
#if QK_NIN > 6
        a = (QK_ACC_T)(a + (QK_ACC_T)x6[i] * (QK_K6));
#endif
#if QK_NIN > 7
        a = (QK_ACC_T)(a + (QK_ACC_T)x7[i] * (QK_K7));
#endif
        y[i] = QK_RQ(a, i);
    }
}

#undef QK_FN
#undef QK_ACC_T
#undef QK_Y_T
#undef QK_SIZE
#undef QK_NIN
#undef QK_X0_T
#undef QK_X1_T
#undef QK_X2_T
#undef QK_X3_T
#undef QK_X4_T
#undef QK_X5_T
#undef QK_X6_T
#undef QK_X7_T
#undef QK_K0
#undef QK_K1
#undef QK_K2
#undef QK_K3
#undef QK_K4
#undef QK_K5
#undef QK_K6
#undef QK_K7
#undef QK_RQ
