/* cmd_sim.c — `wanka sim stencil|fft|dataparallel`: AI-for-science jobs on a cluster model
 * (3-D stencil with halo exchange, distributed 3-D FFT, data-parallel science model), with the
 * same output keys as `wanka train` where they apply (step_time_s, tflops_per_card,
 * memory_bytes_per_card, fits, breakdown). */
#include "cli.h"
#include "work/work.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Options of one invocation: a local, so two calls in one process never share state. */
typedef struct sim_args {
  const char *cluster, *grid;
  int64_t cards, halo, n, batch, level;
  double bpc, fpc, params, fps, eff;
  int json, overlap, pencil;
} sim_args;

static int parse_grid(const char *s, int64_t g[3]) {
  char buf[128];
  if (strlen(s) >= sizeof buf) return -1;
  snprintf(buf, sizeof buf, "%s", s);
  char *parts[3], *p = buf;
  int n = 0;
  for (;;) { /* strict: "N" or "NxNxN", no empty parts */
    if (n == 3) return -1;
    parts[n++] = p;
    char *x = strchr(p, 'x');
    if (!x) break;
    *x = 0;
    p = x + 1;
  }
  if (n != 1 && n != 3) return -1;
  for (int i = 0; i < n; i++)
    if (wk_parse_i64(parts[i], &g[i]) || g[i] < 1 || g[i] > (1LL << 24)) return -1;
  if (n == 1) g[1] = g[2] = g[0];
  return 0;
}

static void output(const sim_args *a, const char *kind, const char *cluster,
                   const work_sci_result *r, const char *items) {
  if (a->json) {
    json_t *o = json_object(), *b = json_object(), *d = json_array();
    json_object_set_new(o, "workload", json_string(kind));
    json_object_set_new(o, "cluster", json_string(cluster));
    json_object_set_new(o, "cards", json_integer(a->cards));
    json_object_set_new(o, "step_time_s", json_real(r->step_time_s));
    json_object_set_new(o, "tflops_per_card", json_real(r->tflops_per_card));
    json_object_set_new(o, "flops_per_card", json_real(r->flops_per_card));
    json_object_set_new(o, "memory_bytes_per_card", json_real(r->memory_bytes_per_card));
    json_object_set_new(o, "fits", json_boolean(r->fits));
    json_object_set_new(o, items, json_real(r->items_per_s));
    json_object_set_new(b, "compute_s", json_real(r->compute_s));
    json_object_set_new(b, "comm_s", json_real(r->comm_s));
    json_object_set_new(b, "exposed_comm_s", json_real(r->exposed_comm_s));
    json_object_set_new(o, "breakdown", b);
    if (strcmp(kind, "dataparallel")) {
      for (int i = 0; i < 3; i++) json_array_append_new(d, json_integer(r->decomp[i]));
      json_object_set_new(o, "decomposition", d);
    } else {
      json_decref(d);
    }
    cli_print_json(o, 8);
    return;
  }
  printf("workload   %s on %lld cards of %s", kind, (long long)a->cards, cluster);
  if (strcmp(kind, "dataparallel")) printf(" (decomposition %d x %d x %d)", r->decomp[0], r->decomp[1], r->decomp[2]);
  printf("\nstep       %.4g s (%s %.4g)\n", r->step_time_s, items, r->items_per_s);
  printf("per card   %.3g TFLOP/s achieved, %.3g GFLOP per step\n", r->tflops_per_card,
         r->flops_per_card / 1e9);
  printf("memory     %.2f GB per card: %s\n", r->memory_bytes_per_card / 1e9,
         r->fits ? "fits" : "DOES NOT FIT");
  printf("breakdown  compute %.4g s, communication %.4g s (exposed %.4g s)\n", r->compute_s,
         r->comm_s, r->exposed_comm_s);
}

