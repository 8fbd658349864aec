/* route.c — arithmetic routing. A route is computed from the two card numbers alone:
 * scale-up inside a supernode; otherwise NIC -> up the Clos to the lowest tier whose block
 * holds both leaves -> down the same planes (ECMP choice by a hash of (src, dst, salt));
 * minimal routing on a dragonfly; dimension-order shortest-direction routing on a torus.
 * O(tiers) or O(torus hops) per route, no tables. */
#include "hw_int.h"

#include <string.h>

/* lat: sum the links' latencies (a constant in each caller: the replay's fabric lays thousands
 * of routes a job and reads none, and their latency was a cache miss a hop) */
static inline void add(hw_route *r, const hw_cluster *c, uint32_t link, int lat) {
  WK_ASSERT(r->n < HW_ROUTE_MAX && link < c->nlinks);
  r->link[r->n++] = link;
  if (lat) r->latency_s += c->lat[link];
}
/* Link l is down in the bitmap (NULL: none is). */
static inline int is_down(const uint64_t *down, uint32_t l) {
  return down && (down[l >> 6] >> (l & 63) & 1);
}

/* The tiers a route between leaves ls and ld climbs (OUT *top, 0 when they are one leaf) and
 * the first switch of each tier's planes on either side (OUT bs, bd): the same for every salt. */
static inline void clos_span(const hw_cluster *c, uint32_t ls, uint32_t ld, int *top, uint32_t *bs,
                             uint32_t *bd) {
  *top = 0;
  if (ls == ld) return;
  int t = 1; /* lowest tier (0-based) whose block holds both leaves */
  while (t < c->tiers && ls / c->span[t] != ld / c->span[t]) t++;
  WK_ASSERT(t < c->tiers);
  for (int i = 0; i < t; i++) {
    bs[i] = (ls / c->span[i]) * c->planes[i];
    bd[i] = (ld / c->span[i]) * c->planes[i];
  }
  *top = t;
}

/* Up `top` tiers and down the same planes, each ECMP choice hashed from h. down, when given,
 * marks the links out of service: a choice whose up or down link is down moves to the next
 * live one of the same switch, as a switch re-hashes over its live ports; when every one is
 * down the hashed choice stays (the route is dead). */
static inline void clos_climb(const hw_cluster *c, int top, const uint32_t *bs, const uint32_t *bd,
                              uint64_t h, const uint64_t *down, int lat, hw_route *r) {
  uint32_t plane = 0, down_links[HW_MAX_TIERS];
  for (int t = 0; t < top; t++) {
    uint32_t m = (uint32_t)(wk_mix64(h + (uint64_t)t) % c->up[t]);
    uint32_t ss = bs[t] + plane, sd = bd[t] + plane;
    for (uint32_t k = 0; down && k < c->up[t]; k++) {
      uint32_t mm = (m + k) % c->up[t];
      if (!is_down(down, c->base_up[t] + 2 * (ss * c->up[t] + mm)) &&
          !is_down(down, c->base_up[t] + 2 * (sd * c->up[t] + mm) + 1)) {
        m = mm;
        break;
      }
    }
    add(r, c, c->base_up[t] + 2 * (ss * c->up[t] + m), lat);
    down_links[t] = c->base_up[t] + 2 * (sd * c->up[t] + m) + 1;
    plane = plane * c->up[t] + m;
  }
  for (int t = top - 1; t >= 0; t--) add(r, c, down_links[t], lat);
}

static inline void route_clos(const hw_cluster *c, uint32_t es, uint32_t ed, uint64_t h,
                              const uint64_t *down, int lat, hw_route *r) {
  int top;
  uint32_t bs[HW_MAX_TIERS], bd[HW_MAX_TIERS];
  clos_span(c, hw_leaf_of_endpoint(c, es), hw_leaf_of_endpoint(c, ed), &top, bs, bd);
  clos_climb(c, top, bs, bd, h, down, lat, r);
}

