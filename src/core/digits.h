/*
 * digits.h - a whole number written as plain decimal digits, from
 * untrusted text: what every data file and request parameter of picseek
 * uses for counts, ids and line numbers.
 */
#ifndef PS_CORE_DIGITS_H
#define PS_CORE_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* s[0..n) as a number: 1 to max_digits (at most 19) ASCII digits and
 * nothing else (no sign, no space).  Returns 0 and *out, or -1. */
int ps_parse_digits(const char *s, size_t n, size_t max_digits, uint64_t *out);

#endif
