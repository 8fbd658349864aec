/* level.c — timing a plan at the three fidelity levels. Every level computes
 *   time = base + sum over phases of repeat * (step + per-step software overhead)
 * and differs only in the step: L0 from per-card loads over the analytic per-level bandwidth
 * (hw_level_card_bw); L1 from one max-min solve of the step's flows on the real routes; L2 by
 * running every step's flows in net's event mode, the next step starting when the last flow of
 * the previous one lands. Payload becomes wire bytes through the efficiencies of coll_int.h. */
#include "coll/coll_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int same_su(const coll_ctx *x, uint32_t a, uint32_t b) {
  return a / x->cps == b / x->cps;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Cards of sorted[0..n) inside [lo, hi). O(log n). */
static uint32_t count_in(const uint32_t *sorted, uint32_t n, uint32_t lo, uint32_t hi) {
  uint32_t a = 0, b = n;
  while (a < b) {
    uint32_t m = a + (b - a) / 2;
    if (sorted[m] < lo) a = m + 1; else b = m;
  }
  uint32_t s = a;
  b = n;
  while (a < b) {
    uint32_t m = a + (b - a) / 2;
    if (sorted[m] < hi) a = m + 1; else b = m;
  }
  return a - s;
}

/* Direct all-to-all in closed form: each rank's peers counted per level by binary search over
 * the sorted cards (levels taken as nested: a peer belongs to the smallest domain holding
 * both), so n = 60,000 costs O(n log n), not n^2 flows. */
static double l0_a2a(coll_ctx *x, const coll_plan *p, double *lat_part) {
  const hw_cluster *c = x->c;
  uint32_t n = p->n;
  memcpy(x->tmp2, p->cards, n * sizeof *x->tmp2);
  qsort(x->tmp2, n, sizeof *x->tmp2, cmp_u32);
  double su_max = 0, net_max = 0, lat_su = -1, lat_net = -1, b = p->ph[0].bytes;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t card = p->cards[i], prev = 1;
    double su = 0, net = 0;
    for (int l = HW_LEVEL_NODE; l < HW_LEVELS; l++) {
      uint32_t lc = hw_level_cards(c, (hw_level)l), lo = card / lc * lc;
      uint32_t cnt = count_in(x->tmp2, n, lo, lo + lc);
      if (cnt < prev) cnt = prev; /* a level smaller than the one below adds no peer */
      uint32_t peers = cnt - prev;
      prev = cnt;
      if (!peers) continue;
      int su_level = l <= HW_LEVEL_SUPERNODE;
      double t = peers * b / (hw_level_card_bw(c, (hw_level)l) *
                              (su_level ? COLL_EFF_SCALEUP : COLL_EFF_NET));
      double lat = hw_level_latency(c, (hw_level)l);
      if (su_level) {
        su += t;
        if (lat > lat_su) lat_su = lat;
      } else {
        net += t;
        if (lat > lat_net) lat_net = lat;
      }
    }
    if (su > su_max) su_max = su;
    if (net > net_max) net_max = net;
  }
  double a = lat_su >= 0 ? su_max + lat_su : 0, e = lat_net >= 0 ? net_max + lat_net : 0;
  double ov = lat_net >= 0 ? COLL_STEP_NET_S : COLL_STEP_SCALEUP_S;
  double step = (a > e ? a : e) + ov;
  if (lat_part) *lat_part = step - (a > e ? su_max : net_max);
  return step;
}

