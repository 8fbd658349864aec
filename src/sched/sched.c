/* sched.c — the queue and the policies. Queued jobs sit in treaps (keyed by the policy's
 * order, one per tenant under fairshare) and running jobs in a treap by estimated end, all
 * indexed by job id with no allocation per job; a pass walks the queue in order (at most
 * `lookahead` jobs), starts what fits, keeps an EASY reservation where the policy has one,
 * and preempts where the policy may. Card ranges of running jobs live in one store with
 * power-of-two free lists. */
#include "sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_NONE, ST_QUEUED, ST_RUNNING };

/* ---- treaps over job ids -------------------------------------------------------------------- */
/* Ordered by (a, b, id); heap priority is a hash of the id, so shapes are deterministic. The
 * queue's treap also keeps, per subtree, its size, the fewest cards (w) and the least
 * estimate (e) of its jobs (sz NULL: not kept), so a pass skips whole runs of jobs that could
 * not start (q_spine); the running jobs' treap keeps each subtree's cards (cs), so the EASY
 * reservation is one descent (reserve), not a walk of every running job. */
typedef struct treap {
  uint32_t *l, *r;
  int64_t *a, *b;
  uint32_t *sz, *mw; /* per subtree: jobs, least w, least e */
  int64_t *me;
  uint64_t *cs;      /* per subtree: the sum of w (NULL: not kept) */
  const uint32_t *w;
  const int64_t *e;
} treap;

static inline int t_less(const treap *t, uint32_t x, uint32_t y) {
  if (t->a[x] != t->a[y]) return t->a[x] < t->a[y];
  if (t->b[x] != t->b[y]) return t->b[x] < t->b[y];
  return x < y;
}
static inline uint64_t t_pri(uint32_t x) { return wk_mix64(x); }
/* x's subtree sums from its children's */
static inline void t_pull(treap *t, uint32_t x) {
  if (t->cs) {
    uint64_t c = t->w[x];
    if (t->l[x] != SCHED_NONE) c += t->cs[t->l[x]];
    if (t->r[x] != SCHED_NONE) c += t->cs[t->r[x]];
    t->cs[x] = c;
  }
  if (!t->sz) return;
  uint32_t n = 1, m = t->w[x], c = t->l[x];
  int64_t me = t->e[x];
  if (c != SCHED_NONE) {
    n += t->sz[c];
    if (t->mw[c] < m) m = t->mw[c];
    if (t->me[c] < me) me = t->me[c];
  }
  if ((c = t->r[x]) != SCHED_NONE) {
    n += t->sz[c];
    if (t->mw[c] < m) m = t->mw[c];
    if (t->me[c] < me) me = t->me[c];
  }
  t->sz[x] = n;
  t->mw[x] = m;
  t->me[x] = me;
}

/* Expected depth O(log n); recursion depth is the tree depth. */
static uint32_t t_insert(treap *t, uint32_t root, uint32_t x) {
  if (root == SCHED_NONE) {
    t->l[x] = t->r[x] = SCHED_NONE;
    t_pull(t, x);
    return x;
  }
  if (t_less(t, x, root)) {
    t->l[root] = t_insert(t, t->l[root], x);
    uint32_t c = t->l[root];
    if (t_pri(c) > t_pri(root)) { /* rotate right */
      t->l[root] = t->r[c];
      t->r[c] = root;
      t_pull(t, root);
      t_pull(t, c);
      return c;
    }
  } else {
    t->r[root] = t_insert(t, t->r[root], x);
    uint32_t c = t->r[root];
    if (t_pri(c) > t_pri(root)) { /* rotate left */
      t->r[root] = t->l[c];
      t->l[c] = root;
      t_pull(t, root);
      t_pull(t, c);
      return c;
    }
  }
  t_pull(t, root);
  return root;
}
static uint32_t t_merge(treap *t, uint32_t x, uint32_t y) {
  if (x == SCHED_NONE) return y;
  if (y == SCHED_NONE) return x;
  if (t_pri(x) > t_pri(y)) {
    t->r[x] = t_merge(t, t->r[x], y);
    t_pull(t, x);
    return x;
  }
  t->l[y] = t_merge(t, x, t->l[y]);
  t_pull(t, y);
  return y;
}
static uint32_t t_erase(treap *t, uint32_t root, uint32_t x) {
  WK_ASSERT(root != SCHED_NONE);
  if (root == x) return t_merge(t, t->l[x], t->r[x]);
  if (t_less(t, x, root)) t->l[root] = t_erase(t, t->l[root], x);
  else t->r[root] = t_erase(t, t->r[root], x);
  t_pull(t, root);
  return root;
}

