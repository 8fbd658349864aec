/* heap.c — the engine's event queues and indexed heaps. Events are ordered by time then
 * insertion sequence across three sources: a start queue (starts mostly come in time order), one
 * completion FIFO per route latency, and a 4-ary heap holding each active flow's drain event, so
 * a rate change moves the flow's drain time in place (or, when a solve moves many, one rebuild).
 * The link queue (a sorted run, and a 4-ary heap of the links re-keyed since; by fair share
 * then link id, lazily keyed) drives progressive filling; the link id tie-break makes the
 * freezing order a pure function of the flows, hence deterministic. The per-link flow heaps (max by rate) find a link's flows above a level
 * without a scan. All arrays are sized by their owners in advance: nothing here allocates. */
#include <string.h>

#include "net/net_int.h"

/* ---- event heap -------------------------------------------------------------------------- */
/* Entries are 16 bytes and node i lives at ev[i + NET_EV_OFF], so the four children of a node
 * fill one cache line: a sift touches one line per level. Times are never negative (nor -0:
 * net_flow_add adds +0), so their bit patterns order as they do, and (time, seq) orders as one
 * integer: heap entries compare in one instruction pair, other sources' keys by key_before. The
 * seq kept is the low 32 bits of
 * the event's sequence number: ties within a time come out in insertion order until 2^32
 * events, and after that in an order that is still a fixed function of the events. Time order
 * is always exact. */
static inline uint64_t tbits(double t) {
  uint64_t b;
  memcpy(&b, &t, sizeof b);
  return b;
}

static inline int key_before(uint64_t ta, uint32_t qa, uint64_t tb, uint32_t qb) {
  return (ta < tb) | ((ta == tb) & (qa < qb));
}

/* An entry read as one 128-bit number is (time bits, seq, flow) from its high bits down. */
static inline int ev_before(const net_ev *a, const net_ev *b) { return net_u128_before(a, b); }

static inline net_ev *ev_node(const net_sim *s) { return s->ev + NET_EV_OFF; }

static inline void ev_place(net_sim *s, net_ev *h, uint32_t i, net_ev e) {
  h[i] = e;
  s->f_epos[e.flow] = i;
}

/* The earliest of the children of a node whose first child is c (n entries in all): with all
 * four there, two independent comparisons and a third, not a chain of three. */
static inline uint32_t ev_least_child(const net_ev *h, uint32_t c, uint32_t n) {
  if (c + 4 <= n) {
    uint32_t a = c + (uint32_t)ev_before(&h[c + 1], &h[c]);
    uint32_t b = c + 2 + (uint32_t)ev_before(&h[c + 3], &h[c + 2]);
    uint32_t m = 0u - (uint32_t)ev_before(&h[b], &h[a]); /* arithmetic, not a branch: the */
    return a ^ ((a ^ b) & m);                            /* outcome is a coin toss */
  }
  uint32_t best = c;
  for (uint32_t k = c + 1; k < n; k++) best = ev_before(&h[k], &h[best]) ? k : best;
  return best;
}

static void ev_sift_up(net_sim *s, uint32_t i, net_ev e) {
  net_ev *h = ev_node(s);
  while (i > 0) {
    uint32_t p = (i - 1) >> 2;
    if (!ev_before(&e, &h[p])) break;
    ev_place(s, h, i, h[p]);
    i = p;
  }
  ev_place(s, h, i, e);
}

static void ev_sift_down(net_sim *s, uint32_t i, net_ev e) {
  net_ev *h = ev_node(s);
  uint32_t n = s->nev;
  for (;;) {
    uint32_t c = 4 * i + 1;
    if (c >= n) break;
    uint32_t best = ev_least_child(h, c, n);
    if (!ev_before(&h[best], &e)) break;
    ev_place(s, h, i, h[best]);
    i = best;
  }
  ev_place(s, h, i, e);
}

/* Removes the root: the hole left at the top follows the earliest child down to a leaf (three
 * comparisons a level, not four), then the last entry, late as a rule, sifts up from there. */
static void ev_pop_root(net_sim *s) {
  net_ev *h = ev_node(s);
  uint32_t n = --s->nev, i = 0;
  if (n == 0) return;
  for (;;) {
    uint32_t c = 4 * i + 1;
    if (c >= n) break;
    uint32_t best = ev_least_child(h, c, n);
    ev_place(s, h, i, h[best]);
    i = best;
  }
  ev_sift_up(s, i, h[n]);
}

