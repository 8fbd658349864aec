/* spec.c — the SPEC of a sweep (docs/sweep.md): a base command with its options and the axes to
 * vary, read from YAML with libyaml's document API (every error as path:line:col, like the
 * cluster, tenants and workloads readers), checked against the options the host says the
 * command takes, and expanded point by point on demand: a point is a mixed-radix number over
 * the axes, so a grid of a million points costs nothing until a point is asked for. */
#include "sweep_int.h"

#include "hw/hw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define SW_MAX_AXIS_VALUES 10000000ull /* one axis; the grid is bounded by SWEEP_LARGE */

typedef struct yctx {
  yaml_document_t *doc;
  const char *path;
  wk_err *err;
  int nerr;
  sweep_spec *s;
  const sweep_host *h;
  const sweep_option *opts; /* the command's, from the host */
  size_t nopts;
  /* where each column and base option was set, for "set twice" errors */
  int col_line[SW_MAX_COLS], col_col[SW_MAX_COLS], base_line[SW_MAX_COLS];
  uint32_t cap_cols, cap_axes, cap_base;
  int allow_large;
} yctx;

/* Every error is counted; the first is kept (libyaml's marks count from 0, ours from 1). */
#define yerr(y, nd, code, ...)                                                                   \
  wk_err_first((y)->err, &(y)->nerr, (code), (y)->path, (int)(nd)->start_mark.line + 1,         \
               (int)(nd)->start_mark.column + 1, __VA_ARGS__)

static yaml_node_t *node(yctx *y, int id) { return yaml_document_get_node(y->doc, id); }

