/* test_replay.c — cluster replay: no card is held by two jobs at any instant, a job starts at
 * or after its submit with all its cards at once, card-seconds add up, FIFO on an empty large
 * cluster reproduces the trace, the same seed gives the same bytes (another seed, other
 * failures), jobs wider than the cluster are dropped and counted, failures cost work and
 * restarts, placement across domains stretches a job, and every real trace in
 * WK_SHARED_DIR/data/traces replays on a cluster of its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/replay.h"
#include "replay/replay_int.h"
#include "work/work.h"

static hw_cluster *load(const char *spec) {
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    char buf[1024];
    fail_msg("%s: %s", spec, wk_err_format(&err, buf, sizeof buf));
  }
  return c;
}

/* Random jobs: sizes 1..max_cards (some a node or more), runtimes 10 s .. 3 h, arrivals
 * Poisson at mean_gap_s, walltime estimates 1..3x the runtime. */
static trace_job *random_jobs(size_t n, uint32_t max_cards, double mean_gap_s, uint64_t seed) {
  trace_job *j = calloc(n, sizeof *j);
  wk_rng r;
  wk_rng_init(&r, seed, 3);
  double t = 1.7e9;
  for (size_t i = 0; i < n; i++) {
    t += wk_rng_exp(&r, mean_gap_s);
    j[i].id = (int64_t)i + 1;
    j[i].submit_s = (int64_t)t;
    double u = wk_rng_uniform(&r);
    uint32_t k = u < 0.6 ? 1 + (uint32_t)wk_rng_below(&r, 8) : 8 * (1 + (uint32_t)wk_rng_below(&r, max_cards / 8));
    j[i].cards = k > max_cards ? max_cards : k;
    j[i].units = (int32_t)j[i].cards;
    j[i].runtime_s = 10 + (int64_t)wk_rng_exp(&r, 1800);
    j[i].walltime_s = (int64_t)((double)j[i].runtime_s * (1 + 2 * wk_rng_uniform(&r)));
    j[i].state = TRACE_COMPLETED;
  }
  return j;
}

/* The jobs as an SWF trace (user 1..4, group 1..2), so tenants can match names. */
static trace *to_trace(const trace_job *j, size_t n) {
  size_t cap = 128 * n + 256, len = 0;
  char *txt = malloc(cap);
  len += (size_t)snprintf(txt + len, cap - len, "; UnixStartTime: %lld\n", (long long)j[0].submit_s);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(txt + len, cap - len, "%zu %lld -1 %lld %lld -1 -1 %lld %lld -1 1 %zu %zu -1 1 -1 -1 -1\n",
                            i + 1, (long long)(j[i].submit_s - j[0].submit_s), (long long)j[i].runtime_s,
                            (long long)j[i].cards, (long long)j[i].cards, (long long)j[i].walltime_s,
                            1 + i % 4, 1 + i % 2);
  trace *t;
  wk_err err;
  if (trace_parse("random.swf", txt, len, NULL, &t, &err)) {
    char buf[1024];
    fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  }
  free(txt);
  assert_int_equal(trace_njobs(t), n);
  return t;
}

/* ---- the observer: a card-owner map checked at every start and stop ---- */
typedef struct watch {
  uint32_t cards;
  uint32_t *owner;  /* per card, UINT32_MAX free */
  uint32_t *want;   /* per sched id: cards */
  wk_time *submit;  /* per sched id (submit order) */
  wk_time *started; /* current run's start */
  double card_s;    /* sum of cards x run length */
  size_t starts, stops;
  int bad;
  char why[256];
} watch;

static void observe(void *ctx, uint32_t job, int start, wk_time t, const sched_range *r, uint32_t nr) {
  watch *w = ctx;
  uint32_t sum = 0;
  for (uint32_t i = 0; i < nr; i++)
    for (uint32_t c = r[i].first; c < r[i].first + r[i].n; c++, sum++) {
      if (c >= w->cards) {
        w->bad = 1;
        snprintf(w->why, sizeof w->why, "card %u out of range", c);
        return;
      }
      if (start && w->owner[c] != UINT32_MAX) {
        w->bad = 1;
        snprintf(w->why, sizeof w->why, "card %u given to job %u while job %u holds it", c, job, w->owner[c]);
      }
      if (!start && w->owner[c] != job) {
        w->bad = 1;
        snprintf(w->why, sizeof w->why, "job %u stops on card %u it does not hold", job, c);
      }
      w->owner[c] = start ? job : UINT32_MAX;
    }
  if (sum != w->want[job]) {
    w->bad = 1;
    snprintf(w->why, sizeof w->why, "job %u got %u cards, wants %u", job, sum, w->want[job]);
  }
  if (start) {
    w->starts++;
    w->started[job] = t;
    if (t < w->submit[job]) {
      w->bad = 1;
      snprintf(w->why, sizeof w->why, "job %u starts before its submit", job);
    }
  } else {
    w->stops++;
    w->card_s += (double)sum * wk_time_to_s(t - w->started[job]);
  }
}

/* Sched ids are the non-dropped jobs in submit order (stable). */
static void watch_init(watch *w, uint32_t cards, const trace_job *j, size_t n) {
  memset(w, 0, sizeof *w);
  w->cards = cards;
  w->owner = malloc(sizeof(uint32_t) * cards);
  for (uint32_t c = 0; c < cards; c++) w->owner[c] = UINT32_MAX;
  w->want = calloc(n + 1, sizeof(uint32_t));
  w->submit = calloc(n + 1, sizeof(wk_time));
  w->started = calloc(n + 1, sizeof(wk_time));
  uint32_t id = 0;
  for (size_t i = 0; i < n; i++) { /* random_jobs are sorted already */
    if (j[i].cards > (int64_t)cards) continue;
    w->want[id] = (uint32_t)j[i].cards;
    w->submit[id] = wk_time_from_s((double)(j[i].submit_s - j[0].submit_s));
    id++;
  }
}
static void watch_free(watch *w) {
  free(w->owner);
  free(w->want);
  free(w->submit);
  free(w->started);
}

static replay *run(const hw_cluster *c, const trace_job *j, size_t n, replay_opts *o) {
  replay *r;
  wk_err err;
  if (replay_run_jobs(c, j, n, NULL, o, &r, &err)) {
    char buf[1024];
    fail_msg("replay: %s", wk_err_format(&err, buf, sizeof buf));
  }
  return r;
}

