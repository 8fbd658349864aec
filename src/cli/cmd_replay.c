/* cmd_replay.c — `wanka replay`: replay a job trace on a cluster model under a scheduling
 * policy and placement, with failures and checkpoint/restart, and print the metrics (a table,
 * or one JSON object with --json), each job running its workload on the shared fabric unless
 * --fabric off; --out DIR adds jobs.csv and timeseries.csv, written as a
 * pair (both temp files in full, then two renames). Bad input: one "file:line:col: error: ..."
 * line on stderr, exit 2. */
#include "cli.h"
#include "replay/replay.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

/* The files of --out DIR, written as one set. */
#define REPLAY_OUTS 3
static const char *const out_names[REPLAY_OUTS] = {"jobs.csv", "timeseries.csv", "usage.csv"};

static void abort_outputs(cli_out *out[REPLAY_OUTS]) {
  for (int k = 0; k < REPLAY_OUTS; k++) {
    cli_out_abort(out[k]);
    out[k] = NULL;
  }
}

/* Checks DIR/jobs.csv, DIR/timeseries.csv and DIR/usage.csv before any work: OUT out[], or
 * all NULL when DIR does not exist yet (made, and its files checked, once the replay has
 * run). 0 or 2. */
static int check_outputs(const char *dir, cli_out *out[REPLAY_OUTS]) {
  int exists;
  for (int k = 0; k < REPLAY_OUTS; k++) out[k] = NULL;
  if (cli_out_check_dir(dir, &exists)) return 2;
  if (!exists) return 0;
  char path[PATH_MAX];
  for (int k = 0; k < REPLAY_OUTS; k++) {
    snprintf(path, sizeof path, "%s/%s", dir, out_names[k]);
    if (!(out[k] = cli_out_new(path))) {
      abort_outputs(out);
      return 2;
    }
  }
  return 0;
}

/* Writes DIR/jobs.csv, DIR/timeseries.csv and DIR/usage.csv as a matched set: every temp file
 * is written and synced in full first (any error removes them all and leaves the old set as
 * it was), and only then renamed one after the other, so the window in which a crash could
 * leave a new jobs.csv beside an old timeseries.csv is a few rename() calls, not a whole file
 * write. Takes out[] (from check_outputs). 0 or 2. */
static int write_jobs(const replay *r, const cli_sreport *use, const char *dir,
                      cli_out *out[REPLAY_OUTS]) {
  if (!out[0]) {
    if (cli_out_make_dir(dir) || check_outputs(dir, out)) return 2;
  }
  FILE *f[REPLAY_OUTS];
  for (int k = 0; k < REPLAY_OUTS; k++) {
    if (!(f[k] = cli_out_begin(out[k]))) { /* out[k] is freed */
      out[k] = NULL;
      abort_outputs(out);
      return 2;
    }
  }
  FILE *jo = f[0], *to = f[1];
  cli_sreport_csv(use, f[2]);
  fprintf(jo, "id,tenant,submit_s,start_s,end_s,cards,domains_spanned,restarts,preemptions,fate,"
              "workload,iter_ideal_s,iter_actual_s,slowdown\n");
  size_t n;
  const replay_job *j = replay_jobs(r, &n);
  for (size_t i = 0; i < n; i++)
    fprintf(jo, "%lld,%s,%.3f,%.3f,%.3f,%u,%u,%u,%u,%s,%s,%.6g,%.6g,%.6g\n", (long long)j[i].id,
            replay_tenant_name(r, j[i].tenant), j[i].submit_s, j[i].start_s, j[i].end_s, j[i].cards,
            j[i].domains, j[i].restarts, j[i].preemptions, replay_fate_name((replay_fate)j[i].fate),
            replay_workload_name(r, j[i].workload), j[i].iter_ideal_s, j[i].iter_actual_s,
            j[i].slowdown);
  int tiers = replay_get_metrics(r)->fabric_tiers;
  fprintf(to, "time_s,busy_cards,down_cards,queued_jobs,queued_cards");
  for (int k = 1; k <= tiers; k++) fprintf(to, ",tier%d_util", k);
  fputc('\n', to);
  const replay_sample *s = replay_samples(r, &n);
  for (size_t i = 0; i < n; i++) {
    fprintf(to, "%.0f,%u,%u,%u,%llu", s[i].t_s, s[i].busy_cards, s[i].down_cards, s[i].queued_jobs,
            (unsigned long long)s[i].queued_cards);
    for (int k = 0; k < tiers; k++) fprintf(to, ",%.4f", s[i].tier_util[k]);
    fputc('\n', to);
  }
  return cli_out_commit(out, REPLAY_OUTS);
}

