/* cmd_compare.c — `wanka compare`: the same work (a trace, or one generated as `trace gen` does,
 * sized to the largest cluster) replayed on every cluster x policy x placement, one after the
 * other, and printed as one side-by-side table (a column per scenario), one JSON object with a
 * row per scenario, and an HTML report; below the table, each queue's and job size's wait in
 * every scenario (who gains). The capacity question — what does doubling the node
 * buy for our work — is one command:
 *   wanka compare --cluster zhengzhou-30k --cluster zhengzhou-60k --profile ai4s --days 14 */
#include "cli.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct scenario {
  int cluster;            /* index into the clusters given */
  sched_policy policy;
  sched_placement placement;
  char label[192];        /* "zhengzhou-30k" (+ policy, placement where several are compared) */
  replay *r;
  cli_usage *u;           /* card-hours of each run, for the usage tables and the report */
  cli_sreport *use;       /* what each tenant, queue and job size got */
} scenario;

/* One figure of the table: its row name, and how to print it from a scenario (NAN: n/a). */
typedef struct figure {
  const char *name, *fmt;
  double (*get)(const replay_metrics *m, const replay_energy *e);
} figure;

static double f_util(const replay_metrics *m, const replay_energy *e) { (void)e; return m->utilization; }
static double f_p50(const replay_metrics *m, const replay_energy *e) { (void)e; return m->p50_jct_s / 3600; }
static double f_p99(const replay_metrics *m, const replay_energy *e) { (void)e; return m->p99_jct_s / 3600; }
static double f_qavg(const replay_metrics *m, const replay_energy *e) { (void)e; return m->avg_queue_s / 3600; }
static double f_q99(const replay_metrics *m, const replay_energy *e) { (void)e; return m->p99_queue_s / 3600; }
static double f_bsd(const replay_metrics *m, const replay_energy *e) { (void)e; return m->bounded_slowdown; }
static double f_good(const replay_metrics *m, const replay_energy *e) { (void)e; return m->goodput; }
static double f_ettr(const replay_metrics *m, const replay_energy *e) { (void)e; return m->ettr; }
static double f_span(const replay_metrics *m, const replay_energy *e) { (void)e; return m->makespan_s / 86400; }
static double f_cont(const replay_metrics *m, const replay_energy *e) {
  (void)e;
  return m->fabric_tiers || m->fabric_jobs ? m->contention_slowdown_mean : NAN;
}
static double f_mwh(const replay_metrics *m, const replay_energy *e) {
  (void)m;
  return e->known ? e->facility_j / 3.6e9 : NAN;
}
static double f_kwh(const replay_metrics *m, const replay_energy *e) {
  return e->known && m->useful_card_s > 0 ? e->kwh_per_useful_card_hour : NAN;
}

static const figure figures[] = {
    {"utilization", "%.4f", f_util},
    {"JCT p50 (h)", "%.2f", f_p50},
    {"JCT p99 (h)", "%.1f", f_p99},
    {"queueing mean (h)", "%.2f", f_qavg},
    {"queueing p99 (h)", "%.1f", f_q99},
    {"bounded slowdown", "%.1f", f_bsd},
    {"goodput", "%.4f", f_good},
    {"ETTR", "%.4f", f_ettr},
    {"makespan (days)", "%.2f", f_span},
    {"contention slowdown", "%.4f", f_cont},
    {"energy (MWh)", "%.0f", f_mwh},
    {"kWh / useful card-h", "%.3f", f_kwh},
};
#define NFIGURES (sizeof figures / sizeof figures[0])

static const char *fmt_figure(const figure *f, const replay_metrics *m, const replay_energy *e,
                              char *buf, size_t n) {
  double v = f->get(m, e);
  if (isfinite(v)) snprintf(buf, n, f->fmt, v);
  else snprintf(buf, n, "n/a");
  return buf;
}

/* Who gains: the wait (first start - submit) of group `group` of usage table k (1 queues, 2 job
 * sizes) in scenario s, "p50/p99" in hours ("-" where none of its jobs started). The same trace
 * gives every scenario the same groups. */
