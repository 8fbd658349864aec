/* validate.c — the published Megatron-LM runs of shared/data/validation/training.md as rows
 * the model can be run on: a reader for its section A and B tables, and the run of one row on
 * the Selene model (preset dgx-a100) with the settings those papers used. Shared by
 * bench/validate_train.c and tests/test_work.c so both check exactly the same thing. */
#include "work.h"

#include <stdlib.h>
#include <string.h>

/* Splits a markdown table row "| a | b | c |" into cells (in place). Returns the count. */
static int cells(char *line, char **out, int max) {
  int n = 0;
  char *p = strchr(line, '|');
  if (!p) return 0;
  p++;
  while (n < max) {
    char *q = strchr(p, '|');
    if (!q) break;
    *q = 0;
    while (*p == ' ') p++;
    out[n++] = p;
    p = q + 1;
  }
  return n;
}

static double num(const char *s) { return strtod(s, NULL); }

int work_valid_parse(const char *text, work_valid_row *rows, int max, wk_err *err) {
  int n = 0;
  char section = 0;
  const char *p = text;
  char line[1024];
  while (*p) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= sizeof line) len = sizeof line - 1;
    memcpy(line, p, len);
    line[len] = 0;
    p = e ? e + 1 : p + len;
    if (!strncmp(line, "## ", 3)) {
      section = (line[3] == 'A' || line[3] == 'B') && line[4] == '.' ? line[3] : 0;
      continue;
    }
    if (!section || line[0] != '|') continue;
    char *c[16];
    int nc = cells(line, c, 16);
    if (section == 'A' && nc >= 9 && num(c[1]) > 0 && n < max) {
      work_valid_row *r = &rows[n++];
      memset(r, 0, sizeof *r);
      r->section = 'A';
      snprintf(r->label, sizeof r->label, "%sB", c[0]);
      r->heads = atoi(c[1]);
      r->hidden = atoi(c[2]);
      r->layers = atoi(c[3]);
      r->tp = atoi(c[4]);
      r->pp = atoi(c[5]);
      r->gpus = atoi(c[6]);
      r->gbs = atoi(c[7]);
      r->vpp = 0; /* not given: chosen */
      r->recompute_full = 1;
      r->published = num(c[8]);
    } else if (section == 'B' && nc >= 8 && num(c[1]) > 0) {
      int layers = 0, hidden = 0, heads = 0;
      const char *paren = strchr(c[0], '(');
      if (!paren || sscanf(paren, "(%d layers, hidden %d, %d heads)", &layers, &hidden, &heads) != 3)
        continue;
      for (int col = 0; col < 2 && n < max; col++) {
        work_valid_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->section = 'B';
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(c[0], " ("), c[0]);
        snprintf(r->label, sizeof r->label, "%s %s", name, col ? "sp+selective" : "full");
        r->layers = layers;
        r->hidden = hidden;
        r->heads = heads;
        r->gpus = atoi(c[1]);
        r->tp = atoi(c[2]);
        r->pp = atoi(c[3]);
        r->gbs = atoi(c[4]);
        r->vpp = atoi(c[5]);
        r->recompute_full = !col;
        r->published = num(c[6 + col]);
      }
    }
  }
  if (!n) wk_err_set(err, WK_EPARSE, NULL, 0, 0, "no rows found in sections A and B");
  return n ? n : -1;
}

/* Megatron's Eq. 3 (Narayanan et al. 2021): FLOPs per iteration with full recomputation. */
static double eq3_flops(const work_valid_row *r) {
  double B = r->gbs, s = 2048, l = r->layers, h = r->hidden, V = 51200;
  return 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
}

wk_errcode work_valid_run(const work_valid_row *row, double *predicted, work_result *res,
                          wk_err *err) {
  return work_valid_run_at(row, 0, predicted, res, err);
}

wk_errcode work_valid_run_at(const work_valid_row *row, int level, double *predicted,
                             work_result *res, wk_err *err) {
  hw_cluster *c = hw_load("dgx-a100", err);
  if (!c) return err ? err->code : WK_EVALUE;
  work_ctx *x = work_ctx_new(c);
  work_job j;
  work_job_init(&j);
  snprintf(j.model.name, sizeof j.model.name, "%s", row->label);
  j.model.layers = row->layers;
  j.model.hidden = row->hidden;
  j.model.heads = row->heads;
  j.model.tied_embeddings = 1;
  wk_errcode rc = work_model_check(&j.model, err); /* GPT defaults: 4h MLP, V = 51200 */
  if (rc) goto out;
  /* As those runs were made: fp16 mixed precision, no distributed optimizer, gradients
   * all-reduced after the backward pass, the unfused attention of 2021-2022 Megatron; A: full recompute without SP; B: as its column says. */
  j.seq = 2048;
  j.gbs = row->gbs;
  j.tp = row->tp;
  j.pp = row->pp;
  j.dp = row->gpus / (row->tp * row->pp);
  j.zero = 0;
  j.overlap_dp = 0;
  j.dtype = WORK_FP16;
  j.attn = WORK_ATTN_UNFUSED;
  j.seq_par = row->recompute_full ? 0 : 1;
  j.recompute = row->recompute_full ? WORK_RECOMPUTE_FULL : WORK_RECOMPUTE_SELECTIVE;
  j.mbs = 0; /* the fastest that fits, as Megatron's authors tuned it */
  j.vpp = row->vpp; /* A: 0, the fastest of the divisors of layers/pp (equal chunks) */
  j.level = level;  /* at 1 and 2 every DP group reduces at once on the fabric (the default) */
  work_result best;
  if ((rc = work_train_step(x, &j, &best, err))) goto out;
  if (res) *res = best;
  *predicted = row->section == 'A' ? eq3_flops(row) / (best.step_time_s * row->gpus) / 1e12
                                   : best.step_time_s;
out:
  work_ctx_free(x);
  hw_free(c);
  return rc;
}
