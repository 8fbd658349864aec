/* workload.c — what every replayed job runs. Ordered rules (a YAML file, or the defaults
 * below) match a job by its trace queue, user, group and card count and give it a model (whose
 * layout the planner picks for its cards) or a science kernel sized to its cards. Each
 * distinct (rule, cards) is resolved once into a replay_shape: the iteration alone on an
 * ideal placement -- packed from card 0 of the cluster made non-blocking, so that the same
 * trace is the same amount of work on every fabric -- and its communication phases. */
#include "replay_int.h"

#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

typedef enum { WL_MODEL, WL_STENCIL, WL_FFT, WL_DATAPARALLEL } wl_kind;
static const char *const kind_names[] = {"model", "stencil", "fft", "dataparallel"};

typedef struct wl_rule {
  int line, col;
  char **pat[3]; /* users, groups, queues: NULL-terminated globs, or NULL (any) */
  int64_t cards_lo, cards_hi;
  wl_kind kind;
  work_model model;
  char model_name[128];
  int seq, gbs;
  double params, flops_per_sample, efficiency, batch_per_card;  /* dataparallel */
  double cells_per_card, bytes_per_cell, flops_per_cell, halo; /* stencil */
  int overlap, pencil;
  double points_per_card; /* fft */
} wl_rule;

struct replay_workloads {
  wk_arena *arena;
  wl_rule *r;
  uint32_t n, cap;
  char name[256];
};

/* The rules used when no file is given (docs/replay.md shows them): the generator's classes
 * by queue, then any job as a data-parallel model. */
static const char default_rules[] =
    "rules:\n"
    "  - queues: [pretrain]\n"
    "    model: llama3-70b\n"
    "    seq: 8192\n"
    "    gbs: 2048\n"
    "  - queues: [finetune]\n"
    "    model: llama3-8b\n"
    "    seq: 4096\n"
    "    gbs: 256\n"
    "  - queues: [sim]\n"
    "    cards: 1-32\n"
    "    kernel: dataparallel\n"
    "    params: 3e8\n"
    "  - queues: [sim]\n"
    "    cards: 33-128\n"
    "    kernel: fft\n"
    "  - queues: [sim]\n"
    "    kernel: stencil\n"
    "  - kernel: dataparallel\n"
    "    params: 3e8\n";

void replay_workloads_free(replay_workloads *w) {
  if (!w) return;
  wk_free(w->r);
  wk_arena_free(w->arena);
  wk_free(w);
}

/* ---- YAML ------------------------------------------------------------------------------------ */
typedef struct yctx {
  yaml_document_t *doc;
  const char *path;
  wk_err *err;
  int nerr;
  replay_workloads *w;
} yctx;

/* Every error is counted; the first is kept (libyaml's marks count from 0, ours from 1). */
#define yerr(y, nd, code, ...)                                                                   \
  wk_err_first((y)->err, &(y)->nerr, (code), (y)->path, (int)(nd)->start_mark.line + 1,         \
               (int)(nd)->start_mark.column + 1, __VA_ARGS__)

static const char *scalar(yctx *y, const yaml_node_t *nd, const char *key) {
  if (nd->type != YAML_SCALAR_NODE) {
    yerr(y, nd, WK_EVALUE, "'%s' must be a single value", key);
    return NULL;
  }
  return (const char *)nd->data.scalar.value;
}

