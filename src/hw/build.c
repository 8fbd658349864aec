/* build.c — checks a cluster description and builds the model: link tables (capacity,
 * latency, kind) laid out in arithmetic ranges, the placement hierarchy, per-level analytic
 * bandwidths, and the summary. O(links) time and 14 bytes per directed link. */
#include "hw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void split_tier(const hw_tier *t, int top, uint32_t *down, uint32_t *up) {
  if (t->down > 0) {
    *down = (uint32_t)t->down;
    *up = top ? 0 : (uint32_t)t->up;
    return;
  }
  if (top) {
    *down = (uint32_t)t->radix;
    *up = 0;
    return;
  }
  double o = t->oversubscription > 0 ? t->oversubscription : 1;
  uint32_t d = (uint32_t)lround((double)t->radix * o / (o + 1.0));
  if (d < 1) d = 1;
  if (d >= (uint32_t)t->radix) d = (uint32_t)t->radix - 1;
  *down = d;
  *up = (uint32_t)t->radix - d;
}

/* A value the file lacks or gets wrong as a whole: without a better place, point at 1:1. */
static wk_errcode bad(wk_err *err, const char *path, int line, int col, const char *msg) {
  return wk_err_set(err, WK_EVALUE, path, line ? line : 1, line ? col : 1, "%s", msg);
}

