/* test_report.c — unit tests for report/: the progress bar stays silent off a terminal and in
 * a run's first half second, redraws at most every 0.1 s, shows the fraction, the time elapsed
 * and the time left of the run in hand (a new label starts a new run), clamps bad fractions,
 * and erases its line when freed. Driven with a fake clock into a memory stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

typedef struct sink {
  FILE *f;
  char *buf;
  size_t len;
} sink;

static void sink_open(sink *k) {
  k->buf = NULL, k->len = 0;
  k->f = open_memstream(&k->buf, &k->len);
  assert_non_null(k->f);
}

/* the text written so far after the last '\r' (the line a terminal would show) */
static const char *shown(sink *k) {
  fflush(k->f);
  const char *r = k->buf ? strrchr(k->buf, '\r') : NULL;
  return r ? r + 1 : (k->buf ? k->buf : "");
}

static void test_disabled(void **st) {
  (void)st;
  sink k;
  sink_open(&k);
  rp_progress *p = rp_progress_new(k.f, 0);
  assert_null(p);
  rp_progress_set(p, "x", 0.5, 10.0); /* NULL: no-ops */
  rp_progress_free(p);
  fflush(k.f);
  assert_int_equal(k.len, 0);
  fclose(k.f);
  free(k.buf);
}

static void test_draws(void **st) {
  (void)st;
  sink k;
  sink_open(&k);
  rp_progress *p = rp_progress_new(k.f, 1);
  rp_progress_set(p, "L2 alltoall", 0.0, 100.0);
  rp_progress_set(p, "L2 alltoall", 0.1, 100.4); /* within the first 0.5 s: silent */
  fflush(k.f);
  assert_int_equal(k.len, 0);
  rp_progress_set(p, "L2 alltoall", 0.25, 100.6);
  const char *l = shown(&k);
  assert_non_null(strstr(l, "L2 alltoall ["));
  assert_non_null(strstr(l, "#######......"));
  assert_non_null(strstr(l, " 25%"));
  assert_non_null(strstr(l, "about 2 s left")); /* 0.6 s for a quarter: 1.8 s to go */
  size_t before = k.len;
  rp_progress_set(p, "L2 alltoall", 0.3, 100.65); /* 0.05 s after the last draw: skipped */
  fflush(k.f);
  assert_int_equal(k.len, before);
  rp_progress_set(p, "L2 alltoall", 2.0, 101.0); /* clamped */
  l = shown(&k);
  assert_non_null(strstr(l, "100%"));
  assert_null(strstr(l, "left"));
  rp_progress_set(p, "L2 allreduce", 0.5, 200.0); /* a new run: time left from its start */
  rp_progress_set(p, "L2 allreduce", 0.5, 260.0);
  l = shown(&k);
  assert_non_null(strstr(l, " 50%  2 min 40 s, about 1 min 00 s left"));
  rp_progress_set(p, "L2 allreduce", NAN, 261.0); /* NaN: 0 %, and a new run */
  l = shown(&k);
  assert_non_null(strstr(l, "  0%"));
  rp_progress_free(p); /* erases: spaces over the line, then back to its start */
  fflush(k.f);
  assert_true(k.len > 2 && k.buf[k.len - 1] == '\r' && k.buf[k.len - 2] == ' ');
  fclose(k.f);
  free(k.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_disabled),
      cmocka_unit_test(test_draws),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
