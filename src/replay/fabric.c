/* fabric.c — the shared fabric under a replay's running jobs. Each job's communication phases
 * are laid on its real cards and routes (subflows per ring edge, ECMP-hashed); links of the
 * scale-up bus and NICs belong to one card, hence one job, and only bound its own rate; links
 * between switches (and dragonfly, torus links) are shared. A job's expected load on a link
 * is its bytes per iteration over its iteration time; what the others' expected load leaves a
 * job while it communicates (never less than its max-min share) sets its rate, its rate its
 * iteration time, and that time its load: a fixed point, solved by re-evaluating, in FIFO
 * order, only the jobs whose links saw a change (replay_int.h has the model in short,
 * docs/replay.md in full). Memory: per job, its distinct shared links and per-phase (link,
 * subflows) entries, in buffers recycled from ended jobs; per link, 28 bytes. */
#include "replay_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
/* Relative load change (of a link's capacity) below which neighbours are not re-evaluated, and
 * the damping of successive iterates of one job within a solve (the map from the others' load
 * to a job's load is decreasing, so undamped Gauss-Seidel can settle into a 2-cycle). */
#define FAB_TOL 1e-5
#define FAB_DAMP 0.5
/* A job whose iteration time moved less than this (relative) since its last evaluation does not
 * wake its neighbours; nor does one evaluated FAB_MAX_EVALS times in one solve (its iterate is
 * kept: a fixed point to 0.1 % is finer than the model itself (bench/validate_contention)). */
#define FAB_RTOL 1e-3
/* A link whose load moved by more than this share of its capacity makes its other jobs scan all
 * their links again at their next evaluation (below it, their hot links only). */
#define FAB_SIG 1e-3
#define FAB_MAX_EVALS 12

/* ---- laying phases ------------------------------------------------------------------------- */
static void edge(const hw_cluster *c, uint32_t s, uint32_t d, uint64_t key, int channels,
                 void (*fn)(void *, const hw_route *), void *ctx) {
  hw_route r;
  for (int ch = 0; ch < channels; ch++) {
    hw_route_salted(c, s, d, wk_mix64(key * REPLAY_FAB_CHANNELS + (uint64_t)ch), &r);
    fn(ctx, &r);
  }
}

void replay_fab_lay(const hw_cluster *c, const uint32_t *cards, uint32_t ncards,
                    const work_phase *p, void (*fn)(void *ctx, const hw_route *r), void *ctx) {
  uint32_t n = p->n, st = p->stride;
  if (n < 2 || !st || (uint64_t)st * n > ncards) return;
  int ch = p->pattern == WORK_PAT_ALLTOALL ? 1 : REPLAY_FAB_CHANNELS;
  for (uint32_t b = 0; b + (uint64_t)(n - 1) * st < ncards; b++) {
    if ((b / st) % n) continue;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t a = cards[b + i * st], nx = cards[b + ((i + 1) % n) * st];
      uint64_t key = (uint64_t)(b + i * st) << 20 ^ (uint64_t)(p->pattern) << 16 ^ st;
      switch ((work_pattern)p->pattern) {
      case WORK_PAT_RING: edge(c, a, nx, key, ch, fn, ctx); break;
      case WORK_PAT_CHAIN:
      case WORK_PAT_EXCHANGE:
        /* both ways with the next rank; a chain does not wrap, nor does a pair */
        if (i + 1 == n && (p->pattern == WORK_PAT_CHAIN || n == 2)) break;
        edge(c, a, nx, key, ch, fn, ctx);
        edge(c, nx, a, key ^ 1u << 19, ch, fn, ctx);
        break;
      case WORK_PAT_ALLTOALL:
        for (uint32_t k = 0; k < n; k++)
          if (k != i) edge(c, a, cards[b + k * st], key ^ (uint64_t)k << 40, 1, fn, ctx);
        break;
      }
    }
  }
}

/* Subflow counts per link, gathered while a phase is laid: a dense counter per link and the
 * list of links touched, so a phase costs its subflows, not the fabric. */
typedef struct counter {
  uint32_t *cnt, *touched, ntouched;
} counter;

static void count_route(void *ctx, const hw_route *r) {
  counter *k = ctx;
  for (uint32_t h = 0; h < r->n; h++)
    if (!k->cnt[r->link[h]]++) k->touched[k->ntouched++] = r->link[h];
}

