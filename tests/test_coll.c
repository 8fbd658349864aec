/* test_coll.c — collectives: names and nccl-tests' busbw factors; the level invariants of
 * DESIGN.md (L1 == L0 on a non-blocking fabric, L2 == L1 for one collective alone); that
 * oversubscription, spread placements and a dead link cost what they should at L1; auto picks
 * the fastest; concurrent jobs that share links slow each other; bad arguments are refused;
 * and the published figures of shared/data/validation/collectives.md hold within 10 %. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll/coll.h"

#define GiB 1073741824.0
#define MiB 1048576.0

static hw_cluster *load(const char *spec) {
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    char buf[1024];
    fail_msg("%s: %s", spec, wk_err_format(&err, buf, sizeof buf));
  }
  return c;
}

static uint32_t *first_cards(uint32_t n, uint32_t stride, uint32_t offset) {
  uint32_t *v = malloc(n * sizeof *v);
  for (uint32_t i = 0; i < n; i++) v[i] = offset + i * stride;
  return v;
}

static double timed(coll_ctx *x, coll_op op, coll_algo a, int level, const uint32_t *cards,
                    uint32_t n, double bytes, coll_result *res) {
  coll_result r;
  wk_err err;
  if (coll_time(x, op, a, level, cards, n, bytes, &r, &err)) {
    char buf[1024];
    fail_msg("%s %s L%d n=%u: %s", coll_op_name(op), coll_algo_name(a), level, n,
             wk_err_format(&err, buf, sizeof buf));
  }
  if (res) *res = r;
  return r.time_s;
}

static void assert_close(double a, double b, double rel, const char *what) {
  if (!(fabs(a - b) <= rel * fabs(b)))
    fail_msg("%s: %.9g vs %.9g (%.3f %% apart, allowed %.1f %%)", what, a, b,
             100.0 * fabs(a - b) / fabs(b), rel * 100);
}

static void test_names(void **st) {
  (void)st;
  for (int i = 0; i < COLL_OPS; i++) {
    coll_op op;
    assert_int_equal(coll_op_parse(coll_op_name((coll_op)i), &op), 0);
    assert_int_equal(op, i);
  }
  coll_op op;
  assert_int_equal(coll_op_parse("all_reduce", &op), 0);
  assert_int_equal(op, COLL_ALLREDUCE);
  assert_int_equal(coll_op_parse("allreduse", &op), -1);
  for (int i = 0; i < COLL_ALGOS; i++) {
    coll_algo a;
    assert_int_equal(coll_algo_parse(coll_algo_name((coll_algo)i), &a), 0);
    assert_int_equal(a, i);
  }
  coll_algo a;
  assert_int_equal(coll_algo_parse("bogus", &a), -1);
  assert_true(coll_busbw_factor(COLL_ALLREDUCE, 8) == 2.0 * 7 / 8);
  assert_true(coll_busbw_factor(COLL_ALLGATHER, 8) == 7.0 / 8);
  assert_true(coll_busbw_factor(COLL_REDUCESCATTER, 4) == 3.0 / 4);
  assert_true(coll_busbw_factor(COLL_ALLTOALL, 4) == 3.0 / 4);
  assert_true(coll_busbw_factor(COLL_BROADCAST, 64) == 1.0);
  assert_true(coll_busbw_factor(COLL_REDUCE, 64) == 1.0);
  assert_true(coll_busbw_factor(COLL_SENDRECV, 2) == 1.0);
}

/* L1 == L0 within 1 % where the fabric is non-blocking and no ECMP choice is involved:
 * inside a node, and rail-aligned across the nodes of one DGX leaf group. */
