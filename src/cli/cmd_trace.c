/* cmd_trace.c — `wanka trace gen|info`: generate a synthetic SWF trace for a cluster size
 * (to stdout, or atomically to a file), and describe any job trace the readers accept (jobs,
 * span, card-hours, size and run-time percentiles, states, drops) as text or one JSON object.
 * Bad input: one "file:line:col: error: ..." line on stderr, exit 2, nothing on stdout. */
#include "cli.h"
#include "trace/trace.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *fmt_utc(int64_t t, char *buf, size_t n) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) snprintf(buf, n, "%lld", (long long)t);
  else strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

static int trace_gen_cmd(int argc, char **argv) {
  const char *profile = "ai4s", *out = NULL;
  int64_t cards = 0, seed = 1;
  double days = 0, load = 0.9;
  const cli_opt opts[] = {
      {"profile", CLI_STR, &profile, "P", "workload mix: ai4s (default), llm or hpc", 0, 0},
      {"cards", CLI_INT, &cards, "N", "cluster size in cards (required)", 1, TRACE_MAX_CARDS},
      {"days", CLI_DOUBLE, &days, "D", "arrivals over D days (required)", 0.001, 36500},
      {"seed", CLI_INT, &seed, "S", "random seed (default 1): same seed, same bytes",
       0, CLI_MAX_SEED},
      {"load", CLI_DOUBLE, &load, "L", "offered load as a fraction of the cards (default 0.9)",
       0.001, 100},
      {"out", CLI_STR, &out, "FILE", "write to FILE (atomically; - is stdout) instead of stdout",
       0, 0},
      {0},
  };
  const cli_cmd cmd = {"gen", "wanka trace gen [--profile ai4s] --cards N --days D --seed S "
                              "[--load L] [--out FILE]",
                       "Generate a synthetic job trace in SWF from published workload statistics\n"
                       "(Acme NSDI'24, Philly ATC'19, ALCF Theta/Mira).", opts};
  char *pos[1];
  int npos, rc = cli_parse(&cmd, argc, argv, pos, 0, &npos);
  if (rc) return rc == 1 ? 0 : rc;
  if (!cards) return cli_fail("trace gen needs --cards N (a positive number of cards)");
  if (days == 0) return cli_fail("trace gen needs --days D (a positive number of days)");
  cli_out *o = cli_out_new(out ? out : "-"); /* checked before anything is generated */
  if (!o) return 2;
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.profile = profile;
  g.cards = cards;
  g.days = days;
  g.seed = (uint64_t)seed;
  g.utilization = load;
  trace *t = NULL;
  wk_err e;
  wk_err_clear(&e);
  if (trace_gen(&g, &t, &e)) {
    cli_out_abort(o);
    return cli_fail_err(&e);
  }
  char comment[256];
  snprintf(comment, sizeof comment,
           "Computer: synthetic %lld-card cluster (wanka trace gen --profile %s --seed %lld "
           "--load %g)\nMaxNodes: %lld",
           (long long)cards, profile, (long long)seed, load, (long long)cards);
  FILE *f = cli_out_begin(o);
  if (!f) {
    trace_free(t);
    return 2;
  }
  trace_write_swf(t, f, comment, &e); /* a write error stays in f: commit reports it */
  trace_free(t);
  return cli_out_commit(&o, 1);
}

/* Jobs and card-hours per user, group or queue: what a tenants file is written from. */
typedef struct name_use {
  uint32_t id;
  size_t jobs;
  double card_hours;
} name_use;

static int by_card_hours(const void *pa, const void *pb) {
  const name_use *a = pa, *b = pb;
  if (a->card_hours != b->card_hours) return a->card_hours > b->card_hours ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id; /* ties: first seen first */
}

/* The names of one field (0 user, 1 group, 2 queue) with their jobs and card-hours, most
 * card-hours first. OUT *n entries, wk_malloc'd. O(jobs + names log names). */
static name_use *names_used(const trace *t, int field, size_t *n) {
  size_t nn = trace_nnames(t), nj = trace_njobs(t);
  const trace_job *jobs = trace_jobs(t);
  name_use *u = wk_calloc(nn ? nn : 1, sizeof *u);
  for (size_t i = 0; i < nj; i++) {
    uint32_t id = field == 0 ? jobs[i].user : field == 1 ? jobs[i].group : jobs[i].queue;
    if (id >= nn) continue;
    u[id].id = id;
    u[id].jobs++;
    u[id].card_hours += (double)jobs[i].cards * (double)jobs[i].runtime_s / 3600.0;
  }
  size_t k = 0;
  for (size_t i = 0; i < nn; i++)
    if (u[i].jobs) u[k++] = u[i];
  qsort(u, k, sizeof *u, by_card_hours);
  *n = k;
  return u;
}

static const char *const name_fields[3] = {"users", "groups", "queues"};

