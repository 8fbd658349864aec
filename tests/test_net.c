/* test_net.c — unit tests for net/: exact max-min rates on hand-solved cases, fluid completion
 * times worked out by hand, dead links, group notes and phase chaining, bad input, and the key
 * invariant: the rates kept by bottleneck propagation are max-min fair after every batch (checked
 * against a fresh solve, and a full re-solve at every batch gives the same completion times to
 * 1e-9) on random workloads with many ties, and the solver agrees with a naive progressive
 * filling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "net/net.h"
#include "net/net_int.h" /* white box: the event sequence counter, the link queue */

static net_sim *mk(uint32_t n, const double *cap, const float *lat) {
  net_sim *s = net_sim_new(n, cap, lat, NULL);
  assert_non_null(s);
  return s;
}

static uint32_t add(net_sim *s, const uint32_t *route, uint32_t nh, double bytes, double t,
                    uint32_t group, uint32_t flags) {
  net_flow_spec sp = {route, nh, bytes, t, group, flags};
  uint32_t id = NET_NONE;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EOK);
  return id;
}

static void test_single_flow(void **st) {
  (void)st;
  double cap[1] = {50e9};
  float lat[1] = {1e-6f};
  net_sim *s = mk(1, cap, lat);
  uint32_t off[2] = {0, 1}, links[1] = {0};
  double bytes[1] = {1e9}, rate[1], fin[1], mk_s;
  assert_int_equal(net_solve_once(s, 1, off, links, bytes, rate, fin, &mk_s), WK_EOK);
  assert_true(rate[0] == 50e9);
  assert_true(fin[0] == 1e9 / 50e9 + (double)lat[0]);
  assert_true(mk_s == fin[0]);
  /* The same through the event mode, starting later. */
  uint32_t id = add(s, links, 1, 1e9, 2.0, NET_NONE, NET_FLOW_NOTIFY);
  net_note n;
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.kind, NET_NOTE_FLOW);
  assert_int_equal(n.id, id);
  assert_true(n.time_s == 2.0 + 1e9 / 50e9 + (double)lat[0]);
  assert_int_equal(net_sim_next(s, &n), 0);
  net_sim_free(s);
}

static void test_two_flows_share(void **st) {
  (void)st;
  double cap[1] = {10e9};
  float lat[1] = {0};
  net_sim *s = mk(1, cap, lat);
  uint32_t off[3] = {0, 1, 2}, links[2] = {0, 0};
  double rate[2];
  assert_int_equal(net_maxmin(s, 2, off, links, rate), WK_EOK);
  assert_true(rate[0] == 5e9 && rate[1] == 5e9);
  uint32_t off3[4] = {0, 1, 2, 3}, links3[3] = {0, 0, 0};
  double r3[3];
  assert_int_equal(net_maxmin(s, 3, off3, links3, r3), WK_EOK);
  for (int i = 0; i < 3; i++) assert_true(r3[i] == 10e9 / 3.0);
  net_sim_free(s);
}

/* Three links, four flows: L2 (cap 6) is the tightest, f2 and f3 get 3; then L1 (8 - 3 left for
 * f1 alone) gives f1 5; then L0 (12 - 5) gives f0 7. Every link ends saturated. */
static void test_textbook(void **st) {
  (void)st;
  double cap[3] = {12, 8, 6};
  float lat[3] = {0, 0, 0};
  net_sim *s = mk(3, cap, lat);
  uint32_t off[5] = {0, 1, 3, 5, 6}, links[6] = {0, 0, 1, 1, 2, 2};
  double rate[4];
  assert_int_equal(net_maxmin(s, 4, off, links, rate), WK_EOK);
  assert_true(rate[0] == 7.0);
  assert_true(rate[1] == 5.0);
  assert_true(rate[2] == 3.0);
  assert_true(rate[3] == 3.0);
  /* An empty route is local: infinite rate, never a division by zero. */
  uint32_t off1[2] = {0, 0};
  double r1[1];
  assert_int_equal(net_maxmin(s, 1, off1, links, r1), WK_EOK);
  assert_true(isinf(r1[0]));
  net_sim_free(s);
}

