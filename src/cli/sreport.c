/* sreport.c — what a replay gave each tenant, queue and job size, the way Slurm's sreport
 * answers an operator: jobs, card-hours held, cards in use on average against the tenant's
 * quota, and the wait (first start - submit) at p50 and p99. One table feeds replay's text,
 * its JSON ("usage") and DIR/usage.csv, so the three always agree. Cost: O(n log n) for n jobs
 * (a counting sort by group, then each group's waits sorted), O(n + groups) memory. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Job sizes: cards in (edge[k - 1], edge[k]], the last open. */
#define SIZE_BINS 7
static const uint32_t size_edge[SIZE_BINS - 1] = {1, 8, 64, 512, 4096, 32768};
static const char *const size_label[SIZE_BINS] = {"1",        "2-8",         "9-64", "65-512",
                                                  "513-4096", "4097-32768", ">32768"};

static uint32_t size_bin(uint32_t cards) {
  uint32_t k = 0;
  while (k < SIZE_BINS - 1 && cards > size_edge[k]) k++;
  return k;
}

struct cli_sreport {
  cli_sreport_row *row[3]; /* tenants, queues, sizes */
  size_t n[3];
  /* the replayed jobs of each table bucketed by group: group g's are by_group[k][first[k][g]
   * .. first[k][g + 1]) (kept for the text's "(the rest)") */
  uint32_t *by_group[3], *first[3];
  uint32_t ngroups[3]; /* group ids are below these */
  const replay_job *jobs;
  const double *job_card_s; /* by replay_jobs index */
  double *card_s;
  size_t njobs;
  double makespan_s;
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p) { /* nearest rank, as replay.c */
  if (!n) return 0;
  size_t k = (size_t)ceil(p * (double)n);
  return v[k ? k - 1 : 0];
}

/* One row from the replayed jobs idx[0, n). waits: scratch of n. O(n log n). */
static void fill_row(const cli_sreport *s, const uint32_t *idx, size_t n, double *waits,
                     cli_sreport_row *out) {
  size_t nw = 0;
  out->jobs = n;
  out->card_hours = 0;
  for (size_t k = 0; k < n; k++) {
    const replay_job *j = &s->jobs[idx[k]];
    out->card_hours += s->card_s[idx[k]] / 3600;
    if (j->start_s >= 0) waits[nw++] = j->start_s - j->submit_s;
  }
  qsort(waits, nw, sizeof *waits, cmp_double);
  out->cards_used = s->makespan_s > 0 ? out->card_hours * 3600 / s->makespan_s : 0;
  out->waited = nw;
  out->wait_p50_s = pct(waits, nw, 0.5);
  out->wait_p99_s = pct(waits, nw, 0.99);
}

static int by_card_hours(const void *pa, const void *pb) {
  const cli_sreport_row *a = pa, *b = pb;
  if (a->card_hours != b->card_hours) return a->card_hours > b->card_hours ? -1 : 1;
  return strcmp(a->name, b->name);
}

