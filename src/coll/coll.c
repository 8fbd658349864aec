/* coll.c — the public face of coll/: names, nccl-tests' busbw factors, the context, argument
 * checks, `auto` (time every algorithm that applies at the requested level and keep the
 * fastest) and several collectives at once at L2. Plans are built in plan.c and timed in
 * level.c; nothing here allocates per flow. */
#include "coll/coll_int.h"

#include <math.h>
#include <string.h>

static const char *const op_names[COLL_OPS] = {"allreduce", "allgather", "reducescatter",
                                               "broadcast", "reduce",    "alltoall",
                                               "sendrecv"};
static const char *const op_alt[COLL_OPS] = {"all_reduce", "all_gather", "reduce_scatter",
                                             "bcast",      "reduce",     "all_to_all",
                                             "send_recv"};
static const char *const algo_names[COLL_ALGOS] = {"auto",   "ring",     "tree", "rhd", "hier",
                                                   "direct", "pairwise", "nvls"};

const char *coll_op_name(coll_op op) { return op < COLL_OPS ? op_names[op] : "?"; }
const char *coll_algo_name(coll_algo a) { return a < COLL_ALGOS ? algo_names[a] : "?"; }

int coll_op_parse(const char *s, coll_op *out) {
  for (int i = 0; i < COLL_OPS; i++)
    if (!strcmp(s, op_names[i]) || !strcmp(s, op_alt[i])) {
      *out = (coll_op)i;
      return 0;
    }
  return -1;
}

int coll_algo_parse(const char *s, coll_algo *out) {
  for (int i = 0; i < COLL_ALGOS; i++)
    if (!strcmp(s, algo_names[i])) {
      *out = (coll_algo)i;
      return 0;
    }
  if (!strcmp(s, "hierarchical")) *out = COLL_HIER;
  else if (!strcmp(s, "halving-doubling")) *out = COLL_RHD;
  else return -1;
  return 0;
}

double coll_busbw_factor(coll_op op, uint32_t n) {
  double dn = n;
  switch (op) {
  case COLL_ALLREDUCE: return 2.0 * (dn - 1) / dn;
  case COLL_ALLGATHER:
  case COLL_REDUCESCATTER:
  case COLL_ALLTOALL: return (dn - 1) / dn;
  default: return 1.0;
  }
}

coll_ctx *coll_ctx_new(const hw_cluster *c) {
  coll_ctx *x = wk_calloc(1, sizeof *x);
  x->c = c;
  x->cps = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  x->seen = wk_calloc(hw_cards(c), 1);
  x->cache_max_bytes = COLL_CACHE_MAX_BYTES;
  return x;
}

void coll_ctx_set_cache_bytes(coll_ctx *x, size_t bytes) {
  coll_cache_clear(x);
  x->cache_max_bytes = bytes;
}

void coll_ctx_set_progress(coll_ctx *x, void (*fn)(void *arg, double frac), void *arg) {
  x->progress = fn;
  x->progress_arg = arg;
}

void coll_ctx_free(coll_ctx *x) {
  if (!x) return;
  net_sim_free(x->sim);
  coll_plan_free(&x->plan);
  coll_cache_clear(x);
  void *p[] = {x->seen,   x->acc,    x->tmp,   x->tmp2,  x->roff,  x->rlink, x->rate,
               x->lat,    x->memo,   x->shared, x->lcount, x->srate, x->fnet, x->ulink,
               x->sol,    x->gcards};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) wk_free(p[i]);
  wk_free(x);
}

void coll_ctx_invalidate(coll_ctx *x) {
  if (!x) return;
  coll_cache_clear(x);
  net_sim_free(x->sim); /* it borrows the capacities: made again on next use */
  x->sim = NULL;
}

