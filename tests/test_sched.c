/* test_sched.c — the card pool and the scheduler: no card is ever given twice over thousands
 * of random allocations, free counts per level agree with a brute-force count, topo keeps
 * jobs inside the smallest domain that holds them and fragments less than first-fit, and the
 * policies keep their promises (fifo order, EASY never delays the head, priority preempts,
 * fairshare lends idle cards and takes them back, las favours the least served). Tenants
 * YAML errors carry file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

static hw_cluster *load(const char *spec) {
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    char buf[1024];
    fail_msg("%s: %s", spec, wk_err_format(&err, buf, sizeof buf));
  }
  return c;
}

/* Brute force: every level's free counts from the owner array. */
static void check_counts(const sched_pool *p) {
  uint32_t cards = sched_pool_cards(p), total = 0;
  for (uint32_t c = 0; c < cards; c++) total += sched_pool_owner(p, c) == SCHED_NONE;
  assert_int_equal(total, sched_pool_free_cards(p));
  for (int l = 0; l < sched_pool_levels(p); l++) {
    uint32_t sz = sched_pool_level_size(p, l), nd = sched_pool_level_domains(p, l);
    for (uint32_t d = 0; d < nd; d++) {
      uint32_t f = 0;
      for (uint32_t c = d * sz; c < (d + 1) * sz && c < cards; c++) f += sched_pool_owner(p, c) == SCHED_NONE;
      assert_int_equal(f, sched_pool_domain_free(p, l, d));
    }
  }
}

typedef struct held {
  uint32_t owner, n;
  sched_range r[512];
  uint32_t nr;
} held;

static void copy_ranges(held *h, const sched_range *r, uint32_t n) {
  if (n > 512) fail_msg("too many ranges (%u) for the test's buffer", n);
  memcpy(h->r, r, n * sizeof *r);
  h->nr = n;
}

/* Random alloc/free on a pool; after each alloc, the job's cards must be exactly the ones
 * whose owner is it, sorted, disjoint, summing to its size, and none held before. */
static void random_churn(const char *spec, sched_placement how, int steps, uint64_t seed) {
  hw_cluster *c = load(spec);
  sched_pool *p = sched_pool_new(c);
  uint32_t cards = sched_pool_cards(p);
  held *h = calloc(256, sizeof *h);
  uint32_t nh = 0, next_owner = 0;
  wk_rng rng;
  wk_rng_init(&rng, seed, 7);
  uint8_t *mark = calloc(cards, 1);
  for (int step = 0; step < steps; step++) {
    int do_alloc = nh == 0 || (nh < 256 && wk_rng_uniform(&rng) < 0.55);
    if (do_alloc) {
      /* sizes: mostly small, sometimes a node, a supernode or more */
      double u = wk_rng_uniform(&rng);
      uint32_t k = u < 0.5 ? 1 + (uint32_t)wk_rng_below(&rng, 8)
                 : u < 0.85 ? 8 * (1 + (uint32_t)wk_rng_below(&rng, 16))
                 : 1 + (uint32_t)wk_rng_below(&rng, cards / 8);
      uint32_t free_before = sched_pool_free_cards(p), nr;
      const sched_range *r = sched_pool_alloc(p, how, k, next_owner, &nr);
      if (k > free_before) {
        assert_null(r);
        assert_int_equal(sched_pool_free_cards(p), free_before);
        continue;
      }
      assert_non_null(r);
      uint32_t sum = 0;
      for (uint32_t i = 0; i < nr; i++) {
        if (i) assert_true(r[i].first > r[i - 1].first + r[i - 1].n); /* sorted, merged */
        for (uint32_t x = r[i].first; x < r[i].first + r[i].n; x++) {
          assert_int_equal(mark[x], 0); /* never given twice */
          mark[x] = 1;
          assert_int_equal(sched_pool_owner(p, x), next_owner);
        }
        sum += r[i].n;
      }
      assert_int_equal(sum, k);
      assert_int_equal(sched_pool_free_cards(p), free_before - k);
      h[nh].owner = next_owner++;
      h[nh].n = k;
      copy_ranges(&h[nh], r, nr);
      nh++;
    } else {
      uint32_t i = (uint32_t)wk_rng_below(&rng, nh);
      for (uint32_t q = 0; q < h[i].nr; q++)
        for (uint32_t x = h[i].r[q].first; x < h[i].r[q].first + h[i].r[q].n; x++) mark[x] = 0;
      sched_pool_release(p, h[i].r, h[i].nr);
      h[i] = h[--nh];
    }
    if (step % 97 == 0) check_counts(p);
  }
  check_counts(p);
  free(mark);
  free(h);
  sched_pool_free(p);
  hw_free(c);
}

