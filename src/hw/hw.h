/* hw — the cluster model: accelerators, nodes, scale-up domains (supernodes), NICs, switches
 * and links, built from a YAML description or a built-in preset, at full scale. Routes are
 * computed arithmetically from coordinates (up-down with a deterministic ECMP hash), never
 * from all-pairs tables, so a 61,440-card cluster builds in milliseconds.
 *
 * Model: card c lives in node c / cards_per_node and supernode c / cards_per_supernode.
 * Inside a supernode cards talk over the scale-up bus (one non-blocking switch, or a full
 * mesh). Across supernodes they talk through NIC endpoints (card c's NIC i is endpoint
 * c * nics_per_card + i) into the scale-out fabric: a folded Clos of 1..4 tiers (ToR or
 * rail-optimized leaves, any radix, oversubscription per tier), a dragonfly, or a 2-D/3-D
 * torus of nodes. Every physical cable is two directed links (one per direction). */
#ifndef WK_HW_H
#define WK_HW_H

#include "core/core.h"

#include <stdint.h>
#include <stdio.h>

#define HW_MAX_TIERS 4
#define HW_ROUTE_MAX 128 /* links in one route; torus dimensions are bounded to fit */

typedef struct hw_accel {
  char name[64];
  double bf16_flops, fp16_flops, fp8_flops; /* dense peak, FLOP/s */
  double hbm_bytes;                         /* capacity, bytes */
  double hbm_bytes_per_s;                   /* bandwidth */
  /* Published speeds of the fused attention kernels on this card, FLOP/s as their authors count
   * them (causal forward, backward; BF16, head dim 128, 16k tokens); 0 = none published (the
   * training model then takes FlashAttention-2's A100 shares of the BF16 peak for flash2, and
   * has no flash3). FlashAttention-3 runs on Hopper only (TMA, wgmma). */
  double flash2_fwd_flops, flash2_bwd_flops, flash3_fwd_flops, flash3_bwd_flops;
} hw_accel;

typedef enum hw_topology { HW_TOPO_CLOS, HW_TOPO_DRAGONFLY, HW_TOPO_TORUS } hw_topology;
typedef enum hw_scaleup { HW_SCALEUP_SWITCH, HW_SCALEUP_MESH } hw_scaleup;

typedef struct hw_tier {
  int radix;               /* ports per switch */
  double oversubscription; /* down:up port ratio (1 = non-blocking); ignored on the top tier */
  int down, up;            /* explicit port split; 0 = derive from radix and oversubscription */
} hw_tier;

/* Everything a cluster file says, in SI units. Public so presets can be tweaked and tests can
 * build clusters directly; hw_config_check() validates it. */
typedef struct hw_config {
  char name[64];
  char description[256];
  hw_accel accel;
  int64_t nodes;
  int cards_per_node;
  int cards_per_supernode;        /* scale-up domain; a multiple of cards_per_node */
  hw_scaleup scaleup;             /* bus switch or full mesh inside the supernode */
  double scaleup_bytes_per_s;     /* per card per direction (switch) or per mesh link */
  double scaleup_latency_s;
  int scaleup_reduction;          /* the bus switch reduces and multicasts in the switch
                                   * (NVLink SHARP, "NVLS"): the nvls collectives apply */
  int nics_per_card;
  double nic_bytes_per_s;         /* per NIC per direction */
  double nic_latency_s;           /* NIC + cable, per end */
  int nic_qps;                    /* RDMA queue pairs per connection (NCCL_IB_QPS_PER_CONNECTION;
                                   * default 1): on a fabric that hashes on the QP (RoCE with
                                   * Meta's E-ECMP) each one takes its own ECMP path, so a ring
                                   * edge spreads over channels x QPs paths (coll's ring plans) */
#define HW_MAX_QPS 128 /* NCCL_IB_QPS_PER_CONNECTION's upper bound (NCCL_IB_MAX_QPS) */
  hw_topology topology;
  double hop_latency_s;           /* per switch-to-switch link */
  /* clos */
  int rail_optimized;
  int ntiers;
  hw_tier tiers[HW_MAX_TIERS];
  double link_bytes_per_s;        /* switch-to-switch links; 0 = same as a NIC */
  /* dragonfly: p endpoints per router, a routers per group, h global ports per router */
  int df_p, df_a, df_h;
  double df_global_bytes_per_s;   /* 0 = same as link_bytes_per_s */
  /* torus over nodes: dims[0] x dims[1] (x dims[2]) == nodes */
  int torus_ndims;
  int torus_dims[3];
  /* Where sections began in the file (1-based; 0 = not from a file), for errors found by
   * hw_config_check after parsing: the fix is named at the line that needs it. */
  int line_nodes, col_nodes, line_fabric, col_fabric, line_supernode, col_supernode;
  /* Power (docs/cluster-format.md), 0 where the file does not say: a card's draw idle and busy
   * (with its share of its server: CPUs, memory, NICs, fans), a switch's idle and busy, and the
   * site's PUE (facility energy / IT energy; 0 = not given, energy counted as IT alone). */
  double card_idle_w, card_busy_w, switch_idle_w, switch_busy_w, pue;
} hw_config;

