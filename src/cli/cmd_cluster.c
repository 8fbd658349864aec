/* cmd_cluster.c — `wanka cluster show|list|export`: the cluster model as a person reads it,
 * as JSON for tools (stable keys), and as a Slurm topology.conf for operators. */
#include "cli.h"
#include "hw/hw.h"

#include <jansson.h>
#include <string.h>

/* Options of one invocation: a local, so two calls in one process never share state. */
typedef struct cluster_opts {
  int json, slurm, block;
  const char *out, *node_prefix;
} cluster_opts;

static const char *topo_name(const hw_config *cfg) {
  switch (cfg->topology) {
  case HW_TOPO_CLOS: return cfg->rail_optimized ? "rail-optimized Clos" : "Clos (ToR)";
  case HW_TOPO_DRAGONFLY: return "dragonfly";
  case HW_TOPO_TORUS: return cfg->torus_ndims == 3 ? "3-D torus" : "2-D torus";
  }
  return "?";
}

/* A card's scale-up bandwidth per direction: its port on the switch, or all its mesh links. */
static double scaleup_per_card(const hw_config *cfg) {
  return cfg->scaleup == HW_SCALEUP_MESH ? cfg->scaleup_bytes_per_s * (cfg->cards_per_supernode - 1)
                                         : cfg->scaleup_bytes_per_s;
}

