/* plan.c — the layout planner: every (TP, CP, PP, DP, EP, micro-batch, recompute, ZeRO) that
 * divides the model and the cards (uneven pipeline stages included, VPP the fastest) is timed
 * with the training-step model, those that do not fit in HBM are dropped, and the fastest are
 * kept. Collective timings are cached in the
 * work_ctx, so the sweep costs a few microseconds per layout once the cache is warm. */
#include "work_int.h"

#include <math.h>
#include <string.h>

/* TP stays inside one scale-up domain and at most 64 wide (beyond that the per-card GEMMs are
 * too thin to be worth it on any preset); CP up to 32. */
#define PLAN_MAX_TP 64
#define PLAN_MAX_CP 32
#define PLAN_MAX_MBS 16
/* Layouts that do not fit kept to explain what memory cost (keep_unfit). */
#define PLAN_MAX_UNFIT 64
/* EP candidates: the divisors of gcd(experts, dp) -- at most a few hundred for experts <=
 * WORK_MAX_EXPERTS. */
#define PLAN_MAX_EP_CANDIDATES 512

/* Work bound: TP (7 powers of two) x CP (6) x PP (sizes dividing the cards, <= 1024) x EP
 * (divisors) x micro-batch (<= 16) x recompute (3) x ZeRO (4) layouts, each O(VPP candidates x
 * pp * vpp) to time (VPP is chosen inside work_train_step); the loops step only over
 * candidates, never over 1..layers or 1..experts, so a model at the work.h limits plans in
 * bounded time. */

/* The divisors of n in ascending order into d[] (at most cap of them); returns how many.
 * O(sqrt n). */
static int divisors(uint32_t n, uint32_t *d, int cap) {
  int lo = 0, hi = 0;
  uint32_t big[PLAN_MAX_EP_CANDIDATES];
  for (uint32_t i = 1; (uint64_t)i * i <= n; i++) {
    if (n % i) continue;
    if (lo < cap) d[lo++] = i;
    if (i != n / i && hi < PLAN_MAX_EP_CANDIDATES) big[hi++] = n / i;
  }
  while (hi > 0 && lo < cap) d[lo++] = big[--hi];
  return lo;
}