static void test_invariants_all_policies(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16"); /* 128 cards */
  size_t n = 1500;
  trace_job *j0 = random_jobs(n, 96, 400, 5); /* offered ~0.8 of the cards */
  trace *tr = to_trace(j0, n);
  free(j0);
  const trace_job *j = trace_jobs(tr);
  static const char yaml[] = "tenants:\n"
                             "  - {name: low, quota: 50%, priority: 0, users: [\"1\", \"2\"]}\n"
                             "  - {name: high, quota: 30%, priority: 5, users: [\"3\"]}\n"
                             "  - {name: rest, quota: 20%, default: true}\n";
  sched_tenants *t;
  wk_err err;
  assert_int_equal(sched_tenants_parse("t.yaml", yaml, sizeof yaml - 1, &t, &err), WK_OK);
  for (int pol = 0; pol < SCHED_POLICY_COUNT; pol++)
    for (int pl = 0; pl < SCHED_PLACE_COUNT; pl++)
      for (int fail = 0; fail < 2; fail++) {
        replay_opts o;
        replay_opts_init(&o);
        o.sched.policy = (sched_policy)pol;
        o.sched.placement = (sched_placement)pl;
        o.failure_rate = fail ? 0.05 : 0; /* ~100x Llama 3, to exercise restarts */
        o.seed = 42;
        o.sched.tenants = t;
        watch w;
        watch_init(&w, 128, j, n);
        o.observe = observe;
        o.observe_ctx = &w;
        replay *r;
        if (replay_run(c, tr, &o, &r, &err)) fail_msg("replay failed");
        const replay_metrics *m = replay_get_metrics(r);
        assert_int_equal(replay_ntenants(r), 3);
        if (w.bad) fail_msg("%s/%s/fail=%d: %s", sched_policy_name(o.sched.policy),
                            sched_placement_name(o.sched.placement), fail, w.why);
        assert_int_equal(m->jobs, n);
        assert_int_equal(m->finished, n);
        assert_int_equal(w.starts, w.stops);
        assert_int_equal(w.starts, n + m->restarts);
        for (uint32_t x = 0; x < 128; x++) assert_int_equal(w.owner[x], UINT32_MAX);
        /* busy card-seconds are exactly what the runs held */
        assert_true(fabs(m->busy_card_s - w.card_s) <= 1e-6 * w.card_s);
        assert_true(m->utilization > 0 && m->utilization <= 1 + 1e-9);
        assert_true(m->goodput > 0 && m->goodput <= 1 + 1e-9);
        assert_true(m->ettr > 0 && m->ettr <= 1 + 1e-9);
        assert_true(m->p50_jct_s <= m->p99_jct_s);
        assert_true(m->bounded_slowdown >= 1);
        if (fail) assert_true(m->failures > 0);
        if (pol == SCHED_PRIORITY || pol == SCHED_LAS) assert_true(m->preemptions > 0);
        print_message("%-9s %-9s fail=%d util %.3f avg_jct %8.0f s queue %8.0f s bsd %6.2f goodput %.3f ettr %.3f restarts %llu preempt %llu\n",
                      sched_policy_name(o.sched.policy), sched_placement_name(o.sched.placement), fail,
                      m->utilization, m->avg_jct_s, m->avg_queue_s, m->bounded_slowdown, m->goodput,
                      m->ettr, (unsigned long long)m->restarts, (unsigned long long)m->preemptions);
        replay_free(r);
        watch_free(&w);
      }
  sched_tenants_free(t);
  trace_free(tr);
  hw_free(c);
}

/* replay_run_ids names the job behind each observer id: jobs given out of submit order, with
 * ties and a job too wide to run, are mapped back by the cards each run holds. */
typedef struct id_watch {
  uint32_t cards_of[64];
  int seen[64];
} id_watch;
static void observe_ids(void *ctx, uint32_t job, int start, wk_time t, const sched_range *r,
                        uint32_t nr) {
  (void)t;
  id_watch *w = ctx;
  uint32_t sum = 0;
  for (uint32_t i = 0; i < nr; i++) sum += r[i].n;
  if (start && job < 64) w->cards_of[job] = sum, w->seen[job] = 1;
}

static void test_run_ids(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16"); /* 128 cards */
  trace_job j[40];
  memset(j, 0, sizeof j);
  for (int i = 0; i < 40; i++) {
    j[i].id = i;
    j[i].submit_s = (40 - i) / 2 * 100; /* backwards, in pairs with equal submit times */
    j[i].cards = 1 + (i * 7) % 90;
    j[i].runtime_s = 50 + i;
  }
  j[5].cards = 4096; /* dropped: wider than the cluster */
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  o.fabric = 0;
  id_watch w;
  memset(&w, 0, sizeof w);
  o.observe = observe_ids;
  o.observe_ctx = &w;
  replay *r = run(c, j, 40, &o);
  uint32_t ids[40];
  assert_int_equal(replay_run_ids(r, ids), 39);
  size_t n;
  const replay_job *rj = replay_jobs(r, &n);
  for (int k = 0; k < 39; k++) {
    assert_true(w.seen[k]);
    assert_int_equal(rj[ids[k]].cards, w.cards_of[k]);
    assert_true(ids[k] != 5);
    if (k) assert_true(rj[ids[k - 1]].submit_s <= rj[ids[k]].submit_s);
  }
  replay_free(r);
  hw_free(c);
}

/* Energy from the cluster's power: busy card-seconds at the busy draw, the rest of the cards'
 * time at the idle draw, switches between their idle and busy draw, times the PUE; unknown
 * without power.card_busy_w. */
static void test_energy(void **st) {
  (void)st;
  size_t n = 300;
  trace_job *j = random_jobs(n, 64, 200, 4);
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  o.fabric = 0;
  hw_cluster *plain = load("dgx-a100:nodes=16");
  replay *r = run(plain, j, n, &o);
  replay_energy e;
  replay_energy_of(r, plain, &e);
  assert_false(e.known);
  assert_true(e.facility_j == 0);
  replay_free(r);
  hw_free(plain);
  hw_cluster *c = load("dgx-a100:nodes=16,power.card_busy_w=1000,power.card_idle_w=200,"
                       "power.pue=1.5");
  r = run(c, j, n, &o);
  const replay_metrics *m = replay_get_metrics(r);
  replay_energy_of(r, c, &e);
  assert_true(e.known);
  double want = 1000 * m->busy_card_s + 200 * (128 * m->makespan_s - m->busy_card_s);
  assert_true(fabs(e.cards_j - want) <= 1e-9 * want);
  assert_true(e.switches_j == 0);
  assert_true(fabs(e.facility_j - 1.5 * want) <= 1e-9 * want);
  assert_true(fabs(e.kwh_per_useful_card_hour - e.facility_j / 3.6e6 / (m->useful_card_s / 3600)) <
              1e-12);
  replay_free(r);
  hw_free(c);
  c = load("dgx-a100:nodes=16,power.card_busy_w=1000,power.switch_idle_w=100,"
           "power.switch_busy_w=300");
  r = run(c, j, n, &o);
  m = replay_get_metrics(r);
  replay_energy_of(r, c, &e);
  hw_summary hs;
  hw_summarize(c, &hs);
  assert_true(hs.switches > 0);
  assert_true(e.pue == 1.0);
  assert_true(e.switches_j >= 100.0 * (double)hs.switches * m->makespan_s * (1 - 1e-9));
  assert_true(e.switches_j <= 300.0 * (double)hs.switches * m->makespan_s * (1 + 1e-9));
  assert_true(e.switches_j > 100.0 * (double)hs.switches * m->makespan_s); /* some load */
  replay_free(r);
  hw_free(c);
  free(j);
}