wk_errcode hw_config_check(const hw_config *cfg, const char *path, wk_err *err) {
  char m[512];
  const hw_accel *a = &cfg->accel;
  if (!(a->bf16_flops > 0))
    return bad(err, path, 0, 0, "missing accelerator.bf16_tflops (peak dense BF16 TFLOP/s per card)");
  if (!(a->hbm_bytes > 0)) return bad(err, path, 0, 0, "missing accelerator.hbm_gib (HBM per card, GiB)");
  if (!(a->hbm_bytes_per_s > 0))
    return bad(err, path, 0, 0, "missing accelerator.hbm_tbytes_per_s (HBM bandwidth per card, TB/s)");
  if (cfg->cards_per_node <= 0) return bad(err, path, 0, 0, "missing node.cards (cards per node)");
  /* attention kernels' published speeds: forward and backward together, and (BF16 kernels) no
   * faster than the BF16 peak */
  static const char *const flash_names[] = {"flash2", "flash3"};
  const double flash_rates[2][2] = {{a->flash2_fwd_flops, a->flash2_bwd_flops},
                                    {a->flash3_fwd_flops, a->flash3_bwd_flops}};
  for (int k = 0; k < 2; k++) {
    const double *r = flash_rates[k];
    if ((r[0] > 0) != (r[1] > 0)) {
      snprintf(m, sizeof m,
               "accelerator.%s_%s_tflops needs accelerator.%s_%s_tflops (a kernel's "
               "published forward and backward speeds go together)",
               flash_names[k], r[0] > 0 ? "fwd" : "bwd", flash_names[k], r[0] > 0 ? "bwd" : "fwd");
      return bad(err, path, 0, 0, m);
    }
    for (int d = 0; d < 2; d++)
      if (r[d] > a->bf16_flops) {
        snprintf(m, sizeof m,
                 "accelerator.%s_%s_tflops %.0f exceeds the BF16 peak (bf16_tflops "
                 "%.0f): a BF16 attention kernel runs below it",
                 flash_names[k], d ? "bwd" : "fwd", r[d] / 1e12, a->bf16_flops / 1e12);
        return bad(err, path, 0, 0, m);
      }
  }
  if (cfg->card_idle_w > 0 && !(cfg->card_busy_w > 0))
    return bad(err, path, 0, 0, "power.card_idle_w needs power.card_busy_w (watts per busy card)");
  if (cfg->card_busy_w > 0 && cfg->card_idle_w > cfg->card_busy_w)
    return bad(err, path, 0, 0, "power.card_idle_w must not exceed power.card_busy_w");
  if (cfg->switch_idle_w > 0 && !(cfg->switch_busy_w > 0))
    return bad(err, path, 0, 0, "power.switch_idle_w needs power.switch_busy_w (watts per busy switch)");
  if (cfg->switch_busy_w > 0 && cfg->switch_idle_w > cfg->switch_busy_w)
    return bad(err, path, 0, 0, "power.switch_idle_w must not exceed power.switch_busy_w");
  if ((cfg->switch_busy_w > 0 || cfg->pue > 0) && !(cfg->card_busy_w > 0))
    return bad(err, path, 0, 0, "power.switch_*_w and power.pue need power.card_busy_w (energy "
                                "is counted from the cards' draw)");
  if (cfg->nodes <= 0) return bad(err, path, 0, 0, "missing nodes (number of nodes in the cluster)");
  int cps = cfg->cards_per_supernode ? cfg->cards_per_supernode : cfg->cards_per_node;
  if (cfg->nic_qps < 1 || cfg->nic_qps > HW_MAX_QPS) {
    snprintf(m, sizeof m, "nics.qps_per_connection %d: give 1 to %d (NCCL's limit)", cfg->nic_qps,
             HW_MAX_QPS);
    return bad(err, path, 0, 0, m);
  }
  if (cps % cfg->cards_per_node) {
    snprintf(m, sizeof m, "supernode.cards (%d) must be a multiple of node.cards (%d)", cps,
             cfg->cards_per_node);
    return bad(err, path, cfg->line_supernode, cfg->col_supernode, m);
  }
  double cards = (double)cfg->nodes * cfg->cards_per_node;
  if (cards > 1e9 || cards * cfg->nics_per_card > 1e9) {
    snprintf(m, sizeof m, "%.0f cards is beyond what wanka models (at most 1e9 cards and NICs): "
             "lower nodes", cards);
    return bad(err, path, cfg->line_nodes, cfg->col_nodes, m);
  }
  if ((int64_t)cards % cps) {
    snprintf(m, sizeof m, "%.0f cards do not fill whole supernodes of %d: make nodes a multiple "
             "of %d", cards, cps, cps / cfg->cards_per_node);
    return bad(err, path, cfg->line_nodes, cfg->col_nodes, m);
  }
  if (cps > 1 && !(cfg->scaleup_bytes_per_s > 0))
    return bad(err, path, cfg->line_supernode, cfg->col_supernode,
               "missing supernode.gbytes_per_s (scale-up bandwidth per card per direction, GB/s)");
  if (cfg->scaleup == HW_SCALEUP_MESH && cfg->scaleup_reduction)
    return bad(err, path, cfg->line_supernode, cfg->col_supernode,
               "supernode.in_switch_reduction needs supernode.topology: switch (a full mesh has "
               "no switch to reduce in)");
  if (cfg->scaleup == HW_SCALEUP_MESH && cps > 64)
    return bad(err, path, cfg->line_supernode, cfg->col_supernode,
               "a full-mesh scale-up domain holds at most 64 cards: use supernode.topology: switch");
  if (!(cfg->nic_bytes_per_s > 0)) return bad(err, path, 0, 0, "missing nics.gbits_per_s (NIC speed, Gb/s)");
  int fl = cfg->line_fabric, fc = cfg->col_fabric;
  double endpoints = cards * cfg->nics_per_card;
  if (cfg->topology == HW_TOPO_CLOS) {
    if (cfg->ntiers < 1) return bad(err, path, fl, fc, "fabric.tiers needs at least one tier (radix: N)");
    double capacity = 1;
    uint32_t rails = cfg->rail_optimized ? (uint32_t)(cfg->cards_per_node * cfg->nics_per_card) : 0;
    for (int t = 0; t < cfg->ntiers; t++) {
      const hw_tier *tr = &cfg->tiers[t];
      int top = t == cfg->ntiers - 1;
      if (tr->radix <= 0 && tr->down <= 0) {
        snprintf(m, sizeof m, "fabric tier %d needs radix (ports per switch) or down/up ports", t + 1);
        return bad(err, path, fl, fc, m);
      }
      if (tr->radix > 0 && tr->down <= 0 && !top && tr->radix < 2) {
        snprintf(m, sizeof m, "fabric tier %d: a radix of %d cannot have ports both down and up", t + 1, tr->radix);
        return bad(err, path, fl, fc, m);
      }
      if (tr->down > 0 && !top && tr->up <= 0) {
        snprintf(m, sizeof m, "fabric tier %d: give 'up' ports with 'down' (only the top tier has none)", t + 1);
        return bad(err, path, fl, fc, m);
      }
      uint32_t d, u;
      split_tier(tr, top, &d, &u);
      if (t == 1 && rails && d % rails) {
        snprintf(m, sizeof m, "rail-optimized fabric: tier 2 takes %u leaves per block, which must "
                 "be a multiple of the %u rails per node (set fabric.tiers.2 down/up)", d, rails);
        return bad(err, path, fl, fc, m);
      }
      capacity *= d;
    }
    if (rails && cfg->ntiers == 1)
      return bad(err, path, fl, fc, "a rail-optimized fabric needs at least two tiers (traffic "
                 "between rails crosses a spine): add a tier or set rail_optimized: false");
    double holds = capacity;
    if (endpoints > holds) {
      snprintf(m, sizeof m, "a %d-tier fabric of these radixes holds at most %.0f NIC ports but the "
               "cluster has %.0f: add a tier to fabric.tiers, raise the radix, or lower nodes",
               cfg->ntiers, holds, endpoints);
      return wk_err_set(err, WK_ECAPACITY, path, fl, fc, "%s", m);
    }
  } else if (cfg->topology == HW_TOPO_DRAGONFLY) {
    if (cfg->df_p <= 0 || cfg->df_a <= 0 || cfg->df_h <= 0)
      return bad(err, path, fl, fc, "dragonfly needs fabric.dragonfly.endpoints_per_router, "
                 "routers_per_group and global_per_router");
    double routers = ceil(endpoints / cfg->df_p), groups = ceil(routers / cfg->df_a);
    double maxg = (double)cfg->df_a * cfg->df_h + 1;
    if (groups > maxg) {
      snprintf(m, sizeof m, "dragonfly of %d routers per group with %d global ports each joins at "
               "most %.0f groups but the cluster needs %.0f: raise global_per_router or "
               "routers_per_group", cfg->df_a, cfg->df_h, maxg, groups);
      return wk_err_set(err, WK_ECAPACITY, path, fl, fc, "%s", m);
    }
  } else {
    if (cfg->torus_ndims < 2)
      return bad(err, path, fl, fc, "torus needs fabric.torus.dims: [X, Y] or [X, Y, Z]");
    double v = 1;
    for (int i = 0; i < cfg->torus_ndims; i++) v *= cfg->torus_dims[i];
    if (v != (double)cfg->nodes) {
      snprintf(m, sizeof m, "torus dims multiply to %.0f vertices but nodes = %lld: one node per "
               "vertex, so make them equal", v, (long long)cfg->nodes);
      return bad(err, path, fl, fc, m);
    }
  }
  return WK_OK;
}