static void test_no_double_allocation(void **st) {
  (void)st;
  random_churn("zhengzhou-60k", SCHED_PLACE_TOPO, 3000, 1);
  random_churn("zhengzhou-60k", SCHED_PLACE_FIRST_FIT, 3000, 2);
  random_churn("dgx-a100", SCHED_PLACE_TOPO, 3000, 3);
  random_churn("cloudmatrix-384", SCHED_PLACE_TOPO, 3000, 4);
  random_churn("h100-roce-24k", SCHED_PLACE_TOPO, 2000, 5);
}

static void test_levels_nest(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  sched_pool *p = sched_pool_new(c);
  /* cards, node 8, leaf 320, supernode 640, pod 1280, cluster */
  assert_int_equal(sched_pool_levels(p), 6);
  static const uint32_t want[] = {1, 8, 320, 640, 1280, 61440};
  for (int l = 0; l < 6; l++) assert_int_equal(sched_pool_level_size(p, l), want[l]);
  assert_int_equal(sched_pool_level_hw(p, 3), HW_LEVEL_SUPERNODE);
  assert_int_equal(sched_pool_ideal_level(p, 640), 3);
  assert_int_equal(sched_pool_ideal_level(p, 5), 1);
  sched_pool_free(p);
  hw_free(c);
}

static void test_topo_supernode(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  sched_pool *p = sched_pool_new(c);
  /* Every supernode but number 37 loses one card (down), so only 37 is whole. */
  uint32_t nr;
  for (uint32_t sn = 0; sn < 96; sn++)
    if (sn != 37) sched_pool_set_down(p, sn * 640 + 17, 1);
  const sched_range *r = sched_pool_alloc(p, SCHED_PLACE_TOPO, 640, 1000, &nr);
  assert_non_null(r);
  assert_int_equal(nr, 1);
  assert_int_equal(r[0].first, 37 * 640);
  assert_int_equal(r[0].n, 640);
  /* first-fit would spread it across two supernodes */
  sched_pool_release(p, r, nr);
  r = sched_pool_alloc(p, SCHED_PLACE_FIRST_FIT, 640, 1000, &nr);
  assert_true(sched_pool_domains_spanned(p, 3, r, nr) >= 2);
  sched_pool_free(p);
  hw_free(c);
}

static void test_node_job_gets_one_node(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  sched_pool *p = sched_pool_new(c);
  wk_rng rng;
  wk_rng_init(&rng, 11, 0);
  uint32_t nr, owner = 0;
  /* fragment: 3000 jobs of 1..7 cards, then free every other one */
  held *h = calloc(3000, sizeof *h);
  for (int i = 0; i < 3000; i++) {
    uint32_t k = 1 + (uint32_t)wk_rng_below(&rng, 7);
    const sched_range *r = sched_pool_alloc(p, SCHED_PLACE_FIRST_FIT, k, owner++, &nr);
    copy_ranges(&h[i], r, nr);
  }
  for (int i = 0; i < 3000; i += 2) sched_pool_release(p, h[i].r, h[i].nr);
  for (uint32_t k = 1; k <= 8; k++) {
    const sched_range *r = sched_pool_alloc(p, SCHED_PLACE_TOPO, k, owner++, &nr);
    assert_non_null(r);
    assert_int_equal(sched_pool_domains_spanned(p, 1, r, nr), 1);
    /* best fit: the node had no more free cards than any other node that could hold k */
    uint32_t node = r[0].first / 8, left = sched_pool_domain_free(p, 1, node);
    for (uint32_t d = 0; d < sched_pool_level_domains(p, 1); d++) {
      uint32_t f = sched_pool_domain_free(p, 1, d);
      if (d != node && f >= k) assert_true(f >= left + k);
    }
  }
  check_counts(p);
  free(h);
  sched_pool_free(p);
  hw_free(c);
}

