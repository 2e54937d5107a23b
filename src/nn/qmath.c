/*
 * qmath.c - quantized multipliers, activation ranges and the gemmlowp
 * fixed-point exp / reciprocal used by the uint8 softmax.
 */
#include "nn/qmath.h"

#include <math.h>

int ps_q_quantize_multiplier(double real, int32_t *multiplier, int *shift)
{
    *multiplier = 0;
    *shift = 0;
    if (!isfinite(real) || real < 0)
        return -1;
    if (real == 0)
        return 0;
    int sh;
    double q = frexp(real, &sh);
    /* round() rounds half away from zero, like TfLiteRound. */
    int64_t qf = (int64_t)round(q * (double)(1LL << 31));
    if (qf == (1LL << 31)) {
        qf /= 2;
        sh++;
    }
    if (sh < -31) {
        sh = 0;
        qf = 0;
    }
    if (sh > 30)
        return -1;
    *multiplier = (int32_t)qf;
    *shift = sh;
    return 0;
}

/* zero_point + round(f / scale), with the quotient bounded first so that a
 * degenerate scale cannot make the float-to-int conversion undefined. */
static int32_t quantize_value(float f, float scale, int32_t zero_point)
{
    float q = roundf(f / scale);
    if (!(q > -1e6f))
        q = -1e6f;
    if (!(q < 1e6f))
        q = 1e6f;
    return zero_point + (int32_t)q;
}

void ps_q_activation_range(int activation, float scale, int32_t zero_point, int32_t *act_min,
                           int32_t *act_max)
{
    int32_t lo = 0, hi = 255;
    if (activation == 1) { /* RELU */
        int32_t z = quantize_value(0.0f, scale, zero_point);
        lo = z > lo ? z : lo;
    } else if (activation == 3) { /* RELU6 */
        int32_t z = quantize_value(0.0f, scale, zero_point);
        int32_t s = quantize_value(6.0f, scale, zero_point);
        lo = z > lo ? z : lo;
        hi = s < hi ? s : hi;
    } else if (activation == 2) { /* RELU_N1_TO_1 */
        int32_t a = quantize_value(-1.0f, scale, zero_point);
        int32_t b = quantize_value(1.0f, scale, zero_point);
        lo = a > lo ? a : lo;
        hi = b < hi ? b : hi;
    }
    *act_min = lo;
    *act_max = hi;
}

/* Saturating multiplication of a raw fixed-point value by 2^e, e in 1..30. */
static int32_t sat_shl(int32_t x, int e)
{
    int32_t threshold = (int32_t)((1u << (31 - e)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return ps_q_shl(x, e);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: a Taylor expansion around
 * -1/8 with gemmlowp's constants. */
static int32_t exp_on_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    int32_t x = a + (1 << 28);                   /* a + 1/8 */
    int32_t x2 = ps_q_srdhm(x, x);
    int32_t x3 = ps_q_srdhm(x2, x);
    int32_t x4 = ps_q_srdhm(x2, x2);
    int32_t x4_over_4 = ps_q_rdivpot(x4, 2);
    int32_t poly = ps_q_rdivpot(ps_q_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + ps_q_srdhm(constant_term, x + poly);
}

int32_t ps_q_exp_on_negative_values_q5(int32_t a)
{
    enum { FRAC = 26 };
    const int32_t one_quarter = 1 << (FRAC - 2);
    const int32_t mask = one_quarter - 1;
    int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    /* Rescale Q5.26 -> Q0.31: a saturating multiply by 2^5. */
    int32_t result = exp_on_interval(sat_shl(a_mod_quarter_minus_one_quarter, 5));
    int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    /* Barrel shifter: multiply by exp(-2^k) for each bit k of the rest. */
    static const int32_t mults[7] = {1672461947, 1302514674, 790015084, 290630308,
                                     39332535,   720401,     242};
    for (int k = 0; k < 7; k++) {
        int shift_amount = FRAC - 2 + k;
        if (remainder & (int32_t)(1u << shift_amount))
            result = ps_q_srdhm(result, mults[k]);
    }
    if (a == 0)
        result = INT32_MAX;
    return result;
}

/* (a + b) / 2 rounded half away from zero. */
static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

int32_t ps_q_one_over_one_plus_x(int32_t a)
{
    /* Newton-Raphson division in Q2.29 as gemmlowp does it. */
    int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = constant_48_over_17 + ps_q_srdhm(half_denominator, constant_neg_32_over_17);
    for (int i = 0; i < 3; i++) {
        int32_t hd_times_x = ps_q_srdhm(half_denominator, x);
        int32_t one_minus = one_q2 - hd_times_x;
        x = x + sat_shl(ps_q_srdhm(x, one_minus), 2);
    }
    /* x / 2 reinterpreted in Q1.30, then rescaled to Q0.31. */
    return sat_shl(x, 1);
}