static void set_link(hw_cluster *c, uint32_t id, double cap, double lat, hw_link_kind k, int tier) {
  c->cap[id] = cap;
  c->lat[id] = (float)lat;
  c->kind[id] = (uint8_t)k;
  c->tier[id] = (uint8_t)tier;
}

static void build_clos(hw_cluster *c, uint64_t *next) {
  const hw_config *cfg = &c->cfg;
  c->tiers = cfg->ntiers;
  for (int t = 0; t < c->tiers; t++) split_tier(&cfg->tiers[t], t == c->tiers - 1, &c->down[t], &c->up[t]);
  c->rails = cfg->rail_optimized ? c->cpn * c->nics : 0;
  if (c->rails) {
    uint32_t groups = (c->nodes + c->down[0] - 1) / c->down[0];
    c->leaves = groups * c->rails;
  } else {
    c->leaves = (c->endpoints + c->down[0] - 1) / c->down[0];
  }
  c->blocks[0] = c->leaves;
  c->planes[0] = 1;
  c->span[0] = 1;
  for (int t = 1; t < c->tiers; t++) {
    c->blocks[t] = (c->blocks[t - 1] + c->down[t] - 1) / c->down[t];
    c->planes[t] = c->planes[t - 1] * c->up[t - 1];
    c->span[t] = c->span[t - 1] * c->down[t];
  }
  for (int t = 0; t < c->tiers; t++) c->nsw[t] = c->blocks[t] * c->planes[t];
  /* A top tier wider than the blocks below it serves several planes per switch (the links
   * stay those of the lower tier, so routes are unchanged; only the switch count shrinks). */
  if (c->tiers >= 2) {
    int t = c->tiers - 1;
    uint32_t share = c->blocks[t - 1] ? c->down[t] / c->blocks[t - 1] : 1;
    if (share > 1) c->nsw[t] = (c->planes[t] + share - 1) / share;
  }
  for (int t = 0; t + 1 < c->tiers; t++) {
    c->base_up[t] = (uint32_t)*next;
    *next += 2ull * c->nsw[t] * c->up[t];
  }
}

