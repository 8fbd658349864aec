/* hw_int.h — the body of hw_cluster, shared by the files of hw/ only. Link ids are laid out
 * in ranges (scale-up, NIC, fabric) whose bases are kept here, so a route is arithmetic:
 * from two card numbers to a handful of link ids, with no table lookups. */
#ifndef WK_HW_INT_H
#define WK_HW_INT_H

#include "hw.h"

struct hw_cluster {
  hw_config cfg;
  uint32_t cards, nodes, supernodes, cpn, cps, nics, endpoints;
  wk_div32 cps_div; /* by cps, in every route's first test */
  double nic_bw, link_bw;
  /* scale-up links: switch: 2 per card (up, down); mesh: cps-1 out-links per card */
  uint32_t base_su;
  /* NIC links: 2 per endpoint (to switch, from switch) */
  uint32_t base_nic;
  /* Clos: tier t (0-based here) switches; uplink m of switch s is link
   * base_up[t] + 2 * (s * up[t] + m) upward and +1 downward. */
  int tiers;
  uint32_t down[HW_MAX_TIERS], up[HW_MAX_TIERS];
  uint32_t blocks[HW_MAX_TIERS], planes[HW_MAX_TIERS], nsw[HW_MAX_TIERS];
  uint32_t span[HW_MAX_TIERS]; /* leaves under one block of tier t */
  uint32_t base_up[HW_MAX_TIERS];
  uint32_t rails; /* NICs per node when rail-optimized, else 0 */
  uint32_t leaves;
  /* dragonfly */
  uint32_t df_routers, df_groups, df_pair_links, base_local, base_global;
  /* torus */
  uint32_t base_torus, tdims[3], tnd;
  /* links */
  uint32_t nlinks;
  double *cap;
  float *lat;
  uint8_t *kind, *tier;
  uint32_t level_cards[HW_LEVELS];
  double level_bw[HW_LEVELS], level_lat[HW_LEVELS];
};

static inline uint32_t hw_leaf_of_endpoint(const hw_cluster *c, uint32_t e) {
  if (c->rails) return (e / c->rails / c->down[0]) * c->rails + e % c->rails;
  return e / c->down[0];
}

#endif