static char **globs(yctx *y, yaml_node_t *nd, const char *key) {
  size_t n = nd->type == YAML_SEQUENCE_NODE
                 ? (size_t)(nd->data.sequence.items.top - nd->data.sequence.items.start)
                 : 1;
  char **out = WK_ARENA_NEW(y->w->arena, char *, n + 1);
  if (nd->type == YAML_SCALAR_NODE) {
    out[0] = wk_arena_strdup(y->w->arena, (const char *)nd->data.scalar.value);
    return out;
  }
  if (nd->type != YAML_SEQUENCE_NODE || !n) {
    yerr(y, nd, WK_EVALUE, "'%s' must be a list of names or globs, e.g. [pretrain, \"lab-*\"]", key);
    return NULL;
  }
  size_t i = 0;
  for (yaml_node_item_t *it = nd->data.sequence.items.start; it < nd->data.sequence.items.top; it++) {
    const char *v = scalar(y, yaml_document_get_node(y->doc, *it), key);
    if (!v) return NULL;
    out[i++] = wk_arena_strdup(y->w->arena, v);
  }
  return out;
}

/* "N", "A-B", "A-" (at least A), "-B" (at most B): a card range, 1 .. TRACE_MAX_CARDS. */
static int parse_cards(const char *s, int64_t *lo, int64_t *hi) {
  char a[32] = "", b[32] = "";
  const char *dash = strchr(s, '-');
  size_t la = dash ? (size_t)(dash - s) : strlen(s);
  if (la >= sizeof a || (dash && strlen(dash + 1) >= sizeof b)) return -1;
  memcpy(a, s, la);
  if (dash) strcpy(b, dash + 1);
  *lo = 1;
  *hi = TRACE_MAX_CARDS;
  if (*a && wk_parse_i64(a, lo)) return -1;
  if (dash && *b && wk_parse_i64(b, hi)) return -1;
  if (!dash) *hi = *lo;
  if (!*a && !*b) return -1;
  return *lo >= 1 && *hi >= *lo && *hi <= TRACE_MAX_CARDS ? 0 : -1;
}

/* A number in [lo, hi] for key; 0, or -1 with the error set. */
static int number(yctx *y, yaml_node_t *v, const char *key, double lo, double hi, double *out) {
  const char *s = scalar(y, v, key);
  if (!s) return -1;
  if (wk_parse_double(s, out) || !(*out >= lo) || !(*out <= hi))
    return yerr(y, v, WK_EVALUE, "'%s' must be a number from %g to %g, not '%s'", key, lo, hi, s);
  return 0;
}
static int boolean(yctx *y, yaml_node_t *v, const char *key, int *out) {
  const char *s = scalar(y, v, key);
  if (!s) return -1;
  if (!strcmp(s, "true") || !strcmp(s, "yes")) *out = 1;
  else if (!strcmp(s, "false") || !strcmp(s, "no")) *out = 0;
  else return yerr(y, v, WK_EVALUE, "'%s' must be true or false, not '%s'", key, s);
  return 0;
}

/* The workload kind each parameter key belongs to. */
static const struct {
  const char *key;
  wl_kind kind;
} params[] = {{"seq", WL_MODEL},
              {"gbs", WL_MODEL},
              {"params", WL_DATAPARALLEL},
              {"flops_per_sample", WL_DATAPARALLEL},
              {"batch_per_card", WL_DATAPARALLEL},
              {"efficiency", WL_DATAPARALLEL},
              {"cells_per_card", WL_STENCIL},
              {"bytes_per_cell", WL_STENCIL},
              {"flops_per_cell", WL_STENCIL},
              {"halo", WL_STENCIL},
              {"overlap", WL_STENCIL},
              {"points_per_card", WL_FFT},
              {"pencil", WL_FFT}};

static void rule_defaults(wl_rule *r) {
  memset(r, 0, sizeof *r);
  r->cards_lo = 1;
  r->cards_hi = TRACE_MAX_CARDS;
  r->seq = 4096;
  r->gbs = 1024;
  r->params = 1.3e9;
  r->flops_per_sample = 0; /* 0: 2 x params x 2048 tokens (a forward pass of one sample) */
  r->batch_per_card = 8;
  r->efficiency = 0.4;
  r->cells_per_card = 16777216; /* 256^3 */
  r->bytes_per_cell = 40;       /* five fp64 fields */
  r->flops_per_cell = 100;
  r->halo = 2;
  r->overlap = 1;
  r->points_per_card = 16777216;
  r->pencil = 1;
}