static uint32_t gcd_u32(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

typedef struct plan_state {
  work_plan_entry *out;
  int top, n;
  work_plan_entry closest; /* least memory when nothing fits */
  int have_closest;
  work_plan_entry *unfit; /* [PLAN_MAX_UNFIT]: see keep_unfit */
  int nunfit;
} plan_state;

/* Layouts that do not fit, kept on their (step time, memory) Pareto front, so that the one
 * needing least memory among those faster than the winner can say what memory cost. Dropping
 * the slowest when full keeps the fast end, the only one asked about. O(PLAN_MAX_UNFIT) per
 * layout that does not fit. */
static void keep_unfit(plan_state *st, const work_job *j, const work_result *r) {
  for (int i = 0; i < st->nunfit; i++) {
    const work_result *o = &st->unfit[i].res;
    if (o->step_time_s <= r->step_time_s && o->mem.total <= r->mem.total) return; /* dominated */
  }
  int k = 0, slowest = 0;
  for (int i = 0; i < st->nunfit; i++) { /* drop those r dominates */
    const work_result *o = &st->unfit[i].res;
    if (!(r->step_time_s <= o->step_time_s && r->mem.total <= o->mem.total)) st->unfit[k++] = st->unfit[i];
  }
  st->nunfit = k;
  for (int i = 1; i < k; i++)
    if (st->unfit[i].res.step_time_s > st->unfit[slowest].res.step_time_s) slowest = i;
  if (k == PLAN_MAX_UNFIT && r->step_time_s >= st->unfit[slowest].res.step_time_s) return;
  int at = k == PLAN_MAX_UNFIT ? slowest : st->nunfit++;
  st->unfit[at].job = *j;
  st->unfit[at].res = *r;
}

static void keep(plan_state *st, const work_job *j, const work_result *r) {
  if (!r->fits) keep_unfit(st, j, r);
  if (!r->fits) {
    if (!st->have_closest || r->mem.total < st->closest.res.mem.total) {
      st->closest.job = *j;
      st->closest.res = *r;
      st->have_closest = 1;
    }
    return;
  }
  if (st->n == st->top && r->step_time_s >= st->out[st->n - 1].res.step_time_s) return;
  int i = st->n < st->top ? st->n++ : st->n - 1;
  while (i > 0 && st->out[i - 1].res.step_time_s > r->step_time_s) {
    st->out[i] = st->out[i - 1];
    i--;
  }
  st->out[i].job = *j;
  st->out[i].res = *r;
}

wk_errcode work_plan(work_ctx *x, const work_model *m, const work_plan_opts *o,
                     work_plan_entry *out, int *nout, work_plan_stats *stats, wk_err *err) {
  memset(stats, 0, sizeof *stats);
  *nout = 0;
  const hw_cluster *c = work_ctx_cluster(x);
  if (o->cards < 1 || o->cards > hw_cards(c))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "--cards %u: the cluster has %u cards",
                      o->cards, hw_cards(c));
  if (o->top < 1) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "top must be at least 1");
  work_model checked = *m; /* the size limits bound the loops below */
  wk_errcode mrc = work_model_check(&checked, err);
  if (mrc) return mrc;
  if ((mrc = work_attn_check(&hw_cfg(c)->accel, o->attn, err))) return mrc;
  plan_state st;
  memset(&st, 0, sizeof st);
  st.out = out;
  st.top = o->top;
  st.unfit = wk_malloc(sizeof *st.unfit * PLAN_MAX_UNFIT);
  uint32_t N = o->cards, su = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  /* the (TP, CP, PP) groups, counted first for the progress bar: one unit each */
  double groups = 0, done = 0;
  for (uint32_t tp = 1; o->progress && tp <= PLAN_MAX_TP && tp <= su; tp *= 2) {
    if (N % tp || m->heads % (int)tp || m->ffn_hidden % (int)tp) continue;
    if (m->kv_heads % (int)tp && (int)tp % m->kv_heads) continue;
    for (uint32_t cp = 1; cp <= PLAN_MAX_CP; cp *= 2) {
      if (N % (tp * cp) || (cp > 1 && o->seq % (2 * (int)cp))) continue;
      for (uint32_t pp = 1; pp <= N / (tp * cp) && pp <= (uint32_t)m->layers && pp <= WORK_MAX_PP; pp++)
        groups += N % (tp * cp * pp) == 0;
    }
  }
  for (uint32_t tp = 1; tp <= PLAN_MAX_TP && tp <= su; tp *= 2) {
    if (N % tp || m->heads % (int)tp || m->ffn_hidden % (int)tp) continue;
    if (m->kv_heads % (int)tp && (int)tp % m->kv_heads) continue;
    for (uint32_t cp = 1; cp <= PLAN_MAX_CP; cp *= 2) {
      if (N % (tp * cp) || (cp > 1 && o->seq % (2 * (int)cp))) continue;
      uint32_t max_pp = N / (tp * cp);
      if (max_pp > (uint32_t)m->layers) max_pp = (uint32_t)m->layers;
      if (max_pp > WORK_MAX_PP) max_pp = WORK_MAX_PP;
      for (uint32_t pp = 1; pp <= max_pp; pp++) {
        if (N % (tp * cp * pp)) continue; /* uneven stages are split by work_train_step */
        if (o->progress && groups > 0) o->progress(o->progress_ctx, fmin(1, done++ / groups));
        uint32_t dp = N / (tp * cp * pp);
        if (o->gbs % (int)dp) continue;
        int per_replica = o->gbs / (int)dp;
        uint32_t eps[PLAN_MAX_EP_CANDIDATES];
        int neps = divisors(m->experts ? gcd_u32((uint32_t)m->experts, dp) : 1, eps,
                            PLAN_MAX_EP_CANDIDATES);
        for (int ie = 0; ie < neps; ie++) {
          int ep = (int)eps[ie];
          for (int mbs = 1; mbs <= PLAN_MAX_MBS && mbs <= per_replica; mbs++) {
            if (per_replica % mbs) continue;
            for (int rc = WORK_RECOMPUTE_NONE; rc <= WORK_RECOMPUTE_FULL; rc++) {
              /* with flash attention selective recomputation has nothing left to drop */
              if (rc == WORK_RECOMPUTE_SELECTIVE && o->attn != WORK_ATTN_UNFUSED) continue;
              for (int zero = 0; zero <= 3; zero++) {
                if (zero && dp * cp == 1) continue; /* nothing to shard over */
                work_job j;
                work_job_init(&j);
                j.model = *m;
                j.seq = o->seq;
                j.gbs = o->gbs;
                j.tp = (int)tp;
                j.cp = (int)cp;
                j.pp = (int)pp;
                j.vpp = 0; /* the fastest that fits, as work_train_step chooses it */
                j.dp = (int)dp;
                j.ep = ep;
                j.mbs = mbs;
                j.recompute = (work_recompute)rc;
                j.zero = zero;
                j.dtype = o->dtype;
                j.attn = o->attn;
                j.level = o->level;
                stats->enumerated++;
                work_result r;
                wk_errcode e = work_train_step(x, &j, &r, err);
                if (e == WK_EVALUE) continue; /* a constraint the loops do not encode */
                if (e) {
                  wk_free(st.unfit);
                  return e;
                }
                stats->evaluated++;
                if (r.fits) stats->fitting++;
                j.vpp = r.vpp; /* as resolved, so that the entry reruns as it was timed */
                int even = r.layers_first == r.layers_last &&
                           (pp == 2 || r.layers_mid == r.layers_first);
                if (pp > 1 && !even) {
                  j.pp_first = r.layers_first;
                  j.pp_last = r.layers_last;
                }
                keep(&st, &j, &r);
              }
            }
          }
        }
      }
    }
  }
  *nout = st.n;
  for (int i = 0; i < st.nunfit && st.n; i++) /* faster than the winner, least memory */
    if (st.unfit[i].res.step_time_s < out[0].res.step_time_s &&
        (!stats->have_unfit || st.unfit[i].res.mem.total < stats->unfit.res.mem.total)) {
      stats->unfit = st.unfit[i];
      stats->have_unfit = 1;
    }
  wk_free(st.unfit);
  if (!st.n) {
    if (!st.have_closest)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "no layout of %s divides %u cards (heads %d, layers %d, gbs %d)", m->name,
                        N, m->heads, m->layers, o->gbs);
    char adv[400];
    return wk_err_set(err, WK_ECAPACITY, NULL, 0, 0,
                      "no layout of %s fits on %u cards; the closest (tp %d pp %d dp %d) %s",
                      m->name, N, st.closest.job.tp, st.closest.job.pp, st.closest.job.dp,
                      work_fit_advice(&st.closest.job, &st.closest.res, adv, sizeof adv));
  }
  return WK_OK;
}