double coll_l0_phase(coll_ctx *x, const coll_plan *p, const coll_phase *ph, double *lat_part) {
  WK_ASSERT(p->ngroups == 1); /* L0 times one group: coll_time_groups asks for group 0 */
  if (ph->kind == PH_A2A) return l0_a2a(x, p, lat_part);
  const hw_cluster *c = x->c;
  uint32_t n = p->n;
  double *out_su = x->acc, *in_su = out_su + n, *out_net = in_su + n, *in_net = out_net + n;
  memset(x->acc, 0, 4 * (size_t)n * sizeof *x->acc);
  double lat_su = -1, lat_net = -1;
  uint64_t nf = coll_phase_flows(p, ph);
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d;
    double b;
    coll_flow_at(p, ph, f, &s, &d, &b);
    uint32_t cs = p->cards[s], cd = p->cards[d];
    hw_level l = hw_common_level(c, cs, cd);
    double lat = hw_level_latency(c, l);
    if (same_su(x, cs, cd)) {
      double t = b / (hw_level_card_bw(c, l) * COLL_EFF_SCALEUP);
      out_su[s] += t;
      in_su[d] += t;
      if (lat > lat_su) lat_su = lat;
    } else {
      double t = b / (hw_level_card_bw(c, l) * COLL_EFF_NET);
      out_net[s] += t;
      in_net[d] += t;
      if (lat > lat_net) lat_net = lat;
    }
  }
  /* the busiest card's sending or receiving: the times are never NaN, so plain compares give
   * what fmax gives, without a libm call a value (the planner times thousands of cards a
   * layout) */
  double su = 0, net = 0;
  for (uint32_t i = 0; i < n; i++) {
    double a = out_su[i] > in_su[i] ? out_su[i] : in_su[i];
    double b = out_net[i] > in_net[i] ? out_net[i] : in_net[i];
    su = a > su ? a : su;
    net = b > net ? b : net;
  }
  double a = lat_su >= 0 ? su + lat_su : 0, e = lat_net >= 0 ? net + lat_net : 0;
  double step = fmax(a, e) + (lat_net >= 0 ? COLL_STEP_NET_S : COLL_STEP_SCALEUP_S);
  if (lat_part) *lat_part = step - (a > e ? su : net);
  return step;
}

double coll_l0(coll_ctx *x, const coll_plan *p) {
  double t = COLL_BASE_LAT_S, *memo = NULL;
  if (p->nph > x->capmemo) {
    x->capmemo = p->nph;
    x->memo = wk_realloc(x->memo, x->capmemo * sizeof *x->memo);
  }
  memo = x->memo;
  for (uint32_t i = 0; i < p->nph; i++) {
    const coll_phase *ph = &p->ph[i];
    memo[i] = ph->same_as >= 0 ? memo[ph->same_as] : coll_l0_phase(x, p, ph, NULL);
    t += ph->repeat * memo[i];
  }
  return t;
}

/* ---- limits ------------------------------------------------------------------------------- */
/* L1 scratch per flow of a step (roff, rate, lat, fnet, shared, srate) and per hop (rlink,
 * ulink), beside what the flow engine holds for it. */
#define L1_FLOW_BYTES (4 + 8 + 8 + 1 + 4 + 8)
#define L1_HOP_BYTES (4 + 4)

/* Hops of a typical flow of p: the route from its first card to its last (the widest
 * distance of a packed job; a spread one is no longer). */
static uint32_t typical_hops(const coll_ctx *x, const coll_plan *p) {
  hw_route r;
  hw_route_salted(x->c, p->cards[0], p->cards[(size_t)p->n * p->ngroups - 1], 0, &r);
  return r.n;
}

/* Whether `flow_bytes` of flow state fit beside the model and the flow engine (built on first
 * use over every link of the cluster, 84 bytes a link, plus L1's 4-byte count a link). */
static wk_errcode check_memory(const coll_ctx *x, int level, double flow_bytes, double flows,
                               wk_err *err) {
  double links = hw_nlinks(x->c), limit = wk_memory_limit();
  double engine = (double)net_sim_link_bytes(hw_nlinks(x->c)) + 4.0 * links;
  double model = 14.0 * links; /* what hw_build counted for the cluster itself */
  if (model + engine > limit)
    return wk_err_set(err, WK_ECAPACITY, NULL, 0, 0,
                      "level %d needs a flow engine over the cluster's %.0f links: %.3g GiB "
                      "with the cluster model, beyond the %.3g GiB this machine allows (half "
                      "its memory, or WANKA_MAX_MODEL_BYTES): use level 0 or a cluster with "
                      "fewer nodes", level, links, (model + engine) / 1073741824.0,
                      limit / 1073741824.0);
  if (model + engine + flow_bytes > limit)
    return wk_err_set(err, WK_ECAPACITY, NULL, 0, 0,
                      "level %d would hold %.3g flows at once: %.3g GiB with the cluster model "
                      "and flow engine, beyond the %.3g GiB this machine allows (half its "
                      "memory, or WANKA_MAX_MODEL_BYTES): use %s, fewer cards or another "
                      "algorithm", level, flows, (model + engine + flow_bytes) / 1073741824.0,
                      limit / 1073741824.0, level == 2 ? "level 1" : "level 0");
  return WK_OK;
}