static void rule_item(yctx *y, yaml_node_t *nd) {
  if (nd->type != YAML_MAPPING_NODE) {
    yerr(y, nd, WK_EPARSE, "each rule is a mapping (queues:, cards:, model: or kernel:, ...)");
    return;
  }
  wl_rule r;
  rule_defaults(&r);
  r.line = (int)nd->start_mark.line + 1;
  r.col = (int)nd->start_mark.column + 1;
  int have_kind = 0;
  /* each parameter given, with its kind, to check against the workload once it is known */
  const char *pkey[32];
  yaml_node_t *pnode[32];
  wl_kind pkind[32];
  int np = 0;
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(y->doc, p->key), *v = yaml_document_get_node(y->doc, p->value);
    if (k->type != YAML_SCALAR_NODE) {
      yerr(y, k, WK_EPARSE, "keys must be plain words");
      continue;
    }
    const char *key = (const char *)k->data.scalar.value, *s;
    for (yaml_node_pair_t *q = nd->data.mapping.pairs.start; q < p; q++) {
      yaml_node_t *kq = yaml_document_get_node(y->doc, q->key);
      if (kq->type == YAML_SCALAR_NODE && !strcmp((const char *)kq->data.scalar.value, key))
        yerr(y, k, WK_EVALUE, "duplicate key '%s': remove one of the two", key);
    }
    double d;
    if (!strcmp(key, "users") || !strcmp(key, "groups") || !strcmp(key, "queues")) {
      r.pat[key[0] == 'u' ? 0 : key[0] == 'g' ? 1 : 2] = globs(y, v, key);
    } else if (!strcmp(key, "cards")) {
      if ((s = scalar(y, v, key)) && parse_cards(s, &r.cards_lo, &r.cards_hi))
        yerr(y, v, WK_EVALUE, "cards must be N, A-B, A- or -B (1 to %d), not '%s'", TRACE_MAX_CARDS, s);
    } else if (!strcmp(key, "model")) {
      if (have_kind++) yerr(y, k, WK_EVALUE, "a rule gives one workload: 'model' or 'kernel', not both");
      r.kind = WL_MODEL;
      if ((s = scalar(y, v, key))) {
        wk_err e2;
        if (work_model_get(&r.model, s, &e2)) yerr(y, v, e2.code, "%s", e2.msg);
        snprintf(r.model_name, sizeof r.model_name, "%s", r.model.name[0] ? r.model.name : s);
      }
    } else if (!strcmp(key, "kernel")) {
      if (have_kind++) yerr(y, k, WK_EVALUE, "a rule gives one workload: 'model' or 'kernel', not both");
      if ((s = scalar(y, v, key))) {
        if (!strcmp(s, "stencil")) r.kind = WL_STENCIL;
        else if (!strcmp(s, "fft")) r.kind = WL_FFT;
        else if (!strcmp(s, "dataparallel")) r.kind = WL_DATAPARALLEL;
        else yerr(y, v, WK_EUNKNOWN_NAME, "unknown kernel '%s' (stencil, fft, dataparallel)", s);
      }
    } else if (!strcmp(key, "seq") || !strcmp(key, "gbs")) {
      if (!number(y, v, key, 1, 1 << 24, &d) && d != floor(d)) yerr(y, v, WK_EVALUE, "'%s' must be a whole number", key);
      if (key[0] == 's') r.seq = (int)d;
      else r.gbs = (int)d;
    } else if (!strcmp(key, "params")) {
      number(y, v, key, 1, 1e15, &r.params);
    } else if (!strcmp(key, "flops_per_sample")) {
      number(y, v, key, 1, 1e21, &r.flops_per_sample);
    } else if (!strcmp(key, "batch_per_card")) {
      if (!number(y, v, key, 1, 1e6, &r.batch_per_card) && r.batch_per_card != floor(r.batch_per_card))
        yerr(y, v, WK_EVALUE, "'batch_per_card' must be a whole number");
    } else if (!strcmp(key, "efficiency")) {
      if (!number(y, v, key, 1e-6, 1, &r.efficiency) && !(r.efficiency > 0)) yerr(y, v, WK_EVALUE, "efficiency must be > 0");
    } else if (!strcmp(key, "cells_per_card")) {
      number(y, v, key, 64, 1e13, &r.cells_per_card);
    } else if (!strcmp(key, "bytes_per_cell")) {
      number(y, v, key, 1, 1e6, &r.bytes_per_cell);
    } else if (!strcmp(key, "flops_per_cell")) {
      number(y, v, key, 0, 1e9, &r.flops_per_cell);
    } else if (!strcmp(key, "halo")) {
      if (!number(y, v, key, 1, 64, &r.halo) && r.halo != floor(r.halo)) yerr(y, v, WK_EVALUE, "'halo' must be a whole number");
    } else if (!strcmp(key, "overlap")) {
      boolean(y, v, key, &r.overlap);
    } else if (!strcmp(key, "points_per_card")) {
      number(y, v, key, 8, 1e13, &r.points_per_card);
    } else if (!strcmp(key, "pencil")) {
      boolean(y, v, key, &r.pencil);
    } else {
      yerr(y, k, WK_EUNKNOWN_KEY,
           "unknown rule key '%s' (users, groups, queues, cards, model, kernel, and the "
           "workload's parameters: see docs/replay.md)", key);
    }
    for (size_t i = 0; i < sizeof params / sizeof params[0] && np < 32; i++)
      if (!strcmp(key, params[i].key)) {
        pkey[np] = key;
        pnode[np] = k;
        pkind[np++] = params[i].kind;
      }
  }
  if (y->nerr) return;
  if (!have_kind) {
    yerr(y, nd, WK_EVALUE, "the rule gives no workload: add 'model: NAME' or 'kernel: stencil|fft|dataparallel'");
    return;
  }
  for (int i = 0; i < np; i++)
    if (pkind[i] != r.kind) {
      yerr(y, pnode[i], WK_EVALUE, "'%s' is a parameter of %s, not of %s (docs/replay.md lists each "
           "workload's)", pkey[i], kind_names[pkind[i]], kind_names[r.kind]);
      return;
    }
  if (y->w->n == y->w->cap) {
    y->w->cap = y->w->cap ? 2 * y->w->cap : 8;
    y->w->r = wk_realloc(y->w->r, sizeof(wl_rule) * y->w->cap);
  }
  y->w->r[y->w->n++] = r;
}