void net_ev_set(net_sim *s, uint32_t f, double t) {
  net_ev e = {f, (uint32_t)s->seq++, t};
  uint32_t i = s->f_epos[f];
  net_ev *h = ev_node(s);
  if (s->ev_lazy) {
    ev_place(s, h, i == NET_NIL ? s->nev++ : i, e);
  } else if (i == NET_NIL) {
    WK_ASSERT(s->nev < s->fcap);
    ev_sift_up(s, s->nev++, e);
  } else if (ev_before(&e, &h[i])) {
    ev_sift_up(s, i, e);
  } else {
    ev_sift_down(s, i, e);
  }
}

void net_ev_remove(net_sim *s, uint32_t f) {
  uint32_t i = s->f_epos[f];
  if (i == NET_NIL) return;
  s->f_epos[f] = NET_NIL;
  net_ev *h = ev_node(s);
  if (i == 0 && !s->ev_lazy) {
    ev_pop_root(s);
    return;
  }
  net_ev last = h[--s->nev];
  if (i == s->nev) return;
  if (s->ev_lazy)
    ev_place(s, h, i, last);
  else if (i > 0 && ev_before(&last, &h[(i - 1) >> 2]))
    ev_sift_up(s, i, last);
  else
    ev_sift_down(s, i, last);
}

/* Floyd's bottom-up build: O(n), against O(k log n) for k moves sifted one by one. The order
 * of pops does not depend on the heap's layout ((time, seq) keys are distinct). */
void net_ev_heapify(net_sim *s) {
  s->ev_lazy = 0;
  net_ev *h = ev_node(s);
  for (uint32_t i = s->nev > 1 ? (s->nev - 2) / 4 + 1 : 0; i-- > 0;) ev_sift_down(s, i, h[i]);
}

/* ---- start queue ------------------------------------------------------------------------ */
/* Starts are most of the events (every flow has one, most have one more) and usually come in
 * time order (a collective's flows all start at one time; phases follow each other), so they
 * wait in a queue, not in the heap: O(1) each instead of O(log n), and the heap stays as small
 * as the set of active flows. The queue's seq (kept in f_rate while pending) ties it to the
 * heap: merged by (time, seq), the events come out exactly as from one heap. */
static inline double sq_time(const net_sim *s, uint32_t f) { return s->f_tlast[f]; }

static void ev_push_seq(net_sim *s, uint32_t f, double t, uint64_t seq) {
  WK_ASSERT(s->nev < s->fcap && s->f_epos[f] == NET_NIL);
  net_ev e = {f, (uint32_t)seq, t};
  ev_sift_up(s, s->nev++, e);
}

void net_sq_push(net_sim *s, uint32_t f) {
  uint64_t seq = s->seq++;
  s->f_rate[f] = (double)seq;
  if (s->sq_n == s->fcap) { /* slots left only at the front: compact, if that pays for itself */
    if (s->sq_head * 4 < s->fcap) {
      ev_push_seq(s, f, sq_time(s, f), seq);
      return;
    }
    uint32_t live = s->sq_n - s->sq_head;
    memmove(s->sq, s->sq + s->sq_head, (size_t)live * sizeof *s->sq);
    s->sq_sorted -= s->sq_head;
    s->sq_n = live;
    s->sq_head = 0;
  }
  if (s->sq_sorted == s->sq_n &&
      (s->sq_n == s->sq_head || sq_time(s, f) >= sq_time(s, s->sq[s->sq_n - 1])))
    s->sq_sorted++; /* in order: extends the sorted run */
  s->sq[s->sq_n++] = f;
}

/* Stable merge of two runs sorted by start time into out; ties go to x (the earlier adds). */
static void sq_merge(const net_sim *s, const uint32_t *x, uint32_t nx, const uint32_t *y,
                     uint32_t ny, uint32_t *out) {
  uint32_t i = 0, j = 0, k = 0;
  while (i < nx && j < ny) out[k++] = sq_time(s, y[j]) < sq_time(s, x[i]) ? y[j++] : x[i++];
  while (i < nx) out[k++] = x[i++];
  while (j < ny) out[k++] = y[j++];
}