/* In-order iteration with an explicit stack. */
#define ITER_DEPTH 256
typedef struct titer {
  const treap *t;
  uint32_t st[ITER_DEPTH];
  int sp;
} titer;
static void it_push_left(titer *it, uint32_t x) {
  while (x != SCHED_NONE) {
    WK_ASSERT(it->sp < ITER_DEPTH);
    it->st[it->sp++] = x;
    x = it->t->l[x];
  }
}
static void it_init(titer *it, const treap *t, uint32_t root) {
  it->t = t;
  it->sp = 0;
  it_push_left(it, root);
}
static uint32_t it_next(titer *it) {
  if (!it->sp) return SCHED_NONE;
  uint32_t x = it->st[--it->sp];
  it_push_left(it, it->t->r[x]);
  return x;
}

/* A preemption candidate with its sort key (qsort has no context argument). */
struct victim {
  int64_t k1, k2;
  uint32_t id;
};

/* ---- the scheduler ------------------------------------------------------------------------- */
struct sched {
  const hw_cluster *c;
  sched_opts o;
  sched_pool *pool;
  uint32_t max_jobs, cards;
  int preemptive;
  /* per job */
  sched_job *job;
  uint8_t *state;
  wk_time *start;    /* current run's start */
  double *attained;  /* card-seconds of service in finished runs */
  uint32_t *roff, *rn; /* ranges in the store */
  uint8_t *rcls;
  /* queue: one treap per class (tenant under fairshare, else one) */
  treap q;
  uint32_t *qroot, nclass;
  uint32_t *qw;      /* per job: its cards and estimate (the queue treap's w and e) */
  int64_t *qe;
  treap run;
  uint32_t rroot;
  /* range store */
  sched_range *store;
  uint32_t store_len, store_cap;
  uint32_t freelist[33];
  /* tenants */
  uint32_t ntenants;
  double *quota;
  int32_t *tprio;
  double *usage; /* decayed card-seconds at usage_t */
  uint32_t *trun; /* running cards */
  wk_time usage_t;
  double halflife;
  uint32_t *torder;
  /* counts */
  uint32_t nqueued, nrunning, busy;
  uint64_t qcards;
  uint32_t *ccount; /* queued jobs by card count, for the smallest queued job */
  uint64_t *cbits, *csum;
  /* pass scratch */
  sched_action *act;
  uint32_t *act_off; /* range offsets of the actions, resolved when the pass ends */
  uint32_t nact, capact;
  uint32_t *deferred; /* (offset, class) of preempted jobs' ranges, freed at the next pass */
  uint32_t ndeferred, capdeferred;
  uint32_t *cand;
  struct victim *vict;
  /* backfill: the last pass examined a full window and nothing since can change its answer */
  int window_full, stopped;
  uint32_t free_after_pass;
};

static const char *const policy_names[] = {
#define SCHED_POLICY_STR(n, s) s,
    SCHED_POLICY_MAP(SCHED_POLICY_STR)
#undef SCHED_POLICY_STR
};
const char *sched_policy_name(sched_policy p) {
  return (unsigned)p < SCHED_POLICY_COUNT ? policy_names[p] : "?";
}
const char *sched_placement_name(sched_placement p) {
  return p == SCHED_PLACE_FIRST_FIT ? "first-fit"
         : p == SCHED_PLACE_TOPO    ? "topo"
         : p == SCHED_PLACE_NETAWARE ? "netaware"
                                     : "?";
}
int sched_policy_parse(const char *name, sched_policy *out) {
  for (int i = 0; i < SCHED_POLICY_COUNT; i++)
    if (!strcmp(name, policy_names[i])) {
      *out = (sched_policy)i;
      return 0;
    }
  return -1;
}
int sched_placement_parse(const char *name, sched_placement *out) {
  if (!strcmp(name, "first-fit")) *out = SCHED_PLACE_FIRST_FIT;
  else if (!strcmp(name, "topo")) *out = SCHED_PLACE_TOPO;
  else if (!strcmp(name, "netaware")) *out = SCHED_PLACE_NETAWARE;
  else return -1;
  return 0;
}

void sched_opts_init(sched_opts *o) {
  memset(o, 0, sizeof *o);
  o->policy = SCHED_BACKFILL;
  o->placement = SCHED_PLACE_TOPO;
  o->lookahead = 500;
  o->min_run_s = 600;
  o->las_first_card_s = 3600;
  o->las_levels = 5;
}