/* Grows the touched list to hold one more full phase: at most every link. */
static void counter_init(counter *k, uint32_t nlinks) {
  k->cnt = wk_calloc(nlinks ? nlinks : 1, sizeof(uint32_t));
  k->touched = wk_malloc(sizeof(uint32_t) * (nlinks ? nlinks : 1));
  k->ntouched = 0;
}
static void counter_free(counter *k) {
  wk_free(k->cnt);
  wk_free(k->touched);
}

double replay_fab_phase_rate(const hw_cluster *c, const uint32_t *cards, uint32_t ncards,
                             const work_phase *p) {
  counter k;
  counter_init(&k, hw_nlinks(c));
  replay_fab_lay(c, cards, ncards, p, count_route, &k);
  const double *cap = hw_link_capacity(c);
  double rate = INFINITY;
  for (uint32_t i = 0; i < k.ntouched; i++) {
    uint32_t l = k.touched[i];
    rate = fmin(rate, cap[l] / k.cnt[l]);
  }
  counter_free(&k);
  return rate;
}

/* ---- state ---------------------------------------------------------------------------------- */
typedef struct tpt { /* one point of one link's distribution, for the expected maximum */
  double t, p;
  uint32_t link;
} tpt;

/* A job's terms of a link's sums. Over the jobs on a link, each active with probability q and
 * carrying load l (bytes/s) on w subflows while active: expected load sum q l and subflows
 * sum q w; their variances sum q (1 - q) l^2 and sum q (1 - q) w^2; and, for the correction
 * below, sum a l / D and sum a w / D, where a = q - q0 is the activity a job has beyond its
 * activity alone (q0) because of contention, and D the others' expected load on the link. */
enum { T_L, T_W, T_VL, T_VW, T_XL, T_XW, NTERMS };

typedef struct fph {
  double total, open;        /* time alone at the reference; the part compute hides */
  double rate_ref, rate_priv, rate, q, q0;
  double rate_solo;          /* the least rate over private links and shared links no other
                                job is on: fixed until a link's set of jobs changes */
  uint32_t off, n;           /* entries [off, off + n) of the job */
  uint32_t coff, cn;         /* its entries on links other jobs are on: cent[coff, coff + cn) */
  uint32_t hoff, hn;         /* of those, the ones that came near its bottleneck in the last
                                full scan: hot[hoff, hoff + hn) (cent indices) */
  double rate_fast;          /* the least rate, in that scan, of the links others could not slow */
} fph;

typedef struct fjob {
  uint32_t job;
  double iter_ref, iter, stretch, iter0; /* iter0: alone on these cards */
  int nph, evals;            /* evals: in the current solve, for damping */
  fph ph[WORK_MAX_PHASES];
  uint32_t njl, capjl;       /* distinct shared links */
  uint32_t *jl_link, *jl_le;
  double *jl_t;              /* scratch: the new terms, NTERMS per link */
  uint32_t nent, capent;     /* (phase, link) entries */
  uint32_t *ent_jl;
  float *ent_n;
  uint32_t *cent, capcent;   /* entries on contended links, rebuilt when `dirty` */
  uint32_t *hot, nhot, caphot;
  uint8_t inq, changed, dirty;
  uint8_t stale;             /* a link of its moved enough since its last full scan to need one */
} fjob;

typedef struct lent { /* one job on one link: its terms of the link's sums */
  uint32_t slot, next, prev;
  double t[NTERMS];
} lent;

struct replay_fab {
  const hw_cluster *c;
  const double *cap;
  uint32_t nlinks;
  uint8_t *tier;   /* per link: 0 private (scale-up, NIC), else its tier (1 = leaf uplinks) */
  int ntiers;
  double tier_load[HW_MAX_TIERS + 1], tier_cap[HW_MAX_TIERS + 1];
  double *sum;    /* NTERMS per link: the sums of the terms of the jobs on it */
  uint32_t *head; /* first lent of the link */
  uint32_t *njobs; /* jobs on the link */
  lent *le;
  uint32_t nle, caple, freele;
  fjob *slots;
  uint32_t nslots, capslots, freeslot_n, *freeslots;
  uint32_t *slot_of; /* per job id */
  uint32_t max_jobs;
  counter k;
  uint32_t *jlmap;   /* per link: the job's jl index while it is being added */
  uint32_t *queue, qhead, qlen, qcap; /* FIFO ring of slots */
  uint32_t *changed, nchanged, capchanged;
  tpt *tp;           /* scratch of eval_job: link time distributions, and their CDFs */
  uint32_t captp, capF, captpv, capdup;
  double *F, *tpv;   /* tpv: each distinct link's 7 points in order, for the duplicate test */
  double *hv;        /* per hot-list candidate, its most loaded time */
  uint32_t caphv;
  uint32_t *dup;     /* open-addressing set of distinct distributions (index into tpv / 7) */
  replay_fab_stats st;
  uint32_t live;
};

