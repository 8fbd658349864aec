/* cmd_replay.c — `wanka replay`: replay a job trace on a cluster model under a scheduling
 * policy and placement, with failures and checkpoint/restart, and print the metrics (a table,
 * or one JSON object with --json); --out DIR adds jobs.csv and timeseries.csv, written as a
 * pair (both temp files in full, then two renames). Bad input: one "file:line:col: error: ..."
 * line on stderr, exit 2. */
#include "cli.h"
#include "replay/replay.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Writes DIR/jobs.csv and DIR/timeseries.csv as a matched pair: both temp files are written
 * and flushed in full first (any error removes both and leaves the old pair as it was), and
 * only then renamed one after the other, so the window in which a crash could leave a new
 * jobs.csv beside an old timeseries.csv is two rename() calls, not a whole file write. */
static int write_jobs(const replay *r, const char *dir) {
  char jobs_path[1024], ts_path[1024];
  snprintf(jobs_path, sizeof jobs_path, "%s/jobs.csv", dir);
  snprintf(ts_path, sizeof ts_path, "%s/timeseries.csv", dir);
  cli_out jo, to;
  if (cli_out_open(&jo, jobs_path)) return cli_fail("cannot write '%s': %s", jobs_path, strerror(errno));
  if (cli_out_open(&to, ts_path)) {
    int e = errno;
    cli_out_abort(&jo);
    return cli_fail("cannot write '%s': %s", ts_path, strerror(e));
  }
  fprintf(jo.f, "id,tenant,submit_s,start_s,end_s,cards,domains_spanned,restarts,preemptions,fate,"
                "workload,iter_ideal_s,iter_actual_s,slowdown\n");
  size_t n;
  const replay_job *j = replay_jobs(r, &n);
  for (size_t i = 0; i < n; i++)
    fprintf(jo.f, "%lld,%s,%.3f,%.3f,%.3f,%u,%u,%u,%u,%s,%s,%.6g,%.6g,%.6g\n", (long long)j[i].id,
            replay_tenant_name(r, j[i].tenant), j[i].submit_s, j[i].start_s, j[i].end_s, j[i].cards,
            j[i].domains, j[i].restarts, j[i].preemptions, replay_fate_name((replay_fate)j[i].fate),
            replay_workload_name(r, j[i].workload), j[i].iter_ideal_s, j[i].iter_actual_s,
            j[i].slowdown);
  int tiers = replay_get_metrics(r)->fabric_tiers;
  fprintf(to.f, "time_s,busy_cards,down_cards,queued_jobs,queued_cards");
  for (int k = 1; k <= tiers; k++) fprintf(to.f, ",tier%d_util", k);
  fputc('\n', to.f);
  const replay_sample *s = replay_samples(r, &n);
  for (size_t i = 0; i < n; i++) {
    fprintf(to.f, "%.0f,%u,%u,%u,%llu", s[i].t_s, s[i].busy_cards, s[i].down_cards, s[i].queued_jobs,
            (unsigned long long)s[i].queued_cards);
    for (int k = 0; k < tiers; k++) fprintf(to.f, ",%.4f", s[i].tier_util[k]);
    fputc('\n', to.f);
  }
  /* both complete on disk (flushed, no stream error) before either is renamed */
  const char *bad = (fflush(jo.f) || ferror(jo.f)) ? jobs_path
                    : (fflush(to.f) || ferror(to.f)) ? ts_path
                                                      : NULL;
  if (bad) {
    int e = errno;
    cli_out_abort(&jo);
    cli_out_abort(&to);
    return cli_fail("cannot write '%s': %s", bad, strerror(e));
  }
  if (cli_out_commit(&jo)) {
    int e = errno;
    cli_out_abort(&to);
    return cli_fail("cannot write '%s': %s", jobs_path, strerror(e));
  }
  if (cli_out_commit(&to)) return cli_fail("cannot write '%s': %s", ts_path, strerror(errno));
  return 0;
}