wk_errcode replay_workloads_parse(const char *name, const char *text, size_t len,
                                  replay_workloads **out, wk_err *err) {
  *out = NULL;
  yaml_document_t doc;
  wk_errcode c = hw_yaml_load(text, len, name, &doc, err);
  if (c) return c;
  replay_workloads *w = wk_calloc(1, sizeof *w);
  w->arena = wk_arena_new(4096);
  snprintf(w->name, sizeof w->name, "%s", name);
  yctx y = {&doc, name, err, 0, w};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    wk_err_set(err, WK_EPARSE, name, 1, 1, "empty workloads file: it needs 'rules:' with a list");
    y.nerr++;
  } else if (root->type != YAML_MAPPING_NODE) {
    yerr(&y, root, WK_EPARSE, "a workloads file is a mapping with 'rules:'");
  } else {
    int have = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
      const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
      if (strcmp(key, "rules")) {
        yerr(&y, k, WK_EUNKNOWN_KEY, "unknown key '%s' (rules)", key);
        continue;
      }
      have = 1;
      if (v->type != YAML_SEQUENCE_NODE) {
        yerr(&y, v, WK_EPARSE, "'rules' must be a list of rules (- queues: ...)");
        continue;
      }
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        rule_item(&y, yaml_document_get_node(&doc, *it));
    }
    if (!have && !y.nerr) yerr(&y, root, WK_EPARSE, "no 'rules:' list");
    else if (!y.nerr && !w->n) yerr(&y, root, WK_EPARSE, "'rules' is empty: give at least one");
  }
  yaml_document_delete(&doc);
  if (y.nerr) {
    replay_workloads_free(w);
    return err ? err->code : WK_EPARSE;
  }
  *out = w;
  return WK_OK;
}

