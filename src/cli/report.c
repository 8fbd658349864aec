/* report.c — `--report FILE.html` for every subcommand that has one: the pair of outputs (the
 * page and FILE.data.json, checked before any work and committed together through out.c) and
 * the replay's pages, shared by `replay` and `compare`. What the charts are made of is chosen
 * here; how a chart is drawn is report/'s business. */
#include "cli.h"
#include "work/work.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cli_report {
  cli_out *out[2]; /* the page, the data */
};

cli_report *cli_report_new(const char *path) {
  if (!*path || !strcmp(path, "-")) {
    cli_fail("--report takes a file name such as report.html (its data is written beside it), "
             "not '%s'", path);
    return NULL;
  }
  size_t n = strlen(path);
  if (n + 16 > PATH_MAX) {
    cli_fail("--report '%s': the name is too long", path);
    return NULL;
  }
  char data[PATH_MAX];
  size_t stem = n > 5 && !strcmp(path + n - 5, ".html") ? n - 5 : n;
  snprintf(data, sizeof data, "%.*s.data.json", (int)stem, path);
  cli_report *o = wk_calloc(1, sizeof *o);
  if (!(o->out[0] = cli_out_new(path)) || !(o->out[1] = cli_out_new(data))) {
    cli_report_abort(o);
    return NULL;
  }
  return o;
}

void cli_report_abort(cli_report *o) {
  if (!o) return;
  cli_out_abort(o->out[0]);
  cli_out_abort(o->out[1]);
  wk_free(o);
}

int cli_report_commit(cli_report *o, const rp_report *rep) {
  FILE *h = cli_out_begin(o->out[0]);
  if (!h) {
    o->out[0] = NULL; /* freed by cli_out_begin */
    cli_report_abort(o);
    return 2;
  }
  FILE *d = cli_out_begin(o->out[1]);
  if (!d) {
    o->out[1] = NULL;
    cli_report_abort(o);
    return 2;
  }
  (void)rp_report_write(rep, h, d); /* a write error stays in the stream: commit reports it */
  int rc = cli_out_commit(o->out, 2);
  wk_free(o);
  return rc;
}

/* ---- what the observer sees ------------------------------------------------------------------- */
struct cli_usage {
  uint32_t snodes, per_snode;
  double *snode_card_s; /* busy card-seconds of each supernode */
  double *run_t0;       /* per observer id: its run's start (s) */
  double *job_card_s;   /* per observer id: card-seconds of all its runs */
  size_t njobs;
};

cli_usage *cli_usage_new(const hw_cluster *c, size_t jobs) {
  cli_usage *u = wk_calloc(1, sizeof *u);
  u->snodes = hw_supernodes(c);
  u->per_snode = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  u->snode_card_s = wk_calloc(u->snodes ? u->snodes : 1, sizeof(double));
  u->njobs = jobs;
  u->run_t0 = wk_calloc(jobs ? jobs : 1, sizeof(double));
  u->job_card_s = wk_calloc(jobs ? jobs : 1, sizeof(double));
  return u;
}

void cli_usage_free(cli_usage *u) {
  if (!u) return;
  wk_free(u->snode_card_s);
  wk_free(u->run_t0);
  wk_free(u->job_card_s);
  wk_free(u);
}

void cli_usage_observe(void *ctx, uint32_t job, int start, wk_time t, const sched_range *r,
                       uint32_t nr) {
  cli_usage *u = ctx;
  WK_ASSERT(job < u->njobs);
  double now = wk_time_to_s(t);
  if (start) {
    u->run_t0[job] = now;
    return;
  }
  double dt = now - u->run_t0[job];
  for (uint32_t i = 0; i < nr; i++) {
    /* the range's cards, split over the supernodes it covers */
    uint32_t a = r[i].first, end = r[i].first + r[i].n;
    while (a < end) {
      uint32_t sn = a / u->per_snode, next = (sn + 1) * u->per_snode;
      uint32_t b = next < end ? next : end;
      if (sn < u->snodes) u->snode_card_s[sn] += (double)(b - a) * dt;
      u->job_card_s[job] += (double)(b - a) * dt;
      a = b;
    }
  }
}

