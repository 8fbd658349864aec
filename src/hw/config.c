/* config.c — cluster files: YAML (libyaml, every error with path:line:col) and command-line
 * tweaks ("dgx-a100:nodes=1536") into an hw_config. One table of keys serves both, so a key
 * that works in a file works as a tweak, with the same unit and the same checks. */
#include "hw.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef enum { K_INT, K_I64, K_DOUBLE, K_BOOL, K_STR, K_TOPO, K_SCALEUP } ktype;

typedef struct key {
  const char *path; /* dotted path in the YAML file; "#" stands for a tier number 1..4 */
  ktype type;
  size_t off;  /* offset in hw_config (or in hw_tier for tier keys) */
  double scale; /* file unit -> SI */
  double min;   /* smallest valid value (inclusive) */
  int positive; /* 1: value must be > min, 0: >= min */
} key;

#define C(f) offsetof(hw_config, f)
#define T(f) offsetof(hw_tier, f)
static const key keys[] = {
    {"name", K_STR, C(name), 1, 0, 0},
    {"description", K_STR, C(description), 1, 0, 0},
    {"nodes", K_I64, C(nodes), 1, 0, 1},
    {"accelerator.name", K_STR, C(accel.name), 1, 0, 0},
    {"accelerator.bf16_tflops", K_DOUBLE, C(accel.bf16_flops), 1e12, 0, 1},
    {"accelerator.fp16_tflops", K_DOUBLE, C(accel.fp16_flops), 1e12, 0, 1},
    {"accelerator.fp8_tflops", K_DOUBLE, C(accel.fp8_flops), 1e12, 0, 1},
    {"accelerator.hbm_gib", K_DOUBLE, C(accel.hbm_bytes), 1073741824.0, 0, 1},
    {"accelerator.hbm_tbytes_per_s", K_DOUBLE, C(accel.hbm_bytes_per_s), 1e12, 0, 1},
    {"accelerator.flash2_fwd_tflops", K_DOUBLE, C(accel.flash2_fwd_flops), 1e12, 0, 1},
    {"accelerator.flash2_bwd_tflops", K_DOUBLE, C(accel.flash2_bwd_flops), 1e12, 0, 1},
    {"accelerator.flash3_fwd_tflops", K_DOUBLE, C(accel.flash3_fwd_flops), 1e12, 0, 1},
    {"accelerator.flash3_bwd_tflops", K_DOUBLE, C(accel.flash3_bwd_flops), 1e12, 0, 1},
    {"node.cards", K_INT, C(cards_per_node), 1, 0, 1},
    {"supernode.cards", K_INT, C(cards_per_supernode), 1, 0, 1},
    {"supernode.topology", K_SCALEUP, C(scaleup), 1, 0, 0},
    {"supernode.gbytes_per_s", K_DOUBLE, C(scaleup_bytes_per_s), 1e9, 0, 1},
    {"supernode.latency_us", K_DOUBLE, C(scaleup_latency_s), 1e-6, 0, 0},
    {"supernode.in_switch_reduction", K_BOOL, C(scaleup_reduction), 1, 0, 0},
    {"nics.per_card", K_INT, C(nics_per_card), 1, 0, 1},
    {"nics.gbits_per_s", K_DOUBLE, C(nic_bytes_per_s), 1e9 / 8, 0, 1},
    {"nics.latency_us", K_DOUBLE, C(nic_latency_s), 1e-6, 0, 0},
    {"nics.qps_per_connection", K_INT, C(nic_qps), 1, 0, 1},
    {"fabric.topology", K_TOPO, C(topology), 1, 0, 0},
    {"fabric.rail_optimized", K_BOOL, C(rail_optimized), 1, 0, 0},
    {"fabric.hop_latency_us", K_DOUBLE, C(hop_latency_s), 1e-6, 0, 0},
    {"fabric.link_gbits_per_s", K_DOUBLE, C(link_bytes_per_s), 1e9 / 8, 0, 1},
    {"fabric.dragonfly.endpoints_per_router", K_INT, C(df_p), 1, 0, 1},
    {"fabric.dragonfly.routers_per_group", K_INT, C(df_a), 1, 0, 1},
    {"fabric.dragonfly.global_per_router", K_INT, C(df_h), 1, 0, 1},
    {"fabric.dragonfly.global_gbits_per_s", K_DOUBLE, C(df_global_bytes_per_s), 1e9 / 8, 0, 1},
    {"power.card_idle_w", K_DOUBLE, C(card_idle_w), 1, 0, 0},
    {"power.card_busy_w", K_DOUBLE, C(card_busy_w), 1, 0, 1},
    {"power.switch_idle_w", K_DOUBLE, C(switch_idle_w), 1, 0, 0},
    {"power.switch_busy_w", K_DOUBLE, C(switch_busy_w), 1, 0, 1},
    {"power.pue", K_DOUBLE, C(pue), 1, 1, 0},
};
/* Keys inside each item of fabric.tiers (a list, tier 1 = leaves). */
static const key tier_keys[] = {
    {"radix", K_INT, T(radix), 1, 1, 1},
    {"oversubscription", K_DOUBLE, T(oversubscription), 1, 0, 1},
    {"down", K_INT, T(down), 1, 0, 1},
    {"up", K_INT, T(up), 1, 0, 0},
};
#undef C
#undef T
#define NKEYS (sizeof keys / sizeof keys[0])
#define NTIER_KEYS (sizeof tier_keys / sizeof tier_keys[0])

