/* fabric.c — the shared fabric under a replay's running jobs. Each job's communication phases
 * are laid on its real cards and routes (subflows per ring edge, ECMP-hashed); links of the
 * scale-up bus and NICs belong to one card, hence one job, and only bound its own rate; links
 * between switches (and dragonfly, torus links) are shared. A job's expected load on a link
 * is its bytes per iteration over its iteration time; what the others' expected load leaves a
 * job while it communicates (never less than its max-min share) sets its rate, its rate its
 * iteration time, and that time its load: a fixed point, solved by re-evaluating (new jobs
 * first, then in FIFO order) only the jobs whose links saw a change (replay_int.h has the
 * model in short, docs/replay.md in full); a job that starts where one with its workload ended
 * at the same instant takes over its state (handover). Memory: per job, its shape and cards,
 * its distinct shared links (and their versions after its first publish) and per-phase (link,
 * subflows) entries, in buffers recycled from ended jobs (a new job takes the free ones that
 * fit it best); per link, 74 bytes
 * (a 64-byte record: its count, its first two jobs' lents and where the others' lie; its
 * version, its class (tier and capacity) and the add-time map); per (job, shared link), a
 * 24-byte lent (its subflows there and its slack) in the link's record or block; per hot
 * entry, its last state (7 points and their hash, 84 bytes). */
#include "replay_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
/* max/min of values that are never NaN here, inlined (libm's fmax and fmin are calls) */
static inline double dmax(double a, double b) { return a > b ? a : b; }
static inline double dmin(double a, double b) { return a < b ? a : b; }
/* Two doubles in one register (GCC's vector extension: SSE2 on x86-64, NEON on arm64). A lane
 * is an IEEE double as a scalar is, each operation correctly rounded, so the same inputs give
 * the same bits; vmax and vmin select as dmax and dmin do. */
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2l __attribute__((vector_size(16)));
static inline v2d v2(double a) { return (v2d){a, a}; }
static inline v2d vsel(v2l m, v2d a, v2d b) { return (v2d)(((v2l)a & m) | ((v2l)b & ~m)); }
static inline v2d vmax(v2d a, v2d b) { return vsel(a > b, a, b); }
static inline v2d vmin(v2d a, v2d b) { return vsel(a < b, a, b); }
/* Relative load change (of a link's capacity) below which neighbours are not re-evaluated, and
 * the damping of successive iterates of one job within a solve (the map from the others' load
 * to a job's load is decreasing, so undamped Gauss-Seidel can settle into a 2-cycle). */
#define FAB_TOL 1e-5
#define FAB_DAMP 0.5
/* A job whose iteration time is within this (relative) of the one its published load was set
 * from does not publish, nor wake its neighbours; nor does one evaluated FAB_MAX_EVALS times in
 * one solve (its iterate is kept). Measured from the last publish, not the last evaluation:
 * from the last evaluation, small moves added up unseen (the neighbours read a load the job no
 * longer had), and a tolerance of 0.5 % kept the fixed point about as near as 1 % from the
 * last publish does (bench/replay_fabric's drift check: 0.47, 0.28, 0.21 % at worst on seeds
 * 1-3 against 0.45, 0.37, 0.31 %) for 15 % more evaluations on the same schedule (open loop, 6
 * days at 2:1); bench/validate_contention's table is the same to 0.4 points. */
#define FAB_RTOL 1e-2
/* A job whose iteration time moved by more than this (relative) makes its neighbours read all
 * their shared links at their next evaluation (below it, their hot links and touched ones).
 * At 2 % the solver spent 8 % more on the same schedule with no job nearer the fixed point
 * (bench/replay_fabric's drift check, 3 seeds): a smaller move seldom lifts a link from below
 * 0.9 of a neighbour's bound past it, and the neighbours it paces are woken anyway. */
#define FAB_SIG 0.10
#define FAB_MAX_EVALS 6

/* Loops over a job's links read per-link arrays at scattered places: each starts the loads of
 * the link PF_AHEAD iterations on (a cache miss each, else; bench/replay_fabric). */
#define PF_AHEAD 8
static inline void pf(const void *p) { __builtin_prefetch(p); }

/* ---- laying phases ------------------------------------------------------------------------- */
/* The routes of one ring edge's channels, each hashed apart (ECMP); inside one scale-up domain
 * there is one route (most edges: a phase's ring inside a supernode), laid once and given to fn
 * once for all the channels. */
static void edge(const hw_cluster *c, const uint64_t *down, uint32_t s, uint32_t d, uint64_t key,
                 int channels, replay_lay_fn fn, void *ctx) {
  hw_route rs[REPLAY_FAB_CHANNELS];
  if (hw_route_scaleup(c, s, d, &rs[0])) {
    fn(ctx, &rs[0], (uint32_t)channels);
    return;
  }
  uint64_t salt[REPLAY_FAB_CHANNELS];
  for (int ch = 0; ch < channels; ch++) salt[ch] = wk_mix64(key * REPLAY_FAB_CHANNELS + (uint64_t)ch);
  if (hw_route_live_n(c, s, d, salt, channels, down, rs) == 1) { /* one route for all of them */
    fn(ctx, &rs[0], (uint32_t)channels);
    return;
  }
  for (int ch = 0; ch < channels; ch++) fn(ctx, &rs[ch], 1);
}

static inline void su_at_least(int *su, int edges) {
  if (edges > *su) *su = edges;
}
/* replay_fab_lay; with su, the edges inside a scale-up domain are not laid, and *su is the most
 * such edges out of one card (lay_phase says why). */
static void lay(const hw_cluster *c, const uint64_t *down, const uint32_t *cards, uint32_t ncards,
                const work_phase *p, replay_lay_fn fn, void *ctx, int *su) {
  uint32_t n = p->n, st = p->stride;
  if (n < 2 || !st || (uint64_t)st * n > ncards) return;
  int ch = p->pattern == WORK_PAT_ALLTOALL ? 1 : REPLAY_FAB_CHANNELS;
  /* the groups' first ranks: b with (b / st) % n == 0, st of them in each block of n st */
  for (uint32_t b = 0; b + (uint64_t)(n - 1) * st < ncards;
       b = (b + 1) % st ? b + 1 : b + 1 + (n - 1) * st) { /* at most ncards: no wrap */
    int first = 0, prev = 0; /* a chain's or exchange's edges 0 and i - 1 inside a domain */
    for (uint32_t i = 0; i < n; i++) {
      uint32_t a = cards[b + i * st], nx = cards[b + (i + 1 == n ? 0 : i + 1) * st];
      uint64_t key = (uint64_t)(b + i * st) << 20 ^ (uint64_t)(p->pattern) << 16 ^ st;
      switch ((work_pattern)p->pattern) {
      case WORK_PAT_RING:
        if (su && hw_same_scaleup(c, a, nx)) {
          su_at_least(su, 1);
          break;
        }
        edge(c, down, a, nx, key, ch, fn, ctx);
        break;
      case WORK_PAT_CHAIN:
      case WORK_PAT_EXCHANGE:
        /* both ways with the next rank; a chain does not wrap, nor does a pair */
        if (i + 1 == n && (p->pattern == WORK_PAT_CHAIN || n == 2)) break;
        if (su && hw_same_scaleup(c, a, nx)) {
          /* rank i's edges are i - 1's and its own: two inside a domain when both are (and
           * rank 0's are the wrapping edge n - 1 and edge 0) */
          su_at_least(su, prev || (i + 1 == n && first) ? 2 : 1);
          first |= i == 0;
          prev = 1;
          break;
        }
        prev = 0;
        edge(c, down, a, nx, key, ch, fn, ctx);
        edge(c, down, nx, a, key ^ 1u << 19, ch, fn, ctx);
        break;
      case WORK_PAT_ALLTOALL: {
        int in = 0; /* its peers in its domain: as many edges out of it there as into it */
        for (uint32_t k = 0; k < n; k++) {
          if (k == i) continue;
          uint32_t d = cards[b + k * st];
          if (su && hw_same_scaleup(c, a, d)) in++;
          else edge(c, down, a, d, key ^ (uint64_t)k << 40, 1, fn, ctx);
        }
        if (su) su_at_least(su, in);
        break;
      }
      }
    }
  }
}

void replay_fab_lay(const hw_cluster *c, const uint64_t *down, const uint32_t *cards, uint32_t ncards,
                    const work_phase *p, replay_lay_fn fn, void *ctx) {
  lay(c, down, cards, ncards, p, fn, ctx, NULL);
}

/* Subflow counts per link, gathered while a phase is laid: a dense counter per link and the
 * list of links touched, so a phase costs its subflows, not the fabric. The fabric's counter
 * lists the private links (ids below npriv, where the cluster numbers them first) apart: they
 * only bound a job's own rate (priv_rate), and were two in three of the links an add met. */
typedef struct replay_counter {
  uint32_t *cnt, *touched, ntouched;
  uint32_t *ptouched, nptouched, npriv;
} counter;

/* Each list in the order its links were first met (with npriv 0, every link in touched). */
static void count_route(void *ctx, const hw_route *r, uint32_t w) {
  counter *k = ctx;
  for (uint32_t h = 0; h < r->n; h++) {
    uint32_t l = r->link[h], *n = &k->cnt[l];
    if (!*n) {
      if (l < k->npriv) k->ptouched[k->nptouched++] = l;
      else k->touched[k->ntouched++] = l;
    }
    *n += w;
  }
}

/* Room for one full phase in each list: at most every link. */
static void counter_init(counter *k, uint32_t nlinks) {
  k->cnt = wk_calloc(nlinks ? nlinks : 1, sizeof(uint32_t));
  k->touched = wk_malloc(sizeof(uint32_t) * (nlinks ? nlinks : 1));
  k->ptouched = wk_malloc(sizeof(uint32_t) * (nlinks ? nlinks : 1));
  k->ntouched = k->nptouched = k->npriv = 0;
}
static void counter_free(counter *k) {
  wk_free(k->cnt);
  wk_free(k->touched);
  wk_free(k->ptouched);
}

replay_counter *replay_counter_new(const hw_cluster *c) {
  counter *k = wk_malloc(sizeof *k);
  counter_init(k, hw_nlinks(c));
  return k;
}

void replay_counter_free(replay_counter *k) {
  if (!k) return;
  counter_free(k);
  wk_free(k);
}

double replay_fab_phase_rate(const hw_cluster *c, replay_counter *scratch, const uint32_t *cards,
                             uint32_t ncards, const work_phase *p) {
  counter own, *k = scratch;
  if (!k) {
    counter_init(&own, hw_nlinks(c));
    k = &own;
  }
  k->ntouched = 0;
  replay_fab_lay(c, NULL, cards, ncards, p, count_route, k);
  const double *cap = hw_link_capacity(c);
  double rate = INFINITY;
  for (uint32_t i = 0; i < k->ntouched; i++) {
    uint32_t l = k->touched[i];
    rate = fmin(rate, cap[l] / k->cnt[l]);
    k->cnt[l] = 0; /* left clean for the next phase */
  }
  if (k == &own) counter_free(&own);
  return rate;
}

/* ---- state ---------------------------------------------------------------------------------- */
typedef struct tpt { /* one point of one link's distribution, for the expected maximum: its
                        time and its link; and its point q (its probability is ghp[q]) */
  double t;
  uint32_t link, q;
} tpt;

/* A job's terms of a link's sums. Over the jobs on a link, each active with probability q and
 * carrying load l (bytes/s) on w subflows while active: expected load sum q l and subflows
 * sum q w; their variances sum q (1 - q) l^2 and sum q (1 - q) w^2; and, for the correction
 * in link_state, sum a l / D and sum a w / D, where a = q - q0 is the activity a job has beyond
 * its activity alone (q0) because of contention, and D the others' expected load there. */