static void test_l1_equals_l0(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t *cards = first_cards(32, 1, 0);
  static const struct { coll_op op; coll_algo a; uint32_t n; } cases[] = {
      {COLL_ALLREDUCE, COLL_RING, 32},      {COLL_ALLREDUCE, COLL_HIER, 32},
      {COLL_ALLREDUCE, COLL_RHD, 32},       {COLL_ALLREDUCE, COLL_RHD, 24},
      {COLL_ALLREDUCE, COLL_TREE, 8},       {COLL_ALLGATHER, COLL_RING, 32},
      {COLL_REDUCESCATTER, COLL_HIER, 32},  {COLL_ALLGATHER, COLL_RHD, 16},
      {COLL_BROADCAST, COLL_RING, 32},      {COLL_REDUCE, COLL_RING, 16},
      {COLL_ALLTOALL, COLL_DIRECT, 8},      {COLL_ALLTOALL, COLL_PAIRWISE, 8},
      {COLL_SENDRECV, COLL_DIRECT, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (double bytes = 1024; bytes <= 4 * GiB; bytes *= 64) {
      double t0 = timed(x, cases[i].op, cases[i].a, 0, cards, cases[i].n, bytes, NULL);
      double t1 = timed(x, cases[i].op, cases[i].a, 1, cards, cases[i].n, bytes, NULL);
      char what[128];
      snprintf(what, sizeof what, "%s %s n=%u %.0f B: L1 vs L0", coll_op_name(cases[i].op),
               coll_algo_name(cases[i].a), cases[i].n, bytes);
      assert_close(t1, t0, 0.01, what);
    }
  }
  /* send/recv across nodes on one rail, and a whole 640-card supernode of zhengzhou-60k */
  uint32_t pair[2] = {3, 11};
  assert_close(timed(x, COLL_SENDRECV, COLL_DIRECT, 1, pair, 2, GiB, NULL),
               timed(x, COLL_SENDRECV, COLL_DIRECT, 0, pair, 2, GiB, NULL), 0.01, "sendrecv");
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
  c = load("zhengzhou-60k");
  x = coll_ctx_new(c);
  cards = first_cards(640, 1, 0);
  assert_close(timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 640, GiB, NULL),
               timed(x, COLL_ALLREDUCE, COLL_RING, 0, cards, 640, GiB, NULL), 0.01, "sn ring");
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

/* L2 == L1 within 1 % for one collective alone (each step's flows are symmetric). */
static void test_l2_equals_l1(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t *cards = first_cards(32, 1, 0);
  static const struct { coll_op op; coll_algo a; uint32_t n; } cases[] = {
      {COLL_ALLREDUCE, COLL_RING, 32},     {COLL_ALLREDUCE, COLL_HIER, 32},
      {COLL_ALLREDUCE, COLL_RHD, 32},      {COLL_ALLGATHER, COLL_RING, 16},
      {COLL_REDUCESCATTER, COLL_RHD, 16},  {COLL_BROADCAST, COLL_RING, 16},
      {COLL_ALLTOALL, COLL_DIRECT, 16},    {COLL_ALLTOALL, COLL_PAIRWISE, 16},
      {COLL_SENDRECV, COLL_DIRECT, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double bytes = 64 * MiB;
    double t1 = timed(x, cases[i].op, cases[i].a, 1, cards, cases[i].n, bytes, NULL);
    double t2 = timed(x, cases[i].op, cases[i].a, 2, cards, cases[i].n, bytes, NULL);
    char what[128];
    snprintf(what, sizeof what, "%s %s n=%u: L2 vs L1", coll_op_name(cases[i].op),
             coll_algo_name(cases[i].a), cases[i].n);
    assert_close(t2, t1, 0.01, what);
  }
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

/* L2 progress reports (coll_ctx_set_progress): fractions from 0 to 1 in order within a run,
 * ending at 1, with ticks inside a long step; the times are the same with and without. */
typedef struct prog_log {
  uint32_t calls, backs;
  double last;
} prog_log;

static void on_prog(void *arg, double frac) {
  prog_log *g = arg;
  assert_true(frac >= 0.0 && frac <= 1.0);
  if (frac < g->last) g->backs++; /* a new run (coll_time_concurrent runs several) */
  g->last = frac;
  g->calls++;
}

static void test_progress(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t *cards = first_cards(32, 1, 0);
  double t0 = timed(x, COLL_ALLTOALL, COLL_DIRECT, 2, cards, 32, 64 * MiB, NULL);
  prog_log g = {0, 0, 0.0};
  coll_ctx_set_progress(x, on_prog, &g);
  double t1 = timed(x, COLL_ALLTOALL, COLL_DIRECT, 2, cards, 32, 64 * MiB, NULL);
  assert_memory_equal(&t0, &t1, sizeof t0);
  assert_true(g.calls >= 1);
  assert_int_equal(g.backs, 0);
  assert_true(g.last == 1.0);
  g = (prog_log){0, 0, 0.0}; /* a ring: one report per step, 2 (n - 1) steps */
  timed(x, COLL_ALLREDUCE, COLL_RING, 2, cards, 32, 64 * MiB, NULL);
  assert_true(g.calls >= 62);
  assert_true(g.last == 1.0);
  g = (prog_log){0, 0, 0.0}; /* level 1 reports nothing */
  timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 32, 64 * MiB, NULL);
  assert_int_equal(g.calls, 0);
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

/* Oversubscription and spread placements are slower at L1 than L0 predicts for the ideal
 * (non-blocking, packed) case; and a level cannot be fooled by an algorithm that hides it. */
static void test_contention_costs(void **st) {
  (void)st;
  hw_cluster *ideal = load("zhengzhou-60k"), *over = load("zhengzhou-60k:oversubscription=3");
  coll_ctx *xi = coll_ctx_new(ideal), *xo = coll_ctx_new(over);
  uint32_t n = 2560; /* four supernodes, two pods */
  uint32_t *cards = first_cards(n, 1, 0);
  double t0 = timed(xi, COLL_ALLREDUCE, COLL_HIER, 0, cards, n, GiB, NULL);
  double t1o = timed(xo, COLL_ALLREDUCE, COLL_HIER, 1, cards, n, GiB, NULL);
  double t1i = timed(xi, COLL_ALLREDUCE, COLL_HIER, 1, cards, n, GiB, NULL);
  /* hier sends only 1/640 of the data across supernodes: oversubscription costs little */
  assert_true(t1o > t1i && t1o > t0);
  print_message("hier 2560 cards 1 GiB: L0 ideal %.3f ms, L1 ideal %.3f ms, L1 1:3 %.3f ms\n",
                t0 * 1e3, t1i * 1e3, t1o * 1e3);
  double a0 = timed(xi, COLL_ALLTOALL, COLL_PAIRWISE, 0, cards, 1280, GiB, NULL);
  double a1 = timed(xo, COLL_ALLTOALL, COLL_PAIRWISE, 1, cards, 1280, GiB, NULL);
  print_message("pairwise a2a 1280 cards: L0 ideal %.3f ms, L1 1:3 %.3f ms\n", a0 * 1e3,
                a1 * 1e3);
  assert_true(a1 > 1.5 * a0);
  /* 64 cards: packed in one supernode versus one card per node across the cluster */
  uint32_t *spread = first_cards(64, 61440 / 64, 0);
  double p0 = timed(xi, COLL_ALLREDUCE, COLL_RING, 0, cards, 64, GiB, NULL);
  double s1 = timed(xi, COLL_ALLREDUCE, COLL_RING, 1, spread, 64, GiB, NULL);
  print_message("ring 64 cards: L0 packed %.3f ms, L1 spread %.3f ms\n", p0 * 1e3, s1 * 1e3);
  assert_true(s1 > 2 * p0);
  free(spread);
  free(cards);
  coll_ctx_free(xi);
  coll_ctx_free(xo);
  hw_free(ideal);
  hw_free(over);
}

static void test_dead_link(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=2");
  uint32_t *cards = first_cards(16, 1, 0);
  hw_route r;
  hw_route_cards(c, 0, 1, &r);
  hw_link_capacity_mut(c)[r.link[0]] = 0; /* card 0's scale-up uplink */
  coll_ctx *x = coll_ctx_new(c);
  assert_true(isinf(timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 16, MiB, NULL)));
  assert_true(isinf(timed(x, COLL_ALLREDUCE, COLL_RING, 2, cards, 16, MiB, NULL)));
  assert_true(isfinite(timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards + 8, 8, MiB, NULL)));
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
}

/* The L1 phase cache: a cached answer has the same bits as a fresh solve, at every size; a
 * capacity changed behind the context's back is noticed (the cached phase's link hash), and
 * coll_ctx_invalidate starts over. */
static void test_phase_cache(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k:oversubscription=3");
  uint32_t *cards = first_cards(2560, 1, 0);
  coll_ctx *x = coll_ctx_new(c);
  const coll_algo algos[] = {COLL_RING, COLL_HIER, COLL_TREE, COLL_RHD};
  for (double b = 1024; b <= 4 * GiB; b *= 16)
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
      coll_ctx *fresh = coll_ctx_new(c);
      double want = timed(fresh, COLL_ALLREDUCE, algos[i], 1, cards, 2560, b, NULL);
      coll_ctx_free(fresh);
      assert_true(timed(x, COLL_ALLREDUCE, algos[i], 1, cards, 2560, b, NULL) == want);
      assert_true(timed(x, COLL_ALLREDUCE, algos[i], 1, cards, 2560, b, NULL) == want);
    }
  double t1 = timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 2560, MiB, NULL);
  hw_route r;
  hw_route_cards(c, 0, 1, &r);
  double *cap = hw_link_capacity_mut(c), keep = cap[r.link[0]];
  cap[r.link[0]] = 0; /* without coll_ctx_invalidate: found by the capacity hash */
  assert_true(isinf(timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 2560, MiB, NULL)));
  cap[r.link[0]] = keep;
  coll_ctx_invalidate(x);
  assert_true(timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 2560, MiB, NULL) == t1);
  coll_ctx_invalidate(NULL);
  coll_ctx_free(x);
  free(cards);
  hw_free(c);
}