/* Short names for tweaks; each expands to a list of full paths. */
typedef struct alias {
  const char *name;
  const char *paths[HW_MAX_TIERS + 1];
} alias;
static const alias aliases[] = {
    {"oversubscription", {"fabric.tiers.1.oversubscription"}},
    {"radix", {"fabric.tiers.1.radix", "fabric.tiers.2.radix", "fabric.tiers.3.radix",
               "fabric.tiers.4.radix"}},
    {"cards_per_node", {"node.cards"}},
    {"supernode_cards", {"supernode.cards"}},
    {"nics_per_card", {"nics.per_card"}},
    {"nic_gbps", {"nics.gbits_per_s"}},
    {"qps", {"nics.qps_per_connection"}},
    {"scaleup_gbytes_per_s", {"supernode.gbytes_per_s"}},
    {"rail_optimized", {"fabric.rail_optimized"}},
    {"bf16_tflops", {"accelerator.bf16_tflops"}},
    {"hbm_gib", {"accelerator.hbm_gib"}},
};

static void defaults(hw_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->nics_per_card = 1;
  cfg->nic_qps = 1;
  cfg->scaleup_latency_s = 0.5e-6;
  cfg->nic_latency_s = 1.0e-6;
  cfg->hop_latency_s = 0.5e-6;
  cfg->scaleup = HW_SCALEUP_SWITCH;
  cfg->topology = HW_TOPO_CLOS;
  for (int t = 0; t < HW_MAX_TIERS; t++) cfg->tiers[t].oversubscription = 1;
}

static int parse_bool(const char *v, int *out) {
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) *out = 1;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
    *out = 0;
  else return -1;
  return 0;
}

/* Stores value v for key k at base; on a bad value fills msg with the reason and the fix. */
static int store(const key *k, void *base, const char *name, const char *v, char *msg,
                 size_t n) {
  char *p = (char *)base + k->off;
  double d;
  int64_t i;
  switch (k->type) {
  case K_STR:
    snprintf(p, k->off == offsetof(hw_config, description) ? 256 : 64, "%s", v);
    return 0;
  case K_BOOL:
    if (parse_bool(v, (int *)p)) {
      snprintf(msg, n, "'%s' must be true or false, not '%s'", name, v);
      return -1;
    }
    return 0;
  case K_TOPO:
    if (!strcmp(v, "clos") || !strcmp(v, "fat-tree")) *(hw_topology *)p = HW_TOPO_CLOS;
    else if (!strcmp(v, "dragonfly")) *(hw_topology *)p = HW_TOPO_DRAGONFLY;
    else if (!strcmp(v, "torus")) *(hw_topology *)p = HW_TOPO_TORUS;
    else {
      snprintf(msg, n, "'%s' must be clos, dragonfly or torus, not '%s'", name, v);
      return -1;
    }
    return 0;
  case K_SCALEUP:
    if (!strcmp(v, "switch")) *(hw_scaleup *)p = HW_SCALEUP_SWITCH;
    else if (!strcmp(v, "mesh")) *(hw_scaleup *)p = HW_SCALEUP_MESH;
    else {
      snprintf(msg, n, "'%s' must be switch or mesh, not '%s'", name, v);
      return -1;
    }
    return 0;
  case K_INT:
  case K_I64:
    if (wk_parse_i64(v, &i) || (k->positive ? i <= (int64_t)k->min : i < (int64_t)k->min) ||
        (k->type == K_INT && i > 1000000000) || i > 4000000000LL) {
      snprintf(msg, n, "'%s' must be a whole number %s %g, not '%s'", name,
               k->positive ? ">" : ">=", k->min, v);
      return -1;
    }
    if (k->type == K_INT) *(int *)p = (int)i;
    else *(int64_t *)p = i;
    return 0;
  case K_DOUBLE:
    if (wk_parse_double(v, &d) || (k->positive ? d <= k->min : d < k->min) || d > 1e15) {
      snprintf(msg, n, "'%s' must be a number %s %g, not '%s'", name, k->positive ? ">" : ">=",
               k->min, v);
      return -1;
    }
    *(double *)p = d * k->scale;
    return 0;
  }
  return -1;
}