enum { T_L, T_W, T_VL, T_VW, T_XL, T_XW, NTERMS };

typedef struct fph {
  double total, open;        /* time alone at the reference; the part compute hides */
  double rate_ref, rate_priv, rate, q, q0;
  double rate_solo;          /* the least rate over its private links and capacity / subflows of
                                its shared links: no other job can raise it */
  uint32_t off, n;           /* its entries [off, off + n) */
  uint32_t hn;               /* hot[off, off + hn): of those on links another job is on, the
                                ones that came near its bottleneck when last read (ehot marks
                                them; one found at its share leaves); each with its
                                state as last read (hpts, hn7) and its link's version then
                                (hver): read again only when the link's version moved */
  double lb;                 /* the bound (time per byte) of its last full evaluation */
  double last_rate, last_lb; /* the last evaluation's answer and bound (last_ok: there is one):
                                they follow from its hot entries' states alone */
  uint8_t last_ok;
  double ntier[HW_MAX_TIERS + 1]; /* its subflows on the shared links of each tier */
} fph;

typedef struct fjob {
  uint32_t job;
  double iter_ref, iter, stretch, iter0; /* iter0: alone on these cards */
  double iter_pub;           /* the iteration time its published coefficients (pcoef) are of */
  int nph, evals;            /* evals: in the current solve, for damping */
  fph ph[WORK_MAX_PHASES];
  uint32_t njl, capjl;       /* distinct shared links */
  uint32_t *jl_link, *jl_le; /* per link: its id, and its lent's position there (lent_at) */
  uint8_t *jl_sh;            /* per link: another job is on it (its link's njobs >= 2), kept by
                                the jobs that come and go there: read without the link record */
  uint32_t *jl_eoff, *jl_ent; /* CSR: the entries on each of its links */
  struct pw { float w; uint32_t ph; } *jl_pw; /* each CSR entry's subflows and phase, in order */
  /* per phase, its terms per subflow (w) or per subflow squared (w^2) on any link: what the
   * others read once it publishes them (lent_terms); set at each evaluation */
  double coef[WORK_MAX_PHASES][NTERMS];
  /* coef as last published (apply_job), a phase a cache line: the others read one phase's row
   * a link (lent_terms), and a row of 48 bytes at 8-byte alignment straddled two lines five
   * times in eight (the slots are aligned to lines) */
  _Alignas(64) double pcoef[WORK_MAX_PHASES][8];
  double tload[HW_MAX_TIERS + 1]; /* its expected load on each tier, in f->tier_load */
  /* the jobs that have a hot link in common with it, each with the generation of its hot list
   * when it said so (a later full evaluation makes a new list: older entries lapse) */
  uint32_t *wslot, *wgen, nw, capw;
  uint32_t hotgen;
  uint32_t serial;           /* the add that put it here (f->serial then): its queue tag */
  uint32_t nent, capent;     /* (phase, link) entries */
  uint32_t *ent_jl, *ent_ph;
  float *ent_n;
  uint32_t *hot;
  uint8_t *ehot;
  uint32_t *hver, *hocc, *hlink;
  uint64_t *hhash;           /* dist_hash of hpts */
  double *hpts;              /* 7 points a hot entry (hn7 = 7), or none (1: no contention) */
  uint8_t *hn7;
  uint32_t *touched, ntouched; /* its links (jl) whose state changed since its last evaluation */
  uint8_t *etouch;           /* per jl: in touched */
  uint8_t inq, changed, full; /* full: its next evaluation reads every contended link */
  uint8_t verify;            /* its next evaluation first touches its links whose version moved
                                since jl_ver (a new job's second look, replay_fab_solve) */
  uint32_t *jl_ver;          /* per link: its version after the job's first publish */
  uint8_t fresh;             /* added since its last evaluation */
  uint8_t leaving;           /* removed, still on its links until the next solve (leave) */
  /* what it was added with, for a handover (replay_fab_add): its shape, its cards in rank
   * order, and the fabric's epoch (which links were down when it was laid) */
  replay_shape shape;
  uint32_t *cards, ncards, capcards, epoch;
} fjob;

/* One job on one link (its link index jl), 24 bytes, in the link's record (flink) or block. Its
 * terms there are read from its published coefficients (pcoef) and the subflows of its entries
 * on the link, the first two kept here (ph0/w0, ph1/w1; ne entries in all, more than two read
 * from its CSR): publishing is then O(1) per job, and a link's state one walk of its lents and
 * of a few hundred jobs' coefficients, which stay in cache.
 * thr: the load the others may put on the link, mean plus 3.75 of their standard deviations,
 * below which it cannot slow the job (link_state's first test for each of its entries there,
 * at the job's private rate: fixed for its life); nhot: how many of its entries there are hot.
 * A job that moves need not make the others read a link again where that still holds and
 * nothing of theirs is hot: they would find it as before, not slowing them (apply_job). */
typedef struct lent {
  uint32_t slot, jl;
  float thr;
  uint8_t nhot, ne, ph0, ph1;
  float w0, w1;
} lent;

/* Per link, what the paths read together: one cache line, its counters and the lents of its
 * first LK_IN jobs (positions 0 and 1, oldest first); the rest (positions LK_IN and up) lie side
 * by side in f->le[off, ...), in a block of 2^cls lents taken from per-size free stacks when
 * it grows (and kept when the link empties). Most links a job meets hold one or two jobs: a
 * walk (newest first, the order sums are taken in), a join and a leave there read one line,
 * where a record and a separate block missed twice (bench/replay_fabric). A job keeps its
 * lent's position (jl_le), which only a leave below it moves. */
#define LK_IN 2
typedef struct flink {
  uint32_t off;   /* its overflow block in f->le (NONE: none yet) */
  uint32_t njobs; /* jobs on the link */
  uint32_t occ;   /* bumped when a job joins or leaves (the watchers there change) */
  uint32_t cls;   /* its block holds 2^cls lents */
  lent in[LK_IN];
} flink;

/* The lent at position i of link record k. */
static inline lent *lent_at(lent *le, flink *k, uint32_t i) {
  return i < LK_IN ? &k->in[i] : &le[k->off + (i - LK_IN)];
}

struct replay_fab {
  const hw_cluster *c;
  const uint64_t *down; /* the links out of service (routes avoid them), or NULL */
  uint32_t nlinks;
  /* per link, its class: a (tier, capacity) pair of cls_tier, cls_cap. A fabric has a handful
   * of link kinds, and two bytes a link stay in the second-level cache where the capacities
   * (eight bytes a link, read at random: each link a job meets) did not. Tier 0: private
   * (scale-up, NIC), else 1 = leaf uplinks and up. */
  uint16_t *lcl;
  double *cls_cap;
  uint8_t *cls_tier;
  uint32_t *clsmax, *clsat; /* priv_rate's scratch, per class */
  uint32_t su_cls;   /* the one class of every scale-up link (lay_phase), else NONE */
  int su_mesh;       /* the scale-up domain is a mesh, not a bus */
  uint32_t ncls, capcls, capclt;
  int ntiers;
  double tier_load[HW_MAX_TIERS + 1], tier_cap[HW_MAX_TIERS + 1];
  flink *lk;       /* per link */
  /* per link, its version: bumped whenever what a job reads there changes (a job joins, leaves
   * or publishes); a hot entry read at this version is current. Apart from the records: each
   * publish bumps it on every link the job shares and each evaluation polls it on every hot
   * entry, and four bytes a link (sixteen neighbours a line) keep those in the caches */
  uint32_t *lver;
  lent *le;         /* the links' blocks */
  uint32_t nle, caple;
  /* the free blocks of 2^c lents, a stack per size (taking one reads no cold block) */
  uint32_t *freeblk[32], nfree[32], capfree[32];
  fjob *slots;
  uint32_t nslots, capslots, freeslot_n, *freeslots;
  uint32_t *slot_of; /* per job id */
  uint32_t max_jobs;
  counter k;
  uint32_t *jlmap;   /* per link: the job's jl index while it is being added */
  struct stg { uint32_t link, n; } *stg; /* the job being added: its shared entries, by phase */
  uint32_t capstg;
  uint64_t *queue;   /* FIFO ring of queued slots (qtag) */
  uint32_t qhead, qlen, qcap;
  uint64_t *adds;    /* the slots added since the last solve, in order (qtag) */
  uint32_t nadds, capadds;
  uint32_t serial;   /* adds so far: each job's tag in its slot */
  uint32_t *changed, nchanged, capchanged;
  uint32_t *evald, nevald, capevald; /* the slots evaluated in the current solve */
  tpt *tp;           /* scratch of eval_job: link time distributions, and their CDFs */
  uint32_t captp, capF, capdist, capdup, caphv, capsc;
  uint32_t *bk, capbk; /* the expected maximum's bucket counts */
  double *F;
  const double **dist; /* each distinct link state's 7 points (in a hot entry or in hv) */
  double *hv;        /* per hot-list candidate, its 7 points */
  uint32_t *dup;     /* open-addressing set of distinct distributions (index into dist) */
  uint32_t *scan;    /* of the entries a phase evaluation read, those their link can slow
                        (hot-list candidates; their points in hv) */
  uint32_t *gat, *gatl, capgat, capgatl; /* an evaluation's entries, by phase, and their links */
  double *xs;        /* link_state: per job on the link, its correction terms and load */
  uint32_t capxs;
  replay_fab_stats st;
  uint32_t *leave, nleave, capleave;    /* the slots of the jobs removed since the last solve */
  uint32_t *handed, nhanded, caphanded; /* the slots handed over since then (their stretch is
                                           news to the caller) */
  uint32_t epoch;    /* bumped when a link's capacity changes: routes laid before may differ */
  uint32_t live;
  uint32_t gen;      /* hot-list generations, increasing */
};

/* Capacity for `need` elements of `size` bytes in *ptr (contents kept), doubling. */
static void grow(void **ptr, uint32_t *capv, uint32_t need, size_t size) {
  if (need <= *capv) return;
  uint32_t nc = *capv ? *capv : 64;
  while (nc < need) nc *= 2;
  *ptr = wk_realloc(*ptr, size * nc);
  *capv = nc;
}

/* The class of (tier, cap), added when new. Classes come from the cluster's link kinds (and a
 * capacity of 0 for each kind that faults take down): a 65,536th would need as many distinct
 * link capacities. */
static uint16_t link_class(replay_fab *f, int tier, double cap) {
  for (uint32_t i = 0; i < f->ncls; i++)
    if (f->cls_tier[i] == tier && !memcmp(&f->cls_cap[i], &cap, sizeof cap)) return (uint16_t)i;
  WK_ASSERT(f->ncls < 65536);
  uint32_t capm = f->capcls;
  grow((void **)&f->cls_cap, &f->capcls, f->ncls + 1, sizeof(double));
  grow((void **)&f->cls_tier, &f->capclt, f->ncls + 1, 1);
  if (capm != f->capcls) { /* priv_rate's per-class maxima, zero between its calls */
    f->clsmax = wk_realloc(f->clsmax, sizeof(uint32_t) * f->capcls);
    f->clsat = wk_realloc(f->clsat, sizeof(uint32_t) * f->capcls);
    memset(f->clsmax + capm, 0, sizeof(uint32_t) * (f->capcls - capm));
  }
  f->cls_cap[f->ncls] = cap;
  f->cls_tier[f->ncls] = (uint8_t)tier;
  return (uint16_t)f->ncls++;
}