/* auto returns the fastest applicable algorithm at the requested level, and names it. */
static void test_auto(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t *cards = first_cards(5120, 1, 0);
  for (int level = 0; level <= 1; level++) {
    for (double bytes = 4096; bytes <= GiB; bytes *= 512) {
      coll_result r;
      double ta = timed(x, COLL_ALLREDUCE, COLL_AUTO, level, cards, 5120, bytes, &r);
      assert_int_not_equal(r.algo, COLL_AUTO);
      assert_int_equal(r.level, level);
      const coll_algo all[] = {COLL_RING, COLL_TREE, COLL_RHD, COLL_HIER};
      for (int i = 0; i < 4; i++)
        assert_true(ta <= timed(x, COLL_ALLREDUCE, all[i], level, cards, 5120, bytes, NULL));
      assert_close(r.busbw, bytes / ta * 2.0 * 5119 / 5120, 1e-12, "busbw");
    }
  }
  /* at 5,120 cards a flat ring pays 10,238 step latencies: hier must win for large sizes */
  coll_result r;
  timed(x, COLL_ALLREDUCE, COLL_AUTO, 1, cards, 5120, GiB, &r);
  assert_int_equal(r.algo, COLL_HIER);
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

static void test_bad_args(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=2");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t cards[16];
  for (uint32_t i = 0; i < 16; i++) cards[i] = i;
  coll_result r;
  wk_err err;
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_PAIRWISE, 0, cards, 16, 1e6, &r, &err),
                   WK_EVALUE);
  assert_non_null(strstr(err.msg, "pairwise"));
  assert_int_equal(coll_time(x, COLL_ALLTOALL, COLL_RING, 0, cards, 16, 1e6, &r, &err), WK_EVALUE);
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 0, cards, 1, 1e6, &r, &err), WK_EVALUE);
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 3, cards, 16, 1e6, &r, &err), WK_ERANGE);
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 0, cards, 16, -1, &r, &err), WK_ERANGE);
  assert_int_equal(coll_time(x, COLL_SENDRECV, COLL_AUTO, 0, cards, 3, 1e6, &r, &err), WK_EVALUE);
  assert_int_equal(coll_time(x, COLL_ALLGATHER, COLL_RHD, 0, cards, 12, 1e6, &r, &err), WK_EVALUE);
  assert_non_null(strstr(err.msg, "power-of-two"));
  cards[3] = 2;
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 0, cards, 16, 1e6, &r, &err), WK_EVALUE);
  assert_non_null(strstr(err.msg, "twice"));
  cards[3] = 16;
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 0, cards, 16, 1e6, &r, &err), WK_ERANGE);
  cards[3] = 3;
  /* hier with 3 ranks in one node and 8 in the other */
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_HIER, 0, cards + 5, 11, 1e6, &r, &err),
                   WK_EVALUE);
  /* still usable after errors */
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 16, 1e6, &r, &err), WK_OK);
  coll_ctx_free(x);
  hw_free(c);
}

