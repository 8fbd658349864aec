/* bench/net_event — the fabric engine's hot paths on a fabric-like link set: a three-tier
 * fat tree of 65,536 endpoints (32 per leaf, 32 leaves and 16 aggregation switches per pod,
 * 16 core planes of 16), 400 Gb/s links, routes of 2, 4 or 6 hops chosen by ECMP hash.
 * event: 100,000 flows arriving over time, run to completion incrementally (aim: > 2 million
 *        completions/s, < 256 bytes per active flow). Past ~15,000 active flows the flow/link
 *        graph of this fabric percolates; "burst" (on request) starts all of them at once;
 * closed: 20,000 and 100,000 random flows always active (each completion starts another);
 * steps: 100,000 flows in flight as L2 runs collectives (coll_l2): 50 jobs, each a ring step
 *        of 1,000 ranks and 2 channels whose flows start together, the job's next step when
 *        the last of them lands (a group note);
 * rings: the same rings without the step barrier: rank i sends step k + 1 as soon as its own
 *        chunk of step k arrives, so the rings drift apart, batches shrink and the rate falls
 *        with the number of steps (2.4 M/s over 10 steps, 0.7 over 60 on the VM);
 * once : a ring step of 61,440 cards solved once with net_solve_once (aim: < 50 ms). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/core.h"
#include "net/net.h"

enum { E = 65536, PER_LEAF = 32, LEAVES = E / PER_LEAF, LEAF_PER_POD = 32,
       PODS = LEAVES / LEAF_PER_POD, AGG = 16, CORE = 16 };
#define L_UP(e) ((uint32_t)(e))
#define L_DOWN(e) ((uint32_t)(E + (e)))
#define L_LA(leaf, a) ((uint32_t)(2 * E + (leaf) * AGG + (a)))
#define L_AL(leaf, a) ((uint32_t)(2 * E + LEAVES * AGG + (leaf) * AGG + (a)))
#define L_AC(pod, a, c) ((uint32_t)(2 * E + 2 * LEAVES * AGG + ((pod) * AGG + (a)) * CORE + (c)))
#define L_CA(pod, a, c) (L_AC(pod, a, c) + (uint32_t)(PODS * AGG * CORE))
#define NLINKS ((uint32_t)(2 * E + 2 * LEAVES * AGG + 2 * PODS * AGG * CORE))

/* Up-down route from src to dst with ECMP choice by hash; returns the hop count. */
static uint32_t route(uint32_t src, uint32_t dst, uint64_t hash, uint32_t *r) {
  uint32_t ls = src / PER_LEAF, ld = dst / PER_LEAF, ps = ls / LEAF_PER_POD,
           pd = ld / LEAF_PER_POD, a = (uint32_t)(hash % AGG), c = (uint32_t)((hash >> 8) % CORE);
  uint32_t n = 0;
  r[n++] = L_UP(src);
  if (ls != ld) {
    r[n++] = L_LA(ls, a);
    if (ps != pd) {
      r[n++] = L_AC(ps, a, c);
      r[n++] = L_CA(pd, a, c);
    }
    r[n++] = L_AL(ld, a);
  }
  r[n++] = L_DOWN(dst);
  return n;
}

/* One random flow: a third each within a leaf, within a pod, anywhere. */
static net_flow_spec random_flow(wk_rng *r, uint32_t i, uint32_t *rt) {
  uint32_t src = (uint32_t)wk_rng_below(r, E), dst;
  uint64_t u = wk_rng_below(r, 3);
  do {
    if (u == 0)
      dst = src / PER_LEAF * PER_LEAF + (uint32_t)wk_rng_below(r, PER_LEAF);
    else if (u == 1)
      dst = src / (PER_LEAF * LEAF_PER_POD) * (PER_LEAF * LEAF_PER_POD) +
            (uint32_t)wk_rng_below(r, PER_LEAF * LEAF_PER_POD);
    else
      dst = (uint32_t)wk_rng_below(r, E);
  } while (dst == src);
  double bytes = 65536.0 + wk_rng_exp(r, 4e6);
  return (net_flow_spec){rt, route(src, dst, wk_mix64(i), rt), bytes, 0.0, i / 8, 0};
}