double cli_usage_job_card_s(const cli_usage *u, uint32_t run) {
  WK_ASSERT(run < u->njobs);
  return u->job_card_s[run];
}

/* ---- the replay's pages ----------------------------------------------------------------------- */
#define SERIES_POINTS 4000 /* a time series longer than this is averaged down to it */
#define TOP_TENANTS 16     /* tenants shown one by one; the rest are summed as "others" */

/* "Heading (what)" into buf. */
static const char *titled(const char *heading, const char *what, char *buf, size_t n) {
  if (what) snprintf(buf, n, "%s: %s", heading, what);
  else snprintf(buf, n, "%s", heading);
  return buf;
}

/* Time (days) and f(sample) for each sample, averaged over strides when there are more than
 * SERIES_POINTS, so a year of 10-minute samples still draws quickly. OUT x, y (wk_malloc'd);
 * returns the points. */
typedef double (*sample_fn)(const replay_sample *s, const void *ctx);
static size_t sample_series(const replay_sample *s, size_t n, sample_fn f, const void *ctx,
                            double **x, double **y) {
  size_t stride = n > SERIES_POINTS ? (n + SERIES_POINTS - 1) / SERIES_POINTS : 1;
  size_t m = n ? (n + stride - 1) / stride : 0;
  *x = wk_malloc(sizeof(double) * (m ? m : 1));
  *y = wk_malloc(sizeof(double) * (m ? m : 1));
  for (size_t k = 0; k < m; k++) {
    double sx = 0, sy = 0;
    size_t cnt = 0;
    for (size_t i = k * stride; i < n && i < (k + 1) * stride; i++, cnt++) {
      sx += s[i].t_s / 86400.0;
      sy += f(&s[i], ctx);
    }
    (*x)[k] = sx / (double)cnt;
    (*y)[k] = sy / (double)cnt;
  }
  return m;
}

static double busy_share(const replay_sample *s, const void *ctx) {
  return (double)s->busy_cards / *(const double *)ctx;
}
static double down_share(const replay_sample *s, const void *ctx) {
  return (double)s->down_cards / *(const double *)ctx;
}
static double queued_jobs(const replay_sample *s, const void *ctx) {
  (void)ctx;
  return (double)s->queued_jobs;
}
static double queued_cards(const replay_sample *s, const void *ctx) {
  (void)ctx;
  return (double)s->queued_cards;
}
static double down_cards(const replay_sample *s, const void *ctx) {
  (void)ctx;
  return (double)s->down_cards;
}
static double tier_util(const replay_sample *s, const void *ctx) {
  return (double)s->tier_util[*(const int *)ctx];
}

static void add_samples(rp_chart *ch, const char *name, const replay_sample *s, size_t n,
                        sample_fn f, const void *ctx) {
  double *x, *y;
  size_t m = sample_series(s, n, f, ctx, &x, &y);
  rp_chart_xy(ch, name, x, y, NULL, m);
  wk_free(x);
  wk_free(y);
}

/* One row of the summary table. */
static void summary_row(rp_report *rep, const char *what, const char *fmt, double v) {
  char b[64];
  if (isfinite(v)) snprintf(b, sizeof b, fmt, v);
  else snprintf(b, sizeof b, "n/a");
  rp_report_row(rep, (const char *const[]){what, b});
}