/* Two jobs interleaved over the same leaves and spines slow each other down; two jobs in
 * different nodes on a non-blocking fabric do not. */
static void test_concurrent(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k:oversubscription=3");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t n = 64, *a = first_cards(n, 16, 0), *b = first_cards(n, 16, 8);
  coll_job jobs[2] = {{COLL_ALLTOALL, COLL_DIRECT, a, n, 64 * MiB},
                      {COLL_ALLTOALL, COLL_DIRECT, b, n, 64 * MiB}};
  coll_result r[2];
  double alone[2];
  wk_err err;
  assert_int_equal(coll_time_concurrent(x, jobs, 2, r, alone, &err), WK_OK);
  for (int j = 0; j < 2; j++) {
    assert_int_equal(r[j].level, 2);
    assert_true(r[j].time_s > 1.3 * alone[j]);
    assert_close(alone[j], timed(x, COLL_ALLTOALL, COLL_DIRECT, 2, jobs[j].cards, n,
                                 64 * MiB, NULL), 1e-9, "alone");
  }
  jobs[1].cards = a; /* overlapping cards are refused */
  assert_int_equal(coll_time_concurrent(x, jobs, 2, r, alone, &err), WK_EVALUE);
  coll_ctx_free(x);
  hw_free(c);
  c = load("dgx-a100:nodes=4");
  x = coll_ctx_new(c);
  uint32_t *p = first_cards(16, 1, 0), *q = first_cards(16, 1, 16);
  coll_job jj[2] = {{COLL_ALLREDUCE, COLL_RING, p, 16, 256 * MiB},
                    {COLL_ALLREDUCE, COLL_AUTO, q, 16, 256 * MiB}};
  assert_int_equal(coll_time_concurrent(x, jj, 2, r, alone, &err), WK_OK);
  for (int j = 0; j < 2; j++) assert_close(r[j].time_s, alone[j], 0.001, "disjoint jobs");
  free(p);
  free(q);
  free(a);
  free(b);
  coll_ctx_free(x);
  hw_free(c);
}

