/* test_core.c — unit tests for core/: time, arena, RNG streams, event-queue order, errors,
 * and the strict parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/core.h"

static void test_time(void **st) {
  (void)st;
  assert_int_equal(wk_time_from_s(1.5), 1500000000);
  assert_int_equal(wk_time_from_s(1e-9), 1);
  assert_true(wk_time_from_s(1e300) == WK_TIME_MAX);
}

static void test_arena(void **st) {
  (void)st;
  wk_arena *a = wk_arena_new(0);
  uint64_t *prev = NULL;
  for (int i = 0; i < 100000; i++) {
    uint64_t *p = WK_ARENA_NEW(a, uint64_t, 3);
    assert_true(((uintptr_t)p & 15) == 0);
    assert_true(p[0] == 0 && p[2] == 0);
    p[0] = (uint64_t)i;
    if (prev) assert_true(prev != p);
    prev = p;
  }
  assert_string_equal(wk_arena_strdup(a, "abc"), "abc");
  assert_true(wk_arena_bytes(a) >= 100000 * 32);
  wk_arena_free(a);
  wk_arena_free(NULL);
}

static void test_rng(void **st) {
  (void)st;
  wk_rng a, b, c;
  wk_rng_init(&a, 42, 0);
  wk_rng_init(&b, 42, 0);
  wk_rng_init(&c, 42, 1);
  int same_c = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = wk_rng_u64(&a), y = wk_rng_u64(&b), z = wk_rng_u64(&c);
    assert_true(x == y);
    same_c += x == z;
  }
  assert_true(same_c == 0);
  /* uniformity of below(): 6 buckets, 60000 draws, each within 5 % of 10000 */
  int hist[6] = {0};
  for (int i = 0; i < 60000; i++) hist[wk_rng_below(&a, 6)]++;
  for (int i = 0; i < 6; i++) assert_true(hist[i] > 9500 && hist[i] < 10500);
  double sum = 0;
  for (int i = 0; i < 100000; i++) sum += wk_rng_exp(&a, 3.0);
  assert_true(sum / 100000 > 2.9 && sum / 100000 < 3.1);
}

static void test_evq_order(void **st) {
  (void)st;
  wk_evq *q = wk_evq_new(4);
  wk_rng r;
  wk_rng_init(&r, 7, 0);
  /* many equal times: must pop in insertion order within a time */
  for (uint64_t i = 0; i < 20000; i++) wk_evq_push(q, (wk_time)wk_rng_below(&r, 50), i);
  wk_event e, prev = {-1, 0, 0};
  size_t n = 0;
  while (wk_evq_pop(q, &e)) {
    assert_true(e.time > prev.time || (e.time == prev.time && e.data > prev.data));
    prev = e;
    n++;
  }
  assert_int_equal(n, 20000);
  assert_null(wk_evq_peek(q));
  /* a peek is not a pop: events earlier than the peeked one may still be pushed */
  wk_evq_push(q, 60, 1);
  assert_int_equal(wk_evq_peek(q)->data, 1);
  wk_evq_push(q, 55, 2);
  wk_evq_push(q, 55, 3);
  assert_int_equal(wk_evq_peek(q)->data, 2);
  assert_int_equal(wk_evq_len(q), 3);
  assert_true(wk_evq_pop(q, &e) && e.data == 2 && e.time == 55);
  assert_true(wk_evq_pop(q, &e) && e.data == 3);
  wk_evq_push(q, 55, 4); /* equal to the last popped time: allowed, pops next */
  assert_true(wk_evq_pop(q, &e) && e.data == 4);
  assert_true(wk_evq_pop(q, &e) && e.data == 1);
  /* hold model against a sorted reference: interleaved pushes and pops stay ordered */
  wk_time now = 0;
  for (uint64_t i = 0; i < 1000; i++) wk_evq_push(q, (wk_time)wk_rng_below(&r, 1000) + 60, i);
  prev.time = -1;
  for (int k = 0; k < 100000; k++) {
    assert_true(wk_evq_pop(q, &e));
    assert_true(e.time >= now);
    now = e.time;
    wk_evq_push(q, now + (wk_time)wk_rng_below(&r, 3), (uint64_t)k);
  }
  wk_evq_clear(q);
  wk_evq_free(q);
}

