/* rng.c — xoshiro256** (Blackman & Vigna) seeded by splitmix64 from (seed, stream). Each
 * consumer of randomness owns a stream id, so adding a consumer never perturbs another. */
#include "core.h"

#include <math.h>

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void wk_rng_init(wk_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ wk_mix64(stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t wk_rng_u64(wk_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double wk_rng_uniform(wk_rng *r) { return (double)(wk_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t wk_rng_below(wk_rng *r, uint64_t bound) {
  WK_ASSERT(bound > 0);
  /* Lemire's nearly-divisionless method with rejection: unbiased. */
  uint64_t x = wk_rng_u64(r);
  __uint128_t m = (__uint128_t)x * bound;
  uint64_t l = (uint64_t)m;
  if (l < bound) {
    uint64_t t = -bound % bound;
    while (l < t) {
      x = wk_rng_u64(r);
      m = (__uint128_t)x * bound;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double wk_rng_exp(wk_rng *r, double mean) { return -mean * log1p(-wk_rng_uniform(r)); }

double wk_rng_normal(wk_rng *r) {
  double u1 = 1.0 - wk_rng_uniform(r), u2 = wk_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
