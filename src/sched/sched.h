/* sched — the cluster scheduler: a card pool with free-card counts per level of the placement
 * hierarchy (first-fit or topology-aware best-fit gang placement), a job queue ordered by the
 * policy (fifo, EASY backfill, sjf, fairshare with quotas and borrowing, priority with
 * preemption, Tiresias-like least attained service), and tenants read from YAML. It knows
 * cards and estimates, not time progress: replay/ drives it with submits, ends and passes.
 * Every object is owned by its creator; nothing is global. */
#ifndef WK_SCHED_H
#define WK_SCHED_H

#include "core/core.h"
#include "hw/hw.h"

#include <stdint.h>

#define SCHED_NONE UINT32_MAX       /* no job / card free */
#define SCHED_DOWN (UINT32_MAX - 1) /* card owner: down for repair */

/* A job's cards are a short list of contiguous card ranges [first, first + n). */
typedef struct sched_range {
  uint32_t first, n;
} sched_range;

/* ---- names ---------------------------------------------------------------------------------- */
#define SCHED_POLICY_MAP(X)                                                                   \
  X(FIFO, "fifo")           /* submit order; the head blocks everything behind it */         \
  X(BACKFILL, "backfill")   /* EASY: FIFO + reservation for the head, backfill the rest */   \
  X(SJF, "sjf")             /* shortest estimate first, greedy (skips jobs that don't fit) */ \
  X(FAIRSHARE, "fairshare") /* tenants by decayed usage / quota; borrow idle cards */        \
  X(PRIORITY, "priority")   /* tenant priority, EASY reservation, preempts lower priority */ \
  X(LAS, "las")             /* least attained service queues (Tiresias), preemptive */
typedef enum sched_policy {
#define SCHED_POLICY_ENUM(n, s) SCHED_##n,
  SCHED_POLICY_MAP(SCHED_POLICY_ENUM)
#undef SCHED_POLICY_ENUM
      SCHED_POLICY_COUNT
} sched_policy;
/* netaware: a few candidate placements (topo's best fit, the emptiest domain that fits, first
 * fit) scored by the caller's view of the fabric (sched_opts.score), the lowest taken; topo
 * when no scorer is given. */
typedef enum sched_placement {
  SCHED_PLACE_FIRST_FIT,
  SCHED_PLACE_TOPO,
  SCHED_PLACE_NETAWARE,
  SCHED_PLACE_COUNT
} sched_placement;
const char *sched_policy_name(sched_policy p);       /* static string */
const char *sched_placement_name(sched_placement p); /* "first-fit", "topo", "netaware" */
int sched_policy_parse(const char *name, sched_policy *out);       /* 0, or -1 unknown */
int sched_placement_parse(const char *name, sched_placement *out); /* 0, or -1 unknown */

/* ---- the card pool ---------------------------------------------------------------------------- */
/* Free cards of one cluster. Levels: 0 = single cards, then the nested domain sizes taken from
 * hw's hierarchy (node, leaf/supernode in size order, pod) and last the whole cluster; a hw
 * level whose size does not nest in the one below it is left out. Each level keeps a free
 * count per domain and buckets of domains by free count, so the fullest domain that still
 * fits k cards is found in O(1) per level (two-level bitmap), never by scanning cards. */
typedef struct sched_pool sched_pool;
sched_pool *sched_pool_new(const hw_cluster *c); /* owned; sched_pool_free it */
void sched_pool_free(sched_pool *p);             /* NULL is a no-op */
uint32_t sched_pool_cards(const sched_pool *p);
uint32_t sched_pool_free_cards(const sched_pool *p); /* free and up */
int sched_pool_levels(const sched_pool *p);          /* including level 0 (cards) and top */
uint32_t sched_pool_level_size(const sched_pool *p, int level);  /* cards per domain */
uint32_t sched_pool_level_domains(const sched_pool *p, int level);
hw_level sched_pool_level_hw(const sched_pool *p, int level); /* hw level it came from; 0: NODE */
uint32_t sched_pool_domain_free(const sched_pool *p, int level, uint32_t domain);
uint32_t sched_pool_owner(const sched_pool *p, uint32_t card); /* job, SCHED_NONE or SCHED_DOWN */