static void print_stats(const net_sim *s, double wall, uint32_t held) {
  net_stats st;
  net_sim_stats(s, &st);
  printf("  %.2f M completions/s (%.3f s, %.2f M events/s); per batch %.1f flows and %.1f links "
         "re-solved, %.1f rates changed\n",
         (double)st.completed / wall / 1e6, wall, (double)st.events / wall / 1e6,
         (double)st.flows_resolved / (double)st.batches,
         (double)st.links_resolved / (double)st.batches,
         (double)st.rates_changed / (double)st.batches);
  printf("  per completion: %.2f batches, %.2f rates changed\n",
         (double)st.batches / (double)st.completed, (double)st.rates_changed / (double)st.completed);
  printf("  memory: %.0f bytes per flow held (tables, routes, heaps, groups; %u held), "
         "link state %.1f MB\n",
         (double)st.flow_bytes / held, held, (double)st.link_bytes / 1e6);
  printf("    per flow: table %.0f, routes %.0f, link heaps %.0f, groups %.0f\n",
         (double)st.mem_flow_table / held, (double)st.mem_routes / held,
         (double)st.mem_link_heaps / held, (double)st.mem_groups / held);
}

/* Open loop: nflows flows arriving at random over window_s, run to the end. */
static void bench_event(net_sim *s, const char *name, uint32_t nflows, double window_s) {
  wk_rng r;
  wk_rng_init(&r, 7, 1);
  uint32_t rt[8], id;
  double t0 = bench_now();
  for (uint32_t i = 0; i < nflows; i++) {
    net_flow_spec sp = random_flow(&r, i, rt);
    sp.start_s = wk_rng_uniform(&r) * window_s;
    if (net_flow_add(s, &sp, &id) != WK_EOK) abort();
  }
  double t1 = bench_now();
  double end = net_sim_run(s);
  double t2 = bench_now();
  net_stats st;
  net_sim_stats(s, &st);
  printf("event %-7s: %u flows, arrivals over %.0f us, peak %u active, simulated %.3f ms "
         "(adding them %.3f s)\n",
         name, nflows, window_s * 1e6, st.peak_active, end * 1e3, t1 - t0);
  print_stats(s, t2 - t1, nflows); /* all added up front: every one holds a slot */
  net_sim_reset(s);
}

/* Closed loop: nflows flows start at 0 and every completion starts a new random flow at once,
 * so nflows are active all the time; timed over the next `total` completions, after the first
 * max-min solve of all of them (reported apart). */
static void bench_closed(net_sim *s, uint32_t nflows, uint32_t total) {
  wk_rng r;
  wk_rng_init(&r, 8, 1);
  uint32_t rt[8], id, next = 0;
  for (; next < nflows; next++) {
    net_flow_spec sp = random_flow(&r, next, rt);
    sp.group = NET_NONE, sp.flags = NET_FLOW_NOTIFY;
    if (net_flow_add(s, &sp, &id) != WK_EOK) abort();
  }
  double t0 = bench_now(), t1 = 0.0;
  net_note n;
  uint32_t done = 0;
  while (done < total && net_sim_next(s, &n)) {
    if (!done++) t1 = bench_now(); /* the first note comes right after the first solve */
    net_flow_spec sp = random_flow(&r, next++, rt);
    sp.group = NET_NONE, sp.flags = NET_FLOW_NOTIFY, sp.start_s = net_sim_now(s);
    if (net_flow_add(s, &sp, &id) != WK_EOK) abort();
  }
  double t2 = bench_now();
  net_stats st;
  net_sim_stats(s, &st);
  printf("event closed : %u flows active at all times (peak %u), %u completions over %.3f ms "
         "simulated; first solve of all %u: %.3f s\n",
         nflows, st.peak_active, done, net_sim_now(s) * 1e3, nflows, t1 - t0);
  printf("  %.2f M completions/s after the first solve (%.3f s)\n", (double)(done - 1) / (t2 - t1) / 1e6,
         t2 - t1);
  print_stats(s, t2 - t0, nflows);
  net_sim_reset(s);
}

/* The ring jobs of the steps and rings cases: job j has RANKS ranks on consecutive endpoints
 * and two channels (one sends to the next rank, one to the previous). Sender r = (j * 2 +
 * channel) * RANKS + rank; ring_peer(r) is the sender its chunk goes to. */
enum { RANKS = 1000 };
static const double CHUNK = 1048576.0;
static uint32_t ring_peer(uint32_t r) {
  return r / RANKS * RANKS + (r % RANKS + (r / RANKS % 2 ? RANKS - 1 : 1)) % RANKS;
}
static uint32_t ring_ep(uint32_t r) { return r / (2 * RANKS) * RANKS + r % RANKS; }

/* Adds sender r's chunk to its peer, starting at t; returns the flow id. */
static uint32_t add_ring_flow(net_sim *s, uint32_t r, double t, uint32_t group, uint32_t flags) {
  uint32_t rt[8], id;
  net_flow_spec sp = {rt, route(ring_ep(r), ring_ep(ring_peer(r)), wk_mix64(r), rt), CHUNK, t,
                      group, flags};
  if (net_flow_add(s, &sp, &id) != WK_EOK) abort();
  return id;
}