/* Candidates for auto, in the order ties are broken. */
static int candidates(coll_op op, coll_algo out[6]) {
  switch (op) {
  case COLL_ALLREDUCE:
    out[0] = COLL_RING, out[1] = COLL_HIER, out[2] = COLL_TREE, out[3] = COLL_RHD;
    out[4] = COLL_NVLS, out[5] = COLL_DIRECT; /* direct: inside one full mesh only */
    return 6;
  case COLL_ALLGATHER:
  case COLL_REDUCESCATTER:
    out[0] = COLL_RING, out[1] = COLL_HIER, out[2] = COLL_RHD, out[3] = COLL_DIRECT;
    return 4;
  case COLL_ALLTOALL:
    out[0] = COLL_DIRECT, out[1] = COLL_PAIRWISE;
    return 2;
  case COLL_SENDRECV: out[0] = COLL_DIRECT; return 1;
  default: out[0] = COLL_RING; return 1;
  }
}

static wk_errcode check_args(const coll_ctx *x, coll_op op, coll_algo algo, int level,
                             const uint32_t *cards, uint32_t n, double bytes, uint8_t *seen,
                             wk_err *err) {
  if (op >= COLL_OPS) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "unknown collective");
  if (algo >= COLL_ALGOS) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "unknown algorithm");
  if (level < 0 || level > 2)
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "level %d: use 0, 1 or 2", level);
  if (n < 2)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "a collective needs at least 2 cards (%u given)",
                      n);
  if (!(bytes >= 0) || !isfinite(bytes))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "size %g bytes: give a size >= 0", bytes);
  uint32_t total = hw_cards(x->c);
  wk_errcode e = WK_OK;
  uint32_t i = 0;
  for (; i < n; i++) {
    if (cards[i] >= total) {
      e = wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                     "card %u is out of range: the cluster has cards 0..%u", cards[i], total - 1);
      break;
    }
    if (seen[cards[i]]) {
      e = wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                     "card %u appears twice: each rank needs its own card", cards[i]);
      break;
    }
    seen[cards[i]] = 1;
  }
  for (uint32_t j = 0; j < i; j++) seen[cards[j]] = 0;
  return e;
}

/* Times one concrete algorithm at level 0 or 1 with the context's plan; ngroups > 1 (level 1
 * only): cards holds n * ngroups cards, group after group, and the plan of the first group is
 * repeated on every group (coll_flow_at), all solved together. */
static wk_errcode time_algo(coll_ctx *x, coll_op op, coll_algo algo, int level,
                            const uint32_t *cards, uint32_t n, uint32_t ngroups, double bytes,
                            double *t, wk_err *err) {
  wk_errcode e = coll_plan_build(x, &x->plan, op, algo, cards, n, bytes, level, err);
  if (e) return e;
  WK_ASSERT(ngroups == 1 || level == 1);
  x->plan.ngroups = ngroups;
  if (level == 0) {
    *t = coll_l0(x, &x->plan);
    return WK_OK;
  }
  return coll_l1(x, &x->plan, t, err);
}

/* Resolves auto at min(level, 1) (L2 == L1 for one collective alone). OUT *algo, *t. */
static wk_errcode resolve(coll_ctx *x, coll_op op, coll_algo *algo, int level,
                          const uint32_t *cards, uint32_t n, uint32_t ngroups, double bytes,
                          double *t, wk_err *err) {
  int lv = level > 1 ? 1 : level;
  if (lv == 1) x->cards_hash = coll_hash_cards(cards, n * ngroups);
  if (*algo != COLL_AUTO) return time_algo(x, op, *algo, lv, cards, n, ngroups, bytes, t, err);
  coll_algo cand[6], best = COLL_AUTO;
  double best_t = INFINITY;
  wk_err first;
  int nc = candidates(op, cand), have_err = 0;
  for (int i = 0; i < nc; i++) {
    double ti;
    wk_err e1;
    if (time_algo(x, op, cand[i], lv, cards, n, ngroups, bytes, &ti, &e1)) {
      if (!have_err) first = e1, have_err = 1;
      continue;
    }
    if (ti < best_t || best == COLL_AUTO) best_t = ti, best = cand[i];
  }
  if (best == COLL_AUTO) {
    if (err) *err = first;
    return first.code;
  }
  *algo = best;
  *t = best_t;
  return WK_OK;
}

