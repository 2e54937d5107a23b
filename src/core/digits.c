/*
 * digits.c - plain decimal numbers (see digits.h).
 */
#include "core/digits.h"

int ps_parse_digits(const char *s, size_t n, size_t max_digits, uint64_t *out)
{
    /* 19 digits always fit in 64 bits. */
    if (n == 0 || n > max_digits || n > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}