static const char *const usage_head[2] = {"wait p50/p99 (h) by queue",
                                          "wait p50/p99 (h) by job size (cards)"};
static const char *usage_cell(const scenario *s, int k, uint32_t group, char *buf, size_t n) {
  size_t nr;
  const cli_sreport_row *r = cli_sreport_rows(s->use, k, &nr);
  snprintf(buf, n, "-");
  for (size_t y = 0; y < nr; y++)
    if (r[y].group == group) {
      if (r[y].waited) snprintf(buf, n, "%.1f/%.1f", r[y].wait_p50_s / 3600, r[y].wait_p99_s / 3600);
      break;
    }
  return buf;
}

/* The table: a row per figure, a column per scenario. */
static void print_table(const scenario *s, int ns, hw_cluster *const *c, const char *what,
                        size_t jobs) {
  printf("compare   %s, %zu jobs, on %d scenarios\n", what, jobs, ns);
  int w = 14;
  for (int i = 0; i < ns; i++)
    if ((int)strlen(s[i].label) + 2 > w) w = (int)strlen(s[i].label) + 2;
  printf("%-22s", "");
  for (int i = 0; i < ns; i++) printf("%*s", w, s[i].label);
  printf("\n%-22s", "cards");
  for (int i = 0; i < ns; i++) printf("%*u", w, hw_cards(c[s[i].cluster]));
  printf("\n%-22s", "policy");
  for (int i = 0; i < ns; i++) printf("%*s", w, sched_policy_name(s[i].policy));
  printf("\n%-22s", "placement");
  for (int i = 0; i < ns; i++) printf("%*s", w, sched_placement_name(s[i].placement));
  printf("\n");
  for (size_t f = 0; f < NFIGURES; f++) {
    printf("%-22s", figures[f].name);
    for (int i = 0; i < ns; i++) {
      replay_energy e;
      replay_energy_of(s[i].r, c[s[i].cluster], &e);
      char b[32];
      printf("%*s", w, fmt_figure(&figures[f], replay_get_metrics(s[i].r), &e, b, sizeof b));
    }
    printf("\n");
  }
  printf("%-22s", "replay wall (s)");
  for (int i = 0; i < ns; i++) printf("%*.1f", w, replay_get_metrics(s[i].r)->wall_s);
  printf("\n");
  /* who gains: rows in the first scenario's order (queues most card-hours first; the 16
   * largest, as replay's own table) */
  for (int k = 1; k <= 2; k++) {
    size_t n0;
    const cli_sreport_row *r0 = cli_sreport_rows(s[0].use, k, &n0);
    size_t shown = n0 <= 17 ? n0 : 16;
    if (n0) printf("%s\n", usage_head[k - 1]);
    for (size_t g = 0; g < shown; g++) {
      printf("  %-20s", r0[g].name);
      char b[48];
      for (int i = 0; i < ns; i++) printf("%*s", w, usage_cell(&s[i], k, r0[g].group, b, sizeof b));
      printf("\n");
    }
    if (shown < n0) printf("  (%zu more queues: --json or --report has them all)\n", n0 - shown);
  }
}

/* The report: the table, the figures as bars, load and queues over time and the job-time CDFs
 * one line per scenario, and each cluster's picture (from its first scenario). Takes rep_out. */