/* f0 (10 B, L0), f1 (30 B, L0+L1), f2 (40 B, L1), caps 10: all at 5 until f0 drains at t=2;
 * f1 stays at 5 (L1 still shared) and drains at 6; f2 then has 10 B left at 10 B/s: t=7.
 * Latency 0.5 s on L1 is added once to flows crossing it, after draining. */
static void test_finish_frees_capacity(void **st) {
  (void)st;
  double cap[2] = {10, 10};
  float lat[2] = {0, 0.5f};
  net_sim *s = mk(2, cap, lat);
  uint32_t off[4] = {0, 1, 3, 4}, links[4] = {0, 0, 1, 1};
  double bytes[3] = {10, 30, 40}, rate[3], fin[3], mk_s;
  assert_int_equal(net_solve_once(s, 3, off, links, bytes, rate, fin, &mk_s), WK_EOK);
  assert_true(rate[0] == 5 && rate[1] == 5 && rate[2] == 5);
  assert_true(fin[0] == 2.0);
  assert_true(fin[1] == 6.5);
  assert_true(fin[2] == 7.5);
  assert_true(mk_s == 7.5);
  /* One link, 100 B and 300 B at 100 B/s: 2 s, then the second alone: 4 s. */
  double c1[1] = {100};
  float l1[1] = {0};
  net_sim *t = mk(1, c1, l1);
  uint32_t o2[3] = {0, 1, 2}, k2[2] = {0, 0};
  double b2[2] = {100, 300}, f2[2];
  assert_int_equal(net_solve_once(t, 2, o2, k2, b2, NULL, f2, &mk_s), WK_EOK);
  assert_true(f2[0] == 2.0 && f2[1] == 4.0);
  net_sim_free(t);
  net_sim_free(s);
}

static void test_dead_link(void **st) {
  (void)st;
  double cap[2] = {0, 10};
  float lat[2] = {0, 0};
  net_sim *s = mk(2, cap, lat);
  uint32_t ra[2] = {0, 1}, rb[1] = {1};
  uint32_t a = add(s, ra, 2, 100, 0, NET_NONE, NET_FLOW_NOTIFY);
  uint32_t b = add(s, rb, 1, 100, 0, NET_NONE, NET_FLOW_NOTIFY);
  net_note n;
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.id, b);
  assert_true(n.time_s == 10.0); /* the stalled flow takes nothing from L1 */
  assert_true(net_flow_rate(s, a) == 0.0);
  assert_int_equal(net_sim_next(s, &n), 0); /* returns, does not hang */
  assert_int_equal(net_sim_stalled(s), 1);
  assert_int_equal(net_sim_active(s), 1);
  net_sim_reset(s);
  uint32_t off[3] = {0, 2, 3}, links[3] = {0, 1, 1};
  double bytes[2] = {100, 100}, rate[2], fin[2], mk_s;
  assert_int_equal(net_solve_once(s, 2, off, links, bytes, rate, fin, &mk_s), WK_EOK);
  assert_true(rate[0] == 0.0 && rate[1] == 10.0);
  assert_true(isinf(fin[0]) && fin[1] == 10.0 && isinf(mk_s));
  net_sim_free(s);
}