static inline void route_dragonfly(const hw_cluster *c, uint32_t es, uint32_t ed, uint64_t h, int lat,
                                   hw_route *r) {
  uint32_t p = (uint32_t)c->cfg.df_p, a = (uint32_t)c->cfg.df_a, hh = (uint32_t)c->cfg.df_h;
  uint32_t rs = es / p, rd = ed / p, G = c->df_groups;
#define LOCAL(from, to) \
  (c->base_local + (from) * (a - 1) + (((to) % a) < ((from) % a) ? ((to) % a) : ((to) % a) - 1))
  if (rs == rd) return;
  uint32_t gs = rs / a, gd = rd / a;
  if (gs == gd) {
    add(r, c, LOCAL(rs, rd), lat);
    return;
  }
  uint32_t k = (uint32_t)(h % c->df_pair_links);
  uint32_t off = (gd + G - gs - 1) % G, back = (gs + G - gd - 1) % G;
  uint32_t out = gs * a + (k * (G - 1) + off) / hh, in = gd * a + (k * (G - 1) + back) / hh;
  if (out != rs) add(r, c, LOCAL(rs, out), lat);
  add(r, c, c->base_global + (gs * (G - 1) + off) * c->df_pair_links + k, lat);
  if (in != rd) add(r, c, LOCAL(in, rd), lat);
#undef LOCAL
}

static inline void route_torus(const hw_cluster *c, uint32_t ns, uint32_t nd, uint64_t h, int lat,
                               hw_route *r) {
  uint32_t cs[3], cd[3], v = ns, stride[3];
  uint32_t s = 1;
  for (uint32_t i = 0; i < c->tnd; i++) {
    stride[i] = s;
    cs[i] = (ns / s) % c->tdims[i];
    cd[i] = (nd / s) % c->tdims[i];
    s *= c->tdims[i];
  }
  for (uint32_t i = 0; i < c->tnd; i++) {
    uint32_t D = c->tdims[i], fwd = (cd[i] + D - cs[i]) % D, bwd = D - fwd;
    if (fwd == 0) continue;
    int plus = fwd < bwd || (fwd == bwd && ((h >> i) & 1));
    uint32_t steps = plus ? fwd : bwd, x = cs[i];
    for (uint32_t k = 0; k < steps; k++) {
      add(r, c, c->base_torus + v * 2 * c->tnd + 2 * i + (plus ? 0 : 1), lat);
      uint32_t nx = plus ? (x + 1) % D : (x + D - 1) % D;
      v = v - x * stride[i] + nx * stride[i];
      x = nx;
    }
  }
  WK_ASSERT(v == nd);
}

/* The scale-up domain of a card. */
static inline uint32_t domain(const hw_cluster *c, uint32_t card) { return wk_div32_q(c->cps_div, card); }

/* The scale-up route of two cards of domain ds (s != d). */
static inline void route_su(const hw_cluster *c, uint32_t s, uint32_t d, uint32_t ds, int lat,
                            hw_route *r) {
  if (c->cfg.scaleup == HW_SCALEUP_MESH) {
    uint32_t sl = s - ds * c->cps, dl = d - ds * c->cps;
    add(r, c, c->base_su + s * (c->cps - 1) + (dl < sl ? dl : dl - 1), lat);
  } else {
    add(r, c, c->base_su + 2 * s, lat);
    add(r, c, c->base_su + 2 * d + 1, lat);
  }
}

static inline void route(const hw_cluster *c, uint32_t s, uint32_t d, uint64_t salt,
                         const uint64_t *down, int lat, hw_route *r) {
  WK_ASSERT(s < c->cards && d < c->cards);
  r->n = 0;
  r->latency_s = 0;
  if (s == d) return;
  uint32_t ds = domain(c, s);
  if (ds == domain(c, d)) {
    route_su(c, s, d, ds, lat, r);
    return;
  }
  uint64_t h = wk_mix64(((uint64_t)s << 32 | d) ^ wk_mix64(salt));
  /* Matching NIC indices keep multi-NIC cards on the same rail at both ends. */
  uint32_t nic = c->nics > 1 ? (uint32_t)(h % c->nics) : 0;
  uint32_t es = s * c->nics + nic, ed = d * c->nics + nic;
  add(r, c, c->base_nic + 2 * es, lat);
  if (c->cfg.topology == HW_TOPO_CLOS) {
    route_clos(c, es, ed, h >> 8, down, lat, r);
  } else if (c->cfg.topology == HW_TOPO_DRAGONFLY) {
    route_dragonfly(c, es, ed, h >> 8, lat, r);
  } else {
    uint32_t ns = s / c->cpn, nd = d / c->cpn;
    if (ns != nd) route_torus(c, ns, nd, h, lat, r);
  }
  add(r, c, c->base_nic + 2 * ed + 1, lat);
}

