/* replay_60k.c — how fast the scheduler and replay run at the reference scale: zhengzhou-60k
 * (61,440 cards), topo placement, EASY backfill (look-ahead 500 queued jobs per pass, as
 * Slurm's bf_max_job_test). Two figures: jobs replayed per wall second while about 10,000 jobs
 * wait (a generated trace at full offered load, with a backlog of 10,000 jobs at the start),
 * and a month of generated work (trace_gen, profile ai4s, 0.9 offered load) with its wall
 * time and peak RSS. Failures at the Llama 3 rate are on in both; the fabric model is off
 * (bench/replay_fabric runs the same month with it). */
#include "bench.h"
#include "replay/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static trace *gen(double days, double util, uint64_t seed) {
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.cards = 61440;
  g.days = days;
  g.seed = seed;
  g.utilization = util;
  trace *t;
  wk_err err;
  if (trace_gen(&g, &t, &err)) {
    char buf[1024];
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    exit(1);
  }
  return t;
}

static void report(const char *what, const replay_metrics *m) {
  printf("%-34s %8zu jobs  %7.3f s wall  %9.0f jobs/s  mean queue %7.0f jobs  util %.3f  "
         "passes %llu  failures %llu\n",
         what, m->jobs, m->wall_s, (double)m->jobs / m->wall_s, m->mean_queued_jobs, m->utilization,
         (unsigned long long)m->passes, (unsigned long long)m->failures);
}

int main(int argc, char **argv) {
  double days = argc > 1 ? atof(argv[1]) : 30;
  wk_err err;
  hw_cluster *c = hw_load("zhengzhou-60k", &err);
  if (!c) return 1;
  replay_opts o;
  replay_opts_init(&o);
  o.fabric = 0; /* the scheduler's own speed; bench/replay_fabric measures the fabric's */
  o.sched.policy = SCHED_BACKFILL;
  o.sched.placement = SCHED_PLACE_TOPO;
  char buf[1024];

  /* 1. ~10,000 queued: the first 10,000 jobs of a full-load trace all arrive at once. */
  trace *t = gen(days, 1.0, 7);
  size_t n = trace_njobs(t);
  trace_job *j = malloc(sizeof(trace_job) * n);
  memcpy(j, trace_jobs(t), sizeof(trace_job) * n);
  size_t backlog = n < 10000 ? n : 10000;
  for (size_t i = 0; i < backlog; i++) j[i].submit_s = j[0].submit_s;
  replay *r;
  if (replay_run_jobs(c, j, n, t, &o, &r, &err)) {
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    return 1;
  }
  report("backlog of 10,000, full load", replay_get_metrics(r));
  replay_free(r);
  free(j);
  trace_free(t);

  /* 2. A month of generated work at 0.9 offered load. */
  t = gen(days, 0.9, 1);
  if (replay_run(c, t, &o, &r, &err)) {
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    return 1;
  }
  char what[64];
  snprintf(what, sizeof what, "%.0f days generated (ai4s, 0.9)", days);
  report(what, replay_get_metrics(r));
  const replay_metrics *m = replay_get_metrics(r);
  printf("  avg JCT %.0f s, p99 queue %.0f s, goodput %.3f, ETTR %.3f, makespan %.1f days\n", m->avg_jct_s,
         m->p99_queue_s, m->goodput, m->ettr, m->makespan_s / 86400);
  replay_free(r);
  trace_free(t);
  hw_free(c);
  printf("peak RSS %.1f MiB (target: a month in < 30 s and < 2 GB; >= 100,000 jobs/s)\n", bench_peak_rss_mib());
  return 0;
}
