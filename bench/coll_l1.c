/* coll_l1 — L1 all-reduce (ring and hierarchical) over all 61,440 cards of zhengzhou-60k at
 * 1 GiB: the wall time of one coll_time call (target < 50 ms each; the first call also
 * creates the flow engine, so a warm-up call runs first), and the predicted collective time. */
#include "coll/coll.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
  printf("%-6s %12s %12s %14s %14s\n", "algo", "wall_ms", "L0_wall_ms", "predicted_ms",
         "busbw_GB/s");
  for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
    coll_result r, r0;
    if (coll_time(x, COLL_ALLREDUCE, algos[i], 1, cards, n, bytes, &r, &err)) { /* warm-up */
      fprintf(stderr, "%s: %s\n", coll_algo_name(algos[i]), err.msg);
      continue;
    }
    int reps = 5;
    double t = now_s();
    for (int k = 0; k < reps; k++) coll_time(x, COLL_ALLREDUCE, algos[i], 1, cards, n, bytes, &r, &err);
    double wall = (now_s() - t) / reps;
    t = now_s();
    coll_time(x, COLL_ALLREDUCE, algos[i], 0, cards, n, bytes, &r0, &err);
    double wall0 = now_s() - t;
    printf("%-6s %12.2f %12.2f %14.3f %14.2f\n", coll_algo_name(algos[i]), wall * 1e3,
           wall0 * 1e3, r.time_s * 1e3, r.busbw / 1e9);
  }
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
  return 0;
}