static const char *scalar(yctx *y, const yaml_node_t *nd, const char *what) {
  if (nd->type != YAML_SCALAR_NODE) {
    yerr(y, nd, WK_EVALUE, "'%s' takes one value, not a %s", what,
         nd->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
    return NULL;
  }
  return (const char *)nd->data.scalar.value;
}

static int is_plain(const yaml_node_t *nd) {
  return nd->type == YAML_SCALAR_NODE && nd->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* ---- the command's options ------------------------------------------------------------ */
static const sweep_option *find_opt(const yctx *y, const char *name) {
  for (size_t i = 0; i < y->nopts; i++)
    if (!strcmp(y->opts[i].name, name)) return &y->opts[i];
  return NULL;
}

/* The option named by a base key or an axis column, or NULL after the error (unknown, with a
 * suggestion; or one a point may not set). */
static const sweep_option *option(yctx *y, const yaml_node_t *at, const char *name,
                                 const char *what) {
  for (const char *const *r = y->h->reserved; r && *r; r++)
    if (!strcmp(*r, name)) {
      yerr(y, at, WK_EVALUE, "'%s' cannot be set in a sweep: %s", name, y->h->why_reserved);
      return NULL;
    }
  const sweep_option *o = find_opt(y, name);
  if (o) return o;
  char near[96] = "";
  if (y->h->suggest) {
    const char **names = wk_calloc(y->nopts + 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < y->nopts; i++) {
      int reserved = 0;
      for (const char *const *r = y->h->reserved; r && *r; r++) reserved |= !strcmp(*r, y->opts[i].name);
      if (!reserved) names[k++] = y->opts[i].name;
    }
    const char *s = y->h->suggest(name, names);
    if (s) snprintf(near, sizeof near, "; did you mean '%s'?", s);
    wk_free(names);
  }
  yerr(y, at, WK_EUNKNOWN_KEY, "unknown %s '%s' for '%s'%s (see 'wanka %s --help')", what, name,
       y->s->command, near, y->s->command);
  return NULL;
}

/* A flag's value: "true" or "false" (YAML's yes/no/on/off too). 1, 0, or -1 (error set). */
static int flag_value(yctx *y, const yaml_node_t *nd, const char *name, const char *v) {
  static const char *const yes[] = {"true", "yes", "on", "True", "TRUE", NULL};
  static const char *const no[] = {"false", "no", "off", "False", "FALSE", NULL};
  for (const char *const *p = yes; *p; p++)
    if (!strcmp(v, *p)) return 1;
  for (const char *const *p = no; *p; p++)
    if (!strcmp(v, *p)) return 0;
  yerr(y, nd, WK_EVALUE, "'%s' is a switch: give true or false, not '%s'", name, v);
  return -1;
}

/* ---- building the spec ---------------------------------------------------------------- */
static void grow(void **p, uint32_t *cap, uint32_t n, size_t sz) {
  if (n < *cap) return;
  *cap = *cap ? 2 * *cap : 8;
  *p = wk_realloc(*p, *cap * sz);
}

/* A new column named name (with its option resolved), or NULL after the error. */
static sw_col *add_col(yctx *y, const yaml_node_t *at, const char *name) {
  sweep_spec *s = y->s;
  if (s->ncols >= SW_MAX_COLS) {
    yerr(y, at, WK_ECAPACITY, "more than %d axis columns: split the sweep", SW_MAX_COLS);
    return NULL;
  }
  sw_col c = {wk_arena_strdup(s->arena, name), NULL, NULL, 0};
  const char *colon = strchr(name, ':');
  if (colon) {
    char opt[128];
    snprintf(opt, sizeof opt, "%.*s", (int)(colon - name), name);
    if (!colon[1] || colon == name) {
      yerr(y, at, WK_EVALUE, "axis '%s' must be OPTION:KEY, e.g. cluster:oversubscription", name);
      return NULL;
    }
    const sweep_option *o = option(y, at, opt, "option");
    if (!o) return NULL;
    if (o->flag || !y->h->tweak_known) {
      yerr(y, at, WK_EVALUE, "axis '%s': --%s takes no KEY=value tweaks (--cluster does)", name,
           opt);
      return NULL;
    }
    c.opt = o->name;
    c.key = wk_arena_strdup(s->arena, colon + 1);
  } else {
    const sweep_option *o = option(y, at, name, "option or axis");
    if (!o) return NULL;
    c.opt = o->name;
    c.flag = o->flag;
  }
  /* a plain option set twice, or a tweak key twice on one option */
  for (uint32_t i = 0; i < s->ncols; i++)
    if (!strcmp(s->cols[i].opt, c.opt) && (s->cols[i].key == NULL) == (c.key == NULL) &&
        (!c.key || !strcmp(s->cols[i].key, c.key))) {
      yerr(y, at, WK_EVALUE, "'%s' is already an axis (line %d): keep one", name, y->col_line[i]);
      return NULL;
    }
  for (uint32_t i = 0; i < s->nbase && !c.key; i++)
    if (!strcmp(s->base[i].opt, c.opt)) {
      yerr(y, at, WK_EVALUE, "'%s' is set in base (line %d) and as an axis: keep one", name,
           y->base_line[i]);
      return NULL;
    }
  y->col_line[s->ncols] = (int)at->start_mark.line + 1;
  y->col_col[s->ncols] = (int)at->start_mark.column + 1;
  grow((void **)&s->cols, &y->cap_cols, s->ncols, sizeof *s->cols);
  s->cols[s->ncols] = c;
  return &s->cols[s->ncols++];
}

static sw_axis *add_axis(yctx *y, uint32_t ncols, uint64_t nvalues) {
  sweep_spec *s = y->s;
  grow((void **)&s->axes, &y->cap_axes, s->naxes, sizeof *s->axes);
  sw_axis *a = &s->axes[s->naxes++];
  a->col0 = s->ncols - ncols;
  a->ncols = ncols;
  a->nvalues = nvalues;
  a->text = WK_ARENA_NEW(s->arena, const char *, nvalues * ncols);
  a->plain = WK_ARENA_NEW(s->arena, uint8_t, nvalues * ncols);
  return a;
}

/* Checks a value for column c (a switch takes true/false, written back as such). */
static const char *col_value(yctx *y, const sw_col *c, const yaml_node_t *nd, const char *v) {
  if (!c->flag) return wk_arena_strdup(y->s->arena, v);
  int f = flag_value(y, nd, c->name, v);
  return f < 0 ? NULL : f ? "true" : "false";
}

/* ---- ranges ------------------------------------------------------------------------------ */
/* {from: A, to: B, step: S} (arithmetic, step 1 by default) or {from: A, to: B, times: F}
 * (geometric): the values from A up to B, B included when the steps land on it. Whole numbers
 * stay whole (exact integer arithmetic); others are written with 10 significant digits. OUT
 * *n and the values (arena). 0 or -1. */
static int range_values(yctx *y, const yaml_node_t *nd, const char *name, uint64_t *n,
                        const char ***out) {
  const char *tx[4] = {NULL, NULL, NULL, NULL}; /* from, to, step, times */
  static const char *const keys[] = {"from", "to", "step", "times"};
  const yaml_node_t *at[4] = {nd, nd, nd, nd};
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
    const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    int which = -1;
    for (int i = 0; i < 4; i++)
      if (!strcmp(key, keys[i])) which = i;
    if (which < 0)
      return yerr(y, k, WK_EUNKNOWN_KEY,
                  "unknown range key '%s' in axis '%s' (from, to, and step or times)", key, name);
    if (tx[which]) return yerr(y, k, WK_EVALUE, "duplicate key '%s': remove one of the two", key);
    if (!(tx[which] = scalar(y, v, key))) return -1;
    at[which] = v;
  }
  if (!tx[0] || !tx[1])
    return yerr(y, nd, WK_EVALUE, "range of axis '%s' needs from: and to:", name);
  if (tx[2] && tx[3])
    return yerr(y, at[3], WK_EVALUE, "range of axis '%s' has step and times: keep one", name);
  double d[4] = {0, 0, 1, 0};
  int64_t iv[4] = {0, 0, 1, 0};
  int whole = 1;
  for (int i = 0; i < 4; i++) {
    if (!tx[i]) continue;
    if (wk_parse_double(tx[i], &d[i]))
      return yerr(y, at[i], WK_EVALUE, "'%s' of axis '%s' must be a number, not '%s'", keys[i],
                  name, tx[i]);
    if (wk_parse_i64(tx[i], &iv[i]) || llabs(iv[i]) > (1ll << 53)) whole = 0;
  }
  uint64_t count;
  if (tx[3]) {
    if (!(d[0] > 0) || !(d[3] > 1) || d[1] < d[0])
      return yerr(y, nd, WK_EVALUE, "geometric range of axis '%s' needs 0 < from <= to and "
                  "times > 1", name);
    count = (uint64_t)floor(log(d[1] / d[0]) / log(d[3]) + 1e-9) + 1;
  } else {
    if (d[2] == 0 || (d[1] - d[0]) / d[2] < 0)
      return yerr(y, at[2], WK_EVALUE, "range of axis '%s' never reaches %s from %s by step %s: "
                  "give a step of the other sign", name, tx[1], tx[0], tx[2] ? tx[2] : "1");
    double c = floor((d[1] - d[0]) / d[2] * (1 + 1e-12) + 1e-9) + 1;
    if (c > (double)SW_MAX_AXIS_VALUES) c = (double)SW_MAX_AXIS_VALUES + 1;
    count = (uint64_t)c;
  }
  if (count > SW_MAX_AXIS_VALUES)
    return yerr(y, nd, WK_ECAPACITY, "range of axis '%s' has over %llu values: give a larger "
                "step", name, SW_MAX_AXIS_VALUES);
  if (count > SWEEP_LARGE && !y->allow_large) /* refused before its values are made */
    return yerr(y, nd, WK_ECAPACITY, "range of axis '%s' has %llu values, over %llu: give "
                "--allow-large to run it, or a larger step", name, (unsigned long long)count,
                SWEEP_LARGE);
  const char **v = WK_ARENA_NEW(y->s->arena, const char *, count);
  char buf[64];
  int64_t cur = iv[0];
  for (uint64_t k = 0; k < count; k++) {
    if (whole) {
      snprintf(buf, sizeof buf, "%lld", (long long)cur);
      if (tx[3]) cur *= iv[3];
      else cur += iv[2];
    } else {
      double x = tx[3] ? d[0] * pow(d[3], (double)k) : d[0] + (double)k * d[2];
      snprintf(buf, sizeof buf, "%.10g", x);
    }
    v[k] = wk_arena_strdup(y->s->arena, buf);
  }
  *n = count;
  *out = v;
  return 0;
}

/* The values of one axis node: a list of scalars or a range. OUT *n, *vals, *plain (arena). */
static int axis_values(yctx *y, const yaml_node_t *nd, const sw_col *c, uint64_t *n,
                       const char ***vals, uint8_t **plain) {
  if (nd->type == YAML_MAPPING_NODE) {
    if (c->flag)
      return yerr(y, nd, WK_EVALUE, "'%s' is a switch: give [true, false], not a range", c->name);
    if (range_values(y, nd, c->name, n, vals)) return -1;
    *plain = WK_ARENA_NEW(y->s->arena, uint8_t, *n);
    memset(*plain, 1, *n);
    return 0;
  }
  if (nd->type != YAML_SEQUENCE_NODE)
    return yerr(y, nd, WK_EVALUE, "axis '%s' needs a list of values ([a, b]) or a range "
                "({from: 1, to: 8}); a single value belongs in base", c->name);
  size_t k = (size_t)(nd->data.sequence.items.top - nd->data.sequence.items.start);
  if (!k) return yerr(y, nd, WK_EVALUE, "axis '%s' is empty: give it at least one value", c->name);
  *n = k;
  *vals = WK_ARENA_NEW(y->s->arena, const char *, k);
  *plain = WK_ARENA_NEW(y->s->arena, uint8_t, k);
  size_t i = 0;
  for (yaml_node_item_t *it = nd->data.sequence.items.start; it < nd->data.sequence.items.top;
       it++, i++) {
    yaml_node_t *e = node(y, *it);
    const char *v = scalar(y, e, c->name);
    if (!v || !((*vals)[i] = col_value(y, c, e, v))) return -1;
    if (!*v && !c->flag)
      return yerr(y, e, WK_EVALUE, "axis '%s' has an empty value: remove it or quote a value",
                  c->name);
    (*plain)[i] = (uint8_t)is_plain(e);
  }
  return 0;
}

/* One axis (a list or range under one name). */
static void read_axis(yctx *y, const yaml_node_t *k, const char *name, const yaml_node_t *v) {
  sw_col *c = add_col(y, k, name);
  if (!c) return;
  uint64_t n;
  const char **vals;
  uint8_t *plain;
  if (axis_values(y, v, c, &n, &vals, &plain)) return;
  sw_axis *a = add_axis(y, 1, n);
  memcpy(a->text, vals, n * sizeof *vals);
  memcpy(a->plain, plain, n);
}

/* zip: a mapping of lists of one length, varied together as one axis. */
static void read_zip(yctx *y, const yaml_node_t *nd) {
  if (nd->type != YAML_MAPPING_NODE) {
    yerr(y, nd, WK_EVALUE, "'zip' needs a mapping of lists of one length (tp: [1, 2], pp: [2, 1])"
         ", or a list of such mappings");
    return;
  }
  uint32_t ncols = 0;
  uint64_t n = 0;
  const char **vals[SW_MAX_COLS];
  uint8_t *plain[SW_MAX_COLS];
  int first_line = 0;
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
    const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    sw_col *c = add_col(y, k, name);
    if (!c) return;
    uint64_t m;
    if (v->type != YAML_SEQUENCE_NODE) {
      yerr(y, v, WK_EVALUE, "zipped axis '%s' needs a list of values", name);
      return;
    }
    if (axis_values(y, v, c, &m, &vals[ncols], &plain[ncols])) return;
    if (ncols && m != n) {
      yerr(y, v, WK_EVALUE, "zipped axis '%s' has %llu values, the first (line %d) has %llu: "
           "zipped lists vary together and need one length", name, (unsigned long long)m,
           first_line, (unsigned long long)n);
      return;
    }
    if (!ncols) first_line = (int)k->start_mark.line + 1;
    n = m;
    ncols++;
  }
  if (!ncols) {
    yerr(y, nd, WK_EVALUE, "'zip' is empty: give it lists to vary together");
    return;
  }
  sw_axis *a = add_axis(y, ncols, n);
  for (uint64_t v = 0; v < n; v++)
    for (uint32_t c = 0; c < ncols; c++) {
      a->text[v * ncols + c] = vals[c][v];
      a->plain[v * ncols + c] = plain[c][v];
    }
}

