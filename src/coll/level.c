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
  double su = 0, net = 0;
  for (uint32_t i = 0; i < n; i++) {
    su = fmax(su, fmax(out_su[i], in_su[i]));
    net = fmax(net, fmax(out_net[i], in_net[i]));
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

/* ---- L1 ----------------------------------------------------------------------------------- */
static wk_errcode ensure_sim(coll_ctx *x, wk_err *err) {
  if (x->sim) return WK_OK;
  x->sim = net_sim_new(hw_nlinks(x->c), hw_link_capacity(x->c), hw_link_latency(x->c), err);
  return x->sim ? WK_OK : (err ? err->code : WK_EVALUE);
}

static void grow_flows(coll_ctx *x, uint64_t nf) {
  if (nf + 1 <= x->capr) return;
  x->capr = nf + 1 > 2 * x->capr ? nf + 1 : 2 * x->capr;
  x->roff = wk_realloc(x->roff, x->capr * sizeof *x->roff);
  x->rate = wk_realloc(x->rate, x->capr * sizeof *x->rate);
  x->wire = wk_realloc(x->wire, x->capr * sizeof *x->wire);
  x->lat = wk_realloc(x->lat, x->capr * sizeof *x->lat);
  x->shared = wk_realloc(x->shared, x->capr * sizeof *x->shared);
  x->srate = wk_realloc(x->srate, x->capr * sizeof *x->srate);
}

/* One step of phase ph: routes of all its flows (salt = flow index, so that flows of one
 * pair in different channels may take different spines), max-min rates, and the slowest
 * flow's bytes/rate + route latency. A flow alone on every link of its route gets, under
 * max-min, exactly the smallest capacity on it; only the flows that share a link go to
 * net_maxmin (in a ring or a hierarchical phase most flows are alone: the solver's heap work
 * is the cost, so this halves it or better). O(F h) plus net_maxmin on the shared flows. */
static wk_errcode step_l1(coll_ctx *x, const coll_plan *p, const coll_phase *ph, double *step,
                          wk_err *err) {
  uint64_t nf = coll_phase_flows(p, ph);
  if (nf > COLL_L1_MAX_FLOWS)
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "level 1 would solve %llu concurrent flows in one step (limit %u): use "
                      "level 0, fewer cards or another algorithm (e.g. pairwise)",
                      (unsigned long long)nf, COLL_L1_MAX_FLOWS);
  grow_flows(x, nf);
  if (!x->lcount) x->lcount = wk_calloc(hw_nlinks(x->c), sizeof *x->lcount);
  const double *cap = hw_link_capacity(x->c);
  uint64_t used = 0;
  int anynet = 0;
  hw_route r;
  x->roff[0] = 0;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t s, d;
    double b;
    coll_flow_at(p, ph, f, &s, &d, &b);
    uint32_t cs = p->cards[s], cd = p->cards[d];
    hw_route_salted(x->c, cs, cd, f, &r);
    if (used + r.n > x->caprl) {
      x->caprl = 2 * (used + r.n) > 4096 ? 2 * (used + r.n) : 4096;
      x->rlink = wk_realloc(x->rlink, x->caprl * sizeof *x->rlink);
    }
    for (uint32_t k = 0; k < r.n; k++) x->lcount[r.link[k]]++;
    memcpy(x->rlink + used, r.link, r.n * sizeof *r.link);
    used += r.n;
    WK_ASSERT(used <= UINT32_MAX);
    x->roff[f + 1] = (uint32_t)used;
    int su = same_su(x, cs, cd);
    anynet |= !su;
    x->wire[f] = b / (su ? COLL_EFF_SCALEUP : COLL_EFF_NET);
    x->lat[f] = r.latency_s;
  }
  /* Mark each hop whose link carries another flow of the step (top bit), clear the counts,
   * then solve lone flows here and compact the others in place into a CSR for the solver.
   * A shared flow keeps its shared links plus the slowest of its private links: under
   * max-min, links private to one flow act only as a cap, and the smallest cap is the only
   * one that can bind. Compaction is safe in place: iteration i writes roff[i] and reads
   * roff[f], roff[f + 1] with f = shared[i] >= i; routes only move towards the front. */
  const uint32_t MARK = 0x80000000u;
  WK_ASSERT(hw_nlinks(x->c) < MARK);
  for (uint64_t k = 0; k < used; k++)
    if (x->lcount[x->rlink[k]] > 1) x->rlink[k] |= MARK;
  for (uint64_t k = 0; k < used; k++) x->lcount[x->rlink[k] & ~MARK] = 0;
  uint32_t ns = 0, out = 0;
  for (uint64_t f = 0; f < nf; f++) {
    uint32_t a = x->roff[f], e = x->roff[f + 1], priv = MARK, nshared = 0;
    double mincap = INFINITY;
    for (uint32_t k = a; k < e; k++) {
      uint32_t l = x->rlink[k];
      if (l & MARK) {
        nshared++;
      } else if (cap[l] < mincap) {
        mincap = cap[l];
        priv = l;
      }
    }
    if (!nshared) {
      x->rate[f] = mincap;
      continue;
    }
    x->shared[ns] = (uint32_t)f;
    x->roff[ns++] = out;
    for (uint32_t k = a; k < e; k++)
      if (x->rlink[k] & MARK) x->rlink[out++] = x->rlink[k] & ~MARK;
    if (priv != MARK) x->rlink[out++] = priv;
  }
  if (ns) {
    x->roff[ns] = out;
    wk_errcode e = net_maxmin(x->sim, ns, x->roff, x->rlink, x->srate);
    if (e) return wk_err_set(err, e, NULL, 0, 0, "flow engine refused a step's flows");
    for (uint32_t i = 0; i < ns; i++) x->rate[x->shared[i]] = x->srate[i];
  }
  double t = 0;
  for (uint64_t f = 0; f < nf; f++) {
    double tf = x->wire[f] > 0 ? (x->rate[f] > 0 ? x->wire[f] / x->rate[f] : INFINITY) : 0;
    tf += x->lat[f];
    if (tf > t) t = tf;
  }
  *step = t + (anynet ? COLL_STEP_NET_S : COLL_STEP_SCALEUP_S);
  return WK_OK;
}