/* Ring structure at scale: over 61,440 cards the ring is bound by the supernode bus (it
 * crosses each supernode boundary once per channel), and 1 GiB takes 10^5 step latencies. */
static void test_ring_at_scale(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t n = hw_cards(c), *cards = first_cards(n, 1, 0);
  double t1 = timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, n, GiB, NULL);
  double t0 = timed(x, COLL_ALLREDUCE, COLL_RING, 0, cards, n, GiB, NULL);
  double steps = 2.0 * (n - 1), bus = hw_level_card_bw(c, HW_LEVEL_SUPERNODE) * 0.80;
  assert_true(t1 > steps * 10e-6);              /* latency-bound */
  assert_true(t1 > 2.0 * (n - 1) / n * GiB / bus); /* and never faster than the bus */
  assert_close(t1, t0, 0.05, "ring 61440 L1 vs L0");
  double th = timed(x, COLL_ALLREDUCE, COLL_HIER, 1, cards, n, GiB, NULL);
  assert_true(th < t1 / 5);
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

/* Groups at once (coll_time_groups): DP-like groups, the same layout shifted. On a non-blocking
 * rail-aligned fabric they do not meet, so all at once == one alone; on an oversubscribed one
 * groups that span pods share the pods' uplinks and are slower together; the phase cache
 * keeps groups-at-once and alone apart; overlapping or out-of-range groups are refused. */