replay_fab *replay_fab_new(const hw_cluster *c, const double *cap, uint32_t max_jobs) {
  replay_fab *f = wk_calloc(1, sizeof *f);
  f->c = c;
  f->cap = cap;
  f->nlinks = hw_nlinks(c);
  uint32_t nl = f->nlinks ? f->nlinks : 1;
  f->tier = wk_calloc(nl, 1);
  for (uint32_t l = 0; l < f->nlinks; l++) {
    hw_link_kind k = hw_link_kind_of(c, l);
    int t = k == HW_LINK_FABRIC ? hw_link_tier(c, l) : k == HW_LINK_GLOBAL ? 2 : k == HW_LINK_LOCAL || k == HW_LINK_TORUS ? 1 : 0;
    if (t > HW_MAX_TIERS) t = HW_MAX_TIERS;
    f->tier[l] = (uint8_t)t;
    f->tier_cap[t] += cap[l];
    if (t > f->ntiers) f->ntiers = t;
  }
  f->sum = wk_calloc((size_t)nl * NTERMS, sizeof(double));
  f->head = wk_malloc(sizeof(uint32_t) * nl);
  f->njobs = wk_calloc(nl, sizeof(uint32_t));
  f->jlmap = wk_malloc(sizeof(uint32_t) * nl);
  for (uint32_t l = 0; l < nl; l++) f->head[l] = f->jlmap[l] = NONE;
  f->freele = NONE;
  f->max_jobs = max_jobs;
  f->slot_of = wk_malloc(sizeof(uint32_t) * (max_jobs ? max_jobs : 1));
  for (uint32_t j = 0; j < max_jobs; j++) f->slot_of[j] = NONE;
  counter_init(&f->k, f->nlinks);
  return f;
}

void replay_fab_free(replay_fab *f) {
  if (!f) return;
  for (uint32_t s = 0; s < f->nslots; s++) {
    fjob *j = &f->slots[s];
    wk_free(j->jl_link);
    wk_free(j->jl_le);
    wk_free(j->jl_t);
    wk_free(j->ent_jl);
    wk_free(j->ent_n);
    wk_free(j->cent);
    wk_free(j->hot);
  }
  wk_free(f->slots);
  wk_free(f->freeslots);
  wk_free(f->tier);
  wk_free(f->sum);
  wk_free(f->head);
  wk_free(f->njobs);
  wk_free(f->jlmap);
  wk_free(f->le);
  wk_free(f->slot_of);
  wk_free(f->queue);
  wk_free(f->changed);
  wk_free(f->tp);
  wk_free(f->tpv);
  wk_free(f->hv);
  wk_free(f->dup);
  wk_free(f->F);
  counter_free(&f->k);
  wk_free(f);
}

double replay_fab_alone(const replay_fab *f, uint32_t job) {
  if (!replay_fab_has(f, job)) return 1;
  const fjob *j = &f->slots[f->slot_of[job]];
  return j->iter_ref > 0 ? j->iter0 / j->iter_ref : 1;
}

int replay_fab_has(const replay_fab *f, uint32_t job) {
  return job < f->max_jobs && f->slot_of[job] != NONE;
}
double replay_fab_stretch(const replay_fab *f, uint32_t job) {
  return replay_fab_has(f, job) ? f->slots[f->slot_of[job]].stretch : 1;
}
void replay_fab_get_stats(const replay_fab *f, replay_fab_stats *out) { *out = f->st; }
int replay_fab_tiers(const replay_fab *f) { return f->ntiers; }
double replay_fab_tier_util(const replay_fab *f, int tier) {
  if (tier < 1 || tier > f->ntiers || !(f->tier_cap[tier] > 0)) return 0;
  return fmax(0, f->tier_load[tier]) / f->tier_cap[tier];
}

double replay_fab_link_load(const replay_fab *f, uint32_t l) {
  return l < f->nlinks ? f->sum[(size_t)l * NTERMS + T_L] : 0;
}

/* ---- queue ------------------------------------------------------------------------------------ */
static void push(replay_fab *f, uint32_t s) {
  fjob *j = &f->slots[s];
  if (j->inq) return;
  if (f->qlen == f->qcap) { /* grow the ring, unrolled into the new buffer (at most once per
                               slot count: the queue never holds a slot twice) */
    uint32_t nc = f->qcap ? 2 * f->qcap : 64, *nq = wk_malloc(sizeof(uint32_t) * nc);
    for (uint32_t i = 0; i < f->qlen; i++) nq[i] = f->queue[(f->qhead + i) % f->qcap];
    wk_free(f->queue);
    f->queue = nq;
    f->qcap = nc;
    f->qhead = 0;
  }
  f->queue[(f->qhead + f->qlen++) % f->qcap] = s;
  j->inq = 1;
}