sched *sched_new(const hw_cluster *c, const sched_opts *o, uint32_t max_jobs, wk_err *err) {
  if (o->lookahead < 1)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "scheduler look-ahead must be at least 1"), NULL;
  if (o->las_levels < 1 || o->las_levels > 30 || !(o->las_first_card_s > 0))
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "las needs 1..30 levels and a positive first threshold"), NULL;
  if (o->min_run_s < 0 || o->halflife_s < 0)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "scheduler times must not be negative"), NULL;
  sched *s = wk_calloc(1, sizeof *s);
  s->c = c;
  s->o = *o;
  s->pool = sched_pool_new(c);
  s->cards = sched_pool_cards(s->pool);
  s->max_jobs = max_jobs;
  s->preemptive = o->policy == SCHED_PRIORITY || o->policy == SCHED_LAS || o->policy == SCHED_FAIRSHARE;
  size_t n = max_jobs ? max_jobs : 1;
  s->job = wk_calloc(n, sizeof *s->job);
  s->state = wk_calloc(n, 1);
  s->start = wk_calloc(n, sizeof(wk_time));
  s->attained = wk_calloc(n, sizeof(double));
  s->roff = wk_calloc(n, sizeof(uint32_t));
  s->rn = wk_calloc(n, sizeof(uint32_t));
  s->rcls = wk_calloc(n, 1);
  s->q.l = wk_malloc(n * sizeof(uint32_t));
  s->q.r = wk_malloc(n * sizeof(uint32_t));
  s->q.a = wk_calloc(n, sizeof(int64_t));
  s->q.b = wk_calloc(n, sizeof(int64_t));
  s->q.sz = wk_calloc(n, sizeof(uint32_t));
  s->q.mw = wk_calloc(n, sizeof(uint32_t));
  s->q.me = wk_calloc(n, sizeof(int64_t));
  s->qw = wk_calloc(n, sizeof(uint32_t));
  s->qe = wk_calloc(n, sizeof(int64_t));
  s->q.w = s->qw;
  s->q.e = s->qe;
  s->run.l = wk_malloc(n * sizeof(uint32_t));
  s->run.r = wk_malloc(n * sizeof(uint32_t));
  s->run.a = wk_calloc(n, sizeof(int64_t));
  s->run.b = wk_calloc(n, sizeof(int64_t));
  s->run.cs = wk_calloc(n, sizeof(uint64_t));
  s->run.w = s->qw; /* a job's cards, set when it was queued */
  s->rroot = SCHED_NONE;
  for (int i = 0; i < 33; i++) s->freelist[i] = SCHED_NONE;
  s->store_cap = 1024;
  s->store = wk_malloc(sizeof(sched_range) * s->store_cap);
  /* tenants */
  const sched_tenants *t = o->tenants;
  s->ntenants = t && t->n ? t->n : 1;
  s->quota = wk_calloc(s->ntenants, sizeof(double));
  s->tprio = wk_calloc(s->ntenants, sizeof(int32_t));
  s->usage = wk_calloc(s->ntenants, sizeof(double));
  s->trun = wk_calloc(s->ntenants, sizeof(uint32_t));
  s->torder = wk_calloc(s->ntenants, sizeof(uint32_t));
  if (t && t->n) {
    for (uint32_t i = 0; i < t->n; i++) {
      s->quota[i] = sched_tenant_quota_cards(t, i, s->cards);
      s->tprio[i] = t->t[i].priority;
      if (s->quota[i] > s->cards) {
        wk_err_set(err, WK_EVALUE, "", 0, 0, "tenant '%s' has a quota of %.0f cards; the cluster has %u",
                   t->t[i].name, s->quota[i], s->cards);
        sched_free(s);
        return NULL;
      }
    }
  } else {
    s->quota[0] = s->cards;
  }
  s->halflife = o->halflife_s > 0 ? o->halflife_s : t ? t->halflife_s : 7 * 86400.0;
  if (!(s->halflife > 0)) s->halflife = 7 * 86400.0;
  s->nclass = o->policy == SCHED_FAIRSHARE ? s->ntenants : 1;
  s->qroot = wk_malloc(sizeof(uint32_t) * s->nclass);
  for (uint32_t i = 0; i < s->nclass; i++) s->qroot[i] = SCHED_NONE;
  s->ccount = wk_calloc((size_t)s->cards + 1, sizeof(uint32_t));
  s->cbits = wk_calloc(((size_t)s->cards + 1 + 63) / 64, sizeof(uint64_t));
  s->csum = wk_calloc(((size_t)s->cards + 1 + 4095) / 4096, sizeof(uint64_t));
  s->capact = 64;
  s->act = wk_malloc(sizeof(sched_action) * s->capact);
  s->act_off = wk_malloc(sizeof(uint32_t) * s->capact);
  s->capdeferred = 64;
  s->deferred = wk_malloc(sizeof(uint32_t) * 2 * s->capdeferred);
  s->cand = wk_malloc(sizeof(uint32_t) * (o->lookahead + 1));
  s->vict = wk_malloc(sizeof(struct victim) * n);
  return s;
}

void sched_free(sched *s) {
  if (!s) return;
  sched_pool_free(s->pool);
  void *ptrs[] = {s->job, s->state, s->start, s->attained, s->roff, s->rn, s->rcls, s->q.l, s->q.r,
                  s->q.a, s->q.b, s->q.sz, s->q.mw, s->q.me, s->qw, s->qe, s->run.l, s->run.r, s->run.a, s->run.b, s->run.cs, s->store, s->quota,
                  s->tprio, s->usage, s->trun, s->torder, s->qroot, s->ccount, s->cbits, s->csum,
                  s->act, s->act_off, s->deferred, s->cand, s->vict};
  for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) wk_free(ptrs[i]);
  wk_free(s);
}