/* A user's --sample (0: the default, not checked here) against the trace it samples: refused
 * above the trace's span (first submit to last end: the series would be one or two rows) and
 * when the series would not fit in memory (rows over the span, doubled as the array grows).
 * Checked before the replay runs. 0 or 2. */
static int check_sample(const trace *t, const char *path, double sample) {
  if (sample == 0) return 0;
  trace_summary s;
  trace_summarize(t, &s);
  double span = (double)(s.last_end_s - s.first_submit_s);
  char a[32], b[32];
  if (span > 0 && sample > span)
    return cli_fail("--sample %s is longer than the span of %s (%s, first submit to last end): "
                    "give a shorter step", cli_fmt_duration(sample, a, sizeof a), path,
                    cli_fmt_duration(span, b, sizeof b));
  double rows = span / sample + 2, bytes = 2 * rows * (double)sizeof(replay_sample);
  if (bytes > wk_memory_limit())
    return cli_fail("--sample %s over the %.1f days of %s makes %.3g samples (%.1f GiB), beyond "
                    "the %.1f GiB allowed (half of this machine's memory, or "
                    "WANKA_MAX_MODEL_BYTES): give a longer step",
                    cli_fmt_duration(sample, a, sizeof a), span / 86400, path, rows,
                    bytes / 1073741824.0, wk_memory_limit() / 1073741824.0);
  return 0;
}

/* No job of the trace was replayed: says why, as one error line (exit 2). */
static void say_empty(const trace *t, const char *path, const hw_cluster *c,
                      const char *cluster, const replay_metrics *m) {
  if (!m->dropped_too_large) {
    cli_fail("no job ran: %s has no jobs; give a trace with jobs (or --allow-empty to print "
             "the metrics anyway)", path);
    return;
  }
  trace_summary s;
  trace_summarize(t, &s);
  cli_fail("no job ran: all %zu jobs of %s are wider than the %u cards of %s (the widest takes "
           "%lld); use a larger cluster or a smaller --cards-per-unit (or --allow-empty to "
           "print the metrics anyway)", m->dropped_too_large, path, hw_cards(c),
           cluster, (long long)s.cards_max);
}

/* A metric that is a ratio or a statistic over the jobs: null when no job ran (a run with no
 * jobs is not perfect, it is unmeasured). */
static json_t *per_job(double v, const replay_metrics *m) {
  return m->jobs ? json_real(v) : json_null();
}

int cli_replay_failures_fabric(const char *failures, const char *fabric, replay_opts *o) {
  if (failures) {
    if (!strcmp(failures, "off")) o->failure_rate = 0;
    else if (wk_parse_double(failures, &o->failure_rate))
      return cli_fail("--failures must be a rate per card-day (e.g. 4.7e-4) or 'off', not '%s'",
                      failures);
    else if (cli_check_range("failures", failures, o->failure_rate, 0, 100, CLI_DOUBLE))
      return 2;
  }
  static const char *const onoff[] = {"on", "off", NULL};
  if (!strcmp(fabric, "on")) o->fabric = 1;
  else if (!strcmp(fabric, "off")) o->fabric = 0;
  else return cli_fail_unknown("--fabric value", fabric, onoff);
  return 0;
}

void cli_bar_set(void *ctx, double frac) {
  cli_bar *b = ctx;
  rp_progress_set(b->p, b->label, b->base + b->span * frac, rp_clock_s());
}

wk_errcode cli_replay_faults(const char *fail, const hw_cluster *c, const char *name,
                             replay_fault *faults, uint32_t *n, wk_err *err) {
  char specs[1024];
  *n = 0;
  if (strlen(fail) >= sizeof specs)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail: the list is longer than %zu characters",
                      sizeof specs - 1);
  snprintf(specs, sizeof specs, "%s", fail);
  char *save = NULL;
  for (char *sp = strtok_r(specs, ",", &save); sp; sp = strtok_r(NULL, ",", &save)) {
    if (*n == CLI_MAX_FAULTS)
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail: at most %d faults", CLI_MAX_FAULTS);
    wk_errcode rc = replay_fault_parse(sp, c, name, &faults[*n], err);
    if (rc) return rc;
    ++*n;
  }
  return WK_OK;
}