static void summary(rp_report *rep, const hw_cluster *c, const replay_metrics *m) {
  rp_report_table(rep, "Metrics", 2, (const char *const[]){"metric", "value"});
  summary_row(rep, "cards", "%.0f", (double)hw_cards(c));
  summary_row(rep, "jobs replayed", "%.0f", (double)m->jobs);
  summary_row(rep, "utilization (busy card-seconds / cards x makespan)", "%.4f", m->utilization);
  summary_row(rep, "JCT p50 (h)", "%.2f", m->p50_jct_s / 3600);
  summary_row(rep, "JCT p99 (h)", "%.2f", m->p99_jct_s / 3600);
  summary_row(rep, "queueing delay mean (h)", "%.2f", m->avg_queue_s / 3600);
  summary_row(rep, "queueing delay p99 (h)", "%.2f", m->p99_queue_s / 3600);
  summary_row(rep, "bounded slowdown (tau 10 s)", "%.2f", m->bounded_slowdown);
  summary_row(rep, "goodput (useful / allocated card-seconds)", "%.4f", m->goodput);
  summary_row(rep, "ETTR", "%.4f", m->ettr);
  summary_row(rep, "failures", "%.0f", (double)m->failures);
  summary_row(rep, "restarts", "%.0f", (double)m->restarts);
  summary_row(rep, "makespan (days)", "%.2f", m->makespan_s / 86400);
  summary_row(rep, "contention slowdown mean (card-weighted)", "%.4f", m->contention_slowdown_mean);
  summary_row(rep, "contention slowdown p99", "%.4f", m->contention_slowdown_p99);
}

/* Each tenant's share of the card-hours used against its quota's share of the cluster, and
 * where its card-hours went: useful work, slowed (placement and the fabric), lost (failures,
 * preemptions, restarts, jobs killed or given up). The TOP_TENANTS largest users are shown, the
 * rest summed. */
static void tenants(rp_report *rep, const hw_cluster *c, const replay *r, const cli_usage *u) {
  size_t n;
  const replay_job *jobs = replay_jobs(r, &n);
  uint32_t nt = replay_ntenants(r), *ids = wk_malloc(sizeof(uint32_t) * (n ? n : 1));
  size_t nid = replay_run_ids(r, ids);
  double *used = wk_calloc(nt + 1, sizeof(double)), *useful = wk_calloc(nt + 1, sizeof(double));
  double *slowed = wk_calloc(nt + 1, sizeof(double)), total = 0;
  for (size_t k = 0; k < nid && k < u->njobs; k++) {
    const replay_job *j = &jobs[ids[k]];
    double cs = u->job_card_s[k];
    used[j->tenant] += cs;
    total += cs;
    if (j->fate != REPLAY_FINISHED) continue; /* all it held was lost */
    double work = (double)j->cards * j->runtime_s;
    /* the fabric's stretch (placement and contention) over the work, when it is known */
    double stretch = j->iter_ideal_s > 0 ? j->iter_actual_s / j->iter_ideal_s : 1.0;
    double slow = work * (stretch > 1 ? stretch - 1 : 0);
    if (work + slow > cs) slow = cs > work ? cs - work : 0; /* never more than it held */
    useful[j->tenant] += work < cs ? work : cs;
    slowed[j->tenant] += slow;
  }
  wk_free(ids);
  /* the largest users first, ties by index */
  uint32_t *order = wk_malloc(sizeof(uint32_t) * (nt ? nt : 1));
  for (uint32_t i = 0; i < nt; i++) order[i] = i;
  for (uint32_t i = 1; i < nt; i++)
    for (uint32_t k = i; k > 0 && used[order[k]] > used[order[k - 1]]; k--) {
      uint32_t tmp = order[k];
      order[k] = order[k - 1];
      order[k - 1] = tmp;
    }
  uint32_t shown = nt > TOP_TENANTS ? TOP_TENANTS : nt, ncat = shown + (nt > shown);
  const char **names = wk_malloc(sizeof(char *) * (ncat ? ncat : 1));
  double *share = wk_calloc(ncat + 1, sizeof(double)), *quota = wk_calloc(ncat + 1, sizeof(double));
  double *cu = wk_calloc(ncat + 1, sizeof(double)), *cs = wk_calloc(ncat + 1, sizeof(double));
  double *cl = wk_calloc(ncat + 1, sizeof(double));
  for (uint32_t i = 0; i < nt; i++) {
    uint32_t t = order[i], k = i < shown ? i : shown;
    names[k] = i < shown ? replay_tenant_name(r, t) : "others";
    share[k] += total > 0 ? used[t] / total : 0;
    quota[k] += replay_tenant_quota_cards(r, t, hw_cards(c)) / hw_cards(c);
    cu[k] += useful[t] / 3600;
    cs[k] += slowed[t] / 3600;
    double lost = used[t] - useful[t] - slowed[t];
    cl[k] += lost > 0 ? lost / 3600 : 0; /* rounding must not draw a negative bar */
  }
  rp_chart *ch = rp_chart_add(rep, RP_BAR, "Each tenant's share of the card-hours against its quota",
                              "tenant", "share of the cluster");
  rp_chart_categories(ch, names, ncat);
  rp_chart_values(ch, "used (share of busy card-hours)", share, ncat);
  rp_chart_values(ch, "quota (share of the cards)", quota, ncat);
  rp_chart_note(ch, "A tenant above its quota borrowed idle cards (fairshare lends them); one "
                    "below it either had no work waiting or was held back.");
  ch = rp_chart_add(rep, RP_STACK, "Where each tenant's card-hours went", NULL, "card-hours");
  rp_chart_categories(ch, names, ncat);
  rp_chart_values(ch, "useful work", cu, ncat);
  rp_chart_values(ch, "slowed by placement and the fabric", cs, ncat);
  rp_chart_values(ch, "lost to failures, preemptions and restarts", cl, ncat);
  rp_chart_note(ch, "Useful: cards x the trace's runtime of finished jobs. Slowed: the extra time "
                    "their iterations took on their cards, shared, over the ideal placement. Lost: "
                    "the rest the runs held (work since the last checkpoint, restart costs, jobs "
                    "killed or given up).");
  wk_free(order);
  wk_free(names);
  wk_free(share);
  wk_free(quota);
  wk_free(cu);
  wk_free(cs);
  wk_free(cl);
  wk_free(used);
  wk_free(useful);
  wk_free(slowed);
}