static void fill_clos(hw_cluster *c) {
  for (int t = 0; t + 1 < c->tiers; t++)
    for (uint32_t i = 0; i < 2 * c->nsw[t] * c->up[t]; i++)
      set_link(c, c->base_up[t] + i, c->link_bw, c->cfg.hop_latency_s, HW_LINK_FABRIC, t + 1);
}

static void build_dragonfly(hw_cluster *c, uint64_t *next) {
  const hw_config *cfg = &c->cfg;
  uint32_t a = (uint32_t)cfg->df_a, h = (uint32_t)cfg->df_h;
  c->df_routers = (c->endpoints + (uint32_t)cfg->df_p - 1) / (uint32_t)cfg->df_p;
  c->df_groups = (c->df_routers + a - 1) / a;
  c->df_routers = c->df_groups * a; /* a group always has all its routers */
  c->df_pair_links = c->df_groups > 1 ? (a * h) / (c->df_groups - 1) : 0;
  c->base_local = (uint32_t)*next;
  *next += (uint64_t)c->df_routers * (a - 1);
  c->base_global = (uint32_t)*next;
  *next += (uint64_t)c->df_groups * (c->df_groups - 1) * c->df_pair_links;
}

static void build_torus(hw_cluster *c, uint64_t *next) {
  c->tnd = (uint32_t)c->cfg.torus_ndims;
  for (uint32_t i = 0; i < c->tnd; i++) c->tdims[i] = (uint32_t)c->cfg.torus_dims[i];
  c->base_torus = (uint32_t)*next;
  *next += (uint64_t)c->nodes * 2 * c->tnd;
}