static void read_axes(yctx *y, const yaml_node_t *nd) {
  if (nd->type != YAML_MAPPING_NODE) {
    yerr(y, nd, WK_EVALUE, "'axes' is a mapping of option: [values] (policy: [fifo, backfill])");
    return;
  }
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top && !y->nerr;
       p++) {
    yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
    if (k->type != YAML_SCALAR_NODE) {
      yerr(y, k, WK_EPARSE, "axis names are plain words");
      return;
    }
    const char *name = (const char *)k->data.scalar.value;
    if (!strcmp(name, "zip")) {
      if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top && !y->nerr; it++)
          read_zip(y, node(y, *it));
      } else {
        read_zip(y, v);
      }
    } else {
      read_axis(y, k, name, v);
    }
  }
}

/* seeds: N (1..N) or a list: the innermost axis `seed`. */
static void read_seeds(yctx *y, const yaml_node_t *k, const yaml_node_t *v) {
  if (!find_opt(y, "seed")) {
    yerr(y, k, WK_EVALUE, "'seeds': '%s' takes no --seed", y->s->command);
    return;
  }
  if (v->type == YAML_SEQUENCE_NODE) {
    read_axis(y, k, "seed", v);
    return;
  }
  const char *t = scalar(y, v, "seeds");
  int64_t n;
  if (!t) return;
  if (wk_parse_i64(t, &n) || n < 1 || n > 1000000) {
    yerr(y, v, WK_EVALUE, "'seeds' must be a count from 1 to 1000000 (seeds 1..N) or a list, not "
         "'%s'", t);
    return;
  }
  sw_col *c = add_col(y, k, "seed");
  if (!c) return;
  sw_axis *a = add_axis(y, 1, (uint64_t)n);
  char buf[32];
  for (int64_t i = 0; i < n; i++) {
    snprintf(buf, sizeof buf, "%lld", (long long)(i + 1));
    a->text[i] = wk_arena_strdup(y->s->arena, buf);
    a->plain[i] = 1;
  }
}