static void push_link(replay_fab *f, uint32_t l, uint32_t self) {
  for (uint32_t e = f->head[l]; e != NONE; e = f->le[e].next)
    if (f->le[e].slot != self) push(f, f->le[e].slot);
}

/* ---- adding and removing jobs ------------------------------------------------------------------ */
/* Capacity for `need` elements of `size` bytes in *ptr (contents kept), doubling. */
static void grow(void **ptr, uint32_t *capv, uint32_t need, size_t size) {
  if (need <= *capv) return;
  uint32_t nc = *capv ? *capv : 64;
  while (nc < need) nc *= 2;
  *ptr = wk_realloc(*ptr, size * nc);
  *capv = nc;
}

static uint32_t take_slot(replay_fab *f) {
  if (f->freeslot_n) return f->freeslots[--f->freeslot_n];
  if (f->nslots == f->capslots) {
    f->capslots = f->capslots ? 2 * f->capslots : 64;
    f->slots = wk_realloc(f->slots, sizeof(fjob) * f->capslots);
    f->freeslots = wk_realloc(f->freeslots, sizeof(uint32_t) * f->capslots);
  }
  memset(&f->slots[f->nslots], 0, sizeof(fjob));
  return f->nslots++;
}

static uint32_t take_lent(replay_fab *f) {
  if (f->freele != NONE) {
    uint32_t e = f->freele;
    f->freele = f->le[e].next;
    return e;
  }
  if (f->nle == f->caple) {
    f->caple = f->caple ? 2 * f->caple : 1024;
    f->le = wk_realloc(f->le, sizeof(lent) * f->caple);
  }
  return f->nle++;
}

/* Grows the job's per-link arrays to hold `need` distinct links (their contents are kept). */
static void grow_jl(fjob *j, uint32_t need) {
  if (need <= j->capjl) return;
  uint32_t nc = j->capjl ? j->capjl : 64;
  while (nc < need) nc *= 2;
  j->jl_link = wk_realloc(j->jl_link, sizeof(uint32_t) * nc);
  j->jl_le = wk_realloc(j->jl_le, sizeof(uint32_t) * nc);
  j->jl_t = wk_realloc(j->jl_t, sizeof(double) * NTERMS * nc);
  j->capjl = nc;
}

void replay_fab_add(replay_fab *f, uint32_t job, const replay_shape *s, const uint32_t *cards,
                    uint32_t ncards) {
  WK_ASSERT(job < f->max_jobs && f->slot_of[job] == NONE);
  uint32_t slot = take_slot(f);
  fjob *j = &f->slots[slot];
  j->job = job;
  j->iter_ref = j->iter = s->iter_ref_s;
  j->stretch = 1;
  j->nph = s->nphases;
  j->njl = j->nent = 0;
  j->inq = j->changed = 0;
  j->dirty = 1;
  j->stale = 0;
  j->evals = 0;
  for (int k = 0; k < s->nphases; k++) {
    fph *p = &j->ph[k];
    p->total = s->ph[k].total_s;
    p->open = s->ph[k].total_s - s->ph[k].exposed_s;
    p->rate_ref = s->rate_ref[k];
    p->rate_priv = p->rate = INFINITY;
    p->q = p->q0 = 0;
    p->off = j->nent;
    f->k.ntouched = 0;
    replay_fab_lay(f->c, cards, ncards, &s->ph[k], count_route, &f->k);
    uint32_t need = j->nent + f->k.ntouched, capn = j->capent;
    grow((void **)&j->ent_jl, &j->capent, need, sizeof(uint32_t));
    grow((void **)&j->ent_n, &capn, need, sizeof(float));
    for (uint32_t i = 0; i < f->k.ntouched; i++) {
      uint32_t l = f->k.touched[i], n = f->k.cnt[l];
      f->k.cnt[l] = 0;
      if (!f->tier[l]) {
        p->rate_priv = fmin(p->rate_priv, f->cap[l] / n);
        continue;
      }
      if (f->jlmap[l] == NONE) {
        grow_jl(j, j->njl + 1);
        j->jl_link[j->njl] = l;
        f->jlmap[l] = j->njl++;
      }
      j->ent_jl[j->nent] = f->jlmap[l];
      j->ent_n[j->nent++] = (float)n;
    }
    p->n = j->nent - p->off;
  }
  for (uint32_t i = 0; i < j->njl; i++) {
    uint32_t l = j->jl_link[i], e = take_lent(f);
    f->jlmap[l] = NONE;
    lent *x = &f->le[e];
    x->slot = slot;
    memset(x->t, 0, sizeof x->t);
    x->prev = NONE;
    x->next = f->head[l];
    if (x->next != NONE) f->le[x->next].prev = e;
    f->head[l] = e;
    j->jl_le[i] = e;
    /* the jobs already there have a new neighbour, and maybe a link that is shared now */
    ++f->njobs[l];
    for (uint32_t o = x->next; o != NONE; o = f->le[o].next) f->slots[f->le[o].slot].dirty = 1;
  }
  /* activity alone on these cards: the reference of the correction in eval_job */
  double iter0 = j->iter_ref, x0[WORK_MAX_PHASES];
  for (int k = 0; k < j->nph; k++) {
    fph *p = &j->ph[k];
    double r = p->rate_priv;
    for (uint32_t e = p->off; e < p->off + p->n; e++)
      r = fmin(r, f->cap[j->jl_link[j->ent_jl[e]]] / j->ent_n[e]);
    x0[k] = !isfinite(p->rate_ref) ? p->total : r > 0 ? p->total * p->rate_ref / r : INFINITY;
    iter0 += fmax(0, x0[k] - p->open) - (p->total - p->open);
  }
  for (int k = 0; k < j->nph; k++)
    j->ph[k].q0 = isfinite(iter0) && isfinite(x0[k]) && iter0 > 0 ? fmin(1, x0[k] / iter0) : 0;
  j->iter0 = iter0;
  f->slot_of[job] = slot;
  if (j->njl) f->st.adds++;
  if (++f->live > f->st.peak_jobs && j->njl) f->st.peak_jobs = f->live;
  push(f, slot);
}

