/* replay_int.h — private to src/replay: the shared fabric under the running jobs (fabric.c),
 * the workload every job carries (workload.c), and the L2 check of the time-sharing model
 * (contention.c). */
#ifndef WK_REPLAY_INT_H
#define WK_REPLAY_INT_H

#include "replay.h"
#include "work/work.h"

/* ---- a job's iteration, as the fabric model needs it ------------------------------------- */
/* What one (workload, card count) gives every job of that kind: the iteration time alone on
 * the ideal placement (the reference), and its communication phases, each with its time and
 * exposed part there and the per-subflow bottleneck rate its traffic got there (rate_ref),
 * against which the rate it gets on its real cards, shared, is measured. */
typedef struct replay_shape {
  double iter_ref_s;
  int nphases;
  work_phase ph[WORK_MAX_PHASES];
  double rate_ref[WORK_MAX_PHASES]; /* bytes/s per subflow; INFINITY: no link carries it */
} replay_shape;

/* ---- laying a phase on cards ------------------------------------------------------------------ */
/* Subflows per edge of a ring, chain or exchange: a collective library spreads each edge over
 * several channels (queue pairs), which ECMP hashes onto different paths. An all-to-all has
 * enough pairs to spread without. */
#define REPLAY_FAB_CHANNELS 4

/* Lays phase p of a job whose rank r sits on cards[r] (ncards ranks) on cluster c: calls
 * fn(ctx, route, w) for every route, w the subflows that take it (the channels of an edge inside
 * one scale-up domain share one route), routed around the links out of service (bit l of
 * down[l / 64]; down NULL: all in service). O(subflows x hops). */
typedef void (*replay_lay_fn)(void *ctx, const hw_route *r, uint32_t w);
void replay_fab_lay(const hw_cluster *c, const uint64_t *down, const uint32_t *cards, uint32_t ncards,
                    const work_phase *p, replay_lay_fn fn, void *ctx);
/* The bottleneck per-subflow rate of phase p laid alone on cards (min over links of capacity /
 * subflows crossing it): bytes/s, INFINITY when no subflow crosses a link. scratch: a counter
 * of c's links kept across calls (a per-link array, zeroed once), or NULL for a temporary one. */
typedef struct replay_counter replay_counter;
replay_counter *replay_counter_new(const hw_cluster *c);
void replay_counter_free(replay_counter *k);
double replay_fab_phase_rate(const hw_cluster *c, replay_counter *scratch, const uint32_t *cards,
                             uint32_t ncards, const work_phase *p);

/* ---- the shared fabric ----------------------------------------------------------------------- */
/* Every running job whose traffic crosses switch-to-switch links, and the expected load it puts
 * on each. Time-sharing model (docs/replay.md): a job communicates during part of each
 * iteration; phase k of job j is active a fraction q = X'/P of the time (X' its time as
 * shared, P the job's iteration time). While it is active, on every link it crosses, the other
 * jobs take their expected load (sum of q x subflows x rate), but never more than leaves it
 * its fair share against their expected subflows (the max-min floor); its rate is the least
 * over its links, and over its private links (NIC, scale-up) alone. Solved as a fixed point
 * over the jobs whose links changed. */
typedef struct replay_fab replay_fab;
/* cap: link capacities (read at the call); down: a bitmap of the links out of service (capacity
 * 0), which routes avoid, or NULL: none ever (borrowed). A fault changes both between solves
 * (the capacity through replay_fab_set_cap), and the jobs it reaches are removed and added
 * again. max_jobs: job ids are [0, max_jobs). */
replay_fab *replay_fab_new(const hw_cluster *c, const double *cap, const uint64_t *down,
                           uint32_t max_jobs);
void replay_fab_set_cap(replay_fab *f, uint32_t link, double cap); /* bytes/s */
void replay_fab_free(replay_fab *f); /* NULL is a no-op */
/* Adds job `job` on cards[0, ncards) (rank order) with its shape (borrowed for the call). Its
 * traffic takes effect at the next solve. O(subflows x hops); O(ncards) for a job with the
 * same shape on the same cards as one removed since the last solve, which takes over its state
 * (the same traffic on the same links: no link changes). */
void replay_fab_add(replay_fab *f, uint32_t job, const replay_shape *s, const uint32_t *cards,
                    uint32_t ncards);
/* The job is gone at once (replay_fab_has, jobs_on, probe); its traffic leaves at the next solve
 * or capacity change, unless an add takes it over before. No-op for a job not added. */
void replay_fab_remove(replay_fab *f, uint32_t job);
/* Re-solves the jobs touched by adds and removes since the last solve, and every job their
 * change reaches. OUT *n: the jobs whose stretch changed (buffer owned by f, valid until the
 * next call). */