static double grouped(coll_ctx *x, coll_op op, coll_algo a, int level, const uint32_t *cards,
                      uint32_t n, const uint32_t *off, uint32_t ng, double bytes) {
  coll_result r;
  wk_err err;
  if (coll_time_groups(x, op, a, level, cards, n, off, ng, bytes, &r, &err)) {
    char buf[1024];
    fail_msg("groups %s L%d n=%u x %u: %s", coll_op_name(op), level, n, ng,
             wk_err_format(&err, buf, sizeof buf));
  }
  assert_int_equal(r.level, level);
  return r.time_s;
}

static void test_groups(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=32");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t n = 32, *dp = first_cards(n, 8, 0), *off = first_cards(8, 1, 0);
  coll_op ops[3] = {COLL_ALLREDUCE, COLL_REDUCESCATTER, COLL_ALLGATHER};
  for (int k = 0; k < 3; k++) {
    double alone = timed(x, ops[k], COLL_AUTO, 1, dp, n, 256 * MiB, NULL);
    double all = grouped(x, ops[k], COLL_AUTO, 1, dp, n, off, 8, 256 * MiB);
    print_message("dgx-a100 %s 8 DP groups of 32: alone %.3f ms, at once %.3f ms\n",
                  coll_op_name(ops[k]), alone * 1e3, all * 1e3);
    assert_close(all, alone, 0.01, "non-blocking groups at once vs alone");
    assert_close(grouped(x, ops[k], COLL_AUTO, 0, dp, n, off, 8, 256 * MiB),
                 timed(x, ops[k], COLL_AUTO, 0, dp, n, 256 * MiB, NULL), 1e-12, "L0 groups");
  }
  /* one group is coll_time on the shifted cards, bit for bit */
  uint32_t three = 3, *dp3 = first_cards(n, 8, 3);
  assert_true(grouped(x, COLL_ALLREDUCE, COLL_RING, 1, dp, n, &three, 1, 64 * MiB) ==
              timed(x, COLL_ALLREDUCE, COLL_RING, 1, dp3, n, 64 * MiB, NULL));
  coll_result r;
  wk_err err;
  uint32_t bad[2] = {0, 8}; /* group 1 is group 0 (first 16 ranks) shifted onto itself */
  assert_int_equal(coll_time_groups(x, COLL_ALLREDUCE, COLL_RING, 1, dp, 16, bad, 2, MiB, &r, &err),
                   WK_EVALUE);
  bad[1] = 7 + 8 * 32; /* past the last card */
  assert_int_equal(coll_time_groups(x, COLL_ALLREDUCE, COLL_RING, 1, dp, n, bad, 2, MiB, &r, &err),
                   WK_ERANGE);
  assert_int_equal(coll_time_groups(x, COLL_ALLREDUCE, COLL_RING, 1, dp, n, bad, 0, MiB, &r, &err),
                   WK_EVALUE);
  coll_ctx_free(x);
  hw_free(c);
  /* L2 (concurrent jobs) agrees with L1 on a small non-blocking cluster */
  c = load("dgx-a100:nodes=4");
  x = coll_ctx_new(c);
  uint32_t *dp4 = first_cards(4, 8, 0);
  double l1 = grouped(x, COLL_ALLREDUCE, COLL_RING, 1, dp4, 4, off, 8, 64 * MiB);
  double l2 = grouped(x, COLL_ALLREDUCE, COLL_RING, 2, dp4, 4, off, 8, 64 * MiB);
  assert_close(l2, l1, 0.01, "groups L2 vs L1");
  coll_ctx_free(x);
  hw_free(c);
  /* zhengzhou 1:3: 640 groups of 4 cards, one per supernode over two pods */
  c = load("zhengzhou-60k:oversubscription=3");
  x = coll_ctx_new(c);
  uint32_t *span = first_cards(4, 640, 0), *off640 = first_cards(640, 1, 0);
  for (int rep = 0; rep < 2; rep++) { /* the second round is answered from the phase cache */
    double alone = timed(x, COLL_ALLREDUCE, COLL_RING, 1, span, 4, 256 * MiB, NULL);
    double all = grouped(x, COLL_ALLREDUCE, COLL_RING, 1, span, 4, off640, 640, 256 * MiB);
    double all2 = grouped(x, COLL_ALLREDUCE, COLL_RING, 2, span, 4, off640, 64, 256 * MiB);
    print_message("zhengzhou 1:3 ring 4 cards over 2 pods: alone %.3f ms, 640 groups %.3f ms "
                  "(L2, 64 groups: %.3f ms)\n", alone * 1e3, all * 1e3, all2 * 1e3);
    assert_true(all > 1.5 * alone);
    assert_true(all2 > alone * 1.0001);
  }
  free(span);
  free(off640);
  free(dp4);
  free(dp3);
  free(dp);
  free(off);
  coll_ctx_free(x);
  hw_free(c);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = 0;
  return buf;
}