static void fill(coll_result *out, coll_op op, uint32_t n, coll_algo algo, int level,
                 double bytes, double t) {
  out->time_s = t;
  out->algo = algo;
  out->level = level;
  out->algbw = t > 0 ? bytes / t : 0;
  out->busbw = out->algbw * coll_busbw_factor(op, n);
}

wk_errcode coll_time(coll_ctx *x, coll_op op, coll_algo algo, int level, const uint32_t *cards,
                     uint32_t n, double bytes, coll_result *out, wk_err *err) {
  wk_errcode e = check_args(x, op, algo, level, cards, n, bytes, x->seen, err);
  if (e) return e;
  double t = 0;
  /* Level 2 runs its own event simulation: an L1 solve is needed only to choose for auto. */
  if ((level < 2 || algo == COLL_AUTO) && (e = resolve(x, op, &algo, level, cards, n, 1, bytes, &t, err)))
    return e;
  if (level == 2) {
    if ((e = coll_plan_build(x, &x->plan, op, algo, cards, n, bytes, 2, err))) return e;
    coll_plan *pl = &x->plan;
    if ((e = coll_l2(x, &pl, 1, &t, err))) return e;
  }
  fill(out, op, n, algo, level, bytes, t);
  return WK_OK;
}

wk_errcode coll_time_concurrent(coll_ctx *x, const coll_job *jobs, uint32_t k, coll_result *out,
                                double *alone_s, wk_err *err) {
  if (k == 0) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "no jobs to time");
  uint8_t *seen = x->seen;
  coll_plan *plans = wk_calloc(k, sizeof *plans);
  coll_plan **pp = wk_calloc(k, sizeof *pp);
  coll_algo *algo = wk_calloc(k, sizeof *algo);
  double *t = wk_calloc(k, sizeof *t);
  wk_errcode e = WK_OK;
  for (uint32_t j = 0; j < k && !e; j++) {
    const coll_job *jb = &jobs[j];
    e = check_args(x, jb->op, jb->algo, 2, jb->cards, jb->n, jb->bytes, seen, err);
    for (uint32_t i = 0; !e && i < j; i++) /* disjointness against earlier jobs */
      for (uint32_t r = 0; r < jobs[i].n; r++) seen[jobs[i].cards[r]] = 1;
    for (uint32_t r = 0; !e && r < jb->n; r++)
      if (seen[jb->cards[r]])
        e = wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                       "job %u's card %u is also used by an earlier job: give each job its "
                       "own cards", j, jb->cards[r]);
    memset(seen, 0, hw_cards(x->c));
    algo[j] = jb->algo;
    double t1;
    if (!e) e = resolve(x, jb->op, &algo[j], 2, jb->cards, jb->n, 1, jb->bytes, &t1, err);
    if (!e) e = coll_plan_build(x, &plans[j], jb->op, algo[j], jb->cards, jb->n, jb->bytes, 2, err);
    pp[j] = &plans[j];
  }
  if (!e && alone_s)
    for (uint32_t j = 0; j < k && !e; j++) e = coll_l2(x, &pp[j], 1, &alone_s[j], err);
  if (!e) e = coll_l2(x, pp, k, t, err);
  for (uint32_t j = 0; !e && j < k; j++)
    fill(&out[j], jobs[j].op, jobs[j].n, algo[j], 2, jobs[j].bytes, t[j]);
  for (uint32_t j = 0; j < k; j++) coll_plan_free(&plans[j]);
  wk_free(plans);
  wk_free(pp);
  wk_free(algo);
  wk_free(t);
  return e;
}

/* Level 1: plan p of (op, algo) passes coll_check_l1; for COLL_AUTO, one candidate that
 * builds does (resolve skips the others). The first error otherwise. */
static wk_errcode check_l1(coll_ctx *x, const coll_job *jb, coll_plan *p, wk_err *err) {
  coll_algo cand[6];
  int nc = jb->algo == COLL_AUTO ? candidates(jb->op, cand) : 1;
  if (jb->algo != COLL_AUTO) cand[0] = jb->algo;
  wk_err first;
  wk_errcode e = WK_OK;
  for (int i = 0; i < nc; i++) {
    wk_err e1;
    wk_errcode c = coll_plan_build(x, p, jb->op, cand[i], jb->cards, jb->n, jb->bytes, 1, &e1);
    if (!c) c = coll_check_l1(x, p, &e1);
    if (!c) return WK_OK;
    if (!e) e = c, first = e1;
  }
  if (err) *err = first;
  return e;
}

