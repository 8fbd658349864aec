/* bench.h — the two measurements every benchmark prints: wall time and peak resident memory.
 * Header-only so each bench stays one file. */
#ifndef WK_BENCH_H
#define WK_BENCH_H

#include <sys/resource.h>
#include <time.h>

/* Monotonic wall time in seconds. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set size of this process so far, MiB (Linux reports ru_maxrss in KiB). */
static inline double bench_peak_rss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

#endif