/* A two-phase "collective": group 3 (two flows) must complete before group 4 starts. */
static void test_groups(void **st) {
  (void)st;
  double cap[2] = {10, 10};
  float lat[2] = {0.25f, 0.25f};
  net_sim *s = mk(2, cap, lat);
  uint32_t r0[1] = {0}, r1[1] = {1}, r01[2] = {0, 1};
  add(s, r0, 1, 10, 0, 3, 0);  /* 10 B alone on L0: drains at 1 */
  add(s, r1, 1, 30, 0, 3, 0);  /* 30 B alone on L1: drains at 3 */
  net_note n;
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.kind, NET_NOTE_GROUP);
  assert_int_equal(n.id, 3);
  assert_true(n.time_s == 3.25);
  add(s, r01, 2, 20, n.time_s, 4, 0); /* both links: 20 B at 10 B/s + 0.5 s */
  add(s, r0, 1, 10, n.time_s, 4, 0);  /* shares L0 at 5: drains at 5.25; then 10 B/s */
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.kind, NET_NOTE_GROUP);
  assert_int_equal(n.id, 4);
  /* r01: 10 B by 5.25 at 5 B/s, 10 B left alone at 10 B/s: drains 6.25, + 0.5 latency. */
  assert_true(fabs(n.time_s - 6.75) < 1e-12);
  assert_int_equal(net_sim_next(s, &n), 0);
  net_stats sx;
  net_sim_stats(s, &sx);
  assert_int_equal(sx.completed, 4);
  net_sim_free(s);
}

/* A flow id stays valid until its completion note has been delivered: when two flows finish
 * together, a flow added while handling the first note must not take the second one's id. */
static void test_id_valid_until_delivered(void **st) {
  (void)st;
  double cap[3] = {1e9, 1e9, 1e9};
  float lat[3] = {0.0f, 0.0f, 0.0f};
  net_sim *s = mk(3, cap, lat);
  uint32_t l0[1] = {0}, l1[1] = {1}, l2[1] = {2};
  uint32_t a = add(s, l0, 1, 1e6, 0.0, NET_NONE, NET_FLOW_NOTIFY);
  uint32_t b = add(s, l1, 1, 1e6, 0.0, NET_NONE, NET_FLOW_NOTIFY);
  net_note n;
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.id, a);
  uint32_t c = add(s, l2, 1, 1e6, net_sim_now(s), NET_NONE, NET_FLOW_NOTIFY);
  assert_true(c != b);
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.kind, NET_NOTE_FLOW);
  assert_int_equal(n.id, b);
  assert_true(n.time_s == 1e-3);
  uint32_t d = add(s, l0, 1, 1e6, net_sim_now(s), NET_NONE, NET_FLOW_NOTIFY);
  assert_true(d != c); /* a's and b's slots may be reused now; c's may not */
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.id, c);
  assert_int_equal(net_sim_next(s, &n), 1);
  assert_int_equal(n.id, d);
  assert_int_equal(net_sim_next(s, &n), 0);
  net_sim_free(s);
}

static void test_bad_input(void **st) {
  (void)st;
  double cap[2] = {10, -1};
  float lat[2] = {0, 0};
  wk_err e;
  assert_null(net_sim_new(2, cap, lat, &e));
  assert_int_equal(e.code, WK_EVALUE);
  cap[1] = 10;
  net_sim *s = mk(2, cap, lat);
  uint32_t bad[1] = {7}, dup[2] = {1, 1}, ok[1] = {0}, id;
  net_flow_spec sp = {bad, 1, 1, 0, NET_NONE, 0};
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EVALUE);
  sp.route = dup, sp.nhops = 2;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EVALUE);
  sp.route = ok, sp.nhops = 1, sp.bytes = NAN;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EVALUE);
  sp.bytes = 1, sp.nhops = NET_MAX_HOPS + 1;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_ERANGE);
  sp.nhops = 1, sp.group = NET_MAX_GROUPS;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_ERANGE);
  sp.group = NET_NONE, sp.start_s = 5;
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EOK);
  net_sim_run(s);
  sp.start_s = 1; /* before now (6) */
  assert_int_equal(net_flow_add(s, &sp, &id), WK_EVALUE);
  net_sim_free(s);
}

/* ---- random workloads -------------------------------------------------------------------- */
enum { RL = 200, RF = 2000 };
typedef struct rand_net {
  double cap[RL];
  float lat[RL];
} rand_net;

static void rand_links(rand_net *n, uint64_t seed) {
  wk_rng r;
  wk_rng_init(&r, seed, 1);
  for (int l = 0; l < RL; l++) {
    /* a few capacity classes, so equal shares (ties) are common, and one dead link */
    static const double cls[4] = {12.5e9, 25e9, 50e9, 100e9};
    n->cap[l] = l == 17 ? 0.0 : cls[wk_rng_below(&r, 4)];
    n->lat[l] = (float)(1e-7 * (double)wk_rng_below(&r, 20));
  }
}