static void test_card_seconds_add_up(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16");
  size_t n = 800;
  trace_job *j = random_jobs(n, 64, 200, 9);
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  o.fabric = 0;
  o.comm_fraction = 0; /* no stretch: every job holds its cards for its runtime */
  replay *r = run(c, j, n, &o);
  const replay_metrics *m = replay_get_metrics(r);
  double want = 0;
  for (size_t i = 0; i < n; i++) want += (double)j[i].cards * (double)j[i].runtime_s;
  assert_true(fabs(m->busy_card_s - want) < 1e-6 * want);
  assert_true(fabs(m->goodput - 1) < 1e-9);
  assert_true(fabs(m->ettr - 1) < 1e-9);
  replay_free(r);
  free(j);
  hw_free(c);
}

static void test_fifo_reproduces_trace(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  size_t n = 2000;
  trace_job *j = random_jobs(n, 64, 30, 13); /* offered ~ 64 cards: the cluster never fills */
  replay_opts o;
  replay_opts_init(&o);
  o.sched.policy = SCHED_FIFO;
  o.failure_rate = 0;
  replay *r = run(c, j, n, &o);
  size_t nj;
  const replay_job *rj = replay_jobs(r, &nj);
  assert_int_equal(nj, n);
  for (size_t i = 0; i < n; i++) {
    assert_true(fabs(rj[i].start_s - rj[i].submit_s) < 1e-6);
    assert_true(fabs(rj[i].end_s - rj[i].start_s - (double)j[i].runtime_s) < 1e-6);
    assert_int_equal(rj[i].domains, 1); /* topo: every job in its ideal domain, no stretch */
  }
  const replay_metrics *m = replay_get_metrics(r);
  assert_true(m->avg_queue_s < 1e-6 && m->p99_queue_s < 1e-6);
  replay_free(r);
  free(j);
  hw_free(c);
}

static void test_seeds(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16");
  size_t n = 600;
  trace_job *j = random_jobs(n, 64, 150, 21);
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0.02;
  o.seed = 7;
  replay *a = run(c, j, n, &o), *b = run(c, j, n, &o);
  o.seed = 8;
  replay *d = run(c, j, n, &o);
  size_t na, nb, nd;
  const replay_job *ja = replay_jobs(a, &na), *jb = replay_jobs(b, &nb), *jd = replay_jobs(d, &nd);
  assert_int_equal(na, nb);
  assert_memory_equal(ja, jb, na * sizeof *ja);
  const replay_metrics *ma = replay_get_metrics(a), *mb = replay_get_metrics(b), *md = replay_get_metrics(d);
  assert_true(ma->failures == mb->failures && ma->restarts == mb->restarts && ma->busy_card_s == mb->busy_card_s);
  assert_true(ma->failures > 0);
  assert_true(memcmp(ja, jd, na * sizeof *ja) != 0 || ma->failures != md->failures);
  size_t sa, sb;
  const replay_sample *xa = replay_samples(a, &sa), *xb = replay_samples(b, &sb);
  assert_int_equal(sa, sb);
  assert_memory_equal(xa, xb, sa * sizeof *xa);
  replay_free(a);
  replay_free(b);
  replay_free(d);
  free(j);
  hw_free(c);
}

static void test_too_large_dropped(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4"); /* 32 cards */
  size_t n = 50;
  trace_job *j = random_jobs(n, 32, 60, 2);
  j[10].cards = 33;
  j[20].cards = 1000000;
  for (int pol = 0; pol < SCHED_POLICY_COUNT; pol++) {
    replay_opts o;
    replay_opts_init(&o);
    o.sched.policy = (sched_policy)pol;
    replay *r = run(c, j, n, &o);
    const replay_metrics *m = replay_get_metrics(r);
    assert_int_equal(m->dropped_too_large, 2);
    assert_int_equal(m->jobs, n - 2);
    assert_int_equal(m->finished, n - 2);
    size_t nj;
    const replay_job *rj = replay_jobs(r, &nj);
    assert_int_equal(rj[10].fate, REPLAY_DROPPED);
    assert_true(rj[10].start_s < 0);
    replay_free(r);
  }
  free(j);
  hw_free(c);
}

/* One long job under frequent failures: it restarts, loses work, still finishes; shorter
 * checkpoint intervals lose less. */
static void test_checkpoint_restart(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16");
  trace_job j = {.id = 1, .submit_s = 0, .runtime_s = 5 * 86400, .walltime_s = -1, .cards = 128, .units = 128};
  double lost[2];
  for (int k = 0; k < 2; k++) {
    replay_opts o;
    replay_opts_init(&o);
    o.failure_rate = 0.01; /* 1.28 failures a day on 128 cards */
    o.checkpoint_interval_s = k ? 600 : 4 * 3600;
    o.restart_cost_s = 120;
    replay *r = run(c, &j, 1, &o);
    const replay_metrics *m = replay_get_metrics(r);
    assert_int_equal(m->finished, 1);
    assert_true(m->restarts >= 2);
    assert_true(m->makespan_s > 5 * 86400.0 + 120.0 * (double)m->restarts);
    assert_true(m->goodput < 1 && m->ettr < 1);
    lost[k] = m->makespan_s;
    replay_free(r);
  }
  assert_true(lost[1] < lost[0]);
  replay_opts o;
  replay_opts_init(&o);
  double yd = replay_young_daly_s(&o, 1000);
  assert_true(fabs(yd - sqrt(2 * 60 * 86400 / (4.7e-4 * 1000))) < 1e-6);
  hw_free(c);
}

/* A job whose cards fail far more often than restart cost + checkpoint interval can never
 * progress: it is given up after abandon_after stalled restarts (fate abandoned, counted as
 * hopeless) and the replay ends; the other job still finishes. With abandoning off, the event
 * guard stops the replay with an error instead of running forever. */
static void test_abandon_hopeless(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=16"); /* 128 cards */
  trace_job j[2] = {{.id = 1, .submit_s = 0, .runtime_s = 5 * 86400, .walltime_s = -1, .cards = 128, .units = 128},
                    {.id = 2, .submit_s = 0, .runtime_s = 60, .walltime_s = -1, .cards = 1, .units = 1}};
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 20; /* 128 cards: a failure every ~34 s, a restart costs 120 s */
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) o.fail_share[k] = k == REPLAY_FAIL_SOFTWARE;
  o.checkpoint_interval_s = 600;
  o.restart_cost_s = 120;
  o.abandon_after = 10;
  replay *r = run(c, j, 2, &o);
  const replay_metrics *m = replay_get_metrics(r);
  size_t n;
  const replay_job *rj = replay_jobs(r, &n);
  assert_int_equal(m->abandoned, 1);
  assert_int_equal(m->abandoned_hopeless, 1);
  assert_int_equal(rj[0].fate, REPLAY_ABANDONED);
  assert_int_equal(rj[0].restarts, 9); /* the 10th interruption is not followed by a restart */
  assert_true(rj[0].end_s > 0);
  assert_string_equal(replay_fate_name(REPLAY_ABANDONED), "abandoned");
  assert_int_equal(m->finished + m->abandoned + m->killed, 2);
  replay_free(r);

  o.abandon_after = 0; /* never give up: the event guard must end the replay */
  o.max_events = 20000;
  wk_err err;
  wk_err_clear(&err);
  assert_int_equal(replay_run_jobs(c, j, 2, NULL, &o, &r, &err), WK_ECAPACITY);
  assert_null(r);
  assert_non_null(strstr(err.msg, "replay stopped after"));
  hw_free(c);
}