static void read_base(yctx *y, const yaml_node_t *nd) {
  sweep_spec *s = y->s;
  if (nd->type != YAML_MAPPING_NODE) {
    yerr(y, nd, WK_EVALUE, "'base' is a mapping of option: value (cluster: zhengzhou-60k)");
    return;
  }
  for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top && !y->nerr;
       p++) {
    yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
    const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    if (strchr(name, ':')) {
      yerr(y, k, WK_EVALUE, "'%s': base options are plain options; write a cluster tweak into "
           "the value (cluster: zhengzhou-60k:oversubscription=2) or make it an axis", name);
      return;
    }
    const sweep_option *o = option(y, k, name, "option");
    if (!o) return;
    for (uint32_t i = 0; i < s->nbase; i++)
      if (!strcmp(s->base[i].opt, o->name)) {
        yerr(y, k, WK_EVALUE, "duplicate key '%s': remove one of the two", name);
        return;
      }
    /* A list gives the option once per value, in order: the options a command takes several
     * times (compare's --cluster, --policy, --placement). */
    int seq = v->type == YAML_SEQUENCE_NODE;
    yaml_node_item_t *it = seq ? v->data.sequence.items.start : NULL;
    if (seq && it == v->data.sequence.items.top) {
      yerr(y, v, WK_EVALUE, "'%s' is an empty list: give it a value, or leave it out", name);
      return;
    }
    do {
      yaml_node_t *e = seq ? node(y, *it) : v;
      if (s->nbase >= SW_MAX_COLS) {
        yerr(y, k, WK_ECAPACITY, "more than %d base options", SW_MAX_COLS);
        return;
      }
      const char *t = scalar(y, e, name);
      if (!t) return;
      if (!*t && !o->flag) {
        yerr(y, e, WK_EVALUE, "'%s' needs a value", name);
        return;
      }
      sw_col c = {o->name, o->name, NULL, o->flag};
      const char *val = col_value(y, &c, e, t);
      if (!val) return;
      y->base_line[s->nbase] = (int)k->start_mark.line + 1;
      uint32_t cap = y->cap_base;
      grow((void **)&s->base, &cap, s->nbase, sizeof *s->base);
      grow((void **)&s->base_value, &y->cap_base, s->nbase, sizeof *s->base_value);
      s->base[s->nbase] = c;
      s->base_value[s->nbase++] = val;
    } while (seq && ++it < v->data.sequence.items.top);
  }
}