sched_pool *sched_get_pool(sched *s) { return s->pool; }
uint32_t sched_queued_jobs(const sched *s) { return s->nqueued; }
uint64_t sched_queued_cards(const sched *s) { return s->qcards; }
uint32_t sched_running_jobs(const sched *s) { return s->nrunning; }
uint32_t sched_busy_cards(const sched *s) { return s->busy; }
uint32_t sched_tenants_n(const sched *s) { return s->ntenants; }
uint32_t sched_tenant_running_cards(const sched *s, uint32_t t) { return t < s->ntenants ? s->trun[t] : 0; }
int sched_job_running(const sched *s, uint32_t job) { return job < s->max_jobs && s->state[job] == ST_RUNNING; }
const sched_range *sched_job_ranges(const sched *s, uint32_t job, uint32_t *n) {
  if (!sched_job_running(s, job)) {
    *n = 0;
    return NULL;
  }
  *n = s->rn[job];
  return s->store + s->roff[job];
}

/* ---- queued card counts (smallest queued job in O(1)) ---- */
static void ccount_add(sched *s, uint32_t k, int delta) {
  if (delta > 0) {
    if (!s->ccount[k]++) {
      s->cbits[k >> 6] |= 1ULL << (k & 63);
      s->csum[k >> 12] |= 1ULL << ((k >> 6) & 63);
    }
  } else if (!--s->ccount[k]) {
    s->cbits[k >> 6] &= ~(1ULL << (k & 63));
    if (!s->cbits[k >> 6]) s->csum[k >> 12] &= ~(1ULL << ((k >> 6) & 63));
  }
}
static uint32_t min_queued_cards(const sched *s) {
  size_t nsum = ((size_t)s->cards + 1 + 4095) / 4096;
  for (size_t i = 0; i < nsum; i++)
    if (s->csum[i]) {
      uint32_t w = (uint32_t)(i * 64) + (uint32_t)__builtin_ctzll(s->csum[i]);
      return w * 64 + (uint32_t)__builtin_ctzll(s->cbits[w]);
    }
  return SCHED_NONE;
}

/* ---- queue ---- */
static int las_level(const sched *s, double attained) {
  int lv = 0;
  double thr = s->o.las_first_card_s;
  while (lv < s->o.las_levels - 1 && attained >= thr) {
    lv++;
    thr *= 10;
  }
  return lv;
}

static void q_insert(sched *s, uint32_t id) {
  const sched_job *j = &s->job[id];
  int64_t a = j->submit, b = 0;
  switch (s->o.policy) {
  case SCHED_SJF: a = j->estimate, b = j->submit; break;
  case SCHED_PRIORITY: a = -(int64_t)s->tprio[j->tenant], b = j->submit; break;
  case SCHED_LAS: a = las_level(s, s->attained[id]), b = j->submit; break;
  default: break;
  }
  s->q.a[id] = a;
  s->q.b[id] = b;
  s->qw[id] = j->cards;
  s->qe[id] = j->estimate;
  uint32_t cls = s->nclass > 1 ? j->tenant : 0;
  s->qroot[cls] = t_insert(&s->q, s->qroot[cls], id);
  s->state[id] = ST_QUEUED;
  s->nqueued++;
  s->qcards += j->cards;
  ccount_add(s, j->cards, +1);
}
static void q_remove(sched *s, uint32_t id) {
  const sched_job *j = &s->job[id];
  uint32_t cls = s->nclass > 1 ? j->tenant : 0;
  s->qroot[cls] = t_erase(&s->q, s->qroot[cls], id);
  s->nqueued--;
  s->qcards -= j->cards;
  ccount_add(s, j->cards, -1);
}

void sched_submit(sched *s, uint32_t id, const sched_job *j, wk_time now) {
  (void)now;
  WK_ASSERT(id < s->max_jobs && s->state[id] == ST_NONE);
  WK_ASSERT(j->cards >= 1 && j->cards <= s->cards && j->tenant < s->ntenants);
  s->job[id] = *j;
  q_insert(s, id);
}

/* ---- range store ---- */
static uint32_t size_class(uint32_t n) { return n <= 1 ? 0 : 32 - (uint32_t)__builtin_clz(n - 1); }
static uint32_t store_get(sched *s, uint32_t n, uint8_t *cls) {
  uint32_t c = size_class(n);
  *cls = (uint8_t)c;
  uint32_t off = s->freelist[c];
  if (off != SCHED_NONE) {
    s->freelist[c] = s->store[off].first; /* next free block of the class */
    return off;
  }
  uint32_t need = 1u << c;
  while (s->store_len + need > s->store_cap) {
    s->store_cap *= 2; /* grows to the peak of running jobs' ranges, then is reused */
    s->store = wk_realloc(s->store, sizeof(sched_range) * s->store_cap);
  }
  off = s->store_len;
  s->store_len += need;
  return off;
}
static void store_put(sched *s, uint32_t off, uint8_t cls) {
  s->store[off].first = s->freelist[cls];
  s->freelist[cls] = off;
}