/* The cluster as a person knows it: one cell per supernode (scale-up domain), rows of 16 (a
 * scaleX supercluster) when the supernodes come in sixteens, else a near-square grid, coloured
 * by the share of its cards that were busy over the makespan. */
void cli_report_machine(rp_report *rep, const char *name, const hw_cluster *c, const replay *r,
                        const cli_usage *u) {
  const replay_metrics *m = replay_get_metrics(r);
  uint32_t n = u->snodes, cols;
  if (n >= 32 && n % 16 == 0) cols = 16;
  else cols = (uint32_t)ceil(sqrt((double)n));
  if (cols == 0) cols = 1;
  uint32_t rows = (n + cols - 1) / cols;
  double *v = wk_malloc(sizeof(double) * rows * cols);
  char **names = wk_malloc(sizeof(char *) * rows);
  for (uint32_t i = 0; i < rows * cols; i++)
    v[i] = i < n && m->makespan_s > 0 ? u->snode_card_s[i] / ((double)u->per_snode * m->makespan_s)
                                      : NAN;
  for (uint32_t k = 0; k < rows; k++) {
    names[k] = wk_malloc(48);
    uint32_t first = k * cols * u->per_snode, last = (k + 1) * cols * u->per_snode;
    if (last > hw_cards(c)) last = hw_cards(c);
    snprintf(names[k], 48, "cards %u-%u", first, last - 1);
  }
  char title[256];
  snprintf(title, sizeof title, "%s: %u supernodes of %u cards, coloured by busy share",
           name ? name : "The cluster", n, u->per_snode);
  rp_chart *ch = rp_chart_add(rep, RP_GRID, title, "supernode in the row", NULL);
  rp_chart_grid(ch, rows, cols, v, (const char *const *)names, "supernode", "busy share", 0, 1);
  rp_chart_note(ch, cols == 16 ? "Each row is 16 supernodes (one scaleX supercluster of 10,240 "
                                 "cards where the cluster is built of them); each cell the share "
                                 "of its cards' time that jobs held, over the whole replay."
                               : "Each cell is one supernode (scale-up domain); its colour the "
                                 "share of its cards' time that jobs held, over the whole replay.");
  for (uint32_t k = 0; k < rows; k++) wk_free(names[k]);
  wk_free(names);
  wk_free(v);
}