replay_fab *replay_fab_new(const hw_cluster *c, const double *cap, const uint64_t *down,
                           uint32_t max_jobs) {
  replay_fab *f = wk_calloc(1, sizeof *f);
  f->c = c;
  f->down = down;
  f->nlinks = hw_nlinks(c);
  uint32_t nl = f->nlinks ? f->nlinks : 1;
  f->lcl = wk_calloc(nl, sizeof(uint16_t));
  for (uint32_t l = 0; l < f->nlinks; l++) {
    hw_link_kind k = hw_link_kind_of(c, l);
    int t = k == HW_LINK_FABRIC ? hw_link_tier(c, l)
            : k == HW_LINK_GLOBAL ? 2
            : k == HW_LINK_LOCAL || k == HW_LINK_TORUS ? 1
                                                       : 0;
    if (t > HW_MAX_TIERS) t = HW_MAX_TIERS;
    f->lcl[l] = link_class(f, t, cap[l]);
    f->tier_cap[t] += cap[l];
    if (t > f->ntiers) f->ntiers = t;
  }
  f->lk = wk_calloc_lines(nl, sizeof(flink));
  f->lver = wk_calloc_lines(nl, sizeof(uint32_t));
  f->jlmap = wk_malloc(sizeof(uint32_t) * nl);
  for (uint32_t l = 0; l < nl; l++) f->lk[l].off = f->jlmap[l] = NONE;
  f->max_jobs = max_jobs;
  f->slot_of = wk_malloc(sizeof(uint32_t) * (max_jobs ? max_jobs : 1));
  for (uint32_t j = 0; j < max_jobs; j++) f->slot_of[j] = NONE;
  counter_init(&f->k, f->nlinks);
  /* the private links are [0, npriv) when the cluster numbers them before the shared ones (all
   * presets do); else npriv stays 0 and every link is sorted out in replay_fab_add */
  uint32_t first = 0;
  while (first < f->nlinks && !f->cls_tier[f->lcl[first]]) first++;
  uint32_t l = first;
  while (l < f->nlinks && f->cls_tier[f->lcl[l]]) l++;
  if (l == f->nlinks) f->k.npriv = first;
  f->su_cls = NONE;
  f->su_mesh = hw_cfg(c)->scaleup == HW_SCALEUP_MESH;
  int su_one = f->k.npriv > 0; /* the private links apart, and every scale-up one of a class */
  for (l = 0; su_one && l < f->nlinks; l++) {
    if (hw_link_kind_of(c, l) != HW_LINK_SCALEUP) continue;
    if (f->su_cls == NONE) f->su_cls = f->lcl[l];
    else su_one = f->lcl[l] == f->su_cls;
  }
  if (!su_one) f->su_cls = NONE;
  return f;
}

static void leave_all(replay_fab *f);

void replay_fab_set_cap(replay_fab *f, uint32_t link, double cap) {
  if (link >= f->nlinks) return;
  /* the jobs removed so far leave first; routes laid from now on may differ from those before
   * (no handover across) */
  leave_all(f);
  f->epoch++;
  f->lcl[link] = link_class(f, f->cls_tier[f->lcl[link]], cap);
  /* a scale-up link of another capacity: the phases' scale-up edges are laid again */
  if (f->lcl[link] != f->su_cls && hw_link_kind_of(f->c, link) == HW_LINK_SCALEUP) f->su_cls = NONE;
}

void replay_fab_free(replay_fab *f) {
  if (!f) return;
  for (uint32_t s = 0; s < f->nslots; s++) {
    fjob *j = &f->slots[s];
    void *bufs[] = {j->jl_link, j->jl_le, j->jl_sh, j->jl_ver,   j->jl_eoff, j->jl_ent,  j->jl_pw,  j->ent_jl,
                    j->wslot,   j->wgen,
                    j->ent_ph,  j->ent_n,   j->hot,    j->touched,
                    j->etouch,  j->ehot,    j->hver,    j->hocc,    j->hlink,   j->hhash,    j->hpts,    j->hn7,
                    j->cards};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) wk_free(bufs[i]);
  }
  void *bufs[] = {f->slots, f->freeslots, f->lcl, f->cls_cap, f->cls_tier, f->lk, f->lver, f->jlmap,
                  f->le,
                  f->slot_of, f->queue, f->adds, f->changed, f->tp, f->bk, f->F, f->dist,   f->hv,  f->dup,
                  f->scan,  f->gat, f->gatl, f->xs,      f->evald, f->stg, f->clsmax, f->clsat,
                  f->leave, f->handed};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) wk_free(bufs[i]);
  for (int c = 0; c < 32; c++) wk_free(f->freeblk[c]);
  counter_free(&f->k);
  wk_free(f);
}

int replay_fab_has(const replay_fab *f, uint32_t job) {
  return job < f->max_jobs && f->slot_of[job] != NONE;
}
double replay_fab_stretch(const replay_fab *f, uint32_t job) {
  return replay_fab_has(f, job) ? f->slots[f->slot_of[job]].stretch : 1;
}
double replay_fab_alone(const replay_fab *f, uint32_t job) {
  if (!replay_fab_has(f, job)) return 1;
  const fjob *j = &f->slots[f->slot_of[job]];
  return j->iter_ref > 0 ? j->iter0 / j->iter_ref : 1;
}
void replay_fab_get_stats(const replay_fab *f, replay_fab_stats *out) { *out = f->st; }
int replay_fab_tiers(const replay_fab *f) { return f->ntiers; }
double replay_fab_tier_util(const replay_fab *f, int tier) {
  if (tier < 1 || tier > f->ntiers || !(f->tier_cap[tier] > 0)) return 0;
  return fmax(0, f->tier_load[tier]) / f->tier_cap[tier];
}

/* ---- queue ------------------------------------------------------------------------------------ */
/* Room for one more in the ring: grown, unrolled into the new buffer (rarely: a slot is queued
 * at most once, but for a slot freed and taken again while queued). */
static void ring_room(replay_fab *f) {
  if (f->qlen < f->qcap) return;
  uint32_t nc = f->qcap ? 2 * f->qcap : 64;
  uint64_t *nq = wk_malloc(sizeof(uint64_t) * nc);
  for (uint32_t i = 0; i < f->qlen; i++) nq[i] = f->queue[(f->qhead + i) % f->qcap];
  wk_free(f->queue);
  f->queue = nq;
  f->qcap = nc;
  f->qhead = 0;
}
/* A queued slot names its job's add too: a job removed while queued (woken by another's leaving,
 * or added, before the solve) leaves an entry that must not evaluate the next job in its slot
 * out of turn. */
static inline uint64_t qtag(const replay_fab *f, uint32_t s) {
  return (uint64_t)f->slots[s].serial << 32 | s;
}
/* Whether queue entry e is its slot's job now (OUT *s: the slot). */
static inline int qlive(const replay_fab *f, uint64_t e, uint32_t *s) {
  *s = (uint32_t)e;
  const fjob *j = &f->slots[*s];
  return j->serial == (uint32_t)(e >> 32) && f->slot_of[j->job] == *s;
}
static void push(replay_fab *f, uint32_t s) {
  fjob *j = &f->slots[s];
  if (j->inq) return;
  ring_room(f);
  f->queue[(f->qhead + f->qlen++) % f->qcap] = qtag(f, s);
  j->inq = 1;
}
/* A new job at the head of the queue (replay_fab_solve). */
static void push_front(replay_fab *f, uint32_t s) {
  ring_room(f);
  f->qhead = (f->qhead + f->qcap - 1) % f->qcap;
  f->queue[f->qhead] = qtag(f, s);
  f->qlen++;
}

/* Job s must look again at its entries on its link jl: the link is marked for its next
 * evaluation, and it is queued. */
static void touch(replay_fab *f, uint32_t s, uint32_t jl) {
  fjob *j = &f->slots[s];
  if (!j->etouch[jl]) {
    j->etouch[jl] = 1;
    j->touched[j->ntouched++] = jl;
  }
  push(f, s);
}

/* Job j's entry on link l is hot: the others there pace it, and wake it when they move. */
static void watch(replay_fab *f, fjob *j, uint32_t l) {
  uint32_t self = (uint32_t)(j - f->slots);
  flink *k = &f->lk[l];
  for (uint32_t x = k->njobs; x-- > 0;) {
    fjob *o = &f->slots[lent_at(f->le, k, x)->slot];
    if (o == j) continue;
    uint32_t w = o->nw;
    while (w > 0 && !(o->wslot[w - 1] == self && o->wgen[w - 1] == j->hotgen)) w--;
    if (w) continue; /* already there */
    uint32_t capw = o->capw;
    grow((void **)&o->wslot, &o->capw, o->nw + 1, sizeof(uint32_t));
    grow((void **)&o->wgen, &capw, o->nw + 1, sizeof(uint32_t));
    o->wslot[o->nw] = self;
    o->wgen[o->nw++] = j->hotgen;
  }
}

/* Queues the jobs job j paces (those whose hot lists are current; lapsed entries are dropped). */
static void wake_watchers(replay_fab *f, fjob *j) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < j->nw; i++) {
    uint32_t s = j->wslot[i];
    if (s >= f->nslots || f->slot_of[f->slots[s].job] != s || f->slots[s].hotgen != j->wgen[i])
      continue;
    j->wslot[k] = s;
    j->wgen[k++] = j->wgen[i];
    push(f, s);
  }
  j->nw = k;
}

/* One entry's terms, w subflows of a phase with coefficients c: set (term_set) or added. */
static inline void term_set(double *t, const double *c, double w) {
  double w2 = w * w;
  t[T_L] = c[T_L] * w;
  t[T_W] = c[T_W] * w;
  t[T_VL] = c[T_VL] * w2;
  t[T_VW] = c[T_VW] * w2;
  t[T_XL] = c[T_XL] * w;
  t[T_XW] = c[T_XW] * w;
}
static inline void term_add(double *t, const double *c, double w) {
  double w2 = w * w;
  t[T_L] += c[T_L] * w;
  t[T_W] += c[T_W] * w;
  t[T_VL] += c[T_VL] * w2;
  t[T_VW] += c[T_VW] * w2;
  t[T_XL] += c[T_XL] * w;
  t[T_XW] += c[T_XW] * w;
}

/* Job j's terms on its link jl as it last published them (OUT t[NTERMS]), from its phases'
 * activity and rates then: the sums of its entries there (the correction terms undivided:
 * link_state divides them). */
static void jl_terms(const fjob *j, uint32_t jl, double *t) {
  uint32_t i = j->jl_eoff[jl], end = j->jl_eoff[jl + 1];
  term_set(t, j->pcoef[j->jl_pw[i].ph], j->jl_pw[i].w);
  for (i++; i < end; i++) term_add(t, j->pcoef[j->jl_pw[i].ph], j->jl_pw[i].w);
}

/* The terms of the job on link entry x, as jl_terms gives them (the same operations in the same
 * order), from the entries kept in x when it has at most two there. */
static inline void lent_terms(const replay_fab *f, const lent *x, double *t) {
  const fjob *o = &f->slots[x->slot];
  if (x->ne > 2) {
    jl_terms(o, x->jl, t);
    return;
  }
  term_set(t, o->pcoef[x->ph0], x->w0);
  if (x->ne == 2) term_add(t, o->pcoef[x->ph1], x->w1);
}

/* Its expected load and the load's variance there (OUT *l, *vl): lent_terms' T_L and T_VL. */
static inline void lent_load(const replay_fab *f, const lent *x, double *l, double *vl) {
  const fjob *o = &f->slots[x->slot];
  if (x->ne > 2) {
    double t[NTERMS];
    jl_terms(o, x->jl, t);
    *l = t[T_L];
    *vl = t[T_VL];
    return;
  }
  const double *c = o->pcoef[x->ph0];
  double w = x->w0;
  *l = c[T_L] * w;
  *vl = c[T_VL] * (w * w);
  if (x->ne < 2) return;
  c = o->pcoef[x->ph1];
  w = x->w1;
  *l += c[T_L] * w;
  *vl += c[T_VL] * (w * w);
}

