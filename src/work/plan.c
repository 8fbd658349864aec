/* plan.c — the layout planner: every (TP, CP, PP, VPP, DP, EP, micro-batch, recompute, ZeRO)
 * that divides the model and the cards is timed with the training-step model, those that do
 * not fit in HBM are dropped, and the fastest are kept. Collective timings are cached in the
 * work_ctx, so the sweep costs a few microseconds per layout once the cache is warm. */
#include "work_int.h"

#include <string.h>

/* TP stays inside one scale-up domain and at most 64 wide (beyond that the per-card GEMMs are
 * too thin to be worth it on any preset); CP up to 32. */
#define PLAN_MAX_TP 64
#define PLAN_MAX_CP 32
#define PLAN_MAX_MBS 16

typedef struct plan_state {
  work_plan_entry *out;
  int top, n;
  work_plan_entry closest; /* least memory when nothing fits */
  int have_closest;
} plan_state;

static void keep(plan_state *st, const work_job *j, const work_result *r) {
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
  plan_state st;
  memset(&st, 0, sizeof st);
  st.out = out;
  st.top = o->top;
  uint32_t N = o->cards, su = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  int max_ep = m->experts ? m->experts : 1;
  for (uint32_t tp = 1; tp <= PLAN_MAX_TP && tp <= su; tp *= 2) {
    if (N % tp || m->heads % (int)tp || m->ffn_hidden % (int)tp) continue;
    if (m->kv_heads % (int)tp && (int)tp % m->kv_heads) continue;
    for (uint32_t cp = 1; cp <= PLAN_MAX_CP; cp *= 2) {
      if (N % (tp * cp) || (cp > 1 && o->seq % (2 * (int)cp))) continue;
      for (uint32_t pp = 1; pp <= (uint32_t)m->layers; pp++) {
        if (m->layers % (int)pp || N % (tp * cp * pp)) continue;
        uint32_t dp = N / (tp * cp * pp);
        if (o->gbs % (int)dp) continue;
        int per_replica = o->gbs / (int)dp;
        for (int vpp = 1; vpp <= m->layers / (int)pp; vpp++) {
          if ((m->layers / (int)pp) % vpp || (vpp > 1 && pp < 2)) continue;
          for (int ep = 1; ep <= max_ep; ep++) {
            if ((m->experts && m->experts % ep) || dp % (uint32_t)ep) continue;
            for (int mbs = 1; mbs <= PLAN_MAX_MBS && mbs <= per_replica; mbs++) {
              if (per_replica % mbs || (vpp > 1 && (per_replica / mbs) % (int)pp)) continue;
              for (int rc = WORK_RECOMPUTE_NONE; rc <= WORK_RECOMPUTE_FULL; rc++) {
                /* with flash attention selective recomputation has nothing left to drop */
                if (rc == WORK_RECOMPUTE_SELECTIVE && o->attn == WORK_ATTN_FLASH) continue;
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
                  j.vpp = vpp;
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
                  if (e) return e;
                  stats->evaluated++;
                  if (r.fits) stats->fitting++;
                  keep(&st, &j, &r);
                }
              }
            }
          }
        }
      }
    }
  }
  *nout = st.n;
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
