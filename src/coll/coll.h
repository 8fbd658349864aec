/* coll — collective communication on the cluster model: all-reduce, all-gather,
 * reduce-scatter, broadcast, reduce, all-to-all and send/recv, by ring, double binary tree,
 * recursive halving-doubling, hierarchical (scale-up domain first, then the fabric),
 * in-switch reduction (NVLS) and direct/pairwise algorithms, timed at three fidelity levels
 * (DESIGN.md):
 *   L0 analytic alpha-beta with the bottleneck bandwidth of the path class;
 *   L1 one symmetric step solved as concurrent flows with max-min sharing on the real
 *      placement, times the number of identical steps;
 *   L2 every flow of every step (and of several concurrent collectives), event by event.
 * Sizes are nccl-tests' "size": the bytes of the per-rank buffer for all-reduce, broadcast,
 * reduce and all-to-all; the total (gathered) bytes for all-gather and reduce-scatter; the
 * message for send/recv. algbw = size / time; busbw uses nccl-tests' factors. */
#ifndef WK_COLL_H
#define WK_COLL_H

#include "hw/hw.h"
#include "net/net.h"

typedef enum coll_op {
  COLL_ALLREDUCE,
  COLL_ALLGATHER,
  COLL_REDUCESCATTER,
  COLL_BROADCAST,
  COLL_REDUCE,
  COLL_ALLTOALL,
  COLL_SENDRECV, /* cards[0] sends to cards[1] (n == 2) */
  COLL_OPS
} coll_op;

typedef enum coll_algo {
  COLL_AUTO, /* the fastest algorithm for this op, size and placement at the chosen level */
  COLL_RING,
  COLL_TREE, /* double binary tree */
  COLL_RHD,  /* recursive halving-doubling */
  COLL_HIER, /* inside each scale-up domain first, then across domains, then inside again */
  COLL_DIRECT,   /* all-to-all: every rank sends to every other at once */
  COLL_PAIRWISE, /* all-to-all: n-1 rounds of one partner each */
  COLL_NVLS,     /* all-reduce in the scale-up switch (NVLink SHARP): every card in one domain
                  * whose switch reduces (supernode.in_switch_reduction) */
  COLL_ALGOS
} coll_algo;

const char *coll_op_name(coll_op op);       /* "allreduce", ... as typed on the command line */
const char *coll_algo_name(coll_algo a);    /* "auto", "ring", "tree", "rhd", "hier", ... */
int coll_op_parse(const char *s, coll_op *out);     /* 0 ok, -1 unknown (accepts all_reduce too) */
int coll_algo_parse(const char *s, coll_algo *out); /* 0 ok, -1 unknown */
double coll_busbw_factor(coll_op op, uint32_t n);   /* nccl-tests' busbw / algbw */

/* A context for timing collectives on one cluster: it owns the scratch (net_sim, route
 * buffers) reused across calls, so timing in a loop does not allocate, and a cache of the
 * phases solved at L1 (per-flow max-min rates do not depend on the bytes), so that a size
 * sweep or repeated calls on the same cards solve each distinct phase once (up to 256 MiB,
 * then the cache starts over). The cluster is borrowed and must outlive the context. Not
 * thread-safe; make one per thread. */
typedef struct coll_ctx coll_ctx;
coll_ctx *coll_ctx_new(const hw_cluster *c);
void coll_ctx_free(coll_ctx *x); /* NULL is a no-op */
/* Forgets every solved phase and the flow engine (which borrows the capacities). A caller
 * that changes link capacities (hw_link_capacity_mut, e.g. a failure model) between calls
 * MUST call it before the next coll_time. (A cached phase also checks a hash of the
 * capacities of the links it uses, so a missed call is caught, but the engine's contract
 * with net/ needs the call.) NULL is a no-op. O(cached phases). */
void coll_ctx_invalidate(coll_ctx *x);
/* Progress of L2 runs, for a progress bar: fn(arg, fraction of the run's flows completed, 0..1)
 * about every 64K completions and at each step of a job. fn NULL (the default): none. Each L2
 * run (a job alone, then the jobs together, in coll_time_concurrent) counts from 0 again. The
 * results do not depend on it. */
void coll_ctx_set_progress(coll_ctx *x, void (*fn)(void *arg, double frac), void *arg);

typedef struct coll_result {
  double time_s;     /* completion time of the collective */
  coll_algo algo;    /* the algorithm used (resolved when COLL_AUTO was asked) */
  int level;         /* fidelity level used, 0..2 */
  double algbw;      /* bytes/s: size / time */
  double busbw;      /* bytes/s: algbw * coll_busbw_factor */
} coll_result;

/* Times one collective of `bytes` over the n ranks on cards[0..n-1] (rank order = ring
 * order), alone on the fabric, at level 0, 1 or 2. Errors (WK_EVALUE / WK_ERANGE, with a
 * message naming the fix): an algorithm that does not apply to the op (e.g. pairwise
 * all-reduce), n < 2, a card out of range or repeated, bytes < 0. */
wk_errcode coll_time(coll_ctx *x, coll_op op, coll_algo algo, int level, const uint32_t *cards,
                     uint32_t n, double bytes, coll_result *out, wk_err *err);