void replay_fab_remove(replay_fab *f, uint32_t job) {
  if (!replay_fab_has(f, job)) return;
  uint32_t slot = f->slot_of[job];
  fjob *j = &f->slots[slot];
  for (uint32_t i = 0; i < j->njl; i++) {
    uint32_t l = j->jl_link[i], e = j->jl_le[i];
    lent *x = &f->le[e];
    if (x->prev != NONE) f->le[x->prev].next = x->next;
    else f->head[l] = x->next;
    if (x->next != NONE) f->le[x->next].prev = x->prev;
    --f->njobs[l];
    for (uint32_t o = f->head[l]; o != NONE; o = f->le[o].next) f->slots[f->le[o].slot].dirty = 1;
    double *sum = &f->sum[(size_t)l * NTERMS];
    if (f->head[l] == NONE) {
      f->tier_load[f->tier[l]] -= sum[T_L];
      memset(sum, 0, sizeof(double) * NTERMS); /* exact when the link empties: no drift */
    } else {
      f->tier_load[f->tier[l]] -= x->t[T_L];
      for (int t = 0; t < NTERMS; t++) sum[t] -= x->t[t];
      if (x->t[T_L] > FAB_TOL * f->cap[l] || x->t[T_W] > FAB_TOL) push_link(f, l, slot);
    }
    x->next = f->freele;
    f->freele = e;
  }
  j->njl = 0;
  f->slot_of[job] = NONE;
  f->live--;
  f->freeslots[f->freeslot_n++] = slot; /* its buffers stay with the slot for the next job */
  /* a removed slot still in the queue is skipped by solve (its job no longer maps to it) */
}

/* ---- solving ------------------------------------------------------------------------------------ */
/* The others' activity on a link: their load and subflows are taken as normal with the link's
 * means and variances (less the job's own terms), in perfect correlation, and sampled at the
 * 7 Gauss-Hermite points. While others are active the job gets what they leave, never less
 * than its max-min share against their subflows. */
static const double gh_x[7] = {0, 0.8162878828589647, -0.8162878828589647, 1.6735516287674714,
                               -1.6735516287674714, 2.6519613568352334, -2.6519613568352334};
static const double gh_w[7] = {0.8102646175568073, 0.4256072526101278, 0.4256072526101278,
                               0.05451558281912703, 0.05451558281912703, 9.717812450995192e-4,
                               9.717812450995192e-4};

/* The time per byte of one subflow on link l (capacity c, the job's n subflows there, at most
 * r_cap each) as a 7-point distribution over the others' activity: pts[i] with probability
 * gh_w[i] / sqrt(pi). Returns 1 when the others can hardly reach the job's share: then pts[0]
 * is its rate there, min(r_cap, c / n), and the link costs one comparison; else 7. */