static int show(const char *spec, const cluster_opts *o) {
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) return cli_fail_cluster(&err, spec);
  hw_summary s;
  hw_summarize(c, &s);
  const hw_config *cfg = hw_cfg(c);
  if (o->json) {
    json_t *j = json_object(), *tiers = json_array();
    json_object_set_new(j, "cluster", json_string(spec)); /* as given, tweaks included */
    json_object_set_new(j, "name", json_string(cfg->name));
    json_object_set_new(j, "cards", json_integer(s.cards));
    json_object_set_new(j, "nodes", json_integer(s.nodes));
    json_object_set_new(j, "supernodes", json_integer(s.supernodes));
    json_object_set_new(j, "in_switch_reduction", json_boolean(cfg->scaleup_reduction));
    json_object_set_new(j, "switches", json_integer((json_int_t)s.switches));
    for (int t = 0; t < s.switch_tiers; t++) json_array_append_new(tiers, json_integer((json_int_t)s.switches_per_tier[t]));
    json_object_set_new(j, "switches_per_tier", tiers);
    json_object_set_new(j, "links", json_integer((json_int_t)s.links));
    json_object_set_new(j, "peak_bf16_flops", json_real(s.peak_bf16_flops));
    json_object_set_new(j, "hbm_bytes", json_real(s.hbm_bytes));
    json_object_set_new(j, "bisection_bytes_per_s", json_real(s.bisection_bytes_per_s));
    json_object_set_new(j, "cards_per_node", json_integer(cfg->cards_per_node));
    json_object_set_new(j, "cards_per_supernode", json_integer(cfg->cards_per_supernode));
    json_object_set_new(j, "topology", json_string(topo_name(cfg)));
    json_object_set_new(j, "accelerator", json_string(cfg->accel.name));
    /* the rest of what the text shows, so a script needs no second parse */
    json_object_set_new(j, "description", json_string(cfg->description));
    json_object_set_new(j, "cables", json_integer((json_int_t)s.cables));
    json_object_set_new(j, "peak_fp8_flops", json_real(s.peak_fp8_flops));
    json_object_set_new(j, "hbm_bytes_per_s", json_real(s.hbm_bytes_per_s));
    json_object_set_new(j, "bisection_share_of_injection",
                        s.supernodes > 1 ? json_real(s.bisection_bytes_per_s /
                                                     (s.cards / 2.0 * cfg->nics_per_card *
                                                      cfg->nic_bytes_per_s))
                                         : json_null());
    json_t *acc = json_object();
    json_object_set_new(acc, "name", json_string(cfg->accel.name));
    json_object_set_new(acc, "bf16_flops", json_real(cfg->accel.bf16_flops));
    json_object_set_new(acc, "fp16_flops", json_real(cfg->accel.fp16_flops > 0 ? cfg->accel.fp16_flops : cfg->accel.bf16_flops));
    json_object_set_new(acc, "fp8_flops", json_real(cfg->accel.fp8_flops > 0 ? cfg->accel.fp8_flops : cfg->accel.bf16_flops));
    json_object_set_new(acc, "hbm_bytes", json_real(cfg->accel.hbm_bytes));
    json_object_set_new(acc, "hbm_bytes_per_s", json_real(cfg->accel.hbm_bytes_per_s));
    const hw_accel *ac = &cfg->accel; /* the attention kernels' published speeds, where given */
    if (ac->flash2_fwd_flops > 0) {
      json_object_set_new(acc, "flash2_fwd_flops", json_real(ac->flash2_fwd_flops));
      json_object_set_new(acc, "flash2_bwd_flops", json_real(ac->flash2_bwd_flops));
    }
    if (ac->flash3_fwd_flops > 0) {
      json_object_set_new(acc, "flash3_fwd_flops", json_real(ac->flash3_fwd_flops));
      json_object_set_new(acc, "flash3_bwd_flops", json_real(ac->flash3_bwd_flops));
    }
    json_object_set_new(j, "card", acc);
    json_t *su = json_object();
    json_object_set_new(su, "topology", json_string(cfg->scaleup == HW_SCALEUP_MESH ? "mesh" : "switch"));
    json_object_set_new(su, "bytes_per_s_per_card", json_real(scaleup_per_card(cfg)));
    json_object_set_new(su, "latency_s", json_real(cfg->scaleup_latency_s));
    json_object_set_new(su, "in_switch_reduction", json_boolean(cfg->scaleup_reduction));
    json_object_set_new(j, "scaleup", su);
    json_t *nic = json_object();
    json_object_set_new(nic, "per_card", json_integer(cfg->nics_per_card));
    json_object_set_new(nic, "bytes_per_s", json_real(cfg->nic_bytes_per_s));
    json_object_set_new(nic, "latency_s", json_real(cfg->nic_latency_s));
    json_object_set_new(j, "nics", nic);
    json_t *dom = json_object();
    for (int l = HW_LEVEL_NODE; l < HW_LEVEL_CLUSTER; l++)
      json_object_set_new(dom, hw_level_name((hw_level)l), json_integer(hw_level_cards(c, (hw_level)l)));
    json_object_set_new(j, "domains", dom);
    cli_print_json(j, 10);
  } else {
    char a[64], b[64], d[64];
    printf("cluster      %s%s%s\n", spec, cfg->description[0] ? " — " : "", cfg->description);
    printf("accelerator  %s: %s BF16 dense, %.0f GiB HBM at %s\n", cfg->accel.name,
           wk_fmt_si(cfg->accel.bf16_flops, "FLOP/s", a, sizeof a), cfg->accel.hbm_bytes / 1073741824.0,
           wk_fmt_si(cfg->accel.hbm_bytes_per_s, "B/s", b, sizeof b));
    const hw_accel *ac = &cfg->accel;
    if (ac->flash2_fwd_flops > 0 || ac->flash3_fwd_flops > 0) {
      printf("attention    published TFLOP/s forward / backward:");
      if (ac->flash2_fwd_flops > 0)
        printf(" FlashAttention-2 %.0f / %.0f%s", ac->flash2_fwd_flops / 1e12,
               ac->flash2_bwd_flops / 1e12, ac->flash3_fwd_flops > 0 ? "," : "");
      if (ac->flash3_fwd_flops > 0)
        printf(" FlashAttention-3 %.0f / %.0f", ac->flash3_fwd_flops / 1e12,
               ac->flash3_bwd_flops / 1e12);
      printf("\n");
    }
    printf("cards        %u\n", s.cards);
    printf("nodes        %u (%d cards each)\n", s.nodes, cfg->cards_per_node);
    printf("supernodes   %u (%d cards on one %s scale-up domain, %s per card per direction%s)\n",
           s.supernodes, cfg->cards_per_supernode, cfg->scaleup == HW_SCALEUP_MESH ? "full-mesh" : "bus",
           wk_fmt_si(scaleup_per_card(cfg), "B/s", d, sizeof d),
           cfg->scaleup_reduction ? ", reduces in the switch" : "");
    printf("fabric       %s, %d x %.0f Gb/s NIC per card\n", topo_name(cfg), cfg->nics_per_card,
           cfg->nic_bytes_per_s * 8 / 1e9);
    printf("switches     %llu", (unsigned long long)s.switches);
    if (s.switch_tiers > 1) {
      printf(" (");
      for (int t = 0; t < s.switch_tiers; t++)
        printf("%stier %d: %llu", t ? ", " : "", t + 1, (unsigned long long)s.switches_per_tier[t]);
      printf(")");
    }
    printf("\nlinks        %llu directed (%llu cables)\n", (unsigned long long)s.links,
           (unsigned long long)s.cables);
    printf("peak         %s BF16, %s FP8\n", wk_fmt_si(s.peak_bf16_flops, "FLOP/s", a, sizeof a),
           wk_fmt_si(s.peak_fp8_flops, "FLOP/s", b, sizeof b));
    printf("HBM          %s total, %s aggregate bandwidth\n", wk_fmt_si(s.hbm_bytes, "B", a, sizeof a),
           wk_fmt_si(s.hbm_bytes_per_s, "B/s", b, sizeof b));
    printf("bisection    %s per direction", wk_fmt_si(s.bisection_bytes_per_s, "B/s", a, sizeof a));
    if (s.supernodes > 1) /* relative to what the NICs of half the cards inject */
      printf(" (%.0f%% of NIC injection)",
             100.0 * s.bisection_bytes_per_s / (s.cards / 2.0 * cfg->nics_per_card * cfg->nic_bytes_per_s));
    else
      printf(" (one scale-up domain: its bus plus the scale-out fabric)");
    printf("\n");
    printf("domains      ");
    for (int l = HW_LEVEL_NODE; l < HW_LEVEL_CLUSTER; l++)
      printf("%s%s %u cards", l ? ", " : "", hw_level_name((hw_level)l), hw_level_cards(c, (hw_level)l));
    printf("\n");
  }
  hw_free(c);
  return 0;
}

