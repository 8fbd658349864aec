/* test_report.c — unit tests for report/: the progress bar stays silent off a terminal and in
 * a run's first half second, redraws at most every 0.1 s, shows the fraction, the time elapsed
 * and the time left of the run in hand (a new label starts a new run), clamps bad fractions,
 * and erases its line when freed. Driven with a fake clock into a memory stream. The HTML
 * writer: one page with the library and the data inlined (no "</script>" inside a script, no
 * external URL), the data file the same document, a CDF's quantiles, and the same bytes twice. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* A small report with one chart of every kind, written to memory: OUT html, data. */
static void write_sample(char **html, char **data) {
  rp_report *r = rp_report_new("a <test> & report", "sub");
  rp_report_section(r, "Lines", "text </script> that must not end a script");
  rp_chart *c = rp_chart_add(r, RP_LINE, "util", "time (days)", "share");
  double x[3] = {0, 1, 2}, y[3] = {0.5, NAN, 0.7};
  rp_chart_xy(c, "busy", x, y, NULL, 3);
  rp_chart_xy(c, "down", x, x, NULL, 3);
  rp_chart *cdf = rp_chart_add(r, RP_LINE, "cdf", "s", "fraction");
  double v[1000];
  for (int i = 0; i < 1000; i++) v[i] = 1000 - i; /* 1..1000, reversed */
  rp_chart_cdf(cdf, "jct", v, 1000, 11, 5.0);
  rp_chart_log(cdf, 1, 0);
  rp_report_table(r, "tab", 2, (const char *const[]){"a", "b"});
  rp_report_row(r, (const char *const[]){"1", "2"});
  rp_chart *s = rp_chart_add(r, RP_SCATTER, "sc", "s", "GB");
  rp_chart_xy(s, "layouts", x, x, (const char *const[]){"p", "q", "r"}, 3);
  rp_chart *b = rp_chart_add(r, RP_STACK, "bars", NULL, "s");
  rp_chart_categories(b, (const char *const[]){"#1", "#2"}, 2);
  rp_chart_values(b, "compute", x, 2);
  rp_chart *g = rp_chart_add(r, RP_GRID, "grid", "supernode", NULL);
  double cells[4] = {0.1, 0.2, NAN, 0.9};
  rp_chart_grid(g, 2, 2, cells, (const char *const[]){"r1", "r2"}, "supernode", "busy", 0, 1);
  size_t hn, dn;
  FILE *hf = open_memstream(html, &hn), *df = open_memstream(data, &dn);
  assert_int_equal(rp_report_write(r, hf, df), 0);
  fclose(hf);
  fclose(df);
  rp_report_free(r);
}

static void test_html(void **state) {
  (void)state;
  char *html, *data, *html2, *data2;
  write_sample(&html, &data);
  write_sample(&html2, &data2);
  assert_string_equal(html, html2); /* no dates, no random ids */
  assert_string_equal(data, data2);
  assert_non_null(strstr(html, "<title>a &lt;test&gt; &amp; report</title>"));
  assert_non_null(strstr(html, "echarts")); /* the library is inlined */
  assert_true(strlen(html) > 500000);
  /* nothing loaded from elsewhere: no element of ours names a source (the library's own
   * strings, which build SVG and name XML namespaces, are left out of the check) */
  const char *lib_end = strstr(html, "\n</script>");
  assert_non_null(lib_end);
  char *ours = strdup(lib_end);
  size_t head = (size_t)(strstr(html, "<script>") - html);
  assert_null(memmem(html, head, "src=", 4));
  assert_null(strstr(ours, "src="));
  assert_null(strstr(ours, "href="));
  assert_null(strstr(ours, "http"));
  free(ours);
  /* every "</script" is one of ours: one per <script> element, none from the data */
  size_t opens = 0, closes = 0;
  for (const char *p = html; (p = strstr(p, "<script")); p++) opens++;
  for (const char *p = html; (p = strstr(p, "</script")); p++) closes++;
  assert_int_equal(opens, 3);
  assert_int_equal(closes, 3);
  /* the data file is the document the page draws */
  json_error_t e;
  json_t *d = json_loads(data, 0, &e);
  assert_non_null(d);
  json_t *secs = json_object_get(d, "sections");
  assert_int_equal(json_array_size(secs), 1);
  json_t *its = json_object_get(json_array_get(secs, 0), "items");
  assert_int_equal(json_array_size(its), 6); /* 5 charts and a table, in order */
  assert_non_null(json_object_get(json_array_get(its, 2), "table"));
  json_t *line = json_object_get(json_array_get(its, 0), "chart");
  json_t *busy = json_object_get(json_array_get(json_object_get(line, "series"), 0), "y");
  assert_true(json_is_null(json_array_get(busy, 1))); /* NaN is a gap */
  /* CDF of 1..1000 (floor 5) at 11 quantiles: the smallest (5: floored), the median, the max */
  json_t *cdf = json_array_get(json_object_get(json_object_get(json_array_get(its, 1), "chart"),
                                               "series"), 0);
  json_t *cx = json_object_get(cdf, "x"), *cy = json_object_get(cdf, "y");
  assert_int_equal(json_array_size(cx), 11);
  assert_true(json_real_value(json_array_get(cx, 0)) == 5.0);
  assert_true(json_real_value(json_array_get(cx, 10)) == 1000.0);
  assert_true(fabs(json_real_value(json_array_get(cx, 5)) - 501.0) < 1.5);
  assert_true(json_real_value(json_array_get(cy, 10)) == 1.0);
  json_decref(d);
  free(html);
  free(data);
  free(html2);
  free(data2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_disabled),
      cmocka_unit_test(test_draws),
      cmocka_unit_test(test_html),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