/* Sets the key at a full dotted path. Returns 0, 1 for an unknown key, -1 for a bad value. */
static int set_path(hw_config *cfg, const char *path, const char *v, char *msg, size_t n) {
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(keys[i].path, path)) return store(&keys[i], cfg, path, v, msg, n);
  int t, used = 0;
  if (sscanf(path, "fabric.tiers.%d.%n", &t, &used) == 1 && used > 0) {
    if (t < 1 || t > HW_MAX_TIERS) {
      snprintf(msg, n, "tier %d does not exist: tiers are numbered 1..%d", t, HW_MAX_TIERS);
      return -1;
    }
    for (size_t i = 0; i < NTIER_KEYS; i++)
      if (!strcmp(tier_keys[i].path, path + used)) {
        if (t > cfg->ntiers) cfg->ntiers = t;
        return store(&tier_keys[i], &cfg->tiers[t - 1], path, v, msg, n);
      }
  }
  if (sscanf(path, "fabric.torus.dims.%d%n", &t, &used) == 1 && path[used] == 0) {
    if (t < 1 || t > 3) {
      snprintf(msg, n, "a torus has 2 or 3 dimensions");
      return -1;
    }
    int64_t d;
    if (wk_parse_i64(v, &d) || d < 2 || d > 64) {
      snprintf(msg, n, "torus dimension must be a whole number from 2 to 64, not '%s'", v);
      return -1;
    }
    cfg->torus_dims[t - 1] = (int)d;
    if (t > cfg->torus_ndims) cfg->torus_ndims = t;
    return 0;
  }
  return 1;
}

/* ---- YAML ---- */
typedef struct walk {
  hw_config *cfg;
  yaml_document_t *doc;
  const char *path;
  wk_err *err;
  int nerr;
} walk;

/* Every error is counted; the first is kept, as the rest often follow from it (libyaml's marks
 * count from 0, ours from 1). */
#define yerr(w, nd, code, ...)                                                                   \
  wk_err_first((w)->err, &(w)->nerr, (code), (w)->path, (int)(nd)->start_mark.line + 1,         \
               (int)(nd)->start_mark.column + 1, __VA_ARGS__)

static void walk_node(walk *w, yaml_node_t *nd, char *path, size_t plen, size_t cap);

static void walk_mapping(walk *w, yaml_node_t *nd, char *path, size_t plen, size_t cap) {
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
    if (!k || k->type != YAML_SCALAR_NODE) {
      yerr(w, k ? k : nd, WK_EPARSE, "keys must be plain words");
      continue;
    }
    const char *name = (const char *)k->data.scalar.value;
    /* A key repeated in one mapping would silently win: refuse it. */
    for (yaml_node_pair_t *q = nd->data.mapping.pairs.start; q < p; q++) {
      yaml_node_t *kq = yaml_document_get_node(w->doc, q->key);
      if (kq && kq->type == YAML_SCALAR_NODE && !strcmp((const char *)kq->data.scalar.value, name))
        yerr(w, k, WK_EVALUE, "duplicate key '%s': remove one of the two", name);
    }
    int n = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", name);
    if (n < 0 || (size_t)n >= cap - plen) {
      yerr(w, k, WK_EPARSE, "key path too long at '%s'", name);
      continue;
    }
    if (plen == 0) { /* remember where sections start, for errors found after parsing */
      int l = (int)k->start_mark.line + 1, c = (int)k->start_mark.column + 1;
      if (!strcmp(name, "nodes")) w->cfg->line_nodes = l, w->cfg->col_nodes = c;
      if (!strcmp(name, "fabric")) w->cfg->line_fabric = l, w->cfg->col_fabric = c;
      if (!strcmp(name, "supernode")) w->cfg->line_supernode = l, w->cfg->col_supernode = c;
    }
    walk_node(w, v, path, plen + (size_t)n, cap);
    path[plen] = 0;
  }
}