/* Fills cfg from YAML text. path names the text in errors (file:line:col). */
wk_errcode hw_config_parse(hw_config *cfg, const char *yaml, size_t len, const char *path,
                           wk_err *err);
/* The one report of a libyaml parse failure shared by every YAML reader (cluster, model,
 * tenants): "path:line:col: error: malformed YAML: <problem> [<context>]". libyaml gives reader
 * (encoding) errors -- invalid UTF-8, control bytes such as NUL -- only as a byte offset
 * (problem_offset), with problem_mark left at 0:0; for those the position is recomputed from
 * text[0, len) (see config.c). p is a libyaml yaml_parser_t whose load/parse just failed
 * (declared by tag so this header does not pull in yaml.h). Returns the code set (WK_EPARSE). */
struct yaml_parser_s;
wk_errcode hw_yaml_error(const struct yaml_parser_s *p, const char *text, size_t len,
                         const char *path, wk_err *err);
/* Loads YAML text[0, len) into *doc (a libyaml yaml_document_t, which the caller deletes);
 * a parse failure is reported through hw_yaml_error and leaves nothing to delete. */
struct yaml_document_s;
wk_errcode hw_yaml_load(const char *text, size_t len, const char *path,
                        struct yaml_document_s *doc, wk_err *err);
/* Applies "key=value,key=value" tweaks (see docs/cluster-format.md). WK_EUNKNOWN_KEY for an
 * unknown key, and for a key the tweaked cluster's shape ignores (oversubscription on the top
 * tier or on explicit ports, dragonfly keys on a Clos, ...): a tweak that would change nothing. */
wk_errcode hw_config_tweak(hw_config *cfg, const char *tweaks, wk_err *err);
/* Checks sizes and that the fabric can hold the cluster; errors name the fix. */
wk_errcode hw_config_check(const hw_config *cfg, const char *path, wk_err *err);
/* Resolves "NAME[:k=v,...]" (a built-in preset) or "FILE.yaml[:k=v,...]" into cfg. A cluster
 * the tweaks break (while the file alone holds together) is reported without a file position,
 * naming the tweak whose removal mends it (else all of them): "cluster tweak 'nodes=7' on
 * zhengzhou-60k: 56 cards do not fill whole supernodes of 640: ...". */
wk_errcode hw_config_load(hw_config *cfg, const char *spec, wk_err *err);

/* Built-in presets, embedded from the presets folder at build time; NULL-terminated. */
typedef struct hw_preset {
  const char *name;
  const char *yaml;
  size_t len;
} hw_preset;
extern const hw_preset hw_presets[];
const hw_preset *hw_preset_find(const char *name); /* NULL if unknown */

/* ---- the built cluster (opaque) ---- */
typedef struct hw_cluster hw_cluster;
/* Builds the model. Refuses (WK_ECAPACITY, before allocating) a model larger than
 * wk_memory_limit(). NULL + err on a bad config. O(links). */
hw_cluster *hw_build(const hw_config *cfg, wk_err *err);
hw_cluster *hw_load(const char *spec, wk_err *err);      /* hw_config_load + hw_build */
void hw_free(hw_cluster *c);                             /* NULL is a no-op */