json_t *cli_replay_json(const hw_cluster *c, const char *cluster, const trace *t,
                        const char *trace_path, const replay_opts *o, const replay *r) {
  const replay_metrics *m = replay_get_metrics(r);
  json_t *j = json_object();
  json_object_set_new(j, "cluster", json_string(cluster)); /* as given, tweaks included */
  json_object_set_new(j, "cards", json_integer(hw_cards(c)));
  json_object_set_new(j, "trace", json_string(trace_path));
  json_object_set_new(j, "policy", json_string(sched_policy_name(o->sched.policy)));
  json_object_set_new(j, "placement", json_string(sched_placement_name(o->sched.placement)));
  json_object_set_new(j, "jobs", json_integer((json_int_t)m->jobs));
  json_object_set_new(j, "finished", json_integer((json_int_t)m->finished));
  json_object_set_new(j, "killed", json_integer((json_int_t)m->killed));
  json_object_set_new(j, "abandoned", json_integer((json_int_t)m->abandoned));
  json_object_set_new(j, "abandoned_checkpoint_over_mtbf",
                      json_integer((json_int_t)m->abandoned_hopeless));
  json_object_set_new(j, "dropped_too_large", json_integer((json_int_t)m->dropped_too_large));
  json_object_set_new(j, "utilization", per_job(m->utilization, m));
  json_object_set_new(j, "avg_jct_s", per_job(m->avg_jct_s, m));
  json_object_set_new(j, "p50_jct_s", per_job(m->p50_jct_s, m));
  json_object_set_new(j, "p99_jct_s", per_job(m->p99_jct_s, m));
  json_object_set_new(j, "avg_queue_s", per_job(m->avg_queue_s, m));
  json_object_set_new(j, "p99_queue_s", per_job(m->p99_queue_s, m));
  json_object_set_new(j, "bounded_slowdown", per_job(m->bounded_slowdown, m));
  json_object_set_new(j, "goodput", per_job(m->goodput, m));
  json_object_set_new(j, "ettr", per_job(m->ettr, m));
  json_object_set_new(j, "makespan_s", json_real(m->makespan_s));
  json_object_set_new(j, "wall_s", json_real(m->wall_s));
  json_object_set_new(j, "restarts", json_integer((json_int_t)m->restarts));
  json_object_set_new(j, "preemptions", json_integer((json_int_t)m->preemptions));
  json_object_set_new(j, "failures", json_integer((json_int_t)m->failures));
  json_object_set_new(j, "failures_hit_jobs", json_integer((json_int_t)m->failures_hit_jobs));
  json_object_set_new(j, "busy_card_s", json_real(m->busy_card_s));
  json_object_set_new(j, "useful_card_s", json_real(m->useful_card_s));
  json_object_set_new(j, "mean_queued_jobs", per_job(m->mean_queued_jobs, m));
  json_object_set_new(j, "tenants", json_integer(replay_ntenants(r)));
  json_object_set_new(j, "fabric", json_string(o->fabric ? "on" : "off"));
  json_object_set_new(j, "contention_slowdown_mean", per_job(m->contention_slowdown_mean, m));
  json_object_set_new(j, "contention_slowdown_p99", per_job(m->contention_slowdown_p99, m));
  json_object_set_new(j, "jobs_slowed", per_job(m->jobs_slowed, m));
  json_t *tiers = json_array();
  for (int k = 0; k < m->fabric_tiers; k++) json_array_append_new(tiers, json_real(m->fabric_util_by_tier[k]));
  json_object_set_new(j, "fabric_util_by_tier", tiers);
  json_object_set_new(j, "workloads", json_integer(m->workloads));
  json_object_set_new(j, "fabric_jobs", json_integer((json_int_t)m->fabric_jobs));
  json_object_set_new(j, "fabric_solves", json_integer((json_int_t)m->fabric_solves));
  json_object_set_new(j, "fabric_evals", json_integer((json_int_t)m->fabric_evals));
  json_object_set_new(j, "fabric_entries", json_integer((json_int_t)m->fabric_entries));
  json_object_set_new(j, "fabric_full_evals", json_integer((json_int_t)m->fabric_full_evals));
  json_object_set_new(j, "fabric_full_entries", json_integer((json_int_t)m->fabric_full_entries));
  json_object_set_new(j, "fabric_handovers", json_integer((json_int_t)m->fabric_handovers));
  json_object_set_new(j, "fabric_faults", json_integer((json_int_t)m->fabric_faults));
  json_object_set_new(j, "fabric_rerouted", json_integer((json_int_t)m->fabric_rerouted));
  json_object_set_new(j, "fault_lost_card_s", json_real(m->fault_lost_card_s));
  const trace_counts *tc = trace_get_counts(t);
  json_object_set_new(j, "trace_rows_skipped", json_integer((json_int_t)tc->skipped_bad));
  replay_energy en;
  replay_energy_of(r, c, &en);
  json_object_set_new(j, "energy_mwh", en.known ? json_real(en.facility_j / 3.6e9) : json_null());
  json_object_set_new(j, "energy_it_mwh",
                      en.known ? json_real((en.cards_j + en.switches_j) / 3.6e9) : json_null());
  json_object_set_new(j, "pue", en.known ? json_real(en.pue) : json_null());
  json_object_set_new(j, "kwh_per_useful_card_hour",
                      en.known && m->useful_card_s > 0 ? json_real(en.kwh_per_useful_card_hour)
                                                       : json_null());
  return j;
}