static void read_command(yctx *y, const yaml_node_t *nd) {
  sweep_spec *s = y->s;
  const char *t = scalar(y, nd, "command");
  if (!t) return;
  char *copy = wk_arena_strdup(s->arena, t);
  size_t cap = strlen(copy) / 2 + 2;
  s->words = WK_ARENA_NEW(s->arena, char *, cap);
  for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
    s->words[s->nwords++] = w;
  if (!s->nwords) {
    yerr(y, nd, WK_EVALUE, "'command' names the base command (replay, compare, train, plan, coll OP, "
         "sim KERNEL)");
    return;
  }
  size_t len = 0;
  for (int i = 0; i < s->nwords; i++) len += strlen(s->words[i]) + 1;
  s->command = WK_ARENA_NEW(s->arena, char, len);
  for (int i = 0; i < s->nwords; i++) {
    if (i) strcat(s->command, " ");
    strcat(s->command, s->words[i]);
  }
  if (y->h->options(y->h->ctx, s->nwords, s->words, &y->opts, &y->nopts) == 0) return;
  const char **names = wk_calloc(y->nopts + 1, sizeof *names);
  char list[256] = "", near[96] = "";
  size_t k = 0;
  for (size_t i = 0; i < y->nopts; i++) {
    names[i] = y->opts[i].name;
    k += (size_t)snprintf(list + k, k < sizeof list ? sizeof list - k : 0, "%s%s",
                          i ? (i + 1 < y->nopts ? ", " : " or ") : "", y->opts[i].name);
  }
  const char *sug = y->h->suggest ? y->h->suggest(s->words[0], names) : NULL;
  if (sug) snprintf(near, sizeof near, "; did you mean '%s'?", sug);
  wk_free(names);
  yerr(y, nd, WK_EUNKNOWN_NAME, "unknown command '%s' for a sweep%s (%s)", s->words[0], near, list);
}

