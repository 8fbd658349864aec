/* replay_fabric — a month of generated AI-for-science work (trace_gen, profile ai4s, 0.9 offered
 * load, about 390,000 jobs) replayed on zhengzhou-60k with every job's workload on the shared
 * fabric, on the non-blocking fabric and on its 2:1 variant, topo placement, EASY backfill,
 * failures at the Llama 3 rate. Prints jobs per second of wall time and of CPU time, the
 * fabric's re-solves, job evaluations and (phase, link) entries read per event, the share of
 * job runs on shared links that took over the fabric state of a run ending on their cards
 * (handed), and peak RSS.
 * Targets (issue 14): at least 20,000 jobs/s (a month in under 20 s) and under 2 GB.
 * Usage: replay_fabric [days] [placement] [1|2: only the non-blocking or only the 2:1 fabric]
 *        [N: after every N-th re-solve, set the incremental solution against the fixed point
 *        and print how far it was (slow)] [seed of the generated trace, 1 by default: a
 *        replay's cost follows its schedule, which the least change reshuffles, so compare
 *        two builds over several seeds] [open: the fabric solved but not applied to the jobs'
 *        pace (replay_opts.fabric_open_loop): the same schedule for any solver, for comparing
 *        two solvers' costs] */
#include "bench.h"
#include "replay/replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
}

int main(int argc, char **argv) {
  char *dend = NULL;
  double days = argc > 1 ? strtod(argv[1], &dend) : 30;
  if (argc > 1 && (dend == argv[1] || *dend)) {
    fprintf(stderr, "replay_fabric: days '%s': a number of days, e.g. 30\n", argv[1]);
    return 2;
  }
  const char *placement = argc > 2 ? argv[2] : "topo";
  sched_placement pl;
  if (sched_placement_parse(placement, &pl)) {
    fprintf(stderr, "replay_fabric: placement '%s': topo, first-fit or netaware\n", placement);
    return 2;
  }
  int only = argc > 3 ? atoi(argv[3]) : 0;
  uint32_t check = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0;
  uint64_t seed = 1;
  if (argc > 5) {
    char *end;
    errno = 0;
    seed = strtoull(argv[5], &end, 10);
    if (errno || end == argv[5] || *end || argv[5][0] == '-' || seed > (1ULL << 53) - 1) {
      fprintf(stderr, "replay_fabric: seed '%s': an integer in [0, 2^53 - 1], as wanka's --seed\n", argv[5]);
      return 2;
    }
  }
  int open_loop = argc > 6 && !strcmp(argv[6], "open");
  if (argc > 6 && !open_loop) {
    fprintf(stderr, "replay_fabric: 6th argument '%s': only 'open' (the fabric solved, not applied)\n", argv[6]);
    return 2;
  }
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.cards = 61440;
  g.days = days;
  g.seed = seed;
  trace *t;
  wk_err err;
  char buf[1024];
  if (trace_gen(&g, &t, &err)) {
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    return 2;
  }
  const char *clusters[] = {"zhengzhou-60k", "zhengzhou-60k:oversubscription=2"};
  printf("%-34s %8s %8s %8s %9s %9s %8s %9s %9s %8s %8s %8s\n", "cluster", "jobs", "wall s", "cpu s",
         "jobs/s", "jobs/cpu-s", "solves", "evals/ev", "entr/ev", "handed", "util", "slowdown");
  for (int ci = 0; ci < 2; ci++) {
    if (only && only != ci + 1) continue;
    hw_cluster *c = hw_load(clusters[ci], &err);
    if (!c) {
      fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
      return 1;
    }
    replay_opts o;
    replay_opts_init(&o);
    o.fabric_check = check;
    o.fabric_open_loop = open_loop;
    o.sched.placement = pl;
    double c0 = cpu_s();
    replay *r;
    if (replay_run(c, t, &o, &r, &err)) {
      fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
      return 1;
    }
    double cpu = cpu_s() - c0;
    const replay_metrics *m = replay_get_metrics(r);
    double ev = m->events ? (double)m->events : 1;
    printf("%-34s %8zu %8.1f %8.1f %9.0f %9.0f %8llu %9.3f %9.1f %7.1f%% %8.4f %8.4f\n", clusters[ci],
           m->jobs, m->wall_s, cpu, (double)m->jobs / m->wall_s, (double)m->jobs / cpu,
           (unsigned long long)m->fabric_solves, (double)m->fabric_evals / ev,
           (double)m->fabric_entries / ev,
           m->fabric_jobs ? 100.0 * (double)m->fabric_handovers / (double)m->fabric_jobs : 0.0,
           m->utilization, m->contention_slowdown_mean);
    if (check)
      printf("  %llu checks: stretch off the fixed point by %.3f %% on average, %.2f %% at worst\n",
             (unsigned long long)m->fabric_checks, 100 * m->fabric_drift_mean, 100 * m->fabric_drift_max);
    fflush(stdout);
    replay_free(r);
    hw_free(c);
  }
  printf("peak RSS %.0f MiB; targets: >= 20,000 jobs/s, < 2,048 MiB\n", bench_peak_rss_mib());
  trace_free(t);
  return 0;
}