/* The least capacity per subflow over the private links a phase laid in f->k and, with su > 0,
 * over scale-up links carrying su subflows each (INFINITY: none), the counts cleared for the
 * next phase. */
static double priv_rate(replay_fab *f, uint32_t su) {
  /* per class, the most subflows on one of its links: capacity / subflows falls as subflows
   * grow (a correctly rounded division is monotone), so one division a class gives the least
   * over its links, as one a link did */
  uint32_t nc = 0;
  for (uint32_t i = 0; i < f->k.nptouched; i++) {
    uint32_t l = f->k.ptouched[i], c = f->lcl[l], n = f->k.cnt[l];
    f->k.cnt[l] = 0;
    if (!f->clsmax[c]) f->clsat[nc++] = c;
    if (n > f->clsmax[c]) f->clsmax[c] = n;
  }
  if (su) {
    uint32_t c = f->su_cls;
    if (!f->clsmax[c]) f->clsat[nc++] = c;
    if (su > f->clsmax[c]) f->clsmax[c] = su;
  }
  double r = INFINITY;
  for (uint32_t i = 0; i < nc; i++) {
    uint32_t c = f->clsat[i];
    r = dmin(r, f->cls_cap[c] / f->clsmax[c]);
    f->clsmax[c] = 0;
  }
  return r;
}

/* Phase p of a job on these cards laid in f->k; returns its private rate (priv_rate). Its edges
 * inside a scale-up domain are not routed. A card is in one group of a phase: it sends one edge
 * of a ring and receives one, two of a chain or exchange (one to each neighbour, as many back),
 * and in an all-to-all one to and one from each peer. In a mesh, where each ordered pair of
 * cards has its own link, every scale-up link such edges meet carries one edge's channels; on
 * a bus, a card's link up carries the channels of each edge it sends inside its domain and its
 * link down of each it receives (as many, in all four patterns): the channels times the most
 * such edges of one card, which lay counts. priv_rate takes that once for the scale-up class.
 * Routing them was 9 in 10 of the edges the adds laid (20 of 22 million in 10 days at 2:1). */
static double lay_phase(replay_fab *f, const uint32_t *cards, uint32_t ncards, const work_phase *p) {
  int su = 0;
  f->k.ntouched = f->k.nptouched = 0;
  lay(f->c, f->down, cards, ncards, p, count_route, &f->k, f->su_cls != NONE ? &su : NULL);
  uint32_t ch = p->pattern == WORK_PAT_ALLTOALL ? 1 : REPLAY_FAB_CHANNELS;
  return priv_rate(f, ch * (uint32_t)(f->su_mesh ? su > 0 : su));
}

/* Starts the loads of what link_state reads of link l past its record: the class, and the
 * coefficients of the first two jobs there (the record itself should be on its way). */
static inline void pf_lents(const replay_fab *f, uint32_t l) {
  const flink *k = &f->lk[l];
  pf(&f->lcl[l]);
  if (k->njobs > 0) pf(f->slots[k->in[0].slot].pcoef[k->in[0].ph0]);
  if (k->njobs > 1) pf(f->slots[k->in[1].slot].pcoef[k->in[1].ph0]);
  if (k->njobs > LK_IN) pf(&f->le[k->off]);
}

/* Job j's lent on its link jl. */
static inline lent *jl_lent(replay_fab *f, const fjob *j, uint32_t jl) {
  return lent_at(f->le, &f->lk[j->jl_link[jl]], j->jl_le[jl]);
}

/* ---- adding and removing jobs ------------------------------------------------------------------ */
/* A slot for a job of nent entries on njl links: of the free ones, the one whose buffers hold it
 * with the least to spare (the latest freed among equals), else the one with the most room, else
 * a new one. Taken last in, first out, slots grew to the largest job each ever held: a month's
 * buffers reached 690 MB over 213 slots, each growth faulting in fresh pages. */
static uint32_t take_slot(replay_fab *f, uint32_t nent, uint32_t njl) {
  uint32_t best = NONE, most = NONE;
  for (uint32_t i = f->freeslot_n; i-- > 0;) {
    const fjob *j = &f->slots[f->freeslots[i]];
    if (j->capent >= nent && j->capjl > njl) { /* room() wants njl + 1 */
      if (best == NONE || j->capent < f->slots[f->freeslots[best]].capent) best = i;
    } else if (most == NONE || j->capent > f->slots[f->freeslots[most]].capent) {
      most = i;
    }
  }
  if (best == NONE) best = most;
  if (best != NONE) {
    uint32_t slot = f->freeslots[best];
    memmove(&f->freeslots[best], &f->freeslots[best + 1], sizeof(uint32_t) * (--f->freeslot_n - best));
    return slot;
  }
  if (f->nslots == f->capslots) {
    f->capslots = f->capslots ? 2 * f->capslots : 64;
    fjob *ns = wk_calloc_lines(f->capslots, sizeof(fjob)); /* aligned: pcoef's rows to lines */
    if (f->nslots) memcpy(ns, f->slots, sizeof(fjob) * f->nslots);
    wk_free(f->slots);
    f->slots = ns;
    f->freeslots = wk_realloc(f->freeslots, sizeof(uint32_t) * f->capslots);
  }
  memset(&f->slots[f->nslots], 0, sizeof(fjob));
  return f->nslots++;
}

/* A free block of 2^c lents. */
static uint32_t take_block(replay_fab *f, uint32_t c) {
  if (f->nfree[c]) return f->freeblk[c][--f->nfree[c]];
  uint32_t need = f->nle + (1u << c);
  if (need > f->caple) {
    uint32_t nc = f->caple ? f->caple : 1024;
    while (nc < need) nc *= 2;
    lent *nl = wk_malloc_big(sizeof(lent) * nc);
    if (f->nle) memcpy(nl, f->le, sizeof(lent) * f->nle);
    wk_free(f->le);
    f->le = nl;
    f->caple = nc;
  }
  uint32_t b = f->nle;
  f->nle = need;
  return b;
}
static void give_block(replay_fab *f, uint32_t b, uint32_t c) {
  grow((void **)&f->freeblk[c], &f->capfree[c], f->nfree[c] + 1, sizeof(uint32_t));
  f->freeblk[c][f->nfree[c]++] = b;
}

/* The job at position p of link record k leaves: the newer lents close up (order kept), their
 * jobs told their new positions. */
static void close_lents(replay_fab *f, flink *k, uint32_t p) {
  for (uint32_t i = p + 1; i < k->njobs; i++) {
    lent *y = lent_at(f->le, k, i - 1);
    *y = *lent_at(f->le, k, i);
    f->slots[y->slot].jl_le[y->jl] = i - 1;
  }
}

/* Room for a new lent at the end of link l (its block grown when full: positions stay, so no
 * job is told); returns its position. */
static uint32_t push_lent(replay_fab *f, uint32_t l) {
  flink *k = &f->lk[l];
  if (k->njobs < LK_IN) return k->njobs;
  uint32_t over = k->njobs - LK_IN;
  if (k->off == NONE) {
    k->cls = 0;
    k->off = take_block(f, 0);
  } else if (over == 1u << k->cls) {
    uint32_t c = k->cls;
    uint32_t b = take_block(f, c + 1); /* may move f->le: indices only */
    memcpy(&f->le[b], &f->le[k->off], sizeof(lent) * over);
    give_block(f, k->off, c);
    k->off = b;
    k->cls = c + 1;
  }
  return k->njobs;
}

/* Fresh storage for n elements of size bytes in *ptr, its contents dropped (free and malloc:
 * no copy, which realloc would make). */
static void renew(void **ptr, size_t n, size_t size) {
  wk_free(*ptr);
  *ptr = wk_malloc(n * size);
}

/* Room in a slot for a job of `nent` entries on `njl` links (its buffers, kept from the jobs the
 * slot held before, are filled anew: nothing in them is kept). */
static void room(fjob *j, uint32_t nent, uint32_t njl) {
  if (njl + 1 > j->capjl) {
    uint32_t nc = j->capjl ? j->capjl : 64;
    while (nc < njl + 1) nc *= 2;
    renew((void **)&j->jl_link, nc, sizeof(uint32_t));
    renew((void **)&j->jl_le, nc, sizeof(uint32_t));
    renew((void **)&j->jl_sh, nc, 1);
    renew((void **)&j->jl_ver, nc, sizeof(uint32_t));
    renew((void **)&j->jl_eoff, nc + 1, sizeof(uint32_t));
    j->capjl = nc;
  }
  if (nent > j->capent) {
    uint32_t nc = j->capent ? j->capent : 64;
    while (nc < nent) nc *= 2;
    void **bufs[] = {(void **)&j->ent_jl, (void **)&j->ent_ph, (void **)&j->ent_n,
                     (void **)&j->jl_ent, (void **)&j->hot,    (void **)&j->touched,
                     (void **)&j->hver,   (void **)&j->hocc,   (void **)&j->hlink};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) renew(bufs[i], nc, 4);
    renew((void **)&j->etouch, nc, 1);
    renew((void **)&j->ehot, nc, 1);
    renew((void **)&j->hn7, nc, 1);
    renew((void **)&j->jl_pw, nc, sizeof(*j->jl_pw));
    renew((void **)&j->hhash, nc, sizeof(uint64_t));
    renew((void **)&j->hpts, (size_t)7 * nc, sizeof(double));
    j->capent = nc;
  }
}

/* Whether shapes a and b lay the same traffic for the same reference time (the same bits). */
static int shape_same(const replay_shape *a, const replay_shape *b) {
  if (a->nphases != b->nphases || memcmp(&a->iter_ref_s, &b->iter_ref_s, sizeof(double))) return 0;
  for (int k = 0; k < a->nphases; k++) {
    const work_phase *x = &a->ph[k], *y = &b->ph[k];
    if (x->pattern != y->pattern || x->stride != y->stride || x->n != y->n ||
        memcmp(&x->total_s, &y->total_s, sizeof(double)) || memcmp(&x->exposed_s, &y->exposed_s, sizeof(double)) ||
        memcmp(&a->rate_ref[k], &b->rate_ref[k], sizeof(double)))
      return 0;
  }
  return 1;
}

/* Job `job` takes over the slot of a job removed since the last solve with the same shape on
 * the same cards, laid at the same epoch (leave[i]): the same traffic on the same links, so the
 * state the slot holds (its iterate, published load, hot lists and its neighbours' view of it)
 * is as near the fixed point for the new job as it was for the old one, and nobody's links
 * change. A job ending and the next taking its cards at the same instant is common (a fifth
 * of a month's adds at 2:1, bench/replay_fabric): re-laying it, waking the jobs it paced to
 * read its leaving, then evaluating it afresh and them again once it published, landed where
 * it was, within the solver's tolerance. */
static void handover(replay_fab *f, uint32_t i, uint32_t job) {
  uint32_t slot = f->leave[i];
  memmove(&f->leave[i], &f->leave[i + 1], sizeof(uint32_t) * (--f->nleave - i));
  fjob *j = &f->slots[slot];
  j->leaving = 0;
  j->job = job;
  f->slot_of[job] = slot;
  if (j->njl) f->st.adds++, f->st.handovers++;
  if (++f->live > f->st.peak_jobs && j->njl) f->st.peak_jobs = f->live;
  grow((void **)&f->handed, &f->caphanded, f->nhanded + 1, sizeof(uint32_t));
  f->handed[f->nhanded++] = slot;
}