wk_errcode replay_workloads_load(const char *path, replay_workloads **out, wk_err *err) {
  *out = NULL;
  size_t len;
  char *text = wk_read_file(path, 16u << 20, "workloads file", &len, err);
  if (!text) return err ? err->code : WK_EIO;
  wk_errcode rc = replay_workloads_parse(path, text, len, out, err);
  wk_free(text);
  return rc;
}

replay_workloads *replay_workloads_default(void) {
  replay_workloads *w;
  wk_err e;
  wk_errcode rc = replay_workloads_parse("(default workload rules)", default_rules,
                                         sizeof default_rules - 1, &w, &e);
  WK_ASSERT(rc == WK_OK);
  return w;
}

/* ---- matching ------------------------------------------------------------------------------------ */
static int match_list(char **pats, const char *s) {
  if (!pats) return 1;
  if (!s || !*s) return 0;
  for (; *pats; pats++)
    if (!fnmatch(*pats, s, 0)) return 1;
  return 0;
}

static int rule_for(const replay_workloads *w, const char *u, const char *g, const char *q, int64_t cards) {
  for (uint32_t i = 0; i < w->n; i++) {
    const wl_rule *r = &w->r[i];
    if (cards < r->cards_lo || cards > r->cards_hi) continue;
    if (match_list(r->pat[0], u) && match_list(r->pat[1], g) && match_list(r->pat[2], q)) return (int)i;
  }
  return -1;
}

/* ---- resolving shapes ------------------------------------------------------------------------------ */
struct replay_wl {
  const hw_cluster *c;
  hw_cluster *twin;   /* the cluster made non-blocking: where the reference is timed */
  replay_shape *shapes;
  char (*labels)[96];
  uint32_t nshapes, cap;
  uint64_t *keys;     /* open addressing: (rule + 1) << 32 | cards -> shape */
  uint32_t *vals, mask;
  uint32_t *ident;    /* cards 0, 1, ...: the packed reference placement */
  uint32_t nident;
};

/* The cluster with every Clos tier non-blocking (down = up ports, or oversubscription 1);
 * dragonfly and torus fabrics have no such knob and are their own reference. */
static hw_cluster *nonblocking(const hw_cluster *c, wk_err *err) {
  hw_config cfg = *hw_cfg(c);
  if (cfg.topology == HW_TOPO_CLOS)
    for (int t = 0; t + 1 < cfg.ntiers; t++) {
      hw_tier *T = &cfg.tiers[t];
      if (T->down > 0 && T->up > 0) T->up = T->down;
      T->oversubscription = 1;
      if (T->down > 0 && !T->radix) T->radix = T->down + T->up;
    }
  return hw_build(&cfg, err);
}

void replay_wl_free(replay_wl *w) {
  if (!w) return;
  hw_free(w->twin);
  wk_free(w->shapes);
  wk_free(w->labels);
  wk_free(w->keys);
  wk_free(w->vals);
  wk_free(w->ident);
  wk_free(w);
}

const replay_shape *replay_wl_shape(const replay_wl *w, uint32_t i) { return &w->shapes[i]; }
const char *replay_wl_label(const replay_wl *w, uint32_t i) { return w->labels[i]; }
uint32_t replay_wl_count(const replay_wl *w) { return w ? w->nshapes : 0; }