static int write_report(cli_report *rep_out, const scenario *s, int ns, hw_cluster *const *c,
                        const char *const *cluster_names, const char *what,
                        const replay_opts *o) {
  char sub[512];
  snprintf(sub, sizeof sub, "The same work on every scenario: %s. Fabric %s, failures %s.", what,
           o->fabric ? "on" : "off", o->failure_rate > 0 ? "on" : "off");
  rp_report *rep = rp_report_new("wanka compare", sub);
  const char **labels = wk_malloc(sizeof(char *) * (size_t)ns);
  const replay **rs = wk_malloc(sizeof(replay *) * (size_t)ns);
  const hw_cluster **cs = wk_malloc(sizeof(hw_cluster *) * (size_t)ns);
  const cli_usage **us = wk_malloc(sizeof(cli_usage *) * (size_t)ns);
  for (int i = 0; i < ns; i++) {
    labels[i] = s[i].label;
    rs[i] = s[i].r;
    cs[i] = c[s[i].cluster];
    us[i] = s[i].u;
  }
  /* the table as the terminal shows it: a row per figure, a column per scenario */
  rp_report_section(rep, "Side by side", NULL);
  const char **head = wk_malloc(sizeof(char *) * (size_t)(ns + 1));
  const char **row = wk_malloc(sizeof(char *) * (size_t)(ns + 1));
  char (*cells)[32] = wk_malloc(sizeof *cells * (size_t)ns);
  head[0] = "";
  for (int i = 0; i < ns; i++) head[i + 1] = s[i].label;
  rp_report_table(rep, NULL, (size_t)ns + 1, head);
  row[0] = "cards";
  for (int i = 0; i < ns; i++) {
    snprintf(cells[i], sizeof cells[i], "%u", hw_cards(cs[i]));
    row[i + 1] = cells[i];
  }
  rp_report_row(rep, row);
  for (size_t f = 0; f < NFIGURES; f++) {
    row[0] = figures[f].name;
    for (int i = 0; i < ns; i++) {
      replay_energy e;
      replay_energy_of(rs[i], cs[i], &e);
      row[i + 1] = fmt_figure(&figures[f], replay_get_metrics(rs[i]), &e, cells[i], sizeof cells[i]);
    }
    rp_report_row(rep, row);
  }
  /* who gains, as the terminal shows it */
  for (int k = 1; k <= 2; k++) {
    size_t n0;
    const cli_sreport_row *r0 = cli_sreport_rows(s[0].use, k, &n0);
    if (!n0) continue;
    head[0] = k == 1 ? "queue" : "job size (cards)";
    rp_report_table(rep, usage_head[k - 1], (size_t)ns + 1, head);
    for (size_t g = 0; g < n0; g++) {
      row[0] = r0[g].name;
      for (int i = 0; i < ns; i++) row[i + 1] = usage_cell(&s[i], k, r0[g].group, cells[i], sizeof cells[i]);
      rp_report_row(rep, row);
    }
  }
  wk_free(cells);
  wk_free(row);
  wk_free(head);
  cli_report_compare(rep, labels, cs, rs, us, (size_t)ns);
  /* each distinct cluster once, as its first scenario left it */
  rp_report_section(rep, "The machines", NULL);
  for (int i = 0; i < ns; i++) {
    int first = 1;
    for (int k = 0; k < i; k++)
      if (s[k].cluster == s[i].cluster) first = 0;
    if (first) cli_report_machine(rep, cluster_names[s[i].cluster], cs[i], rs[i], us[i]);
  }
  wk_free(labels);
  wk_free(rs);
  wk_free(cs);
  wk_free(us);
  int rc = cli_report_commit(rep_out, rep);
  rp_report_free(rep);
  return rc;
}