wk_errcode coll_check_l1(const coll_ctx *x, const coll_plan *p, wk_err *err) {
  uint64_t most = 0;
  for (uint32_t i = 0; i < p->nph; i++) {
    uint64_t nf = coll_phase_flows(p, &p->ph[i]);
    if (nf > COLL_L1_MAX_FLOWS)
      return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                        "level 1 would solve %llu concurrent flows in one step (limit %u): use "
                        "level 0, fewer cards or another algorithm (e.g. pairwise)",
                        (unsigned long long)nf, COLL_L1_MAX_FLOWS);
    if (nf > most) most = nf;
  }
  uint32_t h = p->nph ? typical_hops(x, p) : 0;
  double per = L1_FLOW_BYTES + (double)h * L1_HOP_BYTES + (double)net_sim_flow_bytes(h, 0);
  return check_memory(x, 1, (double)most * per, (double)most, err);
}

wk_errcode coll_check_l2(const coll_ctx *x, coll_plan *const *plans, uint32_t k, wk_err *err) {
  double total = 0, bytes = 0, at_once = 0;
  for (uint32_t j = 0; j < k; j++) {
    const coll_plan *p = plans[j];
    uint64_t most = 0;
    for (uint32_t i = 0; i < p->nph; i++) {
      uint64_t nf = coll_phase_flows(p, &p->ph[i]);
      total += p->ph[i].repeat * (double)nf;
      if (nf > most) most = nf;
    }
    at_once += (double)most;
    if (p->nph) bytes += (double)most * (double)net_sim_flow_bytes(typical_hops(x, p), 1);
  }
  if (total > COLL_L2_MAX_FLOWS)
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "level 2 would simulate %.0f flows (limit %.0f): use level 1, fewer "
                      "cards or a smaller size", total, COLL_L2_MAX_FLOWS);
  return check_memory(x, 2, bytes, at_once, err);
}

/* ---- L1 ----------------------------------------------------------------------------------- */
static wk_errcode ensure_sim(coll_ctx *x, int level, wk_err *err) {
  if (x->sim) return WK_OK;
  wk_errcode e = check_memory(x, level, 0, 0, err);
  if (e) return e;
  x->sim = net_sim_new(hw_nlinks(x->c), hw_link_capacity(x->c), hw_link_latency(x->c), err);
  return x->sim ? WK_OK : (err ? err->code : WK_EVALUE);
}

static void grow_flows(coll_ctx *x, uint64_t nf) {
  if (nf + 1 <= x->capr) return;
  x->capr = nf + 1 > 2 * x->capr ? nf + 1 : 2 * x->capr;
  x->roff = wk_realloc(x->roff, x->capr * sizeof *x->roff);
  x->rate = wk_realloc(x->rate, x->capr * sizeof *x->rate);
  x->lat = wk_realloc(x->lat, x->capr * sizeof *x->lat);
  x->fnet = wk_realloc(x->fnet, x->capr * sizeof *x->fnet);
  x->shared = wk_realloc(x->shared, x->capr * sizeof *x->shared);
  x->srate = wk_realloc(x->srate, x->capr * sizeof *x->srate);
}

/* splitmix64's finaliser: a bijection on 64 bits, so one changed input always changes the
 * output. The hashes below sum it over (position, value) so that they pipeline. */
static inline uint64_t mix64(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}
#define GOLDEN 0x9e3779b97f4a7c15ull

uint64_t coll_hash_cards(const uint32_t *cards, uint32_t n) {
  uint64_t h = mix64(n);
  for (uint32_t i = 0; i < n; i++) h += mix64(((uint64_t)i << 32 | cards[i]) ^ GOLDEN);
  return mix64(h);
}

/* Hash of the capacities of links[0..n): any change to one of them changes it. O(n). */
static uint64_t caps_hash(const coll_ctx *x, const uint32_t *links, uint32_t n) {
  const double *cap = hw_link_capacity(x->c);
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t bits;
    memcpy(&bits, &cap[links[i]], sizeof bits);
    h += mix64(bits ^ ((uint64_t)links[i] * GOLDEN));
  }
  return mix64(h);
}

/* The step time of phase ph from per-flow rates and route latencies (the slowest flow's
 * wire bytes / rate + latency, plus the per-step software overhead). The one formula for a
 * fresh solve and a cached one, so both give the same bits. OUT *fp (PH_LIST only, may be
 * NULL): the fingerprint of the flows' rank pairs. O(F). */