static int link_times(double c, double n, double r_cap, double L, double W, double VL, double VW,
                      double *pts) {
  double r0 = fmin(r_cap, c / n), sl = VL > 0 ? sqrt(VL) : 0, sw = VW > 0 ? sqrt(VW) : 0;
  if (L + 3.75 * sl <= c - n * r0) {
    pts[0] = r0;
    return 1;
  }
  for (int i = 0; i < 7; i++) {
    double z = 1.4142135623730951 * gh_x[i];
    double lo = fmax(0, L + sl * z), wo = fmax(0, W + sw * z);
    double r = fmin(r0, fmax(c - lo, c * n / (n + wo)) / n);
    pts[i] = r > 0 ? 1 / r : INFINITY;
  }
  return 7;
}

static int cmp_tpt(const void *a, const void *b) {
  const tpt *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return (x->link > y->link) - (x->link < y->link);
}

/* E[max(floor, T_1, ..., T_m)] for independent T_i given as points (t, p) of m links, each
 * link's p summing to 1: sweep the points in increasing t, keeping prod_i F_i(t). */
static double expected_max(tpt *v, uint32_t nv, uint32_t m, double floor, double *F) {
  if (!nv) return floor;
  qsort(v, nv, sizeof *v, cmp_tpt);
  for (uint32_t i = 0; i < m; i++) F[i] = 0;
  uint32_t zeros = m;
  double prod = 1, prev = 0, e = 0; /* prod: of the nonzero F_i */
  for (uint32_t i = 0; i < nv; i++) {
    double *f = &F[v[i].link];
    if (*f == 0) zeros--;
    else prod /= *f;
    *f += v[i].p;
    if (*f > 1) *f = 1;
    prod *= *f;
    double P = zeros ? 0 : prod;
    if (i + 1 < nv && v[i + 1].t == v[i].t) continue;
    e += fmax(floor, v[i].t) * (P - prev);
    prev = P;
  }
  return e; /* P reaches 1 at the last point */
}

/* Sorts the job's entries into those on links it has to itself (folded into rate_solo) and
 * those on links other jobs are on (cent), after a change in who is on its links. O(entries). */
static void rebuild(replay_fab *f, fjob *j) {
  uint32_t need = j->nent ? j->nent : 1, nc = 0;
  grow((void **)&j->cent, &j->capcent, need, sizeof(uint32_t));
  for (int k = 0; k < j->nph; k++) {
    fph *p = &j->ph[k];
    p->rate_solo = p->rate_priv;
    p->coff = nc;
    for (uint32_t e = p->off; e < p->off + p->n; e++) {
      uint32_t l = j->jl_link[j->ent_jl[e]];
      if (f->njobs[l] > 1) j->cent[nc++] = e;
      else p->rate_solo = fmin(p->rate_solo, f->cap[l] / j->ent_n[e]);
    }
    p->cn = nc - p->coff;
  }
  j->dirty = 0;
}

/* New rates, iteration time and activity of one job from the others' load now. Returns 1 when
 * its iteration time moved enough to matter to its neighbours. */
