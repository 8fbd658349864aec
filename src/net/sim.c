/* sim.c — the event-driven fluid run: flow tables, the hop pool, and the loop that takes each
 * batch of simultaneous events (starts, drains, completions), applies them, and re-solves the
 * rates once per batch (solve.c). A flow's bytes drain at its rate; when a rate changes, the
 * bytes left are brought up to date and the drain event moves. Tables grow geometrically in
 * net_flow_add only, so the loop itself never allocates. */
#include <math.h>
#include <string.h>

#include "net/net_int.h"

#define LINK_BYTES (sizeof(net_link) + sizeof(uint32_t) + sizeof(net_lh))
/* per flow slot: f_hop, f_group, f_mark, f_epos, ulist, sq; f_nh; f_state, f_flags; f_left,
 * f_tlast, f_rate, scratch; an event heap entry */
#define FLOW_BYTES                                                                        \
  (sizeof(uint32_t) * 6 + sizeof(uint16_t) + 2 + sizeof(double) * 4 + sizeof(net_ev))

net_sim *net_sim_new(uint32_t nlinks, const double *capacity, const float *latency, wk_err *err) {
  for (uint32_t l = 0; l < nlinks; l++) {
    double c = capacity[l], t = (double)latency[l];
    if (!(c >= 0.0 && c <= NET_MAX_CAPACITY) || !(t >= 0.0 && isfinite(t))) {
      wk_err_set(err, WK_EVALUE, NULL, 0, 0, "link %u: capacity %g B/s or latency %g s invalid",
                 l, c, t);
      return NULL;
    }
  }
  net_sim *s = wk_calloc(1, sizeof *s);
  s->nlinks = nlinks;
  s->cap = capacity;
  s->lat = latency;
  size_t n = nlinks ? nlinks : 1;
  s->lk = wk_calloc_lines(n, sizeof *s->lk);
  for (uint32_t l = 0; l < nlinks; l++)
    s->lk[l].head = net_fx(capacity[l]), s->lk[l].tol = net_link_tol(capacity[l]);
  s->lq = wk_calloc(n, sizeof *s->lq);
  s->lheap = wk_calloc(n, sizeof *s->lheap);
  s->epoch = 2;
  s->ffree = s->done_head = s->done_tail = NET_NIL;
  for (int i = 0; i <= NET_MAX_HOPS; i++) s->hfree[i] = NET_NIL;
  return s;
}

uint64_t net_sim_link_bytes(uint32_t nlinks) { return (uint64_t)nlinks * LINK_BYTES; }

uint64_t net_sim_flow_bytes(uint32_t hops, int event_mode) {
  return FLOW_BYTES + (uint64_t)hops * (sizeof(net_hop) + sizeof(uint32_t) +
                                        (event_mode ? sizeof(net_lfe) : 0));
}

void net_sim_free(net_sim *s) {
  if (!s) return;
  for (uint32_t l = 0; l < s->nlinks; l++) wk_free(s->lk[l].fl);
  void *p[] = {s->lk,     s->lq,
               s->lheap,  s->f_hop,  s->f_nh,    s->f_state, s->f_flags, s->f_group,
               s->f_left, s->f_tlast, s->f_rate, s->f_mark,  s->f_epos,
               s->ulist,  s->scratch, s->hop, s->uflow,    s->ev, s->sq,      s->g_left};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) wk_free(p[i]);
  wk_free(s);
}

void net_sim_reset(net_sim *s) {
  for (uint32_t f = 0; f < s->fhigh; f++) {
    if (s->f_state[f] == FS_ACTIVE || s->f_state[f] == FS_PENDING)
      for (uint32_t k = 0; k < s->f_nh[f]; k++) {
        uint32_t l = s->hop[s->f_hop[f] + k].link;
        s->lk[l].n = s->lk[l].res = 0;
        s->lk[l].head = net_fx(s->cap[l]);
      }
    s->f_state[f] = FS_FREE;
    s->f_epos[f] = NET_NIL;
  }
  s->fhigh = 0;
  s->ffree = s->done_head = s->done_tail = NET_NIL;
  s->note_next = 0;
  s->tick = s->tick_next = 0;
  s->hhigh = 0;
  for (int i = 0; i <= NET_MAX_HOPS; i++) s->hfree[i] = NET_NIL;
  s->nev = 0;
  s->seq = 0;
  s->sq_head = s->sq_sorted = s->sq_n = 0;
  for (uint32_t c = 0; c < s->nlc; c++) s->lc_head[c] = s->lc_tail[c] = NET_NIL;
  s->lc_busy = 0;
  if (s->gcap) memset(s->g_left, 0, s->gcap * sizeof *s->g_left);
  s->now = 0.0;
  s->nactive = s->nstalled = 0;
  s->last_done = 0.0;
  s->finish_out = NULL;
  s->changed = 0;
  memset(&s->st, 0, sizeof s->st);
}