/* The stretch model (fabric off): a 640-card job placed across two supernodes by first-fit runs
 * slower than inside one, by its communication share times the bandwidth ratio. */
static void test_stretch(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  trace_job j[2] = {{.id = 1, .submit_s = 0, .runtime_s = 5000, .walltime_s = -1, .cards = 320, .units = 320},
                    {.id = 2, .submit_s = 1, .runtime_s = 1000, .walltime_s = -1, .cards = 640, .units = 640}};
  double end[2];
  for (int pl = 0; pl < 2; pl++) {
    replay_opts o;
    replay_opts_init(&o);
    o.fabric = 0;
    o.failure_rate = 0;
    o.sched.placement = (sched_placement)pl;
    replay *r = run(c, j, 2, &o);
    size_t n;
    const replay_job *rj = replay_jobs(r, &n);
    end[pl] = rj[1].end_s - rj[1].start_s;
    assert_int_equal(rj[1].domains, pl == SCHED_PLACE_FIRST_FIT ? 2 : 1);
    replay_free(r);
  }
  double su = hw_level_card_bw(c, HW_LEVEL_SUPERNODE), pod = hw_level_card_bw(c, HW_LEVEL_POD);
  assert_true(fabs(end[SCHED_PLACE_TOPO] - 1000) < 1e-6);
  assert_true(fabs(end[SCHED_PLACE_FIRST_FIT] - 1000 * (1 + 0.1 * (su / pod - 1))) < 1e-3);
  hw_free(c);
}

static void test_walltime_kill(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4");
  trace_job j[2] = {{.id = 1, .submit_s = 0, .runtime_s = 500, .walltime_s = 100, .cards = 8, .units = 8},
                    {.id = 2, .submit_s = 0, .runtime_s = 50, .walltime_s = 100, .cards = 8, .units = 8}};
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  o.walltime_kill = 1;
  replay *r = run(c, j, 2, &o);
  const replay_metrics *m = replay_get_metrics(r);
  assert_int_equal(m->killed, 1);
  assert_int_equal(m->finished, 1);
  size_t n;
  const replay_job *rj = replay_jobs(r, &n);
  assert_int_equal(rj[0].fate, REPLAY_KILLED);
  assert_true(rj[0].end_s == 100);
  /* a walltime kill ends the job: it is not a restart */
  assert_int_equal(rj[0].restarts, 0);
  assert_int_equal(m->restarts, 0);
  replay_free(r);
  hw_free(c);
}

/* Time zero is the first submit of a job that is replayed: a too-wide job submitted earlier
 * is dropped and shifts nothing. */
static void test_time_zero_ignores_dropped(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=4"); /* 32 cards */
  trace_job j[2] = {{.id = 1, .submit_s = 1000, .runtime_s = 50, .walltime_s = -1, .cards = 64, .units = 64},
                    {.id = 2, .submit_s = 1100, .runtime_s = 50, .walltime_s = -1, .cards = 8, .units = 8}};
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  replay *r = run(c, j, 2, &o);
  const replay_metrics *m = replay_get_metrics(r);
  size_t n;
  const replay_job *rj = replay_jobs(r, &n);
  assert_int_equal(m->dropped_too_large, 1);
  assert_int_equal(rj[0].fate, REPLAY_DROPPED);
  assert_true(rj[0].submit_s == -100);
  assert_true(rj[1].submit_s == 0 && rj[1].start_s == 0 && rj[1].end_s == 50);
  assert_true(m->makespan_s == 50);
  replay_free(r);
  hw_free(c);
}

/* abandon_after counts failures in a row without progress, not preemptions: a long job that
 * never reaches a checkpoint and is preempted over and over by short ones (las) is not given
 * up when a single failure then hits it. */
static void test_abandon_counts_failures_only(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=1"); /* 8 cards */
  enum { NB = 12 };
  trace_job j[NB + 1];
  memset(j, 0, sizeof j);
  j[0] = (trace_job){.id = 1, .submit_s = 0, .runtime_s = 4 * 3600, .walltime_s = -1, .cards = 8, .units = 8};
  for (int i = 1; i <= NB; i++)
    j[i] = (trace_job){.id = i + 1, .submit_s = 1200 * i, .runtime_s = 60, .walltime_s = -1, .cards = 8, .units = 8};
  replay_opts o;
  replay_opts_init(&o);
  o.sched.policy = SCHED_LAS;
  o.sched.min_run_s = 0;
  o.sched.las_first_card_s = 8 * 600; /* the long job drops a queue after 10 min */
  o.failure_rate = 1; /* with seed 5: one failure hits the long job, after its preemptions */
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) o.fail_share[k] = k == REPLAY_FAIL_SOFTWARE;
  o.checkpoint_interval_s = 1e7; /* never reached: no run saves progress */
  o.restart_cost_s = 0;
  o.abandon_after = 2;
  o.seed = 5;
  replay *r = run(c, j, NB + 1, &o);
  const replay_metrics *m = replay_get_metrics(r);
  size_t n;
  const replay_job *rj = replay_jobs(r, &n);
  print_message("long job: fate %s, %u preemptions, %u restarts, %llu failures hit jobs\n",
                replay_fate_name((replay_fate)rj[0].fate), rj[0].preemptions, rj[0].restarts,
                (unsigned long long)m->failures_hit_jobs);
  assert_true(rj[0].preemptions >= 2);
  assert_int_equal(rj[0].restarts - rj[0].preemptions, 1); /* exactly one failure hit it */
  assert_int_equal(rj[0].fate, REPLAY_FINISHED);
  assert_int_equal(m->abandoned, 0);
  replay_free(r);
  hw_free(c);
}