/* v with printf format fmt, or "n/a" when no job ran. Returns buf. */
static const char *per_job_text(const char *fmt, double v, const replay_metrics *m, char *buf,
                                size_t n) {
  if (!m->jobs) snprintf(buf, n, "n/a");
  else snprintf(buf, n, fmt, v);
  return buf;
}

/* The table; per-job figures read "n/a" when no job ran. */
static void print_text(const hw_cluster *c, const char *cluster, const char *trace_path,
                       const replay_opts *o, const replay *r) {
  const replay_metrics *m = replay_get_metrics(r);
  char a[32], b[32], d[32];
  printf("replay          %s on %s (%u cards), policy %s, placement %s\n", trace_path,
         cluster, hw_cards(c), sched_policy_name(o->sched.policy),
         sched_placement_name(o->sched.placement));
  printf("jobs            %zu replayed, %zu finished, %zu killed, %zu dropped (wider than the "
         "cluster)\n", m->jobs, m->finished, m->killed, m->dropped_too_large);
  if (m->abandoned)
    printf("abandoned       %zu (failed %u times in a row without a checkpoint; %zu need restart + "
           "checkpoint interval > their cards' MTBF)\n",
           m->abandoned, o->abandon_after, m->abandoned_hopeless);
  printf("utilization     %s\n", per_job_text("%.4f", m->utilization, m, a, sizeof a));
  printf("JCT (s)         avg %s  p50 %s  p99 %s\n", per_job_text("%.0f", m->avg_jct_s, m, a, 32),
         per_job_text("%.0f", m->p50_jct_s, m, b, 32),
         per_job_text("%.0f", m->p99_jct_s, m, d, 32));
  printf("queue delay (s) avg %s  p99 %s\n", per_job_text("%.0f", m->avg_queue_s, m, a, 32),
         per_job_text("%.0f", m->p99_queue_s, m, b, 32));
  printf("bounded slowdown %s (tau 10 s)\n", per_job_text("%.3f", m->bounded_slowdown, m, a, 32));
  printf("goodput         %s (useful / allocated card-seconds)\n",
         per_job_text("%.4f", m->goodput, m, a, 32));
  printf("ETTR            %s (productive / wall time of jobs, card-weighted)\n",
         per_job_text("%.4f", m->ettr, m, a, 32));
  printf("failures        %llu (%llu hit running jobs), %llu restarts, %llu preemptions\n",
         (unsigned long long)m->failures, (unsigned long long)m->failures_hit_jobs,
         (unsigned long long)m->restarts, (unsigned long long)m->preemptions);
  if (o->fabric) {
    printf("fabric          %u workloads; %llu job runs on shared links; contention slowdown mean "
           "%s (card-weighted), p99 %s; %s %% of jobs > 5 %% slower than alone\n",
           m->workloads, (unsigned long long)m->fabric_jobs,
           per_job_text("%.4f", m->contention_slowdown_mean, m, a, 32),
           per_job_text("%.4f", m->contention_slowdown_p99, m, b, 32),
           per_job_text("%.1f", 100 * m->jobs_slowed, m, d, 32));
    printf("tier util       ");
    for (int k = 0; k < m->fabric_tiers; k++)
      printf("%stier %d %.4f", k ? ", " : "", k + 1, m->fabric_util_by_tier[k]);
    printf("%s (time-averaged load / capacity)\n", m->fabric_tiers ? "" : "no shared links");
  } else {
    printf("fabric          off (placement stretch, communication share %.2f)\n", o->comm_fraction);
  }
  replay_energy en;
  replay_energy_of(r, c, &en);
  if (en.known)
    printf("energy          %.1f MWh (facility, PUE %.2f; IT %.1f MWh), %.3f kWh per useful "
           "card-hour\n", en.facility_j / 3.6e9, en.pue, (en.cards_j + en.switches_j) / 3.6e9,
           en.kwh_per_useful_card_hour);
  printf("makespan_s      %.0f (%.2f days)\n", m->makespan_s, m->makespan_s / 86400);
  printf("wall_s          %.3f (%.0f jobs/s)\n", m->wall_s,
         m->wall_s > 0 ? (double)m->jobs / m->wall_s : 0);
}