/* Per-level analytic bandwidth and latency (see hw_level_card_bw). */
static void levels(hw_cluster *c) {
  const hw_config *cfg = &c->cfg;
  double su_bw = cfg->scaleup == HW_SCALEUP_MESH ? cfg->scaleup_bytes_per_s * (c->cps - 1)
                                                  : cfg->scaleup_bytes_per_s;
  double nic_card = c->nic_bw * c->nics;
  uint32_t leaf_cards = 1, pod_cards = c->cards;
  double pod_bw = nic_card, cluster_bw = nic_card;
  int pod_hops = 0, cluster_hops = 0;
  if (cfg->topology == HW_TOPO_CLOS) {
    leaf_cards = c->rails ? c->down[0] * c->cpn : (c->down[0] >= c->nics ? c->down[0] / c->nics : 1);
    if (c->tiers >= 3) pod_cards = c->rails ? leaf_cards * (c->down[1] / c->rails) : leaf_cards * c->down[1];
    double share = 1;
    for (int t = 0; t + 1 < c->tiers; t++) {
      double in = (double)c->down[t] * (t == 0 ? c->nic_bw : c->link_bw);
      double out = (double)c->up[t] * c->link_bw;
      share *= fmin(1.0, out / in);
      if (t == 0) pod_bw = nic_card * share;
      cluster_bw = nic_card * share;
    }
    pod_hops = c->tiers >= 2 ? 2 : 0;
    cluster_hops = 2 * (c->tiers - 1);
  } else if (cfg->topology == HW_TOPO_DRAGONFLY) {
    uint32_t p = (uint32_t)cfg->df_p, a = (uint32_t)cfg->df_a;
    leaf_cards = p >= c->nics ? p / c->nics : 1;
    pod_cards = leaf_cards * a;
    pod_bw = fmin(nic_card, (double)(a - 1) * c->link_bw / p * c->nics);
    double gbw = cfg->df_global_bytes_per_s > 0 ? cfg->df_global_bytes_per_s : c->link_bw;
    double out = (double)c->df_pair_links * (c->df_groups > 1 ? c->df_groups - 1 : 1) * gbw;
    cluster_bw = fmin(pod_bw, out / pod_cards);
    pod_hops = 1;
    cluster_hops = 3;
  } else {
    leaf_cards = c->cpn;
    pod_cards = c->cards;
    uint32_t maxd = 0, hops = 0;
    for (uint32_t i = 0; i < c->tnd; i++) {
      maxd = c->tdims[i] > maxd ? c->tdims[i] : maxd;
      hops += c->tdims[i] / 4; /* average distance */
    }
    double per_node = 2.0 * c->tnd * c->link_bw;
    cluster_bw = fmin(nic_card, per_node / c->cpn);
    pod_bw = cluster_bw;
    pod_hops = cluster_hops = (int)hops;
  }
  if (leaf_cards < 1) leaf_cards = 1;
  if (leaf_cards > c->cards) leaf_cards = c->cards;
  if (pod_cards > c->cards || pod_cards < leaf_cards) pod_cards = c->cards;
  c->level_cards[HW_LEVEL_NODE] = c->cpn;
  c->level_cards[HW_LEVEL_SUPERNODE] = c->cps;
  c->level_cards[HW_LEVEL_LEAF] = leaf_cards;
  c->level_cards[HW_LEVEL_POD] = pod_cards;
  c->level_cards[HW_LEVEL_CLUSTER] = c->cards;
  double nic_lat = 2 * cfg->nic_latency_s;
  c->level_bw[HW_LEVEL_NODE] = c->level_bw[HW_LEVEL_SUPERNODE] = c->cps > 1 ? su_bw : nic_card;
  c->level_lat[HW_LEVEL_NODE] = c->level_lat[HW_LEVEL_SUPERNODE] =
      c->cps > 1 ? 2 * cfg->scaleup_latency_s : nic_lat;
  c->level_bw[HW_LEVEL_LEAF] = nic_card;
  c->level_lat[HW_LEVEL_LEAF] = nic_lat;
  c->level_bw[HW_LEVEL_POD] = pod_bw;
  c->level_lat[HW_LEVEL_POD] = nic_lat + pod_hops * cfg->hop_latency_s;
  c->level_bw[HW_LEVEL_CLUSTER] = cluster_bw;
  c->level_lat[HW_LEVEL_CLUSTER] = nic_lat + cluster_hops * cfg->hop_latency_s;
}

