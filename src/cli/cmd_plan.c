/* cmd_plan.c — `wanka plan`: every layout of a model on N cards (TP, PP, VPP, DP, CP, EP,
 * micro-batch, recompute, ZeRO) timed by the training-step model; those that fit are ranked
 * by time per step and the best K printed with their breakdowns, as text or JSON. */
#include "cli.h"
#include "report/report.h"
#include "work/work.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

/* Options of one invocation: a local, so two calls in one process never share state. */
typedef struct plan_args {
  const char *cluster, *model, *dtype, *attn, *report;
  int64_t cards, seq, gbs, top, level;
  int json, quiet;
} plan_args;

/* One layout of the plan as a JSON object (owned by the caller). */
static json_t *entry_json(const work_plan_entry *en) {
  const work_job *j = &en->job;
  const work_result *s = &en->res;
  json_t *e = json_object();
  json_object_set_new(e, "tp", json_integer(j->tp));
  json_object_set_new(e, "pp", json_integer(j->pp));
  json_object_set_new(e, "vpp", json_integer(j->vpp));
  json_t *stages = json_array();
  for (int d = 0; d < j->pp; d++)
    json_array_append_new(stages, json_integer(work_stage_layers(s, j->pp, d)));
  json_object_set_new(e, "stage_layers", stages);
  json_object_set_new(e, "dp", json_integer(j->dp));
  json_object_set_new(e, "cp", json_integer(j->cp));
  json_object_set_new(e, "ep", json_integer(j->ep));
  json_object_set_new(e, "mbs", json_integer(j->mbs));
  json_object_set_new(e, "recompute", json_string(work_recompute_name(j->recompute)));
  json_object_set_new(e, "zero", json_integer(j->zero));
  json_object_set_new(e, "step_time_s", json_real(s->step_time_s));
  json_object_set_new(e, "tokens_per_s", json_real(s->tokens_per_s));
  json_object_set_new(e, "tflops_per_card", json_real(s->tflops_per_card));
  json_object_set_new(e, "mfu", json_real(s->mfu));
  json_object_set_new(e, "memory_bytes_per_card", json_real(s->mem.total));
  json_object_set_new(e, "fits", json_boolean(s->fits));
  cli_put_breakdown(e, &s->b);
  return e;
}

#define PLAN_REPORT_POINTS 400 /* layouts drawn in the report */
#define PLAN_REPORT_BARS 8     /* layouts whose breakdowns are drawn side by side */

/* "TP 8 PP 16 VPP 4 DP 8 CP 1 EP 1 mbs 1 selective ZeRO 1" into buf. */
static const char *layout_name(const work_plan_entry *e, char *buf, size_t n) {
  const work_job *j = &e->job;
  snprintf(buf, n, "TP %d PP %d VPP %d DP %d CP %d EP %d mbs %d %s ZeRO %d", j->tp, j->pp, j->vpp,
           j->dp, j->cp, j->ep, j->mbs, work_recompute_name(j->recompute), j->zero);
  return buf;
}

/* The report: every layout kept as a point (step time against memory per card), the fastest
 * that did not fit beside them, and the breakdowns of the best few. Takes rep_out; 0 or 2. */