/* Steps, as coll_l2 drives the engine: nflows / 2000 jobs; job j's step k is its 2,000 flows
 * of one chunk started at once, tagged with group j, and step k + 1 starts when the group note
 * says the last of them landed. */
static void bench_steps(net_sim *s, uint32_t nflows, uint32_t steps) {
  uint32_t njobs = nflows / (2 * RANKS);
  if (!njobs || njobs * RANKS > E) return;
  uint32_t *step = calloc(njobs, sizeof *step);
  double t0 = bench_now(), t1 = 0.0;
  for (uint32_t r = 0; r < njobs * 2 * RANKS; r++) add_ring_flow(s, r, 0.0, r / (2 * RANKS), 0);
  net_note n;
  uint64_t done = 0;
  int first = 1;
  while (net_sim_next(s, &n)) {
    if (first) first = 0, t1 = bench_now();
    if (n.kind != NET_NOTE_GROUP) continue;
    done += 2 * RANKS;
    if (++step[n.id] < steps)
      for (uint32_t r = n.id * 2 * RANKS; r < (n.id + 1) * 2 * RANKS; r++)
        add_ring_flow(s, r, net_sim_now(s), n.id, 0);
  }
  double t2 = bench_now();
  net_stats st;
  net_sim_stats(s, &st);
  printf("event steps  : %u jobs of %u ranks x 2 channels (%u flows in flight, peak %u active), %u "
         "steps each after the last: %lu completions over %.3f ms simulated; first solve %.3f s\n",
         njobs, (unsigned)RANKS, njobs * 2 * RANKS, st.peak_active, steps, (unsigned long)done,
         net_sim_now(s) * 1e3, t1 - t0);
  printf("  %.2f M completions/s after the first solve (%.3f s)\n",
         (double)(done - 2 * RANKS) / (t2 - t1) / 1e6, t2 - t1);
  print_stats(s, t2 - t0, njobs * 2 * RANKS);
  free(step);
  net_sim_reset(s);
}

/* Rings without the step barrier: the flow rank i sends at step k, once it completes at its
 * receiver, lets the receiver send step k + 1. Equal chunks, but routes of 2, 4 or 6 hops (so
 * latencies) differ, and steps drift apart as they do in a real ring. */
static void bench_rings(net_sim *s, uint32_t nflows, uint32_t steps) {
  uint32_t njobs = nflows / (2 * RANKS), nsend = njobs * 2 * RANKS, cap = 1u << 20;
  if (!njobs || njobs * RANKS > E) return;
  uint32_t *who = malloc(cap * sizeof *who), *step = malloc(cap * sizeof *step);
  double t0 = bench_now(), t1 = 0.0;
  for (uint32_t r = 0; r < nsend; r++) {
    uint32_t id = add_ring_flow(s, r, 0.0, NET_NONE, NET_FLOW_NOTIFY);
    if (id >= cap) abort();
    who[id] = r, step[id] = 0;
  }
  net_note n;
  uint64_t done = 0;
  while (net_sim_next(s, &n)) {
    if (!done++) t1 = bench_now();
    uint32_t r = ring_peer(who[n.id]), k = step[n.id] + 1;
    if (k == steps) continue;
    uint32_t id = add_ring_flow(s, r, net_sim_now(s), NET_NONE, NET_FLOW_NOTIFY);
    if (id >= cap) abort();
    who[id] = r, step[id] = k;
  }
  double t2 = bench_now();
  net_stats st;
  net_sim_stats(s, &st);
  printf("event rings  : %u rings of %u ranks (%u flows in flight, peak %u active), %u steps: "
         "%lu completions over %.3f ms simulated; first solve %.3f s\n",
         2 * njobs, (unsigned)RANKS, nsend, st.peak_active, steps, (unsigned long)done,
         net_sim_now(s) * 1e3, t1 - t0);
  printf("  %.2f M completions/s after the first solve (%.3f s)\n",
         (double)(done - 1) / (t2 - t1) / 1e6, t2 - t1);
  print_stats(s, t2 - t0, nsend);
  free(who), free(step);
  net_sim_reset(s);
}

