/* Scalar reference convolutions (see qnn_conv.h). Clarity over speed: these define the results that
 * every optimized kernel must reproduce bit for bit. */
#include "qnn_conv.h"

#include "msg.h"

int qnn_conv_shape_finish(qnn_conv_shape *s)
{
    if (s->n < 0 || s->h < 1 || s->w < 1 || s->cin < 1 || s->cout < 1 || s->kh < 1 || s->kw < 1 ||
        s->stride_h < 1 || s->stride_w < 1 || s->pad_t < 0 || s->pad_l < 0 || s->pad_b < 0 || s->pad_r < 0)
        return -1;
    int32_t eh = s->h + s->pad_t + s->pad_b - s->kh, ew = s->w + s->pad_l + s->pad_r - s->kw;
    if (eh < 0 || ew < 0) return -1;
    s->ho = eh / s->stride_h + 1;
    s->wo = ew / s->stride_w + 1;
    return 0;
}

uint64_t qnn_conv_macs(const qnn_conv_shape *s)
{
    return (uint64_t)s->ho * s->wo * s->kh * s->kw * s->cin * s->cout;
}

void qnn_conv_acc_ref(const qnn_conv_shape *s, const int16_t *const *planes, const uint8_t *plane_of,
                      const int16_t *w, int32_t *acc)
{
    ASSERT((int64_t)s->kh * s->kw * s->cin <= 65535);
    const size_t in_img = (size_t)s->h * s->w * s->cin;
    for (int32_t n = 0; n < s->n; n++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++)
                for (int32_t co = 0; co < s->cout; co++) {
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < s->kh; ky++)
                        for (int32_t kx = 0; kx < s->kw; kx++) {
                            int32_t iy = oy * s->stride_h - s->pad_t + ky;
                            int32_t ix = ox * s->stride_w - s->pad_l + kx;
                            int inside = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w;
                            for (int32_t ci = 0; ci < s->cin; ci++) {
                                const int16_t *pl = planes[plane_of ? plane_of[(size_t)co * s->cin + ci] : 0];
                                /* outside the map the activation is 0; f(0) = 0 for every separable
                                 * transform the library accepts (checked when transforms are built) */
                                int32_t a = inside ? pl[n * in_img + ((size_t)iy * s->w + ix) * s->cin + ci] : 0;
                                int32_t wt = w[(((size_t)co * s->kh + ky) * s->kw + kx) * s->cin + ci];
                                sum += a * wt;
                            }
                        }
                    acc[(((size_t)n * s->ho + oy) * s->wo + ox) * s->cout + co] = sum;
                }
}

void qnn_conv_acc_lut_ref(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                          const int16_t *const *luts, const uint16_t *lut_of, int32_t *acc)
{
    ASSERT((int64_t)s->kh * s->kw * s->cin <= 65535);
    const size_t in_img = (size_t)s->h * s->w * s->cin;
    for (int32_t n = 0; n < s->n; n++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++)
                for (int32_t co = 0; co < s->cout; co++) {
                    int32_t sum = 0;
                    for (int32_t ky = 0; ky < s->kh; ky++)
                        for (int32_t kx = 0; kx < s->kw; kx++) {
                            int32_t iy = oy * s->stride_h - s->pad_t + ky;
                            int32_t ix = ox * s->stride_w - s->pad_l + kx;
                            int inside = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w;
                            for (int32_t ci = 0; ci < s->cin; ci++) {
                                const int16_t *lut = luts[lut_of ? lut_of[(size_t)co * s->cin + ci] : 0];
                                uint8_t a = inside ? (uint8_t)in[n * in_img + ((size_t)iy * s->w + ix) * s->cin + ci] : 0;
                                uint8_t wt = (uint8_t)w[(((size_t)co * s->kh + ky) * s->kw + kx) * s->cin + ci];
                                sum += lut[a * 256 + wt];
                            }
                        }
                    acc[(((size_t)n * s->ho + oy) * s->wo + ox) * s->cout + co] = sum;
                }
}
