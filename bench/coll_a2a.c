/* coll_a2a — L2 direct all-to-all among 4,096 packed cards of zhengzhou-60k (4096 x 4095 =
 * 16.8 M flows, all started at once and run event by event to the end): wall time, the
 * predicted collective time, and the process's peak memory (getrusage maxrss). Optional
 * arguments: cards (default 4096), size per rank (default 256M). */
#include "bench.h"
#include "coll/coll.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 4096;
  uint64_t bytes = 256u << 20;
  if (argc > 2 && wk_parse_size(argv[2], &bytes)) return 2;
  wk_err err;
  hw_cluster *c = hw_load("zhengzhou-60k", &err);
  if (!c || n < 2 || n > hw_cards(c)) return 2;
  uint32_t *cards = malloc(n * sizeof *cards);
  for (uint32_t i = 0; i < n; i++) cards[i] = i;
  coll_ctx *x = coll_ctx_new(c);
  coll_result r0, r1, r2;
  struct rusage ru;
  printf("# direct all-to-all, %u cards of zhengzhou-60k, %llu bytes per rank, %.1f M flows\n",
         n, (unsigned long long)bytes, (double)n * (n - 1) / 1e6);
  double t = bench_now();
  coll_time(x, COLL_ALLTOALL, COLL_DIRECT, 0, cards, n, (double)bytes, &r0, &err);
  printf("L0: wall %8.3f s  predicted %.3f ms  busbw %.2f GB/s\n", bench_now() - t, r0.time_s * 1e3,
         r0.busbw / 1e9);
  fflush(stdout);
  t = bench_now();
  if (coll_time(x, COLL_ALLTOALL, COLL_DIRECT, 1, cards, n, (double)bytes, &r1, &err)) {
    printf("L1: %s\n", err.msg);
  } else {
    getrusage(RUSAGE_SELF, &ru);
    printf("L1: wall %8.3f s  predicted %.3f ms  busbw %.2f GB/s  peak RSS %.0f MiB\n",
           bench_now() - t, r1.time_s * 1e3, r1.busbw / 1e9, (double)ru.ru_maxrss / 1024.0);
  }
  fflush(stdout);
  t = bench_now();
  if (coll_time(x, COLL_ALLTOALL, COLL_DIRECT, 2, cards, n, (double)bytes, &r2, &err)) {
    printf("L2: %s\n", err.msg);
  } else {
    getrusage(RUSAGE_SELF, &ru);
    printf("L2: wall %8.3f s  predicted %.3f ms  busbw %.2f GB/s  peak RSS %.0f MiB\n",
           bench_now() - t, r2.time_s * 1e3, r2.busbw / 1e9, (double)ru.ru_maxrss / 1024.0);
  }
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
  return 0;
}