/* Gang allocation of k cards to owner: all or nothing. NULL when fewer than k cards are free
 * (nothing changes). Else the cards' ranges, sorted and merged, in a buffer owned by the pool
 * and valid until its next call (OUT: *nranges). topo: the smallest level whose domains can
 * hold k, the fullest domain there that fits (best fit); inside it, the fewest children,
 * fullest-fitting first. first-fit: the lowest-numbered free cards. Cost O(levels) to choose
 * the domain plus O(children visited + k) to mark the cards. */
const sched_range *sched_pool_alloc(sched_pool *p, sched_placement how, uint32_t k, uint32_t owner,
                                    uint32_t *nranges);
/* A placement's cost as the caller sees it (lower is better): called for each candidate. */
typedef double (*sched_score_fn)(void *ctx, uint32_t owner, const sched_range *r, uint32_t n);
/* netaware: candidates are tried (allocated, scored, given back) and the best is taken; the
 * first candidate, topo's, is taken without scoring when it lies inside one domain of
 * `quiet_cards` cards (a scale-up domain: nothing there can meet another job's traffic). Same
 * result contract as sched_pool_alloc. Cost: up to 3 allocations and scores. */
const sched_range *sched_pool_alloc_scored(sched_pool *p, uint32_t k, uint32_t owner,
                                           uint32_t quiet_cards, sched_score_fn score, void *ctx,
                                           uint32_t *nranges);
/* Frees the cards of ranges (they must belong to one owner). O(k + levels * domains touched). */
void sched_pool_release(sched_pool *p, const sched_range *r, uint32_t n);
/* Takes a free card out of service (down = 1) or puts a down card back (down = 0). O(levels). */
void sched_pool_set_down(sched_pool *p, uint32_t card, int down);
/* Number of domains of pool level `level` that the ranges touch. O(ranges). */
uint32_t sched_pool_domains_spanned(const sched_pool *p, int level, const sched_range *r, uint32_t n);
/* The smallest pool level whose domains hold k cards (the ideal level for a k-card job). */
int sched_pool_ideal_level(const sched_pool *p, uint32_t k);

/* ---- tenants ---------------------------------------------------------------------------------- */
/* Tenants with a quota (cards, or a fraction of the cluster), a priority, and glob patterns
 * naming the trace users, groups (accounts, virtual clusters) and queues that belong to them.
 * File format (YAML):
 *   halflife: 7d                # fairshare usage decay (default 7 days, Slurm's default)
 *   tenants:
 *     - name: climate
 *       quota: 25%              # share of the cluster or cards, see below
 *       priority: 10            # larger runs first under --policy priority (default 0)
 *       users: [alice, "bob*"]  # fnmatch globs; groups: [...], queues: [...] likewise
 *       default: true           # takes jobs no tenant matches (at most one tenant)
 * Quota: "25%" is a percentage (0..100) of the cluster; a number below 1 ("0.25", "2.5e-1")
 * a fraction of it; a number >= 1 whole cards ("4096", "1e3"), at most 1e9. A plain decimal
 * >= 1 ("1.0", "1.5") is refused: write the whole cluster as 100%. No quota: 0 (borrows only).
 * A job belongs to the first tenant in file order with a matching pattern, else to the
 * default tenant, else to an implicit tenant "(unmatched)" with quota 0 (borrowing only). */
typedef struct sched_tenants sched_tenants;
sched_tenants *sched_tenants_new(void); /* empty list, owned */
void sched_tenants_free(sched_tenants *t); /* NULL is a no-op */
/* Adds a tenant; quota_fraction in [0, 1] of the cluster when quota_cards < 0, else cards.
 * Returns its index. */
uint32_t sched_tenants_add(sched_tenants *t, const char *name, double quota_cards,
                           double quota_fraction, int32_t priority);
/* Parses the YAML text (name used in errors) / reads a file. Errors: path:line:col. */
wk_errcode sched_tenants_parse(const char *name, const char *text, size_t len, sched_tenants **out,
                               wk_err *err);
