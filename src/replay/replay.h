/* replay — discrete-event replay of a job trace on a cluster: arrivals, starts, ends,
 * preemptions, card/node/link failures with checkpoint/restart and repair, the slowdown of a
 * job placed across more domains than it needs, and the metrics operators and papers quote
 * (utilization, JCT, queue delay, bounded slowdown, goodput, ETTR). Deterministic for a seed:
 * failures draw from their own RNG streams. Uses sched/ for decisions, hw/ for bandwidths.
 *
 * Model, in short (details beside the code in replay.c):
 *  - a trace job's runtime is its work at ideal placement; cancelled or failed trace jobs
 *    still ran their recorded runtime, so they are replayed the same way;
 *  - stretch: a job whose cards' smallest common domain has per-card bandwidth bw_actual,
 *    while the best domain level that could hold it has bw_ideal, runs
 *    1 + comm_fraction * (bw_ideal / bw_actual - 1) times slower (hw_level_card_bw);
 *  - a failure, or a preemption, sends the job back to the queue (requeue, as Slurm does) with
 *    its original submit time; it keeps the work up to its last checkpoint and pays
 *    restart_cost when it starts again; a failed card (or node) is down for its repair time. */
#ifndef WK_REPLAY_H
#define WK_REPLAY_H

#include "core/core.h"
#include "hw/hw.h"
#include "sched/sched.h"
#include "trace/trace.h"

/* Llama 3 (16,384 H100, 54 days): 419 unexpected interruptions = 4.7e-4 per GPU-day. */
#define REPLAY_LLAMA3_FAILURES_PER_CARD_DAY 4.7e-4

/* Workload rules (docs/replay.md): ordered rules matching jobs by trace queue, user, group
 * and card count, each giving a model (layout by the planner) or a science kernel. */
typedef struct replay_workloads replay_workloads;
/* Reads a workloads file; errors as path:line:col, including a rule naming an unknown model or
 * kernel. */
wk_errcode replay_workloads_load(const char *path, replay_workloads **out, wk_err *err);
wk_errcode replay_workloads_parse(const char *name, const char *text, size_t len,
                                  replay_workloads **out, wk_err *err);
replay_workloads *replay_workloads_default(void); /* the rules used when none are given */
void replay_workloads_free(replay_workloads *w);  /* NULL is a no-op */

/* A fault injected at a chosen time, for what-if studies (--fail, docs/replay.md): switch
 * `index` of Clos tier `tier` (the top tier for a spine), a leaf's uplinks, every switch of a
 * pod, or one cable (`index` = a directed link of it). Each fails every link it names, both
 * ways, from at_s to at_s + for_s (seconds from the first submit). Cards left with no way out
 * (those of a leaf whose uplinks failed, of a pod cut off) are down for as long; other jobs route
 * around the dead links (ECMP over the survivors). */
typedef enum replay_fault_kind {
  REPLAY_FAULT_SWITCH,
  REPLAY_FAULT_LEAF_UPLINKS,
  REPLAY_FAULT_POD,
  REPLAY_FAULT_CABLE
} replay_fault_kind;
typedef struct replay_fault {
  uint8_t kind; /* replay_fault_kind */
  int tier;     /* SWITCH: 1 (leaves) .. tiers */
  uint32_t index;
  double at_s, for_s;
} replay_fault;
/* Parses "spine:N", "switch:T.N", "leaf-uplinks:N", "pod:N" or "cable:LINK", then "@TIME" and
 * optionally "+DURATION" (default 1h), e.g. "spine:3@2d+6h", against cluster c: a switch,
 * leaf, pod or link the cluster lacks is refused naming it and what it has. */
wk_errcode replay_fault_parse(const char *spec, const hw_cluster *c, const char *name,
                              replay_fault *out, wk_err *err);

typedef enum replay_fail_kind { REPLAY_FAIL_CARD, REPLAY_FAIL_NODE, REPLAY_FAIL_LINK, REPLAY_FAIL_SOFTWARE, REPLAY_FAIL_KINDS } replay_fail_kind;

