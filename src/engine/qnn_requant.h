/* The TFLite fixed-point requantizer: the integer arithmetic that maps an int32 accumulator to the
 * next tensor's scale (MultiplyByQuantizedMultiplier). A leaf: the kernels, the executor and the
 * quantizer (qnn_quant.h, which computes the multipliers) all include it, and it includes nothing of
 * the engine. The names keep the quantization scheme's prefix (qnn_quant_*), as everywhere else. */
#ifndef SRC_QNN_REQUANT_H
#define SRC_QNN_REQUANT_H

#include <stdint.h>

/* TFLite SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one overflow case. */
static inline int32_t qnn_quant_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1LL << 30) : 1 - (1LL << 30);
    return (int32_t)((ab + nudge) / (1LL << 31)); /* C division truncates toward zero, as TFLite's */
}

/* TFLite RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero. e in 0..31. */
static inline int32_t qnn_quant_rdbpot(int32_t x, int e)
{
    int32_t mask = (int32_t)((1LL << e) - 1);
    int32_t rem = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier: x * mult * 2^shift / 2^31 with the rounding above. A
 * positive shift is applied before the multiplication (saturated to int32), a negative one after. */
static inline int32_t qnn_quant_requant(int32_t x, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int64_t xl = (int64_t)x * ((int64_t)1 << left);
    if (xl > INT32_MAX) xl = INT32_MAX;
    if (xl < INT32_MIN) xl = INT32_MIN;
    return qnn_quant_rdbpot(qnn_quant_srdhm((int32_t)xl, mult), right);
}

/* The executor's whole output step of one value: bias added with int32 saturation, requantized,
 * clamped to [lo, hi]. Every vectorized or fused path is bit-identical to this. */
static inline int8_t qnn_quant_requant_out(int32_t acc, int32_t bias, int32_t mult, int shift, int32_t lo, int32_t hi)
{
    int64_t v = (int64_t)acc + bias;
    v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
    int32_t q = qnn_quant_requant((int32_t)v, mult, shift);
    return (int8_t)(q < lo ? lo : q > hi ? hi : q);
}

#endif