static void test_validation(void **st) {
  (void)st;
  char *text = slurp(WK_SHARED_DIR "/data/validation/collectives.md");
  if (!text) skip();
  coll_vrow rows[32];
  int n = 0, modelled = 0;
  wk_err err;
  wk_errcode e = coll_validate_md(text, rows, 32, &n, &err);
  free(text);
  if (e) fail_msg("%s", err.msg);
  assert_true(n >= 5);
  for (int i = 0; i < n; i++) {
    if (!rows[i].modelled) continue;
    modelled++;
    if (fabs(rows[i].error_pct) > 10)
      fail_msg("%s %s: published %.1f GB/s, predicted %.1f GB/s (%+.1f %%)", rows[i].system,
               rows[i].collective, rows[i].published_hi / 1e9, rows[i].predicted / 1e9,
               rows[i].error_pct);
  }
  assert_int_equal(modelled, n); /* NVLS included: every published row is predicted */
  /* a row the model cannot map is an error, not a silent pass */
  assert_int_equal(coll_validate_md("| system | collective | busbw | source |\n|---|---|---|---|\n"
                                    "| a TPU pod | all_reduce | 100 GB/s | x |\n",
                                    rows, 32, &n, &err),
                   WK_EVALUE);
}

/* NVLS: all-reduce in the scale-up switch. Each card port carries S (n + 1) / n once, at
 * COLL_EFF_NVLS of the scale-up efficiency, so on 8 H100 its busbw is 2 (n - 1) / (n + 1) of
 * 450 GB/s x 0.8 x 5/6 (466.7 GB/s) at large sizes; the levels agree; auto takes it where it
 * applies; it is refused without in-switch reduction, across domains, and for other ops. */