/* Same random workload on both placements: topo spans fewer ideal-level domains. */
static double mean_span(sched_placement how) {
  hw_cluster *c = load("zhengzhou-60k");
  sched_pool *p = sched_pool_new(c);
  wk_rng rng;
  wk_rng_init(&rng, 99, 0);
  enum { N = 400 };
  held *h = calloc(N, sizeof *h);
  uint32_t nh = 0, owner = 0;
  double spans = 0;
  int count = 0;
  for (int step = 0; step < 6000; step++) {
    if (nh == N || (nh && wk_rng_uniform(&rng) < 0.45)) {
      uint32_t i = (uint32_t)wk_rng_below(&rng, nh);
      sched_pool_release(p, h[i].r, h[i].nr);
      h[i] = h[--nh];
      continue;
    }
    double u = wk_rng_uniform(&rng);
    uint32_t k = u < 0.4 ? 1 + (uint32_t)wk_rng_below(&rng, 8)
               : u < 0.8 ? 8 * (1 + (uint32_t)wk_rng_below(&rng, 20))
               : 64 * (1 + (uint32_t)wk_rng_below(&rng, 20));
    uint32_t nr;
    const sched_range *r = sched_pool_alloc(p, how, k, owner++, &nr);
    if (!r) continue;
    int lv = sched_pool_ideal_level(p, k);
    spans += sched_pool_domains_spanned(p, lv, r, nr);
    count++;
    copy_ranges(&h[nh++], r, nr);
  }
  free(h);
  sched_pool_free(p);
  hw_free(c);
  return spans / count;
}

static void test_fragmentation(void **st) {
  (void)st;
  double ff = mean_span(SCHED_PLACE_FIRST_FIT), topo = mean_span(SCHED_PLACE_TOPO);
  print_message("mean domains spanned at the ideal level: first-fit %.3f, topo %.3f\n", ff, topo);
  assert_true(topo < ff);
  assert_true(topo < 0.5 * ff); /* and most jobs stay in one domain */
  assert_true(topo < 1.5);
}

static void test_down_cards(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  sched_pool *p = sched_pool_new(c);
  for (uint32_t x = 0; x < 32; x += 3) sched_pool_set_down(p, x, 1);
  check_counts(p);
  uint32_t nr, fr = sched_pool_free_cards(p);
  assert_null(sched_pool_alloc(p, SCHED_PLACE_TOPO, fr + 1, 1, &nr));
  const sched_range *r = sched_pool_alloc(p, SCHED_PLACE_TOPO, fr, 1, &nr);
  assert_non_null(r);
  for (uint32_t i = 0; i < nr; i++)
    for (uint32_t x = r[i].first; x < r[i].first + r[i].n; x++) assert_true(x % 3 != 0);
  check_counts(p);
  sched_pool_free(p);
  hw_free(c);
}