/* ---- real traces ---- */
static void real_trace(const char *file, const char *cluster, int64_t cards_per_unit, sched_policy pol) {
  char path[1024];
  snprintf(path, sizeof path, "%s/data/traces/%s", WK_SHARED_DIR, file);
  if (access(path, R_OK)) {
    print_message("skip %s: not found\n", path);
    return;
  }
  trace_opts to;
  trace_opts_init(&to);
  to.cards_per_unit = cards_per_unit;
  to.skip_bad = 1;
  trace *t;
  wk_err err;
  char buf[1024];
  if (trace_load(path, &to, &t, &err)) fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  hw_cluster *c = load(cluster);
  replay_opts o;
  replay_opts_init(&o);
  o.sched.policy = pol;
  /* these test the readers and the scheduler on real traces; the fabric costs LAS's thousands
   * of preemptions a re-solve each (bench/replay_fabric measures the fabric at scale) */
  o.fabric = pol != SCHED_LAS;
  replay *r;
  if (replay_run(c, t, &o, &r, &err)) fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  const replay_metrics *m = replay_get_metrics(r);
  print_message("%-26s on %-40s %-9s jobs %6zu dropped %zu util %.3f avg_jct %9.0f s p99_queue %9.0f s bsd %7.2f goodput %.3f ettr %.3f failures %llu wall %.2f s\n",
                file, cluster, sched_policy_name(pol), m->jobs, m->dropped_too_large, m->utilization, m->avg_jct_s,
                m->p99_queue_s, m->bounded_slowdown, m->goodput, m->ettr, (unsigned long long)m->failures, m->wall_s);
  assert_int_equal(m->jobs + m->dropped_too_large, trace_njobs(t));
  assert_true(m->jobs > 0);
  assert_int_equal(m->finished, m->jobs);
  assert_true(m->utilization > 0 && m->utilization <= 1 + 1e-9);
  replay_free(r);
  hw_free(c);
  trace_free(t);
}

static void test_real_traces(void **st) {
  (void)st;
  real_trace("theta_2022.swf", WK_SOURCE_DIR "/tests/data/theta-4392.yaml", 1, SCHED_BACKFILL);
  real_trace("mira_2018_wk1.cobalt.log", "zhengzhou-60k", 1, SCHED_BACKFILL);
  real_trace("mira_2018_wk2.cobalt.log", "zhengzhou-60k", 1, SCHED_FIFO);
  real_trace("philly_jobs.csv.gz", "dgx-a100:nodes=64", 1, SCHED_LAS); /* ~374 GPUs busy on average */
  real_trace("alibaba_gpu_2023_pods.csv", "dgx-a100:nodes=8", 1, SCHED_FAIRSHARE); /* ~17 GPUs busy */
}

/* ---- the fabric under the jobs ---------------------------------------------------------------- */
/* A generated-trace job of `cards` in queue `queue` (pretrain, finetune, sim, eval) as SWF, so
 * that the default workload rules give it its class's workload. */
static trace *class_trace(const char *queue, const int64_t *cards, const int64_t *submit, size_t n,
                          int64_t runtime) {
  char txt[4096];
  size_t len = (size_t)snprintf(txt, sizeof txt, "; Queue: 3 %s\n", queue);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(txt + len, sizeof txt - len,
                            "%zu %lld 0 %lld %lld -1 -1 %lld %lld -1 1 1 1 -1 3 -1 -1 -1\n", i + 1,
                            (long long)submit[i], (long long)runtime, (long long)cards[i],
                            (long long)cards[i], (long long)(2 * runtime));
  trace *t;
  wk_err err;
  char buf[1024];
  if (trace_parse("class.swf", txt, len, NULL, &t, &err)) fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  return t;
}

static replay *run_trace(const hw_cluster *c, const trace *t, replay_opts *o) {
  replay *r;
  wk_err err;
  char buf[1024];
  if (replay_run(c, t, o, &r, &err)) fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  return r;
}

/* A job alone on an empty non-blocking fabric finishes exactly at its trace runtime, and its
 * reference iteration is what `wanka train` gives the planner's layout at level 1. */
static void test_fabric_alone(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  const char *queues[] = {"pretrain", "finetune", "sim"};
  const int64_t sizes[] = {8192, 256, 1024};
  for (int q = 0; q < 3; q++) {
    int64_t submit = 0;
    trace *t = class_trace(queues[q], &sizes[q], &submit, 1, 3600);
    replay_opts o;
    replay_opts_init(&o);
    o.failure_rate = 0;
    replay *r = run_trace(c, t, &o);
    size_t n;
    const replay_job *j = replay_jobs(r, &n);
    assert_true(j[0].end_s - j[0].start_s == 3600);
    assert_true(j[0].iter_ideal_s > 0 && j[0].iter_actual_s == j[0].iter_ideal_s);
    assert_true(j[0].slowdown == 1);
    print_message("%s %lld cards: %s, iteration %.4g s\n", queues[q], (long long)sizes[q],
                  replay_workload_name(r, j[0].workload), j[0].iter_ideal_s);
    if (q == 0) { /* the planner's layout (the label) timed by the training model at level 1 */
      work_ctx *x = work_ctx_new(c);
      work_plan_opts po = {8192, 8192, 2048, WORK_BF16, WORK_ATTN_FLASH, 0, 1, NULL, NULL};
      work_plan_entry e;
      int ne;
      work_plan_stats ps;
      wk_err err;
      assert_int_equal(work_plan(x, work_model_find("llama3-70b"), &po, &e, &ne, &ps, &err), WK_OK);
      e.job.level = 1;
      work_result res;
      assert_int_equal(work_train_step(x, &e.job, &res, &err), WK_OK);
      assert_true(fabs(res.step_time_s - j[0].iter_ideal_s) <= 1e-12 * res.step_time_s);
      work_ctx_free(x);
    }
    replay_free(r);
    trace_free(t);
  }
  hw_free(c);
}

/* Jobs in different pods share no link: neither slows the other. On the 2:1 fabric the same
 * pretraining job, whose data-parallel rings leave its leaves, is slower alone than on the
 * non-blocking one (the reference is the non-blocking twin). */
static void test_fabric_disjoint_and_oversubscribed(void **st) {
  (void)st;
  const int64_t cards[] = {1024, 1024}, submit[] = {0, 0};
  trace *t = class_trace("pretrain", cards, submit, 2, 3600);
  double end[2];
  for (int v = 0; v < 2; v++) {
    hw_cluster *c = load(v ? "zhengzhou-60k:oversubscription=2" : "zhengzhou-60k");
    replay_opts o;
    replay_opts_init(&o);
    o.failure_rate = 0;
    replay *r = run_trace(c, t, &o);
    size_t n;
    const replay_job *j = replay_jobs(r, &n);
    for (int i = 0; i < 2; i++) assert_true(fabs(j[i].slowdown - 1) < 1e-12);
    end[v] = j[0].end_s - j[0].start_s;
    /* the first from card 0, as its reference; the second in the next pod, whose ECMP hashing
     * differs a little */
    if (!v) assert_true(end[v] == 3600 && fabs(j[1].end_s - j[1].start_s - 3600) < 36);
    print_message("%s: %.0f s, iteration %.4g s of %.4g\n", v ? "2:1" : "1:1", end[v],
                  j[0].iter_actual_s, j[0].iter_ideal_s);
    replay_free(r);
    hw_free(c);
  }
  assert_true(end[1] > end[0]);
  trace_free(t);
}

/* Open loop (replay_opts.fabric_open_loop, for comparing solvers on one schedule): the fabric is
 * solved as usual, yet each job keeps its pace alone on an ideal placement, so the 2:1 job that
 * test_fabric_disjoint_and_oversubscribed finds slower ends at its trace runtime. */