void net_sim_set_mode(net_sim *s, net_mode m) { s->mode = m; }

/* ---- growth (outside the loop) ----------------------------------------------------------- */
#define GROW(p, n) ((p) = wk_realloc((p), (size_t)(n) * sizeof *(p)))

static void grow_flows(net_sim *s) {
  uint32_t n = s->fcap ? s->fcap * 2 : 64;
  GROW(s->f_hop, n);
  GROW(s->f_nh, n);
  GROW(s->f_state, n);
  GROW(s->f_flags, n);
  GROW(s->f_group, n);
  GROW(s->f_left, n);
  GROW(s->f_tlast, n);
  GROW(s->f_rate, n);
  GROW(s->f_mark, n);
  GROW(s->f_epos, n);
  GROW(s->ulist, n);
  GROW(s->scratch, n);
  net_ev *ev = wk_calloc_lines(n + NET_EV_OFF, sizeof *ev); /* aligned: see NET_EV_OFF */
  if (s->fcap) memcpy(ev, s->ev, (s->fcap + NET_EV_OFF) * sizeof *ev);
  wk_free(s->ev);
  s->ev = ev;
  GROW(s->sq, n);
  memset(s->f_mark + s->fcap, 0, (size_t)(n - s->fcap) * sizeof *s->f_mark);
  s->fcap = n;
}

static uint32_t alloc_route(net_sim *s, uint32_t nh) {
  uint32_t r = s->hfree[nh];
  if (r != NET_NIL) {
    s->hfree[nh] = s->hop[r].pos;
    return r;
  }
  if (s->hhigh + nh > s->hcap) {
    uint32_t n = s->hcap ? s->hcap * 2 : 256;
    while (n < s->hhigh + nh) n *= 2;
    GROW(s->hop, n);
    GROW(s->uflow, n);
    s->hcap = n;
  }
  r = s->hhigh;
  s->hhigh += nh;
  return r;
}

wk_errcode net_flow_add_int(net_sim *s, const net_flow_spec *sp, uint32_t *id, unsigned how) {
  if (sp->nhops > NET_MAX_HOPS)
    return wk_err_set(NULL, WK_ERANGE, NULL, 0, 0, "route of %u hops", sp->nhops);
  if (sp->group != NET_NONE && sp->group >= NET_MAX_GROUPS) return WK_ERANGE;
  if (!(sp->bytes >= 0.0 && isfinite(sp->bytes))) return WK_EVALUE;
  if (!(sp->start_s >= s->now && isfinite(sp->start_s))) return WK_EVALUE;
  for (uint32_t k = 0; k < sp->nhops; k++) {
    if (sp->route[k] >= s->nlinks) return WK_EVALUE;
    for (uint32_t j = 0; j < k; j++) /* O(h^2), h <= 128: cheaper than a mark pass */
      if (sp->route[j] == sp->route[k]) return WK_EVALUE;
  }
  if (sp->group != NET_NONE && sp->group >= s->gcap) {
    uint32_t n = s->gcap ? s->gcap : 64;
    while (n <= sp->group) n *= 2;
    GROW(s->g_left, n);
    memset(s->g_left + s->gcap, 0, (size_t)(n - s->gcap) * sizeof *s->g_left);
    s->gcap = n;
  }
  uint32_t f = s->ffree;
  if (f != NET_NIL) {
    s->ffree = s->f_hop[f];
  } else {
    if (s->fhigh == s->fcap) grow_flows(s);
    f = s->fhigh++;
    s->f_epos[f] = NET_NIL;
  }
  /* the link records are most likely cold: ask for all of them before the first is needed */
  for (uint32_t k = 0; k < sp->nhops; k++) __builtin_prefetch(&s->lk[sp->route[k]], 1);
  uint32_t r = alloc_route(s, sp->nhops);
  double lat = 0.0;
  for (uint32_t k = 0; k < sp->nhops; k++) {
    uint32_t l = sp->route[k];
    s->hop[r + k] = (net_hop){l, NET_NIL};
    lat += (double)s->lat[l];
    if (how & NET_ADD_NOHEAP) continue; /* it never joins the link's heap */
    if (s->lk[l].res == s->lk[l].fcap) { /* reserve the link-heap slot now: the loop never grows */
      /* by 1.5x from 1: most links of a large fabric carry a handful of flows */
      uint32_t n = s->lk[l].fcap < 2 ? s->lk[l].fcap + 1 : s->lk[l].fcap + s->lk[l].fcap / 2;
      GROW(s->lk[l].fl, n);
      s->lf_slots += n - s->lk[l].fcap;
      s->lk[l].fcap = n;
    }
    s->lk[l].res++;
  }
  s->f_hop[f] = r;
  s->f_nh[f] = (uint16_t)sp->nhops;
  s->f_state[f] = FS_PENDING;
  s->f_flags[f] = (uint8_t)((sp->flags & 0xFu) | (lat > 0.0 ? net_lc_class(s, lat) : 0u)
                                                       << NET_LC_SHIFT);
  s->f_group[f] = sp->group;
  s->f_left[f] = sp->bytes;
  s->f_tlast[f] = sp->start_s + 0.0; /* -0 becomes +0: event times order by their bits */
  s->f_rate[f] = 0.0;
  if (sp->group != NET_NONE) s->g_left[sp->group]++;
  if (how & NET_ADD_PUSH) net_sq_push(s, f);
  *id = f;
  return WK_EOK;
}

