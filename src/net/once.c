/* once.c — the L1 entry points: a set of concurrent flows solved once (max-min rates), or run
 * once to completion from time 0 (rates re-solved incrementally as flows finish). They drive the
 * same engine as the event mode, minus the heap traffic that L1 does not need: all flows join
 * in one batch without start events, and completion times are written at drain time without
 * completion events; net_maxmin goes further and runs the filling alone, the flows never joining
 * their links' heaps (a direct all-to-all puts thousands on each). The caller keeps the idle
 * net_sim between calls, so repeated solves (every step of every collective) allocate nothing
 * after the first. */
#include <math.h>

#include "net/net_int.h"

/* Adds flow i of the CSR set (bytes[i], or 1 without bytes) at time 0, with no start event, and
 * opens the batch; ids come out as 0..n-1 because the sim is idle (after a reset the free list
 * is empty). how: as net_flow_add_int. */
static wk_errcode add_all(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                          const uint32_t *route_link, const double *bytes, unsigned how) {
  if (s->fhigh != 0 || s->nev != 0 || s->sq_n != 0) return WK_EVALUE; /* not idle */
  net_sim_reset(s);
  for (uint32_t i = 0; i < nflows; i++) {
    net_flow_spec sp = {route_link + route_off[i], route_off[i + 1] - route_off[i],
                        bytes ? bytes[i] : 1.0, 0.0, NET_NONE, 0};
    uint32_t id;
    wk_errcode e = net_flow_add_int(s, &sp, &id, how);
    if (e != WK_EOK) {
      net_sim_reset(s);
      return e;
    }
    WK_ASSERT(id == i);
  }
  net_begin_batch(s);
  return WK_EOK;
}

/* Adds and starts every flow of the CSR set at time 0 as one batch, and solves it. */
static wk_errcode start_all(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                            const uint32_t *route_link, const double *bytes, double *fin) {
  wk_errcode e = add_all(s, nflows, route_off, route_link, bytes, 0);
  if (e != WK_EOK) return e;
  s->finish_out = fin;
  for (uint32_t i = 0; i < nflows; i++) net_flow_start(s, i);
  if (s->changed) net_solve_batch(s);
  return WK_EOK;
}

static void read_rates(const net_sim *s, uint32_t nflows, double *rate) {
  for (uint32_t i = 0; i < nflows; i++)
    rate[i] = s->f_state[i] == FS_ACTIVE ? s->f_rate[i] : INFINITY;
}

/* With every flow in U and none held, one filling is the whole max-min solve: the rates are
 * those of start_all's batch bit for bit (the same flows in the same order, links seeded alike),
 * without the link-heap inserts, the rate writes and the drain events that only the event mode
 * needs. A flow with no hop has no bandwidth to share: INFINITY. */
wk_errcode net_maxmin(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                      const uint32_t *route_link, double *rate) {
  wk_errcode e = add_all(s, nflows, route_off, route_link, NULL, NET_ADD_NOHEAP);
  if (e != WK_EOK) return e;
  for (uint32_t i = 0; i < nflows; i++) {
    if (!s->f_nh[i]) continue;
    s->f_rate[i] = INFINITY;
    s->ulist[s->nu++] = i;
    net_seed_links(s, i, NET_LSEED);
  }
  net_fill(s);
  for (uint32_t i = 0; i < nflows; i++) rate[i] = s->f_nh[i] ? s->scratch[i] : INFINITY;
  net_sim_reset(s);
  return WK_EOK;
}

wk_errcode net_solve_once(net_sim *s, uint32_t nflows, const uint32_t *route_off,
                          const uint32_t *route_link, const double *bytes, double *rate,
                          double *finish, double *makespan) {
  double *fin = finish ? finish : wk_malloc((nflows ? nflows : 1) * sizeof *fin);
  for (uint32_t i = 0; i < nflows; i++) fin[i] = INFINITY;
  wk_errcode e = start_all(s, nflows, route_off, route_link, bytes, fin);
  if (e == WK_EOK) {
    if (rate) read_rates(s, nflows, rate);
    while (net_step_batch(s)) {
    }
    if (makespan) *makespan = net_sim_stalled(s) ? INFINITY : s->last_done;
  }
  net_sim_reset(s);
  if (!finish) wk_free(fin);
  return e;
}
