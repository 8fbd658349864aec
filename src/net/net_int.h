/* net_int.h — private body of the net_ engine, shared by its .c files only (sim.c: tables and
 * event loop; solve.c: incremental progressive filling; heap.c: the two indexed heaps; once.c:
 * the L1 entry points). Structure of arrays indexed by uint32 ids; no pointers between records. */
#ifndef WK_NET_INT_H
#define WK_NET_INT_H

#include <string.h>

#include "net/net.h"

#define NET_NIL UINT32_MAX
#define NET_CHUNK 256u
#define NET_FX 4096.0 /* fixed-point units per byte/s for per-link rate sums */

/* a slot's life: pending, active, drained (waiting out its route latency), done (in the done
 * FIFO until its notes are read; DONE_GROUP: it completed its group), free */
enum { FS_FREE = 0, FS_PENDING, FS_ACTIVE, FS_DRAINED, FS_DONE, FS_DONE_GROUP };
/* f_flags: the spec's flags in the low 4 bits, 1 + the flow's latency class above (0: none) */
#define NET_LAT_CLASSES 15
#define NET_LC_SHIFT 4

/* One hop of one flow's route, and its place in that link's flow heap (pos; the free-list link
 * while the route is free). A route is a contiguous run of hops in the pool; the flow is not
 * kept here (the link-heap entry carries it). */
typedef struct net_hop {
  uint32_t link, pos;
} net_hop;

/* A link's flow-heap entry: the flow's rate (the key, == f_rate[flow] while active) beside it. */
typedef struct net_lfe {
  double rate;
  uint32_t hop, flow;
} net_lfe;

typedef struct net_ev { /* event heap entry: at most one pending event per flow */
  uint32_t flow;
  uint32_t seq; /* low 32 bits of the event's sequence number (heap.c) */
  double t;     /* last: as a little-endian 128-bit number the entry orders by (t, seq, flow) */
} net_ev;
_Static_assert(sizeof(net_ev) == 16 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "entries compare as 128-bit numbers (net_u128_before)");
#define NET_EV_OFF 3 /* heap node i is ev[i + 3]: every node's four children share a line */

/* Per-link state. A link's active flows form a max-heap of hop ids keyed by the flow's rate
 * (INFINITY while new), so "the flows on l at or above rate t" costs O(their number), never
 * O(the link's degree): an all-to-all puts thousands of flows on every link. */
typedef struct net_link {
  net_lfe *fl;   /* the flow heap (grown in net_flow_add only), NULL while unused */
  int64_t head;  /* fx(capacity) minus fx(rate) of its active flows with a solved rate */
  int64_t rem;   /* solver: capacity minus frozen rates, fixed point */
  double mf;     /* solver: highest rate frozen on the link; once it pops, the level it froze */
  uint32_t n;    /* active flows on the link (heap size) */
  uint32_t res;  /* flows added and not yet gone from the link (pending + active) */
  uint32_t fcap; /* capacity of fl */
  uint32_t cnt;  /* solver: unfrozen re-solved flows */
  uint32_t uoff; /* solver: the re-solved flows on the link are uflow[uoff .. uoff + ucnt) */
  union {        /* one word, so that a link fills one cache line (64 B) */
    uint32_t ucnt; /* solver: re-solved flows on the link */
    uint32_t chg;  /* apply, after the solver: flows on the link whose rate changes, then 1 if
                    * its heap is rebuilt; 0 outside apply (net_lf_moved reads it) */
  };
  uint32_t mark : 28; /* == epoch: seeded or visited in this batch (epochs stay below 2^28) */
  uint32_t fl_ : 4;   /* NET_L* flags of this batch (valid while mark == epoch) */
  float tol;          /* saturation slack in fixed-point units: NET_TOL-scaled capacity + 64 */
} net_link;
_Static_assert(sizeof(net_link) == 64, "a link fills one cache line");
/* net_link.fl_: saturated before the batch; a flow left it in the batch; re-solved flows on it
 * changed rate in the last solve; it froze re-solved flows (at mf) in the last solve */
enum { NET_LSAT = 1u, NET_LSEED = 2u, NET_LDIRTY = 4u, NET_LFROZE = 8u };

typedef struct net_lh { /* solver queue entry: a link's current fair share */
  uint32_t pad, link; /* pad is 0 */
  double key;         /* never negative nor -0, so its bits order as it does */
} net_lh;
_Static_assert(sizeof(net_lh) == 16, "entries compare as 128-bit numbers (net_u128_before)");
/* Whether 16-byte record a orders before b read as little-endian 128-bit numbers: one wide
 * compare. net_ev and net_lh put their key last, so this is their order. */
static inline int net_u128_before(const void *a, const void *b) {
  unsigned __int128 x, y;
  memcpy(&x, a, sizeof x);
  memcpy(&y, b, sizeof y);
  return x < y;
}
/* the solver's order of links: by share, ties by link id (so the order is deterministic); the
 * entry read as a 128-bit number is (key bits, link, 0) */
