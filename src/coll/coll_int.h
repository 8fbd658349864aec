/* coll_int.h — the private body of coll/: a collective is first turned into a plan (phases of
 * flows, each phase a number of identical steps), and the plan is then timed at L0 (per-card
 * loads over analytic per-level bandwidths), L1 (one max-min solve per distinct phase) or L2
 * (every step of every phase in net's event mode). Shared by the .c files of coll/ only. */
#ifndef WK_COLL_INT_H
#define WK_COLL_INT_H

#include "coll/coll.h"

/* ---- the one set of physical constants (see docs in coll.c and bench/validate_coll.c) ---- */
/* Payload fraction of a link's bandwidth that a large NCCL-style transfer achieves. Wire
 * bytes = payload / efficiency, so the same constant serves L0, L1 and L2.
 * Scale-up (NVLink-class buses): 0.80, the middle of the two published single-node ring
 * all-reduce measurements (8xA100 232.5/300 = 0.775; 8xH100 370.67/450 = 0.824): the
 * Simple protocol's flag/fifo overhead and copy-engine limits on a memory-semantic bus.
 * Scale-out (IB/RoCE NICs): 0.96, what nccl-tests reaches on one NIC (48-49 of 50 GB/s for
 * NDR send/recv, 192 of 200 GB/s per DGX A100 node): headers and the transport's pacing. */
#define COLL_EFF_SCALEUP 0.80
#define COLL_EFF_NET 0.96
/* In-switch reduction (NVLS) on top of COLL_EFF_SCALEUP: NCCL's tuning model gives its NVLS
 * algorithm 5/6 of the bus bandwidth (shared/data/validation/collectives.md); the switch's
 * reduction and multicast engines, not the ports, set the pace. */
#define COLL_EFF_NVLS (5.0 / 6.0)
/* Software latency, from NCCL's 2.19 tuning model (shared/data/validation/collectives.md):
 * a base of 8.4 us per collective (Simple protocol), and a per-step overhead on top of the
 * physical route latency: NCCL's per-step 3.4 us over NVLink minus the 1.4 us of an NVSwitch
 * route; its 14 us over the network minus the ~3.6 us of a two-tier IB route. */
#define COLL_BASE_LAT_S 8.4e-6
#define COLL_STEP_SCALEUP_S 2.0e-6
#define COLL_STEP_NET_S 10.4e-6

/* Channels and queue pairs (plan.c's ring steps). NCCL runs a ring collective over several
 * channels, each its own ring with its own connections, and on the network each connection
 * over nics.qps_per_connection queue pairs; an ECMP fabric hashes each (channel, QP) on its own
 * path, so one ring edge that crosses the network is that many flows, each with its share of
 * the bytes. The count follows NCCL's code (2.18-2.23):
 *  - rings: the topology search puts one ring per NIC (src/graph/search.cc), and
 *    ncclTopoPostset duplicates every ring (connect.cc: nChannels = min(MAXCHANNELS,
 *    nChannels * 2)): COLL_CHANNELS_PER_NIC = 2, at most COLL_MAX_CHANNELS = 32 (MAXCHANNELS)
 *    for the communicator. (ncclTopoDupChannels may double the rings again when few fast ones
 *    are found -- a one-GPU-per-node group on 400G -- which this model leaves out: it errs
 *    towards fewer paths.)
 *  - message size: the Simple protocol's ring drops channels while the collective's bytes
 *    < channels x 512 threads (NCCL_SIMPLE_MAX_NTHREADS) x 64 bytes a thread
 *    (NCCL_SIMPLE_THREAD_THRESHOLD), down to one (enqueue.cc, topoGetAlgoInfo: "while
 *    (nBytes < nc*nt*threadThreshold) nc--"); nBytes is nccl-tests' size (the total for
 *    all-gather and reduce-scatter, as here).
 * The communicator's channels are shared by the rings' exits (one per exit card and NIC). */
#define COLL_CHANNELS_PER_NIC 2
#define COLL_MAX_CHANNELS 32
#define COLL_CHANNEL_MIN_BYTES (512.0 * 64.0)

/* Work limits: beyond these a level refuses (with a message naming the fix) rather than
 * running for hours or exhausting memory. */
#define COLL_L1_MAX_FLOWS (1u << 25)  /* flows in one phase solved at L1 (4096^2 fits) */
#define COLL_L2_MAX_FLOWS 1.2e8       /* flows simulated in one L2 run, all steps */
#define COLL_L2_TICK 65536u           /* completions between progress reports (L2) */
#define COLL_PAIRWISE_SAMPLES 512     /* L0/L1 time pairwise all-to-all on this many rounds */

