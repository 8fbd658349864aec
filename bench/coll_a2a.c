/* coll_a2a — L2 direct all-to-all among 4,096 packed cards of zhengzhou-60k (4096 x 4095 =
 * 16.8 M flows, all started at once and run event by event to the end): wall time, the
 * predicted collective time, and the process's peak memory (getrusage maxrss). Optional
 * arguments: cards (default 4096), size per rank (default 256M), the levels to time (default
 * 012), e.g. `coll_a2a 4096 256M 2` for L2 alone. */
#include "bench.h"
#include "coll/coll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_level(coll_ctx *x, int level, const uint32_t *cards, uint32_t n, double bytes) {
  coll_result r;
  wk_err err;
  double t = bench_now();
  if (coll_time(x, COLL_ALLTOALL, COLL_DIRECT, level, cards, n, bytes, &r, &err))
    printf("L%d: %s\n", level, err.msg);
  else
    printf("L%d: wall %8.3f s  predicted %.3f ms  busbw %.2f GB/s  peak RSS %.0f MiB\n", level,
           bench_now() - t, r.time_s * 1e3, r.busbw / 1e9, bench_peak_rss_mib());
  fflush(stdout);
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 4096;
  uint64_t bytes = 256u << 20;
  if (argc > 2 && wk_parse_size(argv[2], &bytes)) return 2;
  const char *levels = argc > 3 ? argv[3] : "012";
  wk_err err;
  hw_cluster *c = hw_load("zhengzhou-60k", &err);
  if (!c || n < 2 || n > hw_cards(c)) return 2;
  uint32_t *cards = malloc(n * sizeof *cards);
  for (uint32_t i = 0; i < n; i++) cards[i] = i;
  coll_ctx *x = coll_ctx_new(c);
  printf("# direct all-to-all, %u cards of zhengzhou-60k, %llu bytes per rank, %.1f M flows\n",
         n, (unsigned long long)bytes, (double)n * (n - 1) / 1e6);
  for (int level = 0; level <= 2; level++)
    if (strchr(levels, '0' + level)) run_level(x, level, cards, n, (double)bytes);
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
  return 0;
}