static inline int net_lh_before(const net_lh *a, const net_lh *b) { return net_u128_before(a, b); }

struct net_sim {
  uint32_t nlinks;
  const double *cap; /* borrowed */
  const float *lat;  /* borrowed */
  net_mode mode;
  double now;

  /* per link (nlinks each). A link's active flows form a max-heap of hop ids keyed by the flow's
   * rate (INFINITY while new), so "the flows on l at or above rate t" costs O(their number),
   * never O(the link's degree): an all-to-all puts thousands of flows on every link. */
  net_link *lk;
  uint32_t *lq;      /* links seeded / visited this batch */
  uint32_t nlq;
  net_lh *lheap;  /* the fill's link queue (heap.c): a heap in [0, lh_side), a sorted run in */
  uint32_t nlheap; /* [lh_run, nlheap) */
  uint32_t lh_run, lh_side, lh_top_side;

  /* per flow slot (fcap each) */
  uint32_t fcap, fhigh, ffree; /* capacity, slots ever used, free-list head */
  uint32_t *f_hop;             /* first hop of the route (free or done list link when free) */
  uint16_t *f_nh;
  uint8_t *f_state, *f_flags;
  uint32_t *f_group;
  double *f_left;  /* bytes not yet drained as of f_tlast */
  double *f_tlast; /* start time while pending; last rate change while active */
  double *f_rate;  /* INFINITY for a flow started in this batch and not yet solved; while
                    * pending, the sequence number of its start event (exact below 2^53) */
  uint32_t *f_mark;/* == epoch: unfrozen in this solve; epoch+1: frozen in it */
  uint32_t *f_epos;/* position in the event heap, NET_NIL if none; while drained and waiting in
                    * a latency FIFO, the next flow of that FIFO (NET_NIL at its tail) */
  uint32_t *ulist; /* flows being re-solved */
  double *scratch; /* new rates by flow (solve) */
  uint32_t nu;     /* flows in ulist */

  /* hop pool with one free list per route length (exact fit; no splitting) */
  net_hop *hop;
  uint32_t hcap, hhigh;
  uint32_t *uflow;   /* solver: the re-solved flows grouped by link (hcap entries) */
  uint32_t hfree[NET_MAX_HOPS + 1];
  uint64_t lf_slots; /* sum of lk[].fcap: heap slots held for hops */

  /* event heap (drains, completions, and starts that arrive late; see heap.c) */
  net_ev *ev;
  uint32_t nev;
  int ev_lazy; /* entries set unordered while many move at once; net_ev_heapify restores */
  uint64_t seq;
  /* start queue: pending flows by (start time, seq) in sq[sq_head .. sq_sorted), then the ones
   * added out of order in sq[sq_sorted .. sq_n), sorted in at the next step (fcap each) */
  uint32_t *sq;
  uint32_t sq_head, sq_sorted, sq_n;
  /* completion FIFOs, one per distinct route latency (the first NET_LAT_CLASSES seen; kept
   * across resets): drains come in time order, so drain time + a fixed latency does too */
  double lc_lat[NET_LAT_CLASSES];
  uint32_t lc_head[NET_LAT_CLASSES], lc_tail[NET_LAT_CLASSES];
  uint32_t nlc, lc_busy; /* classes; bit c set: FIFO c is not empty */

  /* groups, and the completed flows in completion order, linked through f_hop: the notes are
   * read off them (sim.c: complete), note_next of the head's already returned */
  uint32_t *g_left;
  uint32_t gcap;
  uint32_t done_head, done_tail, note_next;
  uint64_t tick, tick_next; /* net_sim_set_tick: every, and the completed count of the next */

  uint32_t chunk[NET_CHUNK]; /* events of the batch in hand, popped ahead (sim.c: prefetch_flows) */
  uint32_t epoch;
  int changed;
  uint32_t nactive, nstalled;
  double last_done;   /* time of the latest completion */
  double *finish_out; /* L1 fast path (once.c): drained flows write their completion here */
  net_stats st;
};

/* heap.c: indexed 4-ary event heap over flows, ordered by (time, seq); O(log4 n) each. */
void net_ev_set(net_sim *s, uint32_t f, double t); /* insert or move; assigns a new seq */
void net_ev_remove(net_sim *s, uint32_t f);        /* no-op if f has no event */
void net_ev_heapify(net_sim *s); /* ends an ev_lazy stretch: O(n) rebuild */
/* heap.c: start events. net_sq_push queues pending flow f (start time in f_tlast[f]): O(1),
 * plus a sort of out-of-order arrivals at the next step, O(k log k + queue) for k of them, or
 * O(k log n) through the event heap when k is small beside the queue. */
