/* contention.c — the check of the replay's time-sharing model against the event level (L2):
 * the same jobs, each a loop of compute then a ring all-reduce, run with every flow of every
 * ring step on one shared fabric (net/), started out of phase, with a little jitter in the
 * compute as real iterations have; their mean iteration time over their time alone is set
 * beside the slowdown the replay's fabric model predicts for them (fabric.c). */
#include "replay_int.h"

#include <math.h>
#include <string.h>

void replay_cjob_opts_init(replay_cjob_opts *o) {
  memset(o, 0, sizeof *o);
  o->iterations = 40;
  o->warmup = 4;
  o->jitter = 0.05;
  o->seed = 1;
}

/* One job's subflow routes (CSR), collected from replay_fab_lay in its order. */
typedef struct routes {
  uint32_t n, cap, *off, nl, capl, *link;
} routes;

static void collect(void *ctx, const hw_route *r, uint32_t w) {
  routes *R = ctx;
  while (w-- > 1) collect(ctx, r, 1); /* one per subflow */
  if (R->n + 2 > R->cap) {
    R->cap = R->cap ? 2 * R->cap : 256;
    R->off = wk_realloc(R->off, sizeof(uint32_t) * R->cap);
  }
  if (R->nl + r->n > R->capl) {
    while (R->nl + r->n > R->capl) R->capl = R->capl ? 2 * R->capl : 1024;
    R->link = wk_realloc(R->link, sizeof(uint32_t) * R->capl);
  }
  if (!R->n) R->off[0] = 0;
  memcpy(R->link + R->nl, r->link, sizeof(uint32_t) * r->n);
  R->nl += r->n;
  R->off[++R->n] = R->nl;
}

typedef struct cstate {
  const replay_cjob *j;
  routes R;
  uint32_t step, steps, iter;
  double chunk;      /* bytes per subflow per step */
  double last_end;   /* end of the previous iteration's collective */
  double sum_period; /* over measured iterations */
  uint32_t measured;
  wk_rng rng;
} cstate;

static wk_errcode start_step(net_sim *s, cstate *c, uint32_t g, double t, wk_err *err) {
  for (uint32_t i = 0; i < c->R.n; i++) {
    net_flow_spec sp = {c->R.link + c->R.off[i], c->R.off[i + 1] - c->R.off[i], c->chunk, t, g, 0};
    uint32_t id;
    wk_errcode rc = net_flow_add(s, &sp, &id);
    if (rc) return wk_err_set(err, rc, "", 0, 0, "contention check: flow rejected (%s)", wk_errcode_name(rc));
  }
  return WK_OK;
}

/* Runs the jobs in `on` (a mask over 0..k-1) together until each has done its iterations;
 * OUT period[j]: the mean iteration time of each job, over its iterations after the warm-up
 * (a faster job does more of them). */
static wk_errcode run_l2(const hw_cluster *c, net_sim *s, cstate *cs, uint32_t k, const uint8_t *on,
                         const replay_cjob_opts *o, double *period, wk_err *err) {
  net_sim_reset(s);
  uint32_t left = 0;
  for (uint32_t g = 0; g < k; g++) {
    if (!on[g]) continue;
    cstate *x = &cs[g];
    wk_rng_init(&x->rng, o->seed, 7000 + g);
    x->step = x->iter = x->measured = 0;
    x->sum_period = 0;
    x->last_end = -1;
    wk_errcode rc = start_step(s, x, g, x->j->offset_s, err);
    if (rc) return rc;
    left++;
  }
  (void)c;
  net_note note;
  while (left && net_sim_next(s, &note)) {
    if (note.kind != NET_NOTE_GROUP || note.id >= k || !on[note.id]) continue;
    cstate *x = &cs[note.id];
    double t = note.time_s, next = t;
    if (++x->step == x->steps) { /* the all-reduce ended: iteration done, compute follows */
      x->step = 0;
      if (x->last_end >= 0 && x->iter >= o->warmup) {
        x->sum_period += t - x->last_end;
        x->measured++;
      }
      x->last_end = t;
      /* a job that has its iterations keeps running, so that the others are measured
       * against the same traffic to the end */
      if (++x->iter == o->iterations + 1 && !--left) break;
      double jit = o->jitter > 0 ? 1 + o->jitter * (2 * wk_rng_uniform(&x->rng) - 1) : 1;
      next = t + x->j->compute_s * jit;
    }
    wk_errcode rc = start_step(s, x, note.id, next, err);
    if (rc) return rc;
  }
  for (uint32_t g = 0; g < k; g++)
    if (on[g]) period[g] = cs[g].measured ? cs[g].sum_period / cs[g].measured : NAN;
  return WK_OK;
}