static void test_fabric_open_loop(void **st) {
  (void)st;
  const int64_t cards[] = {1024, 1024}, submit[] = {0, 0};
  trace *t = class_trace("pretrain", cards, submit, 2, 3600);
  hw_cluster *c = load("zhengzhou-60k:oversubscription=2");
  double end[2];
  for (int open = 0; open < 2; open++) {
    replay_opts o;
    replay_opts_init(&o);
    o.failure_rate = 0;
    o.fabric_open_loop = open;
    replay *r = run_trace(c, t, &o);
    size_t n;
    const replay_job *j = replay_jobs(r, &n);
    end[open] = j[0].end_s - j[0].start_s;
    assert_true(replay_get_metrics(r)->fabric_solves > 0);
    replay_free(r);
  }
  print_message("closed loop %.1f s, open loop %.1f s\n", end[0], end[1]);
  assert_true(end[0] > 3600 * 1.001);
  assert_true(end[1] == 3600);
  hw_free(c);
  trace_free(t);
}

/* The incremental solver (only the jobs whose links changed are read again, and of those only
 * the links near their bottleneck) stays near the fixed point a full solve reaches: a day of
 * generated work on the 2:1 fabric, checked every 25th re-solve: within the 1 % from its last
 * publish at which a job publishes (0.16 % at worst today). */
static void test_fabric_incremental_near_fixed_point(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k:oversubscription=2");
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.cards = 61440;
  g.days = 1;
  g.seed = 5;
  trace *t;
  wk_err err;
  assert_int_equal(trace_gen(&g, &t, &err), WK_OK);
  replay_opts o;
  replay_opts_init(&o);
  o.fabric_check = 25;
  replay *r = run_trace(c, t, &o);
  const replay_metrics *m = replay_get_metrics(r);
  print_message("%llu checks: mean %.4f %%, worst %.3f %% off the fixed point\n",
                (unsigned long long)m->fabric_checks, 100 * m->fabric_drift_mean, 100 * m->fabric_drift_max);
  assert_true(m->fabric_checks >= 10);
  assert_true(m->fabric_drift_max < 0.01);
  assert_true(m->fabric_drift_mean < 0.002);
  replay_free(r);
  trace_free(t);
  hw_free(c);
}

/* Two jobs whose rings share one uplink, communicating all the time, each get half of it, as
 * max-min says: twice as slow, at L2 and in the replay's model. And the model matches L2 on a
 * few of bench/validate_contention's cases. */
static const char two_leaves[] =
    "name: two-leaves\nnodes: 4\naccelerator:\n  name: x\n  bf16_tflops: 100\n  hbm_gib: 16\n"
    "  hbm_tbytes_per_s: 1\nnode:\n  cards: 1\nsupernode:\n  cards: 1\n  topology: switch\n"
    "  gbytes_per_s: 200\nnics:\n  per_card: 1\n  gbits_per_s: 400\nfabric:\n  topology: clos\n"
    "  tiers:\n    - {down: 2, up: 1}\n    - radix: 2\n";
static hw_cluster *two_leaves_cluster(void) {
  hw_config cfg;
  wk_err err;
  char buf[1024];
  if (hw_config_parse(&cfg, two_leaves, sizeof two_leaves - 1, "two.yaml", &err))
    fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  hw_cluster *c = hw_build(&cfg, &err);
  assert_non_null(c);
  return c;
}

/* The fabric's queue: a job removed while it waits to be evaluated (woken by a neighbour's
 * leaving) leaves nothing behind. A job added after it, on the same cards (with a workload of
 * its own, so not handed its slot: test_fabric_handover), is evaluated as often and comes to
 * the same pace whether or not a solve ran between the removal and the add (once, the next job
 * in the slot was evaluated an extra time, out of turn, at the removed one's place in the
 * queue). */
static void fab_queue_run(const hw_cluster *c, int flush, uint64_t *evals, double *stretch) {
  enum { N = 2 };
  uint32_t cards[3][N] = {{0, 2}, {1, 3}, {1, 3}}; /* two_leaves: the rings share an uplink */
  replay_shape sh[3];
  replay_fab *f = replay_fab_new(c, hw_link_capacity(c), NULL, 8);
  for (int g = 0; g < 3; g++) {
    memset(&sh[g], 0, sizeof sh[g]);
    sh[g].nphases = 1;
    sh[g].ph[0] = (work_phase){"dp", WORK_PAT_RING, 1, N, g == 2 ? 0.6 : 0.8, g == 2 ? 0.6 : 0.8};
    sh[g].iter_ref_s = 1.0;
    sh[g].rate_ref[0] = replay_fab_phase_rate(c, NULL, cards[g], N, &sh[g].ph[0]);
  }
  uint32_t n;
  replay_fab_add(f, 0, &sh[0], cards[0], N);
  replay_fab_add(f, 1, &sh[1], cards[1], N);
  (void)replay_fab_solve(f, &n);
  assert_true(replay_fab_stretch(f, 1) > 1.01); /* they share links: each paces the other */
  replay_fab_remove(f, 0); /* wakes job 1 */
  replay_fab_remove(f, 1); /* queued */
  if (flush) (void)replay_fab_solve(f, &n);
  replay_fab_stats a, b;
  replay_fab_get_stats(f, &a);
  replay_fab_add(f, 2, &sh[2], cards[2], N);
  (void)replay_fab_solve(f, &n);
  replay_fab_get_stats(f, &b);
  *evals = b.evals - a.evals;
  *stretch = replay_fab_stretch(f, 2);
  replay_fab_free(f);
}
static void test_fabric_queue_after_remove(void **st) {
  (void)st;
  hw_cluster *c = two_leaves_cluster();
  uint64_t e0, e1;
  double s0, s1;
  fab_queue_run(c, 0, &e0, &s0);
  fab_queue_run(c, 1, &e1, &s1);
  print_message("job added after a queued one left: %llu evaluations (%llu after a solve)\n",
                (unsigned long long)e0, (unsigned long long)e1);
  assert_true(e0 == e1 && s0 == s1);
  assert_true(e0 == 2); /* its first look and its second, after its neighbours (none here) */
  hw_free(c);
}

/* A job that starts on the cards of one that ended at the same instant, with the same workload,
 * takes over its state in the fabric: the same pace at once, nothing read again, its stretch
 * reported by the next solve; and that pace is the one a fresh add comes to. Not across a
 * capacity change (its routes could differ), nor for another workload. A removed job is gone
 * at once for the readers between solves (replay_fab_jobs_on, replay_fab_probe). */