typedef struct replay_opts {
  sched_opts sched;            /* policy, placement, look-ahead, tenants (NULL: see below) */
  double failure_rate;         /* interruptions per card per day; 0 = off (default Llama 3) */
  double fail_share[REPLAY_FAIL_KINDS]; /* mix of kinds (default from Llama 3's table) */
  double repair_s[REPLAY_FAIL_KINDS];   /* down time per kind (card 8 h, node 2 h, link 1 h,
                                           software 0) */
  double checkpoint_interval_s; /* work-seconds between checkpoints; 0 = Young/Daly per job */
  double checkpoint_cost_s;     /* write time, only for Young/Daly sqrt(2 C M) (default 60 s);
                                   trace runtimes already include the job's own checkpoints */
  double restart_cost_s;        /* paid on every restart (default 300 s) */
  int fabric;                   /* 1 (default): every job runs its workload on the shared
                                   fabric (docs/replay.md); 0: the stretch model below */
  const replay_workloads *workloads; /* borrowed; NULL: the default rules */
  const replay_fault *faults;   /* injected faults (borrowed; fabric on), nfaults of them */
  uint32_t nfaults;
  double comm_fraction;         /* fabric off: share of a step that is communication (0.1) */
  uint32_t fabric_check;        /* 0 (default): off; N: after every N-th re-solve, the
                                   incremental solution is set against the fixed point, which
                                   the replay then takes (metrics fabric_drift_*): a check of the
                                   incremental solver for tests and benchmarks, slow */
  int fabric_open_loop;         /* 1: the fabric is solved at every pass as usual, but jobs keep
                                   the pace they have alone (the contention found is not applied),
                                   so the schedule does not depend on the solver: two solvers run
                                   the same events, their costs comparable (benchmarks); 0
                                   (default) */
  int walltime_kill;            /* 1: a run longer than the walltime is killed (default 0) */
  int preempt_checkpoint;       /* 1: a preempted job saves a checkpoint as it stops (graceful,
                                   as Tiresias/Gandiva suspend) and loses no work; 0 (default):
                                   it restarts from its last periodic checkpoint */
  double sample_s;              /* timeseries step (default 600 s; 0 = none) */
  /* A job interrupted by a failure after this many failures in a row that saved no new
   * checkpoint (preemptions and walltime kills do not count) is given up (fate
   * REPLAY_ABANDONED) instead of requeued: when its cards fail more often than restart_cost +
   * one checkpoint interval, it could never finish and would hold the replay forever.
   * Default 50; 0 = never give up (max_events still bounds the run). */
  uint32_t abandon_after;
  /* The replay stops with WK_ECAPACITY after this many events, or after a tenth of them with
   * no job ending (finished, killed or abandoned); 0 (default) = 1,000 per job plus 1,000,000.
   * A normal replay takes a few events per job plus two per failure (the failure, the repair). */
  uint64_t max_events;
  uint64_t seed;
  /* Observer of runs (timelines, invariant checks): called at each start and stop with the
   * job's cards. NULL: none. */
  void (*observe)(void *ctx, uint32_t job, int start, wk_time t, const sched_range *r, uint32_t nr);
  void *observe_ctx;
  /* Told the share of jobs done (finished, killed, abandoned), at most about 1,000 times a
   * run, for a progress bar. NULL: none. */
  void (*progress)(void *ctx, double frac);
  void *progress_ctx;
} replay_opts;
void replay_opts_init(replay_opts *o);