static int list(const cluster_opts *opt) {
  json_t *arr = opt->json ? json_array() : NULL;
  for (const hw_preset *p = hw_presets; p->name; p++) {
    hw_config cfg;
    wk_err err;
    if (hw_config_parse(&cfg, p->yaml, p->len, p->name, &err)) return cli_fail_err(&err);
    long long cards = (long long)cfg.nodes * cfg.cards_per_node;
    if (arr) {
      json_t *o = json_object();
      json_object_set_new(o, "name", json_string(p->name));
      json_object_set_new(o, "cards", json_integer(cards));
      json_object_set_new(o, "description", json_string(cfg.description));
      json_array_append_new(arr, o);
    } else {
      printf("%-16s %7lld cards  %s\n", p->name, cards, cfg.description);
    }
  }
  if (arr) {
    json_t *o = json_object();
    json_object_set_new(o, "presets", arr);
    cli_print_json(o, 0);
  }
  return 0;
}

static int export(const char *spec, const cluster_opts *opt) {
  if (!opt->slurm && !opt->block)
    return cli_fail("cluster export needs a format: --slurm-topology (tree) or --slurm-block");
  if (opt->slurm && opt->block)
    return cli_fail("give --slurm-topology or --slurm-block, not both (each is a whole "
                    "topology.conf)");
  cli_out *o = cli_out_new(opt->out ? opt->out : "-"); /* checked before the cluster is built */
  if (!o) return 2;
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    cli_out_abort(o);
    return cli_fail_cluster(&err, spec);
  }
  FILE *f = cli_out_begin(o);
  int rc = 2;
  if (f) {
    if (opt->block) hw_export_slurm_block(c, f, opt->node_prefix);
    else hw_export_slurm(c, f, opt->node_prefix); /* a write error stays in f: commit reports it */
    rc = cli_out_commit(&o, 1);
  }
  hw_free(c);
  return rc;
}

int cmd_cluster(int argc, char **argv) {
  cluster_opts o = {0, 0, 0, NULL, "node"};
  const cli_opt show_opts[] = {
      {"json", CLI_FLAG, &o.json, NULL, "print one JSON object instead of the table", 0, 0},
      {0},
  };
  const cli_opt export_opts[] = {
      {"slurm-topology", CLI_FLAG, &o.slurm, NULL,
       "write a Slurm topology.conf for topology/tree (leaves, supernodes, pods)", 0, 0},
      {"slurm-block", CLI_FLAG, &o.block, NULL,
       "write a Slurm topology.conf for topology/block (one block per scale-up domain)", 0, 0},
      {"out", CLI_STR, &o.out, "FILE", "write to FILE (atomically; - is stdout) instead of stdout",
       0, 0},
      {"node-prefix", CLI_STR, &o.node_prefix, "P",
       "Slurm node names are P0, P1, ... (default node)", 0, 0},
      {0},
  };
  const cli_cmd show_cmd = {"show", "wanka cluster show CLUSTER[:key=value,...] [--json]",
                            "Print the cluster (CLUSTER: a preset or a YAML file): cards, nodes,\n"
                            "supernodes, switches per tier, links, "
                            "peak FLOP/s, HBM and bisection bandwidth.", show_opts};
  const cli_cmd list_cmd = {"list", "wanka cluster list [--json]", "List the built-in presets.", show_opts};
  const cli_cmd export_cmd = {"export",
                              "wanka cluster export CLUSTER --slurm-topology|--slurm-block [--out FILE]",
                              "Export the fabric for other tools.", export_opts};
  const cli_cmd top = {"cluster", "wanka cluster show|list|export ...",
                       "Cluster models: 'show' a preset or YAML file, 'list' the presets,\n"
                       "'export' a Slurm topology.conf. Any preset takes tweaks:\n"
                       "NAME:key=value,... e.g. dgx-a100:nodes=1536.", NULL};
  int npos, r = cli_sub_help(&top, argc, argv);
  if (r >= 0) return r;
  const char *sub = argv[0];
  char *pos[2];
  if (!strcmp(sub, "list")) {
    if ((r = cli_parse(&list_cmd, argc - 1, argv + 1, pos, 0, &npos))) return r == 1 ? 0 : r;
    return list(&o);
  }
  const cli_cmd *cmd = !strcmp(sub, "show") ? &show_cmd : !strcmp(sub, "export") ? &export_cmd : NULL;
  static const char *const subs[] = {"show", "list", "export", NULL};
  if (!cmd) return cli_fail_unknown("cluster command", sub, subs);
  if ((r = cli_parse(cmd, argc - 1, argv + 1, pos, 1, &npos))) return r == 1 ? 0 : r;
  if (npos != 1) return cli_fail("name a cluster: a preset ('wanka cluster list') or a YAML file");
  return cmd == &show_cmd ? show(pos[0], &o) : export(pos[0], &o);
}