static void walk_node(walk *w, yaml_node_t *nd, char *path, size_t plen, size_t cap) {
  char msg[400];
  if (nd->type == YAML_MAPPING_NODE) {
    walk_mapping(w, nd, path, plen, cap);
    return;
  }
  if (nd->type == YAML_SEQUENCE_NODE) {
    int is_tiers = !strcmp(path, "fabric.tiers"), is_dims = !strcmp(path, "fabric.torus.dims");
    if (!is_tiers && !is_dims) {
      yerr(w, nd, WK_EUNKNOWN_KEY, "'%s' is not a list: see docs/cluster-format.md", path);
      return;
    }
    int i = 0;
    for (yaml_node_item_t *it = nd->data.sequence.items.start; it < nd->data.sequence.items.top;
         it++, i++) {
      if (i >= (is_tiers ? HW_MAX_TIERS : 3)) {
        yerr(w, nd, WK_ERANGE, "'%s' has too many entries (at most %s)", path,
             is_tiers ? "4 tiers" : "3 dimensions");
        return;
      }
      int n = snprintf(path + plen, cap - plen, ".%d", i + 1);
      walk_node(w, yaml_document_get_node(w->doc, *it), path, plen + (size_t)n, cap);
      path[plen] = 0;
    }
    if (is_tiers) w->cfg->ntiers = i;
    return;
  }
  if (nd->type != YAML_SCALAR_NODE) return;
  const char *v = (const char *)nd->data.scalar.value;
  int r = set_path(w->cfg, path, v, msg, sizeof msg);
  if (r > 0) yerr(w, nd, WK_EUNKNOWN_KEY, "unknown key '%s' (the keys are listed in docs/cluster-format.md)", path);
  else if (r < 0) yerr(w, nd, WK_EVALUE, "%s", msg);
}

/* Line and column (1-based) of byte offset off in text, counted the way libyaml counts its
 * marks so reader errors and syntax errors agree: the column is in characters (UTF-8 lead
 * bytes; continuation bytes 10xxxxxx are not counted), a leading UTF-8 BOM is not counted,
 * and "\r\n", "\r" and "\n" each end a line. Assumes UTF-8 input (libyaml also reads
 * UTF-16; there the column would be in bytes). O(off). */
static void offset_to_line_col(const char *text, size_t len, size_t off, int *line, int *col) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0, end = off < len ? off : len;
  long ln = 1, cl = 1;
  if (end >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) i = 3;
  for (; i < end; i++) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
      ln++;
      cl = 1;
    } else if (s[i] != '\r' && (s[i] & 0xC0) != 0x80) {
      cl++;
    }
  }
  *line = ln > 1000000000 ? 1000000000 : (int)ln;
  *col = cl > 1000000000 ? 1000000000 : (int)cl;
}

wk_errcode hw_yaml_error(const struct yaml_parser_s *p, const char *text, size_t len,
                         const char *path, wk_err *err) {
  const char *problem = p->problem ? p->problem : "syntax error";
  if (p->error == YAML_READER_ERROR) {
    int line, col;
    offset_to_line_col(text, len, p->problem_offset, &line, &col);
    char what[32] = "";
    /* problem_value is the offending byte for the UTF-8 octet errors, a code point for
     * "control characters are not allowed" / "invalid Unicode character", -1 when none */
    if (p->problem_value >= 0 && strstr(problem, "octet"))
      snprintf(what, sizeof what, " (byte 0x%02X)", (unsigned)p->problem_value & 0xFFu);
    else if (p->problem_value >= 0)
      snprintf(what, sizeof what, " (U+%04X)", (unsigned)p->problem_value);
    return wk_err_set(err, WK_EPARSE, path, line, col, "malformed YAML: %s%s", problem, what);
  }
  return wk_err_set(err, WK_EPARSE, path, (int)p->problem_mark.line + 1,
                    (int)p->problem_mark.column + 1, "malformed YAML: %s%s%s", problem,
                    p->context ? " " : "", p->context ? p->context : "");
}

