/* gen.c — synthetic job traces from published workload statistics, and the SWF writer.
 * A profile is a mix of job classes (evaluation, fine-tuning, pretraining, simulation), each
 * with a power-of-two size distribution, a log-normal run time, a walltime request rule and
 * final-state rates. Arrivals are Poisson (with a mild diurnal swing) at the rate that offers
 * the target fraction of the cluster's cards. Deterministic: one RNG stream per purpose. */
#include "trace_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sources of the constants (numbers from /work/shared/data/traces/acme_cluster_summary.csv,
 * the published summary of Hu et al., "Characterization of Large Language Model Development in
 * the Datacenter", NSDI'24, whose rows also restate Philly — Jeon et al., "Analysis of
 * Large-Scale Multi-Tenant GPU Clusters for DNN Training Workloads", ATC'19 — and Helios):
 *   - median GPUs per job is 1 in every cluster (Seren, Kalos, Philly, Helios); means are 5.68
 *     (Seren), 26.77 (Kalos), 1.93 (Philly), 3.72 (Helios); max 1,024 (Seren, Kalos), 2,048
 *     (Helios): many 1-GPU jobs, a heavy power-of-two tail.
 *   - median GPU-job run time 122 s (Seren), 124 s (Kalos), 206 s (Helios), 874 s (Philly);
 *     means 1,414 / 1,260 / 6,652 / 18,006 s: log-normal with a large sigma. Longest Seren
 *     job 1,209,604 s (14 days), which caps pretraining runs.
 *   - final states by count, Seren: completed 0.497, cancelled 0.075, failed 0.429; Kalos
 *     0.541 / 0.062 / 0.397; Philly 0.604 / 0.09 / 0.305. By GPU time, Seren: 0.212 / 0.664 /
 *     0.124: failures are short (they hit early: we cut a failed run to U^2 of its length) and
 *     the card-hours are in long, large jobs that users stop (pretraining is often cancelled).
 *   - scientific simulation classes follow the HPC traces here (Theta 2022, Mira 2018):
 *     power-of-two node counts, hours-long runs, a requested walltime (Theta: run time
 *     mostly 0.3-1 of it, some timeouts), 24 h limits.
 * The class shares of the ai4s profile are this twin's assumption for a national AI-for-
 * science centre (many small evaluation jobs by count, the card-hours in pretraining and
 * simulation); the llm profile follows Seren's mix; hpc is simulation only. */

typedef struct gen_class {
  const char *name; /* queue name of its jobs */
  double share;     /* fraction of jobs by count */
  int min_log2;     /* size_w[i] weighs 2^(min_log2 + i) cards */
  int nsizes;
  double size_w[12];
  double run_median_s, run_sigma, run_max_s;
  double wall_lo, wall_hi, wall_round_s, wall_max_s; /* request = run * U(lo, hi), rounded up */
  double p_fail, p_cancel, p_timeout;                /* the rest completes */
} gen_class;

typedef struct gen_profile {
  const char *name;
  double diurnal; /* relative amplitude of the daily arrival swing (peak mid-afternoon) */
  int nclass;
  gen_class cls[4];
} gen_profile;