void replay_fab_add(replay_fab *f, uint32_t job, const replay_shape *s, const uint32_t *cards,
                    uint32_t ncards) {
  WK_ASSERT(job < f->max_jobs && f->slot_of[job] == NONE);
  for (uint32_t i = 0; i < f->nleave; i++) {
    const fjob *o = &f->slots[f->leave[i]];
    if (o->epoch == f->epoch && o->ncards == ncards && (!ncards || o->cards[0] == cards[0]) &&
        shape_same(&o->shape, s) && !memcmp(o->cards, cards, sizeof(uint32_t) * ncards)) {
      handover(f, i, job);
      return;
    }
  }
  /* every phase laid first, its shared (link, subflows) staged in f->stg and the distinct links
   * numbered in f->jlmap, so that the job takes the slot that fits it */
  uint32_t nst = 0, njl = 0, soff[WORK_MAX_PHASES + 1] = {0};
  double rpriv[WORK_MAX_PHASES], ntier[WORK_MAX_PHASES][HW_MAX_TIERS + 1] = {{0}};
  for (int k = 0; k < s->nphases; k++) {
    rpriv[k] = lay_phase(f, cards, ncards, &s->ph[k]);
    grow((void **)&f->stg, &f->capstg, nst + f->k.ntouched, sizeof(*f->stg));
    for (uint32_t i = 0; i < f->k.ntouched; i++) {
      uint32_t l = f->k.touched[i], n = f->k.cnt[l];
      if (i + PF_AHEAD < f->k.ntouched) {
        uint32_t a = f->k.touched[i + PF_AHEAD];
        pf(&f->lcl[a]);
        pf(&f->jlmap[a]);
      }
      f->k.cnt[l] = 0;
      uint32_t lc = f->lcl[l];
      if (!f->cls_tier[lc]) {
        rpriv[k] = dmin(rpriv[k], f->cls_cap[lc] / n);
        continue;
      }
      if (f->jlmap[l] == NONE) f->jlmap[l] = njl++;
      f->stg[nst++] = (struct stg){l, n};
      ntier[k][f->cls_tier[lc]] += n; /* whole numbers: exact in any order */
    }
    soff[k + 1] = nst;
  }
  uint32_t slot = take_slot(f, nst, njl);
  fjob *j = &f->slots[slot];
  j->job = job;
  j->iter_ref = j->iter = j->iter_pub = s->iter_ref_s; /* its first evaluation publishes */
  j->stretch = 1;
  j->nph = s->nphases;
  j->njl = j->nent = j->ntouched = j->nw = 0;
  j->hotgen = ++f->gen;
  j->serial = ++f->serial;
  memset(j->tload, 0, sizeof j->tload);
  j->inq = j->changed = j->verify = 0;
  j->full = j->fresh = 1;
  j->evals = 0;
  j->leaving = 0;
  j->shape = *s;
  j->epoch = f->epoch;
  j->ncards = ncards;
  if (ncards > j->capcards) {
    j->capcards = ncards;
    renew((void **)&j->cards, ncards, sizeof(uint32_t));
  }
  memcpy(j->cards, cards, sizeof(uint32_t) * ncards);
  room(j, nst, njl);
  for (int k = 0; k < s->nphases; k++) {
    fph *p = &j->ph[k];
    memset(p, 0, sizeof *p);
    p->total = s->ph[k].total_s;
    p->open = s->ph[k].total_s - s->ph[k].exposed_s;
    p->rate_ref = s->rate_ref[k];
    p->rate_priv = p->rate = INFINITY;
    p->off = j->nent;
    p->rate_priv = rpriv[k];
    for (uint32_t i = soff[k]; i < soff[k + 1]; i++) {
      uint32_t l = f->stg[i].link, n = f->stg[i].n, e = j->nent++, jl = f->jlmap[l];
      if (jl == j->njl) j->jl_link[j->njl++] = l; /* met first here: numbered in that order */
      j->ent_jl[e] = jl;
      j->ent_ph[e] = (uint32_t)k;
      j->ent_n[e] = (float)n;
      j->etouch[e] = j->ehot[e] = 0;
    }
    memcpy(p->ntier, ntier[k], sizeof p->ntier);
    p->n = j->nent - p->off;
    p->rate_solo = p->rate_priv;
    for (uint32_t e = p->off; e < p->off + p->n; e++)
      p->rate_solo = dmin(p->rate_solo, f->cls_cap[f->lcl[j->jl_link[j->ent_jl[e]]]] / j->ent_n[e]);
  }
  /* the entries on each link, as CSR */
  memset(j->jl_eoff, 0, sizeof(uint32_t) * (j->njl + 1));
  for (uint32_t e = 0; e < j->nent; e++) j->jl_eoff[j->ent_jl[e] + 1]++;
  for (uint32_t i = 0; i < j->njl; i++) j->jl_eoff[i + 1] += j->jl_eoff[i];
  for (uint32_t e = 0; e < j->nent; e++) j->jl_ent[j->jl_eoff[j->ent_jl[e]]++] = e;
  for (uint32_t i = j->njl; i > 0; i--) j->jl_eoff[i] = j->jl_eoff[i - 1];
  j->jl_eoff[0] = 0;
  for (uint32_t i = 0; i < j->nent; i++) {
    uint32_t e = j->jl_ent[i];
    j->jl_pw[i].w = j->ent_n[e];
    j->jl_pw[i].ph = j->ent_ph[e];
  }
  memset(j->coef, 0, sizeof j->coef);
  memset(j->pcoef, 0, sizeof j->pcoef);
  for (uint32_t i = 0; i < j->njl; i++) {
    if (i + PF_AHEAD < j->njl) pf(&f->lk[j->jl_link[i + PF_AHEAD]]);
    uint32_t l = j->jl_link[i], e = push_lent(f, l);
    flink *k = &f->lk[l];
    f->jlmap[l] = NONE;
    lent *x = lent_at(f->le, k, e);
    x->slot = slot;
    x->jl = i;
    uint32_t y0 = j->jl_eoff[i], ne = j->jl_eoff[i + 1] - y0;
    x->ne = (uint8_t)ne; /* at most one entry per phase */
    x->ph0 = (uint8_t)j->jl_pw[y0].ph;
    x->w0 = j->jl_pw[y0].w;
    x->ph1 = ne > 1 ? (uint8_t)j->jl_pw[y0 + 1].ph : 0;
    x->w1 = ne > 1 ? j->jl_pw[y0 + 1].w : 0;
    double thr = INFINITY;
    for (uint32_t y = j->jl_eoff[i]; y < j->jl_eoff[i + 1]; y++) {
      double n = j->jl_pw[y].w, c = f->cls_cap[f->lcl[l]];
      thr = dmin(thr, c - n * dmin(j->ph[j->jl_pw[y].ph].rate_priv, c / n));
    }
    float tf = (float)thr; /* rounded down: the test stays on the safe side */
    x->thr = tf > thr ? nextafterf(tf, -INFINITY) : tf;
    x->nhot = 0;
    j->jl_le[i] = e;
    f->lver[l]++;
    k->occ++;
    /* the jobs already there have company now: they look at the link again once the new job
     * has a pace of its own (apply_job) */
    j->jl_sh[i] = k->njobs > 0;
    if (k->njobs == 1) f->slots[k->in[0].slot].jl_sh[k->in[0].jl] = 1;
    k->njobs++;
  }
  /* activity alone on these cards: the reference of the correction in link_state */
  double iter0 = j->iter_ref, x0[WORK_MAX_PHASES];
  for (int k = 0; k < j->nph; k++) {
    fph *p = &j->ph[k];
    x0[k] = !isfinite(p->rate_ref) ? p->total
            : p->rate_solo > 0    ? p->total * p->rate_ref / p->rate_solo
                                  : INFINITY;
    iter0 += fmax(0, x0[k] - p->open) - (p->total - p->open);
  }
  for (int k = 0; k < j->nph; k++)
    j->ph[k].q0 = isfinite(iter0) && isfinite(x0[k]) && iter0 > 0 ? fmin(1, x0[k] / iter0) : 0;
  j->iter0 = iter0;
  f->slot_of[job] = slot;
  if (j->njl) f->st.adds++;
  if (++f->live > f->st.peak_jobs && j->njl) f->st.peak_jobs = f->live;
  if (!j->inq) { /* queued ahead of the others at the next solve */
    grow((void **)&f->adds, &f->capadds, f->nadds + 1, sizeof(uint64_t));
    f->adds[f->nadds++] = qtag(f, slot);
    j->inq = 1;
  }
}

/* A removed job's slot leaves its links (replay_fab_remove said why it waited). */
static void leave(replay_fab *f, uint32_t slot) {
  fjob *j = &f->slots[slot];
  j->leaving = 0;
  for (uint32_t i = 0; i < j->njl; i++) {
    if (i + PF_AHEAD < j->njl) pf(&f->lk[j->jl_link[i + PF_AHEAD]]);
    uint32_t l = j->jl_link[i];
    flink *k = &f->lk[l];
    close_lents(f, k, j->jl_le[i]);
    f->lver[l]++;
    k->occ++;
    /* an emptied link keeps its block for the next jobs there: growing it again moved every
     * lent each time */
    if (--k->njobs == 1) {
      f->slots[k->in[0].slot].jl_sh[k->in[0].jl] = 0; /* alone there now */
    }
  }
  /* Taking a job off only lowers the others' load (and its spread) on every link it leaves: a
   * link that was far below a job's bottleneck stays so; the jobs it paced (hot links in common,
   * their versions moved) are woken to read those again. */
  wake_watchers(f, j);
  for (int t = 0; t <= HW_MAX_TIERS; t++) f->tier_load[t] -= j->tload[t];
  for (uint32_t e = 0; e < j->ntouched; e++) j->etouch[j->touched[e]] = 0;
  j->njl = j->ntouched = 0;
  f->freeslots[f->freeslot_n++] = slot; /* its buffers stay with the slot for the next job */
  /* a removed slot still in the queue is skipped by solve (its job no longer maps to it) */
}

/* The slots removed since the last solve leave, in the order their jobs were removed: as if
 * each had left when removed (nothing between reads what they change but the adds, which only
 * append to the links' lists, and the readers that skip leaving slots). */
static void leave_all(replay_fab *f) {
  for (uint32_t i = 0; i < f->nleave; i++) leave(f, f->leave[i]);
  f->nleave = 0;
}

/* The job stops counting at once; its slot stays on its links until the next solve (or a
 * capacity change), for a job with its shape and cards to take over (handover). */
void replay_fab_remove(replay_fab *f, uint32_t job) {
  if (!replay_fab_has(f, job)) return;
  uint32_t slot = f->slot_of[job];
  f->slots[slot].leaving = 1;
  f->slot_of[job] = NONE;
  f->live--;
  grow((void **)&f->leave, &f->capleave, f->nleave + 1, sizeof(uint32_t));
  f->leave[f->nleave++] = slot;
}

/* ---- solving ------------------------------------------------------------------------------------ */
/* The others' activity on a link: their load and subflows are taken as normal with the link's
 * means and variances (less the job's own terms), in perfect correlation, and sampled at the
 * 7 Gauss-Hermite points. While others are active the job gets what they leave, never less
 * than its max-min share against their subflows. */
static const double gh_x[7] = {0, 0.8162878828589647, -0.8162878828589647, 1.6735516287674714,
                               -1.6735516287674714, 2.6519613568352334, -2.6519613568352334};
/* each point's probability: the Gauss-Hermite weights over sqrt(pi) (0.8102646175568073,
 * 0.4256072526101278, 0.05451558281912703, 9.717812450995192e-4, each times
 * 0.5641895835477563, as doubles round the products) */
static const double ghp[7] = {0.45714285714285713, 0.2401231786050127, 0.2401231786050127,
                              0.030757123967586498, 0.030757123967586498, 0.0005482688559722179,
                              0.0005482688559722179};

/* The time per byte of one subflow of job j's entry e as a 7-point distribution over the others'
 * activity: pts[i] with probability ghp[i]. Returns 1 when the others can hardly
 * reach the job's share: then pts[0] is its rate there, min(r_cap, c / n), and the link costs
 * one comparison; else 7. The others are taken as they would be without this job (the arrival
 * theorem of mean value analysis): each other job's activity beyond its activity alone is
 * credited to the jobs it meets on this link in proportion to their load, and this job's share
 * of that is taken off. Exact for two jobs on one link; negligible among many. */