wk_errcode hw_yaml_load(const char *text, size_t len, const char *path,
                        struct yaml_document_s *doc, wk_err *err) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return wk_err_set(err, WK_EIO, path, 0, 0, "libyaml init failed");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  wk_errcode c =
      yaml_parser_load(&parser, doc) ? WK_OK : hw_yaml_error(&parser, text, len, path, err);
  yaml_parser_delete(&parser);
  return c;
}

wk_errcode hw_config_parse(hw_config *cfg, const char *yaml, size_t len, const char *path,
                           wk_err *err) {
  defaults(cfg);
  yaml_document_t doc;
  wk_errcode rc = hw_yaml_load(yaml, len, path, &doc, err);
  if (rc) return rc;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    rc = wk_err_set(err, WK_EPARSE, path, 1, 1, "empty cluster file: it needs at least "
                    "accelerator, node, nodes and fabric (see docs/cluster-format.md)");
  } else if (root->type != YAML_MAPPING_NODE) {
    rc = wk_err_set(err, WK_EPARSE, path, (int)root->start_mark.line + 1,
                    (int)root->start_mark.column + 1,
                    "a cluster file is a mapping of keys (name:, nodes:, ...), not a %s",
                    root->type == YAML_SEQUENCE_NODE ? "list" : "single value");
  } else {
    char buf[256] = "";
    walk w = {cfg, &doc, path, err, 0};
    walk_mapping(&w, root, buf, 0, sizeof buf);
    if (w.nerr) rc = err ? err->code : WK_EPARSE;
  }
  yaml_document_delete(&doc);
  if (rc == WK_OK && !cfg->cards_per_supernode) cfg->cards_per_supernode = cfg->cards_per_node;
  return rc;
}

static const char *topology_word(hw_topology t) {
  return t == HW_TOPO_DRAGONFLY ? "a dragonfly" : t == HW_TOPO_TORUS ? "a torus" : "a Clos";
}

/* Why setting `path` changes nothing on cfg, the cluster as every tweak left it (a key its
 * shape ignores), into why; 0 when the key counts. */
static int path_ignored(const hw_config *cfg, const char *path, char *why, size_t n) {
  int t, used = 0;
  if (sscanf(path, "fabric.tiers.%d.%n", &t, &used) == 1 && used > 0 && t >= 1 &&
      t <= HW_MAX_TIERS) {
    const char *k = path + used;
    const hw_tier *tr = &cfg->tiers[t - 1];
    int top = t == cfg->ntiers;
    if (cfg->topology != HW_TOPO_CLOS) {
      snprintf(why, n, "the fabric is %s, which has no tiers", topology_word(cfg->topology));
      return 1;
    }
    if (!strcmp(k, "oversubscription") && top) {
      if (t > 1)
        snprintf(why, n, "tier %d is the top tier: it has no up ports to oversubscribe (only "
                 "tiers 1 to %d take oversubscription)", t, t - 1);
      else
        snprintf(why, n, "tier 1 is the only tier: it has no up ports to oversubscribe");
      return 1;
    }
    if (!strcmp(k, "oversubscription") && tr->down > 0) {
      long up = lround(tr->down / (tr->oversubscription > 0 ? tr->oversubscription : 1));
      snprintf(why, n, "tier %d gives its ports explicitly (down %d, up %d), which override "
               "oversubscription: set fabric.tiers.%d.up instead (fabric.tiers.%d.up=%ld is about "
               "%g:1)", t, tr->down, tr->up, t, t, up < 1 ? 1 : up, tr->oversubscription);
      return 1;
    }
    if (!strcmp(k, "radix") && tr->down > 0) {
      snprintf(why, n, "tier %d gives its ports explicitly (down %d, up %d), which override "
               "radix: set fabric.tiers.%d.down and fabric.tiers.%d.up instead", t, tr->down,
               tr->up, t, t);
      return 1;
    }
    if (!strcmp(k, "up") && top) {
      snprintf(why, n, "tier %d is the top tier: it has no up ports", t);
      return 1;
    }
    if (!strcmp(k, "up") && tr->down <= 0) {
      snprintf(why, n, "tier %d takes its ports from its radix (%d): 'up' counts only beside "
               "'down' (set fabric.tiers.%d.down too)", t, tr->radix, t);
      return 1;
    }
    return 0;
  }
  if (!strcmp(path, "fabric.rail_optimized") && cfg->topology != HW_TOPO_CLOS) {
    snprintf(why, n, "the fabric is %s: only a Clos has rail-optimized leaves",
             topology_word(cfg->topology));
    return 1;
  }
  if (!strncmp(path, "fabric.dragonfly.", 17) && cfg->topology != HW_TOPO_DRAGONFLY) {
    snprintf(why, n, "the fabric is %s, not a dragonfly (set fabric.topology=dragonfly too)",
             topology_word(cfg->topology));
    return 1;
  }
  if (!strncmp(path, "fabric.torus.", 13) && cfg->topology != HW_TOPO_TORUS) {
    snprintf(why, n, "the fabric is %s, not a torus (set fabric.topology=torus too)",
             topology_word(cfg->topology));
    return 1;
  }
  if (!strncmp(path, "supernode.", 10) && strcmp(path, "supernode.cards") &&
      cfg->cards_per_supernode == 1 && cfg->cards_per_node == 1) {
    snprintf(why, n, "a scale-up domain of one card has no bus (raise supernode.cards first)");
    return 1;
  }
  return 0;
}