const hw_config *hw_cfg(const hw_cluster *c); /* borrowed */
uint32_t hw_cards(const hw_cluster *c);
uint32_t hw_nodes(const hw_cluster *c);
uint32_t hw_supernodes(const hw_cluster *c);
size_t hw_memory_bytes(const hw_cluster *c); /* bytes the model holds */

/* Links: dense ids [0, hw_nlinks). Capacities in bytes/s per direction, latencies in s.
 * The arrays are borrowed; hw_link_capacity_mut lets a failure model set a link to 0. */
typedef enum hw_link_kind {
  HW_LINK_SCALEUP,   /* card <-> supernode bus (or mesh link) */
  HW_LINK_NIC,       /* NIC <-> first switch / router */
  HW_LINK_FABRIC,    /* Clos switch <-> switch; tier in hw_link_tier */
  HW_LINK_LOCAL,     /* dragonfly router <-> router inside a group */
  HW_LINK_GLOBAL,    /* dragonfly group <-> group */
  HW_LINK_TORUS,     /* torus neighbour */
  HW_LINK_KINDS
} hw_link_kind;
uint32_t hw_nlinks(const hw_cluster *c);
const double *hw_link_capacity(const hw_cluster *c);
double *hw_link_capacity_mut(hw_cluster *c);
const float *hw_link_latency(const hw_cluster *c);
hw_link_kind hw_link_kind_of(const hw_cluster *c, uint32_t link);
int hw_link_tier(const hw_cluster *c, uint32_t link); /* Clos: 1 = leaf uplink, 2 = spine up.. */
const char *hw_link_kind_name(hw_link_kind k);
/* Human-readable description of a link, e.g. "leaf 12 -> spine 3 (tier 1 up)". */
const char *hw_link_describe(const hw_cluster *c, uint32_t link, char *buf, size_t n);

/* The directed links into and out of switch `index` of Clos tier `tier` (1 = leaves): OUT
 * out[0, min(n, max)), returns n, or -1 when the cluster has no such switch (or is not a Clos).
 * O(links). For fault injection. */
int hw_switch_links(const hw_cluster *c, int tier, uint32_t index, uint32_t *out, uint32_t max);
/* The links among which ECMP chooses where `link` is one choice (the up, or down, links of the
 * same Clos switch and tier); other links: itself. OUT out[0, min(n, max)); returns n. */
int hw_link_siblings(const hw_cluster *c, uint32_t link, uint32_t *out, uint32_t max);
/* The cards whose NICs connect to Clos leaf `leaf` (0 .. leaves-1): OUT out[0, min(n, max)),
 * returns n (a card with several NICs on the leaf appears once per NIC), -1 for no such leaf.
 * O(NIC endpoints). */
int hw_leaf_cards(const hw_cluster *c, uint32_t leaf, uint32_t *out, uint32_t max);
/* The link that runs the other way on the same cable. O(1) for Clos and scale-up switches. */
uint32_t hw_link_reverse(const hw_cluster *c, uint32_t link);

/* The two vertices a directed link joins (OUT: from, to). Vertices: cards are [0, cards);
 * switches, buses and routers follow. For checking that routes are connected paths. O(1). */
void hw_link_ends(const hw_cluster *c, uint32_t link, uint32_t *from, uint32_t *to);

/* Routing. salt selects among equal-cost paths (flows of one pair with different salts may
 * take different spines, as NCCL's multiple channels do). src != dst. O(tiers) per call. */
typedef struct hw_route {
  uint32_t n;
  uint32_t link[HW_ROUTE_MAX];
  double latency_s; /* sum of link latencies */
} hw_route;
void hw_route_salted(const hw_cluster *c, uint32_t src_card, uint32_t dst_card, uint64_t salt,
                     hw_route *out);
/* The same links, avoiding those out of service (bit l of down[l / 64] set: a failed cable or
 * switch): each ECMP choice of a Clos moves to the next live link of the switch; other fabrics
 * route as always (a route over a dead link is dead). down NULL: every link in service. The
 * links only: out->latency_s is 0 (for the replay's fabric, which lays thousands a job). */
