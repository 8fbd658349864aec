/* net — the flow-level fabric engine: links with capacity and latency, flows over routes of
 * links, rates by max-min fairness (progressive filling), and an event-driven run in which
 * flows start and finish and rates are re-solved incrementally. L1 (a collective step solved
 * once) and L2 (every flow of every job, event by event) both stand on it. Plain arrays in,
 * no dependency on hw/; everything hangs off a net_sim, so many can live in one process. */
#ifndef WK_NET_H
#define WK_NET_H

#include <stdint.h>

#include "core/core.h"

typedef struct net_sim net_sim;

#define NET_NONE UINT32_MAX       /* "no group" tag; also an invalid flow id */
#define NET_MAX_HOPS 128          /* longest route */
#define NET_MAX_GROUPS (1u << 24) /* group tags are dense small integers below this */
/* Largest link capacity, bytes/s (2^50, about 1.1 PB/s). Rates are summed per link in 2^-12
 * byte/s fixed point, so link sums never drift however many flows come and go. */
#define NET_MAX_CAPACITY 1125899906842624.0

/* Creates an engine over links 0..nlinks-1. capacity[l] in bytes/s (finite, 0 <= c <=
 * NET_MAX_CAPACITY; 0 is a dead link), latency[l] in seconds (finite, >= 0). Both arrays are
 * BORROWED: the caller keeps them alive and unchanged while the net_sim lives (a 1M-link fabric
 * is not copied). Returns NULL and fills *err (if non-NULL) on bad values. Costs O(nlinks) time
 * and 84 bytes per link (flow-heap head and solver state), allocated here once; each link's heap
 * of flows grows in net_flow_add. Owned by the caller. */
net_sim *net_sim_new(uint32_t nlinks, const double *capacity, const float *latency, wk_err *err);
void net_sim_free(net_sim *s); /* NULL is a no-op */
/* Memory a run will need, for checking it against a limit before anything is built: the bytes
 * net_sim_new allocates for nlinks links, and the bytes one active flow of `hops` hops holds
 * (its table slot and event entry, its route and, in event mode only, its slots in the links'
 * flow heaps; the solvers of net_maxmin and net_solve_once keep none). O(1). */
uint64_t net_sim_link_bytes(uint32_t nlinks);
uint64_t net_sim_flow_bytes(uint32_t hops, int event_mode);

/* Drops every flow and note and sets the clock back to 0; keeps the allocated memory, so a
 * reused net_sim never allocates again for a workload no larger than before. O(flow slots). */
void net_sim_reset(net_sim *s);

/* Recompute mode. INCREMENTAL (the default) re-solves, at each batch of simultaneous flow
 * starts and finishes, only the flows whose rate changes, found by bottleneck propagation: a
 * flow joins the re-solve only when the links that made it a bottleneck change (solve.c). Rates
 * are max-min fair to 1e-9 relative (changes below that, and below the fixed-point remainder of
 * the flow's links, are not applied). FULL re-solves every active flow at every batch: the
 * reference the incremental mode is checked against (completion times agree to 1e-9; FULL is
 * just much slower). Both are deterministic. */
typedef enum net_mode { NET_MODE_INCREMENTAL = 0, NET_MODE_FULL = 1 } net_mode;
void net_sim_set_mode(net_sim *s, net_mode m);

/* ---- event mode (L2) --------------------------------------------------------------------- */
enum { NET_FLOW_NOTIFY = 1u }; /* net_flow_spec.flags: deliver a NET_NOTE_FLOW at completion */

typedef struct net_flow_spec {
  const uint32_t *route; /* link ids, borrowed for the call only (copied into the engine) */
  uint32_t nhops;        /* 0..NET_MAX_HOPS; 0 means local: completes at start */
  double bytes;          /* >= 0 */
  double start_s;        /* >= the engine's clock (net_sim_now) */
  uint32_t group;        /* NET_NONE or a tag < NET_MAX_GROUPS */
  uint32_t flags;        /* NET_FLOW_NOTIFY or 0 */
} net_flow_spec;

/* Adds a flow. OUT *id: its flow id, valid until its completion has been delivered (the slot is
 * then recycled). Fluid model: it holds bandwidth from start_s until its bytes have drained at
 * its max-min rate (re-solved as other flows come and go), and completes one route latency
 * (sum of its links' latencies) after draining. A flow over a dead link gets rate 0 and never
 * completes: it is counted by net_sim_stalled, never divides by zero, never hangs the run.
 * Errors (nothing added): WK_EVALUE for a bad link id, a link repeated in the route, negative or
 * NaN bytes, a start before now; WK_ERANGE for too many hops or a group tag too large.
 * O(nhops) plus geometric growth of the flow tables (never inside net_sim_next). */
wk_errcode net_flow_add(net_sim *s, const net_flow_spec *spec, uint32_t *id);