/* The same for a tweak's key as typed: a short name stands for its paths and is ignored only
 * when all of them are ("radix" counts when any tier uses its radix). */
static int key_ignored(const hw_config *cfg, const char *name, char *why, size_t n) {
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    if (strcmp(aliases[i].name, name)) continue;
    int paths = 0;
    for (int k = 0; aliases[i].paths[k]; k++) {
      int t;
      if (sscanf(aliases[i].paths[k], "fabric.tiers.%d", &t) == 1 && aliases[i].paths[1] &&
          t > cfg->ntiers)
        break;
      if (!path_ignored(cfg, aliases[i].paths[k], why, n)) return 0;
      paths++;
    }
    return paths > 0;
  }
  return path_ignored(cfg, name, why, n);
}

wk_errcode hw_config_tweak(hw_config *cfg, const char *tweaks, wk_err *err) {
  char buf[1024], msg[400];
  if (strlen(tweaks) >= sizeof buf)
    return wk_err_set(err, WK_EUSAGE, "", 0, 0, "cluster tweaks too long");
  snprintf(buf, sizeof buf, "%s", tweaks);
  int64_t supernodes = 0;
  for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv || !eq[1])
      return wk_err_set(err, WK_EUSAGE, "", 0, 0,
                        "cluster tweak '%s' must be key=value (e.g. dgx-a100:nodes=1536)", kv);
    *eq = 0;
    const char *k = kv, *v = eq + 1;
    if (!strcmp(k, "supernodes")) { /* resize by whole scale-up domains */
      if (wk_parse_i64(v, &supernodes) || supernodes <= 0 || supernodes > 100000000)
        return wk_err_set(err, WK_EVALUE, "", 0, 0, "'supernodes' must be a whole number > 0, not '%s'", v);
      continue;
    }
    const alias *a = NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
      if (!strcmp(aliases[i].name, k)) a = &aliases[i];
    int r = 1;
    if (a) {
      for (int i = 0; a->paths[i]; i++) {
        /* "radix" only touches the tiers the fabric has */
        int t;
        if (sscanf(a->paths[i], "fabric.tiers.%d", &t) == 1 && a->paths[1] && t > cfg->ntiers) break;
        if ((r = set_path(cfg, a->paths[i], v, msg, sizeof msg)) != 0) break;
      }
    } else {
      r = set_path(cfg, k, v, msg, sizeof msg);
    }
    if (r > 0)
      return wk_err_set(err, WK_EUNKNOWN_KEY, "", 0, 0,
                        "unknown cluster key '%s' (try nodes, supernodes, oversubscription, "
                        "radix, nic_gbps, rail_optimized, or a full path such as "
                        "fabric.tiers.2.oversubscription; see docs/cluster-format.md)", k);
    if (r < 0) return wk_err_set(err, WK_EVALUE, "", 0, 0, "%s", msg);
  }
  if (supernodes) {
    if (cfg->cards_per_node <= 0 || cfg->cards_per_supernode % cfg->cards_per_node)
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "cannot resize by supernodes: supernode.cards is not a multiple of node.cards");
    cfg->nodes = supernodes * (cfg->cards_per_supernode / cfg->cards_per_node);
  }
  /* A key the cluster's final shape ignores would change nothing but the name the answer is
   * reported under: refused, so a what-if never silently answers another question. */
  snprintf(buf, sizeof buf, "%s", tweaks);
  for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    *eq = 0; /* every item was checked to be key=value above */
    if (key_ignored(cfg, kv, msg, sizeof msg))
      return wk_err_set(err, WK_EUNKNOWN_KEY, "", 0, 0, "cluster tweak '%s=%s' changes nothing: %s",
                        kv, eq + 1, msg);
  }
  return WK_OK;
}