wk_errcode coll_l1(coll_ctx *x, const coll_plan *p, double *time_s, wk_err *err) {
  wk_errcode e = ensure_sim(x, err);
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
    } else if ((e = step_l1(x, p, ph, &x->memo[i], err))) {
      return e;
    }
    t += ph->repeat * x->memo[i];
  }
  *time_s = t;
  return WK_OK;
}

/* ---- L2 ----------------------------------------------------------------------------------- */
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
    hw_route_salted(x->c, cs, cd, f, &r);
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
  wk_errcode e = ensure_sim(x, err);
  if (e) return e;
  if (k >= NET_MAX_GROUPS) return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "too many jobs");
  double total = 0;
  for (uint32_t j = 0; j < k; j++)
    for (uint32_t i = 0; i < plans[j]->nph; i++)
      total += plans[j]->ph[i].repeat * (double)coll_phase_flows(plans[j], &plans[j]->ph[i]);
  if (total > COLL_L2_MAX_FLOWS)
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "level 2 would simulate %.3g flows (limit %.3g): use level 1, fewer "
                      "cards or a smaller size", total, COLL_L2_MAX_FLOWS);
  l2_job *jobs = wk_calloc(k ? k : 1, sizeof *jobs);
  net_sim_reset(x->sim);
  for (uint32_t j = 0; j < k && !e; j++) {
    jobs[j].p = plans[j];
    jobs[j].end = INFINITY;
    if (plans[j]->nph == 0) jobs[j].end = COLL_BASE_LAT_S;
    else e = start_step(x, &jobs[j], j, 0.0, err);
  }
  net_note note;
  while (!e && net_sim_next(x->sim, &note)) {
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