static double eval_step(const coll_plan *p, const coll_phase *ph, const double *rate,
                        const double *lat, const uint8_t *net, int anynet) {
  uint64_t nf = coll_phase_flows(p, ph);
  double t = 0;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d;
    double b;
    coll_flow_at(p, ph, f, &s, &d, &b);
    double wire = b / (net[f] ? COLL_EFF_NET : COLL_EFF_SCALEUP);
    double tf = wire > 0 ? (rate[f] > 0 ? wire / rate[f] : INFINITY) : 0;
    tf += lat[f];
    if (tf > t) t = tf;
  }
  return t + (anynet ? COLL_STEP_NET_S : COLL_STEP_SCALEUP_S);
}

/* What identifies a phase's solution, from one pass over group 0's flows (every group repeats
 * them): the fingerprint of its (source, destination) rank pairs, and whether it is timed by
 * counting flows per link (solve_count) rather than by max-min. Counting where it pays (edges
 * spread over channels and QPs, or several groups at once) and where it is exact for the
 * slowest flow: every flow that can share a link with another carries the same bytes (a ring
 * step's in-domain flows, and its network flows -- each edge's channel and QP shares --, which
 * use disjoint links). O(F / groups), no routes. */
static uint64_t phase_shape(const coll_ctx *x, const coll_plan *p, const coll_phase *ph,
                            int *counting) {
  uint64_t nf = coll_phase_flows1(p, ph), h = 0;
  double class_bytes[2] = {-1, -1}; /* the bytes of the scale-up and of the network flows */
  int uniform = 1;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d;
    double b;
    coll_flow_at(p, ph, f, &s, &d, &b);
    h += mix64(((uint64_t)s << 32 | d) ^ (f * GOLDEN));
    int network = !same_su(x, p->cards[s], p->cards[d]);
    if (class_bytes[network] < 0) class_bytes[network] = b;
    else if (class_bytes[network] != b) uniform = 0;
  }
  *counting = uniform && (p->ngroups > 1 || ph->spread > 1);
  return mix64(h ^ nf);
}

/* Routes flow f of phase ph into *r and notes whether it crosses the network (net[f]) and its
 * route latency (lat[f]); returns net[f]. */
static inline int route_flow(const coll_ctx *x, const coll_plan *p, const coll_phase *ph,
                             uint64_t f, hw_route *r, uint8_t *net, double *lat) {
  uint32_t s, d;
  double b;
  coll_flow_at(p, ph, f, &s, &d, &b);
  uint32_t cs = p->cards[s], cd = p->cards[d];
  hw_route_salted(x->c, cs, cd, coll_flow_salt(p, ph, f), r);
  net[f] = (uint8_t)!same_su(x, cs, cd);
  lat[f] = r->latency_s;
  return net[f];
}

/* Notes link l in x->ulink the first time a step's flow crosses it. */
static inline void count_link(coll_ctx *x, uint32_t l, uint32_t *nu) {
  if (!x->lcount[l]++) {
    if (*nu == x->capu) {
      x->capu = x->capu ? 2 * x->capu : 4096;
      x->ulink = wk_realloc(x->ulink, x->capu * sizeof *x->ulink);
    }
    x->ulink[(*nu)++] = l;
  }
}

/* One step of phase ph timed by counting (count_mode): with equal bytes, the slowest flow under
 * max-min is the one through the link with the most flows per unit capacity, at exactly
 * capacity / flows there (the first level of progressive filling, where every flow on that
 * link stops). Each flow gets min over its links of capacity / flows: its max-min rate or, off
 * the bottleneck, a lower bound, whose time never passes the slowest's but by a route latency.
 * Routes are computed twice (count, then read) rather than stored: 15 ns a route against the
 * memory of millions of hops. O(F h), no solver. Outputs as solve_step. */