cli_sreport *cli_sreport_new(const hw_cluster *c, const trace *t, const replay *r,
                             const cli_usage *u) {
  cli_sreport *s = wk_calloc(1, sizeof *s);
  s->jobs = replay_jobs(r, &s->njobs);
  s->makespan_s = replay_get_metrics(r)->makespan_s;
  size_t n = s->njobs;
  /* card-seconds each job held, over all its runs (the observer's ids are run ids) */
  s->card_s = wk_calloc(n ? n : 1, sizeof(double));
  uint32_t *ids = wk_malloc(sizeof(uint32_t) * (n ? n : 1));
  size_t nid = replay_run_ids(r, ids);
  for (size_t k = 0; k < nid; k++) s->card_s[ids[k]] = cli_usage_job_card_s(u, (uint32_t)k);
  wk_free(ids);
  const trace_job *tj = trace_jobs(t); /* replay_jobs keep the trace's order */
  WK_ASSERT(trace_njobs(t) == n);
  uint32_t *ngroups = s->ngroups;
  ngroups[0] = replay_ntenants(r);
  ngroups[1] = (uint32_t)trace_nnames(t);
  ngroups[2] = SIZE_BINS;
  double *waits = wk_malloc(sizeof(double) * (n ? n : 1));
  uint32_t *group = wk_malloc(sizeof(uint32_t) * (n ? n : 1));
  for (int k = 0; k < 3; k++) {
    uint32_t ng = ngroups[k];
    /* counting sort of the replayed jobs by group: O(n + groups) */
    for (size_t i = 0; i < n; i++)
      group[i] = k == 0 ? s->jobs[i].tenant : k == 1 ? tj[i].queue : size_bin(s->jobs[i].cards);
    uint32_t *first = s->first[k] = wk_calloc((size_t)ng + 2, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
      if (s->jobs[i].fate != REPLAY_DROPPED) {
        WK_ASSERT(group[i] < ng);
        first[group[i] + 2]++;
      }
    for (uint32_t g = 0; g < ng; g++) first[g + 2] += first[g + 1];
    uint32_t *by = s->by_group[k] = wk_malloc(sizeof(uint32_t) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
      if (s->jobs[i].fate != REPLAY_DROPPED) by[first[group[i] + 1]++] = (uint32_t)i;
    s->row[k] = wk_calloc(ng ? ng : 1, sizeof(cli_sreport_row));
    for (uint32_t g = 0; g < ng; g++) {
      size_t cnt = first[g + 1] - first[g];
      if (!cnt && k != 0) continue; /* a tenant with a quota and no jobs still shows */
      cli_sreport_row *row = &s->row[k][s->n[k]++];
      fill_row(s, by + first[g], cnt, waits, row);
      const char *name = k == 0   ? replay_tenant_name(r, g)
                         : k == 1 ? (trace_name(t, g)[0] ? trace_name(t, g) : "(none)")
                                  : size_label[g];
      snprintf(row->name, sizeof row->name, "%s", name);
      row->group = g;
      row->quota_cards = k == 0 ? replay_tenant_quota_cards(r, g, hw_cards(c)) : -1;
    }
    if (k != 2) qsort(s->row[k], s->n[k], sizeof(cli_sreport_row), by_card_hours);
  }
  wk_free(group);
  wk_free(waits);
  return s;
}

void cli_sreport_free(cli_sreport *s) {
  if (!s) return;
  for (int k = 0; k < 3; k++) {
    wk_free(s->row[k]);
    wk_free(s->by_group[k]);
    wk_free(s->first[k]);
  }
  wk_free(s->card_s);
  wk_free(s);
}

static const char *const table_key[3] = {"tenants", "queues", "sizes"};
static const char *const table_kind[3] = {"tenant", "queue", "size"};

const cli_sreport_row *cli_sreport_rows(const cli_sreport *s, int table, size_t *n) {
  WK_ASSERT(table >= 0 && table < 3);
  *n = s->n[table];
  return s->row[table];
}

json_t *cli_sreport_json(const cli_sreport *s) {
  json_t *o = json_object();
  for (int k = 0; k < 3; k++) {
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n[k]; i++) {
      const cli_sreport_row *w = &s->row[k][i];
      json_t *e = json_object();
      json_object_set_new(e, "name", json_string(w->name));
      json_object_set_new(e, "jobs", json_integer((json_int_t)w->jobs));
      json_object_set_new(e, "card_hours", json_real(w->card_hours));
      json_object_set_new(e, "cards_used", json_real(w->cards_used));
      if (k == 0) json_object_set_new(e, "quota_cards", json_real(w->quota_cards));
      json_object_set_new(e, "wait_p50_s", w->waited ? json_real(w->wait_p50_s) : json_null());
      json_object_set_new(e, "wait_p99_s", w->waited ? json_real(w->wait_p99_s) : json_null());
      json_array_append_new(arr, e);
    }
    json_object_set_new(o, table_key[k], arr);
  }
  return o;
}

void cli_sreport_csv(const cli_sreport *s, FILE *f) {
  fprintf(f, "kind,name,jobs,card_hours,cards_used,quota_cards,wait_p50_s,wait_p99_s\n");
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < s->n[k]; i++) {
      const cli_sreport_row *w = &s->row[k][i];
      /* a name with a comma or quote is quoted, RFC 4180 */
      int quote = strpbrk(w->name, ",\"\n\r") != NULL;
      fprintf(f, "%s,%s", table_kind[k], quote ? "\"" : "");
      for (const char *p = w->name; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
      }
      fprintf(f, "%s,%zu,%.3f,%.3f,", quote ? "\"" : "", w->jobs, w->card_hours, w->cards_used);
      if (k == 0) fprintf(f, "%.3f", w->quota_cards);
      if (w->waited) fprintf(f, ",%.0f,%.0f\n", w->wait_p50_s, w->wait_p99_s);
      else fprintf(f, ",,\n");
    }
}

#define SREPORT_TEXT_ROWS 16 /* tenants or queues shown one by one; the rest summed */

static void text_row(const char *name, const cli_sreport_row *w, int quota) {
  char q[32] = "-", p50[32] = "-", p99[32] = "-";
  if (quota) snprintf(q, sizeof q, "%.0f", w->quota_cards);
  if (w->waited) {
    snprintf(p50, sizeof p50, "%.2f", w->wait_p50_s / 3600);
    snprintf(p99, sizeof p99, "%.2f", w->wait_p99_s / 3600);
  }
  printf("  %-20s %8zu %12.1f %9.1f %7s %9s %9s\n", name, w->jobs, w->card_hours, w->cards_used,
         q, p50, p99);
}

void cli_sreport_text(const cli_sreport *s) {
  static const char *const head[3] = {"by tenant", "by queue", "by job size (cards)"};
  double *waits = wk_malloc(sizeof(double) * (s->njobs ? s->njobs : 1));
  for (int k = 0; k < 3; k++) {
    if (!s->n[k]) continue;
    printf("%-22s %8s %12s %9s %7s %9s %9s\n", head[k], "jobs", "card-h", "cards", "quota",
           "wait p50", "wait p99");
    size_t shown = k == 2 || s->n[k] <= SREPORT_TEXT_ROWS + 1 ? s->n[k] : SREPORT_TEXT_ROWS;
    for (size_t i = 0; i < shown; i++) text_row(s->row[k][i].name, &s->row[k][i], k == 0);
    if (shown < s->n[k]) { /* the rest as one row, its waits over all their jobs */
      uint32_t *idx = wk_malloc(sizeof(uint32_t) * (s->njobs ? s->njobs : 1));
      size_t m = 0;
      double quota = 0;
      for (size_t i = shown; i < s->n[k]; i++) {
        uint32_t g = s->row[k][i].group, a = s->first[k][g], b = s->first[k][g + 1];
        for (uint32_t x = a; x < b; x++) idx[m++] = s->by_group[k][x];
        quota += s->row[k][i].quota_cards;
      }
      cli_sreport_row rest;
      memset(&rest, 0, sizeof rest);
      fill_row(s, idx, m, waits, &rest);
      rest.quota_cards = quota;
      char name[64];
      snprintf(name, sizeof name, "(%zu more)", s->n[k] - shown);
      text_row(name, &rest, k == 0);
      wk_free(idx);
    }
  }
  printf("  (cards: in use on average over the makespan; wait: first start - submit, hours)\n");
  wk_free(waits);
}