hw_cluster *hw_build(const hw_config *cfg_in, wk_err *err) {
  if (hw_config_check(cfg_in, cfg_in->name, err)) return NULL;
  hw_cluster *c = wk_calloc(1, sizeof *c);
  c->cfg = *cfg_in;
  hw_config *cfg = &c->cfg;
  if (!cfg->cards_per_supernode) cfg->cards_per_supernode = cfg->cards_per_node;
  if (!(cfg->accel.fp16_flops > 0)) cfg->accel.fp16_flops = cfg->accel.bf16_flops;
  if (!(cfg->accel.fp8_flops > 0)) cfg->accel.fp8_flops = cfg->accel.bf16_flops; /* no FP8 units */
  c->cpn = (uint32_t)cfg->cards_per_node;
  c->cps = (uint32_t)cfg->cards_per_supernode;
  c->cps_div = wk_div32_of(c->cps ? c->cps : 1);
  c->nodes = (uint32_t)cfg->nodes;
  c->cards = c->nodes * c->cpn;
  c->supernodes = c->cards / c->cps;
  c->nics = (uint32_t)cfg->nics_per_card;
  c->endpoints = c->cards * c->nics;
  c->nic_bw = cfg->nic_bytes_per_s;
  c->link_bw = cfg->link_bytes_per_s > 0 ? cfg->link_bytes_per_s : c->nic_bw;

  uint64_t next = 0;
  c->base_su = 0;
  if (c->cps > 1) next += cfg->scaleup == HW_SCALEUP_MESH ? (uint64_t)c->cards * (c->cps - 1) : 2ull * c->cards;
  c->base_nic = (uint32_t)next;
  next += 2ull * c->endpoints;
  if (cfg->topology == HW_TOPO_CLOS) build_clos(c, &next);
  else if (cfg->topology == HW_TOPO_DRAGONFLY) build_dragonfly(c, &next);
  else build_torus(c, &next);
  /* Refuse early rather than meet the OOM killer: 14 bytes per link must fit in memory. */
  double limit = wk_memory_limit();
  if (next >= UINT32_MAX || (double)next * 14.0 > limit) {
    wk_err_set(err, WK_ECAPACITY, cfg->name, cfg->line_nodes, cfg->col_nodes,
               "the fabric would have %llu links (%.1f GiB of model), beyond the %.1f GiB this "
               "machine allows (half its memory, or WANKA_MAX_MODEL_BYTES): lower nodes",
               (unsigned long long)next, (double)next * 14.0 / 1073741824.0, limit / 1073741824.0);
    wk_free(c);
    return NULL;
  }
  c->nlinks = (uint32_t)next;
  c->cap = wk_malloc((size_t)next * sizeof *c->cap);
  c->lat = wk_malloc((size_t)next * sizeof *c->lat);
  c->kind = wk_malloc((size_t)next);
  c->tier = wk_calloc((size_t)next, 1);

  for (uint32_t i = 0; i < c->base_nic; i++)
    set_link(c, i, cfg->scaleup_bytes_per_s, cfg->scaleup_latency_s, HW_LINK_SCALEUP, 0);
  for (uint32_t i = 0; i < 2 * c->endpoints; i++)
    set_link(c, c->base_nic + i, c->nic_bw, cfg->nic_latency_s, HW_LINK_NIC, 0);
  if (cfg->topology == HW_TOPO_CLOS) {
    fill_clos(c);
  } else if (cfg->topology == HW_TOPO_DRAGONFLY) {
    double gbw = cfg->df_global_bytes_per_s > 0 ? cfg->df_global_bytes_per_s : c->link_bw;
    for (uint32_t i = c->base_local; i < c->base_global; i++)
      set_link(c, i, c->link_bw, cfg->hop_latency_s, HW_LINK_LOCAL, 0);
    for (uint32_t i = c->base_global; i < c->nlinks; i++)
      set_link(c, i, gbw, cfg->hop_latency_s, HW_LINK_GLOBAL, 0);
  } else {
    for (uint32_t i = c->base_torus; i < c->nlinks; i++)
      set_link(c, i, c->link_bw, cfg->hop_latency_s, HW_LINK_TORUS, 0);
  }
  levels(c);
  return c;
}

hw_cluster *hw_load(const char *spec, wk_err *err) {
  hw_config cfg;
  if (hw_config_load(&cfg, spec, err)) return NULL;
  hw_cluster *c = hw_build(&cfg, err);
  if (c || !err) return c;
  /* hw_build knows the cluster by its name, not by the file or tweaks it came from: say which
   * preset or file (a preset's YAML is no file of the user's) and which tweaks. */
  char name[256], why[sizeof err->msg];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(spec, ":"), spec);
  const char *tweaks = strchr(spec, ':');
  snprintf(why, sizeof why, "%s", err->msg);
  if (tweaks)
    wk_err_set(err, err->code, "", 0, 0, "cluster tweak%s '%s' on %s: %s",
               strchr(tweaks + 1, ',') ? "s" : "", tweaks + 1, name, why);
  else if (hw_preset_find(name))
    wk_err_set(err, err->code, "", 0, 0, "cluster %s: %s", name, why);
  else
    wk_err_set(err, err->code, name, err->line, err->col, "%s", why);
  return NULL;
}

void hw_free(hw_cluster *c) {
  if (!c) return;
  wk_free(c->cap);
  wk_free(c->lat);
  wk_free(c->kind);
  wk_free(c->tier);
  wk_free(c);
}

const hw_config *hw_cfg(const hw_cluster *c) { return &c->cfg; }
uint32_t hw_cards(const hw_cluster *c) { return c->cards; }
uint32_t hw_nodes(const hw_cluster *c) { return c->nodes; }
uint32_t hw_supernodes(const hw_cluster *c) { return c->supernodes; }
size_t hw_memory_bytes(const hw_cluster *c) {
  return sizeof *c + (size_t)c->nlinks * (sizeof *c->cap + sizeof *c->lat + 2);
}
uint32_t hw_nlinks(const hw_cluster *c) { return c->nlinks; }
const double *hw_link_capacity(const hw_cluster *c) { return c->cap; }
double *hw_link_capacity_mut(hw_cluster *c) { return c->cap; }
const float *hw_link_latency(const hw_cluster *c) { return c->lat; }
hw_link_kind hw_link_kind_of(const hw_cluster *c, uint32_t link) { return (hw_link_kind)c->kind[link]; }
int hw_link_tier(const hw_cluster *c, uint32_t link) { return c->tier[link]; }