static void test_fabric_handover(void **st) {
  (void)st;
  enum { N = 2 };
  hw_cluster *c = two_leaves_cluster();
  uint32_t cards[2][N] = {{0, 2}, {1, 3}}; /* the rings share both uplinks */
  replay_shape sh[2];
  for (int g = 0; g < 2; g++) {
    memset(&sh[g], 0, sizeof sh[g]);
    sh[g].nphases = 1;
    sh[g].ph[0] = (work_phase){"dp", WORK_PAT_RING, 1, N, 0.8, g ? 0.8 : 0.5};
    sh[g].iter_ref_s = 1.0;
    sh[g].rate_ref[0] = replay_fab_phase_rate(c, NULL, cards[g], N, &sh[g].ph[0]);
  }
  double handed = 0, fresh = 0;
  for (int mode = 0; mode < 4; mode++) { /* handed; fresh (a solve between); capacity; shape */
    replay_fab *f = replay_fab_new(c, hw_link_capacity(c), NULL, 8);
    uint32_t n, out[4];
    replay_fab_add(f, 0, &sh[0], cards[0], N);
    replay_fab_add(f, 1, &sh[1], cards[1], N);
    (void)replay_fab_solve(f, &n);
    double before = replay_fab_stretch(f, 1);
    assert_true(before > 1.01);
    uint32_t l = 0;
    while (l < hw_nlinks(c) && replay_fab_jobs_on(f, l, out, 4) != 2) l++;
    assert_true(l < hw_nlinks(c)); /* an uplink both cross */
    double p0 = replay_fab_probe(f, &sh[1], cards[1], N);
    replay_fab_remove(f, 1);
    assert_int_equal(replay_fab_jobs_on(f, l, out, 4), 1);
    assert_int_equal(out[0], 0);
    assert_false(replay_fab_has(f, 1));
    assert_true(replay_fab_probe(f, &sh[1], cards[1], N) < p0); /* job 1's load gone */
    if (mode == 1) (void)replay_fab_solve(f, &n);
    if (mode == 2) replay_fab_set_cap(f, l, hw_link_capacity(c)[l]); /* same value, new epoch */
    replay_fab_stats a, b;
    replay_fab_get_stats(f, &a);
    replay_fab_add(f, 2, &sh[mode == 3 ? 0 : 1], cards[1], N);
    const uint32_t *ch = replay_fab_solve(f, &n);
    replay_fab_get_stats(f, &b);
    double now = replay_fab_stretch(f, 2);
    print_message("mode %d: %llu handed over, %llu evaluations, stretch %.6f (%.6f before)\n", mode,
                  (unsigned long long)(b.handovers - a.handovers), (unsigned long long)(b.evals - a.evals),
                  now, before);
    if (mode == 0) {
      assert_int_equal(b.handovers - a.handovers, 1);
      assert_int_equal(b.evals, a.evals); /* nothing changed for anyone */
      assert_true(now == before);
      assert_int_equal(n, 1);
      assert_int_equal(ch[0], 2);
      handed = now;
    } else {
      assert_int_equal(b.handovers - a.handovers, 0);
      assert_true(b.evals > a.evals);
    }
    if (mode == 1) fresh = now;
    replay_fab_free(f);
  }
  assert_true(fabs(handed - fresh) <= 0.01 * fresh); /* within the solver's tolerance */
  hw_free(c);
}

/* The edges of a ring, chain, exchange or all-to-all inside a scale-up domain are not routed
 * when a job is added (fabric.c's lay_phase counts what they put on each scale-up link); a job alone must
 * still get the rate of its every edge routed (replay_fab_phase_rate), on a bus (zhengzhou) and
 * on a mesh (ascend), in groups inside a node, a supernode, across supernodes, strided and
 * scattered, of 2, 3 and more ranks. A scale-up link whose capacity the fabric changes puts the
 * job back on routed edges: the card behind it then paces its phase. */
static double phase_alone(const hw_cluster *c, const uint32_t *cards, uint32_t ncards, int pattern,
                          uint32_t n, uint32_t stride, uint32_t slow_link, double *rate) {
  replay_shape sh;
  memset(&sh, 0, sizeof sh);
  sh.nphases = 1;
  sh.ph[0] = (work_phase){"dp", (uint8_t)pattern, stride, n, 0.8, 0.8};
  sh.iter_ref_s = 1.0;
  sh.rate_ref[0] = *rate = replay_fab_phase_rate(c, NULL, cards, ncards, &sh.ph[0]);
  double *cap = malloc(sizeof(double) * hw_nlinks(c));
  memcpy(cap, hw_link_capacity(c), sizeof(double) * hw_nlinks(c));
  replay_fab *f = replay_fab_new(c, cap, NULL, 1);
  if (slow_link != UINT32_MAX) replay_fab_set_cap(f, slow_link, cap[slow_link] / 2);
  replay_fab_add(f, 0, &sh, cards, ncards);
  uint32_t nch;
  (void)replay_fab_solve(f, &nch);
  double s = replay_fab_stretch(f, 0);
  replay_fab_free(f);
  free(cap);
  return s;
}
static void test_fabric_scaleup_unrouted(void **st) {
  (void)st;
  const char *specs[] = {"zhengzhou-60k", "ascend-910b-8k"};
  for (int ci = 0; ci < 2; ci++) {
    hw_cluster *c = load(specs[ci]);
    uint32_t dom = hw_level_cards(c, HW_LEVEL_SUPERNODE), node = hw_level_cards(c, HW_LEVEL_NODE);
    enum { MAXC = 2048 };
    uint32_t *cards = malloc(sizeof(uint32_t) * MAXC);
    struct { uint32_t first, ncards, n, stride, scatter; } cs[] = {
        {0, node, node, 1, 0},            /* one node */
        {dom, dom, dom, 1, 0},            /* one supernode */
        {dom / 2, 2 * dom, 2 * dom, 1, 0}, /* across three supernodes */
        {0, 2 * dom, 8, dom / 4, 0},      /* strided groups of 8 */
        {0, 256, 64, 1, 1},               /* scattered over the cluster */
        {dom - 1, 2, 2, 1, 0},            /* a pair across two supernodes */
        {0, 2, 2, 1, 0},                  /* a pair inside one */
        {dom - 2, 3, 3, 1, 0},            /* three ranks, one across */
        {0, 3, 3, 1, 0},                  /* three inside */
    };
    wk_rng r;
    wk_rng_init(&r, 11, 1);
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
      uint32_t nc = cs[k].ncards < MAXC ? cs[k].ncards : MAXC;
      for (uint32_t i = 0; i < nc; i++) cards[i] = cs[k].first + i;
      if (cs[k].scatter) /* distinct cards: one in each of nc equal spans */
        for (uint32_t i = 0; i < nc; i++)
          cards[i] = i * (hw_cards(c) / nc) + (uint32_t)wk_rng_below(&r, hw_cards(c) / nc);
      uint32_t n = cs[k].n < nc ? cs[k].n : nc;
      for (int pat = WORK_PAT_RING; pat <= WORK_PAT_ALLTOALL; pat++) {
        if (pat == WORK_PAT_ALLTOALL && n > 640) continue; /* n^2 edges: enough at 640 */
        double rate, s = phase_alone(c, cards, nc, pat, n, cs[k].stride, UINT32_MAX, &rate);
        print_message("%s, case %zu, pattern %d: %u cards, groups of %u: %.4g B/s per subflow, "
                      "stretch %.17g\n", specs[ci], k, pat, nc, n, rate, s);
        assert_true(isfinite(rate) && rate > 0);
        assert_true(s == 1); /* the same rate, to the bit */
      }
    }
    /* the first case's first card: its scale-up link(s) at half capacity pace the ring */
    uint32_t slow = UINT32_MAX;
    for (uint32_t l = 0; l < hw_nlinks(c) && slow == UINT32_MAX; l++) {
      uint32_t a, b;
      hw_link_ends(c, l, &a, &b);
      if (hw_link_kind_of(c, l) == HW_LINK_SCALEUP && a == 0) slow = l;
    }
    assert_true(slow != UINT32_MAX);
    for (uint32_t i = 0; i < node; i++) cards[i] = i;
    double rate, s = phase_alone(c, cards, node, WORK_PAT_RING, node, 1, slow, &rate);
    print_message("%s: a scale-up link at half capacity: stretch %.4f\n", specs[ci], s);
    assert_true(s > 1.01);
    free(cards);
    hw_free(c);
  }
}