/* ---- start / stop ---- */
static void push_action(sched *s, sched_action_kind k, uint32_t job) {
  if (s->nact == s->capact) {
    s->capact *= 2;
    s->act = wk_realloc(s->act, sizeof(sched_action) * s->capact);
    s->act_off = wk_realloc(s->act_off, sizeof(uint32_t) * s->capact);
  }
  s->act[s->nact].kind = k;
  s->act[s->nact].job = job;
  s->act[s->nact].nr = s->rn[job];
  s->act_off[s->nact] = s->roff[job];
  s->nact++;
}

/* Starts queued job id if its cards are free. 1 on success. */
static int start_job(sched *s, uint32_t id, wk_time now) {
  const sched_job *j = &s->job[id];
  uint32_t nr;
  const sched_range *r =
      s->o.placement == SCHED_PLACE_NETAWARE && s->o.score
          ? sched_pool_alloc_scored(s->pool, j->cards, id, s->o.quiet_cards, s->o.score, s->o.score_ctx, &nr)
          : sched_pool_alloc(s->pool, s->o.placement == SCHED_PLACE_NETAWARE ? SCHED_PLACE_TOPO : s->o.placement,
                             j->cards, id, &nr);
  if (!r) return 0;
  q_remove(s, id);
  uint32_t off = store_get(s, nr, &s->rcls[id]);
  memcpy(s->store + off, r, sizeof(sched_range) * nr);
  s->roff[id] = off;
  s->rn[id] = nr;
  s->state[id] = ST_RUNNING;
  s->start[id] = now;
  s->run.a[id] = now + j->estimate;
  s->run.b[id] = 0;
  s->rroot = t_insert(&s->run, s->rroot, id);
  s->nrunning++;
  s->busy += j->cards;
  s->trun[j->tenant] += j->cards;
  push_action(s, SCHED_START, id);
  return 1;
}

/* A preempted job's ranges stay readable until the next pass (defer = 1), so the caller can
 * see which cards it gave back. */
static void stop_job(sched *s, uint32_t id, wk_time now, int requeue, int defer) {
  WK_ASSERT(s->state[id] == ST_RUNNING);
  const sched_job *j = &s->job[id];
  sched_pool_release(s->pool, s->store + s->roff[id], s->rn[id]);
  if (defer) {
    if (s->ndeferred == s->capdeferred) {
      s->capdeferred *= 2;
      s->deferred = wk_realloc(s->deferred, sizeof(uint32_t) * 2 * s->capdeferred);
    }
    s->deferred[2 * s->ndeferred] = s->roff[id];
    s->deferred[2 * s->ndeferred + 1] = s->rcls[id];
    s->ndeferred++;
  } else {
    store_put(s, s->roff[id], s->rcls[id]);
  }
  s->rroot = t_erase(&s->run, s->rroot, id);
  s->nrunning--;
  s->busy -= j->cards;
  s->trun[j->tenant] -= j->cards;
  s->attained[id] += (double)j->cards * wk_time_to_s(now - s->start[id]);
  s->state[id] = ST_NONE;
  s->stopped = 1;
  if (requeue) q_insert(s, id);
}

void sched_end(sched *s, uint32_t id, wk_time now, int requeue) {
  WK_ASSERT(id < s->max_jobs);
  stop_job(s, id, now, requeue, 0);
}

/* ---- fairshare usage ---- */
static void update_usage(sched *s, wk_time now) {
  double dt = wk_time_to_s(now - s->usage_t);
  if (dt <= 0) return;
  double decay = exp2(-dt / s->halflife), gain = s->halflife / M_LN2 * (1 - decay);
  for (uint32_t t = 0; t < s->ntenants; t++) s->usage[t] = s->usage[t] * decay + s->trun[t] * gain;
  s->usage_t = now;
}
static int tenant_cmp(const sched *s, uint32_t x, uint32_t y) {
  double fx = s->usage[x] / (s->quota[x] > 1 ? s->quota[x] : 1);
  double fy = s->usage[y] / (s->quota[y] > 1 ? s->quota[y] : 1);
  if (fx != fy) return fx < fy ? -1 : 1;
  return (x > y) - (x < y);
}

/* ---- preemption ---- */
typedef enum { V_PRIORITY, V_LAS, V_RECLAIM } vkind;

