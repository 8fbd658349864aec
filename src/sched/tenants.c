/* tenants.c — who shares the cluster: tenants with quotas, priorities and the trace users,
 * groups and queues that belong to them, read from YAML with libyaml's document API (every
 * error as path:line:col) or built in code (replay makes one tenant per trace group when no
 * file is given). */
#include "sched_int.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

sched_tenants *sched_tenants_new(void) {
  sched_tenants *t = wk_calloc(1, sizeof *t);
  t->arena = wk_arena_new(4096);
  t->halflife_s = 7 * 86400.0;
  return t;
}

void sched_tenants_free(sched_tenants *t) {
  if (!t) return;
  wk_free(t->t);
  wk_arena_free(t->arena);
  wk_free(t);
}

uint32_t sched_tenants_add(sched_tenants *t, const char *name, double quota_cards,
                           double quota_fraction, int32_t priority) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 8;
    t->t = wk_realloc(t->t, sizeof(sched_tenant_def) * t->cap);
  }
  sched_tenant_def *d = &t->t[t->n];
  memset(d, 0, sizeof *d);
  d->name = wk_arena_strdup(t->arena, name);
  d->quota_cards = quota_cards;
  d->quota_fraction = quota_fraction;
  d->priority = priority;
  return t->n++;
}

uint32_t sched_tenants_count(const sched_tenants *t) { return t ? t->n : 0; }
const char *sched_tenant_name(const sched_tenants *t, uint32_t i) { return i < t->n ? t->t[i].name : ""; }
int32_t sched_tenant_priority(const sched_tenants *t, uint32_t i) { return i < t->n ? t->t[i].priority : 0; }
double sched_tenants_halflife_s(const sched_tenants *t) { return t->halflife_s; }
double sched_tenant_quota_cards(const sched_tenants *t, uint32_t i, uint32_t cards) {
  if (i >= t->n) return 0;
  const sched_tenant_def *d = &t->t[i];
  return d->quota_cards >= 0 ? d->quota_cards : d->quota_fraction * cards;
}

static int match_list(char **pats, const char *s) {
  if (!pats || !s || !*s) return 0;
  for (; *pats; pats++)
    if (!fnmatch(*pats, s, 0)) return 1;
  return 0;
}

int sched_tenants_match(const sched_tenants *t, const char *user, const char *group, const char *queue) {
  int def = -1;
  for (uint32_t i = 0; i < t->n; i++) {
    const sched_tenant_def *d = &t->t[i];
    if (match_list(d->pat[0], user) || match_list(d->pat[1], group) || match_list(d->pat[2], queue))
      return (int)i;
    if (d->is_default && def < 0) def = (int)i;
  }
  return def;
}