/* Stable sort of a[0..n) by start time (entries are in seq order, so ties keep it), with tmp of
 * n entries: insertion sort of runs of 16, then bottom-up merges. O(n log n). */
static void sq_sort(const net_sim *s, uint32_t *a, uint32_t n, uint32_t *tmp) {
  for (uint32_t b = 0; b < n; b += 16) {
    uint32_t e = b + 16 < n ? b + 16 : n;
    for (uint32_t i = b + 1; i < e; i++) {
      uint32_t v = a[i], j = i;
      for (; j > b && sq_time(s, a[j - 1]) > sq_time(s, v); j--) a[j] = a[j - 1];
      a[j] = v;
    }
  }
  uint32_t *src = a, *dst = tmp;
  for (uint32_t w = 16; w < n; w *= 2) {
    for (uint32_t b = 0; b < n; b += 2 * w) {
      uint32_t m = b + w < n ? b + w : n, e = b + 2 * w < n ? b + 2 * w : n;
      sq_merge(s, src + b, m - b, src + m, e - m, dst + b);
    }
    uint32_t *t = src;
    src = dst, dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof *a);
}

/* Brings the out-of-order arrivals in: a few go to the heap, many are sorted and merged (the
 * merge costs at most 17 moves per arrival). Uses ulist as scratch (free between solves). */
static void sq_settle(net_sim *s) {
  uint32_t u = s->sq_n - s->sq_sorted, live = s->sq_sorted - s->sq_head;
  if (u == 0) return;
  uint32_t *tail = s->sq + s->sq_sorted;
  if ((uint64_t)u * 16 < live) {
    for (uint32_t i = 0; i < u; i++)
      ev_push_seq(s, tail[i], sq_time(s, tail[i]), (uint64_t)s->f_rate[tail[i]]);
  } else {
    sq_sort(s, tail, u, s->ulist);
    sq_merge(s, s->sq + s->sq_head, live, tail, u, s->ulist);
    memcpy(s->sq, s->ulist, (size_t)(live + u) * sizeof *s->sq);
    s->sq_head = 0;
    s->sq_sorted = live + u;
  }
  s->sq_n = s->sq_sorted;
}

/* ---- completion FIFOs ------------------------------------------------------------------ */
/* Every flow that drains waits out its route latency before it completes. Flows of equal
 * latency complete in the order they drained, so one FIFO per latency class keeps them sorted
 * by (time, seq) for free, linked through f_epos; the heap then holds drain events only. */
uint32_t net_lc_class(net_sim *s, double lat) {
  for (uint32_t c = 0; c < s->nlc; c++)
    if (s->lc_lat[c] == lat) return c + 1;
  if (s->nlc == NET_LAT_CLASSES) return 0;
  s->lc_lat[s->nlc] = lat;
  s->lc_head[s->nlc] = s->lc_tail[s->nlc] = NET_NIL;
  return ++s->nlc;
}

void net_ev_complete_at(net_sim *s, uint32_t f, double t) {
  uint32_t c = (uint32_t)s->f_flags[f] >> NET_LC_SHIFT;
  if (c-- == 0) {
    net_ev_set(s, f, t);
    return;
  }
  WK_ASSERT(s->f_epos[f] == NET_NIL);
  s->f_tlast[f] = t;
  s->f_rate[f] = (double)s->seq++;
  if (s->lc_tail[c] == NET_NIL)
    s->lc_head[c] = f, s->lc_busy |= 1u << c;
  else
    s->f_epos[s->lc_tail[c]] = f;
  s->lc_tail[c] = f;
}

/* ---- the next event, from the heap, the start queue or a completion FIFO ----------------- */
/* Sources are numbered 1 the heap, 2 the start queue, 3 + c completion FIFO c (0: none).
 * Queued flows keep their time in f_tlast and their seq in f_rate. */
static inline uint32_t queued_seq(const net_sim *s, uint32_t f) {
  return (uint32_t)(uint64_t)s->f_rate[f];
}

/* The key of the first event of source src; 0 if it has none. */
static inline int src_head(const net_sim *s, uint32_t src, uint64_t *tb, uint32_t *q) {
  uint32_t f;
  if (src == 1) {
    if (!s->nev) return 0;
    *tb = tbits(ev_node(s)[0].t), *q = ev_node(s)[0].seq;
    return 1;
  }
  if (src == 2) {
    if (s->sq_head == s->sq_sorted) return 0;
    f = s->sq[s->sq_head];
  } else if ((f = s->lc_head[src - 3]) == NET_NIL) {
    return 0;
  }
  *tb = tbits(s->f_tlast[f]), *q = queued_seq(s, f);
  return 1;
}