void hw_route_salted(const hw_cluster *c, uint32_t s, uint32_t d, uint64_t salt, hw_route *r) {
  route(c, s, d, salt, NULL, 1, r);
}

void hw_route_live(const hw_cluster *c, uint32_t s, uint32_t d, uint64_t salt, const uint64_t *down,
                   hw_route *r) {
  route(c, s, d, salt, down, 0, r);
}

int hw_same_scaleup(const hw_cluster *c, uint32_t s, uint32_t d) {
  WK_ASSERT(s < c->cards && d < c->cards);
  return domain(c, s) == domain(c, d);
}

int hw_route_scaleup(const hw_cluster *c, uint32_t s, uint32_t d, hw_route *r) {
  WK_ASSERT(s < c->cards && d < c->cards);
  uint32_t ds = domain(c, s);
  if (ds != domain(c, d)) return 0;
  r->n = 0;
  r->latency_s = 0;
  if (s != d) route_su(c, s, d, ds, 0, r);
  return 1;
}

int hw_route_live_n(const hw_cluster *c, uint32_t s, uint32_t d, const uint64_t *salt, int n,
                    const uint64_t *down, hw_route *r) {
  if (c->cfg.topology != HW_TOPO_CLOS || c->nics != 1 || domain(c, s) == domain(c, d)) {
    for (int i = 0; i < n; i++) route(c, s, d, salt[i], down, 0, &r[i]);
    return n;
  }
  /* one NIC a card: the endpoints, leaves and tiers are the salts' common part (the divisions
   * that were most of a route's cost); each salt only hashes its planes */
  WK_ASSERT(s < c->cards && d < c->cards);
  int top;
  uint32_t bs[HW_MAX_TIERS], bd[HW_MAX_TIERS];
  clos_span(c, hw_leaf_of_endpoint(c, s), hw_leaf_of_endpoint(c, d), &top, bs, bd);
  if (!top) n = n ? 1 : 0; /* one leaf: NIC up, NIC down, whatever the salt */
  for (int i = 0; i < n; i++) {
    hw_route *x = &r[i];
    x->n = 0;
    x->latency_s = 0;
    uint64_t h = wk_mix64(((uint64_t)s << 32 | d) ^ wk_mix64(salt[i]));
    add(x, c, c->base_nic + 2 * s, 0);
    clos_climb(c, top, bs, bd, h >> 8, down, 0, x);
    add(x, c, c->base_nic + 2 * d + 1, 0);
  }
  return n;
}