typedef enum coll_ph_kind {
  PH_LIST,  /* flows [first, first+nflows) of the plan's flow arrays */
  PH_SHIFT, /* rank i -> rank (i + shift) % n, `bytes` each (a pairwise round) */
  PH_A2A    /* every rank to every other rank, `bytes` each (direct all-to-all) */
} coll_ph_kind;

typedef struct coll_phase {
  coll_ph_kind kind;
  uint32_t first, nflows; /* PH_LIST range; nflows is set for every kind */
  uint32_t shift;
  double bytes;
  double repeat;   /* identical steps (a weight when rounds are sampled) */
  int32_t same_as; /* index of an earlier phase with identical flows, or -1 */
  uint32_t spread; /* flows per ring edge across the network (channels x QPs; 1 = one flow,
                      0 for phases that are not ring steps): above 1, or with several groups,
                      L1 times the step by counting flows per link (level.c) */
} coll_phase;

/* A collective as phases of flows between ranks (indices into cards[]). Arrays grow
 * geometrically and are reused when the plan is rebuilt. */
typedef struct coll_plan {
  coll_op op;
  coll_algo algo;
  double bytes;
  const uint32_t *cards; /* borrowed; n * ngroups entries, group g's at cards + g * n */
  uint32_t n;
  int level;        /* the level it is built for (coll_plan_build) */
  uint32_t ngroups; /* 1 but for coll_time_groups: the flows of one group's phase are
                     * repeated for every group, ranks shifted by g * n (coll_flow_at) */
  uint32_t *fs, *fd; /* PH_LIST flows: source and destination ranks */
  double *fb;        /* payload bytes */
  uint32_t nf, capf;
  coll_phase *ph;
  uint32_t nph, capph;
} coll_plan;

/* ---- the L1 phase cache ---------------------------------------------------------------- */
/* A phase's max-min rates do not depend on the bytes, so coll_l1 keeps, per distinct phase,
 * every flow's rate and route latency: a size sweep or the training model's repeated calls
 * then cost one pass over the flows (O(F)), not routes plus a solve. A phase is found by what
 * it is -- (hash of the card list of every group, n, ngroups, kind, shift, flows, fingerprint
 * of its (source, destination) pairs, counting or max-min) -- whatever collective built it,
 * and confirmed by a hash of the capacities of every link its routes use, so a failure model
 * that zeroes a link is noticed even without coll_ctx_invalidate. Entries are dropped all at
 * once when they would pass the budget. */
#define COLL_CACHE_MAX_BYTES ((size_t)256 << 20)
#define COLL_CACHE_MAX_ENTRIES 4096u
#define COLL_CACHE_BUCKETS 1024u /* power of two */

typedef struct coll_solved {
  uint64_t key;     /* mix of the fields below; bucket = key % COLL_CACHE_BUCKETS */
  uint64_t cards_hash; /* of all groups' cards */
  uint32_t n, ngroups, shift, nflows;
  uint8_t counting, kind, anynet; /* counting: timed by flows per link (level.c), else max-min */
  uint64_t flows_fp; /* fingerprint of the phase's (src, dst) rank pairs (group 0's) */
  uint64_t caps_hash; /* capacities of links[0..nlinks) */
  uint32_t nlinks;
  uint32_t next;      /* chain in the bucket: entry index + 1, 0 = end */
  uint32_t *links;    /* distinct links the routes use */
  double *rate, *lat; /* per flow: max-min rate (bytes/s) and route latency (s) */
  uint8_t *net;       /* per flow: crosses the network (COLL_EFF_NET), else scale-up */
} coll_solved;

struct coll_ctx {
  const hw_cluster *c;
  uint32_t cps; /* cards per scale-up domain */
  net_sim *sim; /* created on first L1/L2 use */
  coll_plan plan;
  uint8_t *seen; /* per card, all zero between calls: duplicate-card checks */
  /* L0 scratch, per rank */
  double *acc; /* 4 * n: out/in seconds over scale-up, out/in seconds over the NIC */
  uint32_t *tmp, *tmp2;
  uint32_t capn;
  /* L1 scratch, per flow */
  uint32_t *roff, *rlink;
  double *rate, *lat;
  double *srate;    /* rates of the shared flows */
  uint32_t *shared; /* flows handed to the solver (indices into the step's flows) */
  uint64_t capr, caprl;
  uint32_t *lcount; /* per link: flows of the step on it (zero between steps) */
  double *memo; /* per phase step time */
  uint32_t capmemo;
  uint8_t *fnet;    /* per flow of the step being solved: crosses the network */
  uint32_t *ulink;  /* distinct links of the step being solved */
  uint64_t capu;
  /* L1 phase cache (level.c) */
  uint64_t cards_hash; /* of the card list (all groups') of the call in progress */
  uint32_t *gcards;    /* coll_time_groups: every group's cards, group after group */
  uint32_t capg;
  coll_solved *sol;
  uint32_t nsol, capsol;
  uint32_t bucket[COLL_CACHE_BUCKETS]; /* entry index + 1, 0 = empty */
  size_t sol_bytes;
  size_t cache_max_bytes; /* COLL_CACHE_MAX_BYTES unless coll_ctx_set_cache_bytes */
  uint64_t solves, hits; /* phases solved / answered from the cache, since the context began */
  void (*progress)(void *arg, double frac); /* coll_ctx_set_progress */
  void *progress_arg;
};