/* The source of the earliest event by (time, seq), its key in *tb, *q, and the earliest key of
 * all the other sources in *nt, *nq (all ones if none); ties go to the source numbered first.
 * O(classes). */
static uint32_t ev_first(const net_sim *s, uint64_t *tb, uint32_t *q, uint64_t *nt,
                         uint32_t *nq) {
  uint32_t srcs[2 + NET_LAT_CLASSES] = {1, 2}, ns = 2;
  for (uint32_t m = s->lc_busy; m; m &= m - 1) srcs[ns++] = 3 + (uint32_t)__builtin_ctz(m);
  uint32_t src = 0, bq = UINT32_MAX, q2 = UINT32_MAX, eq;
  uint64_t bt = UINT64_MAX, t2 = UINT64_MAX, et;
  for (uint32_t i = 0; i < ns; i++) {
    uint32_t c = srcs[i];
    if (!src_head(s, c, &et, &eq)) continue;
    if (!src || key_before(et, eq, bt, bq))
      t2 = bt, q2 = bq, src = c, bt = et, bq = eq;
    else if (key_before(et, eq, t2, q2))
      t2 = et, q2 = eq;
  }
  *tb = bt, *q = bq, *nt = t2, *nq = q2;
  return src;
}

static uint32_t ev_pop_src(net_sim *s, uint32_t src);

/* Pops events at time tt into out, up to max: from one source while its events stay at tt and
 * before every other source's first, then from the next. One look at the other sources per run
 * of events, not one per event, and none after the last run when no other source is at tt
 * (events at one time are often a single run: a batch of drains, of starts). Returns how many;
 * fewer than max only when no event at tt is left. */
static uint32_t pop_runs(net_sim *s, uint64_t tt, uint32_t *out, uint32_t max) {
  uint32_t n = 0;
  while (n < max) {
    uint64_t tb, nt;
    uint32_t q, nq, src = ev_first(s, &tb, &q, &nt, &nq), more = 0;
    if (!src || tb != tt) break;
    do out[n++] = ev_pop_src(s, src);
    while (n < max && (more = src_head(s, src, &tb, &q) && tb == tt) && key_before(tb, q, nt, nq));
    if (n < max && !more && nt != tt) break; /* nothing else at tt, here or elsewhere */
  }
  return n;
}

uint32_t net_ev_pop_first(net_sim *s, double *t, uint32_t *out, uint32_t max) {
  sq_settle(s);
  uint64_t tb, nt;
  uint32_t q, nq;
  if (!ev_first(s, &tb, &q, &nt, &nq)) return 0;
  memcpy(t, &tb, sizeof *t);
  return pop_runs(s, tb, out, max);
}

uint32_t net_ev_pop_run(net_sim *s, double t, uint32_t *out, uint32_t max) {
  return pop_runs(s, tbits(t), out, max);
}

static uint32_t ev_pop_src(net_sim *s, uint32_t src) {
  uint32_t f;
  if (src == 1) { /* the root: never popped while moves are lazy (apply_rates) */
    WK_ASSERT(!s->ev_lazy);
    f = ev_node(s)[0].flow;
    s->f_epos[f] = NET_NIL;
    ev_pop_root(s);
  } else if (src == 2) {
    f = s->sq[s->sq_head];
    if (++s->sq_head == s->sq_n) s->sq_head = s->sq_sorted = s->sq_n = 0;
  } else {
    uint32_t c = src - 3;
    f = s->lc_head[c];
    s->lc_head[c] = s->f_epos[f];
    if (s->lc_head[c] == NET_NIL) s->lc_tail[c] = NET_NIL, s->lc_busy &= ~(1u << c);
    s->f_epos[f] = NET_NIL;
  }
  return f;
}