void net_sq_push(net_sim *s, uint32_t f);
/* heap.c: completion events. net_lc_class gives 1 + the latency class of lat (made on first
 * sight; 0 when all are taken), O(classes), at flow add only. net_ev_complete_at schedules
 * drained flow f's completion at t: O(1) in its class FIFO, else O(log n) in the heap. */
uint32_t net_lc_class(net_sim *s, double lat);
void net_ev_complete_at(net_sim *s, uint32_t f, double t);
/* heap.c: net_ev_pop_first pops the first events, up to max, into out (OUT *t: their time);
 * net_ev_pop_run pops the next events at time t, up to max. Both return how many, fewer than
 * max only when no more are at that time (0: none). The heap, the start queue and the
 * completion FIFOs are merged by (time, seq), so events come out exactly as from one heap:
 * O(classes) per run of events from one source, plus the heap's O(log n) for each event that
 * comes from it. */
uint32_t net_ev_pop_first(net_sim *s, double *t, uint32_t *out, uint32_t max);
uint32_t net_ev_pop_run(net_sim *s, double t, uint32_t *out, uint32_t max);
/* heap.c: the solver's queue of links by (key, link id), lazily keyed: a link's key may lag
 * below its share (shares only grow while a fill runs), so the solver re-keys the first until
 * it is exact. Callers fill lheap[0..nlheap) then net_lh_build, O(n log n); net_lh_top gives the
 * first (NULL if none), net_lh_settop re-keys it and net_lh_pop drops it: O(1) for a link still
 * in the sorted run, O(log n) for one already re-keyed. */
void net_lh_build(net_sim *s);
/* sorts a[0..n) by (key, link); heapsort once depth partitions deep (net_lh_build: 2 log2 n) */
void net_lh_sort(net_lh *a, uint32_t n, uint32_t depth);
const net_lh *net_lh_top(net_sim *s);
void net_lh_settop(net_sim *s, double key);
void net_lh_pop(net_sim *s);
/* heap.c: per-link 4-ary max-heaps of hops by flow rate (see net_link); O(log4 d) each for d
 * flows. A link of at most NET_LF_SMALL flows keeps them unordered: walks scan it, upkeep O(1). */
#define NET_LF_SMALL 32u
void net_lf_insert(net_sim *s, uint32_t h, uint32_t f); /* hop h of flow f joins its link */
void net_lf_remove(net_sim *s, uint32_t h);      /* h leaves its link */
void net_lf_moved(net_sim *s, uint32_t h, double rate); /* h's flow has a new rate */
void net_lf_heapify(net_sim *s, uint32_t l);       /* rebuilds l's heap, O(d) */

/* The canonical fair share of a link in the solver state: max(rem / unfrozen, highest frozen
 * rate), rem in exact fixed point, so it depends on which flows are frozen and at what rates,
 * never on the order of freezing (solve.c). */
static inline double net_share(int64_t rem, uint32_t unfrozen, double highest_frozen) {
  double raw = rem > 0 ? (double)rem * (1.0 / NET_FX) / (double)unfrozen : 0.0;
  return raw > highest_frozen ? raw : highest_frozen;
}
static inline double net_link_share(const net_sim *s, uint32_t l) {
  return net_share(s->lk[l].rem, s->lk[l].cnt, s->lk[l].mf);
}
static inline int64_t net_fx(double bytes_per_s) { return (int64_t)(bytes_per_s * NET_FX); }

/* solve.c */
float net_link_tol(double capacity); /* net_link.tol for a link of that capacity (bytes/s) */
/* marks f's links as touched this batch (OR-ing flags into those that were already) */
void net_seed_links(net_sim *s, uint32_t f, uint32_t flags);
void net_solve_batch(net_sim *s);                 /* re-solve after a batch of changes */
/* progressive filling of the flows in ulist with every other flow at its rate: new rates in
 * scratch, links that froze flows marked NET_LFROZE (the first half of a re-solve) */
void net_fill(net_sim *s);
/* sim.c */
void net_begin_batch(net_sim *s);
int net_step_batch(net_sim *s); /* processes the next batch of equal-time events; 0 if none */
/* how: NET_ADD_PUSH queues its start event; NET_ADD_NOHEAP reserves no slot in its links' flow
 * heaps (net_maxmin: the flow is filled once and never joins them) */
enum { NET_ADD_PUSH = 1u, NET_ADD_NOHEAP = 2u };
wk_errcode net_flow_add_int(net_sim *s, const net_flow_spec *sp, uint32_t *id, unsigned how);
void net_flow_start(net_sim *s, uint32_t f); /* joins its links now (part of a batch) */
void net_flow_set_rate(net_sim *s, uint32_t f, double r);
double net_flow_lat(const net_sim *s, uint32_t f); /* route latency, seconds: O(1), or O(hops) */

#endif