static uint32_t rand_route(wk_rng *r, uint32_t *route) {
  uint32_t nh = 1 + (uint32_t)wk_rng_below(r, 6);
  for (uint32_t k = 0; k < nh; k++) {
  again:
    route[k] = (uint32_t)wk_rng_below(r, RL);
    for (uint32_t j = 0; j < k; j++)
      if (route[j] == route[k]) goto again;
  }
  return nh;
}

/* Runs a random L2 workload: 3/4 of the flows arrive at random (partly equal) times, the rest
 * are chained: each completion note of a notified flow adds one new flow "now". Writes every
 * note (time and id) to out; returns how many. */
static uint32_t run_random(net_mode mode, uint64_t seed, const rand_net *rn, net_note *out,
                           net_stats *stx) {
  net_sim *s = mk(RL, rn->cap, rn->lat);
  net_sim_set_mode(s, mode);
  wk_rng r;
  wk_rng_init(&r, seed, 2);
  uint32_t route[8];
  uint32_t added = 0;
  for (; added < RF * 3 / 4; added++) {
    uint32_t nh = rand_route(&r, route);
    double t = (double)wk_rng_below(&r, 400) * 1e-5; /* 400 distinct start times */
    double bytes = 1e3 * (double)(1 + wk_rng_below(&r, 100000));
    add(s, route, nh, bytes, t, (uint32_t)wk_rng_below(&r, 50), NET_FLOW_NOTIFY);
  }
  uint32_t nn = 0;
  net_note n;
  while (net_sim_next(s, &n)) {
    out[nn++] = n;
    if (n.kind == NET_NOTE_FLOW && added < RF) {
      uint32_t nh = rand_route(&r, route);
      add(s, route, nh, 1e3 * (double)(1 + wk_rng_below(&r, 100000)), net_sim_now(s), NET_NONE,
          NET_FLOW_NOTIFY);
      added++;
    }
  }
  assert_int_equal(added, RF);
  assert_true(net_sim_stalled(s) > 0); /* link 17 is dead: some flows never complete */
  net_sim_stats(s, stx);
  net_sim_free(s);
  return nn;
}

static void test_incremental_equals_full(void **st) {
  (void)st;
  static net_note a[2 * RF], b[2 * RF];
  static rand_net rn;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    rand_links(&rn, seed);
    net_stats sa, sb;
    uint32_t na = run_random(NET_MODE_INCREMENTAL, seed, &rn, a, &sa);
    uint32_t nb = run_random(NET_MODE_FULL, seed, &rn, b, &sb);
    assert_int_equal(na, nb);
    assert_true(na > RF / 2);
    double worst = 0.0;
    for (uint32_t i = 0; i < na; i++) {
      assert_int_equal(a[i].kind, b[i].kind);
      assert_int_equal(a[i].id, b[i].id);
      double d = fabs(a[i].time_s - b[i].time_s) / b[i].time_s;
      if (d > worst) worst = d;
    }
    print_message("seed %llu: worst relative time difference %.3g\n", (unsigned long long)seed, worst);
    assert_true(worst <= 1e-9);
    /* and the incremental mode did re-solve less */
    assert_true(sa.flows_resolved < sb.flows_resolved);
  }
}

/* After every note of a busy random workload (few links, many ties, a dead link), the rates the
 * propagation kept equal a fresh max-min solve of the flows active at that moment. */