void hw_link_ends(const hw_cluster *c, uint32_t id, uint32_t *from, uint32_t *to) {
  WK_ASSERT(id < c->nlinks);
  uint32_t vsu = c->cards, vsw = vsu + c->supernodes, a, b;
  if (id < c->base_nic) {
    if (c->cfg.scaleup == HW_SCALEUP_MESH) {
      uint32_t card = id / (c->cps - 1), j = id % (c->cps - 1), local = card % c->cps;
      a = card;
      b = card - local + (j < local ? j : j + 1);
    } else {
      uint32_t card = (id - c->base_su) / 2, bus = vsu + card / c->cps;
      a = id % 2 ? bus : card;
      b = id % 2 ? card : bus;
    }
  } else if (id < c->base_nic + 2 * c->endpoints) {
    uint32_t x = id - c->base_nic, e = x / 2, card = e / c->nics, sw;
    if (c->cfg.topology == HW_TOPO_CLOS) sw = vsw + hw_leaf_of_endpoint(c, e);
    else if (c->cfg.topology == HW_TOPO_DRAGONFLY) sw = vsw + e / (uint32_t)c->cfg.df_p;
    else sw = vsw + card / c->cpn;
    a = x % 2 ? sw : card;
    b = x % 2 ? card : sw;
  } else if (c->cfg.topology == HW_TOPO_CLOS) {
    int t = 0;
    while (t + 2 < c->tiers && id >= c->base_up[t + 1]) t++;
    uint32_t y = id - c->base_up[t], s = y / 2 / c->up[t], m = y / 2 % c->up[t];
    uint32_t off = vsw, offu;
    for (int i = 0; i < t; i++) off += c->blocks[i] * c->planes[i];
    offu = off + c->blocks[t] * c->planes[t];
    uint32_t block = s / c->planes[t], plane = s % c->planes[t];
    uint32_t upper = (block / c->down[t + 1]) * c->planes[t + 1] + plane * c->up[t] + m;
    a = y % 2 ? offu + upper : off + s;
    b = y % 2 ? off + s : offu + upper;
  } else if (c->cfg.topology == HW_TOPO_DRAGONFLY) {
    uint32_t aa = (uint32_t)c->cfg.df_a, hh = (uint32_t)c->cfg.df_h, G = c->df_groups;
    if (id < c->base_global) {
      uint32_t x = id - c->base_local, r = x / (aa - 1), j = x % (aa - 1), local = r % aa;
      a = vsw + r;
      b = vsw + r - local + (j < local ? j : j + 1);
    } else {
      uint32_t x = id - c->base_global, k = x % c->df_pair_links, gs = x / c->df_pair_links / (G - 1);
      uint32_t off = x / c->df_pair_links % (G - 1), gd = (gs + 1 + off) % G;
      uint32_t back = (gs + G - gd - 1) % G;
      a = vsw + gs * aa + (k * (G - 1) + off) / hh;
      b = vsw + gd * aa + (k * (G - 1) + back) / hh;
    }
  } else {
    uint32_t x = id - c->base_torus, v = x / (2 * c->tnd), dim = x % (2 * c->tnd) / 2, neg = x % 2;
    uint32_t stride = 1;
    for (uint32_t i = 0; i < dim; i++) stride *= c->tdims[i];
    uint32_t D = c->tdims[dim], coord = v / stride % D, nc = neg ? (coord + D - 1) % D : (coord + 1) % D;
    a = vsw + v;
    b = vsw + v - coord * stride + nc * stride;
  }
  *from = a;
  *to = b;
}

const char *hw_link_describe(const hw_cluster *c, uint32_t id, char *buf, size_t n) {
  if (id >= c->nlinks) {
    snprintf(buf, n, "link %u (out of range)", id);
    return buf;
  }
  if (id < c->base_nic) {
    if (c->cfg.scaleup == HW_SCALEUP_MESH)
      snprintf(buf, n, "card %u -> mesh link %u", id / (c->cps - 1), id % (c->cps - 1));
    else
      snprintf(buf, n, "card %u %s supernode bus", (id - c->base_su) / 2, id % 2 ? "<-" : "->");
    return buf;
  }
  uint32_t x = id - c->base_nic;
  if (x < 2 * c->endpoints) {
    snprintf(buf, n, "card %u NIC %u %s switch", x / 2 / c->nics, x / 2 % c->nics,
             x % 2 ? "<-" : "->");
    return buf;
  }
  if (c->cfg.topology == HW_TOPO_CLOS) {
    for (int t = 0; t + 1 < c->tiers; t++) {
      uint32_t y = id - c->base_up[t];
      if (id >= c->base_up[t] && y < 2 * c->nsw[t] * c->up[t]) {
        uint32_t s = y / 2 / c->up[t], m = y / 2 % c->up[t];
        snprintf(buf, n, "tier-%d switch %u uplink %u (%s)", t + 1, s, m, y % 2 ? "down" : "up");
        return buf;
      }
    }
  }
  snprintf(buf, n, "%s link %u", hw_link_kind_name((hw_link_kind)c->kind[id]), id);
  return buf;
}

/* The locality levels Slurm is told of, in nodes per domain, smallest first: the leaf (a
 * rail-optimized group of leaves counts as one switch, since every node of the group reaches
 * all its rail leaves), the scale-up domain (supernode) and the pod, each kept when it holds
 * more nodes than the level below, a whole number of them, and less than the cluster. OUT
 * size[], name[]; returns how many (at least one: the leaf, or single nodes). */