static void test_err(void **st) {
  (void)st;
  wk_err e;
  char buf[600];
  assert_int_equal(wk_err_set(&e, WK_EPARSE, "a.yaml", 3, 7, "bad %s", "thing"), WK_EPARSE);
  assert_string_equal(wk_err_format(&e, buf, sizeof buf), "a.yaml:3:7: error: bad thing");
  wk_err_set(&e, WK_EVALUE, "", 0, 0, "oops");
  assert_string_equal(wk_err_format(&e, buf, sizeof buf), "error: oops");
  assert_string_equal(wk_errcode_name(WK_EUNKNOWN_KEY), "unknown key");
  /* a reader's later errors are counted but keep the first one's text */
  int nerr = 0;
  assert_int_equal(wk_err_first(&e, &nerr, WK_EVALUE, "b.yaml", 2, 3, "first %d", 1), -1);
  assert_int_equal(wk_err_first(&e, &nerr, WK_EPARSE, "b.yaml", 9, 9, "second"), -1);
  assert_int_equal(nerr, 2);
  assert_int_equal(e.code, WK_EVALUE);
  assert_string_equal(wk_err_format(&e, buf, sizeof buf), "b.yaml:2:3: error: first 1");
  wk_err_first(NULL, &nerr, WK_EVALUE, "b.yaml", 1, 1, "no error to fill");
  assert_int_equal(nerr, 3);
}

static void test_units(void **st) {
  (void)st;
  uint64_t v;
  assert_int_equal(wk_parse_size("1K", &v), 0);
  assert_true(v == 1024);
  assert_int_equal(wk_parse_size("16M", &v), 0);
  assert_true(v == 16u << 20);
  assert_int_equal(wk_parse_size("1G", &v), 0);
  assert_true(v == 1u << 30);
  assert_int_equal(wk_parse_size("4096", &v), 0);
  assert_true(v == 4096);
  assert_int_equal(wk_parse_size("-1", &v), -1);
  assert_int_equal(wk_parse_size("1X", &v), -1);
  assert_int_equal(wk_parse_size("99999999999T", &v), -1);
  double d;
  assert_int_equal(wk_parse_duration_s("30m", &d), 0);
  assert_true(d == 1800);
  assert_int_equal(wk_parse_duration_s("2h", &d), 0);
  assert_true(d == 7200);
  assert_int_equal(wk_parse_duration_s("abc", &d), -1);
  assert_int_equal(wk_parse_double("1.5e3", &d), 0);
  assert_true(d == 1500);
  assert_int_equal(wk_parse_double("12abc", &d), -1);
  assert_int_equal(wk_parse_double("nan", &d), -1);
  int64_t i;
  assert_int_equal(wk_parse_i64("-42", &i), 0);
  assert_true(i == -42);
  assert_int_equal(wk_parse_i64("99999999999999999999", &i), -1);
  char buf[64];
  assert_string_equal(wk_fmt_si(1.5e15, "FLOP/s", buf, sizeof buf), "1.5 PFLOP/s");
  assert_string_equal(wk_fmt_bytes_iec(16.0 * 1048576, buf, sizeof buf), "16M");
}

/* wk_div32 agrees with the hardware's divide at a divisor's edges (0, its multiples and their
 * neighbours, UINT32_MAX) and at random numerators */
static void check_div32(wk_rng *r, uint32_t d) {
  wk_div32 v = wk_div32_of(d);
  uint32_t edge[] = {0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, UINT32_MAX, UINT32_MAX - 1,
                     UINT32_MAX / d * d, UINT32_MAX / d * d - 1};
  for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++)
    assert_int_equal(wk_div32_q(v, edge[e]), edge[e] / d);
  for (int i = 0; i < 5000; i++) {
    uint32_t n = (uint32_t)wk_rng_u64(r);
    assert_int_equal(wk_div32_q(v, n), n / d);
  }
}
static void test_div32(void **st) {
  (void)st;
  wk_rng r;
  wk_rng_init(&r, 7, 0);
  uint32_t ds[] = {1, 2, 3, 7, 8, 64, 640, 641, 1000, 65536, 65537, 1u << 31, 2147483647u, 4294967295u};
  for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) check_div32(&r, ds[k]);
  for (int k = 0; k < 200; k++) check_div32(&r, (uint32_t)wk_rng_below(&r, 1ull << 32) | 1);
  for (int k = 0; k < 200; k++) check_div32(&r, 1 + (uint32_t)wk_rng_below(&r, 4096));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time),     cmocka_unit_test(test_arena),
      cmocka_unit_test(test_rng),      cmocka_unit_test(test_evq_order),
      cmocka_unit_test(test_err),      cmocka_unit_test(test_units),
      cmocka_unit_test(test_div32),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
