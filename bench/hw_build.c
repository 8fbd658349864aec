/* bench/hw_build — issue #2's targets: build zhengzhou-60k in < 100 ms and < 100 MB
 * resident; 1,000,000 random card-pair routes in < 1 s. Prints the figures. */
#include "bench.h"
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "hw/hw.h"

int main(int argc, char **argv) {
  const char *spec = argc > 1 ? argv[1] : "zhengzhou-60k";
  wk_err err;
  double rss0 = bench_peak_rss_mib(), t0 = bench_now();
  hw_cluster *c = hw_load(spec, &err);
  double t_build = bench_now() - t0;
  if (!c) {
    char buf[1024];
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    return 2;
  }
  double rss1 = bench_peak_rss_mib();
  printf("build %s: %u cards, %u links in %.2f ms; model %.1f MB; peak RSS %.1f MB "
         "(%.1f MB before)\n", spec, hw_cards(c), hw_nlinks(c), t_build * 1e3,
         (double)hw_memory_bytes(c) / 1e6, rss1, rss0);
  wk_rng r;
  wk_rng_init(&r, 1, 0);
  hw_route rt;
  const int n = 1000000;
  uint64_t hops = 0;
  t0 = bench_now();
  for (int i = 0; i < n; i++) {
    uint32_t s = (uint32_t)wk_rng_below(&r, hw_cards(c)), d = (uint32_t)wk_rng_below(&r, hw_cards(c));
    if (s == d) d = (d + 1) % hw_cards(c);
    hw_route(c, s, d, &rt);
    hops += rt.n;
  }
  double t_route = bench_now() - t0;
  printf("routes: %d random card pairs in %.3f s (%.1f M routes/s, %.2f links per route)\n", n,
         t_route, n / t_route / 1e6, (double)hops / n);
  hw_free(c);
  return 0;
}