/* The same collective run at once on ngroups disjoint groups of n cards each, group g on the
 * cards cards[i] + offsets[g] (i < n): e.g. the DP groups of a training job, one per
 * (TP, PP, ...) coordinate, which reduce their gradients together and share the fabric's upper
 * tiers. Every group uses the plan built for group 0 (cards + offsets[0]), so the groups
 * should have the same shape (same scale-up domain pattern), as shifts of one layout do.
 *   L0: no contention modelled: the time of group 0 alone (coll_time).
 *   L1: each phase's flows of ALL groups solved as one max-min problem (the phase cache keys
 *       on every group's cards and ngroups); a step lasts until the slowest flow of any group
 *       lands, so the result is the slowest group's time with the groups in lockstep. COLL_AUTO
 *       picks the algorithm that is fastest with all groups running. Ring edges across the
 *       network are spread over their channels and queue pairs (coll_int.h), and a step of
 *       equal-sized flows is timed by counting flows per link (exact for the slowest flow of
 *       max-min), so thousands of groups cost their routes, not a solver.
 *   L2: each group a job of coll_time_concurrent (steps not in lockstep); the slowest group's
 *       result is returned. Cost: with COLL_AUTO one L1 solve per group to resolve it,
 *       then one L2 run of every group's flows.
 * OUT *out: the slowest group's time (busbw per group, of n ranks). Errors as coll_time, plus
 * ngroups == 0, a shifted card out of range, groups that overlap (a card repeated). Cost: O(n
 * ngroups) to check the cards, then L1 of n * ngroups ranks' flows. ngroups == 1 is coll_time
 * on cards + offsets[0]. */
wk_errcode coll_time_groups(coll_ctx *x, coll_op op, coll_algo algo, int level,
                            const uint32_t *cards, uint32_t n, const uint32_t *offsets,
                            uint32_t ngroups, double bytes, coll_result *out, wk_err *err);

/* ---- added: several collectives at once (L2) -------------------------------------------- */
/* One job's collective for coll_time_concurrent. cards are borrowed for the call. */
typedef struct coll_job {
  coll_op op;
  coll_algo algo; /* COLL_AUTO resolves at L1 for each job alone (L2 == L1 alone) */
  const uint32_t *cards;
  uint32_t n;
  double bytes;
} coll_job;

/* Times k collectives started together at L2 on one fabric, so that they contend for shared
 * links. The jobs' card sets must be disjoint (WK_EVALUE otherwise). OUT out[k]: each job's
 * completion time (level 2); OUT alone_s[k] (may be NULL): each job's L2 time alone on the
 * fabric, for slowdowns. Cost: one L2 run with every flow of every job, plus k runs alone. */
wk_errcode coll_time_concurrent(coll_ctx *x, const coll_job *jobs, uint32_t k, coll_result *out,
                                double *alone_s, wk_err *err);

/* Checks, before any timing, that coll_time (k == 1, at `level`) or coll_time_concurrent (k > 1,
 * level 2) of these jobs stays within its level's work and memory limits (flows per L1 step,
 * flows per L2 run, the flow engine and flow tables against wk_memory_limit()): the refusals
 * those calls would make after the work before them, made at once, so that a size sweep
 * fails before its first size rather than at its last. At level 2, COLL_AUTO is resolved
 * first (its L1 solves stay in the phase cache, so the timing that follows does not repeat
 * them); at level 1 it passes when one candidate algorithm does. Errors as coll_time, plus
 * WK_ERANGE / WK_ECAPACITY naming what would be built and what shrinks it. */
wk_errcode coll_check(coll_ctx *x, const coll_job *jobs, uint32_t k, int level, wk_err *err);

/* ---- added: validation against published numbers ---------------------------------------- */
/* One row of shared/data/validation/collectives.md, mapped onto a preset and a placement and
 * predicted at L1 with the one set of constants in coll_int.h (never per-row factors). */
typedef struct coll_vrow {
  char system[192];
  char collective[48];
  char scenario[128];     /* what was modelled: cluster spec, cards, op, algorithm, size */
  double published_lo;    /* busbw, bytes/s (lo == hi unless the source gives a range) */
  double published_hi;
  double predicted;       /* busbw, bytes/s; 0 when not modelled */
  int modelled;           /* 0: e.g. reduction in InfiniBand switches (SHARP), not modelled */
  double error_pct;       /* (predicted - published midpoint) / midpoint * 100 */
} coll_vrow;

/* Parses the markdown table in text (the file's contents) and predicts every row. OUT
 * rows[0..*nrows) (at most max). Errors: WK_EPARSE when no table row is found, WK_EVALUE for
 * a row whose system is not recognised (the message names it). Builds small clusters from the
 * presets; takes well under a second. */
wk_errcode coll_validate_md(const char *text, coll_vrow *rows, int max, int *nrows, wk_err *err);

/* Sets the phase cache's budget in bytes (default 256 MiB; 0 disables caching, so every
 * call solves afresh). Clears the cache. */
void coll_ctx_set_cache_bytes(coll_ctx *x, size_t bytes);

#endif