static int eval_job(replay_fab *f, fjob *j) {
  /* A full evaluation scans every shared link of the job; it is due when a link changed hands
   * or moved by more than FAB_SIG of its capacity since the last one. Otherwise only the links
   * that came near the bottleneck in that scan are read again: the others, which changed
   * little, stay below it. */
  int full = j->stale || j->dirty;
  if (j->dirty) rebuild(f, j);
  j->stale = 0;
  if (full) j->nhot = 0;
  double iter = j->iter_ref, x[WORK_MAX_PHASES], old = j->iter;
  for (int k = 0; k < j->nph; k++) {
    fph *p = &j->ph[k];
    /* a ring step waits for its slowest subflow: the phase's time is the expected maximum
     * over its links, taken as independent, of their time per byte */
    double rmin = full ? p->rate_solo : p->rate_fast, pts[7];
    uint32_t nv = 0, m = 0, need = 16, from = full ? p->coff : p->hoff, cnt = full ? p->cn : p->hn;
    const uint32_t *list = full ? j->cent : j->hot;
    while (need < 2 * cnt) need *= 2;
    if (need > f->capdup) {
      f->dup = wk_realloc(f->dup, sizeof(uint32_t) * need);
      f->capdup = need;
    }
    memset(f->dup, 0xff, sizeof(uint32_t) * need);
    double lb = 0; /* the maximum is at least every link's least time */
    uint32_t hstart = j->nhot;
    for (uint32_t c0 = from; c0 < from + cnt; c0++) {
      uint32_t c = full ? c0 : list[c0];
      uint32_t e = j->cent[c], jl = j->ent_jl[e], l = j->jl_link[jl];
      const lent *me = &f->le[j->jl_le[jl]];
      const double *sum = &f->sum[(size_t)l * NTERMS];
      double o[NTERMS];
      for (int t = 0; t < NTERMS; t++) o[t] = fmax(0, sum[t] - me->t[t]);
      /* The others as they would be without this job (the arrival theorem of mean value
       * analysis): each other job's activity beyond its activity alone is credited to the
       * jobs it meets on this link in proportion to their load, and this job's share of
       * that is taken off. Exact for two jobs on one link; negligible among many. */
      double own = me->t[T_L];
      double lo = fmax(0, o[T_L] - fmin(o[T_L], own * o[T_XL]));
      double wo = fmax(0, o[T_W] - fmin(o[T_W], own * o[T_XW]));
      int np = link_times(f->cap[l], j->ent_n[e], p->rate_priv, lo, wo, o[T_VL], o[T_VW], pts);
      if (np == 1) {
        rmin = fmin(rmin, pts[0]);
        continue;
      }
      if (full) { /* a candidate for the hot list, whatever its duplicates */
        grow((void **)&j->hot, &j->caphot, j->nhot + 1, sizeof(uint32_t));
        grow((void **)&f->hv, &f->caphv, j->nhot + 1, sizeof(double));
        f->hv[j->nhot] = pts[5];
        j->hot[j->nhot++] = c;
      }
      /* Links with the same sums carry the same jobs' traffic: one state, counted once (the
       * up and down links of a pair of leaves, the tiers of one path) */
      uint64_t h = 1469598103934665603ULL;
      for (int i = 0; i < 7; i++) {
        uint64_t b;
        memcpy(&b, &pts[i], sizeof b);
        h = wk_mix64(h ^ b);
      }
      uint32_t mask = need - 1, at = (uint32_t)h & mask, dup = 0;
      for (; f->dup[at] != NONE; at = (at + 1) & mask)
        if (!memcmp(&f->tpv[(size_t)f->dup[at] * 7], pts, sizeof pts)) {
          dup = 1;
          break;
        }
      if (dup) continue;
      f->dup[at] = m++;
      grow((void **)&f->tpv, &f->captpv, nv + 7, sizeof(double));
      memcpy(&f->tpv[nv], pts, sizeof pts);
      nv += 7;
      lb = fmax(lb, pts[6]); /* the time at the least load (z = -2.65) */
    }
    /* alone, or where nobody can slow it, the rate is the least one, exactly as at add */
    double r = rmin;
    lb = fmax(lb, 1 / rmin);
    if (full) { /* keep the links whose most loaded time came within 20 % of the bound */
      p->rate_fast = rmin;
      p->hoff = hstart;
      p->hn = 0;
      for (uint32_t i = hstart; i < j->nhot; i++)
        if (f->hv[i] > 0.8 * lb) j->hot[hstart + p->hn++] = j->hot[i];
      j->nhot = hstart + p->hn;
    }
    /* only links that can exceed the bound can set the maximum */
    uint32_t nk = 0, mk = 0;
    for (uint32_t i = 0; i < m; i++) {
      const double *v = &f->tpv[(size_t)i * 7];
      if (!(v[5] > lb)) continue; /* the time at the most load (z = +2.65) */
      grow((void **)&f->tp, &f->captp, nk + 7, sizeof(tpt));
      for (int q = 0; q < 7; q++) f->tp[nk++] = (tpt){v[q], gh_w[q] * 0.5641895835477563, mk};
      mk++;
    }
    if (mk == 1) { /* one link left: E[max(lb, T)] needs no sweep */
      double e = 0;
      for (int q = 0; q < 7; q++) e += f->tp[q].p * fmax(lb, f->tp[q].t);
      r = 1 / e;
    } else if (mk) {
      grow((void **)&f->F, &f->capF, mk + 1, sizeof(double));
      double worst = expected_max(f->tp, nk, mk, lb, f->F);
      r = worst > 0 ? 1 / worst : INFINITY;
    } else if (m) {
      r = 1 / lb;
    }
    f->st.entries_visited += p->cn;
    p->rate = r;
    x[k] = !isfinite(p->rate_ref) ? p->total : r > 0 ? p->total * p->rate_ref / r : INFINITY;
    iter += fmax(0, x[k] - p->open) - (p->total - p->open);
  }
  int first = !j->evals;
  if (j->evals++ > 1 && isfinite(iter) && isfinite(j->iter)) iter = j->iter + FAB_DAMP * (iter - j->iter);
  j->iter = iter;
  for (int k = 0; k < j->nph; k++)
    j->ph[k].q = isfinite(iter) && isfinite(x[k]) && iter > 0 ? fmin(1, x[k] / iter) : 0;
  double st = j->iter_ref > 0 ? iter / j->iter_ref : 1;
  if (st != j->stretch) {
    j->stretch = st;
    if (!j->changed) {
      j->changed = 1;
      grow((void **)&f->changed, &f->capchanged, f->nchanged + 1, sizeof(uint32_t));
      f->changed[f->nchanged++] = j->job;
    }
  }
  if (j->evals > FAB_MAX_EVALS) return 0;
  return first || !(fabs(iter - old) <= FAB_RTOL * old);
}

