/* PCG32 (O'Neill, "PCG: a family of simple fast space-efficient statistically good algorithms for
 * random number generation", 2014): 64-bit LCG state, XSH-RR output, 2^64 period per stream and 2^63
 * selectable streams. The generator is always passed explicitly (`_r` style); there is no global one.
 * One stream per purpose (GA operators, evaluation subsets ...) via rng_seed()'s `seq`, so adding draws
 * in one place never shifts another.
 *
 * Invariants: `inc` is odd. The state serialises as two little-endian u64 (state, inc), so a saved
 * generator continues bit-identically on any little-endian host.
 * Test vector (state 42, sequence 54): 0xa15c02b7 0x7b47f409 0xba1d3330 0x83d2f293 0xbfa4784b 0xcbed606e. */
#ifndef SRC_RNG_H
#define SRC_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

typedef struct rng_pcg32 {
    uint64_t state; /* current LCG state */
    uint64_t inc;   /* stream selector, always odd */
} rng_pcg32;

enum { RNG_STATE_BYTES = 16 };

/* Seed `r` with initial state `initstate` on stream `seq` (pcg32_srandom_r semantics). */
void rng_seed(rng_pcg32 *r, uint64_t initstate, uint64_t seq);

/* Next 32 uniformly distributed bits. */
uint32_t rng_u32(rng_pcg32 *r);

/* Uniform integer in [0, bound) without modulo bias (rejects draws below -bound % bound).
 * `bound` must be >= 1 (ASSERT). */
uint32_t rng_bounded(rng_pcg32 *r, uint32_t bound);

/* Uniform double in [0, 1) with 53 random bits (two draws: 27 + 26 bits). */
double rng_double(rng_pcg32 *r);

/* Jump ahead by `delta` steps (or back, modulo 2^64) in O(log delta) (Brown, "Random number
 * generation with arbitrary strides", 1994): rng_advance(r, n) equals n calls of rng_u32(). */
void rng_advance(rng_pcg32 *r, uint64_t delta);

/* Serialise the state to / from 16 bytes: state then inc, little-endian u64 each.
 * rng_load() returns 0, or -1 (without touching `r`) when the increment is even (not a PCG state). */
void rng_save(const rng_pcg32 *r, unsigned char out[RNG_STATE_BYTES]);
int rng_load(rng_pcg32 *r, const unsigned char in[RNG_STATE_BYTES]);

/* PCG32 as a GSL generator, so gsl_ran_* distributions can draw from it. gsl_rng_set(g, s) seeds
 * stream RNG_GSL_SEQ with state `s`; get returns rng_u32(), get_double rng_double(). */
enum { RNG_GSL_SEQ = 54 };
extern const gsl_rng_type *const rng_gsl_pcg32;

/* Allocate a GSL generator that continues from a copy of `r` (caller frees with gsl_rng_free()). */
gsl_rng *rng_gsl_alloc(const rng_pcg32 *r);

/* The PCG state inside a generator made from rng_gsl_pcg32 (borrowed), e.g. to save it. */
rng_pcg32 *rng_gsl_state(gsl_rng *g);

#endif