static const gen_profile profiles[] = {
    {"ai4s", 0.3, 4,
     {{"eval", 0.60, 0, 4, {0.80, 0.07, 0.05, 0.08}, 122, 1.6, 86400, 2, 6, 1800, 172800,
       0.43, 0.07, 0.0},
      {"finetune", 0.20, 3, 6, {0.40, 0.25, 0.17, 0.10, 0.05, 0.03}, 2700, 1.3, 259200, 1.5, 4,
       3600, 604800, 0.30, 0.10, 0.02},
      {"pretrain", 0.005, 8, 7, {0.30, 0.25, 0.18, 0.12, 0.08, 0.05, 0.02}, 21600, 1.2,
       1209600, 1.2, 2, 86400, 2419200, 0.35, 0.30, 0.0},
      {"sim", 0.195, 0, 12,
       {0.25, 0.10, 0.10, 0.10, 0.10, 0.10, 0.08, 0.07, 0.05, 0.03, 0.015, 0.005}, 3600, 1.1,
       86400, 1.2, 3, 900, 86400, 0.06, 0.04, 0.08}}},
    {"llm", 0.3, 3,
     {{"eval", 0.70, 0, 4, {0.80, 0.07, 0.05, 0.08}, 122, 1.6, 86400, 2, 6, 1800, 172800, 0.43,
       0.07, 0.0},
      {"finetune", 0.28, 3, 6, {0.40, 0.25, 0.17, 0.10, 0.05, 0.03}, 2700, 1.3, 259200, 1.5, 4,
       3600, 604800, 0.30, 0.10, 0.02},
      {"pretrain", 0.02, 6, 5, {0.30, 0.25, 0.20, 0.15, 0.10}, 21600, 1.2, 1209600, 1.2, 2,
       86400, 2419200, 0.35, 0.30, 0.0}}},
    {"hpc", 0.2, 1,
     {{"sim", 1.0, 3, 10, {0.25, 0.15, 0.15, 0.12, 0.10, 0.08, 0.06, 0.05, 0.03, 0.01}, 3600,
       1.1, 86400, 1.2, 3, 900, 86400, 0.06, 0.04, 0.08}}},
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

const char *const *trace_gen_profiles(void) {
  static const char *const names[] = {"ai4s", "llm", "hpc", NULL};
  return names;
}

void trace_gen_opts_init(trace_gen_opts *o) {
  memset(o, 0, sizeof *o);
  o->profile = "ai4s";
  o->cards = 61440;
  o->days = 30;
  o->seed = 1;
  o->utilization = 0.9;
  o->start_s = 1704067200; /* 2024-01-01T00:00:00Z */
}

/* Per-class sampling tables, truncated to sizes that fit the cluster. */
typedef struct gen_sizes {
  int n;
  int64_t cards[16];
  double cdf[16];
  double mean_cards;
} gen_sizes;

static void sizes_for(const gen_class *c, int64_t cluster, gen_sizes *s) {
  double tot = 0;
  s->n = 0;
  for (int i = 0; i < c->nsizes; i++) {
    int64_t cards = (int64_t)1 << (c->min_log2 + i);
    if (cards > cluster) break;
    s->cards[s->n] = cards;
    tot += c->size_w[i];
    s->cdf[s->n++] = tot;
  }
  if (s->n == 0) { /* the class's smallest job does not fit: the largest power of two does */
    int64_t p = 1;
    while (p * 2 <= cluster) p *= 2;
    s->cards[0] = p;
    s->cdf[0] = tot = 1;
    s->n = 1;
  }
  s->mean_cards = 0;
  for (int i = 0; i < s->n; i++) {
    s->cdf[i] /= tot;
    s->mean_cards += (double)s->cards[i] * (s->cdf[i] - (i ? s->cdf[i - 1] : 0));
  }
}

static int64_t draw_size(const gen_sizes *s, wk_rng *r) {
  double u = wk_rng_uniform(r);
  for (int i = 0; i < s->n; i++)
    if (u < s->cdf[i]) return s->cards[i];
  return s->cards[s->n - 1];
}

/* Run time, walltime request and final state of one job of class c: independent of its size,
 * which is what lets the expected card-seconds factor into E[size] * E[run]. */
static void draw_run(const gen_class *c, wk_rng *r, trace_job *j) {
  double run = c->run_median_s * exp(c->run_sigma * wk_rng_normal(r));
  if (run > c->run_max_s) run = c->run_max_s;
  if (run < 1) run = 1;
  double req = run * (c->wall_lo + (c->wall_hi - c->wall_lo) * wk_rng_uniform(r));
  req = ceil(req / c->wall_round_s) * c->wall_round_s;
  if (req > c->wall_max_s) req = c->wall_max_s;
  if (req < run) req = run; /* wall_max_s >= run_max_s in every class; kept for safety */
  int64_t run_s = (int64_t)llround(run), wall_s = (int64_t)req;
  if (wall_s < run_s) wall_s = run_s;
  double u = wk_rng_uniform(r), v = wk_rng_uniform(r);
  if (u < c->p_fail) {
    j->state = TRACE_FAILED;
    run_s = (int64_t)((double)run_s * v * v);
  } else if (u < c->p_fail + c->p_cancel) {
    j->state = TRACE_CANCELLED;
    run_s = (int64_t)((double)run_s * v);
  } else if (u < c->p_fail + c->p_cancel + c->p_timeout) {
    j->state = TRACE_TIMEOUT;
    run_s = wall_s;
  } else {
    j->state = TRACE_COMPLETED;
  }
  /* a failed or cancelled run never reaches its request (the SWF writer relies on it) */
  if (j->state != TRACE_TIMEOUT && run_s >= wall_s) run_s = wall_s - 1;
  j->runtime_s = run_s < 1 ? 1 : run_s;
  j->walltime_s = wall_s;
}

/* Zipf(1.1) over users: a few heavy users submit most jobs, as in every cluster trace. */
static uint32_t draw_user(const double *cdf, uint32_t n, wk_rng *r) {
  double u = wk_rng_uniform(r);
  uint32_t lo = 0, hi = n - 1;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

enum { STREAM_ARRIVAL = 1, STREAM_CLASS, STREAM_SIZE, STREAM_RUN, STREAM_USER,
       STREAM_PILOT = 100 };

wk_errcode trace_gen(const trace_gen_opts *o, trace **out, wk_err *e) {
  *out = NULL;
  const char *pname = o->profile ? o->profile : "ai4s";
  const gen_profile *p = NULL;
  for (size_t i = 0; i < NPROFILES; i++)
    if (!strcmp(profiles[i].name, pname)) p = &profiles[i];
  if (!p)
    return wk_err_set(e, WK_EUNKNOWN_NAME, NULL, 0, 0,
                      "unknown trace profile '%s': choose ai4s, llm or hpc", pname);
  if (o->cards < 1 || o->cards > TRACE_MAX_CARDS)
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0, "cards %lld is out of range: give 1 .. %d",
                      (long long)o->cards, TRACE_MAX_CARDS);
  if (!(o->days > 0 && o->days <= 3660))
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0, "days %g is out of range: give (0, 3660]",
                      o->days);
  if (!(o->utilization > 0 && o->utilization <= 100))
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0,
                      "utilization %g is out of range: give a fraction of the cards such as 0.9",
                      o->utilization);
  if (o->start_s < 0 || o->start_s > TRACE_MAX_TIMESTAMP / 2)
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0, "start time %lld is out of range",
                      (long long)o->start_s);

  /* Expected card-seconds per job: sum over classes of share * E[size] * E[run]; E[run] is
   * estimated from 2^16 draws per class on its own stream (0.7 % standard error at sigma 1.2),
   * E[size] is exact. */
  gen_sizes sizes[4];
  double class_cdf[4], tot = 0, card_s = 0;
  for (int c = 0; c < p->nclass; c++) {
    const gen_class *gc = &p->cls[c];
    sizes_for(gc, o->cards, &sizes[c]);
    wk_rng pr;
    wk_rng_init(&pr, o->seed, STREAM_PILOT + (uint64_t)c);
    double sum = 0;
    trace_job tmp;
    for (int i = 0; i < 65536; i++) {
      draw_run(gc, &pr, &tmp);
      sum += (double)tmp.runtime_s;
    }
    card_s += gc->share * sizes[c].mean_cards * (sum / 65536.0);
    tot += gc->share;
    class_cdf[c] = tot;
  }
  for (int c = 0; c < p->nclass; c++) class_cdf[c] /= tot;
  card_s /= tot;
  const double rate = o->utilization * (double)o->cards / card_s; /* jobs per second */
  const double horizon = o->days * 86400.0;

  uint32_t nusers = (uint32_t)(o->cards / 64);
  if (nusers < 8) nusers = 8;
  if (nusers > 4096) nusers = 4096;
  uint32_t nteams = nusers / 6 > 2 ? nusers / 6 : 2;
  double *ucdf = wk_malloc(nusers * sizeof *ucdf), us = 0;
  for (uint32_t u = 0; u < nusers; u++) ucdf[u] = (us += pow(u + 1.0, -1.1));
  for (uint32_t u = 0; u < nusers; u++) ucdf[u] /= us;

  trace_opts topts;
  trace_opts_init(&topts);
  trace_build b;
  trace_build_init(&b, &topts, "generated", e);
  snprintf(b.t->source, sizeof b.t->source, "generated:%s cards=%lld days=%g seed=%llu",
           p->name, (long long)o->cards, o->days, (unsigned long long)o->seed);
  /* Estimate before allocating: refuse a trace that will not fit in the memory limit. */
  double expect = rate * horizon * 1.05 + 1024;
  if (3.0 * expect * sizeof(trace_job) > wk_memory_limit()) {
    wk_free(ucdf);
    trace_build_abort(&b);
    return wk_err_set(e, WK_ECAPACITY, "", 0, 0,
                      "about %.0f jobs would need %.1f GiB, more than the %.1f GiB allowed (half "
                      "of this machine's memory, or WANKA_MAX_MODEL_BYTES): generate fewer days "
                      "or cards", expect, 3.0 * expect * sizeof(trace_job) / 1073741824.0,
                      wk_memory_limit() / 1073741824.0);
  }
  size_t guess = (size_t)expect;
  b.cap = guess;
  b.jobs = wk_malloc(b.cap * sizeof *b.jobs);
  uint32_t class_name[4], user_name[4096], team_name[4096 / 6 + 2];
  for (int c = 0; c < p->nclass; c++)
    class_name[c] = trace_intern(&b, p->cls[c].name, strlen(p->cls[c].name));
  char nb[32];
  for (uint32_t u = 0; u < nusers; u++) {
    int n = snprintf(nb, sizeof nb, "%u", u + 1);
    user_name[u] = trace_intern(&b, nb, (size_t)n);
  }
  for (uint32_t g = 0; g < nteams; g++) {
    int n = snprintf(nb, sizeof nb, "%u", g + 1);
    team_name[g] = trace_intern(&b, nb, (size_t)n);
  }

  wk_rng arr, cls, siz, run, usr;
  wk_rng_init(&arr, o->seed, STREAM_ARRIVAL);
  wk_rng_init(&cls, o->seed, STREAM_CLASS);
  wk_rng_init(&siz, o->seed, STREAM_SIZE);
  wk_rng_init(&run, o->seed, STREAM_RUN);
  wk_rng_init(&usr, o->seed, STREAM_USER);
  /* Thinning (Lewis-Shedler): candidates at rate*(1+a), kept with probability
   * (1 + a sin(.))/(1 + a). The sine integrates to zero over a day, so the mean rate is rate.
   * Phase: the peak is at 15:00 of the trace's clock. */
  const double a = p->diurnal, max_rate = rate * (1 + a);
  const double two_pi = 6.283185307179586;
  double t = 0;
  int64_t id = 0;
  for (;;) {
    t += wk_rng_exp(&arr, 1.0 / max_rate);
    if (t >= horizon) break;
    double phase = two_pi * (fmod(t, 86400.0) - 9 * 3600.0) / 86400.0;
    if (wk_rng_uniform(&arr) * (1 + a) > 1 + a * sin(phase)) continue;
    double uc = wk_rng_uniform(&cls);
    int c = 0;
    while (c + 1 < p->nclass && uc >= class_cdf[c]) c++;
    trace_job j = {0};
    j.id = ++id;
    j.submit_s = o->start_s + (int64_t)t;
    j.cards = draw_size(&sizes[c], &siz);
    j.units = (int32_t)j.cards;
    draw_run(&p->cls[c], &run, &j);
    uint32_t u = draw_user(ucdf, nusers, &usr);
    j.user = user_name[u];
    j.group = team_name[wk_mix64(u) % nteams];
    j.queue = class_name[c];
    if (b.n == b.cap) {
      if (3.0 * (double)b.cap * 2 * sizeof *b.jobs > wk_memory_limit()) {
        wk_free(ucdf);
        trace_build_abort(&b);
        return wk_err_set(e, WK_ECAPACITY, "", 0, 0,
                          "more than %zu generated jobs need more memory than the %.1f GiB "
                          "allowed (half of this machine's, or WANKA_MAX_MODEL_BYTES): generate "
                          "fewer days or cards", b.n, wk_memory_limit() / 1073741824.0);
      }
      b.cap *= 2;
      b.jobs = wk_realloc(b.jobs, b.cap * sizeof *b.jobs);
    }
    b.jobs[b.n++] = j;
  }
  b.t->counts.rows = b.n;
  wk_free(ucdf);
  *out = trace_build_finish(&b, TRACE_FMT_SWF);
  return WK_EOK;
}