static void solve_count(coll_ctx *x, const coll_plan *p, const coll_phase *ph, double *rate,
                        double *lat, uint8_t *net, uint32_t *nulink, int *anynet) {
  uint64_t nf = coll_phase_flows(p, ph);
  const double *cap = hw_link_capacity(x->c);
  uint32_t nu = 0;
  int any = 0;
  hw_route r;
  for (uint64_t f = 0; f < nf; f++) {
    any |= route_flow(x, p, ph, f, &r, net, lat);
    for (uint32_t k = 0; k < r.n; k++) count_link(x, r.link[k], &nu);
  }
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d;
    double b, worst = 0;
    coll_flow_at(p, ph, f, &s, &d, &b);
    hw_route_salted(x->c, p->cards[s], p->cards[d], coll_flow_salt(p, ph, f), &r);
    for (uint32_t k = 0; k < r.n; k++) {
      uint32_t l = r.link[k];
      double load = cap[l] > 0 ? x->lcount[l] / cap[l] : INFINITY;
      if (load > worst) worst = load;
    }
    rate[f] = worst > 0 ? 1 / worst : INFINITY;
  }
  for (uint32_t i = 0; i < nu; i++) x->lcount[x->ulink[i]] = 0;
  *nulink = nu;
  *anynet = any;
}

/* One step of phase ph solved from scratch into rate, lat, net (per flow) and
 * x->ulink[0..*nulink) (the distinct links used): routes of all its flows (salt = flow
 * index, so that flows of one pair in different channels may take different spines) and
 * max-min rates. A flow alone on every link of its route gets, under max-min, exactly the
 * smallest capacity on it; only the flows that share a link go to net_maxmin (in a ring or a
 * hierarchical phase most flows are alone: the solver's heap work is the cost, so this halves
 * it or better). O(F h) plus net_maxmin on the shared flows. OUT *anynet, *fp. */
static wk_errcode solve_step(coll_ctx *x, const coll_plan *p, const coll_phase *ph, double *rate,
                             double *lat, uint8_t *net, uint32_t *nulink, int *anynet,
                             wk_err *err) {
  uint64_t nf = coll_phase_flows(p, ph);
  grow_flows(x, nf);
  if (!x->lcount) x->lcount = wk_calloc(hw_nlinks(x->c), sizeof *x->lcount);
  const double *cap = hw_link_capacity(x->c);
  uint64_t used = 0;
  int any = 0;
  hw_route r;
  x->roff[0] = 0;
  for (uint64_t f = 0; f < nf; f++) {
    any |= route_flow(x, p, ph, f, &r, net, lat);
    if (used + r.n > x->caprl) {
      x->caprl = 2 * (used + r.n) > 4096 ? 2 * (used + r.n) : 4096;
      x->rlink = wk_realloc(x->rlink, x->caprl * sizeof *x->rlink);
    }
    for (uint32_t k = 0; k < r.n; k++) x->lcount[r.link[k]]++;
    memcpy(x->rlink + used, r.link, r.n * sizeof *r.link);
    used += r.n;
    WK_ASSERT(used <= UINT32_MAX);
    x->roff[f + 1] = (uint32_t)used;
  }
  *anynet = any;
  /* Mark each hop whose link carries another flow of the step (top bit), then clear the
   * counts, listing each distinct link once as its count is cleared. */
  const uint32_t MARK = 0x80000000u;
  WK_ASSERT(hw_nlinks(x->c) < MARK);
  if (used > x->capu) {
    x->capu = used > 2 * x->capu ? used : 2 * x->capu;
    x->ulink = wk_realloc(x->ulink, x->capu * sizeof *x->ulink);
  }
  uint32_t nu = 0;
  for (uint64_t k = 0; k < used; k++)
    if (x->lcount[x->rlink[k]] > 1) x->rlink[k] |= MARK;
  for (uint64_t k = 0; k < used; k++) {
    uint32_t l = x->rlink[k] & ~MARK;
    if (x->lcount[l]) x->ulink[nu++] = l, x->lcount[l] = 0;
  }
  *nulink = nu;
  /* Solve lone flows here and compact the others in place into a CSR for the solver. A
   * shared flow keeps its shared links, plus the slowest of its private links only when that
   * one is slower than every shared link: links private to one flow act only as a cap, the
   * smallest cap is the only one that can bind, and it cannot bind below a shared link's
   * capacity (the flow's rate never passes that). Compaction is safe in place: iteration i
   * writes roff[i] and reads roff[f], roff[f + 1] with f = shared[i] >= i; routes only move
   * towards the front. */
  uint32_t ns = 0, out = 0;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t a = x->roff[f], e = x->roff[f + 1], priv = MARK, nshared = 0;
    double mincap = INFINITY, minshared = INFINITY;
    for (uint32_t k = a; k < e; k++) {
      uint32_t l = x->rlink[k];
      if (l & MARK) {
        nshared++;
        if (cap[l & ~MARK] < minshared) minshared = cap[l & ~MARK];
      } else if (cap[l] < mincap) {
        mincap = cap[l];
        priv = l;
      }
    }
    if (!nshared) {
      rate[f] = mincap;
      continue;
    }
    x->shared[ns] = (uint32_t)f;
    x->roff[ns++] = out;
    for (uint32_t k = a; k < e; k++)
      if (x->rlink[k] & MARK) x->rlink[out++] = x->rlink[k] & ~MARK;
    if (priv != MARK && mincap < minshared) x->rlink[out++] = priv;
  }
  if (ns) {
    x->roff[ns] = out;
    wk_errcode e = ensure_sim(x, 1, err); /* made on first need: counting and lone flows
                                             never touch the engine */
    if (!e) e = net_maxmin(x->sim, ns, x->roff, x->rlink, x->srate);
    if (e) return wk_err_set(err, e, NULL, 0, 0, "flow engine refused a step's flows");
    for (uint32_t i = 0; i < ns; i++) rate[x->shared[i]] = x->srate[i];
  }
  return WK_OK;
}