static void test_every_state_is_maxmin(void **st) {
  (void)st;
  enum { NL = 40, NF = 600, MAXID = 1024 };
  static double cap[NL], fresh[MAXID];
  static float lat[NL];
  static uint32_t routes[MAXID][4], nhops[MAXID], off[MAXID + 1], lk[MAXID * 4], ids[MAXID];
  for (uint64_t seed = 1; seed <= 3; seed++) {
    wk_rng r;
    wk_rng_init(&r, seed, 9);
    for (int l = 0; l < NL; l++) {
      cap[l] = l == 7 ? 0.0 : 25e9 * (double)(1 + wk_rng_below(&r, 2)); /* two classes: ties */
      lat[l] = 1e-7f;
    }
    net_sim *s = mk(NL, cap, lat), *ref = mk(NL, cap, lat);
    uint32_t added = 0, checked = 0;
    double worst = 0.0;
    net_note n;
    while (added < NF || net_sim_next(s, &n)) {
      for (int k = 0; k < 24 && added < NF; k++, added++) { /* arrivals in waves */
        uint32_t rt[4], nh = 1 + (uint32_t)wk_rng_below(&r, 4);
        for (uint32_t h = 0; h < nh; h++) {
        again:
          rt[h] = (uint32_t)wk_rng_below(&r, NL);
          for (uint32_t j = 0; j < h; j++)
            if (rt[j] == rt[h]) goto again;
        }
        double t = net_sim_now(s) + 1e-6 * (double)wk_rng_below(&r, 3);
        uint32_t id = add(s, rt, nh, 1e4 * (double)(1 + wk_rng_below(&r, 64)), t, NET_NONE,
                          NET_FLOW_NOTIFY);
        assert_true(id < MAXID);
        memcpy(routes[id], rt, sizeof rt);
        nhops[id] = nh;
      }
      if (added == NF && !net_sim_next(s, &n)) break;
      uint32_t na = 0;
      off[0] = 0;
      for (uint32_t id = 0; id < MAXID; id++) {
        if (isnan(net_flow_rate(s, id))) continue;
        memcpy(lk + off[na], routes[id], nhops[id] * sizeof *lk);
        off[na + 1] = off[na] + nhops[id];
        ids[na++] = id;
      }
      assert_int_equal(net_maxmin(ref, na, off, lk, fresh), WK_EOK);
      for (uint32_t i = 0; i < na; i++) {
        double a = net_flow_rate(s, ids[i]), b = fresh[i], d = fabs(a - b);
        assert_true(d <= 1e-8 * b + 1.0);
        if (b > 0 && d / b > worst) worst = d / b;
      }
      checked += na;
    }
    print_message("seed %llu: %u rates checked, worst relative error %.3g\n",
                  (unsigned long long)seed, checked, worst);
    assert_true(checked > 10 * NF);
    net_sim_free(s);
    net_sim_free(ref);
  }
}

/* Naive progressive filling straight from the definition: every round scans all links for
 * the lowest remaining/unfrozen share. O(links x rounds). */
static void naive_maxmin(uint32_t nf, const uint32_t *off, const uint32_t *lk, const double *cap,
                         double *rate) {
  double rem[RL];
  uint32_t cnt[RL];
  char frozen[RF];
  memcpy(rem, cap, sizeof rem);
  memset(cnt, 0, sizeof cnt);
  memset(frozen, 0, sizeof frozen);
  for (uint32_t f = 0; f < nf; f++)
    for (uint32_t k = off[f]; k < off[f + 1]; k++) cnt[lk[k]]++;
  for (;;) {
    int best = -1;
    double bs = INFINITY;
    for (int l = 0; l < RL; l++)
      if (cnt[l] && (rem[l] > 0 ? rem[l] : 0) / cnt[l] < bs)
        bs = (rem[l] > 0 ? rem[l] : 0) / cnt[l], best = l;
    if (best < 0) break;
    for (uint32_t f = 0; f < nf; f++) {
      if (frozen[f]) continue;
      int on = 0;
      for (uint32_t k = off[f]; k < off[f + 1]; k++) on |= lk[k] == (uint32_t)best;
      if (!on) continue;
      frozen[f] = 1;
      rate[f] = bs;
      for (uint32_t k = off[f]; k < off[f + 1]; k++) rem[lk[k]] -= bs, cnt[lk[k]]--;
    }
  }
}

