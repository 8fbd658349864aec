/* cmd_coll.c — `wanka coll OP --cluster C ...`: time a collective over a size sweep the way
 * nccl-tests prints it (size, count, type, time, algbw, busbw), at fidelity level 0, 1 or 2,
 * on a packed, spread or random placement; --concurrent K runs K jobs' collectives at once on
 * disjoint placements (L2) and reports each one's slowdown. --json prints one object. */
#include "cli.h"
#include "coll/coll.h"
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIZE (1ull << 40) /* 1T */

typedef struct opts {
  const char *cluster, *placement, *algo, *sizes, *dtype, *report;
  int64_t cards, level, seed, concurrent;
  double step_factor;
  int json;
} opts;

static int parse_sizes(const char *s, uint64_t *lo, uint64_t *hi) {
  char buf[64];
  const char *colon = strchr(s, ':');
  if (strlen(s) >= sizeof buf) return -1;
  if (!colon) {
    if (wk_parse_size(s, lo)) return -1;
    *hi = *lo;
    return 0;
  }
  snprintf(buf, sizeof buf, "%.*s", (int)(colon - s), s);
  if (wk_parse_size(buf, lo) || wk_parse_size(colon + 1, hi)) return -1;
  return 0;
}

/* Chooses `count` cards for job j of k (k * count cards in all, disjoint between jobs).
 * packed: consecutive blocks; spread: k * count cards spread evenly, one per node first, jobs
 * interleaved; random: seeded choice, shuffled between jobs. Each job's list is sorted. */