/* A phase's solution is found by what it is, not by the collective it belongs to: (the cards of
 * every group, n, groups, kind, shift, flows, their fingerprint, counting or max-min). Rates do
 * not depend on the bytes, so the one step of a ring all-gather, reduce-scatter and all-reduce
 * on the same cards, or a hierarchical algorithm's ring across domains, share one solve. */
static uint64_t phase_key(const coll_ctx *x, const coll_plan *p, const coll_phase *ph,
                          uint64_t fp, int counting) {
  uint64_t h = mix64(x->cards_hash ^ p->n);
  h = mix64(h ^ p->ngroups);
  h = mix64(h ^ ((uint64_t)counting << 40 | (uint64_t)ph->kind << 32 | ph->shift));
  h = mix64(h ^ fp);
  return mix64(h ^ ph->nflows);
}

static coll_solved *cache_find(coll_ctx *x, uint64_t key, const coll_plan *p,
                               const coll_phase *ph, uint64_t fp, int counting) {
  for (uint32_t e = x->bucket[key % COLL_CACHE_BUCKETS]; e; e = x->sol[e - 1].next) {
    coll_solved *s = &x->sol[e - 1];
    if (s->key == key && s->cards_hash == x->cards_hash && s->n == p->n &&
        s->ngroups == p->ngroups && s->counting == counting && s->kind == ph->kind &&
        s->shift == ph->shift && s->nflows == ph->nflows && s->flows_fp == fp)
      return s;
  }
  return NULL;
}

static size_t solved_bytes(uint64_t nf, uint32_t nlinks) {
  return sizeof(coll_solved) + nf * (2 * sizeof(double) + 1) + nlinks * sizeof(uint32_t);
}

static void solved_free(coll_solved *s) {
  wk_free(s->links);
  wk_free(s->rate);
  wk_free(s->lat);
  wk_free(s->net);
}

void coll_cache_clear(coll_ctx *x) {
  for (uint32_t i = 0; i < x->nsol; i++) solved_free(&x->sol[i]);
  x->nsol = 0;
  x->sol_bytes = 0;
  memset(x->bucket, 0, sizeof x->bucket);
}

/* A cache entry for phase i of p with room for its flows, replacing `old` (a stale entry of
 * the same key) when given; NULL when the phase is larger than half the budget (it is then
 * not kept). Entries are dropped all at once when the cache would pass its budget. The
 * solve writes straight into the entry's arrays; cache_seal then records its links. */