static const char *shown_name(const trace *t, uint32_t id) {
  const char *s = trace_name(t, id);
  return s[0] ? s : "(none)";
}

static void names_json(json_t *j, const trace *t) {
  for (int f = 0; f < 3; f++) {
    size_t n;
    name_use *u = names_used(t, f, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *o = json_object();
      json_object_set_new(o, "name", json_string(trace_name(t, u[i].id)));
      json_object_set_new(o, "jobs", json_integer((json_int_t)u[i].jobs));
      json_object_set_new(o, "card_hours", json_real(u[i].card_hours));
      json_array_append_new(arr, o);
    }
    json_object_set_new(j, name_fields[f], arr);
    wk_free(u);
  }
}

/* "users        12: alice 40 jobs 1.2e+04 card-h (38.1 %), ..." with the `top` largest by
 * card-hours, one a line, and how many more there are. */
static void names_text(const trace *t, double total, int64_t top) {
  for (int f = 0; f < 3; f++) {
    size_t n;
    name_use *u = names_used(t, f, &n);
    if (n == 1 && !trace_name(t, u[0].id)[0]) { /* the trace does not say */
      printf("%-12s none in the trace\n", name_fields[f]);
      wk_free(u);
      continue;
    }
    printf("%-12s %zu, by card-hours%s\n", name_fields[f], n,
           n > (size_t)top ? " (the largest; more with --top K, all with --json)" : "");
    for (size_t i = 0; i < n && i < (size_t)top; i++)
      printf("  %-22s %8zu jobs %12.1f card-h %5.1f %%\n", shown_name(t, u[i].id), u[i].jobs,
             u[i].card_hours, total > 0 ? 100 * u[i].card_hours / total : 0.0);
    if (n > (size_t)top) {
      size_t jobs = 0;
      double ch = 0;
      for (size_t i = (size_t)top; i < n; i++) jobs += u[i].jobs, ch += u[i].card_hours;
      printf("  %-22s %8zu jobs %12.1f card-h %5.1f %%\n", "(the rest)", jobs, ch,
             total > 0 ? 100 * ch / total : 0.0);
    }
    wk_free(u);
  }
}

