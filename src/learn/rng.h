/*
 * rng.h - a small deterministic pseudo-random generator for learn/.
 *
 * xoshiro256** (Blackman & Vigna) seeded through splitmix64, so any 64-bit
 * seed (0 included) gives a well-mixed state.  The integer sequence depends
 * only on the seed, on every platform: splits and shuffles repeat exactly.
 * (ps_rng_normal goes through libm's log and cos, so its last bits could
 * differ between C libraries; on one machine everything repeats.)  A ps_rng is a plain value owned by the caller; it is not shared
 * between threads (give each thread its own, seeded from a parent).
 */
#ifndef PS_LEARN_RNG_H
#define PS_LEARN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ps_rng {
    uint64_t s[4];
} ps_rng;

/* One step of splitmix64: advances *state and returns a mixed value. */
uint64_t ps_splitmix64(uint64_t *state);

void ps_rng_seed(ps_rng *r, uint64_t seed);
uint64_t ps_rng_u64(ps_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double ps_rng_uniform(ps_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t ps_rng_below(ps_rng *r, uint64_t n);
/* Standard normal deviate (Box-Muller; uses two uniforms per call). */
double ps_rng_normal(ps_rng *r);
/* Fisher-Yates shuffle of n indices in place. */
void ps_rng_shuffle(ps_rng *r, size_t *v, size_t n);

#endif