int cmd_sim(int argc, char **argv) {
  static const cli_cmd top = {"sim", "wanka sim stencil|fft|dataparallel --cluster C --cards N ...",
                              "AI-for-science jobs: a 3-D stencil with halo exchange, a\n"
                              "distributed 3-D FFT, a data-parallel science model.", NULL};
  sim_args a = {NULL, NULL, 0, 1, 0, 1, 0, 8, 8, 0, 0, 0.4, 0, 0, 0};
#define COMMON_OPTS                                                                        \
  {"cluster", CLI_STR, &a.cluster, "C", "cluster preset or YAML file", 0, 0},             \
      {"cards", CLI_INT, &a.cards, "N", "cards (packed on the first N)", 1, CLI_MAX_CARDS}, \
      {"level", CLI_INT, &a.level, "0|1|2", "collective fidelity level (default 0)",      \
       CLI_LEVELS},                                                                        \
      {"json", CLI_FLAG, &a.json, NULL, "print one JSON object", 0, 0}
  const cli_opt stencil_opts[] = {
      COMMON_OPTS,
      {"grid", CLI_STR, &a.grid, "NX[xNYxNZ]", "global grid (one number: a cube)", 0, 0},
      {"halo", CLI_INT, &a.halo, "W", "halo width in cells (default 1)", 1, 64},
      {"bytes-per-cell", CLI_DOUBLE, &a.bpc, "B", "state bytes per cell (default 8)", 0.001, 1e6},
      {"flops-per-cell", CLI_DOUBLE, &a.fpc, "F", "FP64 FLOPs per cell per step (default 8)",
       0, 1e9},
      {"overlap", CLI_FLAG, &a.overlap, NULL, "hide the halo exchange behind interior compute",
       0, 0},
      {0},
  };
  const cli_opt fft_opts[] = {
      COMMON_OPTS,
      {"n", CLI_INT, &a.n, "N", "points per axis (n^3 complex doubles)", 2, 1 << 20},
      {"pencil", CLI_FLAG, &a.pencil, NULL, "2-D pencil decomposition (default: 1-D slabs)", 0, 0},
      {0},
  };
  const cli_opt dp_opts[] = {
      COMMON_OPTS,
      {"params", CLI_DOUBLE, &a.params, "P", "model parameters (e.g. 1e9)", 1, 1e15},
      {"flops-per-sample", CLI_DOUBLE, &a.fps, "F", "forward FLOPs per sample", 1, 1e21},
      {"batch", CLI_INT, &a.batch, "B", "samples per card per step (default 1)", 1, 1 << 24},
      {"efficiency", CLI_DOUBLE, &a.eff, "E",
       "fraction of BF16 peak the kernels reach (default 0.4)", 0.001, 1},
      {0},
  };
  const cli_cmd stencil_cmd = {"stencil",
                               "wanka sim stencil --cluster C --cards N --grid NX[xNYxNZ] "
                               "[--halo W --bytes-per-cell B --flops-per-cell F --overlap]",
                               "3-D stencil step: roofline compute and a 6-neighbour halo exchange.",
                               stencil_opts};
  const cli_cmd fft_cmd = {"fft", "wanka sim fft --cluster C --cards N --n N [--pencil]",
                           "Distributed complex 3-D FFT: slab or pencil, all-to-all transposes.",
                           fft_opts};
  const cli_cmd dp_cmd = {"dataparallel",
                          "wanka sim dataparallel --cluster C --cards N --params P "
                          "--flops-per-sample F [--batch B --efficiency E]",
                          "Data-parallel science model: compute plus gradient all-reduce.",
                          dp_opts};
#undef COMMON_OPTS
  int r = cli_sub_help(&top, argc, argv);
  if (r >= 0) return r;
  const char *sub = argv[0];
  const cli_cmd *cmd = !strcmp(sub, "stencil") ? &stencil_cmd : !strcmp(sub, "fft") ? &fft_cmd
                       : !strcmp(sub, "dataparallel") ? &dp_cmd : NULL;
  static const char *const kinds[] = {"stencil", "fft", "dataparallel", NULL};
  if (!cmd) return cli_fail_unknown("sim workload", sub, kinds);
  char *pos[1];
  int npos;
  if ((r = cli_parse(cmd, argc - 1, argv + 1, pos, 0, &npos))) return r == 1 ? 0 : r;
  if (!a.cluster || !a.cards) return cli_fail("sim %s needs --cluster and --cards", sub);
  int64_t g[3] = {0, 0, 0};
  if (cmd == &stencil_cmd) {
    if (!a.grid) return cli_fail("sim stencil needs --grid NX[xNYxNZ]");
    if (parse_grid(a.grid, g)) return cli_fail("--grid '%s': use N or NXxNYxNZ (positive integers)", a.grid);
  }
  if (cmd == &fft_cmd && !a.n) return cli_fail("sim fft needs --n N (points per axis)");
  if (cmd == &dp_cmd && (!(a.params > 0) || !(a.fps > 0) || a.batch < 1))
    return cli_fail("sim dataparallel needs --params > 0, --flops-per-sample > 0 and --batch >= 1");
  wk_err err;
  hw_cluster *c = hw_load(a.cluster, &err);
  if (!c) return cli_fail_cluster(&err, a.cluster);
  int rc = 0;
  if ((uint64_t)a.cards > hw_cards(c)) {
    rc = cli_fail("--cards %lld: more cards than the cluster's %u", (long long)a.cards, hw_cards(c));
    hw_free(c);
    return rc;
  }
  work_ctx *x = work_ctx_new(c);
  work_sci_result res;
  wk_errcode e;
  const char *items;
  if (cmd == &stencil_cmd) {
    work_stencil s = {g[0], g[1], g[2], (uint32_t)a.cards, (int)a.halo, a.bpc, a.fpc, a.overlap, (int)a.level};
    e = work_sim_stencil(x, &s, &res, &err);
    items = "cells_per_s";
  } else if (cmd == &fft_cmd) {
    work_fft f = {a.n, (uint32_t)a.cards, a.pencil, (int)a.level};
    e = work_sim_fft(x, &f, &res, &err);
    items = "transforms_per_s";
  } else {
    work_dataparallel d = {a.params, a.fps, a.batch, (uint32_t)a.cards, a.eff, (int)a.level};
    e = work_sim_dataparallel(x, &d, &res, &err);
    items = "samples_per_s";
  }
  if (e) rc = cli_fail("%s", err.msg);
  else if (!res.fits)
    rc = cli_fail("does not fit: %.1f GB per card needed, HBM holds %.1f GB; use more cards",
                  res.memory_bytes_per_card / 1e9, hw_cfg(c)->accel.hbm_bytes / 1e9);
  else output(&a, sub, a.cluster, &res, items); /* the spec as given, tweaks included */
  work_ctx_free(x);
  hw_free(c);
  return rc;
}