static int trace_info_cmd(int argc, char **argv) {
  const char *format = "auto";
  trace_opts o; /* the trace options are read straight into it */
  trace_opts_init(&o);
  int json = 0;
  int64_t top = 10;
  const cli_opt opts[] = {
      {"format", CLI_STR, &format, "F",
       "auto (default), swf, sacct, cobalt, philly, alibaba, helios", 0, 0},
      {"cards-per-unit", CLI_INT, &o.cards_per_unit, "K",
       "cards per trace unit (GPU, node, processor); default 1", 1, 65536},
      {"time-scale", CLI_DOUBLE, &o.time_scale, "X", "multiply run times by X (default 1)",
       1e-6, 1e6},
      {"load", CLI_DOUBLE, &o.load, "L", "compress arrival gaps by 1/L (default 1)", 0.001, 1000},
      {"skip-bad", CLI_FLAG, &o.skip_bad, NULL, "count and skip malformed rows instead of stopping",
       0, 0},
      {"top", CLI_INT, &top, "K",
       "users, groups and queues listed in the text, largest first (default 10)", 1, 1e9},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object instead of the table", 0, 0},
      {0},
  };
  const cli_cmd cmd = {"info", "wanka trace info FILE [--format F] [--cards-per-unit K] "
                               "[--skip-bad] [--top K] [--json]",
                       "Describe a job trace (plain or gzip): jobs, span, card-hours, sizes,\n"
                       "run times, final states, dropped rows, and the users, groups and queues\n"
                       "with their jobs and card-hours (what a tenants file is written from).",
                       opts};
  char *pos[1];
  int npos, rc = cli_parse(&cmd, argc, argv, pos, 1, &npos);
  if (rc) return rc == 1 ? 0 : rc;
  if (npos != 1) return cli_fail("trace info needs a trace file (see 'wanka trace info --help')");
  if (trace_format_parse(format, &o.format))
    return cli_fail_unknown("trace format", format, cli_trace_formats);
  trace *t = NULL;
  wk_err e;
  wk_err_clear(&e);
  if (trace_load(pos[0], &o, &t, &e)) return cli_fail_err(&e);
  trace_summary s;
  trace_summarize(t, &s);
  const trace_counts *c = trace_get_counts(t);
  size_t dropped = 0;
  for (int d = 0; d < TRACE_DROP_COUNT; d++) dropped += c->dropped[d];
  double span_days = (double)(s.last_end_s - s.first_submit_s) / 86400.0;
  char errbuf[1024], a[32], b[32];
  if (json) {
    json_t *j = json_object(), *st = json_object(), *dr = json_object();
    json_object_set_new(j, "file", json_string(pos[0]));
    json_object_set_new(j, "format", json_string(trace_format_name(trace_get_format(t))));
    json_object_set_new(j, "rows", json_integer((json_int_t)c->rows));
    json_object_set_new(j, "jobs", json_integer((json_int_t)s.jobs));
    json_object_set_new(j, "skipped_bad", json_integer((json_int_t)c->skipped_bad));
    if (c->skipped_bad)
      json_object_set_new(j, "first_bad", json_string(wk_err_format(&c->first_bad, errbuf, sizeof errbuf)));
    for (int d = 0; d < TRACE_DROP_COUNT; d++)
      json_object_set_new(dr, trace_drop_name((trace_drop)d), json_integer((json_int_t)c->dropped[d]));
    json_object_set_new(j, "dropped", dr);
    json_object_set_new(j, "first_submit_s", json_integer(s.first_submit_s));
    json_object_set_new(j, "last_submit_s", json_integer(s.last_submit_s));
    json_object_set_new(j, "last_end_s", json_integer(s.last_end_s));
    json_object_set_new(j, "span_days", json_real(span_days));
    json_object_set_new(j, "card_hours", json_real(s.card_hours));
    json_object_set_new(j, "mean_offered_cards", json_real(s.mean_offered_cards));
    json_object_set_new(j, "cards_p50", json_integer(s.cards_p50));
    json_object_set_new(j, "cards_p90", json_integer(s.cards_p90));
    json_object_set_new(j, "cards_p99", json_integer(s.cards_p99));
    json_object_set_new(j, "cards_max", json_integer(s.cards_max));
    json_object_set_new(j, "runtime_p50_s", json_integer(s.runtime_p50_s));
    json_object_set_new(j, "runtime_p90_s", json_integer(s.runtime_p90_s));
    json_object_set_new(j, "runtime_max_s", json_integer(s.runtime_max_s));
    for (int k = 0; k < TRACE_STATE_COUNT; k++)
      json_object_set_new(st, trace_state_name((trace_state)k), json_integer((json_int_t)s.states[k]));
    json_object_set_new(j, "states", st);
    names_json(j, t);
    cli_print_json(j, 10);
  } else {
    printf("trace        %s (%s)\n", pos[0], trace_format_name(trace_get_format(t)));
    printf("jobs         %zu of %zu rows (%zu dropped, %zu malformed skipped)\n", s.jobs, c->rows,
           dropped, c->skipped_bad);
    for (int d = 0; d < TRACE_DROP_COUNT; d++)
      if (c->dropped[d])
        printf("  dropped    %zu: %s\n", c->dropped[d], trace_drop_text((trace_drop)d));
    if (c->skipped_bad) printf("  first bad  %s\n", wk_err_format(&c->first_bad, errbuf, sizeof errbuf));
    if (s.jobs) {
      printf("submits      %s .. %s UTC (times as in the trace)\n",
             fmt_utc(s.first_submit_s, a, sizeof a), fmt_utc(s.last_submit_s, b, sizeof b));
      printf("span         %.2f days, first submit to last end\n", span_days);
      printf("card-hours   %.6g (on average %.1f cards busy over the span)\n", s.card_hours,
             s.mean_offered_cards);
      printf("cards/job    p50 %lld  p90 %lld  p99 %lld  max %lld\n", (long long)s.cards_p50,
             (long long)s.cards_p90, (long long)s.cards_p99, (long long)s.cards_max);
      printf("run time s   p50 %lld  p90 %lld  max %lld\n", (long long)s.runtime_p50_s,
             (long long)s.runtime_p90_s, (long long)s.runtime_max_s);
      printf("states      ");
      for (int k = 0; k < TRACE_STATE_COUNT; k++)
        if (s.states[k]) printf(" %s %zu", trace_state_name((trace_state)k), s.states[k]);
      printf("\n");
      names_text(t, s.card_hours, top);
    }
  }
  trace_free(t);
  return 0;
}

int cmd_trace(int argc, char **argv) {
  if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
    FILE *f = argc < 1 ? stderr : stdout;
    fprintf(f, "Usage: wanka trace gen|info [options]\n"
               "  gen    generate a synthetic SWF trace (--cards N --days D --seed S)\n"
               "  info   describe a job trace: SWF, sacct, Cobalt, Philly, Alibaba, Helios/Acme\n"
               "Run 'wanka trace gen --help' or 'wanka trace info --help' for options.\n");
    return argc < 1 ? 2 : 0;
  }
  if (!strcmp(argv[0], "gen")) return trace_gen_cmd(argc - 1, argv + 1);
  if (!strcmp(argv[0], "info")) return trace_info_cmd(argc - 1, argv + 1);
  static const char *const subs[] = {"gen", "info", NULL};
  return cli_fail_unknown("trace command", argv[0], subs);
}