static int plan_report(cli_report *rep_out, const plan_args *a, const work_model *m,
                       const work_plan_entry *best, int n, const work_plan_stats *st) {
  char title[256], sub[256], b[128];
  snprintf(title, sizeof title, "wanka plan: %s on %lld cards of %s", m->name, (long long)a->cards,
           a->cluster);
  snprintf(sub, sizeof sub, "seq %lld, global batch %lld; %llu layouts enumerated, %llu fit",
           (long long)a->seq, (long long)a->gbs, (unsigned long long)st->enumerated,
           (unsigned long long)st->fitting);
  rp_report *rep = rp_report_new(title, sub);
  rp_report_section(rep, "The layouts", "Each point is one layout (TP, PP, VPP, DP, CP, EP, "
                                        "micro-batch, recomputation, ZeRO) that fits in memory; "
                                        "the best is lowest. Point at one to see it.");
  double *x = wk_malloc(sizeof(double) * (size_t)(n ? n : 1)), *y = wk_malloc(sizeof(double) * (size_t)(n ? n : 1));
  char **labels = wk_malloc(sizeof(char *) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    x[i] = best[i].res.mem.total / 1e9;
    y[i] = best[i].res.step_time_s;
    labels[i] = wk_malloc(160);
    snprintf(labels[i], 160, "#%d %s", i + 1, layout_name(&best[i], b, sizeof b));
  }
  rp_chart *ch = rp_chart_add(rep, RP_SCATTER, "Step time against memory, one point per layout",
                              "memory per card (GB)", "step time (s)");
  int top = n < (int)a->top ? n : (int)a->top;
  rp_chart_xy(ch, "printed (the best --top)", x, y, (const char *const *)labels, (size_t)top);
  rp_chart_xy(ch, "other layouts that fit", x + top, y + top, (const char *const *)labels + top,
              (size_t)(n - top));
  if (st->have_unfit) {
    double ux = st->unfit.res.mem.total / 1e9, uy = st->unfit.res.step_time_s;
    const char *ul[1] = {layout_name(&st->unfit, b, sizeof b)};
    rp_chart_xy(ch, "fastest that does not fit", &ux, &uy, ul, 1);
  }
  snprintf(b, sizeof b, "The %d fastest layouts that fit; each card has %.1f GB.", n,
           n ? best[0].res.hbm_bytes / 1e9 : 0.0);
  rp_chart_note(ch, b);
  for (int i = 0; i < n; i++) wk_free(labels[i]);
  wk_free(labels);
  wk_free(x);
  wk_free(y);
  rp_report_section(rep, "The best layouts, part by part", NULL);
  int nb = n < PLAN_REPORT_BARS ? n : PLAN_REPORT_BARS;
  char names[PLAN_REPORT_BARS][128];
  const char *np[PLAN_REPORT_BARS];
  const work_result *rp[PLAN_REPORT_BARS];
  for (int i = 0; i < nb; i++) {
    char l[128];
    snprintf(names[i], sizeof names[i], "#%d %s", i + 1, layout_name(&best[i], l, sizeof l));
    np[i] = names[i];
    rp[i] = &best[i].res;
  }
  cli_report_steps(rep, np, rp, (size_t)nb);
  int rc = cli_report_commit(rep_out, rep);
  rp_report_free(rep);
  return rc;
}

