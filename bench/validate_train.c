/* validate_train.c — runs every row of shared/data/validation/training.md (sections A and B,
 * Megatron-LM on Selene) through the training-step model and prints predicted vs published
 * TFLOP/s per GPU (A) or seconds per iteration (B) with the error, then the median; plus
 * extra checks outside the file: Llama 3 405B on 8,192 and 16,384 H100 (Llama 3 Table 4).
 * Usage: validate_train [training.md]  (default: $WK_SHARED_DIR or ../shared relative paths) */
#include "work/work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  buf[got] = 0;
  fclose(f);
  return buf;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One step of job j on a fresh model of `cluster`. */
static wk_errcode run_on(const char *cluster, const work_job *j, work_result *r, wk_err *err) {
  hw_cluster *c = hw_load(cluster, err);
  if (!c) return err->code;
  work_ctx *x = work_ctx_new(c);
  wk_errcode rc = work_train_step(x, j, r, err);
  work_ctx_free(x);
  hw_free(c);
  return rc;
}

int main(int argc, char **argv) {
  const char *tries[] = {argc > 1 ? argv[1] : NULL, getenv("WK_SHARED_DIR"),
                         "../shared/data/validation/training.md",
                         "../../shared/data/validation/training.md",
                         "/work/shared/data/validation/training.md"};
  char path[1024], *text = NULL;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0] && !text; i++) {
    if (!tries[i]) continue;
    if (i == 1) snprintf(path, sizeof path, "%s/data/validation/training.md", tries[i]);
    else snprintf(path, sizeof path, "%s", tries[i]);
    text = slurp(path);
  }
  if (!text) {
    fprintf(stderr, "error: cannot find training.md (pass its path)\n");
    return 2;
  }
  work_valid_row rows[64];
  wk_err err;
  int n = work_valid_parse(text, rows, 64, &err);
  free(text);
  if (n < 0) {
    fprintf(stderr, "error: %s: %s\n", path, err.msg);
    return 2;
  }
  printf("Validation against %s (Selene = dgx-a100, A100 312 TFLOP/s)\n", path);
  printf("A: TFLOP/s per GPU (full recompute; mbs and VPP = fastest that fits)  B: s/iteration\n");
  printf("%-3s %-22s %5s %4s %4s %4s %4s %4s %-9s %10s %10s %8s\n", "sec", "run", "GPUs", "TP",
         "PP", "VPP", "mbs", "rc", "", "predicted", "published", "error");
  double errs[64], worst = 0;
  for (int i = 0; i < n; i++) {
    double pred;
    work_result r;
    if (work_valid_run(&rows[i], &pred, &r, &err)) {
      fprintf(stderr, "error: row %s: %s\n", rows[i].label, err.msg);
      return 1;
    }
    errs[i] = fabs(pred / rows[i].published - 1);
    if (errs[i] > worst) worst = errs[i];
    printf("%-3c %-22s %5d %4d %4d %4d %4d %4s %-9s %10.2f %10.2f %+7.1f%%%s\n", rows[i].section,
           rows[i].label, rows[i].gpus, rows[i].tp, rows[i].pp, r.vpp, r.mbs,
           r.recompute == WORK_RECOMPUTE_FULL ? "full" : "sel",
           rows[i].section == 'A' ? "TFLOP/s" : "s/iter", pred, rows[i].published,
           100 * (pred / rows[i].published - 1), r.fits ? "" : "  (does not fit!)");
    double st = r.step_time_s / 100;
    printf("    step %.3f s = compute %.1f%% tp %.1f%% pp %.1f%% dp %.1f%% bubble %.1f%% opt %.1f%%; "
           "mem %.1f GB\n",
           r.step_time_s, r.b.compute / st, r.b.tp / st, r.b.pp / st, r.b.dp / st,
           r.b.bubble / st, r.b.optimizer / st, r.mem.total / 1e9);
  }
  qsort(errs, (size_t)n, sizeof errs[0], cmp);
  double med = n % 2 ? errs[n / 2] : (errs[n / 2 - 1] + errs[n / 2]) / 2;
  printf("rows %d  median |error| %.1f%%  worst %.1f%%  (aim: median <= 5%%, every row <= 10%%)\n",
         n, 100 * med, 100 * worst);

  /* The same rows at level 1: every collective on the fabric's real routes, with every DP
   * group of the job reducing at once (the default at level 1 and 2). */
  printf("level 1 (flow-level collectives, all DP groups at once):\n");
  double errs1[64], worst1 = 0;
  for (int i = 0; i < n; i++) {
    double pred;
    work_result r;
    if (work_valid_run_at(&rows[i], 1, &pred, &r, &err)) {
      fprintf(stderr, "error: row %s at level 1: %s\n", rows[i].label, err.msg);
      return 1;
    }
    errs1[i] = fabs(pred / rows[i].published - 1);
    if (errs1[i] > worst1) worst1 = errs1[i];
    printf("%-3c %-22s %10.2f %10.2f %+7.1f%%  dp %.3f s\n", rows[i].section, rows[i].label, pred,
           rows[i].published, 100 * (pred / rows[i].published - 1), r.b.dp);
  }
  qsort(errs1, (size_t)n, sizeof errs1[0], cmp);
  double med1 = n % 2 ? errs1[n / 2] : (errs1[n / 2 - 1] + errs1[n / 2]) / 2;
  printf("level 1: rows %d  median |error| %.1f%%  worst %.1f%%\n", n, 100 * med1, 100 * worst1);

  /* Extra checks, not in the file: Llama 3 405B pre-training on H100 (Dubey et al. 2024,
   * "The Llama 3 Herd of Models", Table 4: TP 8, PP 16, 16 M tokens per batch, BF16 MFU), on
   * the h100-roce-24k model at level 1, as Meta ran it: 126 layers with one layer less on the
   * first and last stage (Sec. 3.3.2), the interleaved schedule (VPP chosen), micro-batch 1,
   * and FlashAttention-2, the kernel of its year: FlashAttention-3 (Shah et al., arXiv
   * 2407.08608) came out in July 2024, after the pre-training, and PyTorch's fused attention
   * had been FlashAttention-2 since PyTorch 2.2 (January 2024); Meta does not name its kernel
   * (docs/training.md, *Validation*). These rows, Pangu's and DeepSeek-V3's are held to 10 %
   * too (extra_worst). */
  double extra_worst = 0;
  static const struct {
    int gpus, cp, dp, seq, gbs;
    double mfu;
  } l3[] = {{8192, 1, 64, 8192, 2048, 0.43},
            {16384, 1, 128, 8192, 2048, 0.41},
            {16384, 16, 8, 131072, 128, 0.38}};
  hw_cluster *c = hw_load("h100-roce-24k", &err);
  if (c) {
    work_ctx *x = work_ctx_new(c);
    for (size_t i = 0; i < sizeof l3 / sizeof l3[0]; i++) {
      work_job j;
      work_job_init(&j);
      j.model = *work_model_find("llama3-405b");
      j.seq = l3[i].seq;
      j.gbs = l3[i].gbs;
      j.tp = 8;
      j.pp = 16;
      j.cp = l3[i].cp;
      j.dp = l3[i].dp;
      j.mbs = 1;
      j.level = 1;
      j.cp_comm = WORK_CP_ALLGATHER; /* Sec. 3.3.2: K,V all-gathered, exposed */
      j.attn = WORK_ATTN_FLASH2;     /* the kernel of its year (above) */
      work_result r;
      if (work_train_step(x, &j, &r, &err)) {
        printf("extra: llama3-405b: %s\n", err.msg);
        extra_worst = 1;
        continue;
      }
      double e = r.mfu / l3[i].mfu - 1;
      extra_worst = fmax(extra_worst, fabs(e));
      printf("extra: llama3-405b on %5d H100, TP8 PP16 (VPP %d, layers %d+%dx%d+%d) CP%-2d "
             "DP%-3d seq %6d: %.2f s/step, MFU %.1f %% (published %.0f %%, error %+.1f %%), "
             "recompute %s, %.1f GB/GPU%s\n",
             l3[i].gpus, r.vpp, r.layers_first, j.pp - 2, r.layers_mid, r.layers_last, j.cp, j.dp,
             j.seq, r.step_time_s, 100 * r.mfu, 100 * l3[i].mfu, 100 * e,
             work_recompute_name(r.recompute), r.mem.total / 1e9, r.fits ? "" : ", does NOT fit");
    }
    work_ctx_free(x);
    hw_free(c);
  }

  /* Section C of the file: Pangu Ultra 135B (dense, 94 layers) on 8,192 Ascend 910B, "MFU
   * above 50 %" (arXiv 2504.07866), on ascend-910b-8k at level 1 with the layout as we read it
   * there: TP 8 (SP), PP 8, VPP 6, DP 128; the global batch is not given: 2,048 sequences of
   * 4,096 assumed (16 micro-batches a pipeline). The error is against 50 %. */
  {
    work_job j;
    work_job_init(&j);
    j.model = *work_model_find("pangu-ultra-135b");
    j.seq = 4096;
    j.gbs = 2048;
    j.tp = j.pp = 8;
    j.vpp = 6;
    j.dp = 128;
    j.level = 1;
    work_result r;
    if (!run_on("ascend-910b-8k", &j, &r, &err)) {
      extra_worst = fmax(extra_worst, fabs(r.mfu / 0.50 - 1));
      printf("C: pangu-ultra-135b on 8192 Ascend 910B, TP8 PP8 (VPP 6, layers %d+%dx%d+%d) DP128 "
             "seq 4096 gbs 2048: %.2f s/step, MFU %.1f %% (published: above 50 %%, error %+.1f %%)"
             ", recompute %s, %.1f GB/NPU%s\n",
             r.layers_first, j.pp - 2, r.layers_mid, r.layers_last, r.step_time_s, 100 * r.mfu,
             100 * (r.mfu / 0.50 - 1), work_recompute_name(r.recompute), r.mem.total / 1e9,
             r.fits ? "" : ", does NOT fit");
    } else {
      printf("C: pangu-ultra-135b: %s\n", err.msg);
      extra_worst = 1;
    }
  }

  /* MoE, outside the file: DeepSeek-V3 pre-training on 2,048 H800 (arXiv 2412.19437): "each
   * trillion tokens ... 3.7 days on our cluster with 2048 H800 GPUs" (180K GPU hours), i.e.
   * 3.13 M tokens/s; its layout (Sec. 3.2): PP 16, EP 64 over 8 nodes, ZeRO-1, no TP, DualPipe
   * (EP all-to-all overlapped), FP8 GEMMs; sequence 4,096, batch 15,360 (Sec. 4.2); node-limited
   * routing to at most 4 nodes; MLA and one MTP module as published (the model preset). On
   * h800-2k at level 1, balanced experts (imbalance 1). */
  {
    work_job j;
    work_job_init(&j);
    j.model = *work_model_find("deepseek-v3");
    j.seq = 4096;
    j.gbs = 15360;
    j.tp = 1;
    j.pp = 16;
    j.ep = 64;
    j.dp = 128;
    j.dtype = WORK_FP8;
    j.moe_overlap = 1;
    j.level = 1;
    work_result r;
    double pub = 1e12 / (3.7 * 86400);
    if (!run_on("h800-2k", &j, &r, &err)) {
      extra_worst = fmax(extra_worst, fabs(r.tokens_per_s / pub - 1));
      printf("moe: deepseek-v3 on 2048 H800, PP16 (VPP %d, layers %d+%dx%d+%d) EP64 DP128 fp8 "
             "DualPipe-style: %.2f s/step, %.3g tokens/s (published %.3g, error %+.1f %%), MFU "
             "%.1f %% of FP8 peak, recompute %s, %.1f GB/GPU%s\n",
             r.vpp, r.layers_first, j.pp - 2, r.layers_mid, r.layers_last, r.step_time_s,
             r.tokens_per_s, pub, 100 * (r.tokens_per_s / pub - 1), 100 * r.mfu,
             work_recompute_name(r.recompute), r.mem.total / 1e9, r.fits ? "" : ", does NOT fit");
    } else {
      printf("moe: deepseek-v3: %s\n", err.msg);
      extra_worst = 1;
    }
  }
  printf("outside the file: worst |error| %.1f%% (aim: every row <= 10%%)\n", 100 * extra_worst);
  int ok = worst <= 0.10 && med <= 0.05 && worst1 <= 0.10 && med1 <= 0.05 && extra_worst <= 0.10;
  return ok ? 0 : 1;
}