int cmd_compare(int argc, char **argv) {
  cli_list clusters = {{0}, 0}, pols = {{0}, 0}, places = {{0}, 0};
  const char *trace_path = NULL, *format = "auto", *profile = NULL, *failures = NULL;
  const char *fabric = "on", *tenants_path = NULL, *report_path = NULL, *fail = NULL;
  double days = 0, load = 0.9, sample = 0;
  int64_t seed = 1;
  int json = 0, quiet = 0;
  trace_opts to; /* the trace options are read straight into it */
  trace_opts_init(&to);
  const cli_opt opts[] = {
      {"cluster", CLI_LIST, &clusters, "C", "a cluster to compare (give two or more)", 0, 0},
      {"trace", CLI_STR, &trace_path, "FILE", "the work: a job trace, plain or gzip", 0, 0},
      {"format", CLI_STR, &format, "F", "trace format (default: detect)", 0, 0},
      {"cards-per-unit", CLI_INT, &to.cards_per_unit, "K", "cards per trace unit (default 1)", 1,
       65536},
      {"profile", CLI_STR, &profile, "P",
       "or generated work: ai4s, llm or hpc, sized to the largest cluster", 0, 0},
      {"days", CLI_DOUBLE, &days, "D", "with --profile: days of arrivals (default 7)", 0.001,
       3650},
      {"load", CLI_DOUBLE, &load, "L",
       "with --profile: offered load, a fraction of the largest cluster (default 0.9)", 0.001,
       100},
      {"seed", CLI_INT, &seed, "S", "seed of the generated work and of failures (default 1)", 0,
       CLI_MAX_SEED},
      {"policy", CLI_LIST, &pols, "P",
       "fifo, backfill (default), sjf, fairshare, priority, las; several to compare", 0, 0},
      {"placement", CLI_LIST, &places, "Q", "topo (default), first-fit or netaware; several to compare", 0,
       0},
      {"tenants", CLI_STR, &tenants_path, "FILE.yaml", "tenants: quotas, priorities, patterns",
       0, 0},
      {"failures", CLI_STR, &failures, "RATE|off",
       "interruptions per card-day (default 4.7e-4, Llama 3)", 0, 0},
      {"fabric", CLI_STR, &fabric, "on|off", "jobs on the shared fabric (default on)", 0, 0},
      {"fail", CLI_STR, &fail, "SPEC[,SPEC]",
       "inject the same fabric faults in every scenario, as replay --fail does", 0, 0},
      {"sample", CLI_DURATION, &sample, "T", "timeseries step (default 10m)", 1, 365 * 86400},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object, a row per scenario", 0, 0},
      {"report", CLI_STR, &report_path, "FILE.html",
       "write an HTML report and FILE.data.json beside it", 0, 0},
      {"quiet", CLI_FLAG, &quiet, NULL, "no progress bar (it shows only on a terminal)", 0, 0},
      {0},
  };
  const cli_cmd cmd = {
      "compare",
      "wanka compare --cluster A --cluster B [...] --trace F | --profile P [--days D] "
      "[--policy P ...] [--placement Q ...] [--json] [--report F.html]",
      "Replay the same work on every cluster x policy x placement, one after the other, and\n"
      "print the results side by side: utilization, JCT, queueing, bounded slowdown,\n"
      "goodput, ETTR, makespan, contention slowdown and energy; then each queue's and job\n"
      "size's wait in every scenario (who gains).",
      opts};
  char *pos[1];
  int npos, rc = cli_parse(&cmd, argc, argv, pos, 0, &npos);
  if (rc) return rc == 1 ? 0 : rc;
  if (!clusters.n)
    return cli_fail("compare needs --cluster at least twice (e.g. --cluster zhengzhou-30k "
                    "--cluster zhengzhou-60k)");
  if (trace_path && profile)
    return cli_fail("give --trace FILE or --profile P (generated work), not both");
  if (!trace_path && !profile)
    return cli_fail("compare needs the work: --trace FILE, or --profile ai4s|llm|hpc to generate it");
  if (trace_path && days != 0) return cli_fail("--days goes with --profile (a trace has its own days)");
  if (!pols.n) pols.v[pols.n++] = "backfill";
  if (!places.n) places.v[places.n++] = "topo";
  int ns = clusters.n * pols.n * places.n;
  if (ns < 2)
    return cli_fail("compare needs at least two scenarios: give --cluster twice, or several "
                    "--policy or --placement (to replay one, use 'wanka replay')");
  replay_opts o;
  replay_opts_init(&o);
  sched_policy pv[CLI_LIST_MAX];
  sched_placement qv[CLI_LIST_MAX];
  for (int i = 0; i < pols.n; i++)
    if (sched_policy_parse(pols.v[i], &pv[i])) return cli_fail_unknown("policy", pols.v[i], cli_policies);
  for (int i = 0; i < places.n; i++)
    if (sched_placement_parse(places.v[i], &qv[i]))
      return cli_fail_unknown("placement", places.v[i], cli_placements);
  if (cli_replay_failures_fabric(failures, fabric, &o)) return 2;
  for (int i = 0; i < places.n; i++)
    if (qv[i] == SCHED_PLACE_NETAWARE && !o.fabric)
      return cli_fail("--placement netaware needs --fabric on (it places by the fabric's state)");
  if (fail && !o.fabric) return cli_fail("--fail needs --fabric on (faults act on the fabric model)");
  if (profile) {
    int known = 0;
    for (const char *const *p = trace_gen_profiles(); *p; p++) known |= !strcmp(*p, profile);
    if (!known) return cli_fail_unknown("profile", profile, trace_gen_profiles());
  }
  if (trace_format_parse(format, &to.format))
    return cli_fail_unknown("trace format", format, cli_trace_formats);
  o.seed = (uint64_t)seed;
  o.sample_s = sample != 0 ? sample : 600;

  cli_report *rep_out = NULL; /* checked before any work */
  if (report_path && !(rep_out = cli_report_new(report_path))) return 2;
  wk_err err;
  wk_err_clear(&err);
  hw_cluster *c[CLI_LIST_MAX] = {0};
  replay_fault (*faults)[CLI_MAX_FAULTS] = wk_calloc(CLI_LIST_MAX, sizeof *faults);
  uint32_t nfaults[CLI_LIST_MAX] = {0};
  scenario *s = wk_calloc((size_t)ns, sizeof *s);
  sched_tenants *ten = NULL;
  trace *t = NULL;
  rp_progress *bar = NULL;
  rc = 2;
  if (tenants_path && sched_tenants_load(tenants_path, &ten, &err)) goto fail_err;
  o.sched.tenants = ten;
  uint32_t largest = 0;
  for (int i = 0; i < clusters.n; i++) {
    if (!(c[i] = hw_load(clusters.v[i], &err))) {
      rc = cli_fail_cluster(&err, clusters.v[i]);
      goto done;
    }
    if (hw_cards(c[i]) > largest) largest = hw_cards(c[i]);
    /* each fault named on each cluster before any work */
    if (fail && cli_replay_faults(fail, c[i], clusters.v[i], faults[i], &nfaults[i], &err)) goto fail_err;
  }
  char what[512];
  if (profile) {
    trace_gen_opts g;
    trace_gen_opts_init(&g);
    g.profile = profile;
    g.cards = largest;
    g.days = days != 0 ? days : 7;
    g.seed = (uint64_t)seed;
    g.utilization = load;
    if (trace_gen(&g, &t, &err)) goto fail_err;
    snprintf(what, sizeof what, "%s work generated for %u cards at load %g, %g days, seed %lld",
             profile, largest, load, g.days, (long long)seed);
  } else {
    if (trace_load(trace_path, &to, &t, &err)) goto fail_err;
    snprintf(what, sizeof what, "%s", trace_path);
  }
  if (fail) { /* the faults belong to the work compared: say so where the work is named */
    size_t len = strlen(what);
    snprintf(what + len, sizeof what - len, ", faults %s", fail);
  }
  trace_summary sum;
  trace_summarize(t, &sum);
  if (!trace_njobs(t)) {
    cli_fail("%s has no jobs: nothing to compare", profile ? "the generated work" : trace_path);
    goto done;
  }
  for (int i = 0; i < clusters.n; i++)
    if ((uint64_t)sum.cards_max > hw_cards(c[i])) {
      cli_fail("cluster '%s' has %u cards, but the widest job of %s takes %lld: compare clusters "
               "that can all run it (or lower --cards-per-unit)", clusters.v[i], hw_cards(c[i]),
               profile ? "the generated work" : trace_path, (long long)sum.cards_max);
      goto done;
    }
  /* every cluster x policy x placement, one after the other (each replay holds its results) */
  int k = 0;
  for (int i = 0; i < clusters.n; i++)
    for (int p = 0; p < pols.n; p++)
      for (int q = 0; q < places.n; q++, k++) {
        scenario *sc = &s[k];
        sc->cluster = i;
        sc->policy = pv[p];
        sc->placement = qv[q];
        size_t len = (size_t)snprintf(sc->label, sizeof sc->label, "%s", clusters.v[i]);
        if (pols.n > 1 && len < sizeof sc->label)
          len += (size_t)snprintf(sc->label + len, sizeof sc->label - len, " %s", pols.v[p]);
        if (places.n > 1 && len < sizeof sc->label)
          snprintf(sc->label + len, sizeof sc->label - len, " %s", places.v[q]);
      }
  bar = rp_progress_new(stderr, !quiet && isatty(STDERR_FILENO));
  for (k = 0; k < ns; k++) {
    scenario *sc = &s[k];
    /* one label for the whole run, so the bar's estimate of the time left spans the scenarios;
     * each scenario's replay moves it through its share */
    cli_bar cb = {bar, "", (double)k / ns, 1.0 / ns};
    snprintf(cb.label, sizeof cb.label, "compare: %d scenarios", ns);
    cli_bar_set(&cb, 0);
    replay_opts so = o;
    so.progress = cli_bar_set;
    so.progress_ctx = &cb;
    so.sched.policy = sc->policy;
    so.sched.placement = sc->placement;
    so.faults = fail ? faults[sc->cluster] : NULL;
    so.nfaults = fail ? nfaults[sc->cluster] : 0;
    sc->u = cli_usage_new(c[sc->cluster], trace_njobs(t));
    so.observe = cli_usage_observe;
    so.observe_ctx = sc->u;
    if (replay_run(c[sc->cluster], t, &so, &sc->r, &err)) goto fail_err;
    sc->use = cli_sreport_new(c[sc->cluster], t, sc->r, sc->u);
  }
  rp_progress_free(bar);
  bar = NULL;
  if (rep_out) {
    rc = write_report(rep_out, s, ns, c, clusters.v, what, &o);
    rep_out = NULL;
    if (rc) goto done;
  }
  if (json) {
    json_t *root = json_object(), *rows = json_array();
    json_object_set_new(root, "work", json_string(what));
    json_object_set_new(root, "jobs", json_integer((json_int_t)trace_njobs(t)));
    json_object_set_new(root, "fabric", json_string(o.fabric ? "on" : "off"));
    json_object_set_new(root, "failures_per_card_day", json_real(o.failure_rate));
    json_object_set_new(root, "fail", fail ? json_string(fail) : json_null());
    for (k = 0; k < ns; k++) {
      json_t *row = cli_replay_json(c[s[k].cluster], clusters.v[s[k].cluster], t,
                                    profile ? "(generated)" : trace_path, &o, s[k].r);
      json_object_set_new(row, "policy", json_string(sched_policy_name(s[k].policy)));
      json_object_set_new(row, "placement", json_string(sched_placement_name(s[k].placement)));
      json_object_set_new(row, "scenario", json_string(s[k].label));
      json_object_set_new(row, "usage", cli_sreport_json(s[k].use));
      json_array_append_new(rows, row);
    }
    json_object_set_new(root, "scenarios", rows);
    cli_print_json(root, 10);
  } else {
    print_table(s, ns, c, what, trace_njobs(t));
  }
  rc = 0;
  goto done;
fail_err:
  rc = cli_fail_err(&err);
done:
  rp_progress_free(bar);
  cli_report_abort(rep_out);
  for (k = 0; k < ns; k++) {
    replay_free(s[k].r);
    cli_usage_free(s[k].u);
    cli_sreport_free(s[k].use);
  }
  wk_free(s);
  for (int i = 0; i < CLI_LIST_MAX; i++) hw_free(c[i]);
  wk_free(faults);
  trace_free(t);
  sched_tenants_free(ten);
  return rc;
}