static int victim_cmp(const void *a, const void *b) {
  const struct victim *x = a, *y = b;
  if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
  if (x->k2 != y->k2) return x->k2 < y->k2 ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* Frees cards for queued job id by preempting running jobs the policy ranks below it:
 * priority — lower tenant priority, lowest first; las — a higher attained-service queue,
 * highest first; reclaim (fairshare) — tenants over their quota, down to the quota. Among
 * equals the most recently started goes first (least work lost). Preempts nothing unless
 * that frees enough. O(running log running). */
static int try_preempt(sched *s, uint32_t id, vkind k, wk_time now) {
  const sched_job *j = &s->job[id];
  uint32_t freec = sched_pool_free_cards(s->pool), need = j->cards;
  if (freec >= need) return 1;
  wk_time min_run = wk_time_from_s(s->o.min_run_s);
  uint64_t bound = 0; /* cheap bound before scanning the running jobs */
  for (uint32_t t = 0; t < s->ntenants; t++) {
    if (k == V_PRIORITY && s->tprio[t] < s->tprio[j->tenant]) bound += s->trun[t];
    if (k == V_RECLAIM && t != j->tenant && s->trun[t] > s->quota[t]) bound += s->trun[t] - (uint32_t)s->quota[t];
    if (k == V_LAS) bound += s->trun[t];
  }
  if (freec + bound < need) return 0;
  int jl = las_level(s, s->attained[id]);
  uint32_t nv = 0;
  titer it;
  it_init(&it, &s->run, s->rroot);
  for (uint32_t x; (x = it_next(&it)) != SCHED_NONE;) {
    const sched_job *v = &s->job[x];
    struct victim *w = &s->vict[nv];
    w->id = x;
    w->k2 = -s->start[x];
    if (k == V_PRIORITY) {
      if (s->tprio[v->tenant] >= s->tprio[j->tenant]) continue;
      w->k1 = s->tprio[v->tenant];
    } else if (k == V_LAS) {
      if (now - s->start[x] < min_run) continue;
      int lv = las_level(s, s->attained[x] + (double)v->cards * wk_time_to_s(now - s->start[x]));
      if (lv <= jl) continue;
      w->k1 = -lv;
    } else {
      if (v->tenant == j->tenant || s->trun[v->tenant] <= s->quota[v->tenant] ||
          now - s->start[x] < min_run)
        continue;
      w->k1 = 0;
    }
    nv++;
  }
  qsort(s->vict, nv, sizeof *s->vict, victim_cmp);
  /* choose; under reclaim a tenant gives back only what it holds over its quota */
  uint64_t got = freec;
  uint32_t take = 0;
  for (uint32_t i = 0; i < nv && got < need; i++) {
    uint32_t x = s->vict[i].id, t = s->job[x].tenant;
    if (k == V_RECLAIM) {
      if (s->trun[t] <= s->quota[t]) continue;
      s->trun[t] -= s->job[x].cards; /* provisional; restored below */
    }
    s->vict[take++].id = x;
    got += s->job[x].cards;
  }
  if (k == V_RECLAIM)
    for (uint32_t i = 0; i < take; i++) s->trun[s->job[s->vict[i].id].tenant] += s->job[s->vict[i].id].cards;
  if (got < need) return 0;
  for (uint32_t i = 0; i < take; i++) {
    stop_job(s, s->vict[i].id, now, 1, 1);
    push_action(s, SCHED_PREEMPT, s->vict[i].id);
  }
  return 1;
}

/* ---- the pass ---- */
/* An in-order walk of a queue treap through the look-ahead window, skipping a subtree none of
 * whose jobs could start (counted as seen without a visit). Could start: before a reservation,
 * fits the free cards at the pass's start (freec0) unless it is the first misfit kept; after
 * it (EASY), fits the free cards now, and the cards to spare or ends before the reservation.
 * A job started during the walk leaves the treap: the left spine of its right subtree is on
 * the stack before (the erase relinks only left links there, and visited nodes). */
typedef struct qwalk {
  uint32_t freec0, budget, seen;
  int keep_first, reserved;
  wk_time now, shadow;
  uint64_t extra;
  uint32_t st[ITER_DEPTH];
  int sp;
} qwalk;

/* Pushes the left spine of x; the subtree where it stops, when none of its jobs could start,
 * lies just after the last job reached: it is counted there. The test holds for the rest of
 * the pass: the free cards and the cards to spare only fall once the reservation is set. */
static void q_spine(const sched *s, uint32_t x, qwalk *b) {
  for (; x != SCHED_NONE && b->seen < b->budget; x = s->q.l[x]) {
    uint32_t mw = s->q.mw[x];
    int none = b->keep_first ? 0
               : !b->reserved ? mw > b->freec0
                              : mw > sched_pool_free_cards(s->pool) || (mw > b->extra && s->q.me[x] > b->shadow - b->now);
    if (none) {
      uint32_t left = b->budget - b->seen;
      b->seen += s->q.sz[x] < left ? s->q.sz[x] : left;
      return;
    }
    WK_ASSERT(b->sp < ITER_DEPTH);
    b->st[b->sp++] = x;
  }
}
/* The next job of the window (SCHED_NONE past it), counted as seen. */
static uint32_t q_next(const sched *s, qwalk *b) {
  if (!b->sp || b->seen >= b->budget) return SCHED_NONE;
  uint32_t y = b->st[--b->sp];
  b->seen++;
  q_spine(s, s->q.r[y], b);
  return y;
}

/* Collects up to lookahead queued jobs of class cls in order into s->cand (from offset
 * *nc), keeping only those that could start with `freec` cards, plus (if keep_first) the
 * first one that could not. Returns the number examined. */
static uint32_t collect(sched *s, uint32_t cls, uint32_t budget, uint32_t freec, int keep_first,
                        uint32_t *nc) {
  qwalk b = {freec, budget, 0, keep_first, 0, 0, 0, 0, {0}, 0};
  q_spine(s, s->qroot[cls], &b);
  for (uint32_t x; (x = q_next(s, &b)) != SCHED_NONE;) {
    if (s->qw[x] > freec) {
      if (!b.keep_first) continue;
      b.keep_first = 0;
    }
    s->cand[(*nc)++] = x;
  }
  return b.seen;
}

/* EASY reservation for a job needing `need` cards: the earliest estimated end at which
 * enough cards are free (OUT: shadow) and the cards to spare then (OUT: extra). Running jobs
 * past their estimate are taken to end now. O(the treap's depth): expected O(log running jobs). */
static void reserve(const sched *s, uint32_t need, wk_time now, wk_time *shadow, uint64_t *extra) {
  uint64_t avail = sched_pool_free_cards(s->pool);
  /* the first running job, in order of end, whose cards with those of the jobs ending before it
   * make `need`: down the treap, into the left subtree when its cards suffice */
  const treap *t = &s->run;
  for (uint32_t x = s->rroot; x != SCHED_NONE;) {
    uint32_t l = t->l[x];
    if (l != SCHED_NONE && avail + t->cs[l] >= need) {
      x = l;
      continue;
    }
    avail += (l != SCHED_NONE ? t->cs[l] : 0) + t->w[x];
    if (avail >= need) {
      *shadow = t->a[x] > now ? t->a[x] : now;
      *extra = avail - need;
      return;
    }
    x = t->r[x];
  }
  *shadow = WK_TIME_MAX; /* more than the cards that are up: no reservation can hold */
  *extra = 0;
}

/* Once an EASY reservation is set (shadow, the cards to spare *extra): starts queued job y when
 * it fits the free cards now and either ends before the reservation or fits the cards to spare
 * (which it then takes). */
static void easy_fill(sched *s, uint32_t y, wk_time now, wk_time shadow, uint64_t *extra) {
  const sched_job *j = &s->job[y];
  if (j->cards > sched_pool_free_cards(s->pool)) return;
  int before = now + j->estimate <= shadow;
  if (!before && j->cards > *extra) return;
  if (start_job(s, y, now) && !before) *extra -= j->cards;
}

/* EASY backfill in one walk of the look-ahead window, each job decided as it is reached: the
 * same decisions, in the same order, as collecting the window's candidates first, without
 * visiting the runs of jobs that could not start. */
static void pass_backfill(sched *s, wk_time now) {
  qwalk b = {sched_pool_free_cards(s->pool), s->o.lookahead, 0, 1, 0, now, 0, 0, {0}, 0};
  q_spine(s, s->qroot[0], &b);
  for (uint32_t y; (y = q_next(s, &b)) != SCHED_NONE;) {
    const sched_job *j = &s->job[y];
    if (j->cards > b.freec0) { /* a candidate only as the first misfit */
      if (!b.keep_first) continue;
      b.keep_first = 0;
    }
    if (b.reserved) {
      easy_fill(s, y, now, b.shadow, &b.extra);
    } else if (j->cards <= sched_pool_free_cards(s->pool)) {
      start_job(s, y, now);
    } else {
      reserve(s, j->cards, now, &b.shadow, &b.extra);
      b.reserved = 1;
    }
  }
  s->window_full = b.seen == b.budget;
  /* a start pulls unexamined jobs into the window: the next pass must look again */
  if (s->nact) s->window_full = 0;
}

/* fifo, backfill, priority (EASY order with a reservation), sjf and las (greedy). */
static void pass_ordered(sched *s, wk_time now) {
  sched_policy p = s->o.policy;
  uint32_t freec = sched_pool_free_cards(s->pool);
  if (p == SCHED_FIFO) {
    while (s->qroot[0] != SCHED_NONE) {
      uint32_t x = s->qroot[0];
      while (s->q.l[x] != SCHED_NONE) x = s->q.l[x];
      if (!start_job(s, x, now)) break;
    }
    return;
  }
  if (p == SCHED_BACKFILL) {
    pass_backfill(s, now);
    return;
  }
  uint32_t nc = 0;
  int easy = p == SCHED_PRIORITY; /* backfill: pass_backfill */
  uint32_t seen = collect(s, 0, s->o.lookahead, freec, easy || s->preemptive, &nc);
  s->window_full = seen == s->o.lookahead;
  int reserved = 0, tried_preempt = 0;
  wk_time shadow = 0;
  uint64_t extra = 0;
  for (uint32_t i = 0; i < nc; i++) {
    uint32_t x = s->cand[i];
    const sched_job *j = &s->job[x];
    freec = sched_pool_free_cards(s->pool);
    if (!reserved) {
      if (j->cards <= freec) {
        start_job(s, x, now);
        continue;
      }
      if (p == SCHED_PRIORITY && !tried_preempt) {
        tried_preempt = 1;
        if (try_preempt(s, x, V_PRIORITY, now) && start_job(s, x, now)) continue;
      }
      if (p == SCHED_LAS && !tried_preempt) {
        tried_preempt = 1;
        if (try_preempt(s, x, V_LAS, now) && start_job(s, x, now)) continue;
      }
      if (easy) {
        reserve(s, j->cards, now, &shadow, &extra);
        reserved = 1;
      }
      continue;
    }
    easy_fill(s, x, now, shadow, &extra);
  }
  /* a start pulls unexamined jobs into the window: the next pass must look again */
  if (s->nact) s->window_full = 0;
}

static void pass_fairshare(sched *s, wk_time now) {
  update_usage(s, now);
  uint32_t nt = s->ntenants;
  for (uint32_t t = 0; t < nt; t++) s->torder[t] = t;
  for (uint32_t i = 1; i < nt; i++) /* few tenants: insertion sort */
    for (uint32_t m = i; m > 0 && tenant_cmp(s, s->torder[m], s->torder[m - 1]) < 0; m--) {
      uint32_t t = s->torder[m];
      s->torder[m] = s->torder[m - 1];
      s->torder[m - 1] = t;
    }
  uint32_t budget = s->o.lookahead;
  int tried_reclaim = 0;
  /* phase 1: within quota, in fairshare order; a tenant's turn ends at its first job that
   * its quota cannot hold or that no reclaim can place */
  for (uint32_t oi = 0; oi < nt && budget; oi++) {
    uint32_t t = s->torder[oi];
    while (budget && s->qroot[t] != SCHED_NONE) {
      uint32_t x = s->qroot[t];
      while (s->q.l[x] != SCHED_NONE) x = s->q.l[x];
      budget--;
      const sched_job *j = &s->job[x];
      if ((double)s->trun[t] + j->cards > s->quota[t]) break;
      if (start_job(s, x, now)) continue;
      if (!tried_reclaim) {
        tried_reclaim = 1;
        if (try_preempt(s, x, V_RECLAIM, now) && start_job(s, x, now)) continue;
      }
      break;
    }
  }
  /* phase 2: borrowing idle cards, greedy, in the same order */
  for (uint32_t oi = 0; oi < nt && budget; oi++) {
    uint32_t t = s->torder[oi], nc = 0;
    uint32_t freec = sched_pool_free_cards(s->pool);
    if (!freec) break;
    budget -= collect(s, t, budget, freec, 0, &nc);
    for (uint32_t i = 0; i < nc; i++)
      if (s->job[s->cand[i]].cards <= sched_pool_free_cards(s->pool)) start_job(s, s->cand[i], now);
  }
}

const sched_action *sched_pass(sched *s, wk_time now, uint32_t *n) {
  s->nact = 0;
  for (uint32_t i = 0; i < s->ndeferred; i++) store_put(s, s->deferred[2 * i], (uint8_t)s->deferred[2 * i + 1]);
  s->ndeferred = 0;
  if (s->nqueued) {
    uint32_t freec = sched_pool_free_cards(s->pool);
    /* Skip passes that cannot change anything: nothing queued fits and nothing may be
     * preempted; or (backfill) the last pass examined a full look-ahead window and started
     * nothing, no run stopped and the free count is the same (a card going down can move the
     * reservation later, so any change counts), so only arrivals happened, and they queue
     * behind the window (fifo order). Time passing only makes "ends before the reservation"
     * harder, so the jobs in the window would be refused again. */
    int unchanged = s->o.policy == SCHED_BACKFILL && s->window_full && !s->stopped &&
                    freec == s->free_after_pass;
    if (!unchanged && (s->preemptive || freec >= min_queued_cards(s))) {
      if (s->o.policy == SCHED_FAIRSHARE) pass_fairshare(s, now);
      else pass_ordered(s, now);
    }
  }
  for (uint32_t i = 0; i < s->nact; i++) s->act[i].r = s->store + s->act_off[i]; /* store is final */
  s->free_after_pass = sched_pool_free_cards(s->pool);
  s->stopped = 0;
  *n = s->nact;
  return s->act;
}