/* ---- scheduler ---- */
static sched *mk(hw_cluster *c, sched_policy pol, const sched_tenants *t, uint32_t max_jobs) {
  sched_opts o;
  sched_opts_init(&o);
  o.policy = pol;
  o.tenants = t;
  wk_err err;
  sched *s = sched_new(c, &o, max_jobs, &err);
  assert_non_null(s);
  return s;
}
static void submit(sched *s, uint32_t id, uint32_t cards, double submit_s, double est_s, uint32_t tenant) {
  sched_job j = {cards, tenant, wk_time_from_s(submit_s), wk_time_from_s(est_s)};
  sched_submit(s, id, &j, j.submit);
}
static int started(const sched_action *a, uint32_t n, uint32_t job) {
  for (uint32_t i = 0; i < n; i++)
    if (a[i].kind == SCHED_START && a[i].job == job) return 1;
  return 0;
}
static int preempted(const sched_action *a, uint32_t n, uint32_t job) {
  for (uint32_t i = 0; i < n; i++)
    if (a[i].kind == SCHED_PREEMPT && a[i].job == job) return 1;
  return 0;
}

static void test_fifo_and_backfill(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4"); /* 32 cards */
  for (int pol = SCHED_FIFO; pol <= SCHED_BACKFILL; pol++) {
    sched *s = mk(c, (sched_policy)pol, NULL, 8);
    submit(s, 0, 24, 0, 100, 0);
    uint32_t n;
    const sched_action *a = sched_pass(s, 0, &n);
    assert_true(started(a, n, 0));
    submit(s, 1, 16, 1, 100, 0); /* blocked: 8 free */
    submit(s, 2, 8, 2, 50, 0);   /* ends (52) before job 0's estimate (100): backfills */
    submit(s, 3, 8, 3, 500, 0);  /* would delay job 1: must wait */
    a = sched_pass(s, wk_time_from_s(3), &n);
    if (pol == SCHED_FIFO) {
      assert_int_equal(n, 0);
    } else {
      assert_int_equal(n, 1);
      assert_true(started(a, n, 2));
    }
    sched_free(s);
  }
  hw_free(c);
}

/* The look-ahead window counts every queued job it passes, the ones too big to start included
 * (the pass skips runs of them without visiting each): a small job behind 40 big ones starts
 * with a window of 42 jobs, not with 41. */
static void test_lookahead_window(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4"); /* 32 cards */
  for (uint32_t look = 41; look <= 42; look++) {
    sched_opts o;
    sched_opts_init(&o);
    o.policy = SCHED_BACKFILL;
    o.lookahead = look;
    wk_err err;
    sched *s = sched_new(c, &o, 64, &err);
    assert_non_null(s);
    submit(s, 0, 24, 0, 100, 0);
    uint32_t n;
    const sched_action *a = sched_pass(s, 0, &n);
    assert_true(started(a, n, 0));
    submit(s, 1, 16, 1, 100, 0); /* the head: blocked, 8 cards free */
    for (uint32_t k = 2; k < 42; k++) submit(s, k, 12, k, 100, 0); /* too big for 8 */
    submit(s, 42, 4, 42, 10, 0); /* fits, and ends before the head's reservation */
    a = sched_pass(s, wk_time_from_s(50), &n);
    assert_int_equal(n, look == 42);
    if (look == 42) assert_true(started(a, n, 42));
    sched_free(s);
  }
  hw_free(c);
}

static void test_priority_preempts(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  sched_tenants *t = sched_tenants_new();
  sched_tenants_add(t, "low", -1, 0.5, 0);
  sched_tenants_add(t, "high", -1, 0.5, 10);
  sched *s = mk(c, SCHED_PRIORITY, t, 8);
  submit(s, 0, 16, 0, 1000, 0);
  submit(s, 1, 16, 0, 1000, 0);
  uint32_t n;
  sched_pass(s, 0, &n);
  assert_int_equal(n, 2);
  submit(s, 2, 24, 10, 100, 1);
  const sched_action *a = sched_pass(s, wk_time_from_s(10), &n);
  assert_true(started(a, n, 2));
  assert_true(preempted(a, n, 0) && preempted(a, n, 1)); /* 16 + 16 freed for 24 */
  assert_int_equal(sched_queued_jobs(s), 2);
  /* a low-priority job never preempts */
  sched_end(s, 2, wk_time_from_s(20), 0);
  a = sched_pass(s, wk_time_from_s(20), &n);
  assert_int_equal(sched_running_jobs(s), 2);
  sched_free(s);
  sched_tenants_free(t);
  hw_free(c);
}