/* After everything is read: each tweak axis's option has a value, and its key is known. */
static void check_tweaks(yctx *y) {
  sweep_spec *s = y->s;
  for (uint32_t i = 0; i < s->ncols && !y->nerr; i++) {
    const sw_col *c = &s->cols[i];
    if (!c->key) continue;
    const char *value = NULL;
    for (uint32_t b = 0; b < s->nbase; b++)
      if (!strcmp(s->base[b].opt, c->opt)) value = s->base_value[b];
    for (uint32_t a = 0; a < s->naxes && !value; a++)
      for (uint32_t k = 0; k < s->axes[a].ncols; k++) {
        const sw_col *o = &s->cols[s->axes[a].col0 + k];
        if (!o->key && !strcmp(o->opt, c->opt)) value = s->axes[a].text[k];
      }
    /* where the column's name was, kept by add_col */
    yaml_node_t at = {0};
    at.start_mark.line = (size_t)(y->col_line[i] - 1);
    at.start_mark.column = (size_t)(y->col_col[i] - 1);
    if (!value) {
      yerr(y, &at, WK_EVALUE, "axis '%s' tweaks --%s, which is not set: add %s: to base", c->name,
           c->opt, c->opt);
      return;
    }
    const sw_axis *ax = NULL;
    for (uint32_t a = 0; a < s->naxes; a++)
      if (i >= s->axes[a].col0 && i < s->axes[a].col0 + s->axes[a].ncols) ax = &s->axes[a];
    char msg[400];
    if (ax && y->h->tweak_known(y->h->ctx, c->opt, value, c->key,
                                ax->text[i - ax->col0], msg, sizeof msg)) {
      yerr(y, &at, WK_EUNKNOWN_KEY, "axis '%s': %s", c->name, msg);
      return;
    }
  }
}