static int slurm_levels(const hw_cluster *c, uint32_t size[3], const char *name[3]) {
  const struct {
    hw_level l;
    const char *name;
  } cand[3] = {{HW_LEVEL_LEAF, "leaf"}, {HW_LEVEL_SUPERNODE, "sn"}, {HW_LEVEL_POD, "pod"}};
  uint32_t nodes[3];
  int order[3] = {0, 1, 2}, n = 0;
  for (int i = 0; i < 3; i++) {
    nodes[i] = c->level_cards[cand[i].l] / c->cpn;
    if (nodes[i] < 1) nodes[i] = 1;
  }
  for (int i = 1; i < 3; i++) /* by size; ties keep leaf, supernode, pod */
    for (int k = i; k > 0 && nodes[order[k]] < nodes[order[k - 1]]; k--) {
      int t = order[k];
      order[k] = order[k - 1];
      order[k - 1] = t;
    }
  for (int i = 0; i < 3; i++) {
    uint32_t v = nodes[order[i]];
    int leaf = cand[order[i]].l == HW_LEVEL_LEAF;
    if (n == 0 && !leaf && v <= 1) continue; /* a one-node scale-up domain: the node itself */
    if (n > 0 && (v <= size[n - 1] || v % size[n - 1])) continue;
    if (n > 0 && v >= c->nodes) continue;
    size[n] = v;
    name[n++] = cand[order[i]].name;
  }
  if (!n) {
    size[0] = 1;
    name[0] = "leaf";
    n = 1;
  }
  return n;
}

static int node_digits(const hw_cluster *c) {
  int width = 1;
  for (uint32_t v = c->nodes - 1; v >= 10; v /= 10) width++;
  return width;
}

/* Slurm topology/tree: one SwitchName line per domain Slurm can use for locality, level by
 * level (slurm_levels: leaf, supernode, pod), the lowest listing its nodes, each above the
 * domains below it, and a top switch over the highest when there are several. */
int hw_export_slurm(const hw_cluster *c, FILE *f, const char *prefix) {
  uint32_t size[3];
  const char *name[3];
  int nl = slurm_levels(c, size, name), width = node_digits(c);
  fprintf(f, "# Slurm topology.conf (TopologyPlugin=topology/tree) for %s\n"
             "# generated by wanka: %u nodes, %u cards; levels:", c->cfg.name, c->nodes, c->cards);
  for (int l = 0; l < nl; l++)
    fprintf(f, " %s (%s%u nodes)%s", name[l], !strcmp(name[l], "sn") ? "supernode, the scale-up domain: " : "",
            size[l], l + 1 < nl ? "," : "\n");
  uint32_t below = 0; /* domains of the level below */
  for (int l = 0; l < nl; l++) {
    uint32_t count = (c->nodes + size[l] - 1) / size[l], per = l ? size[l] / size[l - 1] : 0;
    for (uint32_t d = 0; d < count; d++) {
      if (l == 0) {
        uint32_t a = d * size[0], b = a + size[0] - 1;
        if (b >= c->nodes) b = c->nodes - 1;
        fprintf(f, "SwitchName=%s%u Nodes=%s[%0*u-%0*u]\n", name[0], d, prefix, width, a, width, b);
      } else {
        uint32_t a = d * per, b = a + per - 1;
        if (b >= below) b = below - 1;
        fprintf(f, "SwitchName=%s%u Switches=%s[%u-%u]\n", name[l], d, name[l - 1], a, b);
      }
    }
    below = count;
  }
  if (below > 1) fprintf(f, "SwitchName=top Switches=%s[0-%u]\n", name[nl - 1], below - 1);
  return ferror(f) ? -1 : 0;
}