int cmd_plan(int argc, char **argv) {
  plan_args a = {NULL, NULL, NULL, NULL, NULL, 0, 2048, 1536, 5, 0, 0, 0};
  const cli_opt plan_opts[] = {
      {"cluster", CLI_STR, &a.cluster, "C", "cluster preset or YAML file", 0, 0},
      {"model", CLI_STR, &a.model, "M", "model preset or YAML file", 0, 0},
      {"cards", CLI_INT, &a.cards, "N", "cards for the job", 1, CLI_MAX_CARDS},
      {"seq", CLI_INT, &a.seq, "S", "sequence length (default 2048)", 1, 1 << 24},
      {"gbs", CLI_INT, &a.gbs, "G", "global batch in sequences (default 1536)", 1, 1 << 24},
      {"top", CLI_INT, &a.top, "K", "how many layouts to print (default 5)", 1, 1000},
      {"dtype", CLI_STR, &a.dtype, "D", "bf16|fp16|fp8 (default bf16)", 0, 0},
      {"attention", CLI_STR, &a.attn, "A",
       "flash2|flash3|unfused, or flash (default): flash3 where the card has its published "
       "speeds (H100, H800), else flash2", 0, 0},
      {"level", CLI_INT, &a.level, "0|1|2", "collective fidelity level (default 0)", CLI_LEVELS},
      {"json", CLI_FLAG, &a.json, NULL, "print one JSON object", 0, 0},
      {"quiet", CLI_FLAG, &a.quiet, NULL, "no progress bar (it shows only on a terminal)", 0, 0},
      {"report", CLI_STR, &a.report, "FILE.html",
       "write an HTML report (layouts: step time against memory; breakdowns) and "
       "FILE.data.json", 0, 0},
      {0},
  };
  const cli_cmd plan_cmd = {
      "plan", "wanka plan --cluster C --model M --cards N [--seq S --gbs G] [--top K] [--json]",
      "Enumerate every valid layout that fits in memory and rank them by time per step.",
      plan_opts};
  char *pos[1];
  int npos, r;
  if ((r = cli_parse(&plan_cmd, argc, argv, pos, 0, &npos))) return r == 1 ? 0 : r;
  if (!a.cluster || !a.model || !a.cards) return cli_fail("plan needs --cluster, --model and --cards");
  work_plan_opts o = {(uint32_t)a.cards, (int)a.seq, (int)a.gbs, WORK_BF16, WORK_ATTN_FLASH,
                      (int)a.level, (int)a.top, NULL, NULL};
  if (a.dtype && work_dtype_parse(a.dtype, &o.dtype))
    return cli_fail_unknown("--dtype", a.dtype, cli_dtypes);
  if (a.attn && work_attn_parse(a.attn, &o.attn))
    return cli_fail_unknown("--attention", a.attn, cli_attentions);
  cli_report *rep_out = NULL; /* checked before any work */
  if (a.report && !(rep_out = cli_report_new(a.report))) return 2;
  wk_err err;
  work_model m;
  if (work_model_get(&m, a.model, &err)) {
    cli_report_abort(rep_out);
    return cli_fail_model(&err, a.model);
  }
  hw_cluster *c = hw_load(a.cluster, &err);
  if (!c) {
    cli_report_abort(rep_out);
    return cli_fail_cluster(&err, a.cluster);
  }
  if (cli_check_dtype(c, a.cluster, (int)o.dtype) || cli_check_attn(c, a.cluster, (int)o.attn)) {
    hw_free(c);
    cli_report_abort(rep_out);
    return 2;
  }
  if ((uint64_t)a.cards > hw_cards(c)) {
    uint32_t have = hw_cards(c);
    hw_free(c);
    cli_report_abort(rep_out);
    return cli_fail("--cards %lld: more cards than the cluster's %u", (long long)a.cards, have);
  }
  work_ctx *x = work_ctx_new(c);
  /* the report draws many more layouts than are printed: the planner keeps the fastest
   * PLAN_REPORT_POINTS (the ranking of the first `top` is the same either way) */
  int keep = rep_out && a.top < PLAN_REPORT_POINTS ? PLAN_REPORT_POINTS : (int)a.top;
  o.top = keep;
  work_plan_entry *best = wk_calloc((size_t)keep, sizeof *best);
  int n = 0, rc = 0;
  work_plan_stats st;
  double t0 = rp_clock_s();
  cli_bar bar = {rp_progress_new(stderr, !a.quiet && isatty(STDERR_FILENO)), "plan", 0, 1};
  o.progress = cli_bar_set;
  o.progress_ctx = &bar;
  int planned = work_plan(x, &m, &o, best, &n, &st, &err);
  rp_progress_free(bar.p);
  if (!planned && rep_out) {
    rc = plan_report(rep_out, &a, &m, best, n, &st);
    rep_out = NULL;
  }
  if (n > a.top) n = (int)a.top;
  if (planned == WK_ECAPACITY && st.fitting == 0) { /* nothing fits: what this command can change */
    uint32_t have = hw_cards(c);
    if ((uint64_t)a.cards < have)
      rc = cli_fail("%s; try more --cards (the cluster has %u) or a shorter --seq", err.msg, have);
    else
      rc = cli_fail("%s; try a shorter --seq, or a cluster with more HBM per card (e.g. --cluster "
                    "%s%shbm_gib=%.0f)", err.msg, a.cluster, strchr(a.cluster, ':') ? "," : ":",
                    2 * hw_cfg(c)->accel.hbm_bytes / 1073741824.0);
  } else if (planned) {
    rc = cli_fail("%s", err.msg);
  } else if (rc) {
    /* the report could not be written: its error is printed */
  } else if (a.json) {
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "cluster", json_string(a.cluster)); /* as given, with tweaks */
    json_object_set_new(root, "model", json_string(m.name));
    json_object_set_new(root, "cards", json_integer(a.cards));
    json_object_set_new(root, "attention",
                        json_string(work_attn_name(work_attn_kernel(&hw_cfg(c)->accel, o.attn))));
    json_object_set_new(root, "layouts_enumerated", json_integer((json_int_t)st.enumerated));
    json_object_set_new(root, "layouts_evaluated", json_integer((json_int_t)st.evaluated));
    json_object_set_new(root, "layouts_fitting", json_integer((json_int_t)st.fitting));
    char why[400];
    for (int i = 0; i < n; i++) {
      json_t *e = entry_json(&best[i]);
      if (i) json_object_set_new(e, "why_lost", json_string(work_plan_explain(&best[0], &best[i], why, sizeof why)));
      json_array_append_new(arr, e);
    }
    json_object_set_new(root, "best", arr);
    if (st.have_unfit) { /* faster than the best, but lost on memory */
      json_t *e = entry_json(&st.unfit);
      json_object_set_new(e, "why_lost", json_string(work_plan_explain(&best[0], &st.unfit, why, sizeof why)));
      json_object_set_new(root, "fastest_unfit", e);
    }
    cli_print_json(root, 8);
  } else {
    printf("plan: %s on %lld cards of %s, seq %lld, global batch %lld, attention %s\n", m.name,
           (long long)a.cards, a.cluster, (long long)a.seq, (long long)a.gbs,
           work_attn_name(work_attn_kernel(&hw_cfg(c)->accel, o.attn)));
    printf("layouts: %llu enumerated, %llu evaluated, %llu fit in memory (%.2f s)\n",
           (unsigned long long)st.enumerated, (unsigned long long)st.evaluated,
           (unsigned long long)st.fitting, rp_clock_s() - t0);
    printf("%3s %4s %4s %-11s %4s %5s %3s %3s %4s %-9s %4s %10s %8s %6s %7s | %s\n", "#", "TP",
           "PP", "layers", "VPP", "DP", "CP", "EP", "mbs", "recompute", "ZeRO", "step (s)",
           "TFLOP/s", "MFU", "mem GB", "compute / TP / PP / DP / EP / CP / bubble / overlap (s)");
    for (int i = 0; i < n; i++) {
      const work_job *j = &best[i].job;
      const work_result *s = &best[i].res;
      char stages[32]; /* per stage: "8", or first+middle+last when they differ */
      if (j->pp == 1 || (s->layers_first == s->layers_last &&
                         (j->pp == 2 || s->layers_mid == s->layers_first)))
        snprintf(stages, sizeof stages, "%d", s->layers_first);
      else if (j->pp == 2)
        snprintf(stages, sizeof stages, "%d+%d", s->layers_first, s->layers_last);
      else
        snprintf(stages, sizeof stages, "%d+%d+%d", s->layers_first, s->layers_mid,
                 s->layers_last);
      printf("%3d %4d %4d %-11s %4d %5d %3d %3d %4d %-9s %4d %10.4g %8.1f %5.1f%% %7.1f | %.3g / "
             "%.3g / %.3g / %.3g / %.3g / %.3g / %.3g / %.3g\n",
             i + 1, j->tp, j->pp, stages, j->vpp, j->dp, j->cp, j->ep, j->mbs,
             work_recompute_name(j->recompute), j->zero, s->step_time_s, s->tflops_per_card,
             100 * s->mfu, s->mem.total / 1e9, s->b.compute, s->b.tp, s->b.pp, s->b.dp, s->b.ep,
             s->b.cp, s->b.bubble, s->b.overlap);
    }
    char why[400];
    if (n > 1 || st.have_unfit) printf("why the others lost to #1:\n");
    for (int i = 1; i < n; i++)
      printf("%3d %s\n", i + 1, work_plan_explain(&best[0], &best[i], why, sizeof why));
    if (st.have_unfit) {
      const work_job *u = &st.unfit.job;
      printf("  - TP %d PP %d VPP %d DP %d CP %d EP %d mbs %d %s ZeRO %d: %s\n", u->tp, u->pp,
             u->vpp, u->dp, u->cp, u->ep, u->mbs, work_recompute_name(u->recompute), u->zero,
             work_plan_explain(&best[0], &st.unfit, why, sizeof why));
    }
  }
  cli_report_abort(rep_out);
  wk_free(best);
  work_ctx_free(x);
  hw_free(c);
  return rc;
}
