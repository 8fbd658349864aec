/* validate.c — the model against published collective bandwidths. Each row of the markdown
 * table in shared/data/validation/collectives.md is recognised by its system text, mapped to a
 * preset, a placement and the algorithm the measurement used, and predicted at L1 at 8 GiB
 * (the file's figures are large-message plateaus, where bandwidth dominates) with the one set
 * of constants of coll_int.h. Shared by bench/validate_coll and the unit test. */
#include "coll/coll_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATE_BYTES (8.0 * 1073741824.0)

typedef struct scenario {
  const char *spec; /* cluster */
  uint32_t n;       /* cards */
  uint32_t stride;  /* card i is i * stride (stride = cards per node: one card per node) */
  coll_op op;
  coll_algo algo;
} scenario;

/* Copies cell `col` (0-based) of a markdown row into buf, trimmed. Returns 0 if missing. */
static int cell(const char *line, int col, char *buf, size_t n) {
  const char *p = line;
  if (*p == '|') p++;
  for (int c = 0; c < col; c++) {
    p = strchr(p, '|');
    if (!p) return 0;
    p++;
  }
  const char *end = strchr(p, '|');
  if (!end) return 0;
  while (p < end && isspace((unsigned char)*p)) p++;
  while (end > p && isspace((unsigned char)end[-1])) end--;
  size_t len = (size_t)(end - p) < n - 1 ? (size_t)(end - p) : n - 1;
  memcpy(buf, p, len);
  buf[len] = 0;
  return 1;
}

/* "232.5 GB/s" or "48–49 GB/s per NIC" (hyphen or en dash) into [lo, hi] bytes/s. */
static int parse_bw(const char *s, double *lo, double *hi) {
  char *end;
  *lo = strtod(s, &end);
  if (end == s) return -1;
  *hi = *lo;
  const char *p = end;
  while (*p == ' ') p++;
  if (*p == '-') p++;
  else if (!strncmp(p, "\xe2\x80\x93", 3)) p += 3;
  else p = NULL;
  if (p) {
    *hi = strtod(p, &end);
    if (end == p) return -1;
  }
  *lo *= 1e9;
  *hi *= 1e9;
  return 0;
}

static int has(const char *s, const char *w) { return strstr(s, w) != NULL; }

static wk_errcode predict(const scenario *sc, coll_vrow *row, wk_err *err) {
  hw_cluster *c = hw_load(sc->spec, err);
  if (!c) return err ? err->code : WK_EVALUE;
  uint32_t *cards = wk_malloc(sc->n * sizeof *cards);
  for (uint32_t i = 0; i < sc->n; i++) cards[i] = i * sc->stride;
  coll_ctx *x = coll_ctx_new(c);
  coll_result r;
  wk_errcode e = coll_time(x, sc->op, sc->algo, 1, cards, sc->n, VALIDATE_BYTES, &r, err);
  if (!e) {
    row->predicted = r.busbw;
    row->modelled = 1;
    double mid = 0.5 * (row->published_lo + row->published_hi);
    row->error_pct = (row->predicted - mid) / mid * 100.0;
    snprintf(row->scenario, sizeof row->scenario, "%s, %u cards%s, %s %s, 8 GiB, L1", sc->spec,
             sc->n, sc->stride > 1 ? " (1 per node)" : "", coll_op_name(sc->op),
             coll_algo_name(r.algo));
  }
  coll_ctx_free(x);
  wk_free(cards);
  hw_free(c);
  return e;
}

wk_errcode coll_validate_md(const char *text, coll_vrow *rows, int max, int *nrows, wk_err *err) {
  *nrows = 0;
  const char *line = text;
  int in_table = 0;
  while (line && *line) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char l[1024];
    snprintf(l, sizeof l, "%.*s", (int)(len < sizeof l ? len : sizeof l - 1), line);
    line = nl ? nl + 1 : NULL;
    if (l[0] != '|') {
      if (in_table) break; /* only the first table holds published figures */
      continue;
    }
    char sys[192], collv[48], bw[96];
    if (!cell(l, 0, sys, sizeof sys) || !cell(l, 1, collv, sizeof collv) ||
        !cell(l, 2, bw, sizeof bw))
      continue;
    if (!strcmp(sys, "system") || sys[0] == '-') { /* header and separator */
      in_table = 1;
      continue;
    }
    double lo, hi;
    if (parse_bw(bw, &lo, &hi))
      return wk_err_set(err, WK_EPARSE, NULL, 0, 0, "cannot read the bandwidth '%s' of row '%s'",
                        bw, sys);
    scenario sc[2];
    int nsc = 0;
    if (has(sys, "H100") && has(sys, "NVLS")) {
      sc[nsc++] = (scenario){"h100-roce-24k:nodes=1", 8, 1, COLL_ALLREDUCE, COLL_NVLS};
    } else if (has(sys, "SHARP")) {
      nsc = 0; /* reduction in the scale-out switches (InfiniBand SHARP): not modelled */
    } else if (has(sys, "A100") && has(sys, "one node")) {
      sc[nsc++] = (scenario){"dgx-a100:nodes=1", 8, 1, COLL_ALLREDUCE, COLL_RING};
    } else if (has(sys, "A100") && has(sys, "across nodes")) {
      sc[nsc++] = (scenario){"dgx-a100:nodes=4", 32, 1, COLL_ALLREDUCE, COLL_RING};
    } else if (has(sys, "H100") && has(sys, "one node")) {
      sc[nsc++] = (scenario){"h100-roce-24k:nodes=1", 8, 1, COLL_ALLREDUCE, COLL_RING};
    } else if (has(sys, "NDR") || has(sys, "400 Gb/s")) {
      /* one 400G NIC per card, cards in different nodes: send/recv, and all-to-all with
       * one card per node so that every byte crosses the NIC */
      sc[nsc++] = (scenario){"h100-roce-24k:nodes=2", 2, 8, COLL_SENDRECV, COLL_DIRECT};
      sc[nsc++] = (scenario){"h100-roce-24k:nodes=8", 8, 8, COLL_ALLTOALL, COLL_AUTO};
    } else {
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "validation row '%s' is not recognised: map it to a preset in "
                        "src/coll/validate.c", sys);
    }
    int nout = nsc ? nsc : 1;
    for (int k = 0; k < nout; k++) {
      if (*nrows >= max) return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "too many rows");
      coll_vrow *row = &rows[(*nrows)++];
      memset(row, 0, sizeof *row);
      snprintf(row->system, sizeof row->system, "%s", sys);
      snprintf(row->collective, sizeof row->collective, "%s",
               nsc ? coll_op_name(sc[k].op) : collv);
      row->published_lo = lo;
      row->published_hi = hi;
      if (!nsc) {
        snprintf(row->scenario, sizeof row->scenario,
                 "not modelled (reduction in the scale-out switches)");
        continue;
      }
      wk_errcode e = predict(&sc[k], row, err);
      if (e) return e;
    }
  }
  if (!*nrows)
    return wk_err_set(err, WK_EPARSE, NULL, 0, 0, "no table of published figures found");
  return WK_OK;
}