static void test_fairshare_borrow_reclaim(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  sched_tenants *t = sched_tenants_new();
  sched_tenants_add(t, "a", 16, 0, 0);
  sched_tenants_add(t, "b", 16, 0, 0);
  sched *s = mk(c, SCHED_FAIRSHARE, t, 8);
  /* a borrows the whole cluster while b is idle */
  submit(s, 0, 16, 0, 1e5, 0);
  submit(s, 1, 16, 0, 1e5, 0);
  uint32_t n;
  sched_pass(s, 0, &n);
  assert_int_equal(n, 2);
  assert_int_equal(sched_tenant_running_cards(s, 0), 32);
  /* b arrives within its quota: after min_run (600 s), a's borrowed job is reclaimed */
  submit(s, 2, 16, 100, 1e5, 1);
  const sched_action *a = sched_pass(s, wk_time_from_s(100), &n);
  assert_int_equal(n, 0);
  a = sched_pass(s, wk_time_from_s(700), &n);
  assert_true(started(a, n, 2));
  assert_int_equal(n, 2);
  assert_int_equal(sched_tenant_running_cards(s, 0), 16);
  assert_int_equal(sched_tenant_running_cards(s, 1), 16);
  sched_free(s);
  sched_tenants_free(t);
  hw_free(c);
}

static void test_las(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  sched *s = mk(c, SCHED_LAS, NULL, 8);
  submit(s, 0, 32, 0, 1e6, 0);
  uint32_t n;
  sched_pass(s, 0, &n);
  /* after 1000 s job 0 has 32,000 card-s (level 1); a fresh job preempts it */
  submit(s, 1, 8, 1000, 10, 0);
  const sched_action *a = sched_pass(s, wk_time_from_s(1000), &n);
  assert_true(preempted(a, n, 0) && started(a, n, 1));
  sched_free(s);
  hw_free(c);
}

static void test_names(void **st) {
  (void)st;
  static const char *pol[] = {"fifo", "backfill", "sjf", "fairshare", "priority", "las"};
  for (int i = 0; i < 6; i++) {
    sched_policy p;
    assert_int_equal(sched_policy_parse(pol[i], &p), 0);
    assert_string_equal(sched_policy_name(p), pol[i]);
  }
  sched_policy p;
  assert_int_equal(sched_policy_parse("lottery", &p), -1);
  sched_placement q;
  assert_int_equal(sched_placement_parse("topo", &q), 0);
  assert_int_equal(q, SCHED_PLACE_TOPO);
  assert_int_equal(sched_placement_parse("first-fit", &q), 0);
  assert_int_equal(sched_placement_parse("random", &q), -1);
}