static coll_solved *cache_slot(coll_ctx *x, coll_solved *old, uint64_t key, const coll_plan *p,
                               const coll_phase *ph, uint64_t fp, int counting) {
  uint64_t nf = coll_phase_flows(p, ph);
  size_t sz = solved_bytes(nf, 0);
  if (sz > x->cache_max_bytes / 2) return NULL;
  if (old) { /* same key: reuse the slot */
    x->sol_bytes -= solved_bytes(nf, old->nlinks);
    solved_free(old);
  } else {
    if (x->sol_bytes + sz > x->cache_max_bytes || x->nsol == COLL_CACHE_MAX_ENTRIES)
      coll_cache_clear(x);
    if (x->nsol == x->capsol) {
      x->capsol = x->capsol ? 2 * x->capsol : 16;
      x->sol = wk_realloc(x->sol, x->capsol * sizeof *x->sol);
    }
    old = &x->sol[x->nsol++];
    old->next = x->bucket[key % COLL_CACHE_BUCKETS];
    x->bucket[key % COLL_CACHE_BUCKETS] = x->nsol;
  }
  coll_solved *s = old;
  s->key = key;
  s->cards_hash = x->cards_hash;
  s->n = p->n;
  s->ngroups = p->ngroups;
  s->shift = ph->shift;
  s->nflows = ph->nflows;
  s->counting = (uint8_t)counting;
  s->kind = (uint8_t)ph->kind;
  s->anynet = 0;
  s->flows_fp = fp;
  s->nlinks = 0;
  s->caps_hash = ~0ull; /* unsealed only while its phase is being solved */
  s->links = NULL;
  s->rate = wk_malloc((size_t)(nf ? nf : 1) * sizeof *s->rate);
  s->lat = wk_malloc((size_t)(nf ? nf : 1) * sizeof *s->lat);
  s->net = wk_malloc((size_t)(nf ? nf : 1));
  x->sol_bytes += sz;
  return s;
}

static void cache_seal(coll_ctx *x, coll_solved *s, uint32_t nu, int anynet) {
  s->anynet = (uint8_t)anynet;
  s->nlinks = nu;
  s->links = wk_malloc((nu ? nu : 1) * sizeof *s->links);
  memcpy(s->links, x->ulink, nu * sizeof *s->links);
  s->caps_hash = caps_hash(x, s->links, nu);
  x->sol_bytes += nu * sizeof *s->links;
}

/* Step time of phase i of p: from the cache when the phase was solved before on the same
 * cards and the capacities of its links are unchanged (O(F + links)), else solved and kept. */
static wk_errcode step_l1(coll_ctx *x, const coll_plan *p, uint32_t i, double *step,
                          wk_err *err) {
  const coll_phase *ph = &p->ph[i];
  uint64_t nf = coll_phase_flows(p, ph);
  int counting;
  uint64_t fp = phase_shape(x, p, ph, &counting), key = phase_key(x, p, ph, fp, counting);
  coll_solved *s = cache_find(x, key, p, ph, fp, counting);
  if (s && caps_hash(x, s->links, s->nlinks) == s->caps_hash) {
    x->hits++;
    *step = eval_step(p, ph, s->rate, s->lat, s->net, s->anynet);
    return WK_OK;
  }
  coll_solved *dst = cache_slot(x, s, key, p, ph, fp, counting);
  /* before taking x's buffers: growing them later would move them */
  if (!counting || !dst) grow_flows(x, nf);
  if (!x->lcount) x->lcount = wk_calloc(hw_nlinks(x->c), sizeof *x->lcount);
  double *rate = dst ? dst->rate : x->rate, *lat = dst ? dst->lat : x->lat;
  uint8_t *net = dst ? dst->net : x->fnet;
  uint32_t nu;
  int anynet;
  wk_errcode e = WK_OK;
  if (counting) solve_count(x, p, ph, rate, lat, net, &nu, &anynet);
  else e = solve_step(x, p, ph, rate, lat, net, &nu, &anynet, err);
  if (e) {
    if (dst) coll_cache_clear(x); /* drop the half-made entry */
    return e;
  }
  x->solves++;
  *step = eval_step(p, ph, rate, lat, net, anynet);
  if (dst) cache_seal(x, dst, nu, anynet);
  return WK_OK;
}

wk_errcode coll_l1(coll_ctx *x, const coll_plan *p, double *time_s, wk_err *err) {
  wk_errcode e = coll_check_l1(x, p, err);
  if (!e) e = check_memory(x, 1, 0, 0, err); /* the engine itself is made on first need */
  if (e) return e;
  if (p->nph > x->capmemo) {
    x->capmemo = p->nph;
    x->memo = wk_realloc(x->memo, x->capmemo * sizeof *x->memo);
  }
  double t = COLL_BASE_LAT_S;
  for (uint32_t i = 0; i < p->nph; i++) {
    const coll_phase *ph = &p->ph[i];
    if (ph->same_as >= 0) {
      x->memo[i] = x->memo[ph->same_as];
    } else if ((e = step_l1(x, p, i, &x->memo[i], err))) {
      return e;
    }
    t += ph->repeat * x->memo[i];
  }
  *time_s = t;
  return WK_OK;
}