/* net_maxmin against a naive progressive filling (to 1e-9), and bit for bit against the first
 * rates of net_solve_once, which starts the same flows through the event mode's batch (link
 * heaps, rate writes, drain events): the filling alone must give the very same numbers. Every
 * 97th flow has an empty route (local: infinite rate). */
static void test_maxmin_matches_naive(void **st) {
  (void)st;
  static rand_net rn;
  static uint32_t off[RF + 1], lk[RF * 6];
  static double fast[RF], slow[RF], viaev[RF], bytes[RF], fin[RF];
  for (uint64_t seed = 1; seed <= 4; seed++) {
    rand_links(&rn, seed);
    wk_rng r;
    wk_rng_init(&r, seed, 3);
    uint32_t nf = 300 * (uint32_t)seed;
    off[0] = 0;
    for (uint32_t f = 0; f < nf; f++)
      off[f + 1] = off[f] + (f % 97 == 0 ? 0 : rand_route(&r, lk + off[f]));
    net_sim *s = mk(RL, rn.cap, rn.lat);
    assert_int_equal(net_maxmin(s, nf, off, lk, fast), WK_EOK);
    naive_maxmin(nf, off, lk, rn.cap, slow);
    for (uint32_t f = 0; f < nf; f++) bytes[f] = 1e6;
    double mk_s;
    assert_int_equal(net_solve_once(s, nf, off, lk, bytes, viaev, fin, &mk_s), WK_EOK);
    for (uint32_t f = 0; f < nf; f++) {
      if (off[f + 1] == off[f]) assert_true(isinf(fast[f]));
      else assert_true(fabs(fast[f] - slow[f]) <= 1e-9 * (slow[f] > 1 ? slow[f] : 1));
      assert_memory_equal(&fast[f], &viaev[f], sizeof fast[f]);
    }
    net_sim_free(s);
  }
}

static void test_deterministic(void **st) {
  (void)st;
  static net_note a[2 * RF], b[2 * RF];
  static rand_net rn;
  rand_links(&rn, 99);
  net_stats sa, sb;
  uint32_t na = run_random(NET_MODE_INCREMENTAL, 99, &rn, a, &sa);
  uint32_t nb = run_random(NET_MODE_INCREMENTAL, 99, &rn, b, &sb);
  assert_int_equal(na, nb);
  for (uint32_t i = 0; i < na; i++) {
    assert_int_equal(a[i].id, b[i].id);
    assert_memory_equal(&a[i].time_s, &b[i].time_s, sizeof(double));
  }
}

/* Start queue upkeep: flows added out of time order (sorted at the next step, or sent to the
 * event heap when few), and a queue that fills its table while its front is consumed (compacted
 * or spilled to the heap). Each flow has a link to itself, so it must complete exactly at
 * start + bytes / capacity; notes must come in time order. */
static void test_start_queue(void **st) {
  (void)st;
  enum { NL = 300, FIRST = 64, TOTAL = 2000 };
  static double cap[NL];
  static float lat[NL];
  static double start[1u << 12];
  for (int l = 0; l < NL; l++) cap[l] = 1e9, lat[l] = 0.0f;
  net_sim *s = mk(NL, cap, lat);
  wk_rng r;
  wk_rng_init(&r, 5, 3);
  uint32_t added = 0, done = 0;
  for (uint32_t i = 0; i < FIRST; i++, added++) { /* start times 1..64, added shuffled */
    uint32_t route[1] = {added % NL};
    double t = (double)(1 + (i * 37) % FIRST);
    add(s, route, 1, 1e3, t, added, NET_FLOW_NOTIFY); /* group: the add's index */
    start[added] = t;
  }
  net_note n;
  double last = 0.0;
  while (net_sim_next(s, &n)) {
    if (n.kind == NET_NOTE_GROUP) continue;
    assert_true(n.time_s == start[n.group] + 1e3 / 1e9);
    assert_true(n.time_s >= last);
    last = n.time_s;
    done++;
    if (added < TOTAL) { /* mostly in order, sometimes before the queue's tail */
      uint32_t route[1] = {added % NL};
      double t = net_sim_now(s) + 64.0 + 0.5 * (double)wk_rng_below(&r, 10);
      add(s, route, 1, 1e3, t, added, NET_FLOW_NOTIFY);
      start[added++] = t;
    }
  }
  assert_int_equal(done, TOTAL);
  net_sim_free(s);
}