static wk_errcode rule_err(const replay_workloads *ws, const wl_rule *r, uint32_t idx, int64_t cards,
                           wk_err *err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static wk_errcode rule_err(const replay_workloads *ws, const wl_rule *r, uint32_t idx, int64_t cards,
                           wk_err *err, const char *fmt, ...) {
  char why[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return wk_err_set(err, WK_EVALUE, ws->name, r->line, r->col,
                    "rule %u gives jobs of %lld cards %s %s: %s", idx + 1, (long long)cards,
                    r->kind == WL_MODEL ? "the model" : "the kernel",
                    r->kind == WL_MODEL ? r->model_name : kind_names[r->kind], why);
}

static wk_errcode resolve(const replay_wl *w, work_ctx *x, replay_counter *k, const replay_workloads *ws,
                          uint32_t ri, uint32_t cards, replay_shape *sh, char *label, size_t nlabel,
                          wk_err *err) {
  const wl_rule *r = &ws->r[ri];
  memset(sh, 0, sizeof *sh);
  wk_err e2;
  wk_errcode rc;
  const work_phase *ph = NULL;
  int nph = 0;
  if (r->kind == WL_MODEL) {
    work_plan_opts po = {cards, r->seq, r->gbs, WORK_BF16, WORK_ATTN_FLASH, 0, 1, NULL, NULL};
    work_plan_entry best;
    int nbest = 0;
    work_plan_stats ps;
    rc = work_plan(x, &r->model, &po, &best, &nbest, &ps, &e2);
    if (rc || !nbest) { /* a batch no layout of these cards divides: round it up to pure DP */
      po.gbs = (int)((r->gbs + (int64_t)cards - 1) / cards * cards);
      if (po.gbs > 0 && po.gbs != r->gbs) rc = work_plan(x, &r->model, &po, &best, &nbest, &ps, &e2);
    }
    if (rc || !nbest)
      return rule_err(ws, r, ri, cards, err, "no layout fits (%s); give the rule larger jobs (cards: A-) or a smaller model",
                      rc ? e2.msg : "none found");
    work_job j = best.job;
    j.level = 1;
    work_result res;
    if ((rc = work_train_step(x, &j, &res, &e2))) return rule_err(ws, r, ri, cards, err, "%s", e2.msg);
    sh->iter_ref_s = res.step_time_s;
    ph = res.phases;
    nph = res.nphases;
    memcpy(sh->ph, ph, sizeof(work_phase) * (size_t)nph);
    snprintf(label, nlabel, "%s tp%d pp%d dp%d cp%d ep%d", r->model_name, j.tp, j.pp, j.dp, j.cp, j.ep);
  } else {
    work_sci_result res;
    if (r->kind == WL_STENCIL) {
      int64_t side = (int64_t)llround(cbrt(r->cells_per_card * cards));
      if (side < 1) side = 1;
      work_stencil s = {side, side, side, cards, (int)r->halo, r->bytes_per_cell, r->flops_per_cell, r->overlap, 1};
      rc = work_sim_stencil(x, &s, &res, &e2);
      snprintf(label, nlabel, "stencil %lld^3", (long long)side);
    } else if (r->kind == WL_FFT) {
      int64_t n = (int64_t)llround(cbrt(r->points_per_card * cards));
      work_fft f = {n < 2 ? 2 : n, cards, r->pencil, 1};
      rc = work_sim_fft(x, &f, &res, &e2);
      snprintf(label, nlabel, "fft %lld^3", (long long)f.n);
    } else {
      double fps = r->flops_per_sample > 0 ? r->flops_per_sample : 2 * r->params * 2048;
      work_dataparallel d = {r->params, fps, (int64_t)r->batch_per_card, cards, r->efficiency, 1};
      rc = work_sim_dataparallel(x, &d, &res, &e2);
      snprintf(label, nlabel, "dataparallel %.3g params", r->params);
    }
    if (rc) return rule_err(ws, r, ri, cards, err, "%s", e2.msg);
    if (!res.fits)
      return rule_err(ws, r, ri, cards, err, "it needs %.1f GB per card, more than the card holds",
                      res.memory_bytes_per_card / 1e9);
    sh->iter_ref_s = res.step_time_s;
    nph = res.nphases;
    memcpy(sh->ph, res.phases, sizeof(work_phase) * (size_t)nph);
  }
  sh->nphases = nph;
  if (!(sh->iter_ref_s > 0))
    return rule_err(ws, r, ri, cards, err, "its iteration takes no time");
  for (int q = 0; q < nph; q++)
    sh->rate_ref[q] = replay_fab_phase_rate(w->twin, k, w->ident, cards, &sh->ph[q]);
  return WK_OK;
}

/* The distinct shapes are resolved on every core (each worker with its own context and link
 * counter; a shape is the same whichever resolves it): the planner's search for each model and
 * card count was most of a short replay's time. The widest first: a shape's cost grows with
 * its cards (16,384 cards: a third of a month's resolving), and one taken last kept one core
 * busy alone. */
typedef struct wl_todo {
  const replay_wl *w;
  const replay_workloads *ws;
  const uint32_t *ri, *cards; /* per shape: its rule and card count */
  const uint32_t *order;      /* the shapes, widest first */
  uint32_t n;
  atomic_uint next;
  wk_errcode *rc;
  wk_err *err;
} wl_todo;

int replay_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void *resolve_some(void *arg) {
  wl_todo *t = arg;
  work_ctx *x = work_ctx_new(t->w->twin);
  replay_counter *k = replay_counter_new(t->w->twin);
  for (uint32_t o; (o = atomic_fetch_add(&t->next, 1)) < t->n;) {
    uint32_t i = t->order[o];
    t->rc[i] = resolve(t->w, x, k, t->ws, t->ri[i], t->cards[i], &t->w->shapes[i], t->w->labels[i],
                       sizeof t->w->labels[0], &t->err[i]);
  }
  replay_counter_free(k);
  work_ctx_free(x);
  return NULL;
}

wk_errcode replay_wl_build(const hw_cluster *c, const replay_workloads *ws, const trace_job *jobs,
                           size_t n, const trace *names, uint32_t *shape_of, replay_wl **out,
                           wk_err *err) {
  *out = NULL;
  replay_wl *w = wk_calloc(1, sizeof *w);
  w->c = c;
  if (!(w->twin = nonblocking(c, err))) {
    wk_free(w);
    return err ? err->code : WK_EVALUE;
  }
  w->nident = hw_cards(c);
  w->ident = wk_malloc(sizeof(uint32_t) * (w->nident ? w->nident : 1));
  for (uint32_t i = 0; i < w->nident; i++) w->ident[i] = i;
  w->mask = 1023;
  w->keys = wk_calloc(w->mask + 1, sizeof(uint64_t));
  w->vals = wk_calloc(w->mask + 1, sizeof(uint32_t));
  /* each job's rule and shape, the shapes numbered as first met; up to the first job no rule
   * takes (its error stands unless a shape met before it fails) */
  wk_errcode rc = WK_OK;
  wk_err norule;
  uint32_t *sri = NULL, *scards = NULL;
  for (size_t i = 0; i < n && !rc; i++) {
    shape_of[i] = UINT32_MAX;
    if (jobs[i].cards > (int64_t)w->nident) continue; /* dropped by the replay */
    const char *u = names ? trace_name(names, jobs[i].user) : "";
    const char *g = names ? trace_name(names, jobs[i].group) : "";
    const char *q = names ? trace_name(names, jobs[i].queue) : "";
    int ri = rule_for(ws, u, g, q, jobs[i].cards);
    if (ri < 0) {
      rc = wk_err_set(&norule, WK_EVALUE, names ? trace_source(names) : "", (int)jobs[i].line, 0,
                      "job %lld (queue '%s', user '%s', group '%s', %lld cards) matches no rule of "
                      "%s: end the rules with one that has no match keys",
                      (long long)jobs[i].id, q, u, g, (long long)jobs[i].cards, ws->name);
      break;
    }
    uint64_t key = (uint64_t)(ri + 1) << 32 | (uint64_t)jobs[i].cards;
    uint32_t at = (uint32_t)wk_mix64(key) & w->mask;
    while (w->keys[at] && w->keys[at] != key) at = (at + 1) & w->mask;
    if (!w->keys[at]) {
      if (w->nshapes == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->shapes = wk_realloc(w->shapes, sizeof(replay_shape) * w->cap);
        w->labels = wk_realloc(w->labels, sizeof *w->labels * w->cap);
        sri = wk_realloc(sri, sizeof(uint32_t) * w->cap);
        scards = wk_realloc(scards, sizeof(uint32_t) * w->cap);
      }
      sri[w->nshapes] = (uint32_t)ri;
      scards[w->nshapes] = (uint32_t)jobs[i].cards;
      w->keys[at] = key;
      w->vals[at] = w->nshapes++;
      if (2 * w->nshapes > w->mask) { /* keep the table under half full */
        uint32_t om = w->mask;
        uint64_t *ok = w->keys;
        uint32_t *ov = w->vals;
        w->mask = 2 * om + 1;
        w->keys = wk_calloc(w->mask + 1, sizeof(uint64_t));
        w->vals = wk_calloc(w->mask + 1, sizeof(uint32_t));
        for (uint32_t s = 0; s <= om; s++) {
          if (!ok[s]) continue;
          uint32_t b = (uint32_t)wk_mix64(ok[s]) & w->mask;
          while (w->keys[b]) b = (b + 1) & w->mask;
          w->keys[b] = ok[s];
          w->vals[b] = ov[s];
        }
        wk_free(ok);
        wk_free(ov);
        at = (uint32_t)wk_mix64(key) & w->mask;
        while (w->keys[at] != key) at = (at + 1) & w->mask;
      }
    }
    shape_of[i] = w->vals[at];
  }
  /* resolve them: this thread and up to 7 more, one a core */
  uint64_t *key = wk_malloc(sizeof(uint64_t) * (w->nshapes + 1));
  for (uint32_t i = 0; i < w->nshapes; i++) /* widest first, then as met */
    key[i] = (uint64_t)(UINT32_MAX - scards[i]) << 32 | i;
  qsort(key, w->nshapes, sizeof *key, replay_cmp_u64);
  uint32_t *order = wk_malloc(sizeof(uint32_t) * (w->nshapes + 1));
  for (uint32_t i = 0; i < w->nshapes; i++) order[i] = (uint32_t)key[i];
  wk_free(key);
  wl_todo t = {w, ws, sri, scards, order, w->nshapes, 0, NULL, NULL};
  t.rc = wk_calloc(w->nshapes + 1, sizeof(wk_errcode));
  t.err = wk_calloc(w->nshapes + 1, sizeof(wk_err));
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  pthread_t th[7];
  int nth = 0;
  while (nth < 7 && nth + 1 < cores && (uint32_t)nth + 1 < w->nshapes && !pthread_create(&th[nth], NULL, resolve_some, &t))
    nth++;
  resolve_some(&t);
  for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
  /* the first error in the trace's order: a shape's (met before any job no rule takes) */
  wk_errcode src = WK_OK;
  for (uint32_t i = 0; i < w->nshapes && !src; i++)
    if ((src = t.rc[i]) && err) *err = t.err[i];
  if (!src && rc && err) *err = norule;
  if (!src) src = rc;
  wk_free(t.rc);
  wk_free(t.err);
  wk_free(order);
  wk_free(sri);
  wk_free(scards);
  if (src) {
    replay_wl_free(w);
    return src;
  }
  *out = w;
  return WK_OK;
}