wk_errcode net_flow_add(net_sim *s, const net_flow_spec *sp, uint32_t *id) {
  return net_flow_add_int(s, sp, id, NET_ADD_PUSH);
}

/* ---- the loop ---------------------------------------------------------------------------- */
static void free_route(net_sim *s, uint32_t f) {
  uint32_t nh = s->f_nh[f], r = s->f_hop[f];
  s->hop[r].pos = s->hfree[nh];
  s->hfree[nh] = r;
  s->f_nh[f] = 0;
}

/* A completed flow joins the done FIFO, which is also the queue of notes: its own note (with
 * NET_FLOW_NOTIFY) and its group's (FS_DONE_GROUP: it was the group's last flow) are read off
 * it in order by net_sim_next, so notes take no memory of their own. The slot stays in the FIFO,
 * its id valid and unused, until the caller has seen its notes (net.h). */
static void complete(net_sim *s, uint32_t f) {
  s->st.completed++;
  if (s->now > s->last_done) s->last_done = s->now;
  uint32_t g = s->f_group[f];
  free_route(s, f);
  s->f_state[f] = g != NET_NONE && --s->g_left[g] == 0 ? FS_DONE_GROUP : FS_DONE;
  s->f_tlast[f] = s->now; /* the notes' time */
  s->f_hop[f] = NET_NIL;
  if (s->done_tail == NET_NIL)
    s->done_head = f;
  else
    s->f_hop[s->done_tail] = f;
  s->done_tail = f;
}

static uint32_t notes_of(const net_sim *s, uint32_t f) {
  return (uint32_t)!!(s->f_flags[f] & NET_FLOW_NOTIFY) + (s->f_state[f] == FS_DONE_GROUP);
}

/* Route latency: its class's (exact: the class holds this very sum), else summed again over the
 * route in the order net_flow_add summed it, so bit for bit the same. The route is still held
 * (freed at completion). */
double net_flow_lat(const net_sim *s, uint32_t f) {
  uint32_t c = (uint32_t)s->f_flags[f] >> NET_LC_SHIFT;
  if (c) return s->lc_lat[c - 1];
  const net_hop *hp = s->hop + s->f_hop[f];
  double lat = 0.0;
  for (uint32_t k = 0; k < s->f_nh[f]; k++) lat += (double)s->lat[hp[k].link];
  return lat;
}

/* Bytes are done: wait out the route latency, then complete. */
static void drained(net_sim *s, uint32_t f) {
  s->f_left[f] = 0.0;
  s->f_state[f] = FS_DRAINED;
  double lat = net_flow_lat(s, f);
  if (s->finish_out) { /* L1 fast path: the completion time is known now; no event needed */
    double t = s->now + lat;
    s->finish_out[f] = t;
    if (t > s->last_done) s->last_done = t;
    complete(s, f);
  } else if (lat > 0.0)
    net_ev_complete_at(s, f, s->now + lat);
  else
    complete(s, f);
}