static void place(const hw_cluster *c, const char *how, uint64_t seed, uint32_t count, uint32_t k,
                  uint32_t *all) {
  uint32_t total = hw_cards(c), need = count * k, nodes = hw_nodes(c), cpn = total / nodes;
  if (!strcmp(how, "packed")) {
    for (uint32_t i = 0; i < need; i++) all[i] = i;
  } else if (!strcmp(how, "spread")) {
    /* round r takes local rank r of nodes spread evenly; job j takes every k-th card */
    uint32_t i = 0;
    for (uint32_t r = 0; i < need; r++) {
      uint32_t left = need - i, take = left < nodes ? left : nodes;
      for (uint32_t q = 0; q < take; q++)
        all[i++] = (uint32_t)((uint64_t)q * nodes / take) * cpn + r;
    }
    uint32_t *tmp = wk_malloc(need * sizeof *tmp);
    for (uint32_t j = 0, o = 0; j < k; j++)
      for (uint32_t q = j; q < need; q += k) tmp[o++] = all[q];
    memcpy(all, tmp, need * sizeof *tmp);
    wk_free(tmp);
  } else {
    wk_rng rng;
    wk_rng_init(&rng, seed, 0xc011);
    uint32_t *perm = wk_malloc(total * sizeof *perm);
    for (uint32_t i = 0; i < total; i++) perm[i] = i;
    for (uint32_t i = 0; i < need; i++) { /* partial Fisher-Yates */
      uint32_t j = i + (uint32_t)wk_rng_below(&rng, total - i), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    memcpy(all, perm, need * sizeof *all);
    wk_free(perm);
  }
  for (uint32_t j = 0; j < k; j++) { /* sort each job's cards: rank order = card order */
    uint32_t *v = all + (size_t)j * count;
    for (uint32_t a = 1; a < count; a++) { /* insertion sort is fine for sorted-ish input */
      uint32_t key = v[a], b = a;
      for (; b > 0 && v[b - 1] > key; b--) v[b] = v[b - 1];
      v[b] = key;
    }
  }
}

/* The report: busbw against size for the run as asked (its level, its algorithm or the one
 * auto chose per size), and one line per algorithm that applies to the op at level min(level,
 * 1) (an L2 sweep per algorithm would cost minutes), plus the L0 line of each algorithm when
 * the run was at level 1 or 2, so the levels can be compared. Rows as run: x bytes, y busbw
 * GB/s. Returns 0, or 2 after printing a write error. Takes rep_out. */
static int coll_report(cli_report *rep_out, coll_ctx *x, const opts *o, coll_op op, coll_algo asked,
                       int level, const uint32_t *cards, uint32_t N, uint32_t K,
                       const double *sizes, int nsizes, const double *bx, const double *by,
                       int nrun) {
  wk_err err; /* an algorithm that does not apply fails: its line is left out */
  char title[256], sub[256], name[64];
  snprintf(title, sizeof title, "wanka coll %s on %s", coll_op_name(op), o->cluster);
  snprintf(sub, sizeof sub, "%u cards (%s placement)%s, level %d, algorithm %s", N, o->placement,
           K > 1 ? ", several jobs at once" : "", level, coll_algo_name(asked));
  rp_report *rep = rp_report_new(title, sub);
  rp_report_section(rep, "Bus bandwidth against message size",
                    "busbw as nccl-tests defines it (algbw times the collective's bus factor): "
                    "what each card's links carry, comparable across algorithms and card counts.");
  rp_chart *ch = rp_chart_add(rep, RP_LINE, "busbw by algorithm", "message size (bytes)",
                              "busbw (GB/s)");
  rp_chart_log(ch, 1, 0);
  snprintf(name, sizeof name, "as run: %s, L%d%s", coll_algo_name(asked), level,
           K > 1 ? " (job 0..K, shared)" : "");
  rp_chart_xy(ch, name, bx, by, NULL, (size_t)nrun);
  int lv = level < 1 ? level : 1, rc = 0;
  double *y = wk_malloc(sizeof(double) * (size_t)nsizes);
  for (int pass = 0; pass < 2 && !rc; pass++) {
    int at = pass ? 0 : lv;
    if (pass && lv == 0) break; /* the L0 lines are already drawn */
    for (int a = COLL_RING; a < COLL_ALGOS && !rc; a++) {
      coll_result res;
      int ok = 1;
      for (int i = 0; i < nsizes && ok; i++) {
        if (coll_time(x, op, (coll_algo)a, at, cards, N, sizes[i], &res, &err)) ok = 0;
        else y[i] = res.busbw / 1e9;
      }
      if (!ok) continue; /* the algorithm does not apply to this op or these cards */
      snprintf(name, sizeof name, "%s, L%d", coll_algo_name((coll_algo)a), at);
      rp_chart_xy(ch, name, sizes, y, NULL, (size_t)nsizes);
    }
  }
  rp_chart_note(ch, lv == level ? "Each algorithm at the run's level; the algorithms that do not "
                                  "apply to this collective are left out."
                                : "Each algorithm at level 1 (an event-level sweep of every "
                                  "algorithm would take minutes) and at level 0.");
  wk_free(y);
  rc = cli_report_commit(rep_out, rep);
  rp_report_free(rep);
  return rc ? 2 : 0;
}

static void print_row(double bytes, double elt, const char *type, const char *algo, double t,
                      double algbw, double busbw) {
  printf("%14.0f %14.0f %6s %9s %14.2f %12.2f %12.2f\n", bytes, bytes / elt, type, algo, t * 1e6,
         algbw / 1e9, busbw / 1e9);
}

int cmd_coll(int argc, char **argv) {
  static const char *const ops[] = {"allreduce", "allgather", "reducescatter", "broadcast",
                                    "reduce", "alltoall", "sendrecv", NULL};
  static const char *const algos[] = {"auto", "ring", "tree", "rhd", "hier", "nvls", "direct",
                                      "pairwise", NULL};
  static const char *const dtypes[] = {"float", "fp32", "bf16", NULL};
  static const char *const placements[] = {"packed", "spread", "random", NULL};
  opts o = {NULL, "packed", "auto", "1M:1G", "float", NULL, -1, 1, 1, 1, 2.0, 0}; /* cards -1: all */
  const cli_opt table[] = {
      {"cluster", CLI_STR, &o.cluster, "C", "preset or YAML file, with tweaks (NAME:key=value)",
       0, 0},
      {"cards", CLI_INT, &o.cards, "N", "cards per job (default: the whole cluster)",
       2, CLI_MAX_CARDS},
      {"placement", CLI_STR, &o.placement, "P", "packed, spread or random (default packed)", 0, 0},
      {"algo", CLI_STR, &o.algo, "A", "auto, ring, tree, rhd, hier, nvls, direct, pairwise", 0, 0},
      {"level", CLI_INT, &o.level, "L", "0 analytic, 1 phase (default), 2 event", CLI_LEVELS},
      {"sizes", CLI_STR, &o.sizes, "MIN:MAX", "size sweep, nccl-tests -b/-e (default 1M:1G)", 0, 0},
      {"step-factor", CLI_DOUBLE, &o.step_factor, "F", "size multiplier, nccl-tests -f (default 2)",
       1, 1024},
      {"dtype", CLI_STR, &o.dtype, "T", "float (fp32, default) or bf16", 0, 0},
      {"seed", CLI_INT, &o.seed, "S", "seed of the random placement (default 1)", 0, CLI_MAX_SEED},
      {"concurrent", CLI_INT, &o.concurrent, "K", "K jobs at once on disjoint cards (level 2)",
       1, 4096},
      {"json", CLI_FLAG, &o.json, NULL, "print one JSON object instead of the table", 0, 0},
      {"report", CLI_STR, &o.report, "FILE.html",
       "write an HTML report (busbw against size, one line per algorithm) and FILE.data.json",
       0, 0},
      {0},
  };
  const cli_cmd cmd = {
      "coll", "wanka coll OP --cluster C [--cards N] [--algo A] [--level L] [options]",
      "Time a collective like nccl-tests: OP is allreduce, allgather, reducescatter, broadcast,\n"
      "reduce, alltoall, sendrecv. Sizes are per-rank buffers (total for allgather and\n"
      "reducescatter); busbw uses nccl-tests' factors.",
      table};
  char *pos[1];
  int npos, r;
  if ((r = cli_parse(&cmd, argc, argv, pos, 1, &npos))) return r == 1 ? 0 : r;
  if (npos != 1)
    return cli_fail("name a collective: allreduce, allgather, reducescatter, broadcast, reduce, "
                    "alltoall or sendrecv");
  coll_op op;
  coll_algo algo;
  if (coll_op_parse(pos[0], &op))
    return cli_fail_unknown("collective", pos[0], ops);
  if (coll_algo_parse(o.algo, &algo))
    return cli_fail_unknown("algorithm", o.algo, algos);
  if (!o.cluster) return cli_fail("name a cluster with --cluster (see 'wanka cluster list')");
  double elt;
  const char *type;
  if (!strcmp(o.dtype, "float") || !strcmp(o.dtype, "fp32")) elt = 4, type = "float";
  else if (!strcmp(o.dtype, "bf16")) elt = 2, type = "bf16";
  else return cli_fail_unknown("--dtype", o.dtype, dtypes);
  uint64_t lo, hi;
  if (parse_sizes(o.sizes, &lo, &hi))
    return cli_fail("--sizes '%s' is not MIN:MAX with sizes such as 1K, 16M or 1G", o.sizes);
  if (lo > MAX_SIZE || hi > MAX_SIZE)
    return cli_fail("--sizes '%s' is out of range: sizes go up to 1T", o.sizes);
  if (lo == 0 || lo > hi) return cli_fail("--sizes '%s': need 0 < MIN <= MAX", o.sizes);
  if (!(o.step_factor > 1) && lo < hi)
    return cli_fail("--step-factor %g: use a factor above 1 (e.g. 2)", o.step_factor);
  if (strcmp(o.placement, "packed") && strcmp(o.placement, "spread") && strcmp(o.placement, "random"))
    return cli_fail_unknown("--placement", o.placement, placements);
  /* the size list, checked before any work; sizes between MIN and MAX are rounded down to
   * whole elements as nccl-tests does */
  if (lo % (uint64_t)elt || hi % (uint64_t)elt)
    return cli_fail("--sizes '%s': sizes must be multiples of the %s element size (%g bytes)",
                    o.sizes, type, elt);
  double sizes[128];
  int nsizes = 0;
  for (double s = (double)lo; s <= (double)hi && nsizes < 128;) {
    sizes[nsizes++] = s;
    double next = floor(s * o.step_factor / elt) * elt;
    if (lo == hi || !(next > s)) break;
    s = next;
  }
  cli_report *rep_out = NULL; /* checked before any work */
  if (o.report && !(rep_out = cli_report_new(o.report))) return 2;
  wk_err err;
  hw_cluster *c = hw_load(o.cluster, &err);
  if (!c) {
    cli_report_abort(rep_out);
    return cli_fail_cluster(&err, o.cluster);
  }
  uint32_t total = hw_cards(c), K = (uint32_t)o.concurrent;
  int64_t n = o.cards >= 0 ? o.cards : (op == COLL_SENDRECV ? 2 : (int64_t)(total / K));
  if (n < 2 || (op == COLL_SENDRECV && n != 2)) {
    hw_free(c);
    cli_report_abort(rep_out);
    return op == COLL_SENDRECV ? cli_fail("sendrecv takes --cards 2")
                               : cli_fail("--cards %lld: a collective needs at least 2", (long long)n);
  }
  if ((uint64_t)n * K > total) {
    hw_free(c);
    cli_report_abort(rep_out);
    return cli_fail("%lld cards x %u jobs is more than the %u cards of %s: lower --cards",
                    (long long)n, K, total, o.cluster);
  }
  uint32_t N = (uint32_t)n, *cards = wk_malloc((size_t)N * K * sizeof *cards);
  place(c, o.placement, (uint64_t)o.seed, N, K, cards);
  coll_ctx *x = coll_ctx_new(c);
  int level = K > 1 ? 2 : (int)o.level, rc = 0;
  /* L2 can take minutes: a bar on stderr while it runs, if that is a terminal */
  /* an L2 run's bar, labelled with the size in hand */
  cli_bar bar = {rp_progress_new(stderr, level == 2 && isatty(STDERR_FILENO)), "", 0, 1};
  if (bar.p) coll_ctx_set_progress(x, cli_bar_set, &bar);
  json_t *rows = o.json ? json_array() : NULL;
  coll_job *jobs = wk_calloc(K, sizeof *jobs);
  coll_result *res = wk_calloc(K, sizeof *res);
  double *alone = wk_calloc(K, sizeof *alone);
  /* every size checked against the level's work and memory limits before the first is
   * timed: a sweep is refused at once, not after its small sizes have run */
  for (int i = 0; i < nsizes && !rc; i++) {
    for (uint32_t j = 0; j < K; j++)
      jobs[j] = (coll_job){op, algo, cards + (size_t)j * N, N, sizes[i]};
    if (coll_check(x, jobs, K, level, &err)) rc = 1;
  }
  /* compute everything first: an error leaves stdout empty */
  typedef struct row { double bytes, t, algbw, busbw, alone; coll_algo algo; uint32_t job; } row;
  row *out = wk_calloc((size_t)nsizes * K, sizeof *out);
  int nout = 0;
  for (int i = 0; i < nsizes && !rc; i++) {
    snprintf(bar.label, sizeof bar.label, "L2 %s %.4g MiB (size %d of %d)", coll_op_name(op),
             sizes[i] / 1048576.0, i + 1, nsizes);
    if (K == 1) {
      if (coll_time(x, op, algo, level, cards, N, sizes[i], &res[0], &err)) rc = 1;
      else out[nout++] = (row){sizes[i], res[0].time_s, res[0].algbw, res[0].busbw, 0, res[0].algo, 0};
      continue;
    }
    for (uint32_t j = 0; j < K; j++)
      jobs[j] = (coll_job){op, algo, cards + (size_t)j * N, N, sizes[i]};
    if (coll_time_concurrent(x, jobs, K, res, alone, &err)) rc = 1;
    for (uint32_t j = 0; j < K && !rc; j++)
      out[nout++] = (row){sizes[i], res[j].time_s, res[j].algbw, res[j].busbw, alone[j], res[j].algo, j};
  }
  rp_progress_free(bar.p); /* the line is erased before anything is printed */
  if (!rc && rep_out) {
    double *bx = wk_malloc(sizeof(double) * (size_t)(nout ? nout : 1));
    double *by = wk_malloc(sizeof(double) * (size_t)(nout ? nout : 1));
    for (int i = 0; i < nout; i++) bx[i] = out[i].bytes, by[i] = out[i].busbw / 1e9;
    rc = coll_report(rep_out, x, &o, op, algo, level, cards, N, K, sizes, nsizes, bx, by, nout);
    rep_out = NULL;
    wk_free(bx);
    wk_free(by);
  }
  if (rc) {
    if (rc == 1) rc = cli_fail_err(&err); /* 2: the report's error is printed */
  } else if (o.json) {
    for (int i = 0; i < nout; i++) {
      json_t *jr = json_object();
      json_object_set_new(jr, "bytes", json_real(out[i].bytes));
      json_object_set_new(jr, "time_s", json_real(out[i].t));
      json_object_set_new(jr, "algbw_GBps", json_real(out[i].algbw / 1e9));
      json_object_set_new(jr, "busbw_GBps", json_real(out[i].busbw / 1e9));
      json_object_set_new(jr, "algo", json_string(coll_algo_name(out[i].algo)));
      if (K > 1) {
        json_object_set_new(jr, "job", json_integer(out[i].job));
        json_object_set_new(jr, "alone_s", json_real(out[i].alone));
        json_object_set_new(jr, "slowdown", json_real(out[i].t / out[i].alone));
      }
      json_array_append_new(rows, jr);
    }
    json_t *top = json_object();
    json_object_set_new(top, "op", json_string(coll_op_name(op)));
    json_object_set_new(top, "cluster", json_string(o.cluster));
    json_object_set_new(top, "cards", json_integer(N));
    json_object_set_new(top, "placement", json_string(o.placement));
    json_object_set_new(top, "level", json_integer(level));
    json_object_set_new(top, "algo", json_string(coll_algo_name(algo)));
    json_object_set_new(top, "type", json_string(type));
    if (K > 1) json_object_set_new(top, "concurrent", json_integer(K));
    json_object_set_new(top, "rows", rows);
    rows = NULL;
    cli_print_json(top, 10);
  } else {
    printf("# wanka coll %s: cluster %s, %u cards (%s), level %d, algo %s%s, type %s\n",
           coll_op_name(op), o.cluster, N, o.placement, level, coll_algo_name(algo),
           algo == COLL_AUTO ? " (chosen per row)" : "", type);
    if (K > 1) {
      printf("# %u jobs at once on disjoint placements; slowdown = time / time alone\n", K);
      printf("%14s %14s %6s %9s %5s %14s %14s %9s %12s %12s\n", "size(B)", "count", "type",
             "algo", "job", "time(us)", "alone(us)", "slowdown", "algbw(GB/s)", "busbw(GB/s)");
      for (int i = 0; i < nout; i++)
        printf("%14.0f %14.0f %6s %9s %5u %14.2f %14.2f %9.3f %12.2f %12.2f\n", out[i].bytes,
               out[i].bytes / elt, type, coll_algo_name(out[i].algo), out[i].job,
               out[i].t * 1e6, out[i].alone * 1e6, out[i].t / out[i].alone,
               out[i].algbw / 1e9, out[i].busbw / 1e9);
    } else {
      printf("%14s %14s %6s %9s %14s %12s %12s\n", "size(B)", "count", "type", "algo",
             "time(us)", "algbw(GB/s)", "busbw(GB/s)");
      for (int i = 0; i < nout; i++)
        print_row(out[i].bytes, elt, type, coll_algo_name(out[i].algo), out[i].t,
                  out[i].algbw, out[i].busbw);
    }
  }
  cli_report_abort(rep_out);
  json_decref(rows);
  wk_free(out);
  wk_free(alone);
  wk_free(res);
  wk_free(jobs);
  coll_ctx_free(x);
  wk_free(cards);
  hw_free(c);
  return rc;
}