/* ---- L2 ----------------------------------------------------------------------------------- */
/* L1's per-flow scratch is kept between calls so that L1 sweeps allocate nothing, but an L2 run
 * does not use it: after an L1 solve of a 16.8 M-flow all-to-all it holds ~0.9 GB that would
 * sit beside L2's own tables. Dropped here, grown again by the next L1 solve. */
static void drop_l1_scratch(coll_ctx *x) {
  void *p[] = {x->roff, x->rate, x->lat, x->fnet, x->shared, x->srate, x->rlink, x->ulink};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) wk_free(p[i]);
  x->roff = x->rlink = x->shared = x->ulink = NULL;
  x->rate = x->lat = x->srate = NULL;
  x->fnet = NULL;
  x->capr = x->caprl = x->capu = 0;
}

typedef struct l2_job {
  const coll_plan *p;
  uint32_t ph;   /* current phase */
  double rep;    /* steps of it started so far */
  double ov;     /* software overhead of the step in flight */
  double end;
} l2_job;

/* Adds every flow of job j's current step at time t, tagged with group j. */
static wk_errcode start_step(coll_ctx *x, l2_job *jb, uint32_t j, double t, wk_err *err) {
  const coll_plan *p = jb->p;
  const coll_phase *ph = &p->ph[jb->ph];
  uint64_t nf = coll_phase_flows(p, ph);
  int anynet = 0;
  hw_route r;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d, id;
    double b;
    coll_flow_at(p, ph, f, &s, &d, &b);
    uint32_t cs = p->cards[s], cd = p->cards[d];
    hw_route_salted(x->c, cs, cd, coll_flow_salt(p, ph, f), &r);
    int su = same_su(x, cs, cd);
    anynet |= !su;
    net_flow_spec sp = {r.link, r.n, b / (su ? COLL_EFF_SCALEUP : COLL_EFF_NET), t, j, 0};
    wk_errcode e = net_flow_add(x->sim, &sp, &id);
    if (e) return wk_err_set(err, e, NULL, 0, 0, "flow engine refused a flow of job %u", j);
  }
  jb->ov = anynet ? COLL_STEP_NET_S : COLL_STEP_SCALEUP_S;
  jb->rep += 1;
  return WK_OK;
}

wk_errcode coll_l2(coll_ctx *x, coll_plan *const *plans, uint32_t k, double *time_s,
                   wk_err *err) {
  if (k >= NET_MAX_GROUPS) return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "too many jobs");
  wk_errcode e = coll_check_l2(x, plans, k, err);
  if (!e) e = ensure_sim(x, 2, err);
  if (e) return e;
  double total = 0;
  for (uint32_t j = 0; j < k; j++)
    for (uint32_t i = 0; i < plans[j]->nph; i++)
      total += plans[j]->ph[i].repeat * (double)coll_phase_flows(plans[j], &plans[j]->ph[i]);
  drop_l1_scratch(x);
  l2_job *jobs = wk_calloc(k ? k : 1, sizeof *jobs);
  net_sim_reset(x->sim);
  if (x->progress) net_sim_set_tick(x->sim, COLL_L2_TICK);
  for (uint32_t j = 0; j < k && !e; j++) {
    jobs[j].p = plans[j];
    jobs[j].end = INFINITY;
    if (plans[j]->nph == 0) jobs[j].end = COLL_BASE_LAT_S;
    else e = start_step(x, &jobs[j], j, 0.0, err);
  }
  net_note note;
  while (!e && net_sim_next(x->sim, &note)) {
    if (x->progress && note.kind != NET_NOTE_FLOW)
      x->progress(x->progress_arg, (double)net_sim_completed(x->sim) / (total > 0 ? total : 1));
    if (note.kind != NET_NOTE_GROUP || note.id >= k) continue;
    l2_job *jb = &jobs[note.id];
    double t = note.time_s + jb->ov;
    if (jb->rep >= jb->p->ph[jb->ph].repeat) {
      jb->ph++;
      jb->rep = 0;
    }
    if (jb->ph == jb->p->nph) jb->end = t + COLL_BASE_LAT_S;
    else e = start_step(x, jb, note.id, t, err);
  }
  for (uint32_t j = 0; j < k; j++) time_s[j] = jobs[j].end;
  net_sim_reset(x->sim);
  wk_free(jobs);
  return e;
}