typedef struct replay_metrics {
  size_t jobs;            /* replayed (trace jobs minus the dropped) */
  size_t finished;        /* completed their work */
  size_t killed;          /* by walltime */
  size_t abandoned;       /* given up after opts.abandon_after failures in a row without progress */
  size_t abandoned_hopeless; /* of those, jobs whose restart cost + checkpoint interval (wall)
                                exceeds the mean time between failures of their cards: they
                                can almost never reach a checkpoint */
  size_t dropped_too_large; /* wider than the cluster: reported, never queued */
  double utilization;     /* busy card-seconds / (cards x makespan) */
  double avg_jct_s, p50_jct_s, p99_jct_s; /* end - submit, over finished, killed and abandoned */
  double avg_queue_s, p99_queue_s;        /* first start - submit */
  double bounded_slowdown;  /* mean of max(1, (end - submit) / max(runtime, 10 s)) */
  double goodput;           /* useful card-seconds / allocated card-seconds */
  double ettr;              /* card-weighted productive time / (end - first start) */
  double makespan_s;        /* first submit of a replayed job .. last end */
  double wall_s;            /* real time the replay took */
  uint64_t restarts, preemptions, failures, failures_hit_jobs;
  double busy_card_s, useful_card_s;
  double mean_queued_jobs;  /* time average over the makespan */
  uint64_t passes, events;
  /* The fabric (opts.fabric on; else slowdowns 1 and no tiers): over finished jobs, how much
   * slower each ran than it would have alone on the same cards (contention from the others),
   * card-weighted mean and p99 over jobs, and the share of jobs more than 5 % slower. */
  double contention_slowdown_mean, contention_slowdown_p99, jobs_slowed;
  int fabric_tiers;                         /* entries of fabric_util_by_tier */
  double fabric_util_by_tier[HW_MAX_TIERS]; /* time-averaged expected load / capacity of the
                                               shared links of each tier (1 = leaf uplinks) */
  uint64_t fabric_solves, fabric_evals, fabric_entries; /* re-solves, job evaluations, and
                                               (phase, link) entries read in them */
  uint64_t fabric_full_evals;               /* evaluations that read every shared link */
  uint64_t fabric_full_entries;             /* entries those read */
  uint64_t fabric_handovers;                /* job runs that took over the fabric state of a
                                               run that ended on the same cards with the same
                                               workload at the same instant */
  uint64_t fabric_jobs;                     /* job runs with traffic on shared links */
  uint32_t workloads;                       /* distinct (rule, cards) workloads resolved */
  uint64_t fabric_faults;                   /* links failed (drawn or injected, per cable) */
  uint64_t fabric_rerouted;                 /* job runs laid again around dead links */
  double fault_lost_card_s;                 /* card-seconds of work lost by jobs a fabric fault
                                               interrupted (back to their last checkpoint) */
  uint64_t fabric_checks;                   /* opts.fabric_check: checks made, and over them */
  double fabric_drift_mean, fabric_drift_max; /* the mean and worst relative difference of a
                                               live job's stretch from the fixed point */
} replay_metrics;

typedef enum replay_fate {
  REPLAY_FINISHED,
  REPLAY_KILLED,   /* by walltime */
  REPLAY_DROPPED,  /* wider than the cluster */
  REPLAY_ABANDONED /* failed opts.abandon_after times in a row without saving a checkpoint */
} replay_fate;
const char *replay_fate_name(replay_fate f); /* "finished", "killed", "dropped", "abandoned" */
typedef struct replay_job {
  int64_t id;       /* the trace's id */
  uint32_t tenant;
  uint32_t cards;
  double submit_s, start_s, end_s; /* seconds from the first submit of a replayed job (a dropped
                                      job's submit may be negative); start is the first one
                                      (-1 if never started) */
  double runtime_s; /* the trace's */
  uint32_t domains; /* domains spanned at the job's ideal level, last placement (1 = ideal) */
  uint32_t restarts, preemptions; /* restarts: runs after a failure or preemption (a walltime
                                      kill ends the job, it is not a restart) */
  uint8_t fate;     /* replay_fate */
  /* fabric on: the iteration alone on the ideal placement (its workload's reference), the
   * mean iteration as it ran (placement, oversubscription and contention), and that mean
   * over what it would have been alone on the same cards; 0 for jobs that never ran */
  double iter_ideal_s, iter_actual_s, slowdown;
  uint32_t workload; /* its workload (replay_workload_name); UINT32_MAX with the fabric off */
} replay_job;

typedef struct replay_sample {
  double t_s;
  uint32_t busy_cards, down_cards, queued_jobs;
  uint64_t queued_cards;
  float tier_util[HW_MAX_TIERS]; /* expected load / capacity of each tier's shared links */
} replay_sample;

typedef struct replay replay;
/* Replays trace t on cluster c (both borrowed, only during the call). Tenants: o->sched.tenants
 * maps each job by its user, group and queue (unmatched jobs go to a tenant "(unmatched)"
 * with quota 0); NULL makes one tenant per distinct trace group (else user, else queue) when
 * there are 2..256 of them, with equal quotas, else one tenant. WK_EVALUE for bad options.
 * Cost: O(events x (log n + pass)); memory about 150 bytes per job. */
wk_errcode replay_run(const hw_cluster *c, const trace *t, const replay_opts *o, replay **out,
                      wk_err *err);