/* ---- link queue ------------------------------------------------------------------------- */
/* The fill takes links in (key, link) order while keys only grow. The entries are sorted once
 * into a run; a link whose key is stale when it comes first moves, re-keyed, to a 4-ary heap
 * (four children to a cache line) kept in the consumed front of the same array (each entry in
 * it used up one slot of the run, so it always fits). The next link is the earlier of the run's
 * head and the heap's top: the order one heap of all the entries gives, but the links passed
 * over (their flows all frozen by others first, about half of them) cost O(1), not a sift, and
 * a sort costs fewer comparisons than the pops it replaces. */
static inline void lh_swap(net_lh *a, net_lh *b) {
  net_lh t = *a;
  *a = *b, *b = t;
}

static void lh_sift_max(net_lh *a, uint32_t n, uint32_t i) { /* binary max-heap: heapsort */
  net_lh v = a[i];
  for (uint32_t c; (c = 2 * i + 1) < n; i = c) {
    if (c + 1 < n && net_lh_before(&a[c], &a[c + 1])) c++;
    if (!net_lh_before(&v, &a[c])) break;
    a[i] = a[c];
  }
  a[i] = v;
}

/* Introsort: quicksort on the median of three, insertion sort below 16, heapsort past depth.
 * Keys are distinct (the link id breaks ties), so partitions are never lopsided by ties. */
void net_lh_sort(net_lh *a, uint32_t n, uint32_t depth) {
  while (n > 16) {
    if (depth-- == 0) {
      for (uint32_t i = n / 2; i-- > 0;) lh_sift_max(a, n, i);
      for (uint32_t k = n - 1; k > 0; k--) lh_swap(&a[0], &a[k]), lh_sift_max(a, k, 0);
      return;
    }
    uint32_t m = n / 2, i = 0, j = n - 1;
    if (net_lh_before(&a[m], &a[0])) lh_swap(&a[m], &a[0]);
    if (net_lh_before(&a[n - 1], &a[0])) lh_swap(&a[n - 1], &a[0]);
    if (net_lh_before(&a[n - 1], &a[m])) lh_swap(&a[n - 1], &a[m]);
    net_lh p = a[m]; /* a[0] <= p <= a[n - 1]: the scans stop inside the array */
    for (;;) {
      do i++;
      while (net_lh_before(&a[i], &p));
      do j--;
      while (net_lh_before(&p, &a[j]));
      if (i >= j) break;
      lh_swap(&a[i], &a[j]);
    }
    /* a[0, i) <= p <= a[i, n), both parts non-empty: recurse into the smaller */
    if (i < n - i) {
      net_lh_sort(a, i, depth);
      a += i, n -= i;
    } else {
      net_lh_sort(a + i, n - i, depth);
      n = i;
    }
  }
  for (uint32_t i = 1; i < n; i++) {
    net_lh v = a[i];
    uint32_t j = i;
    for (; j > 0 && net_lh_before(&v, &a[j - 1]); j--) a[j] = a[j - 1];
    a[j] = v;
  }
}