/* The order of notes (kind, id, group) of a fixed random workload, as a hash: event ordering by
 * (time, insertion sequence) is part of the contract, so changes to the event queues must not
 * move it (ids changed once, on purpose: slots now recycle only after their note is delivered).
 * Times are left out of the hash (floating-point contraction differs by target). */
static void test_note_order_golden(void **st) {
  (void)st;
  static net_note a[2 * RF];
  static rand_net rn;
  uint64_t h = 1469598103934665603ull;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    rand_links(&rn, seed);
    net_stats sa;
    uint32_t na = run_random(NET_MODE_INCREMENTAL, seed, &rn, a, &sa);
    for (uint32_t i = 0; i < na; i++) {
      uint64_t v[3] = {a[i].kind, a[i].id, a[i].group};
      for (int k = 0; k < 3; k++) h = (h ^ v[k]) * 1099511628211ull;
    }
  }
  print_message("note order hash %016llx\n", (unsigned long long)h);
  assert_true(h == 0xa5714224be8ef9e7ull);
}

/* Event heap entries keep the low 32 bits of the sequence number. Across the wrap, events must
 * still come out in time order, and the run must give the same completion times, bit for bit,
 * as one that starts its count at 0 (only the order of events within one time may change). */
static void test_seq_wrap(void **st) {
  (void)st;
  enum { NL = 12, NF = 600 };
  static double cap[NL];
  static float lat[NL];
  static double fin[2][NF];
  for (int l = 0; l < NL; l++) cap[l] = 1e9 * (1 + l % 3), lat[l] = l % 2 ? 1e-6f : 0.0f;
  for (int run = 0; run < 2; run++) {
    net_sim *s = mk(NL, cap, lat);
    if (run) s->seq = UINT32_MAX - 40; /* wraps after the first few adds */
    for (uint32_t i = 0; i < NF; i++) { /* equal sizes and three start times: many ties */
      uint32_t route[2] = {i % 7, 7 + i % 5};
      assert_int_equal(add(s, route, 2, 1e6, (double)(i % 3) * 1e-4, NET_NONE, NET_FLOW_NOTIFY), i);
    }
    net_note n;
    double last = 0.0;
    uint32_t done = 0;
    while (net_sim_next(s, &n)) {
      assert_true(n.time_s >= last);
      last = n.time_s;
      fin[run][n.id] = n.time_s;
      done++;
    }
    assert_int_equal(done, NF);
    if (run) assert_true(s->seq > UINT32_MAX);
    net_sim_free(s);
  }
  for (uint32_t i = 0; i < NF; i++) assert_true(fin[0][i] == fin[1][i]);
}

/* The fill's link queue (heap.c). The sort orders by (key, link) whatever its depth limit (0:
 * all heapsort) and whatever the input order; taking, re-keying (keys only grow) and dropping
 * entries gives the least entry by a brute-force search at every step, as one heap would. */