/* The CDF over a replay's jobs, in hours: JCT (queue 0) or first queueing delay (1). */
static void job_cdf(rp_chart *ch, const char *label, const replay *r, int queue) {
  size_t nj;
  const replay_job *jobs = replay_jobs(r, &nj);
  double *v = wk_malloc(sizeof(double) * (nj ? nj : 1));
  size_t m = 0;
  for (size_t i = 0; i < nj; i++) {
    if (queue && jobs[i].start_s >= 0) v[m++] = (jobs[i].start_s - jobs[i].submit_s) / 3600;
    if (!queue && jobs[i].end_s >= 0 && jobs[i].fate != REPLAY_DROPPED)
      v[m++] = (jobs[i].end_s - jobs[i].submit_s) / 3600;
  }
  rp_chart_cdf(ch, label, v, m, 300, 1.0 / 3600);
  wk_free(v);
}

void cli_report_replay(rp_report *rep, const char *what, const hw_cluster *c, const replay *r,
                       const cli_usage *u, const replay_opts *o) {
  const replay_metrics *m = replay_get_metrics(r);
  size_t ns, nj;
  const replay_sample *s = replay_samples(r, &ns);
  const replay_job *jobs = replay_jobs(r, &nj);
  double cards = (double)hw_cards(c);
  char h[256];

  rp_report_section(rep, titled("Summary", what, h, sizeof h), NULL);
  summary(rep, c, m);

  rp_report_section(rep, titled("Load over time", what, h, sizeof h),
                    "How busy the cards were and how much work waited, sample by sample.");
  rp_chart *ch = rp_chart_add(rep, RP_LINE, "Cluster utilization", "time (days)", "share of the cards");
  add_samples(ch, "busy", s, ns, busy_share, &cards);
  add_samples(ch, "down (failed, in repair)", s, ns, down_share, &cards);
  rp_chart_yrange(ch, 0, 1);
  ch = rp_chart_add(rep, RP_LINE, "Queue length", "time (days)", "jobs waiting");
  add_samples(ch, "jobs waiting", s, ns, queued_jobs, NULL);
  ch = rp_chart_add(rep, RP_LINE, "Cards wanted by the queue", "time (days)", "cards");
  add_samples(ch, "cards wanted by waiting jobs", s, ns, queued_cards, NULL);
  rp_chart_note(ch, "Above the cluster's size, the queue alone could fill it.");

  rp_report_section(rep, titled("Jobs", what, h, sizeof h),
                    "How long jobs took from submission to end (JCT) and how long they waited "
                    "before their first start, as cumulative distributions.");
  ch = rp_chart_add(rep, RP_LINE, "Job completion time and queueing delay (CDF)", "hours",
                    "fraction of jobs");
  job_cdf(ch, "job completion time", r, 0);
  job_cdf(ch, "queueing delay", r, 1);
  rp_chart_log(ch, 1, 0);
  rp_chart_yrange(ch, 0, 1);
  rp_chart_note(ch, "Log scale; times under one second are drawn at one second.");
  tenants(rep, c, r, u);

  rp_report_section(rep, titled("Failures", what, h, sizeof h),
                    "Cards out of service (failed, waiting for repair) over time. Work lost to "
                    "the failures is in the tenants' card-hours above.");
  ch = rp_chart_add(rep, RP_LINE, "Cards down", "time (days)", "cards");
  add_samples(ch, "cards down", s, ns, down_cards, NULL);
  char note[256];
  snprintf(note, sizeof note,
           "%llu failures, %llu of them hit running jobs; %llu restarts; goodput %.4f.",
           (unsigned long long)m->failures, (unsigned long long)m->failures_hit_jobs,
           (unsigned long long)m->restarts, m->goodput);
  rp_chart_note(ch, note);

  if (o->fabric) {
    rp_report_section(rep, titled("The fabric", what, h, sizeof h),
                      "Every job runs its workload on the shared fabric: each tier's expected "
                      "load over its capacity, and how much slower jobs ran than alone on the "
                      "same cards.");
    ch = rp_chart_add(rep, RP_LINE, "Link utilization by tier", "time (days)", "load / capacity");
    for (int k = 0; k < m->fabric_tiers; k++) {
      char name[32];
      snprintf(name, sizeof name, "tier %d%s", k + 1, k == 0 ? " (leaf uplinks)" : "");
      add_samples(ch, name, s, ns, tier_util, &k);
    }
    if (!m->fabric_tiers) rp_chart_note(ch, "No job's traffic crossed a shared link.");
    double *sd = wk_malloc(sizeof(double) * (nj ? nj : 1));
    size_t nsd = 0;
    for (size_t i = 0; i < nj; i++)
      if (jobs[i].fate == REPLAY_FINISHED && jobs[i].slowdown > 0) sd[nsd++] = jobs[i].slowdown;
    ch = rp_chart_add(rep, RP_LINE, "Slowdown from sharing the fabric (CDF over finished jobs)",
                      "iteration time / iteration time alone on the same cards", "fraction of jobs");
    rp_chart_cdf(ch, "jobs", sd, nsd, 400, 1.0);
    rp_chart_yrange(ch, 0, 1);
    snprintf(note, sizeof note,
             "Card-weighted mean %.4f, p99 %.4f; %.1f %% of jobs ran more than 5 %% slower.",
             m->contention_slowdown_mean, m->contention_slowdown_p99, 100 * m->jobs_slowed);
    rp_chart_note(ch, note);
    wk_free(sd);
  }

  rp_report_section(rep, titled("The machine", what, h, sizeof h), NULL);
  cli_report_machine(rep, NULL, c, r, u);
}