typedef enum net_note_kind { NET_NOTE_FLOW = 1, NET_NOTE_GROUP = 2, NET_NOTE_TICK = 3 } net_note_kind;
typedef struct net_note {
  double time_s;      /* completion time (seconds); the clock for a tick */
  net_note_kind kind; /* a flow with NET_FLOW_NOTIFY completed, or a group's last flow did, or
                       * (net_sim_set_tick) another `every` flows completed */
  uint32_t id;        /* flow id (NET_NOTE_FLOW) or group tag (NET_NOTE_GROUP); NET_NONE */
  uint32_t group;     /* the flow's group tag (NET_NOTE_FLOW), else the tag again; NET_NONE */
} net_note;

/* Asks net_sim_next for a NET_NOTE_TICK once at least `every` more flows have completed than
 * at the last tick (checked between batches, so a batch that completes many flows gives one
 * tick; 0, the default: none), so that a caller can show progress through a long run whose
 * own notes are rare (one all-to-all step of 16.8 M flows sends one group note). Ticks change
 * nothing in the run. O(1). */
void net_sim_set_tick(net_sim *s, uint64_t every);
/* Flows completed since the last reset. O(1). */
uint64_t net_sim_completed(const net_sim *s);

/* Polling API: runs the simulation until the next note and returns it (OUT *note, returns 1),
 * or returns 0 when nothing is left to happen (all flows done, or only stalled flows remain).
 * The caller may add flows (start >= net_sim_now) between calls: a collective adds phase k+1 when
 * phase k's group note arrives. A group note is sent each time the count of not-yet-completed
 * flows with that tag drops to zero. Notes at equal times come in event insertion order.
 * Cost per batch of simultaneous events: O(1) per start of a flow added in start-time order
 * (others are sorted in at the next call, O(log k) each) and per completion (FIFOs by route
 * latency), O(log n) per drain (4-ary heap over active flows), plus the re-solve:
 * O(F_r * h * (log L_r + log d)) for F_r re-solved flows of h hops over L_r links of up to d
 * flows each, once per round of propagation; a link's other flows are never scanned (per-link
 * rate sums and rate-ordered flow heaps). Never allocates. */
int net_sim_next(net_sim *s, net_note *note);

/* Runs to the end, discarding notes; returns the time of the last completion (0 if none).
 * Stalled flows are left active (see net_sim_stalled). */
double net_sim_run(net_sim *s);

double net_sim_now(const net_sim *s);         /* the clock, seconds */
uint32_t net_sim_active(const net_sim *s);    /* flows holding links now */
uint32_t net_sim_stalled(const net_sim *s);   /* active flows at rate 0 (over a dead link) */
double net_flow_rate(const net_sim *s, uint32_t id); /* bytes/s of an active flow, else NAN */

typedef struct net_stats {
  uint64_t events;         /* flow starts, drains and completions processed */
  uint64_t batches;        /* groups of simultaneous events, each re-solved at most once */
  uint64_t flows_resolved; /* sum over re-solves of the flows whose rate was recomputed */
  uint64_t links_resolved; /* sum over re-solves of the links visited */
  uint64_t rates_changed;  /* sum over re-solves of the flows whose rate actually changed */
  uint64_t completed;      /* flows completed */
  uint32_t peak_active;    /* most flows holding links at once */
  uint64_t flow_bytes;     /* bytes allocated for flow state: tables, routes, heaps, groups */
  uint64_t link_bytes;     /* bytes allocated for links (list heads, solver), 84 * nlinks */
  /* flow_bytes in parts: the flow table (per-flow fields, event heap, queues: 76 B a slot), the
   * route pool (12 B a hop), the per-link flow heaps (16 B a slot reserved), group counters
   * (notes need none: they are read off the completed flows) */
  uint64_t mem_flow_table, mem_routes, mem_link_heaps, mem_groups;
} net_stats;
void net_sim_stats(const net_sim *s, net_stats *out); /* OUT *out */

/* ---- solve once (L1) --------------------------------------------------------------------- */
/* Both take nflows concurrent flows as CSR routes: flow i crosses
 * route_link[route_off[i] .. route_off[i+1]); both need an idle net_sim (no flows: fresh or
 * reset) and leave it reset. Errors as net_flow_add (then outputs are unspecified).
 *
 * net_maxmin: OUT rate[i], the max-min fair rate in bytes/s (0 over a dead link; INFINITY for
 * an empty route). One progressive filling: O((F * h + S) log L). */
wk_errcode net_maxmin(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                      const uint32_t *route_link, double *rate);
/* net_solve_once: all flows start at time 0 with bytes[i] each and run to completion, rates
 * re-solved as they finish. OUT rate[i] (initial max-min rates, may be NULL), finish[i]
 * (completion time including route latency; INFINITY if stalled; may be NULL), *makespan (the
 * last completion; INFINITY if any flow is stalled). Cost: the first solve plus one incremental
 * re-solve per distinct finish time. */
wk_errcode net_solve_once(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                          const uint32_t *route_link, const double *bytes, double *rate,
                          double *finish, double *makespan);

#endif
