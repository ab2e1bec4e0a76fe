/* PCG32 generator, unbiased bounded draws, 53-bit doubles, jump-ahead and a gsl_rng_type wrapper:
 * see rng.h. Written from the published description (O'Neill 2014; Brown 1994); the multiplier is
 * PCG's default 64-bit LCG multiplier. */
#include "rng.h"

#include <string.h>

#include "msg.h"

#define PCG_MULT UINT64_C(6364136223846793005)

static inline void step(rng_pcg32 *r) { r->state = r->state * PCG_MULT + r->inc; }

void rng_seed(rng_pcg32 *r, uint64_t initstate, uint64_t seq)
{
    r->state = 0;
    r->inc = (seq << 1) | 1u;
    step(r);
    r->state += initstate;
    step(r);
}

uint32_t rng_u32(rng_pcg32 *r)
{
    uint64_t old = r->state;
    step(r);
    uint32_t x = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (x >> rot) | (x << ((-rot) & 31u));
}

uint32_t rng_bounded(rng_pcg32 *r, uint32_t bound)
{
    ASSERT(bound >= 1);
    /* 2^32 mod bound draws at the bottom would make small values more likely: reject them. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t v = rng_u32(r);
        if (v >= threshold) return v % bound;
    }
}

double rng_double(rng_pcg32 *r)
{
    uint32_t a = rng_u32(r) >> 5; /* 27 bits */
    uint32_t b = rng_u32(r) >> 6; /* 26 bits */
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

void rng_advance(rng_pcg32 *r, uint64_t delta)
{
    /* Compose the affine map s -> M s + C with itself by squaring: after the loop,
     * state_n = acc_mult * state_0 + acc_plus (all arithmetic mod 2^64). */
    uint64_t cur_mult = PCG_MULT, cur_plus = r->inc, acc_mult = 1, acc_plus = 0;
    while (delta > 0) {
        if (delta & 1) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1;
    }
    r->state = acc_mult * r->state + acc_plus;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void rng_save(const rng_pcg32 *r, unsigned char out[RNG_STATE_BYTES])
{
    put_le64(out, r->state);
    put_le64(out + 8, r->inc);
}

int rng_load(rng_pcg32 *r, const unsigned char in[RNG_STATE_BYTES])
{
    uint64_t inc = get_le64(in + 8);
    if (!(inc & 1)) return -1;
    r->state = get_le64(in);
    r->inc = inc;
    return 0;
}

static void gsl_set(void *state, unsigned long seed) { rng_seed(state, seed, RNG_GSL_SEQ); }
static unsigned long gsl_get(void *state) { return rng_u32(state); }
static double gsl_get_double(void *state) { return rng_double(state); }

static const gsl_rng_type gsl_pcg32_type = {
    "pcg32", 0xffffffffUL, 0, sizeof(rng_pcg32), gsl_set, gsl_get, gsl_get_double,
};

const gsl_rng_type *const rng_gsl_pcg32 = &gsl_pcg32_type;

gsl_rng *rng_gsl_alloc(const rng_pcg32 *r)
{
    gsl_rng *g = gsl_rng_alloc(rng_gsl_pcg32);
    if (!g) msg_abort(__FILE__, __LINE__, "out of memory allocating a GSL generator");
    memcpy(g->state, r, sizeof *r);
    return g;
}

rng_pcg32 *rng_gsl_state(gsl_rng *g)
{
    ASSERT(g->type == rng_gsl_pcg32);
    return g->state;
}