/* ---- SWF writer ------------------------------------------------------------------------------ */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static long long name_number(const trace *t, uint32_t id) {
  if (id == 0) return -1;
  int64_t v;
  const char *s = trace_name(t, id);
  if (!wk_parse_i64(s, &v) && v >= 0) return (long long)v;
  return (long long)id;
}

static int swf_status(trace_state s) {
  switch (s) {
  case TRACE_COMPLETED: return 1;
  case TRACE_FAILED: case TRACE_NODE_FAIL: case TRACE_TIMEOUT: return 0;
  case TRACE_CANCELLED: case TRACE_PREEMPTED: return 5;
  default: return -1;
  }
}

wk_errcode trace_write_swf(const trace *t, FILE *f, const char *comment, wk_err *e) {
  errno = 0;
  size_t n = trace_njobs(t);
  const trace_job *jobs = trace_jobs(t);
  int64_t start = n ? jobs[0].submit_s - jobs[0].submit_s % 86400 : 0;
  int64_t maxc = 0;
  for (size_t i = 0; i < n; i++)
    if (jobs[i].cards > maxc) maxc = jobs[i].cards;
  fprintf(f, "; Version: 2.2\n; Note: written by wanka (trace_write_swf) from %s\n",
          trace_source(t));
  if (comment) {
    const char *p = comment;
    while (*p) {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      fprintf(f, "; %.*s\n", (int)len, p);
      p += len + (nl ? 1 : 0);
    }
  }
  fprintf(f, "; UnixStartTime: %lld\n; MaxJobs: %zu\n; MaxRecords: %zu\n; MaxProcs: %lld\n",
          (long long)start, n, n, (long long)maxc);
  /* Queue numbers for field 15: a queue named by a number keeps it; any other gets its name
   * id, or, when a numbered queue already has that number, the next one above all in use.
   * Those are named in "; MaxQueues:" and one "; Queue: NUMBER NAME" line each (SWF 2.2
   * header comments), which the reader maps back. O(n + names log names). */
  size_t nn = trace_nnames(t);
  int64_t *qnum = wk_malloc(sizeof(int64_t) * (nn ? nn : 1));
  int64_t *taken = wk_malloc(sizeof(int64_t) * (nn ? nn : 1));
  for (size_t q = 0; q < nn; q++) qnum[q] = -1;
  for (size_t i = 0; i < n; i++)
    if (jobs[i].queue) qnum[jobs[i].queue] = 0; /* used; numbered below */
  size_t ntaken = 0, nnamed = 0;
  int64_t top = (int64_t)nn; /* above every name id */
  for (uint32_t q = 1; q < nn; q++) {
    int64_t v;
    if (qnum[q] < 0) continue;
    if (!wk_parse_i64(trace_name(t, q), &v) && v >= 0) {
      qnum[q] = v;
      taken[ntaken++] = v;
      if (v > top) top = v;
    } else {
      qnum[q] = -2; /* a name: numbered once the taken numbers are known */
      nnamed++;
    }
  }
  qsort(taken, ntaken, sizeof *taken, cmp_i64);
  if (nnamed) fprintf(f, "; MaxQueues: %zu\n", nnamed + ntaken);
  for (uint32_t q = 1; q < nn; q++) {
    if (qnum[q] != -2) continue;
    int64_t v = q;
    if (bsearch(&v, taken, ntaken, sizeof *taken, cmp_i64) && top < INT64_MAX) v = ++top;
    qnum[q] = v;
    fprintf(f, "; Queue: %lld %s\n", (long long)v, trace_name(t, q));
  }
  wk_free(taken);
  for (size_t i = 0; i < n; i++) {
    const trace_job *j = &jobs[i];
    fprintf(f, "%lld %lld -1 %lld %lld -1 -1 %lld %lld -1 %d %lld %lld -1 %lld -1 -1 -1\n",
            (long long)j->id, (long long)(j->submit_s - start), (long long)j->runtime_s,
            (long long)j->cards, (long long)j->cards, (long long)j->walltime_s,
            swf_status((trace_state)j->state), name_number(t, j->user),
            name_number(t, j->group), j->queue ? (long long)qnum[j->queue] : -1LL);
  }
  wk_free(qnum);
  if (fflush(f) || ferror(f))
    return wk_err_set(e, WK_EIO, NULL, 0, 0, "write error while writing SWF: %s",
                      errno ? strerror(errno) : "I/O error");
  return WK_EOK;
}