void hw_route_live(const hw_cluster *c, uint32_t src_card, uint32_t dst_card, uint64_t salt,
                   const uint64_t *down, hw_route *out);
/* When cards s and d share a scale-up domain, their route there (OUT out, no latency: as
 * hw_route_live gives it for any salt) and 1; else 0. */
int hw_route_scaleup(const hw_cluster *c, uint32_t s, uint32_t d, hw_route *out);
/* Whether cards s and d share a scale-up domain (hw_route_scaleup's test alone). */
int hw_same_scaleup(const hw_cluster *c, uint32_t s, uint32_t d);
/* hw_route_live for n salts at once (out[0, n)): on a Clos of one NIC a card, the leaves and
 * tiers are found once for all of them. Returns how many routes it wrote: n, or 1 when every
 * salt takes the same one (cards on one leaf: out[0] alone). */
int hw_route_live_n(const hw_cluster *c, uint32_t src_card, uint32_t dst_card, const uint64_t *salt,
                    int n, const uint64_t *down, hw_route *out);
static inline void hw_route_cards(const hw_cluster *c, uint32_t s, uint32_t d, hw_route *out) {
  hw_route_salted(c, s, d, 0, out);
}
#define hw_route(c, s, d, out) hw_route_cards((c), (s), (d), (out))

/* Hierarchy for placement and analytic costs. Domains of a level are contiguous card ranges
 * of hw_level_cards() cards (the last may be partial). */
typedef enum hw_level {
  HW_LEVEL_NODE,
  HW_LEVEL_SUPERNODE, /* scale-up domain */
  HW_LEVEL_LEAF,      /* cards under one leaf (ToR) or one rail group (rail-optimized) */
  HW_LEVEL_POD,       /* cards under one tier-2 block (Clos), one group (dragonfly) */
  HW_LEVEL_CLUSTER,
  HW_LEVELS
} hw_level;
const char *hw_level_name(hw_level l);
uint32_t hw_level_cards(const hw_cluster *c, hw_level l);   /* cards per domain */
uint32_t hw_level_domains(const hw_cluster *c, hw_level l); /* number of domains */
static inline uint32_t hw_domain_of(const hw_cluster *c, hw_level l, uint32_t card) {
  return card / hw_level_cards(c, l);
}
/* The smallest level whose domain holds both cards. */
hw_level hw_common_level(const hw_cluster *c, uint32_t a, uint32_t b);
/* Bandwidth one card can sustain to cards outside its domain at level l while every card of
 * the domain does the same (bytes/s per direction): scale-up inside a supernode, NICs
 * divided by the oversubscription of each tier crossed beyond. */
double hw_level_card_bw(const hw_cluster *c, hw_level l);
/* One-way latency (s) of a message between two cards whose common level is l. */
double hw_level_latency(const hw_cluster *c, hw_level l);

/* Summary for `wanka cluster show`. */
typedef struct hw_summary {
  uint32_t cards, nodes, supernodes;
  uint64_t switches;
  int switch_tiers;                     /* entries used in switches_per_tier */
  uint64_t switches_per_tier[HW_MAX_TIERS];
  uint64_t links;                       /* directed links */
  uint64_t cables;                      /* physical links (two directions each) */
  double peak_bf16_flops, peak_fp8_flops, hbm_bytes, hbm_bytes_per_s;
  double bisection_bytes_per_s;         /* one direction, worst balanced cut */
} hw_summary;
void hw_summarize(const hw_cluster *c, hw_summary *out);

/* Writes a Slurm topology.conf (topology/tree) describing the fabric: leaves (a rail group as
 * one switch), supernodes (scale-up domains) and pods, each level kept where it nests in the
 * next, then a top switch. Node names are <prefix><index>. Returns 0, or -1 on a write error. */
int hw_export_slurm(const hw_cluster *c, FILE *f, const char *node_prefix);
/* The same as topology/block (Slurm 23.11+, the form for NVL72-like racks): one BlockName per
 * scale-up domain (per leaf where the domain is a single node), and BlockSizes the base block
 * and its aggregates of 2, 4, 8, ... blocks up to the cluster. */
int hw_export_slurm_block(const hw_cluster *c, FILE *f, const char *node_prefix);

#endif