/* ---- scenarios side by side --------------------------------------------------------------------- */
/* A bar chart of figures (series) over scenarios (categories); get(m, e, k) gives figure k. */
static void compare_bars(rp_report *rep, const char *title, const char *ylabel,
                         const char *const *labels, const hw_cluster *const *c,
                         const replay *const *r, size_t n, const char *const *names, int nfig,
                         double (*get)(const replay_metrics *m, const replay_energy *e, int k)) {
  rp_chart *ch = rp_chart_add(rep, RP_BAR, title, NULL, ylabel);
  rp_chart_categories(ch, labels, n);
  double *v = wk_malloc(sizeof(double) * (n ? n : 1));
  for (int k = 0; k < nfig; k++) {
    for (size_t i = 0; i < n; i++) {
      replay_energy e;
      replay_energy_of(r[i], c[i], &e);
      v[i] = get(replay_get_metrics(r[i]), &e, k);
    }
    rp_chart_values(ch, names[k], v, n);
  }
  wk_free(v);
}

static double ratios(const replay_metrics *m, const replay_energy *e, int k) {
  (void)e;
  return k == 0 ? m->utilization : k == 1 ? m->goodput : m->ettr;
}
static double hours(const replay_metrics *m, const replay_energy *e, int k) {
  (void)e;
  return (k == 0 ? m->p50_jct_s : k == 1 ? m->p99_jct_s : k == 2 ? m->avg_queue_s : m->p99_queue_s) /
         3600;
}
static double energy(const replay_metrics *m, const replay_energy *e, int k) {
  (void)m;
  (void)k;
  return e->known ? e->facility_j / 3.6e9 : NAN;
}

