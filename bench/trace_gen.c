/* bench/trace_gen — the trace module's hot paths, with their figures:
 *   gen : a 30-day ai4s trace for 61,440 cards (time, jobs, peak RSS; then SWF writing to
 *         /dev/null). Aim (task brief): < 30 s and < 2 GB.
 *   read: jobs/s reading each real trace in ../shared/data/traces (best of 3 runs). */
#include "bench.h"
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

#ifndef WK_SHARED_DIR
#define WK_SHARED_DIR "../shared"
#endif

int main(int argc, char **argv) {
  const char *shared = argc > 1 ? argv[1] : WK_SHARED_DIR;
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.cards = 61440;
  g.days = 30;
  g.seed = 1;
  wk_err e;
  trace *t = NULL;
  double t0 = bench_now();
  if (trace_gen(&g, &t, &e)) {
    char buf[1024];
    fprintf(stderr, "%s\n", wk_err_format(&e, buf, sizeof buf));
    return 1;
  }
  double gen_s = bench_now() - t0;
  trace_summary s;
  trace_summarize(t, &s);
  FILE *devnull = fopen("/dev/null", "w");
  t0 = bench_now();
  trace_write_swf(t, devnull, NULL, &e);
  fclose(devnull);
  double write_s = bench_now() - t0;
  printf("gen  ai4s 61,440 cards x 30 days: %zu jobs in %.3f s (%.2f M jobs/s), SWF write "
         "%.3f s; offered %.3f of the cards; peak RSS %.1f MiB\n",
         s.jobs, gen_s, (double)s.jobs / gen_s / 1e6, write_s,
         s.card_hours / (30.0 * 24 * 61440), bench_peak_rss_mib());
  trace_free(t);

  static const char *const files[] = {"theta_2022.swf", "mira_2018_wk1.cobalt.log",
                                      "mira_2018_wk2.cobalt.log", "philly_jobs.csv.gz",
                                      "alibaba_gpu_2023_pods.csv"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/traces/%s", shared, files[i]);
    if (access(path, R_OK)) {
      printf("read %-28s skipped (not found)\n", files[i]);
      continue;
    }
    double best = 1e30;
    size_t n = 0;
    for (int rep = 0; rep < 3; rep++) {
      t0 = bench_now();
      if (trace_load(path, NULL, &t, &e)) {
        char buf[1024];
        fprintf(stderr, "%s\n", wk_err_format(&e, buf, sizeof buf));
        return 1;
      }
      double dt = bench_now() - t0;
      if (dt < best) best = dt;
      n = trace_njobs(t);
      trace_free(t);
    }
    printf("read %-28s %7zu jobs in %.4f s = %.2f M jobs/s\n", files[i], n, best,
           (double)n / best / 1e6);
  }
  printf("peak RSS %.1f MiB\n", bench_peak_rss_mib());
  return 0;
}