/* ---- YAML ---- */
typedef struct yctx {
  yaml_document_t *doc;
  const char *path;
  wk_err *err;
  int nerr;
  sched_tenants *t;
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

/* The quota rule (sched.h, docs/replay.md): "25%" is a percentage (0..100) of the cluster; a
 * number below 1 ("0.25", "2.5e-1", "0") a fraction of it; a number >= 1 whole cards
 * ("4096", "1e3", "4.096e3"), up to 1e9. A plain decimal >= 1 ("1.0", "1.5") is refused
 * (returns -2): "1.0" once meant the whole cluster, and cards are not fractional.
 * Returns 0, -1 (not a quota) or -2. */
static int parse_quota(const char *v, double *cards, double *frac) {
  size_t n = strlen(v);
  char buf[64];
  if (!n || n >= sizeof buf) return -1;
  double d;
  if (v[n - 1] == '%') {
    memcpy(buf, v, n - 1);
    buf[n - 1] = 0;
    if (wk_parse_double(buf, &d) || d < 0 || d > 100) return -1;
    *cards = -1;
    *frac = d / 100;
    return 0;
  }
  int64_t i;
  if (!wk_parse_i64(v, &i)) {
    if (i < 0 || i > 1000000000) return -1;
    *cards = (double)i;
    *frac = 0;
    return 0;
  }
  if (wk_parse_double(v, &d) || !(d >= 0)) return -1;
  if (d < 1) {
    *cards = -1;
    *frac = d;
    return 0;
  }
  if (!strchr(v, 'e') && !strchr(v, 'E')) return -2;
  if (d != floor(d) || d > 1e9) return -1;
  *cards = d;
  *frac = 0;
  return 0;
}

static char **pattern_list(yctx *y, yaml_node_t *nd, const char *key) {
  size_t n = nd->type == YAML_SEQUENCE_NODE ? (size_t)(nd->data.sequence.items.top - nd->data.sequence.items.start) : 1;
  char **out = WK_ARENA_NEW(y->t->arena, char *, n + 1);
  if (nd->type == YAML_SCALAR_NODE) {
    out[0] = wk_arena_strdup(y->t->arena, (const char *)nd->data.scalar.value);
    return out;
  }
  if (nd->type != YAML_SEQUENCE_NODE) {
    yerr(y, nd, WK_EVALUE, "'%s' must be a list of names or globs, e.g. [alice, \"lab-*\"]", key);
    return NULL;
  }
  size_t i = 0;
  for (yaml_node_item_t *it = nd->data.sequence.items.start; it < nd->data.sequence.items.top; it++) {
    yaml_node_t *e = yaml_document_get_node(y->doc, *it);
    const char *v = scalar(y, e, key);
    if (!v) return NULL;
    out[i++] = wk_arena_strdup(y->t->arena, v);
  }
  return out;
}

static void tenant_item(yctx *y, yaml_node_t *nd) {
  if (nd->type != YAML_MAPPING_NODE) {
    yerr(y, nd, WK_EPARSE, "each tenant is a mapping (name:, quota:, ...)");
    return;
  }
  const char *name = NULL;
  double qc = -1, qf = 0;
  int64_t prio = 0;
  int is_default = 0, have_quota = 0;
  char **pat[3] = {NULL, NULL, NULL};
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
    if (!strcmp(key, "name")) {
      if ((s = scalar(y, v, key)) && !*s) yerr(y, v, WK_EVALUE, "a tenant name must not be empty");
      name = s;
    } else if (!strcmp(key, "quota")) {
      have_quota = 1;
      int qr = (s = scalar(y, v, key)) ? parse_quota(s, &qc, &qf) : 0;
      if (qr == -2)
        yerr(y, v, WK_EVALUE,
             "quota must be whole cards (4096, 1e3) or, written with '.', a fraction below 1 "
             "(0.25), not '%s': write the whole cluster as 100%%", s);
      else if (qr)
        yerr(y, v, WK_EVALUE,
             "quota must be cards (4096), a fraction (0.25) or a percentage (25%%), not '%s' "
             "(cards: whole numbers >= 1; fractions: below 1)", s);
    } else if (!strcmp(key, "priority")) {
      if ((s = scalar(y, v, key)) && (wk_parse_i64(s, &prio) || prio < -1000000 || prio > 1000000))
        yerr(y, v, WK_EVALUE, "priority must be a whole number from -1000000 to 1000000, not '%s'", s);
    } else if (!strcmp(key, "default")) {
      if ((s = scalar(y, v, key))) {
        if (!strcmp(s, "true") || !strcmp(s, "yes")) is_default = 1;
        else if (strcmp(s, "false") && strcmp(s, "no")) yerr(y, v, WK_EVALUE, "default must be true or false, not '%s'", s);
      }
    } else if (!strcmp(key, "users") || !strcmp(key, "groups") || !strcmp(key, "queues")) {
      pat[key[0] == 'u' ? 0 : key[0] == 'g' ? 1 : 2] = pattern_list(y, v, key);
    } else {
      yerr(y, k, WK_EUNKNOWN_KEY, "unknown tenant key '%s' (name, quota, priority, users, groups, queues, default)", key);
    }
  }
  if (y->nerr) return;
  if (!name) {
    yerr(y, nd, WK_EVALUE, "a tenant needs a name");
    return;
  }
  if (!have_quota) qc = 0, qf = 0; /* no guaranteed share: borrows idle cards only */
  for (uint32_t i = 0; i < y->t->n; i++) {
    if (!strcmp(y->t->t[i].name, name)) {
      yerr(y, nd, WK_EVALUE, "tenant '%s' is named twice", name);
      return;
    }
    if (is_default && y->t->t[i].is_default) {
      yerr(y, nd, WK_EVALUE, "tenants '%s' and '%s' are both default: keep one", y->t->t[i].name, name);
      return;
    }
  }
  uint32_t i = sched_tenants_add(y->t, name, qc, qf, (int32_t)prio);
  sched_tenant_def *d = &y->t->t[i];
  d->is_default = is_default;
  for (int k = 0; k < 3; k++) d->pat[k] = pat[k];
}