void net_flow_start(net_sim *s, uint32_t f) {
  net_hop *hp = s->hop + s->f_hop[f];
  if (s->f_nh[f] == 0 || s->f_left[f] == 0.0) { /* local or empty: no bandwidth to share */
    for (uint32_t k = 0; k < s->f_nh[f]; k++) s->lk[hp[k].link].res--;
    drained(s, f);
    return;
  }
  s->f_rate[f] = INFINITY; /* "new": the solve sets it; tops its links' heaps till then */
  for (uint32_t k = 0; k < s->f_nh[f]; k++) net_lf_insert(s, s->f_hop[f] + k, f);
  s->f_state[f] = FS_ACTIVE;
  s->f_tlast[f] = s->now;
  if (++s->nactive > s->st.peak_active) s->st.peak_active = s->nactive;
  s->f_mark[f] = s->epoch; /* re-solved in this batch */
  s->ulist[s->nu++] = f;
  net_seed_links(s, f, NET_LSEED); /* it takes bandwidth from the fastest */
  s->changed = 1;
}

static void drain(net_sim *s, uint32_t f) {
  net_seed_links(s, f, NET_LSEED);
  net_hop *hp = s->hop + s->f_hop[f];
  int64_t rfx = isinf(s->f_rate[f]) ? 0 : net_fx(s->f_rate[f]);
  for (uint32_t k = 0; k < s->f_nh[f]; k++) {
    uint32_t l = hp[k].link;
    s->lk[l].head += rfx;
    s->lk[l].res--;
    net_lf_remove(s, s->f_hop[f] + k);
  }
  s->nactive--;
  s->changed = 1;
  drained(s, f);
}

void net_begin_batch(net_sim *s) {
  if (s->epoch > (1u << 28) - 4) { /* link marks wrap after 2^27 batches: clear them once */
    for (uint32_t l = 0; l < s->nlinks; l++) s->lk[l].mark = 0;
    memset(s->f_mark, 0, (size_t)s->fcap * sizeof *s->f_mark);
    s->epoch = 0;
  }
  s->epoch += 2;
  s->nlq = 0;
  s->nu = 0;
  s->changed = 0;
}

/* At 100,000 flows in flight the tables outgrow the caches, and one event is a chain of
 * dependent misses: flow -> route -> link -> the link's flow heap. Handled one by one, each
 * chain waits out its misses in turn; here the chains of a whole chunk advance a stage at a
 * time, so their misses overlap (bench/net_event rings: 10-20 % more completions/s in
 * alternating runs). Prefetches only: no state changes, so the results are the same bit for
 * bit. */
static void prefetch_flows(const net_sim *s, const uint32_t *fl, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t f = fl[i];
    __builtin_prefetch(&s->f_state[f]);
    __builtin_prefetch(&s->f_hop[f]);
    __builtin_prefetch(&s->f_nh[f]);
    __builtin_prefetch(&s->f_rate[f]);
    __builtin_prefetch(&s->f_left[f]);
  }
  for (uint32_t i = 0; i < n; i++)
    if (s->f_nh[fl[i]]) __builtin_prefetch(&s->hop[s->f_hop[fl[i]]]);
  for (uint32_t i = 0; i < n; i++) {
    const net_hop *hp = s->hop + s->f_hop[fl[i]];
    for (uint32_t k = 0; k < s->f_nh[fl[i]]; k++) __builtin_prefetch(&s->lk[hp[k].link], 1);
  }
  for (uint32_t i = 0; i < n; i++) { /* the heap slots a start, a drain or a move will touch */
    uint32_t f = fl[i];
    const net_hop *hp = s->hop + s->f_hop[f];
    if (s->f_state[f] != FS_PENDING && s->f_state[f] != FS_ACTIVE) continue;
    for (uint32_t k = 0; k < s->f_nh[f]; k++) {
      const net_link *lk = &s->lk[hp[k].link];
      if (s->f_state[f] == FS_PENDING) {
        __builtin_prefetch(lk->fl + lk->n, 1);
      } else {
        __builtin_prefetch(lk->fl + hp[k].pos, 1);
        __builtin_prefetch(lk->fl + lk->n - 1, 1);
      }
    }
  }
}