const hw_preset *hw_preset_find(const char *name) {
  for (const hw_preset *p = hw_presets; p->name; p++)
    if (!strcmp(p->name, name)) return p;
  return NULL;
}

static char *read_file(const char *path, size_t *len, wk_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    wk_err_set(err, WK_EIO, path, 0, 0, "cannot open cluster file (not a preset name either; "
               "'wanka cluster list' shows the presets)");
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = wk_malloc(cap);
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (n < cap - 1) break;
    if (cap >= (64u << 20)) {
      fclose(f);
      wk_free(buf);
      wk_err_set(err, WK_ECAPACITY, path, 0, 0, "cluster file larger than 64 MiB");
      return NULL;
    }
    cap *= 2;
    buf = wk_realloc(buf, cap);
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    wk_free(buf);
    wk_err_set(err, WK_EIO, path, 0, 0, "read error");
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

wk_errcode hw_config_load(hw_config *cfg, const char *spec, wk_err *err) {
  char name[1024];
  if (!spec || !*spec) return wk_err_set(err, WK_EUSAGE, "", 0, 0, "no cluster named (give a preset such as zhengzhou-60k, or a YAML file)");
  snprintf(name, sizeof name, "%s", spec);
  char *colon = strchr(name, ':');
  const char *tweaks = NULL;
  if (colon) {
    *colon = 0;
    tweaks = colon + 1;
  }
  const hw_preset *p = hw_preset_find(name);
  wk_errcode rc;
  char where[1100];
  if (p) {
    snprintf(where, sizeof where, "presets/%s.yaml", p->name);
    rc = hw_config_parse(cfg, p->yaml, p->len, where, err);
  } else {
    size_t len = 0;
    char *text = read_file(name, &len, err);
    if (!text) return err ? err->code : WK_EIO;
    snprintf(where, sizeof where, "%s", name);
    rc = hw_config_parse(cfg, text, len, name, err);
    wk_free(text);
  }
  if (rc) return rc;
  if (!tweaks) return hw_config_check(cfg, where, err);
  hw_config base = *cfg;
  if ((rc = hw_config_tweak(cfg, tweaks, err))) return rc;
  if (!(rc = hw_config_check(cfg, where, err))) return WK_OK;
  /* The tweaked cluster does not hold together. When the file alone does, the tweaks broke it:
   * the error names the tweak (the one whose removal mends it, else all of them), not a line
   * of a preset's YAML the user never wrote. */
  wk_err whole;
  if (hw_config_check(&base, where, &whole)) return rc; /* the file's own fault: at its line */
  char blame[1024] = "", items[1024], rest[1024];
  int nitems = 0, culprits = 0;
  snprintf(items, sizeof items, "%s", tweaks);
  for (char *save = NULL, *kv = strtok_r(items, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
    nitems++;
  for (int skip = 0; skip < nitems && nitems > 1; skip++) {
    size_t k = 0;
    int i = 0;
    const char *culprit = NULL;
    snprintf(items, sizeof items, "%s", tweaks);
    rest[0] = 0;
    for (char *save = NULL, *kv = strtok_r(items, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save), i++) {
      if (i == skip) culprit = kv;
      else k += (size_t)snprintf(rest + k, sizeof rest - k, "%s%s", k ? "," : "", kv);
    }
    hw_config trial = base;
    wk_err e2;
    if (!hw_config_tweak(&trial, rest, &e2) && !hw_config_check(&trial, where, &e2) && culprit) {
      if (!culprits++) snprintf(blame, sizeof blame, "%s", culprit);
      else culprits = 2;
    }
  }
  char why[sizeof err->msg];
  snprintf(why, sizeof why, "%s", err ? err->msg : "");
  if (culprits == 1)
    return wk_err_set(err, rc, "", 0, 0, "cluster tweak '%s' on %s: %s", blame, name, why);
  return wk_err_set(err, rc, "", 0, 0, "cluster tweak%s '%s' on %s: %s", nitems > 1 ? "s" : "",
                    tweaks, name, why);
}