int cmd_replay(int argc, char **argv) {
  const char *cluster = NULL, *trace_path = NULL, *format = "auto", *tenants_path = NULL;
  const char *policy = "backfill", *placement = "topo", *failures = NULL, *ckpt = "1h", *out_dir = NULL;
  const char *fabric = "on", *workloads_path = NULL;
  double restart_cost = 300, time_scale = 1, load = 1, comm = 0.1, sample = 600;
  int64_t cards_per_unit = 1, seed = 1, lookahead = 500, abandon_after = 50;
  int skip_bad = 0, json = 0, wt_kill = 0, preempt_ckpt = 0;
  const cli_opt opts[] = {
      {"cluster", CLI_STR, &cluster, "C", "preset or YAML file, with :key=value tweaks (required)"},
      {"trace", CLI_STR, &trace_path, "FILE", "job trace, plain or gzip (required)"},
      {"format", CLI_STR, &format, "F", "swf, sacct, cobalt, philly, alibaba, helios (default: detect)"},
      {"tenants", CLI_STR, &tenants_path, "FILE.yaml", "tenants: quotas, priorities, user/group/queue patterns"},
      {"policy", CLI_STR, &policy, "P", "fifo, backfill (default), sjf, fairshare, priority, las"},
      {"placement", CLI_STR, &placement, "Q", "topo (default: smallest domain, best fit) or first-fit"},
      {"failures", CLI_STR, &failures, "RATE|off", "interruptions per card-day (default 4.7e-4, Llama 3)"},
      {"checkpoint-interval", CLI_STR, &ckpt, "T|auto", "work between checkpoints (default 1h; auto: Young/Daly)"},
      {"restart-cost", CLI_DURATION, &restart_cost, "T", "time to restart after a failure or preemption (default 5m)"},
      {"preempt-checkpoint", CLI_FLAG, &preempt_ckpt, NULL, "preempted jobs checkpoint as they stop (lose no work)"},
      {"abandon-after", CLI_INT, &abandon_after, "N", "give up a job after N failures in a row that save no checkpoint (default 50; 0 = never)"},
      {"fabric", CLI_STR, &fabric, "on|off", "on (default): jobs run their workloads on the shared fabric; off: the placement stretch model"},
      {"workloads", CLI_STR, &workloads_path, "FILE.yaml", "rules giving each job a model or kernel (default: docs/replay.md)"},
      {"comm-fraction", CLI_DOUBLE, &comm, "F", "with --fabric off: communication share of a step (default 0.1)"},
      {"walltime-kill", CLI_FLAG, &wt_kill, NULL, "kill runs that exceed their requested walltime"},
      {"lookahead", CLI_INT, &lookahead, "N", "queued jobs examined per pass (default 500, as Slurm)"},
      {"cards-per-unit", CLI_INT, &cards_per_unit, "K", "cards per trace unit (GPU, node, processor; default 1)"},
      {"time-scale", CLI_DOUBLE, &time_scale, "X", "multiply runtimes and walltimes by X (default 1)"},
      {"load", CLI_DOUBLE, &load, "L", "compress arrival gaps by 1/L (default 1)"},
      {"skip-bad", CLI_FLAG, &skip_bad, NULL, "skip malformed trace rows (counted) instead of stopping"},
      {"sample", CLI_DURATION, &sample, "T", "timeseries step (default 10m)"},
      {"seed", CLI_INT, &seed, "S", "random seed for failures (default 1)"},
      {"out", CLI_STR, &out_dir, "DIR", "write DIR/jobs.csv and DIR/timeseries.csv"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object instead of the table"},
      {NULL, 0, NULL, NULL, NULL},
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
    return cli_fail("unknown policy '%s' (fifo, backfill, sjf, fairshare, priority, las)", policy);
  if (sched_placement_parse(placement, &o.sched.placement))
    return cli_fail("unknown placement '%s' (topo, first-fit)", placement);
  trace_opts to;
  trace_opts_init(&to);
  if (trace_format_parse(format, &to.format))
    return cli_fail("unknown trace format '%s' (swf, sacct, cobalt, philly, alibaba, helios)", format);
  if (cards_per_unit < 1) return cli_fail("--cards-per-unit must be >= 1");
  if (!(time_scale > 0)) return cli_fail("--time-scale must be > 0");
  if (!(load > 0)) return cli_fail("--load must be > 0");
  if (seed < 0) return cli_fail("--seed must be >= 0");
  if (abandon_after < 0 || abandon_after > 1000000000) return cli_fail("--abandon-after must be from 0 to 1000000000");
  if (lookahead < 1 || lookahead > 100000000) return cli_fail("--lookahead must be from 1 to 100000000");
  to.cards_per_unit = cards_per_unit;
  to.time_scale = time_scale;
  to.load = load;
  to.skip_bad = skip_bad;
  if (failures) {
    if (!strcmp(failures, "off")) o.failure_rate = 0;
    else if (wk_parse_double(failures, &o.failure_rate) || !(o.failure_rate >= 0))
      return cli_fail("--failures must be a rate per card-day (e.g. 4.7e-4) or 'off', not '%s'", failures);
  }
  if (!strcmp(ckpt, "auto")) o.checkpoint_interval_s = 0;
  else if (wk_parse_duration_s(ckpt, &o.checkpoint_interval_s) || !(o.checkpoint_interval_s > 0))
    return cli_fail("--checkpoint-interval must be a positive duration (30m, 1h) or 'auto', not '%s'", ckpt);
  o.restart_cost_s = restart_cost;
  o.comm_fraction = comm;
  o.walltime_kill = wt_kill;
  o.preempt_checkpoint = preempt_ckpt;
  o.sample_s = sample;
  o.abandon_after = (uint32_t)abandon_after;
  o.seed = (uint64_t)seed;
  o.sched.lookahead = (uint32_t)lookahead;
  if (!strcmp(fabric, "on")) o.fabric = 1;
  else if (!strcmp(fabric, "off")) o.fabric = 0;
  else return cli_fail("--fabric must be on or off, not '%s'", fabric);
  if (workloads_path && !o.fabric) return cli_fail("--workloads needs --fabric on (with the fabric off, jobs carry no workload)");

  wk_err err;
  wk_err_clear(&err);
  sched_tenants *ten = NULL;
  if (tenants_path && sched_tenants_load(tenants_path, &ten, &err)) return cli_fail_err(&err);
  o.sched.tenants = ten;
  replay_workloads *wls = NULL;
  if (workloads_path && replay_workloads_load(workloads_path, &wls, &err)) {
    sched_tenants_free(ten);
    replay_workloads_free(wls);
    return cli_fail_err(&err);
  }
  o.workloads = wls;
  hw_cluster *c = hw_load(cluster, &err);
  if (!c) {
    sched_tenants_free(ten);
    replay_workloads_free(wls);
    return cli_fail_err(&err);
  }
  trace *t = NULL;
  if (trace_load(trace_path, &to, &t, &err)) {
    hw_free(c);
    sched_tenants_free(ten);
    replay_workloads_free(wls);
    return cli_fail_err(&err);
  }
  replay *r = NULL;
  if (replay_run(c, t, &o, &r, &err)) {
    trace_free(t);
    hw_free(c);
    sched_tenants_free(ten);
    replay_workloads_free(wls);
    return cli_fail_err(&err);
  }
  const replay_metrics *m = replay_get_metrics(r);
  rc = 0;
  if (out_dir) {
    if (mkdir(out_dir, 0777) && errno != EEXIST) rc = cli_fail("cannot create '%s': %s", out_dir, strerror(errno));
    else rc = write_jobs(r, out_dir);
  }
  if (!rc && json) {
    json_t *j = json_object();
    json_object_set_new(j, "cluster", json_string(hw_cfg(c)->name));
    json_object_set_new(j, "cards", json_integer(hw_cards(c)));
    json_object_set_new(j, "trace", json_string(trace_path));
    json_object_set_new(j, "policy", json_string(sched_policy_name(o.sched.policy)));
    json_object_set_new(j, "placement", json_string(sched_placement_name(o.sched.placement)));
    json_object_set_new(j, "jobs", json_integer((json_int_t)m->jobs));
    json_object_set_new(j, "finished", json_integer((json_int_t)m->finished));
    json_object_set_new(j, "killed", json_integer((json_int_t)m->killed));
    json_object_set_new(j, "abandoned", json_integer((json_int_t)m->abandoned));
    json_object_set_new(j, "abandoned_checkpoint_over_mtbf", json_integer((json_int_t)m->abandoned_hopeless));
    json_object_set_new(j, "dropped_too_large", json_integer((json_int_t)m->dropped_too_large));
    json_object_set_new(j, "utilization", json_real(m->utilization));
    json_object_set_new(j, "avg_jct_s", json_real(m->avg_jct_s));
    json_object_set_new(j, "p50_jct_s", json_real(m->p50_jct_s));
    json_object_set_new(j, "p99_jct_s", json_real(m->p99_jct_s));
    json_object_set_new(j, "avg_queue_s", json_real(m->avg_queue_s));
    json_object_set_new(j, "p99_queue_s", json_real(m->p99_queue_s));
    json_object_set_new(j, "bounded_slowdown", json_real(m->bounded_slowdown));
    json_object_set_new(j, "goodput", json_real(m->goodput));
    json_object_set_new(j, "ettr", json_real(m->ettr));
    json_object_set_new(j, "makespan_s", json_real(m->makespan_s));
    json_object_set_new(j, "wall_s", json_real(m->wall_s));
    json_object_set_new(j, "restarts", json_integer((json_int_t)m->restarts));
    json_object_set_new(j, "preemptions", json_integer((json_int_t)m->preemptions));
    json_object_set_new(j, "failures", json_integer((json_int_t)m->failures));
    json_object_set_new(j, "failures_hit_jobs", json_integer((json_int_t)m->failures_hit_jobs));
    json_object_set_new(j, "busy_card_s", json_real(m->busy_card_s));
    json_object_set_new(j, "useful_card_s", json_real(m->useful_card_s));
    json_object_set_new(j, "mean_queued_jobs", json_real(m->mean_queued_jobs));
    json_object_set_new(j, "tenants", json_integer(replay_ntenants(r)));
    json_object_set_new(j, "fabric", json_string(o.fabric ? "on" : "off"));
    json_object_set_new(j, "contention_slowdown_mean", json_real(m->contention_slowdown_mean));
    json_object_set_new(j, "contention_slowdown_p99", json_real(m->contention_slowdown_p99));
    json_object_set_new(j, "jobs_slowed", json_real(m->jobs_slowed));
    json_t *tiers = json_array();
    for (int k = 0; k < m->fabric_tiers; k++) json_array_append_new(tiers, json_real(m->fabric_util_by_tier[k]));
    json_object_set_new(j, "fabric_util_by_tier", tiers);
    json_object_set_new(j, "workloads", json_integer(m->workloads));
    json_object_set_new(j, "fabric_jobs", json_integer((json_int_t)m->fabric_jobs));
    json_object_set_new(j, "fabric_solves", json_integer((json_int_t)m->fabric_solves));
    json_object_set_new(j, "fabric_evals", json_integer((json_int_t)m->fabric_evals));
    json_object_set_new(j, "fabric_entries", json_integer((json_int_t)m->fabric_entries));
    const trace_counts *tc = trace_get_counts(t);
    json_object_set_new(j, "trace_rows_skipped", json_integer((json_int_t)tc->skipped_bad));
    cli_print_json(j, 10);
  } else if (!rc) {
    printf("replay          %s on %s (%u cards), policy %s, placement %s\n", trace_path, hw_cfg(c)->name,
           hw_cards(c), sched_policy_name(o.sched.policy), sched_placement_name(o.sched.placement));
    printf("jobs            %zu replayed, %zu finished, %zu killed, %zu dropped (wider than the cluster)\n",
           m->jobs, m->finished, m->killed, m->dropped_too_large);
    if (m->abandoned)
      printf("abandoned       %zu (failed %u times in a row without a checkpoint; %zu need restart + "
             "checkpoint interval > their cards' MTBF)\n",
             m->abandoned, o.abandon_after, m->abandoned_hopeless);
    printf("utilization     %.4f\n", m->utilization);
    printf("JCT (s)         avg %.0f  p50 %.0f  p99 %.0f\n", m->avg_jct_s, m->p50_jct_s, m->p99_jct_s);
    printf("queue delay (s) avg %.0f  p99 %.0f\n", m->avg_queue_s, m->p99_queue_s);
    printf("bounded slowdown %.3f (tau 10 s)\n", m->bounded_slowdown);
    printf("goodput         %.4f (useful / allocated card-seconds)\n", m->goodput);
    printf("ETTR            %.4f (productive / wall time of jobs, card-weighted)\n", m->ettr);
    printf("failures        %llu (%llu hit running jobs), %llu restarts, %llu preemptions\n",
           (unsigned long long)m->failures, (unsigned long long)m->failures_hit_jobs,
           (unsigned long long)m->restarts, (unsigned long long)m->preemptions);
    if (o.fabric) {
      printf("fabric          %u workloads; %llu job runs on shared links; contention slowdown mean %.4f "
             "(card-weighted), p99 %.4f; %.1f %% of jobs > 5 %% slower than alone\n",
             m->workloads, (unsigned long long)m->fabric_jobs, m->contention_slowdown_mean,
             m->contention_slowdown_p99, 100 * m->jobs_slowed);
      printf("tier util       ");
      for (int k = 0; k < m->fabric_tiers; k++) printf("%stier %d %.4f", k ? ", " : "", k + 1, m->fabric_util_by_tier[k]);
      printf("%s (time-averaged load / capacity)\n", m->fabric_tiers ? "" : "no shared links");
    } else {
      printf("fabric          off (placement stretch, communication share %.2f)\n", o.comm_fraction);
    }
    printf("makespan_s      %.0f (%.2f days)\n", m->makespan_s, m->makespan_s / 86400);
    printf("wall_s          %.3f (%.0f jobs/s)\n", m->wall_s, m->wall_s > 0 ? (double)m->jobs / m->wall_s : 0);
  }
  replay_free(r);
  trace_free(t);
  hw_free(c);
  sched_tenants_free(ten);
  replay_workloads_free(wls);
  return rc;
}