int cmd_replay(int argc, char **argv) {
  const char *cluster = NULL, *trace_path = NULL, *format = "auto", *tenants_path = NULL;
  const char *policy = "backfill", *placement = "topo", *failures = NULL, *ckpt = "1h", *out_dir = NULL;
  const char *fabric = "on", *workloads_path = NULL, *report_path = NULL, *fail = NULL;
  double restart_cost = 300, comm = 0.1, sample = 0;
  int64_t seed = 1, lookahead = 500, abandon_after = 50;
  int json = 0, wt_kill = 0, preempt_ckpt = 0, allow_empty = 0, quiet = 0;
  trace_opts to; /* the trace options are read straight into it */
  trace_opts_init(&to);
  const cli_opt opts[] = {
      {"cluster", CLI_STR, &cluster, "C", "preset or YAML file, with :key=value tweaks (required)",
       0, 0},
      {"trace", CLI_STR, &trace_path, "FILE", "job trace, plain or gzip (required)", 0, 0},
      {"format", CLI_STR, &format, "F",
       "swf, sacct, cobalt, philly, alibaba, helios (default: detect)", 0, 0},
      {"tenants", CLI_STR, &tenants_path, "FILE.yaml",
       "tenants: quotas, priorities, user/group/queue patterns", 0, 0},
      {"policy", CLI_STR, &policy, "P", "fifo, backfill (default), sjf, fairshare, priority, las",
       0, 0},
      {"placement", CLI_STR, &placement, "Q",
       "topo (default: smallest domain, best fit), first-fit, or netaware (the candidate the "
       "fabric favours)", 0, 0},
      {"failures", CLI_STR, &failures, "RATE|off",
       "interruptions per card-day (default 4.7e-4, Llama 3)", 0, 0},
      {"checkpoint-interval", CLI_STR, &ckpt, "T|auto",
       "work between checkpoints (default 1h; auto: Young/Daly)", 0, 0},
      {"restart-cost", CLI_DURATION, &restart_cost, "T",
       "time to restart after a failure or preemption (default 5m)", 0, 30 * 86400},
      {"preempt-checkpoint", CLI_FLAG, &preempt_ckpt, NULL,
       "preempted jobs checkpoint as they stop (lose no work)", 0, 0},
      {"abandon-after", CLI_INT, &abandon_after, "N",
       "give up a job after N failures in a row that save no checkpoint (default 50; 0 = never)",
       0, 1e9},
      {"fabric", CLI_STR, &fabric, "on|off",
       "on (default): jobs run their workloads on the shared fabric; off: the placement stretch "
       "model", 0, 0},
      {"fail", CLI_STR, &fail, "SPEC[,SPEC]",
       "inject fabric faults: KIND:WHERE@TIME[+DURATION], kinds spine, switch, leaf-uplinks, pod, "
       "cable (e.g. spine:3@2d+6h; docs/replay.md)", 0, 0},
      {"workloads", CLI_STR, &workloads_path, "FILE.yaml",
       "rules giving each job a model or kernel (default rules: docs/replay.md)", 0, 0},
      {"comm-fraction", CLI_DOUBLE, &comm, "F",
       "with --fabric off: communication share of a step (default 0.1)", 0, 1},
      {"walltime-kill", CLI_FLAG, &wt_kill, NULL, "kill runs that exceed their requested walltime",
       0, 0},
      {"lookahead", CLI_INT, &lookahead, "N",
       "queued jobs examined per pass (default 500, as Slurm)", 1, 1e8},
      {"cards-per-unit", CLI_INT, &to.cards_per_unit, "K",
       "cards per trace unit (GPU, node, processor; default 1)", 1, 65536},
      {"time-scale", CLI_DOUBLE, &to.time_scale, "X",
       "multiply runtimes and walltimes by X (default 1)", 1e-6, 1e6},
      {"load", CLI_DOUBLE, &to.load, "L", "compress arrival gaps by 1/L (default 1)", 0.001, 1000},
      {"skip-bad", CLI_FLAG, &to.skip_bad, NULL,
       "skip malformed trace rows (counted) instead of stopping", 0, 0},
      {"sample", CLI_DURATION, &sample, "T",
       "timeseries step (default 10m; at most the trace's span)", 0.001, 365 * 86400},
      {"seed", CLI_INT, &seed, "S", "random seed for failures (default 1)", 0, CLI_MAX_SEED},
      {"out", CLI_STR, &out_dir, "DIR",
       "write DIR/jobs.csv, DIR/timeseries.csv and DIR/usage.csv (per tenant, queue, job size)",
       0, 0},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object instead of the table", 0, 0},
      {"quiet", CLI_FLAG, &quiet, NULL, "no progress bar (it shows only on a terminal)", 0, 0},
      {"report", CLI_STR, &report_path, "FILE.html",
       "write an HTML report (charts; opens offline) and FILE.data.json beside it", 0, 0},
      {"allow-empty", CLI_FLAG, &allow_empty, NULL,
       "print the metrics (ratios as null / n/a) when no job ran, instead of exit 2", 0, 0},
      {0},
  };
  const cli_cmd cmd = {"replay",
                       "wanka replay --cluster C --trace FILE [--policy P] [--placement Q] [options]",
                       "Replay a job trace on a cluster model: scheduling, placement, failures with\n"
                       "checkpoint/restart; prints utilization, JCT, queue delay, bounded slowdown,\n"
                       "goodput and ETTR.", opts};
  char *pos[1];
  int npos, rc = cli_parse(&cmd, argc, argv, pos, 0, &npos);
  if (rc) return rc == 1 ? 0 : rc;
  if (!cluster) return cli_fail("replay needs --cluster C (a preset such as zhengzhou-60k, or a YAML file)");
  if (!trace_path) return cli_fail("replay needs --trace FILE");
  replay_opts o;
  replay_opts_init(&o);
  if (sched_policy_parse(policy, &o.sched.policy))
    return cli_fail_unknown("policy", policy, cli_policies);
  if (sched_placement_parse(placement, &o.sched.placement))
    return cli_fail_unknown("placement", placement, cli_placements);
  if (trace_format_parse(format, &to.format))
    return cli_fail_unknown("trace format", format, cli_trace_formats);
  if (cli_replay_failures_fabric(failures, fabric, &o)) return 2;
  if (!strcmp(ckpt, "auto")) o.checkpoint_interval_s = 0;
  else if (wk_parse_duration_s(ckpt, &o.checkpoint_interval_s))
    return cli_fail("--checkpoint-interval must be a duration (30m, 1h) or 'auto', not '%s'", ckpt);
  else if (cli_check_range("checkpoint-interval", ckpt, o.checkpoint_interval_s, 1, 365 * 86400,
                           CLI_DURATION))
    return 2;
  o.restart_cost_s = restart_cost;
  o.comm_fraction = comm;
  o.walltime_kill = wt_kill;
  o.preempt_checkpoint = preempt_ckpt;
  o.sample_s = sample != 0 ? sample : 600;
  o.abandon_after = (uint32_t)abandon_after;
  o.seed = (uint64_t)seed;
  o.sched.lookahead = (uint32_t)lookahead;
  if (o.sched.placement == SCHED_PLACE_NETAWARE && !o.fabric)
    return cli_fail("--placement netaware needs --fabric on (it places by the fabric's state)");
  if (fail && !o.fabric) return cli_fail("--fail needs --fabric on (faults act on the fabric model)");
  if (workloads_path && !o.fabric)
    return cli_fail("--workloads needs --fabric on (with the fabric off, jobs carry no workload)");

  cli_out *outs[REPLAY_OUTS] = {NULL}; /* --out and --report are checked before any work */
  if (out_dir && check_outputs(out_dir, outs)) return 2;
  cli_report *rep_out = NULL;
  if (report_path && !(rep_out = cli_report_new(report_path))) {
    abort_outputs(outs);
    return 2;
  }
  cli_usage *usage = NULL;
  cli_sreport *use = NULL;
  wk_err err;
  wk_err_clear(&err);
  sched_tenants *ten = NULL;
  hw_cluster *c = NULL;
  trace *t = NULL;
  replay *r = NULL;
  replay_workloads *wls = NULL;
  replay_fault faults[CLI_MAX_FAULTS];
  uint32_t nfaults = 0;
  rc = 2;
  if (tenants_path && sched_tenants_load(tenants_path, &ten, &err)) goto fail_err;
  o.sched.tenants = ten;
  if (workloads_path && replay_workloads_load(workloads_path, &wls, &err)) goto fail_err;
  o.workloads = wls;
  if (!(c = hw_load(cluster, &err))) {
    rc = cli_fail_cluster(&err, cluster);
    goto done;
  }
  if (fail) { /* each spec checked against the cluster before any work */
    if (cli_replay_faults(fail, c, cluster, faults, &nfaults, &err)) goto fail_err;
    o.faults = faults;
    o.nfaults = nfaults;
  }
  if (trace_load(trace_path, &to, &t, &err)) goto fail_err;
  if (check_sample(t, trace_path, sample)) goto done;
  usage = cli_usage_new(c, trace_njobs(t)); /* the card-hours of each run, for the usage table */
  o.observe = cli_usage_observe;
  o.observe_ctx = usage;
  cli_bar bar = {rp_progress_new(stderr, !quiet && isatty(STDERR_FILENO)), "replay", 0, 1};
  o.progress = cli_bar_set;
  o.progress_ctx = &bar;
  wk_errcode run_rc = replay_run(c, t, &o, &r, &err);
  rp_progress_free(bar.p); /* the line is erased before anything is printed */
  if (run_rc) goto fail_err;
  const replay_metrics *m = replay_get_metrics(r);
  if (!m->jobs && !allow_empty) {
    say_empty(t, trace_path, c, cluster, m);
    goto done;
  }
  use = cli_sreport_new(c, t, r, usage);
  if (out_dir) {
    rc = write_jobs(r, use, out_dir, outs);
    for (int k = 0; k < REPLAY_OUTS; k++) outs[k] = NULL; /* freed by write_jobs */
    if (rc) goto done;
  }
  if (rep_out) {
    char title[512], sub[512];
    snprintf(title, sizeof title, "wanka replay: %s on %s", trace_path, cluster);
    snprintf(sub, sizeof sub, "%u cards, policy %s, placement %s, fabric %s, failures %s, seed %lld",
             hw_cards(c), sched_policy_name(o.sched.policy),
             sched_placement_name(o.sched.placement), o.fabric ? "on" : "off",
             o.failure_rate > 0 ? "on" : "off", (long long)seed);
    rp_report *rep = rp_report_new(title, sub);
    cli_report_replay(rep, NULL, c, r, usage, &o);
    rc = cli_report_commit(rep_out, rep);
    rep_out = NULL;
    rp_report_free(rep);
    if (rc) goto done;
  }
  if (json) {
    json_t *j = cli_replay_json(c, cluster, t, trace_path, &o, r);
    json_object_set_new(j, "usage", cli_sreport_json(use));
    cli_print_json(j, 10);
  } else {
    print_text(c, cluster, trace_path, &o, r);
    cli_sreport_text(use);
  }
  rc = 0;
  goto done;
fail_err:
  rc = cli_fail_err(&err);
done:
  abort_outputs(outs);
  cli_sreport_free(use);
  cli_report_abort(rep_out);
  cli_usage_free(usage);
  replay_free(r);
  trace_free(t);
  hw_free(c);
  sched_tenants_free(ten);
  replay_workloads_free(wls);
  return rc;
}