int hw_export_slurm_block(const hw_cluster *c, FILE *f, const char *prefix) {
  uint32_t per = c->cps / c->cpn; /* nodes per scale-up domain */
  const char *what = "scale-up domain (supernode)";
  if (per <= 1) { /* the node is its own scale-up domain: blocks are leaves */
    uint32_t size[3];
    const char *name[3];
    slurm_levels(c, size, name);
    per = size[0];
    what = "leaf (the scale-up domain is one node)";
  }
  int width = node_digits(c);
  uint32_t count = (c->nodes + per - 1) / per;
  fprintf(f, "# Slurm topology.conf (TopologyPlugin=topology/block) for %s\n"
             "# generated by wanka: %u nodes, %u cards; one block per %s of %u nodes\n",
          c->cfg.name, c->nodes, c->cards, what, per);
  for (uint32_t d = 0; d < count; d++) {
    uint32_t a = d * per, b = a + per - 1;
    if (b >= c->nodes) b = c->nodes - 1;
    fprintf(f, "BlockName=block%u Nodes=%s[%0*u-%0*u]\n", d, prefix, width, a, width, b);
  }
  /* the base block, then aggregates of 2, 4, 8, ... blocks while the cluster holds them */
  fprintf(f, "BlockSizes=%u", per);
  for (uint64_t k = 2; k <= count; k *= 2) fprintf(f, ",%llu", (unsigned long long)(per * k));
  fprintf(f, "\n");
  return ferror(f) ? -1 : 0;
}

int hw_switch_links(const hw_cluster *c, int tier, uint32_t index, uint32_t *out, uint32_t max) {
  if (c->cfg.topology != HW_TOPO_CLOS || tier < 1 || tier > c->tiers || index >= c->nsw[tier - 1])
    return -1;
  /* its vertices in hw_link_ends's numbering: one per plane it serves (a top tier wider than
   * the blocks below serves `share` planes per switch) */
  uint32_t off = c->cards + c->supernodes;
  for (int t = 0; t < tier - 1; t++) off += c->blocks[t] * c->planes[t];
  uint32_t per = c->blocks[tier - 1] * c->planes[tier - 1] / c->nsw[tier - 1];
  uint32_t v0 = off + index * per, v1 = v0 + per;
  if (tier == c->tiers && tier >= 2) { /* the top tier: planes are shared in turn */
    uint32_t share = c->blocks[tier - 2] ? c->down[tier - 1] / c->blocks[tier - 2] : 1;
    if (share < 1) share = 1;
    v0 = off + index * share;
    v1 = v0 + share;
  }
  uint32_t n = 0;
  for (uint32_t l = c->base_nic; l < c->nlinks; l++) {
    uint32_t a, b;
    hw_link_ends(c, l, &a, &b);
    if ((a >= v0 && a < v1) || (b >= v0 && b < v1)) {
      if (n < max) out[n] = l;
      n++;
    }
  }
  return (int)n;
}

uint32_t hw_link_reverse(const hw_cluster *c, uint32_t link) {
  WK_ASSERT(link < c->nlinks);
  /* scale-up switch links, NIC links and Clos links are (up, down) pairs at even ids */
  if (c->cfg.topology == HW_TOPO_CLOS && (link >= c->base_nic || c->cfg.scaleup == HW_SCALEUP_SWITCH))
    return link ^ 1u;
  uint32_t a, b, x, y;
  hw_link_ends(c, link, &a, &b);
  for (uint32_t l = 0; l < c->nlinks; l++) { /* dragonfly, torus, mesh: by their ends */
    hw_link_ends(c, l, &x, &y);
    if (x == b && y == a) return l;
  }
  return link;
}

int hw_link_siblings(const hw_cluster *c, uint32_t link, uint32_t *out, uint32_t max) {
  WK_ASSERT(link < c->nlinks);
  if (c->cfg.topology == HW_TOPO_CLOS)
    for (int t = 0; t + 1 < c->tiers; t++) {
      uint32_t y = link - c->base_up[t];
      if (link < c->base_up[t] || y >= 2 * c->nsw[t] * c->up[t]) continue;
      uint32_t s = y / 2 / c->up[t], dir = y % 2, n = 0;
      for (uint32_t m = 0; m < c->up[t]; m++) {
        if (n < max) out[n] = c->base_up[t] + 2 * (s * c->up[t] + m) + dir;
        n++;
      }
      return (int)n;
    }
  if (max) out[0] = link;
  return 1;
}

int hw_leaf_cards(const hw_cluster *c, uint32_t leaf, uint32_t *out, uint32_t max) {
  if (c->cfg.topology != HW_TOPO_CLOS || leaf >= c->leaves) return -1;
  uint32_t n = 0;
  for (uint32_t e = 0; e < c->endpoints; e++) {
    if (hw_leaf_of_endpoint(c, e) != leaf) continue;
    if (n < max) out[n] = e / c->nics;
    n++;
  }
  return (int)n;
}