int net_step_batch(net_sim *s) {
  double t;
  uint32_t nb = net_ev_pop_first(s, &t, s->chunk, NET_CHUNK);
  if (!nb) return 0;
  net_begin_batch(s);
  s->now = t;
  for (;;) { /* in chunks: processing makes no event at t, so order is kept */
    prefetch_flows(s, s->chunk, nb);
    for (uint32_t i = 0; i < nb; i++) {
      uint32_t g = s->chunk[i];
      s->st.events++;
      switch (s->f_state[g]) {
      case FS_PENDING: net_flow_start(s, g); break;
      case FS_ACTIVE: drain(s, g); break;
      case FS_DRAINED: complete(s, g); break;
      default: WK_ASSERT(0 && "event for a free flow slot");
      }
    }
    if (nb < NET_CHUNK || !(nb = net_ev_pop_run(s, t, s->chunk, NET_CHUNK))) break;
  }
  if (s->changed) net_solve_batch(s);
  s->st.batches++;
  return 1;
}

void net_flow_set_rate(net_sim *s, uint32_t f, double r) {
  double old = s->f_rate[f];
  if (old == r) return; /* unchanged: its drain event stands, bit for bit */
  int64_t dfx = net_fx(r) - (isinf(old) ? 0 : net_fx(old));
  s->f_rate[f] = r;
  for (uint32_t k = 0; k < s->f_nh[f]; k++) {
    uint32_t h = s->f_hop[f] + k;
    s->lk[s->hop[h].link].head -= dfx;
    net_lf_moved(s, h, r);
  }
  if (!isinf(old)) {
    double left = s->f_left[f] - old * (s->now - s->f_tlast[f]);
    s->f_left[f] = left > 0.0 ? left : 0.0;
    if (old == 0.0) s->nstalled--;
  }
  s->f_tlast[f] = s->now;
  if (r > 0.0) {
    net_ev_set(s, f, s->now + s->f_left[f] / r);
  } else {
    s->nstalled++;
    net_ev_remove(s, f);
  }
}

int net_sim_next(net_sim *s, net_note *note) {
  for (;;) { /* slots whose notes were all returned (before this call) go to the free list */
    uint32_t f = s->done_head;
    if (f != NET_NIL && s->note_next == notes_of(s, f)) {
      s->done_head = s->f_hop[f];
      if (s->done_head == NET_NIL) s->done_tail = NET_NIL;
      s->f_state[f] = FS_FREE;
      s->f_hop[f] = s->ffree;
      s->ffree = f;
      s->note_next = 0;
    } else if (f != NET_NIL) {
      break;
    } else if (s->tick && s->st.completed >= s->tick_next) {
      s->tick_next = s->st.completed + s->tick;
      *note = (net_note){s->now, NET_NOTE_TICK, NET_NONE, NET_NONE};
      return 1;
    } else if (!net_step_batch(s)) {
      return 0;
    }
  }
  uint32_t f = s->done_head, g = s->f_group[f];
  if (s->note_next++ == 0 && (s->f_flags[f] & NET_FLOW_NOTIFY))
    *note = (net_note){s->f_tlast[f], NET_NOTE_FLOW, f, g};
  else
    *note = (net_note){s->f_tlast[f], NET_NOTE_GROUP, g, g};
  return 1;
}

double net_sim_run(net_sim *s) {
  net_note n;
  while (net_sim_next(s, &n)) {
  }
  return s->last_done;
}

void net_sim_set_tick(net_sim *s, uint64_t every) {
  s->tick = every;
  s->tick_next = s->st.completed + every;
}

uint64_t net_sim_completed(const net_sim *s) { return s->st.completed; }

double net_sim_now(const net_sim *s) { return s->now; }
uint32_t net_sim_active(const net_sim *s) { return s->nactive; }
uint32_t net_sim_stalled(const net_sim *s) { return s->nstalled; }

double net_flow_rate(const net_sim *s, uint32_t id) {
  if (id >= s->fhigh || s->f_state[id] != FS_ACTIVE || isinf(s->f_rate[id])) return NAN;
  return s->f_rate[id];
}

void net_sim_stats(const net_sim *s, net_stats *out) {
  *out = s->st;
  out->mem_flow_table = (uint64_t)s->fcap * FLOW_BYTES;
  out->mem_routes = (uint64_t)s->hcap * (sizeof(net_hop) + sizeof(uint32_t));
  out->mem_link_heaps = s->lf_slots * sizeof(net_lfe);
  out->mem_groups = (uint64_t)s->gcap * sizeof(uint32_t);
  out->flow_bytes = out->mem_flow_table + out->mem_routes + out->mem_link_heaps + out->mem_groups;
  out->link_bytes = (uint64_t)s->nlinks * LINK_BYTES;
}