static int link_state(replay_fab *f, const fjob *j, uint32_t e, uint32_t l, double r_cap,
                      double *pts) {
  uint32_t self = (uint32_t)(j - f->slots);
  flink *k = &f->lk[l];
  double c = f->cls_cap[f->lcl[l]], n = j->ent_n[e], o[NTERMS] = {0}, total = 0, own = 0;
  double r0 = dmin(r_cap, c / n);
  /* one walk of the link's list: the others' sums, and each one's correction terms and load
   * apart (its correction divides by what the rest put on the link) */
  grow((void **)&f->xs, &f->capxs, 3 * k->njobs + 3, sizeof(double));
  double *xl = f->xs, *xw = xl + k->njobs, *ld = xw + k->njobs;
  uint32_t m = 0;
  /* the others' coefficients past the record's two, loaded at once rather than one by one */
  for (uint32_t i = LK_IN; i < k->njobs; i++) {
    const lent *x = &f->le[k->off + (i - LK_IN)];
    pf(f->slots[x->slot].pcoef[x->ph0]);
  }
  for (uint32_t i = k->njobs; i-- > 0;) {
    const lent *x = lent_at(f->le, k, i);
    double t[NTERMS];
    lent_terms(f, x, t);
    total += t[T_L];
    if (x->slot == self) { /* its own lent: one per link */
      own = t[T_L];
      continue;
    }
    for (int q = 0; q < T_XL; q++) o[q] += t[q];
    xl[m] = t[T_XL];
    xw[m] = t[T_XW];
    ld[m++] = t[T_L];
  }
  /* the others' mean load and its variance alone decide most links: the correction below only
   * lowers the load, so a link that passes without it passes with it */
  double sl = sqrt(o[T_VL]);
  if (o[T_L] + 3.75 * sl <= c - n * r0) {
    pts[0] = r0;
    return 1;
  }
  for (uint32_t i = 0; i < m; i++) {
    double others = total - ld[i], inv = others > FAB_TOL * c ? 1 / others : 0;
    o[T_XL] += xl[i] * inv;
    o[T_XW] += xw[i] * inv;
  }
  double L = dmax(0, o[T_L] - dmin(o[T_L], own * o[T_XL]));
  double W = dmax(0, o[T_W] - dmin(o[T_W], own * o[T_XW]));
  double sw = sqrt(o[T_VW]);
  if (L + 3.75 * sl <= c - n * r0) {
    pts[0] = r0;
    return 1;
  }
  /* point 0 (z = 0) alone, then the pairs of points at +-z two lanes at a time: the three
   * divisions a point were most of a state's arithmetic, and a lane rounds as the scalar does */
  double cn = c * n;
  {
    double lo = dmax(0, L + sl * 0.0), wo = dmax(0, W + sw * 0.0);
    double r = dmin(r0, dmax(c - lo, cn / (n + wo)) / n);
    pts[0] = r > 0 ? 1 / r : INFINITY;
  }
  for (int i = 1; i < 7; i += 2) {
    v2d z = {1.4142135623730951 * gh_x[i], 1.4142135623730951 * gh_x[i + 1]};
    v2d lo = vmax(v2(0), v2(L) + v2(sl) * z), wo = vmax(v2(0), v2(W) + v2(sw) * z);
    v2d r = vmin(v2(r0), vmax(v2(c) - lo, v2(cn) / (v2(n) + wo)) / v2(n));
    v2d t = vsel(r > v2(0), v2(1) / r, v2(INFINITY));
    memcpy(&pts[i], &t, sizeof t);
  }
  return 7;
}

static inline int tpt_less(const tpt *x, const tpt *y) {
  return x->t < y->t || (x->t == y->t && x->link < y->link);
}
/* (t, link, q): a total order (a link's points are distinct in q), the order a stable sort by
 * (t, link) of points laid out by q gives. */
static inline int tpt_less3(const tpt *x, const tpt *y) {
  return tpt_less(x, y) || (x->t == y->t && x->link == y->link && x->q < y->q);
}
/* Heap sort by tpt_less3: O(n log n) whatever the input (insert_sort_tpt's fallback). */
static void sift_tpt(tpt *v, uint32_t i, uint32_t n) {
  tpt x = v[i];
  for (uint32_t c; (c = 2 * i + 1) < n; i = c) {
    if (c + 1 < n && tpt_less3(&v[c], &v[c + 1])) c++;
    if (!tpt_less3(&x, &v[c])) break;
    v[i] = v[c];
  }
  v[i] = x;
}
static void heap_sort_tpt(tpt *v, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) sift_tpt(v, i, n);
  for (uint32_t m = n; m-- > 1;) {
    tpt t = v[0];
    v[0] = v[m];
    v[m] = t;
    sift_tpt(v, 0, m);
  }
}
/* Insertion sort by (t, link), stable: cheap on short or nearly sorted runs; past 8 moves a
 * point (points crowded into few buckets by a far outlier), a heap sort finishes it. */
static void insert_sort_tpt(tpt *v, uint32_t n) {
  uint64_t moves = 0, most = 8 * (uint64_t)n + 64;
  for (uint32_t i = 1; i < n; i++) {
    tpt x = v[i];
    uint32_t k = i;
    for (; k > 0 && tpt_less(&x, &v[k - 1]); k--) v[k] = v[k - 1];
    v[k] = x;
    if ((moves += i - k) > most) {
      heap_sort_tpt(v, n);
      return;
    }
  }
}
/* Sorts v[0, n) by (t, link), stably, into tmp (returned; v is left scattered): a counting sort
 * on n buckets of [min t, max finite t], then an insertion sort, which moves points only inside
 * a bucket (the bucket of t never decreases as t grows: a subtraction and a product by a positive
 * scale round monotonically). The points above a phase's bound lie within tens of percent of
 * each other, so buckets hold about one point each; a comparison sort paid a mispredicted branch
 * per comparison here (most of the expected maximum's cost for jobs on hundreds of links). */
static tpt *sort_tpt(tpt *v, uint32_t n, tpt *tmp, uint32_t *cnt) {
  double lo = INFINITY, hi = -INFINITY;
  for (uint32_t i = 0; i < n; i++) {
    double t = v[i].t;
    if (t < lo) lo = t;
    if (t > hi && t < INFINITY) hi = t;
  }
  if (n < 32 || !(hi > lo)) {
    insert_sort_tpt(v, n);
    return v;
  }
  double scale = (double)n / (hi - lo), top = (double)(n - 1);
  memset(cnt, 0, sizeof(uint32_t) * (n + 1));
  for (uint32_t i = 0; i < n; i++) {
    double x = (v[i].t - lo) * scale;
    uint32_t b = x < top ? (uint32_t)x : n - 1;
    v[i].q |= b << 3; /* q < 8: the bucket rides above it until the scatter */
    cnt[b + 1]++;
  }
  for (uint32_t b = 0; b < n; b++) cnt[b + 1] += cnt[b];
  for (uint32_t i = 0; i < n; i++) {
    tpt x = v[i];
    uint32_t b = x.q >> 3;
    x.q &= 7;
    tmp[cnt[b]++] = x;
  }
  insert_sort_tpt(tmp, n);
  return tmp;
}

/* E[max(floor, T_1, ..., T_m)] for independent T_i given as points (t, p) of m links, each
 * link's p summing to 1: the points at or below the floor (most of them: max() is the floor
 * there) only start each F_i (IN F[i], their sum); the others (v[0, na)) are swept in
 * increasing t, keeping prod_i F_i(t). */
static double expected_max(tpt *v, uint32_t na, uint32_t m, double floor, double *F, tpt *tmp,
                           uint32_t *cnt) {
  uint32_t zeros = 0;
  double prod = 1; /* of the nonzero F_i */
  for (uint32_t i = 0; i < m; i++) {
    if (F[i] > 1) F[i] = 1;
    if (F[i] == 0) zeros++;
    else prod *= F[i];
  }
  double prev = zeros ? 0 : prod, e = floor * prev;
  v = sort_tpt(v, na, tmp, cnt);
  for (uint32_t i = 0; i < na; i++) {
    /* the ratio by which the link's F moved: its division waits on that link's last point
     * alone, not on the running product (a chain of divisions was most of the sweep) */
    double *f = &F[v[i].link], was = *f, now = dmin(1, was + ghp[v[i].q]);
    *f = now;
    if (was == 0) {
      zeros--;
      prod *= now;
    } else {
      prod *= now / was;
    }
    double P = zeros ? 0 : prod;
    if (i + 1 < na && v[i + 1].t == v[i].t) continue;
    e += v[i].t * (P - prev);
    prev = P;
  }
  return e; /* P reaches 1 at the last point */
}

/* The hash only spreads the set's probes (equal states are found by comparing all 7 points,
 * and the distinct ones are kept in the order met): the points' bits, each rotated apart, mixed
 * once. All seven count: the points at low load are often the same 1 / r0 for many links. */
static uint64_t dist_hash(const double *pts) {
  uint64_t h = 0;
  for (int q = 0; q < 7; q++) {
    uint64_t b;
    memcpy(&b, &pts[q], sizeof b);
    int r = 9 * q;
    h ^= r ? b << r | b >> (64 - r) : b;
  }
  return wk_mix64(h);
}
/* Adds one link's 7 points to the phase's distinct distributions (links with the same points
 * carry the same jobs' traffic: the up and down links of a pair of leaves, the tiers of one
 * path: one state, counted once), raising the bound *lb to its least time. */
static void add_dist(replay_fab *f, const double *pts, uint64_t h, uint32_t mask, uint32_t *m,
                     double *lb) {
  uint32_t at = (uint32_t)h & mask;
  for (; f->dup[at] != NONE; at = (at + 1) & mask)
    if (!memcmp(f->dist[f->dup[at]], pts, 7 * sizeof(double))) return;
  grow((void **)&f->dist, &f->capdist, *m + 1, sizeof(*f->dist));
  f->dist[*m] = pts; /* stays put until the phase's answer is made */
  f->dup[at] = (*m)++;
  *lb = dmax(*lb, pts[6]); /* the time at the least load (z = -2.65) */
}

/* The rate of phase k of job j (per subflow: bytes/s). A ring step waits for its slowest
 * subflow: the phase's time per byte is the expected maximum over its links, taken as
 * independent, of theirs. Read are the entries `scan` lists (all its contended entries on a
 * full evaluation; else those whose links changed) and, on a partial one, its hot entries too,
 * each read again only when its link's version moved since (else its state as last read). The
 * entries read whose most loaded time came within 10 % of the bound (the least time at least
 * one link always takes, OUT *bound) join the phase's hot list; a full evaluation makes the
 * list anew. */