static void bench_ring(net_sim *s, const char *name, int scatter) {
  const uint32_t n = 61440;
  uint32_t *perm = malloc(n * sizeof *perm), *off = malloc((n + 1) * sizeof *off),
           *lk = malloc(6 * (size_t)n * sizeof *lk);
  double *bytes = malloc(n * sizeof *bytes), *rate = malloc(n * sizeof *rate),
         *fin = malloc(n * sizeof *fin);
  wk_rng r;
  wk_rng_init(&r, 11, 2);
  for (uint32_t i = 0; i < n; i++) perm[i] = i;
  if (scatter) /* ranks scattered over the 65,536 endpoints: most hops cross the core */
    for (uint32_t i = n - 1; i > 0; i--) {
      uint32_t j = (uint32_t)wk_rng_below(&r, i + 1), t = perm[i];
      perm[i] = perm[j], perm[j] = t;
    }
  double t0 = bench_now();
  off[0] = 0;
  for (uint32_t i = 0; i < n; i++) {
    off[i + 1] = off[i] + route(perm[i], perm[(i + 1) % n], wk_mix64(i), lk + off[i]);
    bytes[i] = 1e9 / n * 8; /* an 8 GB all-reduce buffer: one chunk per rank */
  }
  double t1 = bench_now(), mk = 0, cold = 0;
  for (int rep = 0; rep < 2; rep++) { /* the first call grows the tables; the second reuses */
    double ta = bench_now();
    if (net_solve_once(s, n, off, lk, bytes, rate, fin, &mk) != WK_EOK) abort();
    if (rep == 0) cold = bench_now() - ta;
    t1 = ta;
  }
  double t2 = bench_now();
  double rmin = INFINITY;
  for (uint32_t i = 0; i < n; i++) rmin = rate[i] < rmin ? rate[i] : rmin;
  printf("once  %-7s: 61,440-card ring step: solve_once %.2f ms warm (%.2f ms first call, routes "
         "%.2f ms); step %.2f us, slowest flow %.1f GB/s\n",
         name, (t2 - t1) * 1e3, cold * 1e3, (t1 - t0 - cold) * 1e3, mk * 1e6, rmin / 1e9);
  double t3 = bench_now();
  if (net_maxmin(s, n, off, lk, rate) != WK_EOK) abort();
  printf("  max-min rates alone: %.2f ms\n", (bench_now() - t3) * 1e3);
  free(perm), free(off), free(lk), free(bytes), free(rate), free(fin);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* arguments: a flow count (smaller runs for profiling) and/or one case: "event", "steps",
   * "rings", "closed" or "once" runs that part alone, "burst" the all-concurrent case */
  uint32_t nflows = 100000;
  const char *only = "";
  for (int i = 1; i < argc; i++) { /* a number is the flow count, a word the case: any order */
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (*end) {
      only = argv[i];
    } else if (v < 10000 || v > 10000000) {
      fprintf(stderr, "net_event: flows %s out of range; use 10000..10000000\n", argv[i]);
      return 2;
    } else {
      nflows = (uint32_t)v;
    }
  }
  if (*only && strcmp(only, "event") && strcmp(only, "steps") && strcmp(only, "rings") &&
      strcmp(only, "closed") && strcmp(only, "burst") && strcmp(only, "once")) {
    fprintf(stderr,
            "net_event: unknown case '%s'; use event, steps, rings, closed, burst or once\n", only);
    return 2;
  }
  uint32_t nl = NLINKS;
  double *cap = malloc(nl * sizeof *cap);
  float *lat = malloc(nl * sizeof *lat);
  for (uint32_t l = 0; l < nl; l++) cap[l] = 50e9, lat[l] = 5e-7f;
  double t0 = bench_now();
  net_sim *s = net_sim_new(nl, cap, lat, NULL);
  printf("fabric: %u endpoints, %u links; net_sim_new %.2f ms\n", E, nl, (bench_now() - t0) * 1e3);
  int all = !*only;
  /* each case on a fresh engine, so its memory per flow is its own, not an earlier case's peak */
#define FRESH() (net_sim_free(s), s = net_sim_new(nl, cap, lat, NULL))
  if (all || !strcmp(only, "event")) {
    FRESH(), bench_event(s, "busy", nflows, 2e-3);
    FRESH(), bench_event(s, "steady", nflows, 20e-3);
    FRESH(), bench_event(s, "dense", nflows / 5, 100e-6); /* ~13k active */
  }
  if (all || !strcmp(only, "event") || !strcmp(only, "steps"))
    FRESH(), bench_steps(s, nflows, 20);
  if (all || !strcmp(only, "event") || !strcmp(only, "rings"))
    FRESH(), bench_rings(s, nflows, 20);
  if (all || !strcmp(only, "event") || !strcmp(only, "closed")) {
    FRESH(), bench_closed(s, nflows / 5, nflows / 5); /* 20,000 always active */
    FRESH(), bench_closed(s, nflows, nflows);         /* 100,000 always active */
  }
  if (!strcmp(only, "burst")) /* all concurrent: one giant component */
    FRESH(), bench_event(s, "burst", nflows, 0.0);
  if (all || !strcmp(only, "once")) {
    bench_ring(s, "packed", 0);
    bench_ring(s, "scatter", 1);
  }
#undef FRESH
  net_sim_free(s);
  free(cap), free(lat);
  return 0;
}
