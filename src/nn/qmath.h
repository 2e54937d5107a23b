/*
 * qmath.h - the integer arithmetic of TensorFlow Lite's uint8 asymmetric
 * quantization, bit for bit.
 *
 * A real value r is stored as a byte q with r = scale * (q - zero_point).
 * Kernels accumulate in int32 and rescale the sum to the output's scale by a
 * "quantized multiplier": a real factor M written as m * 2^shift with m a
 * Q0.31 fixed-point number in [0.5, 1).  The rounding rules below (a
 * doubling high multiply that rounds half up, then a right shift that rounds
 * half away from zero) are exactly those of the reference kernels, so that
 * picseek's outputs match TensorFlow Lite's byte for byte.
 *
 * Everything here is pure and header-only so the scalar and SIMD kernels
 * share one definition.
 */
#ifndef PS_NN_QMATH_H
#define PS_NN_QMATH_H

#include <stdint.h>

/* (a * b * 2) / 2^32 rounded to nearest (ties toward +infinity), with the
 * single overflowing case INT32_MIN * INT32_MIN saturated. */
static inline int32_t ps_q_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* C division truncates toward zero, as the reference requires. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t ps_q_rdivpot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^left_shift with the wrap-around of two's complement (the reference
 * multiplies by 1 << shift in int32). */
static inline int32_t ps_q_shl(int32_t x, int left_shift)
{
    return (int32_t)((uint32_t)x << left_shift);
}

/* x * M where M = multiplier * 2^(shift - 31). */
static inline int32_t ps_q_mul(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return ps_q_rdivpot(ps_q_srdhm(ps_q_shl(x, left), multiplier), right);
}

static inline int32_t ps_q_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Split a positive real multiplier into (multiplier, shift) as
 * QuantizeMultiplier does: frexp, round the mantissa to Q0.31 (half away
 * from zero), renormalise 2^31, flush anything below 2^-31 to zero.
 * Returns -1 for a value that is not finite and non-negative, or too large
 * to represent (shift > 30). */
int ps_q_quantize_multiplier(double real, int32_t *multiplier, int *shift);

/* The activation clamp of a fused RELU / RELU6 / RELU_N1_TO_1 (or none) for
 * a uint8 output with the given scale and zero point, computed as
 * CalculateActivationRangeQuantized does (float division, round half away
 * from zero).  activation uses the TFLite enum values 0..3. */
void ps_q_activation_range(int activation, float scale, int32_t zero_point, int32_t *act_min,
                           int32_t *act_max);

/* gemmlowp fixed-point helpers for the uint8 softmax.  Values are raw int32
 * fixed-point numbers; "Qm" means m integer bits. */

/* exp(a) for a <= 0 given in Q5.26; result in Q0.31. */
int32_t ps_q_exp_on_negative_values_q5(int32_t a);
/* 1 / (1 + x) for x in [0, 1) given in Q0.31; result in Q0.31. */
int32_t ps_q_one_over_one_plus_x(int32_t x);

#endif
