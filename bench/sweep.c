/* bench/sweep — what a sweep costs beyond its points: (1) the overhead per point (fork, pipes,
 * the JSON read back, the journal line put on disk with fdatasync) beside the point's own work,
 * target < 5 ms; (2) a sweep of equal points (a fixed amount of CPU each) on 2 MPI ranks against
 * 1, target <= 55 % of the 1-rank time (mpiexec -n 1 and -n 2 of this program, each timed
 * whole, MPI start included); without MPI, -j 2 against -j 1 on this machine. The points are
 * a stand-in command (a CPU spin), so the figures are the sweep's alone. */
#define _GNU_SOURCE
#include "report/report.h"
#include "sweep/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const sweep_option spin_opts[] = {{"ms", 0}, {"i", 0}};

static int spin_options(void *ctx, int nwords, char *const *words, const sweep_option **opts,
                        size_t *n) {
  (void)ctx, (void)nwords, (void)words;
  *opts = spin_opts;
  *n = 2;
  return 0;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A point: spins for --ms milliseconds of CPU (equal work whatever else the machine runs). */
/* CPU seconds of this process and its children so far. */
static double cpu_all_s(void) {
  struct rusage a, b;
  getrusage(RUSAGE_SELF, &a);
  getrusage(RUSAGE_CHILDREN, &b);
  return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
         1e-6 * (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
                         b.ru_stime.tv_usec);
}

static int spin_run(void *ctx, int argc, char **argv, char **json) {
  (void)ctx;
  double ms = 0;
  long i = 0;
  for (int k = 0; k + 1 < argc; k++) {
    if (!strcmp(argv[k], "--ms")) ms = atof(argv[k + 1]);
    if (!strcmp(argv[k], "--i")) i = atol(argv[k + 1]);
  }
  double t0 = cpu_s(), x = 0;
  while (cpu_s() - t0 < ms * 1e-3)
    for (int k = 0; k < 1000; k++) x += 1e-9 * k;
  if (asprintf(json, "{\"i\": %ld, \"x\": %.3f, \"ms\": %g}\n", i, x > 0 ? 1.0 : 0.0, ms) < 0)
    *json = NULL;
  return 0;
}

static const sweep_host host = {NULL, spin_options, NULL, "", NULL, spin_run, NULL};

static sweep_spec *spec(int points, double ms) {
  char text[256];
  snprintf(text, sizeof text, "command: spin\nbase: {ms: %g}\naxes:\n  i: {from: 1, to: %d}\n",
           ms, points);
  sweep_spec *s = NULL;
  wk_err err;
  if (sweep_spec_parse("bench", text, strlen(text), &host, 0, &s, &err)) {
    fprintf(stderr, "bench/sweep: %s\n", err.msg);
    exit(1);
  }
  return s;
}

/* Runs the sweep (journal in a fresh folder under /tmp, put on disk point by point). OUT
 * *own_s: the points' own wall time, summed. Returns the sweep's wall time. */
static double run(sweep_spec *s, int jobs, sweep_mpi *mpi, double *own_s) {
  char dir[] = "/tmp/wk_bench_sweep_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("bench/sweep: mkdtemp");
    exit(1);
  }
  sweep_run_opts o = {jobs, dir, 0, NULL, 0, mpi};
  sweep_run *r = NULL;
  wk_err err;
  double t0 = rp_clock_s();
  if (sweep_execute(s, &host, &o, &r, &err)) {
    fprintf(stderr, "bench/sweep: %s\n", err.msg);
    exit(1);
  }
  double wall = rp_clock_s() - t0;
  *own_s = sweep_run_point_s(r);
  sweep_run_free(r);
  char path[64];
  snprintf(path, sizeof path, "%s/sweep.journal", dir);
  unlink(path);
  rmdir(dir);
  return wall;
}

#define EQUAL_POINTS 16
#define EQUAL_MS 250.0