/* The same for an array of jobs (any order; names from `names` when non-NULL). */
wk_errcode replay_run_jobs(const hw_cluster *c, const trace_job *jobs, size_t n, const trace *names,
                           const replay_opts *o, replay **out, wk_err *err);
void replay_free(replay *r); /* NULL is a no-op */

const replay_metrics *replay_get_metrics(const replay *r);
const replay_job *replay_jobs(const replay *r, size_t *n);         /* borrowed, input order */
const replay_sample *replay_samples(const replay *r, size_t *n);   /* borrowed */
uint32_t replay_ntenants(const replay *r);
/* "llama3-70b tp8 pp4 dp8 cp1 ep1", "stencil 1626^3", ...; "" for UINT32_MAX. Borrowed. */
const char *replay_workload_name(const replay *r, uint32_t w);
const char *replay_tenant_name(const replay *r, uint32_t i);      /* borrowed */
/* Tenant i's quota in cards on a cluster of `cards` (0: it only borrows). */
double replay_tenant_quota_cards(const replay *r, uint32_t i, uint32_t cards);
/* The job each id of replay_opts.observe stands for: OUT run_job[id] = its index in
 * replay_jobs (ids number the replayed jobs, the dropped left out, by submit time, ties in input
 * order). run_job holds at least replay_jobs' n entries. Returns the ids used. O(n log n). */
size_t replay_run_ids(const replay *r, uint32_t *run_job);

/* Energy over the makespan, where cluster c (the one replayed) gives power (hw_config's
 * card_*_w, switch_*_w, pue): busy card-seconds at card_busy_w and the rest of the cards'
 * time (idle and down) at card_idle_w; each switch tier between its idle and busy draw by
 * its load (leaves: the cards' utilization or their uplinks' load, whichever is higher; upper
 * tiers: their links' time-averaged load with the fabric on, else the utilization); times
 * the PUE (1 when not given). Per useful card-hour: facility energy over the finished jobs'
 * cards x trace runtime. O(tiers). */
typedef struct replay_energy {
  int known;                /* 0: the cluster file gives no power.card_busy_w; the rest is 0 */
  double cards_j, switches_j; /* IT energy (J) */
  double facility_j;        /* (cards + switches) x PUE */
  double pue;               /* as used */
  double kwh_per_useful_card_hour; /* facility; 0 when no work was useful */
} replay_energy;
void replay_energy_of(const replay *r, const hw_cluster *c, replay_energy *out);
/* Young/Daly checkpoint interval sqrt(2 C M) for a job of `cards` (M = its mean time between
 * failures at o's rate); 3600 s when failures are off. */
double replay_young_daly_s(const replay_opts *o, uint32_t cards);

/* ---- the time-sharing model checked against the event level ---------------------------------- */
/* One job of a contention check: a loop of compute_s of compute, then a ring all-reduce of
 * `bytes` over cards[0, n) (rank order), the first starting at offset_s. */
typedef struct replay_cjob {
  const uint32_t *cards;
  uint32_t n;
  double bytes, compute_s, offset_s;
} replay_cjob;
typedef struct replay_cjob_opts {
  uint32_t iterations; /* per job (default 40) */
  uint32_t warmup;     /* iterations not measured (default 4) */
  double jitter;       /* each compute lasts compute_s x U(1 - jitter, 1 + jitter) (default 0.05) */
  uint64_t seed;
} replay_cjob_opts;
void replay_cjob_opts_init(replay_cjob_opts *o);
typedef struct replay_cjob_result {
  double alone_s, shared_s;     /* L2 mean iteration time alone and with the others */
  double l2_slowdown;           /* shared / alone */
  double model_slowdown;        /* what the replay's fabric model predicts */
} replay_cjob_result;
/* Runs the k jobs at L2 (every flow of every ring step, one shared fabric, on cluster c),
 * each alone and then all together, and predicts their slowdowns with the fabric model the
 * replay uses. Card sets must be disjoint. OUT out[0, k). Cost: k + 1 L2 runs of
 * iterations x 2(n - 1) steps x n x 4 subflows per job. */
wk_errcode replay_contention_check(const hw_cluster *c, const replay_cjob *jobs, uint32_t k,
                                   const replay_cjob_opts *o, replay_cjob_result *out, wk_err *err);

#endif
