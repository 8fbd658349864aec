/* bench/evq — event-queue throughput: 10 million events pushed and popped, two ways.
 * hold: the classic hold model (pop one, push one later) at a steady 100,000 pending events,
 *       which is what a replay or an L2 run looks like;
 * bulk: 10 M pushes, then 10 M pops (the queue holds all 10 M at its peak).
 * Aim (issue #2): > 20 M ops/s on one core. */
#include "bench.h"
#include <stdio.h>
#include <time.h>

#include "core/core.h"

int main(void) {
  const size_t n = 10000000, pending = 100000;
  wk_rng r;
  wk_rng_init(&r, 1, 0);
  wk_evq *q = wk_evq_new(pending);
  for (size_t i = 0; i < pending; i++) wk_evq_push(q, (wk_time)wk_rng_below(&r, 1000000), i);
  double t0 = bench_now();
  wk_event e;
  uint64_t check = 0;
  for (size_t i = 0; i < n; i++) {
    wk_evq_pop(q, &e);
    check += e.data;
    wk_evq_push(q, e.time + (wk_time)wk_rng_below(&r, 1000000), i);
  }
  double hold = bench_now() - t0;
  wk_evq_free(q);

  q = wk_evq_new(1024);
  t0 = bench_now();
  for (size_t i = 0; i < n; i++) wk_evq_push(q, (wk_time)wk_rng_below(&r, 1000000000), i);
  while (wk_evq_pop(q, &e)) check += e.data;
  double bulk = bench_now() - t0;
  wk_evq_free(q);

  printf("evq hold  (100,000 pending): %zu push+pop in %.3f s = %.1f M ops/s\n", n, hold,
         2.0 * (double)n / hold / 1e6);
  printf("evq bulk  (10 M pending)   : %zu push+pop in %.3f s = %.1f M ops/s\n", n, bulk,
         2.0 * (double)n / bulk / 1e6);
  printf("(checksum %llu)\n", (unsigned long long)check);
  return 0;
}