/* ---- why a layout lost ------------------------------------------------------------------ */
/* What differs between two layouts, as "VPP 6 vs 12" (the first few fields that do). */
static size_t layout_diff(const work_job *a, const work_job *b, char *buf, size_t n) {
  const struct {
    const char *name;
    int va, vb;
  } f[] = {{"TP", a->tp, b->tp},       {"PP", a->pp, b->pp},    {"VPP", a->vpp, b->vpp},
           {"DP", a->dp, b->dp},       {"CP", a->cp, b->cp},    {"EP", a->ep, b->ep},
           {"mbs", a->mbs, b->mbs},    {"ZeRO", a->zero, b->zero},
           {"first stage layers", a->pp_first, b->pp_first}};
  size_t k = 0;
  int shown = 0;
  for (size_t i = 0; i < sizeof f / sizeof f[0] && shown < 3 && k < n; i++)
    if (f[i].va != f[i].vb) {
      k += (size_t)snprintf(buf + k, n - k, "%s%s %d vs %d", shown ? ", " : "", f[i].name,
                            f[i].va, f[i].vb);
      shown++;
    }
  if (a->recompute != b->recompute && shown < 3 && k < n)
    k += (size_t)snprintf(buf + k, n - k, "%srecompute %s vs %s", shown ? ", " : "",
                          work_recompute_name(a->recompute), work_recompute_name(b->recompute));
  return k < n ? k : n;
}

const char *work_plan_explain(const work_plan_entry *best, const work_plan_entry *other,
                              char *buf, size_t n) {
  const work_result *b = &best->res, *o = &other->res;
  char diff[160] = "";
  layout_diff(&other->job, &best->job, diff, sizeof diff);
  if (!o->fits) {
    snprintf(buf, n,
             "would take %.3g s less but needs %.1f GB per card of %.1f (activations %.1f, "
             "weights + grads + optimizer %.1f)%s%s",
             b->step_time_s - o->step_time_s, o->mem.total / 1e9, o->hbm_bytes / 1e9,
             o->mem.activations / 1e9, (o->mem.weights + o->mem.grads + o->mem.optimizer) / 1e9,
             diff[0] ? ": " : "", diff);
    return buf;
  }
  const struct {
    const char *name;
    double d;
  } parts[] = {{"compute", o->b.compute - b->b.compute}, {"exposed TP", o->b.tp - b->b.tp},
               {"exposed PP", o->b.pp - b->b.pp},        {"exposed DP", o->b.dp - b->b.dp},
               {"exposed EP", o->b.ep - b->b.ep},        {"exposed CP", o->b.cp - b->b.cp},
               {"bubble", o->b.bubble - b->b.bubble},    {"overlap", o->b.overlap - b->b.overlap},
               {"optimizer", o->b.optimizer - b->b.optimizer}};
  enum { NPARTS = sizeof parts / sizeof parts[0] };
  int order[NPARTS], np = 0;
  for (int i = 0; i < NPARTS; i++) { /* the parts that cost more, largest first */
    if (!(parts[i].d > 1e-4 * b->step_time_s)) continue;
    int k = np++;
    while (k > 0 && parts[order[k - 1]].d < parts[i].d) order[k] = order[k - 1], k--;
    order[k] = i;
  }
  size_t k = (size_t)snprintf(buf, n, "+%.3g s (%+.1f %%)", o->step_time_s - b->step_time_s,
                              100 * (o->step_time_s / b->step_time_s - 1));
  for (int i = 0; i < np && i < 3 && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s %s +%.3g s", i ? "," : ":", parts[order[i]].name,
                          parts[order[i]].d);
  if (!np && k < n) k += (size_t)snprintf(buf + k, n - k, ": the same time to rounding");
  int save = 0; /* what it gains back, if anything: the largest saving */
  for (int i = 1; i < NPARTS; i++)
    if (parts[i].d < parts[save].d) save = i;
  if (np && parts[save].d < -1e-4 * b->step_time_s && k < n)
    k += (size_t)snprintf(buf + k, n - k, "; saves %s %.3g s", parts[save].name, -parts[save].d);
  if (diff[0] && k < n) snprintf(buf + k, n - k, " (%s)", diff);
  return buf;
}