wk_errcode sched_tenants_load(const char *path, sched_tenants **out, wk_err *err);
uint32_t sched_tenants_count(const sched_tenants *t);
const char *sched_tenant_name(const sched_tenants *t, uint32_t i); /* borrowed */
int32_t sched_tenant_priority(const sched_tenants *t, uint32_t i);
double sched_tenant_quota_cards(const sched_tenants *t, uint32_t i, uint32_t cluster_cards);
double sched_tenants_halflife_s(const sched_tenants *t);
/* Tenant index for a job's names (any may be ""), or -1 when none matches and there is no
 * default tenant. O(tenants x patterns). */
int sched_tenants_match(const sched_tenants *t, const char *user, const char *group, const char *queue);

/* ---- the scheduler ------------------------------------------------------------------------------ */
typedef struct sched_opts {
  sched_policy policy;
  sched_placement placement;
  uint32_t lookahead;          /* most queued jobs examined per pass (default 500, Slurm's
                                  bf_max_job_test); fifo stops at its head anyway */
  double halflife_s;           /* fairshare usage half-life; 0: from tenants (7 d default) */
  double min_run_s;            /* las and fairshare reclaim never preempt a job that has run
                                  less than this (default 600 s); priority preempts at once */
  double las_first_card_s;     /* las: first attained-service threshold in card-seconds
                                  (default 3600 = 1 card-hour); each next one is x10 */
  int las_levels;              /* las queues (default 5) */
  const sched_tenants *tenants; /* borrowed; NULL: one tenant holding the whole cluster */
  sched_score_fn score;        /* netaware's scorer (NULL: netaware places as topo) */
  void *score_ctx;
  uint32_t quiet_cards;        /* netaware: a placement inside one domain of this many cards is
                                  not scored (0: every placement is) */
} sched_opts;
void sched_opts_init(sched_opts *o);

/* What the scheduler knows of a job. estimate: the walltime request, or the runtime when the
 * trace gives none (replay decides), used for the EASY reservation, sjf and its end guess. */
typedef struct sched_job {
  uint32_t cards;
  uint32_t tenant; /* index into tenants (0 when there are none) */
  wk_time submit;
  wk_time estimate;
} sched_job;

typedef enum sched_action_kind { SCHED_START, SCHED_PREEMPT } sched_action_kind;
typedef struct sched_action {
  uint32_t kind; /* sched_action_kind */
  uint32_t job;
  const sched_range *r; /* the job's cards (given, or taken back), valid until the next pass */
  uint32_t nr;
} sched_action;

typedef struct sched sched;
/* A scheduler for jobs with ids [0, max_jobs) on cluster c (borrowed; must outlive it).
 * NULL + err when the options are bad (a tenant quota larger than the cluster, ...). */
sched *sched_new(const hw_cluster *c, const sched_opts *o, uint32_t max_jobs, wk_err *err);
void sched_free(sched *s); /* NULL is a no-op */
sched_pool *sched_get_pool(sched *s); /* borrowed: for card failures and inspection */

/* Queues a job (new, or again after an interruption: it keeps its submit time and the service
 * it has had, so it goes back near its old place in fifo order). O(log queued). */
void sched_submit(sched *s, uint32_t job, const sched_job *j, wk_time now);
/* A running job ends (done, killed or interrupted): its cards go back to the pool. With
 * requeue, it goes back in the queue. O(k + log running). */
void sched_end(sched *s, uint32_t job, wk_time now, int requeue);
/* One scheduling pass at now: starts what the policy allows (cards already allocated) and
 * preempts what it must (cards already freed, jobs already requeued). Returns the actions in
 * order in a buffer owned by s, valid until the next call (OUT: *n). Cost: O(lookahead)
 * queue steps plus the placements; preemption and the reservation add O(running). */
const sched_action *sched_pass(sched *s, wk_time now, uint32_t *n);
/* The cards of a running job (borrowed, valid while it runs). */
const sched_range *sched_job_ranges(const sched *s, uint32_t job, uint32_t *n);
int sched_job_running(const sched *s, uint32_t job);

uint32_t sched_queued_jobs(const sched *s);
uint64_t sched_queued_cards(const sched *s);
uint32_t sched_running_jobs(const sched *s);
uint32_t sched_busy_cards(const sched *s); /* cards held by running jobs */
uint32_t sched_tenants_n(const sched *s);  /* tenants the scheduler works with (>= 1) */
uint32_t sched_tenant_running_cards(const sched *s, uint32_t tenant);

#endif