static void test_tenants_yaml(void **st) {
  (void)st;
  static const char good[] = "halflife: 2d\n"
                             "tenants:\n"
                             "  - name: climate\n    quota: 25%\n    priority: 5\n    users: [alice, \"lab-*\"]\n"
                             "  - name: bio\n    quota: 0.5\n    groups: [vc7]\n"
                             "  - name: rest\n    quota: 100\n    default: true\n";
  sched_tenants *t;
  wk_err err;
  assert_int_equal(sched_tenants_parse("t.yaml", good, sizeof good - 1, &t, &err), WK_OK);
  assert_int_equal(sched_tenants_count(t), 3);
  assert_true(sched_tenants_halflife_s(t) == 2 * 86400.0);
  assert_true(sched_tenant_quota_cards(t, 0, 1000) == 250);
  assert_true(sched_tenant_quota_cards(t, 1, 1000) == 500);
  assert_true(sched_tenant_quota_cards(t, 2, 1000) == 100);
  assert_int_equal(sched_tenant_priority(t, 0), 5);
  assert_int_equal(sched_tenants_match(t, "lab-x", "", ""), 0);
  assert_int_equal(sched_tenants_match(t, "zed", "vc7", ""), 1);
  assert_int_equal(sched_tenants_match(t, "zed", "vc8", "q"), 2);
  sched_tenants_free(t);
  /* the quota rule: numbers >= 1 are whole cards (1e3 too), below 1 fractions, '%' percent */
  static const struct { const char *q; double cards; } quotas[] = {
      {"1e3", 1000}, {"1E3", 1000}, {"4.096e3", 4096}, {"1", 1}, {"0", 0},
      {"0.25", 2500}, {"2.5e-1", 2500}, {"25%", 2500}, {"100%", 10000}, {"1e9", 1e9}};
  for (size_t i = 0; i < sizeof quotas / sizeof quotas[0]; i++) {
    char text[128];
    snprintf(text, sizeof text, "tenants:\n  - name: a\n    quota: %s\n", quotas[i].q);
    if (sched_tenants_parse("q.yaml", text, strlen(text), &t, &err)) fail_msg("quota %s: %s", quotas[i].q, err.msg);
    if (sched_tenant_quota_cards(t, 0, 10000) != quotas[i].cards)
      fail_msg("quota %s: %g cards of 10000, want %g", quotas[i].q, sched_tenant_quota_cards(t, 0, 10000),
               quotas[i].cards);
    sched_tenants_free(t);
  }
  static const struct { const char *text; int line, col; const char *msg; } bad[] = {
      {"tenants:\n  - name: a\n    quota: 1.0\n", 3, 12, "write the whole cluster as 100%"},
      {"tenants:\n  - name: a\n    quota: 1.5e0\n", 3, 12, "quota must be"},
      {"tenants:\n  - name: a\n    quota: 2e9\n", 3, 12, "quota must be"},
      {"tenants:\n  - name: a\n    quota: -1e3\n", 3, 12, "quota must be"},
      {"tenants:\n  - name: a\n    quota: lots\n", 3, 12, "quota must be"},
      {"tenants:\n  - name: a\n    colour: red\n", 3, 5, "unknown tenant key 'colour'"},
      {"tenants:\n  - quota: 3\n", 2, 5, "needs a name"},
      {"tenants:\n  - name: a\n  - name: a\n", 3, 5, "named twice"},
      {"tenants: [\n", 2, 1, "malformed YAML"},
      {"tenants:\n  - name: a\n    quota: 1.5\n", 3, 12, "quota must be"},
      {"tenant:\n  - name: a\n", 1, 1, "unknown key 'tenant'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t = NULL;
    assert_int_not_equal(sched_tenants_parse("b.yaml", bad[i].text, strlen(bad[i].text), &t, &err), WK_OK);
    assert_null(t);
    char buf[1024];
    wk_err_format(&err, buf, sizeof buf);
    if (err.line != bad[i].line || err.col != bad[i].col || !strstr(err.msg, bad[i].msg))
      fail_msg("case %zu: got '%s'", i, buf);
  }
  /* encoding errors are placed from libyaml's byte offset, not reported at 1:1 */
  static const char nul[] = "tenants:\n  - name: a\0\n";
  t = NULL;
  assert_int_equal(sched_tenants_parse("b.yaml", nul, sizeof nul - 1, &t, &err), WK_EPARSE);
  assert_null(t);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.col, 12);
  assert_non_null(strstr(err.msg, "malformed YAML: control characters are not allowed"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels_nest),
      cmocka_unit_test(test_no_double_allocation),
      cmocka_unit_test(test_topo_supernode),
      cmocka_unit_test(test_node_job_gets_one_node),
      cmocka_unit_test(test_fragmentation),
      cmocka_unit_test(test_down_cards),
      cmocka_unit_test(test_fifo_and_backfill),
      cmocka_unit_test(test_lookahead_window),
      cmocka_unit_test(test_priority_preempts),
      cmocka_unit_test(test_fairshare_borrow_reclaim),
      cmocka_unit_test(test_las),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_tenants_yaml),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