const uint32_t *replay_fab_solve(replay_fab *f, uint32_t *n);
/* Solves again and again, every job read in full (in the order they were added), until no
 * job's stretch moves by more than tol (relative) or after `rounds` rounds: the fixed point to
 * a tolerance, for checks that add many jobs at once (the replay's incremental solves stop at
 * FAB_RTOL). */
void replay_fab_settle(replay_fab *f, double tol, int rounds);
/* How far the incremental solution is from the fixed point: every live job's stretch now set
 * against its stretch after settling (replay_fab_settle(f, 1e-6, 50)), which f then keeps.
 * OUT *mean, *worst: the mean and largest relative difference over the jobs; returns the jobs
 * whose stretch changed, as replay_fab_solve. */
const uint32_t *replay_fab_drift(replay_fab *f, double *mean, double *worst, uint32_t *n);
/* Iteration time as placed and shared / iteration time of the reference (>= 0; INFINITY when a
 * phase has no path). 1 for a job not added. */
double replay_fab_stretch(const replay_fab *f, uint32_t job);
int replay_fab_has(const replay_fab *f, uint32_t job);
/* The stretch the job would have on its cards with no other job: placement alone. */
double replay_fab_alone(const replay_fab *f, uint32_t job);

typedef struct replay_fab_stats {
  uint64_t solves;          /* replay_fab_solve calls that had work */
  uint64_t evals;           /* job evaluations in all solves */
  uint64_t entries_visited; /* (phase, link) entries read by those evaluations */
  uint64_t full_evals;      /* of the evaluations, those that read every contended link */
  uint64_t full_entries;    /* entries those read */
  uint64_t adds;            /* jobs added with traffic on shared links */
  uint64_t handovers;       /* of those, the ones that took over a removed job's slot */
  uint32_t peak_jobs;       /* most jobs with shared traffic at once */
} replay_fab_stats;
void replay_fab_get_stats(const replay_fab *f, replay_fab_stats *out);
/* netaware's view of a candidate placement (lower is better): the job's stretch on those cards
 * now, each shared link giving it what the others' expected load and subflows leave (the
 * time-sharing model at its mean). O(subflows x hops + jobs on those links). */
double replay_fab_probe(replay_fab *f, const replay_shape *s, const uint32_t *cards, uint32_t n);
/* The jobs whose traffic crosses link l (shared links only): OUT out[0, min(n, max)); returns n. */
uint32_t replay_fab_jobs_on(const replay_fab *f, uint32_t link, uint32_t *out, uint32_t max);
/* Tiers of shared links (1 = leaf uplinks and the links down to leaves; dragonfly local 1,
 * global 2; torus 1), and a tier's expected load over its capacity now. O(1). */
int replay_fab_tiers(const replay_fab *f);
double replay_fab_tier_util(const replay_fab *f, int tier);

/* qsort's order of uint64_t values, increasing. */
int replay_cmp_u64(const void *a, const void *b);

/* ---- faults ---------------------------------------------------------------------------------- */
/* The directed links fault f fails and the cards it cuts off (both owned by the caller,
 * wk_free). Returns the number of links. */
uint32_t replay_fault_links(const hw_cluster *c, const replay_fault *f, uint32_t **links,
                            uint32_t **cards, uint32_t *ncards);

/* ---- workloads ----------------------------------------------------------------------------- */
/* The workload of every job of a replay, resolved once per distinct (rule, cards). */
typedef struct replay_wl replay_wl;
/* OUT shape_of[i] for each of jobs[0, n): an index for replay_wl_shape, UINT32_MAX for jobs
 * wider than the cluster. Errors (nothing built): a job no rule matches (naming it and its
 * trace line), a rule whose model has no layout that fits the cards, or whose kernel does not
 * fit (naming the rule by file:line). Cost: per distinct (rule, cards), a planner run and one
 * L1 step (models) or one L1 kernel timing, on the cluster made non-blocking. */
wk_errcode replay_wl_build(const hw_cluster *c, const replay_workloads *ws, const trace_job *jobs,
                           size_t n, const trace *names, uint32_t *shape_of, replay_wl **out,
                           wk_err *err);
const replay_shape *replay_wl_shape(const replay_wl *w, uint32_t i);
const char *replay_wl_label(const replay_wl *w, uint32_t i); /* "llama3-70b tp8 pp4 dp8 ..." */
uint32_t replay_wl_count(const replay_wl *w);                /* distinct workloads */
void replay_wl_free(replay_wl *w);

#endif