const char *hw_link_kind_name(hw_link_kind k) {
  static const char *const n[] = {"scaleup", "nic", "fabric", "local", "global", "torus"};
  return (unsigned)k < HW_LINK_KINDS ? n[k] : "?";
}

const char *hw_level_name(hw_level l) {
  static const char *const n[] = {"node", "supernode", "leaf", "pod", "cluster"};
  return (unsigned)l < HW_LEVELS ? n[l] : "?";
}
uint32_t hw_level_cards(const hw_cluster *c, hw_level l) { return c->level_cards[l]; }
uint32_t hw_level_domains(const hw_cluster *c, hw_level l) {
  return (c->cards + c->level_cards[l] - 1) / c->level_cards[l];
}
double hw_level_card_bw(const hw_cluster *c, hw_level l) { return c->level_bw[l]; }
double hw_level_latency(const hw_cluster *c, hw_level l) { return c->level_lat[l]; }

hw_level hw_common_level(const hw_cluster *c, uint32_t a, uint32_t b) {
  for (int l = HW_LEVEL_NODE; l < HW_LEVEL_CLUSTER; l++)
    if (a / c->level_cards[l] == b / c->level_cards[l]) return (hw_level)l;
  return HW_LEVEL_CLUSTER;
}

void hw_summarize(const hw_cluster *c, hw_summary *s) {
  memset(s, 0, sizeof *s);
  const hw_config *cfg = &c->cfg;
  s->cards = c->cards;
  s->nodes = c->nodes;
  s->supernodes = c->supernodes;
  s->links = c->nlinks;
  s->cables = c->nlinks / 2;
  s->peak_bf16_flops = c->cards * cfg->accel.bf16_flops;
  s->peak_fp8_flops = c->cards * cfg->accel.fp8_flops;
  s->hbm_bytes = c->cards * cfg->accel.hbm_bytes;
  s->hbm_bytes_per_s = c->cards * cfg->accel.hbm_bytes_per_s;
  /* Bisection: the worst balanced cut, one direction. Across the scale-out fabric it is the
   * narrowest of the NIC layer and each tier's uplinks (half of them cross a cut between
   * halves of the blocks); a single scale-up domain adds its own bus. */
  double bis = c->endpoints / 2.0 * c->nic_bw;
  if (cfg->topology == HW_TOPO_CLOS) {
    s->switch_tiers = c->tiers;
    for (int t = 0; t < c->tiers; t++) {
      s->switches_per_tier[t] = c->nsw[t];
      s->switches += c->nsw[t];
      if (t + 1 < c->tiers && c->blocks[t] >= 2)
        bis = fmin(bis, (double)c->nsw[t] * c->up[t] / 2.0 * c->link_bw);
    }
  } else if (cfg->topology == HW_TOPO_DRAGONFLY) {
    s->switch_tiers = 1;
    s->switches = s->switches_per_tier[0] = c->df_routers;
    double g = c->df_groups, gbw = cfg->df_global_bytes_per_s > 0 ? cfg->df_global_bytes_per_s : c->link_bw;
    if (g >= 2) bis = fmin(bis, floor(g / 2) * ceil(g / 2) * c->df_pair_links * gbw);
  } else {
    uint32_t maxd = 0;
    for (uint32_t i = 0; i < c->tnd; i++) maxd = c->tdims[i] > maxd ? c->tdims[i] : maxd;
    bis = fmin(bis, 2.0 * (c->nodes / maxd) * c->link_bw);
  }
  if (c->supernodes == 1 && c->cps > 1) bis += c->level_bw[HW_LEVEL_SUPERNODE] * c->cards / 2.0;
  else if (c->cards == 1) bis = 0;
  s->bisection_bytes_per_s = bis;
}