wk_errcode sched_tenants_parse(const char *name, const char *text, size_t len, sched_tenants **out,
                               wk_err *err) {
  *out = NULL;
  yaml_document_t doc;
  wk_errcode c = hw_yaml_load(text, len, name, &doc, err);
  if (c) return c;
  sched_tenants *t = sched_tenants_new();
  yctx y = {&doc, name, err, 0, t};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    wk_err_set(err, WK_EPARSE, name, 1, 1, "empty tenants file: it needs 'tenants:' with a list");
    y.nerr++;
  } else if (root->type != YAML_MAPPING_NODE) {
    yerr(&y, root, WK_EPARSE, "a tenants file is a mapping with 'tenants:' (and optionally 'halflife:')");
  } else {
    int have = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
      const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
      if (!strcmp(key, "tenants")) {
        have = 1;
        if (v->type != YAML_SEQUENCE_NODE) {
          yerr(&y, v, WK_EPARSE, "'tenants' must be a list of tenants (- name: ...)");
          continue;
        }
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
          tenant_item(&y, yaml_document_get_node(&doc, *it));
      } else if (!strcmp(key, "halflife")) {
        const char *s = scalar(&y, v, key);
        double h;
        if (s && (wk_parse_duration_s(s, &h) || !(h > 0)))
          yerr(&y, v, WK_EVALUE, "halflife must be a positive duration such as 7d or 12h, not '%s'", s);
        else if (s) t->halflife_s = h;
      } else {
        yerr(&y, k, WK_EUNKNOWN_KEY, "unknown key '%s' (tenants, halflife)", key);
      }
    }
    if (!have && !y.nerr) yerr(&y, root, WK_EPARSE, "no 'tenants:' list");
    else if (!y.nerr && t->n == 0) yerr(&y, root, WK_EPARSE, "'tenants' is empty: name at least one");
  }
  yaml_document_delete(&doc);
  if (y.nerr) {
    sched_tenants_free(t);
    return err ? err->code : WK_EPARSE;
  }
  *out = t;
  return WK_OK;
}

wk_errcode sched_tenants_load(const char *path, sched_tenants **out, wk_err *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return wk_err_set(err, WK_EIO, path, 0, 0, "cannot open tenants file");
  size_t cap = 1 << 14, n = 0;
  char *buf = wk_malloc(cap);
  for (;;) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    if (cap >= (16u << 20)) {
      fclose(f);
      wk_free(buf);
      return wk_err_set(err, WK_ECAPACITY, path, 0, 0, "tenants file larger than 16 MiB");
    }
    cap *= 2;
    buf = wk_realloc(buf, cap);
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    wk_free(buf);
    return wk_err_set(err, WK_EIO, path, 0, 0, "read error");
  }
  wk_errcode rc = sched_tenants_parse(path, buf, n, out, err);
  wk_free(buf);
  return rc;
}