/* FNV-1a over the bytes, with a 0 after each string so "ab","c" differs from "a","bc". */
static uint64_t fnv(uint64_t h, const char *p) {
  for (; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;
}

static void finish(yctx *y, const yaml_node_t *axes_at, int allow_large) {
  sweep_spec *s = y->s;
  uint64_t n = 1;
  char dims[128] = "";
  size_t k = 0;
  for (uint32_t a = 0; a < s->naxes; a++) {
    uint64_t m = s->axes[a].nvalues;
    n = n > UINT64_MAX / m ? UINT64_MAX : n * m;
    k += (size_t)snprintf(dims + k, k < sizeof dims ? sizeof dims - k : 0, "%s%llu",
                          a ? " x " : "", (unsigned long long)m);
  }
  s->points = n;
  if (n > SWEEP_LARGE && !allow_large) {
    yerr(y, axes_at, WK_ECAPACITY, "the grid has %llu points (%s), over %llu: give "
         "--allow-large to run it, or fewer values", (unsigned long long)n, dims, SWEEP_LARGE);
    return;
  }
  /* the journal's index takes 13 bytes a point */
  if ((double)n * 13 > wk_memory_limit()) {
    yerr(y, axes_at, WK_ECAPACITY, "the grid has %llu points (%s): its index would take %.1f GiB,"
         " beyond the %.1f GiB allowed (half of this machine's memory, or WANKA_MAX_MODEL_BYTES)",
         (unsigned long long)n, dims, (double)n * 13 / 1073741824.0,
         wk_memory_limit() / 1073741824.0);
    return;
  }
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv(h, s->command);
  for (uint32_t b = 0; b < s->nbase; b++) h = fnv(fnv(h, s->base[b].opt), s->base_value[b]);
  for (uint32_t a = 0; a < s->naxes; a++) {
    const sw_axis *ax = &s->axes[a];
    h = fnv(h, "|axis");
    for (uint32_t c = 0; c < ax->ncols; c++) h = fnv(h, s->cols[ax->col0 + c].name);
    for (uint64_t v = 0; v < ax->nvalues * ax->ncols; v++) h = fnv(h, ax->text[v]);
  }
  s->digest = h;
}

wk_errcode sweep_spec_parse(const char *path, const char *text, size_t len, const sweep_host *h,
                            int allow_large, sweep_spec **out, wk_err *err) {
  *out = NULL;
  yaml_document_t doc;
  wk_errcode c = hw_yaml_load(text, len, path, &doc, err);
  if (c) return c;
  sweep_spec *s = wk_calloc(1, sizeof *s);
  s->arena = wk_arena_new(4096);
  snprintf(s->path, sizeof s->path, "%s", path);
  yctx y = {.doc = &doc, .path = path, .err = err, .s = s, .h = h, .allow_large = allow_large};
  yaml_node_t *root = yaml_document_get_root_node(&doc), *axes_at = NULL;
  if (!root) {
    wk_err_set(err, WK_EPARSE, path, 1, 1, "empty sweep file: it needs 'command:' and 'axes:' "
               "(see docs/sweep.md)");
    y.nerr++;
  } else if (root->type != YAML_MAPPING_NODE) {
    yerr(&y, root, WK_EPARSE, "a sweep file is a mapping (command:, base:, axes:, seeds:)");
  } else {
    static const char *const keys[] = {"command", "base", "axes", "seeds", "timeout", NULL};
    yaml_node_t *at[5] = {NULL}, *key_at[5] = {NULL};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
      yaml_node_t *k = node(&y, p->key), *v = node(&y, p->value);
      const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
      int which = -1;
      for (int i = 0; keys[i]; i++)
        if (!strcmp(key, keys[i])) which = i;
      if (which < 0) {
        char near[96] = "";
        const char *sug = h->suggest ? h->suggest(key, (const char *const *)keys) : NULL;
        if (sug) snprintf(near, sizeof near, "; did you mean '%s'?", sug);
        yerr(&y, k, WK_EUNKNOWN_KEY, "unknown key '%s'%s (command, base, axes, seeds, timeout)",
             key, near);
        break;
      }
      if (at[which]) {
        yerr(&y, k, WK_EVALUE, "duplicate key '%s': remove one of the two", key);
        break;
      }
      at[which] = v;
      key_at[which] = k;
    }
    if (!y.nerr && !at[0])
      yerr(&y, root, WK_EVALUE, "a sweep needs 'command:' (replay, compare, train, plan, coll OP, sim "
           "KERNEL)");
    if (!y.nerr) read_command(&y, at[0]);
    if (!y.nerr && at[1]) read_base(&y, at[1]);
    if (!y.nerr && at[2]) read_axes(&y, at[2]);
    if (!y.nerr && at[3]) read_seeds(&y, key_at[3], at[3]);
    if (!y.nerr && at[4]) {
      const char *t = scalar(&y, at[4], "timeout");
      if (t && (wk_parse_duration_s(t, &s->timeout_s) || !(s->timeout_s > 0) ||
                s->timeout_s > 365 * 86400.0))
        yerr(&y, at[4], WK_EVALUE, "'timeout' must be a duration per point (90s, 10m, 2h), not "
             "'%s'", t);
    }
    if (!y.nerr) check_tweaks(&y);
    axes_at = key_at[2] ? key_at[2] : key_at[3] ? key_at[3] : root;
    if (!y.nerr) finish(&y, axes_at, allow_large);
  }
  yaml_document_delete(&doc);
  if (y.nerr) {
    sweep_spec_free(s);
    return err ? err->code : WK_EPARSE;
  }
  *out = s;
  return WK_OK;
}