static void lh_sift_down(net_lh *h, uint32_t n, uint32_t i, net_lh e) {
  for (;;) {
    uint32_t c = 4 * i + 1;
    if (c >= n) break;
    uint32_t best = c, end = c + 4 < n ? c + 4 : n;
    for (uint32_t k = c + 1; k < end; k++)
      if (net_lh_before(&h[k], &h[best])) best = k;
    if (!net_lh_before(&h[best], &e)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

void net_lh_build(net_sim *s) {
  uint32_t depth = 0;
  for (uint32_t n = s->nlheap; n; n >>= 1) depth += 2;
  net_lh_sort(s->lheap, s->nlheap, depth);
  s->lh_run = s->lh_side = 0;
}

const net_lh *net_lh_top(net_sim *s) {
  const net_lh *h = s->lheap;
  s->lh_top_side = s->lh_side && (s->lh_run == s->nlheap || net_lh_before(&h[0], &h[s->lh_run]));
  return s->lh_top_side ? &h[0] : s->lh_run < s->nlheap ? &h[s->lh_run] : NULL;
}

void net_lh_settop(net_sim *s, double key) {
  net_lh *h = s->lheap;
  if (s->lh_top_side) {
    lh_sift_down(h, s->lh_side, 0, (net_lh){0, h[0].link, key});
    return;
  }
  net_lh e = {0, h[s->lh_run++].link, key};
  uint32_t i = s->lh_side++;
  for (uint32_t p; i > 0 && net_lh_before(&e, &h[p = (i - 1) >> 2]); i = p) h[i] = h[p];
  h[i] = e;
}

void net_lh_pop(net_sim *s) {
  if (!s->lh_top_side) {
    s->lh_run++;
  } else if (--s->lh_side) {
    lh_sift_down(s->lheap, s->lh_side, 0, s->lheap[s->lh_side]);
  }
}

/* ---- per-link flow heaps ----------------------------------------------------------------- */
/* 4-ary max-heaps of net_lfe entries that carry their key (the flow's rate) and flow inline: a
 * sift compares entries that sit side by side (four children in one or two cache lines) instead
 * of chasing hop -> flow -> rate for each, and a heap is half as deep as a binary one. Drains take
 * the fastest flows, from the top of their links' heaps, so their removals sift the whole depth;
 * at millions of flows that was the largest cost of an L2 run. */
static inline void lf_put(net_sim *s, net_lfe *a, uint32_t i, net_lfe e) {
  a[i] = e;
  s->hop[e.hop].pos = i;
}

static void lf_sift_up(net_sim *s, net_lfe *a, uint32_t i, net_lfe e) {
  while (i > 0) {
    uint32_t p = (i - 1) >> 2;
    if (!(a[p].rate < e.rate)) break;
    lf_put(s, a, i, a[p]);
    i = p;
  }
  lf_put(s, a, i, e);
}

static void lf_sift_down(net_sim *s, net_lfe *a, uint32_t n, uint32_t i, net_lfe e) {
  for (;;) {
    uint32_t c = 4 * i + 1;
    if (c >= n) break;
    uint32_t best = c, end = c + 4 < n ? c + 4 : n;
    for (uint32_t k = c + 1; k < end; k++)
      if (a[k].rate > a[best].rate) best = k;
    if (!(a[best].rate > e.rate)) break;
    lf_put(s, a, i, a[best]);
    i = best;
  }
  lf_put(s, a, i, e);
}

/* Links with at most NET_LF_SMALL flows keep them unordered (a scan is cheaper than upkeep);
 * the array becomes a heap (heapified, O(d)) when the link grows past that. */
static void lf_heapify(net_sim *s, net_lfe *a, uint32_t n) {
  for (uint32_t i = n > 1 ? (n - 2) / 4 + 1 : 0; i-- > 0;) lf_sift_down(s, a, n, i, a[i]);
}

void net_lf_insert(net_sim *s, uint32_t h, uint32_t f) {
  uint32_t l = s->hop[h].link, n = s->lk[l].n++;
  net_lfe *a = s->lk[l].fl, e = {s->f_rate[f], h, f};
  WK_ASSERT(n < s->lk[l].fcap);
  if (n + 1 <= NET_LF_SMALL) {
    lf_put(s, a, n, e);
  } else if (n == NET_LF_SMALL) {
    lf_put(s, a, n, e);
    lf_heapify(s, a, n + 1);
  } else {
    lf_sift_up(s, a, n, e);
  }
}

void net_lf_remove(net_sim *s, uint32_t h) {
  uint32_t l = s->hop[h].link, i = s->hop[h].pos;
  net_lfe *a = s->lk[l].fl;
  uint32_t n = s->lk[l].n--;
  net_lfe last = a[n - 1];
  if (i == n - 1) return;
  if (n <= NET_LF_SMALL + 1) /* unordered now, or becoming so */
    lf_put(s, a, i, last);
  else if (i > 0 && a[(i - 1) >> 2].rate < last.rate)
    lf_sift_up(s, a, i, last);
  else
    lf_sift_down(s, a, n - 1, i, last);
}

void net_lf_heapify(net_sim *s, uint32_t l) {
  if (s->lk[l].n > NET_LF_SMALL) lf_heapify(s, s->lk[l].fl, s->lk[l].n);
}

void net_lf_moved(net_sim *s, uint32_t h, double rate) {
  uint32_t l = s->hop[h].link, i = s->hop[h].pos;
  net_lfe *a = s->lk[l].fl, e = a[i];
  int up = rate > e.rate;
  e.rate = rate;
  a[i] = e;
  if (s->lk[l].n <= NET_LF_SMALL || s->lk[l].chg) return; /* unordered, or rebuilt after */
  if (up)
    lf_sift_up(s, a, i, e);
  else
    lf_sift_down(s, a, s->lk[l].n, i, e);
}