void cli_report_compare(rp_report *rep, const char *const *labels, const hw_cluster *const *c,
                        const replay *const *r, const cli_usage *const *u, size_t n) {
  (void)u;
  rp_report_section(rep, "The figures", "Each group of bars is one scenario.");
  static const char *const rn[] = {"utilization", "goodput", "ETTR"};
  compare_bars(rep, "Utilization, goodput and ETTR", "share", labels, c, r, n, rn, 3, ratios);
  static const char *const hn[] = {"JCT p50", "JCT p99", "queueing mean", "queueing p99"};
  compare_bars(rep, "Job completion time and queueing delay", "hours", labels, c, r, n, hn, 4,
               hours);
  int any_energy = 0;
  for (size_t i = 0; i < n; i++) any_energy |= hw_cfg(c[i])->card_busy_w > 0;
  if (any_energy) {
    static const char *const en[] = {"energy (facility, MWh)"};
    compare_bars(rep, "Energy over the makespan", "MWh", labels, c, r, n, en, 1, energy);
  }
  rp_report_section(rep, "Over time", "One line per scenario.");
  rp_chart *ut = rp_chart_add(rep, RP_LINE, "Cluster utilization", "time (days)", "share of the cards");
  rp_chart *qu = rp_chart_add(rep, RP_LINE, "Queue length", "time (days)", "jobs waiting");
  rp_chart_yrange(ut, 0, 1);
  for (size_t i = 0; i < n; i++) {
    size_t ns;
    const replay_sample *s = replay_samples(r[i], &ns);
    double cards = (double)hw_cards(c[i]);
    add_samples(ut, labels[i], s, ns, busy_share, &cards);
    add_samples(qu, labels[i], s, ns, queued_jobs, NULL);
  }
  rp_report_section(rep, "Jobs", "Cumulative distributions over the jobs, one line per scenario.");
  rp_chart *jc = rp_chart_add(rep, RP_LINE, "Job completion time (CDF)", "hours", "fraction of jobs");
  rp_chart *qc = rp_chart_add(rep, RP_LINE, "Queueing delay (CDF)", "hours", "fraction of jobs");
  for (size_t i = 0; i < n; i++) {
    job_cdf(jc, labels[i], r[i], 0);
    job_cdf(qc, labels[i], r[i], 1);
  }
  rp_chart_log(jc, 1, 0);
  rp_chart_log(qc, 1, 0);
  rp_chart_yrange(jc, 0, 1);
  rp_chart_yrange(qc, 0, 1);
  rp_chart_note(qc, "Log scale; delays under one second are drawn at one second.");
}

/* ---- training steps ----------------------------------------------------------------------------- */
void cli_report_steps(rp_report *rep, const char *const *names, const work_result *const *res,
                      size_t n) {
  static const char *const parts[] = {"compute", "exposed TP", "exposed PP", "exposed DP",
                                      "exposed EP", "exposed CP", "pipeline bubble",
                                      "overlap slowdown", "optimizer"};
  enum { NPARTS = sizeof parts / sizeof parts[0] };
  double *v = wk_malloc(sizeof(double) * (n ? n : 1));
  rp_chart *ch = rp_chart_add(rep, RP_STACK, "Where a step's time goes", NULL, "seconds per step");
  rp_chart_categories(ch, names, n);
  for (int p = 0; p < NPARTS; p++) {
    for (size_t i = 0; i < n; i++) {
      const work_breakdown *b = &res[i]->b;
      const double part[NPARTS] = {b->compute, b->tp,     b->pp,      b->dp,       b->ep,
                                   b->cp,      b->bubble, b->overlap, b->optimizer};
      v[i] = part[p];
    }
    rp_chart_values(ch, parts[p], v, n);
  }
  rp_chart_note(ch, "Compute is forward, backward and recomputation; exposed communication is the "
                    "part not hidden behind compute; overlap is compute slowed by communication "
                    "kernels running beside it.");
  static const char *const mparts[] = {"weights", "gradients", "optimizer state", "activations",
                                       "other"};
  ch = rp_chart_add(rep, RP_STACK, "Memory per card (most loaded pipeline stage)", NULL, "GB");
  rp_chart_categories(ch, names, n);
  for (int p = 0; p < 5; p++) {
    for (size_t i = 0; i < n; i++) {
      const work_memory *m = &res[i]->mem;
      const double part[5] = {m->weights, m->grads, m->optimizer, m->activations, m->other};
      v[i] = part[p] / 1e9;
    }
    rp_chart_values(ch, mparts[p], v, n);
  }
  char note[128];
  snprintf(note, sizeof note, "Each card has %.1f GB of HBM.", n ? res[0]->hbm_bytes / 1e9 : 0.0);
  rp_chart_note(ch, note);
  wk_free(v);
}