wk_errcode sweep_spec_load(const char *path, const sweep_host *h, int allow_large,
                           sweep_spec **out, wk_err *err) {
  size_t len;
  *out = NULL;
  char *text = wk_read_file(path, 16u << 20, "sweep file", &len, err);
  if (!text) return err ? err->code : WK_EIO;
  wk_errcode c = sweep_spec_parse(path, text, len, h, allow_large, out, err);
  wk_free(text);
  return c;
}

void sweep_spec_free(sweep_spec *s) {
  if (!s) return;
  wk_free(s->cols);
  wk_free(s->axes);
  wk_free(s->base);
  wk_free(s->base_value);
  wk_arena_free(s->arena);
  wk_free(s);
}

uint64_t sweep_points(const sweep_spec *s) { return s->points; }
uint64_t sweep_digest(const sweep_spec *s) { return s->digest; }
const char *sweep_command(const sweep_spec *s) { return s->command; }
double sweep_timeout_s(const sweep_spec *s) { return s->timeout_s; }

void sw_decode(const sweep_spec *s, uint64_t i, uint64_t *idx) {
  for (uint32_t a = s->naxes; a-- > 0;) {
    idx[a] = i % s->axes[a].nvalues;
    i /= s->axes[a].nvalues;
  }
}

/* ---- a point's argv --------------------------------------------------------------------- */
typedef struct argv_buf {
  char **v;
  int n, cap;
} argv_buf;

static void push(argv_buf *b, const char *s) {
  if (b->n + 1 >= b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->v = wk_realloc(b->v, (size_t)b->cap * sizeof *b->v);
  }
  b->v[b->n++] = wk_strdup(s);
  b->v[b->n] = NULL;
}

/* Adds "--opt value" (or "--opt" for a switch that is true), with the point's tweaks of opt
 * appended to the value ("zhengzhou-60k" -> "zhengzhou-60k:oversubscription=2"). */
static void push_opt(argv_buf *b, const sweep_spec *s, const uint64_t *idx, const sw_col *c,
                     const char *value) {
  char name[160];
  snprintf(name, sizeof name, "--%s", c->opt);
  if (c->flag) {
    if (!strcmp(value, "true")) push(b, name);
    return;
  }
  size_t len = strlen(value) + 1;
  for (uint32_t a = 0; a < s->naxes; a++)
    for (uint32_t k = 0; k < s->axes[a].ncols; k++) {
      const sw_col *t = &s->cols[s->axes[a].col0 + k];
      if (t->key && !strcmp(t->opt, c->opt))
        len += strlen(t->key) + strlen(s->axes[a].text[idx[a] * s->axes[a].ncols + k]) + 2;
    }
  char *v = wk_malloc(len);
  strcpy(v, value);
  int first = !strchr(value, ':');
  for (uint32_t a = 0; a < s->naxes; a++)
    for (uint32_t k = 0; k < s->axes[a].ncols; k++) {
      const sw_col *t = &s->cols[s->axes[a].col0 + k];
      if (!t->key || strcmp(t->opt, c->opt)) continue;
      strcat(v, first ? ":" : ",");
      first = 0;
      strcat(v, t->key);
      strcat(v, "=");
      strcat(v, s->axes[a].text[idx[a] * s->axes[a].ncols + k]);
    }
  push(b, name);
  push(b, v);
  wk_free(v);
}

char **sweep_point_argv(const sweep_spec *s, uint64_t i, int *argc) {
  WK_ASSERT(i < s->points);
  uint64_t idx[SW_MAX_COLS];
  sw_decode(s, i, idx);
  argv_buf b = {NULL, 0, 0};
  for (int w = 0; w < s->nwords; w++) push(&b, s->words[w]);
  for (uint32_t k = 0; k < s->nbase; k++) push_opt(&b, s, idx, &s->base[k], s->base_value[k]);
  for (uint32_t a = 0; a < s->naxes; a++)
    for (uint32_t k = 0; k < s->axes[a].ncols; k++) {
      const sw_col *c = &s->cols[s->axes[a].col0 + k];
      if (!c->key) push_opt(&b, s, idx, c, s->axes[a].text[idx[a] * s->axes[a].ncols + k]);
    }
  push(&b, "--json");
  *argc = b.n;
  return b.v;
}

void sweep_argv_free(char **argv, int argc) {
  if (!argv) return;
  for (int i = 0; i < argc; i++) wk_free(argv[i]);
  wk_free(argv);
}