static void test_contention_maxmin_and_l2(void **st) {
  (void)st;
  wk_err err;
  hw_cluster *c = two_leaves_cluster();
  uint32_t a[2] = {0, 2}, b[2] = {1, 3};
  replay_cjob jobs[2] = {{a, 2, 100e6, 0, 0}, {b, 2, 100e6, 0, 1e-4}};
  replay_cjob_opts o;
  replay_cjob_opts_init(&o);
  o.iterations = 20;
  replay_cjob_result res[2];
  assert_int_equal(replay_contention_check(c, jobs, 2, &o, res, &err), WK_OK);
  for (int g = 0; g < 2; g++) {
    print_message("shared uplink, job %d: L2 %.4f, model %.4f\n", g, res[g].l2_slowdown, res[g].model_slowdown);
    assert_true(fabs(res[g].l2_slowdown - 2) < 0.02);
    assert_true(fabs(res[g].model_slowdown - 2) < 0.02);
  }
  /* half the time each, with periods that differ so that their phases drift through every
   * offset: the slowdown lies between alone and always together, and the model finds it */
  jobs[1].bytes = 70e6;
  jobs[0].compute_s = 100e6 / 50e9;
  jobs[1].compute_s = 70e6 / 50e9;
  o.iterations = 200;
  assert_int_equal(replay_contention_check(c, jobs, 2, &o, res, &err), WK_OK);
  for (int g = 0; g < 2; g++) {
    assert_true(res[g].l2_slowdown > 1.1 && res[g].l2_slowdown < 1.5);
    print_message("half the time, job %d: L2 %.4f, model %.4f\n", g, res[g].l2_slowdown, res[g].model_slowdown);
    assert_true(fabs(res[g].model_slowdown / res[g].l2_slowdown - 1) < 0.05);
  }
  hw_free(c);

  /* 8 jobs side by side on the 2:1 variant, rings over 8 scale-up domains */
  c = load("zhengzhou-60k:oversubscription=2");
  uint32_t domain = hw_level_cards(c, HW_LEVEL_SUPERNODE), node = hw_level_cards(c, HW_LEVEL_NODE);
  uint32_t cards[8 * 8];
  replay_cjob many[8];
  wk_rng rng;
  wk_rng_init(&rng, 17, 8);
  for (uint32_t g = 0; g < 8; g++) {
    for (uint32_t i = 0; i < 8; i++) cards[g * 8 + i] = i * domain + g * node;
    double bytes = (64 + 192 * wk_rng_uniform(&rng)) * 1048576.0, comm = 1.75 * bytes / 48e9;
    double duty = 0.15 + 0.5 * wk_rng_uniform(&rng);
    many[g] = (replay_cjob){cards + g * 8, 8, bytes, comm * (1 - duty) / duty, 0};
    many[g].offset_s = wk_rng_uniform(&rng) * comm / duty;
  }
  replay_cjob_result mr[8];
  assert_int_equal(replay_contention_check(c, many, 8, &o, mr, &err), WK_OK);
  for (uint32_t g = 0; g < 8; g++) assert_true(fabs(mr[g].model_slowdown / mr[g].l2_slowdown - 1) < 0.10);
  hw_free(c);
}

/* A workloads file given in memory replaces the defaults; every job gets the rule's kernel. */
static void test_workload_rules(void **st) {
  (void)st;
  const char yaml[] = "rules:\n  - cards: 1-64\n    kernel: dataparallel\n    params: 1e8\n"
                      "  - kernel: stencil\n";
  replay_workloads *w;
  wk_err err;
  char buf[1024];
  if (replay_workloads_parse("w.yaml", yaml, sizeof yaml - 1, &w, &err))
    fail_msg("%s", wk_err_format(&err, buf, sizeof buf));
  hw_cluster *c = load("zhengzhou-60k");
  const int64_t cards[] = {64, 2048}, submit[] = {0, 10};
  trace *t = class_trace("anything", cards, submit, 2, 600);
  replay_opts o;
  replay_opts_init(&o);
  o.failure_rate = 0;
  o.workloads = w;
  replay *r = run_trace(c, t, &o);
  size_t n;
  const replay_job *j = replay_jobs(r, &n);
  assert_true(!strncmp(replay_workload_name(r, j[0].workload), "dataparallel", 12));
  assert_true(!strncmp(replay_workload_name(r, j[1].workload), "stencil", 7));
  assert_int_equal(replay_get_metrics(r)->workloads, 2);
  replay_free(r);
  trace_free(t);
  hw_free(c);
  replay_workloads_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invariants_all_policies),
      cmocka_unit_test(test_card_seconds_add_up),
      cmocka_unit_test(test_run_ids),
      cmocka_unit_test(test_energy),
      cmocka_unit_test(test_fifo_reproduces_trace),
      cmocka_unit_test(test_seeds),
      cmocka_unit_test(test_too_large_dropped),
      cmocka_unit_test(test_checkpoint_restart),
      cmocka_unit_test(test_abandon_hopeless),
      cmocka_unit_test(test_stretch),
      cmocka_unit_test(test_walltime_kill),
      cmocka_unit_test(test_time_zero_ignores_dropped),
      cmocka_unit_test(test_abandon_counts_failures_only),
      cmocka_unit_test(test_real_traces),
      cmocka_unit_test(test_fabric_alone),
      cmocka_unit_test(test_fabric_disjoint_and_oversubscribed),
      cmocka_unit_test(test_fabric_incremental_near_fixed_point),
      cmocka_unit_test(test_fabric_open_loop),
      cmocka_unit_test(test_fabric_queue_after_remove),
      cmocka_unit_test(test_fabric_handover),
      cmocka_unit_test(test_fabric_scaleup_unrouted),
      cmocka_unit_test(test_contention_maxmin_and_l2),
      cmocka_unit_test(test_workload_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