wk_errcode replay_contention_check(const hw_cluster *c, const replay_cjob *jobs, uint32_t k,
                                   const replay_cjob_opts *o, replay_cjob_result *out, wk_err *err) {
  if (!k || o->iterations <= o->warmup + 1)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "contention check: need jobs and more iterations than warm-up");
  wk_err e2;
  net_sim *s = net_sim_new(hw_nlinks(c), hw_link_capacity(c), hw_link_latency(c), &e2);
  if (!s) return wk_err_set(err, WK_EVALUE, "", 0, 0, "contention check: %s", e2.msg);
  cstate *cs = wk_calloc(k, sizeof *cs);
  uint8_t *on = wk_calloc(k, 1);
  double *period = wk_calloc(k, sizeof(double));
  replay_fab *f = replay_fab_new(c, hw_link_capacity(c), NULL, k);
  wk_errcode rc = WK_OK;
  for (uint32_t g = 0; g < k; g++) {
    const replay_cjob *j = &jobs[g];
    cstate *x = &cs[g];
    x->j = j;
    if (j->n < 2 || !(j->bytes > 0) || !(j->compute_s >= 0)) {
      rc = wk_err_set(err, WK_EVALUE, "", 0, 0, "contention check: job %u needs 2+ cards, bytes > 0", g);
      goto done;
    }
    work_phase ph = {"dp", WORK_PAT_RING, 1, j->n, 0, 0};
    replay_fab_lay(c, NULL, j->cards, j->n, &ph, collect, &x->R);
    x->steps = 2 * (j->n - 1);
    x->chunk = j->bytes / j->n / REPLAY_FAB_CHANNELS;
  }
  /* alone: each job by itself; the fabric model's reference is this placement alone */
  for (uint32_t g = 0; g < k && !rc; g++) {
    memset(on, 0, k);
    on[g] = 1;
    rc = run_l2(c, s, cs, k, on, o, period, err);
    out[g].alone_s = period[g];
  }
  if (rc) goto done;
  memset(on, 1, k);
  if ((rc = run_l2(c, s, cs, k, on, o, period, err))) goto done;
  for (uint32_t g = 0; g < k; g++) {
    const replay_cjob *j = &jobs[g];
    out[g].shared_s = period[g];
    out[g].l2_slowdown = period[g] / out[g].alone_s;
    replay_shape sh;
    memset(&sh, 0, sizeof sh);
    double comm = out[g].alone_s - j->compute_s; /* the all-reduce alone, as L2 ran it */
    sh.iter_ref_s = out[g].alone_s;
    sh.nphases = 1;
    sh.ph[0] = (work_phase){"dp", WORK_PAT_RING, 1, j->n, comm, comm};
    sh.rate_ref[0] = replay_fab_phase_rate(c, NULL, j->cards, j->n, &sh.ph[0]);
    replay_fab_add(f, g, &sh, j->cards, j->n);
  }
  replay_fab_settle(f, 1e-6, 200);
  for (uint32_t g = 0; g < k; g++) out[g].model_slowdown = replay_fab_stretch(f, g);
done:
  replay_fab_free(f);
  for (uint32_t g = 0; g < k; g++) {
    wk_free(cs[g].R.off);
    wk_free(cs[g].R.link);
  }
  wk_free(cs);
  wk_free(on);
  wk_free(period);
  net_sim_free(s);
  return rc;
}