static void test_nvls(void **st) {
  (void)st;
  hw_cluster *c = load("h100-roce-24k:nodes=2");
  coll_ctx *x = coll_ctx_new(c);
  uint32_t *cards = first_cards(16, 1, 0);
  coll_result r;
  double t0 = timed(x, COLL_ALLREDUCE, COLL_NVLS, 0, cards, 8, 8 * GiB, &r);
  assert_close(r.busbw, 450e9 * 0.8 * 5.0 / 6.0 * 14.0 / 9.0, 0.001, "nvls busbw, 8 GiB");
  double t1 = timed(x, COLL_ALLREDUCE, COLL_NVLS, 1, cards, 8, 8 * GiB, NULL);
  assert_close(t1, t0, 0.01, "nvls L1 vs L0");
  assert_close(timed(x, COLL_ALLREDUCE, COLL_NVLS, 2, cards, 8, 64 * MiB, NULL),
               timed(x, COLL_ALLREDUCE, COLL_NVLS, 1, cards, 8, 64 * MiB, NULL), 0.01,
               "nvls L2 vs L1");
  assert_true(t1 < 0.8 * timed(x, COLL_ALLREDUCE, COLL_RING, 1, cards, 8, 8 * GiB, NULL));
  for (int level = 0; level <= 1; level++) {
    timed(x, COLL_ALLREDUCE, COLL_AUTO, level, cards, 8, GiB, &r);
    assert_int_equal(r.algo, COLL_NVLS);
  }
  wk_err err;
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_NVLS, 1, cards, 16, GiB, &r, &err),
                   WK_EVALUE);
  assert_non_null(strstr(err.msg, "one scale-up domain"));
  timed(x, COLL_ALLREDUCE, COLL_AUTO, 1, cards, 16, GiB, &r); /* two nodes: auto goes on */
  assert_int_not_equal(r.algo, COLL_NVLS);
  assert_int_equal(coll_time(x, COLL_ALLGATHER, COLL_NVLS, 1, cards, 8, GiB, &r, &err), WK_EVALUE);
  assert_non_null(strstr(err.msg, "does not apply"));
  coll_ctx_free(x);
  hw_free(c);
  c = load("dgx-a100:nodes=1"); /* A100's NVSwitch does not reduce */
  x = coll_ctx_new(c);
  assert_int_equal(coll_time(x, COLL_ALLREDUCE, COLL_NVLS, 0, cards, 8, GiB, &r, &err), WK_EVALUE);
  assert_non_null(strstr(err.msg, "in_switch_reduction"));
  timed(x, COLL_ALLREDUCE, COLL_AUTO, 1, cards, 8, GiB, &r);
  assert_int_not_equal(r.algo, COLL_NVLS);
  free(cards);
  coll_ctx_free(x);
  hw_free(c);
}

/* Regression: a phase solved without the cache (too big for it, or caching off) on a fresh
 * context used scratch buffers taken before they were grown (a NULL write at 4,096 cards). */
static void test_uncached_fresh_ctx(void **st) {
  (void)st;
  wk_err err;
  hw_cluster *c = hw_load("dgx-a100:nodes=8", &err);
  assert_non_null(c);
  uint32_t cards[64];
  for (uint32_t i = 0; i < 64; i++) cards[i] = i;
  coll_ctx *off = coll_ctx_new(c), *on = coll_ctx_new(c);
  coll_ctx_set_cache_bytes(off, 0);
  coll_result a, b;
  for (int k = 0; k < 3; k++) { /* growing flow counts: 8, 64, then all-to-all's 4,032 */
    coll_op op = k == 2 ? COLL_ALLTOALL : COLL_ALLREDUCE;
    uint32_t n = k == 0 ? 8 : 64;
    assert_int_equal(coll_time(off, op, COLL_AUTO, 1, cards, n, 1 << 26, &a, &err), WK_OK);
    assert_int_equal(coll_time(on, op, COLL_AUTO, 1, cards, n, 1 << 26, &b, &err), WK_OK);
    assert_true(a.time_s == b.time_s);
  }
  coll_ctx_free(off);
  coll_ctx_free(on);
  hw_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uncached_fresh_ctx),
      cmocka_unit_test(test_names),          cmocka_unit_test(test_l1_equals_l0),
      cmocka_unit_test(test_l2_equals_l1),   cmocka_unit_test(test_contention_costs),
      cmocka_unit_test(test_dead_link),      cmocka_unit_test(test_phase_cache),      cmocka_unit_test(test_auto),
      cmocka_unit_test(test_bad_args),       cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_ring_at_scale),  cmocka_unit_test(test_validation),
      cmocka_unit_test(test_groups),        cmocka_unit_test(test_progress),
      cmocka_unit_test(test_nvls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