static double phase_rate(replay_fab *f, fjob *j, int k, const uint32_t *scan, const uint32_t *scanl,
                         uint32_t cnt,
                         int full, double *bound) {
  fph *p = &j->ph[k];
  double rmin = p->rate_solo, pts[7];
  uint32_t m = 0, need = 16, nh = 0, hn = full ? 0 : p->hn;
  while (need < 2 * (cnt + hn)) need *= 2;
  grow((void **)&f->hv, &f->caphv, 7 * (cnt + 1), sizeof(double));
  double lb = 1 / rmin; /* the maximum is at least every link's least time */
  int moved = full || !p->last_ok;
  for (uint32_t i = p->off; i < p->off + hn; i++) {
    uint32_t l = j->hlink[i];
    if (j->hver[i] == f->lver[l]) continue;
    uint32_t e = j->hot[i];
    double *h = &j->hpts[(size_t)i * 7];
    int n7 = link_state(f, j, e, l, p->rate_priv, pts);
    j->hver[i] = f->lver[l];
    f->st.entries_visited++;
    if (n7 == 1) { /* fell to its share: no longer hot (it is read again when touched) */
      uint32_t last = p->off + --hn;
      p->hn--;
      j->ehot[e] = 0;
      jl_lent(f, j, j->ent_jl[e])->nhot--;
      j->hot[i] = j->hot[last];
      j->hver[i] = j->hver[last];
      j->hocc[i] = j->hocc[last];
      j->hlink[i] = j->hlink[last];
      j->hhash[i] = j->hhash[last];
      j->hn7[i] = j->hn7[last];
      memcpy(h, &j->hpts[(size_t)last * 7], 7 * sizeof(double));
      moved = 1;
      i--; /* the last one, now here, is looked at next */
      continue;
    }
    /* often the same state: then nothing moved here */
    if (n7 != j->hn7[i] || memcmp(h, pts, sizeof pts)) { /* n7 is 7 here */
      j->hn7[i] = (uint8_t)n7;
      memcpy(h, pts, sizeof pts);
      j->hhash[i] = dist_hash(h);
      moved = 1;
    }
    if (j->hocc[i] != f->lk[l].occ) { /* a job came since: it paces this one too */
      j->hocc[i] = f->lk[l].occ;
      watch(f, j, l);
    }
  }
  for (uint32_t i = 0; i < cnt; i++) {
    uint32_t e = scan[i];
    if (i + 2 * PF_AHEAD < cnt) pf(&f->lk[scanl[i + 2 * PF_AHEAD]]);
    if (i + PF_AHEAD < cnt) pf_lents(f, scanl[i + PF_AHEAD]);
    if (link_state(f, j, e, scanl[i], p->rate_priv, pts) == 1) continue; /* its r0 is in rate_solo */
    memcpy(&f->hv[(size_t)nh * 7], pts, sizeof pts);
    f->scan[nh++] = e; /* a hot-list candidate, its points in hv */
  }
  f->st.entries_visited += cnt;
  /* Only links whose most loaded time passes the bound set the maximum, and those are hot (a
   * link read is made hot above 0.9 of it); nor can a link below it raise the bound. With no
   * hot state read again and no link read that would join them, the answer is the last one. */
  if (!moved) {
    double lbc = p->last_lb;
    for (uint32_t i = 0; i < nh; i++) lbc = dmax(lbc, f->hv[(size_t)i * 7 + 6]);
    uint32_t i = 0;
    while (i < nh && !(f->hv[(size_t)i * 7 + 5] > 0.9 * lbc && !j->ehot[f->scan[i]])) i++;
    if (i == nh) {
      *bound = p->last_lb;
      return p->last_rate;
    }
  }
  if (need > f->capdup) {
    f->dup = wk_realloc(f->dup, sizeof(uint32_t) * need);
    f->capdup = need;
  }
  memset(f->dup, 0xff, sizeof(uint32_t) * need); /* the distinct states' set, empty */
  for (uint32_t i = p->off; i < p->off + hn; i++)
    if (j->hn7[i] == 7) add_dist(f, &j->hpts[(size_t)i * 7], j->hhash[i], need - 1, &m, &lb);
  for (uint32_t i = 0; i < nh; i++)
    add_dist(f, &f->hv[(size_t)i * 7], dist_hash(&f->hv[(size_t)i * 7]), need - 1, &m, &lb);
  if (full) {
    f->st.full_entries += cnt;
    for (uint32_t i = 0; i < p->hn; i++) {
      uint32_t e = j->hot[p->off + i];
      j->ehot[e] = 0;
      jl_lent(f, j, j->ent_jl[e])->nhot--;
    }
    p->hn = 0;
  }
  for (uint32_t i = 0; i < nh; i++) {
    uint32_t e = f->scan[i];
    if (!(f->hv[(size_t)i * 7 + 5] > 0.9 * lb) || j->ehot[e]) continue;
    j->ehot[e] = 1;
    jl_lent(f, j, j->ent_jl[e])->nhot++;
    uint32_t at = p->off + p->hn++, l = j->jl_link[j->ent_jl[e]];
    j->hot[at] = e;
    memcpy(&j->hpts[(size_t)at * 7], &f->hv[(size_t)i * 7], sizeof pts);
    j->hn7[at] = 7;
    j->hhash[at] = dist_hash(&j->hpts[(size_t)at * 7]);
    j->hver[at] = f->lver[l];
    j->hocc[at] = f->lk[l].occ;
    j->hlink[at] = l;
    watch(f, j, l);
  }
  *bound = lb;
  /* only links that can exceed the bound can set the maximum (the time at the most load, z =
   * +2.65, above it) */
  uint32_t nk = 0, mk = 0, one = 0;
  for (uint32_t i = 0; i < m; i++)
    if (f->dist[i][5] > lb) one = i, mk++;
  double rate;
  if (!mk) {
    rate = m ? 1 / lb : rmin; /* rate_solo exactly when no link was slowed, as at add */
  } else if (mk == 1) { /* one link left: E[max(lb, T)] needs no sweep */
    const double *v = f->dist[one];
    double e = 0;
    for (int q = 0; q < 7; q++) e += ghp[q] * dmax(lb, v[q]);
    rate = 1 / e;
  } else {
    /* each link's points at or below the bound start its CDF; the others are swept */
    grow((void **)&f->F, &f->capF, mk + 1, sizeof(double));
    grow((void **)&f->tp, &f->captp, 14 * mk, sizeof(tpt)); /* the points, and a sorted copy */
    grow((void **)&f->bk, &f->capbk, 7 * mk + 1, sizeof(uint32_t));
    mk = 0;
    for (uint32_t i = 0; i < m; i++) {
      const double *v = f->dist[i];
      if (!(v[5] > lb)) continue;
      double F0 = 0;
      for (uint32_t q = 0; q < 7; q++) {
        if (v[q] <= lb) F0 += ghp[q];
        else f->tp[nk++] = (tpt){v[q], mk, q};
      }
      f->F[mk++] = F0;
    }
    double worst = expected_max(f->tp, nk, mk, lb, f->F, f->tp + 7 * mk, f->bk);
    rate = worst > 0 ? 1 / worst : INFINITY;
  }
  p->last_rate = rate;
  p->last_lb = lb;
  p->last_ok = 1;
  return rate;
}

/* The entries an evaluation of job j reads, by phase (phase k's in f->gat[at[k], + ng[k]), in
 * the order of its links: on a full one, its entries on every link another job is on; on a
 * partial one, those on its touched links that are not hot. */
static void gather(replay_fab *f, const fjob *j, int full, uint32_t *at, uint32_t *ng) {
  uint32_t tot = 0;
  for (int k = 0; k < j->nph; k++) {
    at[k] = tot;
    ng[k] = 0;
    tot += j->ph[k].n;
  }
  grow((void **)&f->gat, &f->capgat, tot + 1, sizeof(uint32_t));
  grow((void **)&f->gatl, &f->capgatl, tot + 1, sizeof(uint32_t));
  grow((void **)&f->scan, &f->capsc, tot + 1, sizeof(uint32_t));
  uint32_t nl = full ? j->njl : j->ntouched;
  for (uint32_t i = 0; i < nl; i++) {
    uint32_t jl = full ? i : j->touched[i];
    if (!j->jl_sh[jl]) continue; /* alone there */
    uint32_t l = j->jl_link[jl];
    for (uint32_t y = j->jl_eoff[jl]; y < j->jl_eoff[jl + 1]; y++) {
      uint32_t e = j->jl_ent[y], k = j->jl_pw[y].ph; /* ent_ph[e], read in order */
      if (full || !j->ehot[e]) {
        f->gatl[at[k] + ng[k]] = l; /* link_state's link, read here once a link */
        f->gat[at[k] + ng[k]++] = e;
      }
    }
  }
}

/* New rates, iteration time and activity of one job from the others' load now. A full
 * evaluation reads every contended link of the job; it is due for a new job, and when a
 * partial one finds the bound fallen by more than 15 % (links it did not read could then
 * matter). Otherwise only the hot links and those whose state changed are read: a link far
 * below the bottleneck at the last full evaluation that nobody touched stays below it. Returns
 * 1 when its iteration time is far enough from the one it last published to matter to its
 * neighbours (OUT *moved: how far, relative). */
static int eval_job(replay_fab *f, fjob *j, double *moved, int *was_fresh) {
  double iter = j->iter_ref, x[WORK_MAX_PHASES];
  if (j->verify && !j->full) { /* what moved since its first look: the rest reads as it did */
    for (uint32_t i = 0; i < j->njl; i++) {
      if (i + 2 * PF_AHEAD < j->njl) pf(&f->lver[j->jl_link[i + 2 * PF_AHEAD]]);
      if (j->jl_sh[i] && f->lver[j->jl_link[i]] != j->jl_ver[i] && !j->etouch[i]) {
        j->etouch[i] = 1;
        j->touched[j->ntouched++] = i;
      }
    }
  }
  j->verify = 0;
  int full = j->full;
  uint32_t at[WORK_MAX_PHASES], ng[WORK_MAX_PHASES];
  gather(f, j, full, at, ng);
  for (int pass = 0; pass < 2; pass++) {
    iter = j->iter_ref;
    int refull = 0;
    if (full) {
      j->hotgen = ++f->gen; /* a new hot list: the old one's watchers lapse */
      f->st.full_evals++;
    }
    for (int k = 0; k < j->nph; k++) {
      fph *p = &j->ph[k];
      /* a partial evaluation's hot entries phase_rate reads itself */
      double lb, r = phase_rate(f, j, k, &f->gat[at[k]], &f->gatl[at[k]], ng[k], full, &lb);
      /* when the bound of a partial evaluation fell, links it did not read may matter */
      if (full) p->lb = lb;
      else if (lb < 0.85 * p->lb) refull = 1;
      p->rate = r;
      x[k] = !isfinite(p->rate_ref) ? p->total : r > 0 ? p->total * p->rate_ref / r : INFINITY;
      iter += dmax(0, x[k] - p->open) - (p->total - p->open);
    }
    if (!refull) break;
    full = 1;
    gather(f, j, full, at, ng);
  }
  for (uint32_t i = 0; i < j->ntouched; i++) j->etouch[j->touched[i]] = 0;
  j->ntouched = 0;
  j->full = 0;
  int fresh = j->fresh; /* just added: its load is news to everyone on its links */
  j->fresh = 0;
  *was_fresh = fresh;
  if (!j->evals) {
    grow((void **)&f->evald, &f->capevald, f->nevald + 1, sizeof(uint32_t));
    f->evald[f->nevald++] = (uint32_t)(j - f->slots);
  }
  if (j->evals++ > 1 && isfinite(iter) && isfinite(j->iter)) {
    double target = iter;
    iter = j->iter + FAB_DAMP * (iter - j->iter);
    /* a damped step stops half way: the job looks again (its neighbours may not wake it) */
    if (!(fabs(target - iter) <= FAB_RTOL * iter) && j->evals <= FAB_MAX_EVALS) push(f, (uint32_t)(j - f->slots));
  }
  j->iter = iter;
  for (int k = 0; k < j->nph; k++) {
    fph *p = &j->ph[k];
    p->q = isfinite(iter) && isfinite(x[k]) && iter > 0 ? dmin(1, x[k] / iter) : 0;
    double *c = j->coef[k], q = p->q, v = q * (1 - q), a = dmax(0, q - p->q0), r = p->rate;
    if (!(q > 0) || !isfinite(r)) {
      memset(c, 0, sizeof(double) * NTERMS);
      continue;
    }
    c[T_L] = q * r;
    c[T_W] = q;
    c[T_VL] = v * r * r;
    c[T_VW] = v;
    c[T_XL] = a * r;
    c[T_XW] = a;
  }
  double st = j->iter_ref > 0 ? iter / j->iter_ref : 1;
  if (st != j->stretch) {
    j->stretch = st;
    if (!j->changed) {
      j->changed = 1;
      grow((void **)&f->changed, &f->capchanged, f->nchanged + 1, sizeof(uint32_t));
      f->changed[f->nchanged++] = j->job;
    }
  }
  /* a new job's neighbours were touched where it meets them: no full evaluation for them */
  double pub = j->iter_pub;
  *moved = fresh ? 0 : isfinite(pub) && pub > 0 ? fabs(iter - pub) / pub : INFINITY;
  if (j->evals > FAB_MAX_EVALS) return 0;
  return fresh || !(fabs(iter - pub) <= FAB_RTOL * pub);
}