/* plan.c */
void coll_plan_free(coll_plan *p);
/* Builds the plan of (op, algo) on x->... ranks for `level`; algo must be concrete (not AUTO).
 * Level 0 and 1 let pairwise sample its rounds, level 2 keeps every round; levels 1 and 2 split
 * each ring edge that crosses the network over its channels and queue pairs (L0 times loads
 * per card, which the split does not change, so it keeps one flow an edge). */
wk_errcode coll_plan_build(coll_ctx *x, coll_plan *p, coll_op op, coll_algo algo,
                           const uint32_t *cards, uint32_t n, double bytes, int level, wk_err *err);
static inline uint64_t coll_phase_flows1(const coll_plan *p, const coll_phase *ph) {
  return ph->kind == PH_A2A ? (uint64_t)p->n * (p->n - 1) : ph->nflows;
}
/* Flows of phase ph over all groups. */
static inline uint64_t coll_phase_flows(const coll_plan *p, const coll_phase *ph) {
  return coll_phase_flows1(p, ph) * p->ngroups;
}
/* The route salt of flow f: its index inside its group, so that every group (and a group
 * timed alone) routes its flows the same way. */
static inline uint64_t coll_flow_salt(const coll_plan *p, const coll_phase *ph, uint64_t f) {
  return p->ngroups > 1 ? f % coll_phase_flows1(p, ph) : f;
}
/* The f-th flow of phase ph (ranks into p->cards and payload bytes); flow f belongs to group
 * f / (flows of one group). */
static inline void coll_flow_at(const coll_plan *p, const coll_phase *ph, uint64_t f, uint32_t *s,
                                uint32_t *d, double *b) {
  uint32_t g = 0;
  if (p->ngroups > 1) {
    uint64_t per = coll_phase_flows1(p, ph);
    g = (uint32_t)(f / per);
    f %= per;
  }
  if (ph->kind == PH_LIST) {
    *s = p->fs[ph->first + f];
    *d = p->fd[ph->first + f];
    *b = p->fb[ph->first + f];
  } else if (ph->kind == PH_SHIFT) {
    *s = (uint32_t)f;
    *d = (uint32_t)((f + ph->shift) % p->n);
    *b = ph->bytes;
  } else {
    uint32_t src = (uint32_t)(f / (p->n - 1)), j = (uint32_t)(f % (p->n - 1));
    *s = src;
    *d = j < src ? j : j + 1;
    *b = ph->bytes;
  }
  if (g) {
    *s += g * p->n;
    *d += g * p->n;
  }
}

/* level.c: the three timings of a built plan. Each returns the collective's time in seconds
 * (INFINITY if a flow crosses a dead link). */
double coll_l0(coll_ctx *x, const coll_plan *p);
double coll_l0_phase(coll_ctx *x, const coll_plan *p, const coll_phase *ph, double *lat_part);
wk_errcode coll_l1(coll_ctx *x, const coll_plan *p, double *time_s, wk_err *err);
/* Hash of a card list (with n), set by coll.c before L1 timing of that list. O(n). */
uint64_t coll_hash_cards(const uint32_t *cards, uint32_t n);
/* Drops every cached phase (keeps the memory of the table). O(entries). */
void coll_cache_clear(coll_ctx *x);
/* Runs k plans at once from time 0 on one net_sim; OUT time_s[k]. */
wk_errcode coll_l2(coll_ctx *x, coll_plan *const *plans, uint32_t k, double *time_s, wk_err *err);
/* The work and memory limits of L1 and L2, checked before anything is built or solved, with
 * messages naming what would be built and what shrinks it (WK_ERANGE / WK_ECAPACITY):
 * coll_check_l1: every phase of p within COLL_L1_MAX_FLOWS, and the flow engine plus the
 * largest phase's flows within wk_memory_limit(); coll_check_l2: the k plans' flows within
 * COLL_L2_MAX_FLOWS in all, and the engine plus every plan's largest step at once within the
 * limit. O(phases + k). */
wk_errcode coll_check_l1(const coll_ctx *x, const coll_plan *p, wk_err *err);
wk_errcode coll_check_l2(const coll_ctx *x, coll_plan *const *plans, uint32_t k, wk_err *err);

#endif