wk_errcode coll_check(coll_ctx *x, const coll_job *jobs, uint32_t k, int level, wk_err *err) {
  if (k == 0) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "no jobs to time");
  coll_plan *plans = wk_calloc(k, sizeof *plans);
  coll_plan **pp = wk_calloc(k, sizeof *pp);
  wk_errcode e = WK_OK;
  for (uint32_t j = 0; j < k && !e; j++) {
    const coll_job *jb = &jobs[j];
    pp[j] = &plans[j];
    e = check_args(x, jb->op, jb->algo, level, jb->cards, jb->n, jb->bytes, x->seen, err);
    if (e || level == 0) continue;
    if (level == 1) {
      e = check_l1(x, jb, &plans[j], err);
      continue;
    }
    coll_algo a = jb->algo;
    double t;
    if (a == COLL_AUTO) e = resolve(x, jb->op, &a, 2, jb->cards, jb->n, 1, jb->bytes, &t, err);
    if (!e) e = coll_plan_build(x, &plans[j], jb->op, a, jb->cards, jb->n, jb->bytes, 2, err);
  }
  if (!e && level == 2) e = coll_check_l2(x, pp, k, err);
  for (uint32_t j = 0; j < k; j++) coll_plan_free(&plans[j]);
  wk_free(plans);
  wk_free(pp);
  return e;
}

wk_errcode coll_time_groups(coll_ctx *x, coll_op op, coll_algo algo, int level,
                            const uint32_t *cards, uint32_t n, const uint32_t *offsets,
                            uint32_t ngroups, double bytes, coll_result *out, wk_err *err) {
  if (ngroups == 0) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "no groups to time");
  if (n < 2)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "a collective needs at least 2 cards (%u given)",
                      n);
  uint32_t total = hw_cards(x->c);
  if ((uint64_t)n * ngroups > total)
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "%u groups of %u cards need more cards than the cluster's %u", ngroups, n,
                      total);
  uint32_t all = n * ngroups;
  if (all > x->capg) {
    x->capg = all;
    wk_free(x->gcards);
    x->gcards = wk_malloc(all * sizeof *x->gcards);
  }
  for (uint32_t g = 0; g < ngroups; g++)
    for (uint32_t i = 0; i < n; i++) {
      uint64_t card = (uint64_t)cards[i] + offsets[g];
      if (card >= total)
        return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                          "group %u's card %llu is out of range: the cluster has cards 0..%u", g,
                          (unsigned long long)card, total - 1);
      x->gcards[(size_t)g * n + i] = (uint32_t)card;
    }
  /* The groups must be disjoint: checked as one card list (a repeated card is named). */
  wk_errcode e = check_args(x, op, algo, level, x->gcards, all, bytes, x->seen, err);
  if (e) return e;
  if (level == 0 || ngroups == 1) /* L0 has no contention: one group alone */
    return coll_time(x, op, algo, level, x->gcards, n, bytes, out, err);
  if (level == 2) { /* every group a job of coll_time_concurrent; the slowest one counts */
    coll_job *jobs = wk_malloc(ngroups * sizeof *jobs);
    coll_result *res = wk_malloc(ngroups * sizeof *res);
    for (uint32_t g = 0; g < ngroups; g++)
      jobs[g] = (coll_job){op, algo, x->gcards + (size_t)g * n, n, bytes};
    e = coll_time_concurrent(x, jobs, ngroups, res, NULL, err);
    for (uint32_t g = 0; !e && g < ngroups; g++)
      if (g == 0 || res[g].time_s > out->time_s) *out = res[g];
    wk_free(jobs);
    wk_free(res);
    return e;
  }
  double t = 0;
  if ((e = resolve(x, op, &algo, 1, x->gcards, n, ngroups, bytes, &t, err))) return e;
  fill(out, op, n, algo, 1, bytes, t);
  return WK_OK;
}