static void test_link_queue(void **st) {
  (void)st;
  enum { N = 1500 };
  static net_lh a[N], b[N];
  static double cap[N], key[N];
  static float lat[N];
  static uint8_t seen[N];
  wk_rng r;
  wk_rng_init(&r, 5, 1);
  for (int pat = 0; pat < 4; pat++) { /* random with ties, ascending, descending, all equal */
    for (uint32_t i = 0; i < N; i++) {
      double k = pat == 0 ? (double)wk_rng_below(&r, 40) : pat == 1 ? i / 3 : pat == 2 ? N - i / 3 : 7;
      b[i] = (net_lh){0, pat == 0 ? (uint32_t)((i * 7919u) % N) : i, k};
    }
    const uint32_t depths[] = {0, 1, 3, 64};
    for (int d = 0; d < 4; d++) {
      memcpy(a, b, sizeof a);
      net_lh_sort(a, N, depths[d]);
      memset(seen, 0, sizeof seen);
      for (uint32_t i = 0; i < N; i++) {
        assert_true(i == 0 || net_lh_before(&a[i - 1], &a[i]));
        assert_true(a[i].link < N && !seen[a[i].link]);
        seen[a[i].link] = 1;
      }
    }
  }
  net_sim *s = mk(N, cap, lat);
  for (uint32_t l = 0; l < N; l++) {
    key[l] = (double)wk_rng_below(&r, 100);
    s->lheap[l] = (net_lh){0, l, key[l]};
  }
  s->nlheap = N;
  net_lh_build(s);
  uint32_t left = N, steps = 0;
  for (const net_lh *e; (e = net_lh_top(s)); steps++) {
    uint32_t m = NET_NIL;
    for (uint32_t l = 0; l < N; l++)
      if (key[l] >= 0 && (m == NET_NIL || key[l] < key[m])) m = l; /* ties: lowest link */
    assert_int_equal(e->link, m);
    assert_true(e->key == key[m]);
    if (wk_rng_below(&r, 3) == 0) { /* re-key: shares only grow */
      key[m] += 1.0 + (double)wk_rng_below(&r, 30);
      net_lh_settop(s, key[m]);
    } else {
      key[m] = -1.0;
      net_lh_pop(s);
      left--;
    }
  }
  assert_int_equal(left, 0);
  assert_true(steps > N);
  net_sim_free(s);
}

/* Ticks (net_sim_set_tick) come once at least `every` more flows have completed, and change
 * nothing else: the other notes, and their times, are those of a run without them. */
static void test_ticks(void **st) {
  (void)st;
  enum { NL = 8, NF = 250 };
  static double cap[NL];
  static float lat[NL];
  static net_note got[2][NF + 64];
  uint32_t n[2] = {0, 0}, ticks = 0;
  for (int l = 0; l < NL; l++) cap[l] = 1e9, lat[l] = 1e-6f;
  for (int run = 0; run < 2; run++) {
    net_sim *s = mk(NL, cap, lat);
    if (run) net_sim_set_tick(s, 10);
    for (uint32_t i = 0; i < NF; i++) {
      uint32_t route[2] = {i % 5, 5 + i % 3};
      add(s, route, 2, 1e5 * (1 + i % 7), (double)(i % 4) * 1e-5, i % 9, NET_FLOW_NOTIFY);
    }
    net_note x;
    uint64_t last_tick = 0;
    while (net_sim_next(s, &x)) {
      if (x.kind == NET_NOTE_TICK) {
        assert_int_equal(run, 1);
        uint64_t c = net_sim_completed(s);
        assert_true(c >= last_tick + 10);
        last_tick = c;
        ticks++;
        continue;
      }
      got[run][n[run]++] = x;
    }
    assert_int_equal(net_sim_completed(s), NF);
    net_sim_free(s);
  }
  print_message("%u ticks for %u completions\n", ticks, (unsigned)NF);
  assert_true(ticks >= 5 && ticks <= NF / 10); /* batches complete several flows at once */
  assert_int_equal(n[0], n[1]);
  assert_memory_equal(got[0], got[1], n[0] * sizeof got[0][0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_flow),
      cmocka_unit_test(test_two_flows_share),
      cmocka_unit_test(test_textbook),
      cmocka_unit_test(test_finish_frees_capacity),
      cmocka_unit_test(test_dead_link),
      cmocka_unit_test(test_groups),
      cmocka_unit_test(test_id_valid_until_delivered),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_incremental_equals_full),
      cmocka_unit_test(test_every_state_is_maxmin),
      cmocka_unit_test(test_maxmin_matches_naive),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_note_order_golden),
      cmocka_unit_test(test_start_queue),
      cmocka_unit_test(test_seq_wrap),
      cmocka_unit_test(test_link_queue),
      cmocka_unit_test(test_ticks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