/* The job's new coefficients published (O(1): the others read its terms from them), each link
 * it shares marked changed (O(its shared links)), its load per tier, and its neighbours told of
 * its new pace. A new job, or one that moved by more than FAB_SIG of its iteration, has the
 * others read each link they share with it where it could slow them (thr; O(jobs on its
 * shared links)); a smaller move wakes only its watchers, which read their hot links
 * (O(watchers)). */
static void apply_job(replay_fab *f, uint32_t slot, double moved, int fresh) {
  fjob *j = &f->slots[slot];
  /* a new job, or a large move: the others read again the links they share with it; a small
   * one matters only where it is near a neighbour's bottleneck: its watchers */
  int big = fresh || !(moved <= FAB_SIG);
  for (int k = 0; k < j->nph; k++) memcpy(j->pcoef[k], j->coef[k], sizeof j->coef[k]);
  j->iter_pub = j->iter;
  /* a small move bumps the versions of the links it shares (where it is alone nobody reads
   * them): an add of 0 or 1, as a branch on the link's company was a mispredicted one in three */
  for (uint32_t i = 0; !big && i < j->njl; i++) {
    if (i + 2 * PF_AHEAD < j->njl) __builtin_prefetch(&f->lver[j->jl_link[i + 2 * PF_AHEAD]], 1);
    f->lver[j->jl_link[i]] += j->jl_sh[i];
  }
  for (uint32_t i = 0; big && i < j->njl; i++) {
    if (i + PF_AHEAD < j->njl) pf(&f->lk[j->jl_link[i + PF_AHEAD]]);
    if (!j->jl_sh[i]) continue; /* alone there: nobody reads it */
    uint32_t l = j->jl_link[i];
    flink *k = &f->lk[l];
    f->lver[l]++;
    /* the link's load and variance now: each other job's share of it is these less its own */
    grow((void **)&f->xs, &f->capxs, 2 * k->njobs, sizeof(double));
    double tl = 0, tv = 0, margin = 1e-6 * f->cls_cap[f->lcl[l]], *xv = f->xs;
    uint32_t m = 0;
    for (uint32_t o = k->njobs; o-- > 0; m += 2) {
      lent_load(f, lent_at(f->le, k, o), &xv[m], &xv[m + 1]);
      tl += xv[m];
      tv += xv[m + 1];
    }
    m = 0;
    for (uint32_t o = k->njobs; o-- > 0; m += 2) {
      const lent *x = lent_at(f->le, k, o);
      if (x->slot == slot) continue;
      if (!x->nhot && tl - xv[m] + 3.75 * sqrt(dmax(0, tv - xv[m + 1])) <= (double)x->thr - margin)
        continue; /* far from slowing it: it would find the link as before */
      touch(f, x->slot, x->jl);
    }
  }
  for (int t = 0; t <= HW_MAX_TIERS; t++) {
    double load = 0;
    for (int k = 0; k < j->nph; k++)
      if (j->ph[k].q > 0 && isfinite(j->ph[k].rate)) load += j->ph[k].q * j->ph[k].rate * j->ph[k].ntier[t];
    f->tier_load[t] += load - j->tload[t];
    j->tload[t] = load;
  }
  if (!big) wake_watchers(f, j);
}

const uint32_t *replay_fab_solve(replay_fab *f, uint32_t *n) {
  f->nchanged = 0;
  leave_all(f);
  /* a job handed a slot has the stretch the slot held: news to the caller, which started it at
   * 1 (as a new job's first evaluation is) */
  for (uint32_t i = 0; i < f->nhanded; i++) {
    fjob *j = &f->slots[f->handed[i]];
    if (f->slot_of[j->job] != f->handed[i] || j->changed || j->stretch == 1) continue;
    j->changed = 1;
    grow((void **)&f->changed, &f->capchanged, f->nchanged + 1, sizeof(uint32_t));
    f->changed[f->nchanged++] = j->job;
    grow((void **)&f->evald, &f->capevald, f->nevald + 1, sizeof(uint32_t));
    f->evald[f->nevald++] = f->handed[i]; /* its flag cleared at the end */
  }
  f->nhanded = 0;
  /* The jobs added since the last solve go first, in the order they came: each publishes its
   * load before its neighbours, woken by the jobs that left at the same instant, look again;
   * so a neighbour of both (a new job often takes the cards of one that ended) is evaluated
   * once, not once for each. A new job looks again after the jobs it touched (below). */
  for (uint32_t i = f->nadds; i-- > 0;) {
    uint32_t s;
    if (qlive(f, f->adds[i], &s)) push_front(f, s);
  }
  f->nadds = 0;
  if (f->qlen) f->st.solves++;
  /* A bound on the work of one solve: damped iterates converge geometrically, so a job is
   * re-evaluated a few dozen times at most; past the bound the iterate is kept as it is. */
  uint64_t budget = 200 * (uint64_t)(f->qlen + 16);
  while (f->qlen && budget--) {
    uint32_t s;
    int live = qlive(f, f->queue[f->qhead], &s);
    f->qhead = (f->qhead + 1) % f->qcap;
    f->qlen--;
    if (!live) continue; /* removed while queued */
    fjob *j = &f->slots[s];
    j->inq = 0;
    f->st.evals++;
    double moved;
    int fresh;
    if (eval_job(f, j, &moved, &fresh)) apply_job(f, s, moved, fresh); /* below FAB_RTOL nobody is told */
    if (fresh) { /* it read its links before its neighbours settled: once more after the jobs it
                    touched, reading again the links whose state they moved */
      for (uint32_t i = 0; i < j->njl; i++) j->jl_ver[i] = f->lver[j->jl_link[i]];
      j->verify = 1;
      push(f, s);
    }
  }
  while (f->qlen) { /* budget spent: drop the rest of the queue */
    uint32_t s;
    if (qlive(f, f->queue[f->qhead], &s)) f->slots[s].inq = 0;
    f->qhead = (f->qhead + 1) % f->qcap;
    f->qlen--;
  }
  for (uint32_t i = 0; i < f->nevald; i++) f->slots[f->evald[i]].evals = f->slots[f->evald[i]].changed = 0;
  f->nevald = 0;
  *n = f->nchanged;
  return f->changed;
}

void replay_fab_settle(replay_fab *f, double tol, int rounds) {
  leave_all(f);
  /* the live jobs in the order they were added (by the serials in their tags): settling does
   * not depend on which slots they hold */
  uint64_t *ord = wk_malloc(sizeof(uint64_t) * (f->nslots + 1));
  double *before = wk_malloc(sizeof(double) * (f->nslots + 1));
  uint32_t m = 0, nch;
  for (uint32_t s = 0; s < f->nslots; s++)
    if (f->slot_of[f->slots[s].job] == s) ord[m++] = qtag(f, s);
  qsort(ord, m, sizeof *ord, replay_cmp_u64);
  for (int r = 0; r < rounds; r++) {
    double worst = 0;
    for (uint32_t i = 0; i < m; i++) {
      fjob *j = &f->slots[(uint32_t)ord[i]];
      before[i] = j->stretch;
      j->full = 1;
      push(f, (uint32_t)ord[i]);
    }
    (void)replay_fab_solve(f, &nch);
    for (uint32_t i = 0; i < m; i++) {
      double st = f->slots[(uint32_t)ord[i]].stretch;
      worst = fmax(worst, fabs(st - before[i]) / fmax(before[i], 1e-300));
    }
    if (worst <= tol) break;
  }
  wk_free(ord);
  wk_free(before);
}

const uint32_t *replay_fab_drift(replay_fab *f, double *mean, double *worst, uint32_t *n) {
  double *before = wk_malloc(sizeof(double) * (f->nslots + 1)), sum = 0, mx = 0;
  uint32_t live = 0;
  for (uint32_t s = 0; s < f->nslots; s++) before[s] = f->slots[s].stretch;
  replay_fab_settle(f, 1e-6, 50);
  for (uint32_t s = 0; s < f->nslots; s++) {
    const fjob *j = &f->slots[s];
    if (f->slot_of[j->job] != s || !j->njl || !isfinite(j->stretch) || !isfinite(before[s])) continue;
    double d = fabs(before[s] - j->stretch) / j->stretch;
    sum += d;
    mx = dmax(mx, d);
    live++;
  }
  wk_free(before);
  *mean = live ? sum / live : 0;
  *worst = mx;
  /* every live job's stretch as settled, for the caller to take */
  f->nchanged = 0;
  for (uint32_t s = 0; s < f->nslots; s++) {
    fjob *j = &f->slots[s];
    if (f->slot_of[j->job] != s) continue;
    grow((void **)&f->changed, &f->capchanged, f->nchanged + 1, sizeof(uint32_t));
    f->changed[f->nchanged++] = j->job;
  }
  *n = f->nchanged;
  return f->changed;
}

double replay_fab_probe(replay_fab *f, const replay_shape *s, const uint32_t *cards, uint32_t n) {
  double iter = s->iter_ref_s;
  for (int k = 0; k < s->nphases; k++) {
    double r = lay_phase(f, cards, n, &s->ph[k]);
    for (uint32_t i = 0; i < f->k.ntouched; i++) {
      uint32_t l = f->k.touched[i];
      double c = f->cls_cap[f->lcl[l]], w = f->k.cnt[l], rl = c / w;
      f->k.cnt[l] = 0;
      flink *lk = &f->lk[l];
      if (f->cls_tier[f->lcl[l]] && lk->njobs && c > 0) {
        /* what the others' expected load and subflows leave it here now (link_state at
         * the mean): a spread that meets busy links pays for it in its own rate (the jobs
         * removed at this instant are gone) */
        double lo = 0, wo = 0, t1[NTERMS];
        uint32_t on = 0;
        for (uint32_t x = lk->njobs; x-- > 0;) {
          const lent *y = lent_at(f->le, lk, x);
          if (f->slots[y->slot].leaving) continue;
          lent_terms(f, y, t1);
          lo += t1[T_L];
          wo += t1[T_W];
          on++;
        }
        if (on) rl = fmin(rl, fmax(c - lo, c * w / (w + wo)) / w);
      }
      r = fmin(r, rl);
    }
    const work_phase *p = &s->ph[k];
    double x = !isfinite(s->rate_ref[k]) ? p->total_s : r > 0 ? p->total_s * s->rate_ref[k] / r : INFINITY;
    iter += fmax(0, x - (p->total_s - p->exposed_s)) - p->exposed_s;
  }
  return iter / s->iter_ref_s;
}

uint32_t replay_fab_jobs_on(const replay_fab *f, uint32_t link, uint32_t *out, uint32_t max) {
  uint32_t n = 0;
  if (link >= f->nlinks) return 0;
  flink *k = &f->lk[link];
  for (uint32_t x = k->njobs; x-- > 0;) {
    const fjob *j = &f->slots[lent_at(f->le, k, x)->slot];
    if (j->leaving) continue; /* removed at this instant */
    if (n < max) out[n] = j->job;
    n++;
  }
  return n;
}