/* Writes the job's new expected load onto its links; neighbours of links that moved more than
 * the tolerance are queued. */
static void apply_job(replay_fab *f, uint32_t slot, int wake) {
  fjob *j = &f->slots[slot];
  memset(j->jl_t, 0, sizeof(double) * NTERMS * j->njl);
  for (int k = 0; k < j->nph; k++) {
    const fph *p = &j->ph[k];
    if (!(p->q > 0) || !isfinite(p->rate)) continue;
    double v = p->q * (1 - p->q), a = fmax(0, p->q - p->q0);
    for (uint32_t e = p->off; e < p->off + p->n; e++) {
      double *t = &j->jl_t[(size_t)j->ent_jl[e] * NTERMS];
      double w = j->ent_n[e], l = w * p->rate;
      t[T_L] += p->q * l;
      t[T_W] += p->q * w;
      t[T_VL] += v * l * l;
      t[T_VW] += v * w * w;
      t[T_XL] += a * l; /* divided by the others' load below */
      t[T_XW] += a * w;
    }
  }
  for (uint32_t i = 0; i < j->njl; i++) {
    uint32_t l = j->jl_link[i];
    lent *me = &f->le[j->jl_le[i]];
    double *sum = &f->sum[(size_t)l * NTERMS], *t = &j->jl_t[(size_t)i * NTERMS];
    double others = sum[T_L] - me->t[T_L];
    double inv = others > FAB_TOL * f->cap[l] ? 1 / others : 0;
    t[T_XL] *= inv;
    t[T_XW] *= inv;
    double d = t[T_L] - me->t[T_L], dw = t[T_W] - me->t[T_W];
    f->tier_load[f->tier[l]] += d;
    for (int k = 0; k < NTERMS; k++) {
      sum[k] += t[k] - me->t[k];
      me->t[k] = t[k];
    }
    /* the others there see a different load: re-evaluated; fully when it moved much */
    if (!wake || f->njobs[l] < 2) continue;
    int sig = fabs(d) > FAB_SIG * f->cap[l] || fabs(dw) > FAB_SIG * fmax(1, sum[T_W]);
    if (!sig) continue;
    for (uint32_t o = f->head[l]; o != NONE; o = f->le[o].next) {
      uint32_t s2 = f->le[o].slot;
      if (s2 == slot) continue;
      if (sig) f->slots[s2].stale = 1;
      push(f, s2);
    }
  }
}

const uint32_t *replay_fab_solve(replay_fab *f, uint32_t *n) {
  f->nchanged = 0;
  if (f->qlen) f->st.solves++;
  /* A bound on the work of one solve: damped iterates converge geometrically, so a job is
   * re-evaluated a few dozen times at most; past the bound the iterate is kept as it is. */
  uint64_t budget = 200 * (uint64_t)(f->qlen + 16);
  while (f->qlen && budget--) {
    uint32_t s = f->queue[f->qhead];
    f->qhead = (f->qhead + 1) % f->qcap;
    f->qlen--;
    fjob *j = &f->slots[s];
    j->inq = 0;
    if (f->slot_of[j->job] != s) continue; /* removed while queued */
    f->st.evals++;
    if (eval_job(f, j)) apply_job(f, s, 1); /* a change below FAB_RTOL is not written */
  }
  while (f->qlen) { /* budget spent: drop the rest of the queue */
    f->slots[f->queue[f->qhead]].inq = 0;
    f->qhead = (f->qhead + 1) % f->qcap;
    f->qlen--;
  }
  /* O(slots): the jobs with shared traffic at once, a few hundred at most */
  for (uint32_t s = 0; s < f->nslots; s++) f->slots[s].evals = f->slots[s].changed = 0;
  *n = f->nchanged;
  return f->changed;
}
