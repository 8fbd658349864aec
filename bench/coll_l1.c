/* coll_l1 — L1 all-reduce (ring, hierarchical, rhd, tree) over all 61,440 cards of
 * zhengzhou-60k at 1 GiB (target < 50 ms per call for ring and hier). Prints, per algorithm:
 *   first_ms   a call on cards never seen before (routes + max-min solve of every phase;
 *              best of 3, each on a card list with two ranks swapped so nothing is cached;
 *              the flow engine is made by a warm-up call first). Before the phase cache every
 *              call cost this: ring ~42 ms, hier ~66 ms on the 2-core dev box (2026-05).
 *   cached_ms  the same call again (phases answered from coll_ctx's cache; mean of 5);
 *   sweep_ms   a whole nccl-tests sweep 1K..16G (25 sizes) on the cached cards, and
 *   cold_sweep_ms  the same sweep right after coll_ctx_invalidate (so each phase is solved
 *              once, and the flow engine made again), against 25 x first_ms uncached. */
#include "bench.h"
#include "coll/coll.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void swap(uint32_t *a, uint32_t *b) {
  uint32_t t = *a;
  *a = *b;
  *b = t;
}

/* Wall seconds of a sweep 1K..16G (x2 per row); the result of the last row into *r. */
static double sweep(coll_ctx *x, coll_algo a, const uint32_t *cards, uint32_t n, coll_result *r) {
  wk_err err;
  double t = bench_now();
  for (double b = 1024; b <= 17179869184.0; b *= 2)
    if (coll_time(x, COLL_ALLREDUCE, a, 1, cards, n, b, r, &err)) fprintf(stderr, "%s\n", err.msg);
  return bench_now() - t;
}

int main(int argc, char **argv) {
  const char *spec = argc > 1 ? argv[1] : "zhengzhou-60k";
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    char buf[1024];
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    return 2;
  }
  uint32_t n = hw_cards(c), *cards = malloc(n * sizeof *cards);
  for (uint32_t i = 0; i < n; i++) cards[i] = i;
  coll_ctx *x = coll_ctx_new(c);
  const double bytes = 1073741824.0;
  const coll_algo algos[] = {COLL_RING, COLL_HIER, COLL_RHD, COLL_TREE};
  printf("# L1 all-reduce of 1 GiB over %u cards of %s\n", n, spec);
  printf("%-6s %10s %10s %10s %14s %10s %14s %12s\n", "algo", "first_ms", "cached_ms",
         "sweep_ms", "cold_sweep_ms", "L0_ms", "predicted_ms", "busbw_GB/s");
  for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
    coll_algo a = algos[i];
    coll_result r, r0;
    if (coll_time(x, COLL_ALLREDUCE, a, 1, cards, n, bytes, &r, &err)) { /* warm-up */
      fprintf(stderr, "%s: %s\n", coll_algo_name(a), err.msg);
      continue;
    }
    double first = 1e30;
    for (uint32_t k = 0; k < 3 && n > 4; k++) { /* a card list not cached yet */
      swap(&cards[1], &cards[2 + k]);
      double t = bench_now();
      coll_time(x, COLL_ALLREDUCE, a, 1, cards, n, bytes, &r, &err);
      t = bench_now() - t;
      if (t < first) first = t;
      swap(&cards[1], &cards[2 + k]);
    }
    const int reps = 5;
    double t = bench_now();
    for (int k = 0; k < reps; k++) coll_time(x, COLL_ALLREDUCE, a, 1, cards, n, bytes, &r, &err);
    double cached = (bench_now() - t) / reps;
    coll_result rs;
    double sw = sweep(x, a, cards, n, &rs);
    coll_ctx_invalidate(x);
    double cold = sweep(x, a, cards, n, &rs);
    t = bench_now();
    coll_time(x, COLL_ALLREDUCE, a, 0, cards, n, bytes, &r0, &err);
    double wall0 = bench_now() - t;
    printf("%-6s %10.2f %10.2f %10.2f %14.2f %10.2f %14.3f %12.2f\n", coll_algo_name(a),
           first * 1e3, cached * 1e3, sw * 1e3, cold * 1e3, wall0 * 1e3, r.time_s * 1e3,
           r.busbw / 1e9);
  }
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
  return 0;
}