/* Under mpiexec: one sweep of equal points over the ranks. */
static int ranks_child(void) {
  sweep_mpi *m = NULL;
  wk_err err;
  if (sweep_mpi_start(&m, &err)) {
    fprintf(stderr, "bench/sweep: %s\n", err.msg);
    return 1;
  }
  sweep_spec *s = spec(EQUAL_POINTS, EQUAL_MS);
  if (sweep_mpi_rank(m)) {
    sweep_serve(m, s, &host, 1);
  } else {
    double own;
    run(s, 1, m, &own);
    sweep_mpi_release(m);
  }
  sweep_spec_free(s);
  sweep_mpi_stop(m);
  return 0;
}

/* Times `mpiexec -n k self --ranks-child`, or -1 when it fails. */
static double time_ranks(const char *mpiexec, const char *self, int k) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s -n %d %s --ranks-child", mpiexec, k, self);
  double t0 = rp_clock_s();
  if (system(cmd)) return -1;
  return rp_clock_s() - t0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--ranks-child")) return ranks_child();

  /* (1) overhead per point: empty points, and points of 20 ms. The points' own work is the
   * same points run one after the other in this process, without the sweep (no child, no
   * journal); the overhead is what the sweep adds to that, per point. */
  printf("bench/sweep: overhead per point (one process at a time, journal fdatasync'd)\n");
  double worst = 0;
  for (int pass = 0; pass < 2; pass++) {
    double ms = pass ? 20 : 0;
    int n = pass ? 50 : 300;
    if (pass && argc > 1 && !strcmp(argv[1], "--overhead")) break;
    sweep_spec *s = spec(n, ms);
    double t0 = rp_clock_s(), c0 = cpu_all_s();
    for (int i = 0; i < n; i++) {
      char *json = NULL;
      sweep_run_point(s, &host, (uint64_t)i, &json);
      free(json);
    }
    double alone = rp_clock_s() - t0, alone_cpu = cpu_all_s() - c0, own;
    double c1 = cpu_all_s(), wall = run(s, 1, NULL, &own), cpu = cpu_all_s() - c1;
    double over_ms = (wall - alone) / n * 1e3;
    if (over_ms > worst) worst = over_ms;
    printf("  %3d points of %4.0f ms CPU: swept in %6.3f s, alone in %6.3f s: the point's own "
           "work %7.3f ms, overhead %.3f ms a point (CPU: %.3f ms)\n", n, ms, wall, alone,
           alone / n * 1e3, over_ms, (cpu - alone_cpu) / n * 1e3);
    sweep_spec_free(s);
  }
  double load[1] = {0};
  getloadavg(load, 1);
  printf("  overhead %.3f ms per point (target < 5 ms): %s (load average %.1f on %ld cores)\n",
         worst, worst < 5 ? "met" : "NOT met", load[0], sysconf(_SC_NPROCESSORS_ONLN));

  if (argc > 1 && !strcmp(argv[1], "--overhead")) return 0;

  /* (2) equal points on 2 ranks against 1 */
  const char *mpiexec = getenv("MPIEXEC") ? getenv("MPIEXEC") : "mpiexec";
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  self[len > 0 ? len : 0] = 0;
  printf("bench/sweep: %d points of %.0f ms CPU each\n", EQUAL_POINTS, EQUAL_MS);
  double t1, t2;
  const char *how;
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", mpiexec);
  if (sweep_mpi_built() && system(cmd) == 0) {
    how = "2 MPI ranks / 1 rank (mpiexec, its start included)";
    t1 = time_ranks(mpiexec, self, 1);
    t2 = time_ranks(mpiexec, self, 2);
    if (t1 < 0 || t2 < 0) {
      printf("  mpiexec failed\n");
      return 1;
    }
  } else {
    how = "-j 2 / -j 1 (MPI is absent from this build or mpiexec not found)";
    sweep_spec *s = spec(EQUAL_POINTS, EQUAL_MS);
    double own;
    t1 = run(s, 1, NULL, &own);
    t2 = run(s, 2, NULL, &own);
    sweep_spec_free(s);
  }
  printf("  1: %.3f s, 2: %.3f s, ratio %s %.1f %% (target <= 55 %%): %s\n", t1, t2, how,
         100 * t2 / t1, t2 / t1 <= 0.55 ? "met" : "NOT met");
  return 0;
}
