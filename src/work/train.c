/* train.c — one training step of a decoder-only transformer (dense or MoE) under Megatron-LM
 * parallelism: FLOPs and bytes per layer, compute time from the accelerator's peak through a
 * GEMM efficiency model and HBM-bound elementwise kernels, TP/SP/CP/EP/PP/DP communication
 * through coll (work_coll), the 1F1B / interleaved pipeline with its bubble, and memory per
 * card (Korthikanti et al. 2022 activations, ZeRO sharding). Placement: the job is packed on
 * cards [first_card, first_card + tp*cp*dp*pp), rank order TP (fastest), CP, DP (EP inside
 * DP), PP (slowest) — Megatron's default order, which keeps TP inside a node. */
#include "work_int.h"

#include <math.h>
#include <string.h>

/* ---- model constants (one set for every row, every cluster) ---------------------------------
 * Calibrated once, jointly, against all rows of shared/data/validation/training.md (Selene),
 * within the ranges the cited measurements give; never per row. */

/* Large dense GEMMs reach this fraction of the tensor-core peak in a training run: cuBLAS on
 * A100 reaches 250-280 of 312 TFLOP/s (0.80-0.90) for fp16/bf16 at 8k^3 in a short benchmark
 * (NVIDIA's "Matrix Multiplication Background" guide), and sustained training holds the chip
 * at its power limit, where clocks sit ~10 % below boost (1.41 GHz): 0.87 x 0.90 = 0.78. */
#define GEMM_EFF_MAX 0.78
/* Hockney half-performance lengths: a GEMM of m x n (output) by k reaches
 * EFF_MAX * m/(m+M_HALF) * n/(n+M_HALF) * k/(k+K_HALF). The output-dimension term is tile and
 * wave quantization (128 x 128-256 tiles over ~100-130 SMs: a dimension of 1k-2k wastes a few
 * percent, 256 wastes a third); the k term is each tile's prologue/epilogue against its
 * main loop. Small per-card GEMMs after a TP split are therefore slower per FLOP. */
#define GEMM_M_HALF 96.0
#define GEMM_K_HALF 48.0
/* FP8 GEMMs with fine-grained scaling (DeepSeek-V3 Sec. 3.3: 1 x 128 activation tiles, 128 x 128
 * weight blocks, partial sums promoted to FP32 on the CUDA cores every 128 of k) reach less of
 * their peak than 16-bit GEMMs of theirs, and need a much longer k: each output tile's fixed
 * costs (pipeline fill, scale loads, the promoted epilogue) take as long as in BF16 while the
 * main loop runs twice as fast. Fitted to DeepGEMM's published H800 table (Feb 2025 README,
 * NVCC 12.8: the M = 4096 dense shapes of DeepSeek-V3 -- 2112/24576/32768/7168/4096/7168 x
 * 7168/1536/512/16384/7168/2048 at 1058/990/590/1358/1304/1025 TFLOP/s -- and the contiguous
 * grouped MoE shapes, 8192 x 4096 x 7168 at 1297, 8192 x 7168 x 2048 at 1099): 0.722 of the
 * 1979 TFLOP/s peak times the output terms (GEMM_M_HALF) and k/(k + 664), RMS error 6 % over
 * those ten. Those are short benchmarks: x 0.90 for the power-limited clocks of a training run,
 * as in GEMM_EFF_MAX. DeepGEMM's own table puts it 1.1-1.2x above DeepSeek's CUTLASS 3.6-based
 * kernels; the better kernels are taken. */
#define FP8_GEMM_EFF_MAX (0.722 * 0.90)
#define FP8_GEMM_K_HALF 664.0
/* Elementwise / normalisation / softmax kernels stream at this fraction of HBM bandwidth (STREAM
 * copy on A100-80GB reaches ~1.6-1.7 of 2.0 TB/s; H100 ~2.6-2.9 of 3.35). */
#define HBM_EFF 0.80
/* Flash attention runs at the speed its authors publish for the kernel on the card (hw_accel's
 * flash*_flops, from the cluster file: forward with the causal mask, and backward; BF16, head
 * dim 128, at FLASH_REF_SEQ tokens). On H100 (Shah et al., "FlashAttention-3", arXiv
 * 2407.08608v1, Fig. 5-6) FlashAttention-2 reaches 335 and 322 TFLOP/s (34 % and 33 % of 989: it
 * uses neither TMA nor wgmma), FlashAttention-3 616 and 561. A card without published speeds
 * runs flash2 at FlashAttention-2's shares of the 16-bit peak on A100 (Dao 2023, Fig. 4-6: 60-73
 * % forward, 45-55 % backward at 2k-16k), below, and has no flash3 (Hopper only). The backward
 * does 2.5x the forward FLOPs (it recomputes the scores), as both papers count them. */
#define FLASH2_SHARE_FWD 0.62
#define FLASH2_SHARE_BWD 0.50
/* Short sequences fill the SMs less well: at s tokens a kernel runs s / (s + FLASH_FILL_HALF)
 * of its long-sequence speed, so a speed published at FLASH_REF_SEQ (the papers' longest, where
 * the factor is 0.97) is scaled by fill(s) / fill(FLASH_REF_SEQ). FlashAttention-3's causal
 * forward on H100 (same Fig. 5) runs 0.47, 0.69, 0.85, 0.94 and 0.98 of its 16k speed at 512,
 * 1k, 2k, 4k and 8k tokens; this curve gives 0.52, 0.69, 0.83, 0.92 and 0.97. */
#define FLASH_FILL_HALF 512.0
#define FLASH_REF_SEQ 16384.0
/* Bytes per attention-score element in the unfused (2021-2022 Megatron) path, forward: fused
 * scale-mask-softmax reads 2 writes 2; dropout reads 2, writes 2 and a 1-byte mask. Without
 * dropout (Llama-style) only the softmax's 4. Backward moves twice the forward bytes. */
#define SCORE_BYTES_DROPOUT 9.0
#define SCORE_BYTES_NODROPOUT 4.0
/* Adam step, bytes per parameter moved: reads fp32 master, m, v, grad (16), writes master, m,
 * v (12) and the 16-bit copy (2). */
#define ADAM_BYTES_PER_PARAM 30.0
/* Memory per card outside the model state: CUDA context (~0.5 GB), cuBLAS workspaces, NCCL
 * buffers (~1 GB at 8-16 channels), and allocator slack. */
#define MEM_RESERVE_BYTES 2.5e9
/* DP reduction buckets: Megatron-Core buckets gradients in ~40 M-element buckets issued as the
 * backward pass produces them; the last bucket (first layers) can never be hidden. */
#define DP_BUCKET_PARAMS 4.0e7

/* Compute kernels run this much slower while communication kernels run beside them (NCCL
 * takes SMs, one thread block per channel, and HBM bandwidth): 18.9 % on average over GPT and
 * Llama layers overlapped with their collectives on A100, H100, MI250 and MI210, 40 % at most
 * (Lee et al. 2025, "Characterizing Compute-Communication Overlap in GPU-Accelerated
 * Distributed Deep Learning: Performance and Power Implications", arXiv 2507.03114). Applied
 * to every overlapped communication: DP gradient reduction and parameter gathers, ZeRO-2/3's
 * per-layer collectives, CP's ring attention exchange. */
#define OVERLAP_SLOWDOWN 1.189

/* ---- names ---------------------------------------------------------------------------- */
static const char *const recompute_names[] = {"none", "selective", "full", "auto"};
const char *work_recompute_name(work_recompute r) { return recompute_names[r]; }
int work_recompute_parse(const char *s, work_recompute *out) {
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, recompute_names[i])) return *out = (work_recompute)i, 0;
  return -1;
}
static const char *const dtype_names[] = {"bf16", "fp16", "fp8"};
const char *work_dtype_name(work_dtype d) { return dtype_names[d]; }
int work_dtype_parse(const char *s, work_dtype *out) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(s, dtype_names[i])) return *out = (work_dtype)i, 0;
  return -1;
}

static const char *const cp_comm_names[] = {"p2p", "allgather"};
const char *work_cp_comm_name(work_cp_comm c) { return cp_comm_names[c]; }
int work_cp_comm_parse(const char *s, work_cp_comm *out) {
  for (int i = 0; i < 2; i++)
    if (!strcmp(s, cp_comm_names[i])) return *out = (work_cp_comm)i, 0;
  return -1;
}

static const char *const attn_names[] = {"flash", "unfused", "flash2", "flash3"};
const char *work_attn_name(work_attn k) { return attn_names[k]; }
int work_attn_parse(const char *s, work_attn *out) {
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, attn_names[i])) return *out = (work_attn)i, 0;
  return -1;
}

work_attn work_attn_kernel(const hw_accel *a, work_attn k) {
  if (k != WORK_ATTN_FLASH) return k;
  return a->flash3_fwd_flops > 0 && a->flash3_bwd_flops > 0 ? WORK_ATTN_FLASH3 : WORK_ATTN_FLASH2;
}

int work_attn_available(const hw_accel *a, work_attn k) {
  return k != WORK_ATTN_FLASH3 || (a->flash3_fwd_flops > 0 && a->flash3_bwd_flops > 0);
}

wk_errcode work_attn_check(const hw_accel *a, work_attn k, wk_err *err) {
  if ((unsigned)k > WORK_ATTN_FLASH3)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "unknown attention kernel %d", (int)k);
  if (!work_attn_available(a, k))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "attention flash3: %s has no published FlashAttention-3 speeds "
                      "(accelerator.flash3_fwd_tflops, flash3_bwd_tflops; the kernel needs "
                      "Hopper's TMA and wgmma): use flash2",
                      a->name);
  return WK_OK;
}

void work_job_init(work_job *j) {
  memset(j, 0, sizeof *j);
  j->tp = j->pp = j->dp = j->cp = j->ep = 1;
  j->recompute = WORK_RECOMPUTE_AUTO;
  j->zero = 1;
  j->seq_par = 1;
  j->overlap_dp = 1;
  j->dtype = WORK_BF16;
  j->attn = WORK_ATTN_FLASH;
  j->dp_contention = 1;
  j->moe_imbalance = 1;
}

void work_phase_add(work_phase *ph, int *np, const char *name, work_pattern pattern,
                    uint32_t stride, uint32_t n, double total_s, double exposed_s) {
  if (n < 2 || !(total_s > 0) || *np >= WORK_MAX_PHASES) return;
  work_phase *p = &ph[(*np)++];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  p->pattern = (uint8_t)pattern;
  p->stride = stride;
  p->n = n;
  p->total_s = total_s;
  p->exposed_s = fmin(total_s, fmax(0, exposed_s));
}

int work_stage_layers(const work_result *r, int pp, int d) {
  return d == 0 ? r->layers_first : d == pp - 1 ? r->layers_last : r->layers_mid;
}

uint32_t work_job_cards(const work_job *j) {
  return (uint32_t)((int64_t)j->tp * j->pp * j->dp * j->cp);
}

/* ---- primitives ------------------------------------------------------------------------ */
void work_flash_time(const hw_accel *a, work_attn k, double flops, double s, double *fwd,
                     double *bwd) {
  double fill = s / (s + FLASH_FILL_HALF), rf, rb;
  k = work_attn_kernel(a, k);
  WK_ASSERT(k == WORK_ATTN_FLASH2 || k == WORK_ATTN_FLASH3);
  if (k == WORK_ATTN_FLASH3 || a->flash2_fwd_flops > 0) {
    double at = fill / (FLASH_REF_SEQ / (FLASH_REF_SEQ + FLASH_FILL_HALF));
    rf = (k == WORK_ATTN_FLASH3 ? a->flash3_fwd_flops : a->flash2_fwd_flops) * at;
    rb = (k == WORK_ATTN_FLASH3 ? a->flash3_bwd_flops : a->flash2_bwd_flops) * at;
  } else {
    rf = a->bf16_flops * FLASH2_SHARE_FWD * fill;
    rb = a->bf16_flops * FLASH2_SHARE_BWD * fill;
  }
  WK_ASSERT(rf > 0 && rb > 0);
  *fwd = flops / rf;
  *bwd = 2.5 * flops / rb;
}

double work_gemm_time(const hw_accel *a, double peak, double m, double n, double k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  double eff = GEMM_EFF_MAX * m / (m + GEMM_M_HALF) * n / (n + GEMM_M_HALF) * k / (k + GEMM_K_HALF);
  double t_flops = 2.0 * m * n * k / (peak * eff);
  double t_bytes = 2.0 * (m * k + k * n + m * n) / (a->hbm_bytes_per_s * HBM_EFF);
  return t_flops > t_bytes ? t_flops : t_bytes;
}

double work_gemm_time_fp8(const hw_accel *a, double m, double n, double k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  double eff = FP8_GEMM_EFF_MAX * m / (m + GEMM_M_HALF) * n / (n + GEMM_M_HALF) * k /
               (k + FP8_GEMM_K_HALF);
  double t_flops = 2.0 * m * n * k / (a->fp8_flops * eff);
  double t_bytes = (m * k + k * n + 2.0 * m * n) / (a->hbm_bytes_per_s * HBM_EFF);
  return t_flops > t_bytes ? t_flops : t_bytes;
}

double work_mem_time(const hw_accel *a, double bytes) {
  return bytes / (a->hbm_bytes_per_s * HBM_EFF);
}

/* ---- pipeline split ------------------------------------------------------------------------ */
/* Layers per pipeline stage: `first` on stage 0, `mid` on each of stages 1 .. p-2, `last` on
 * stage p-1 (p 1: first = last = all; p 2: mid 0). */
typedef struct stage_split {
  int first, mid, last;
} stage_split;

static int split_stage(const stage_split *sp, int p, int d) {
  return d == 0 ? sp->first : d == p - 1 ? sp->last : sp->mid;
}

/* Layers of chunk c (of v) of stage d holding n: as even as n allows, the spare slots (chunks
 * one layer short) on stage 0 first where the embedding sits, elsewhere last, where the last
 * stage's output layer sits -- Llama 3's layout (Dubey et al. 2024, Sec. 3.3.2: the first
 * stage's first chunk holds only the embedding, the last stage's last chunk only the output
 * layer and loss). */
static int split_chunk(int n, int v, int p, int d, int c) {
  int base = n / v, extra = n % v;
  if (d == 0 && p > 1) return base + (c >= v - extra);
  return base + (c < extra);
}

/* The fewest layers stage d may hold with v chunks: one per chunk, but the chunk beside the
 * embedding (stage 0) or the output layer (stage p-1) may be empty; at least one layer. */
static int split_min(int v, int p, int d) {
  int ends = p > 1 && (d == 0 || d == p - 1);
  int need = ends ? v - 1 : v;
  return need > 1 ? need : 1;
}

/* The split fixed by the job alone: pp_first/pp_last given (the rest even over the middle),
 * or equal stages when layers % (pp * vpp) == 0. Returns 0 when the split is to be balanced
 * by cost (split_balance). v: the VPP (>= 1) it is for. */
static int split_fixed(const work_job *j, int v, stage_split *sp) {
  int L = j->model.layers, p = j->pp;
  if (p == 1) {
    *sp = (stage_split){L, 0, L};
    return 1;
  }
  if (!j->pp_first && !j->pp_last) {
    if (L % (p * v)) return 0;
    *sp = (stage_split){L / p, p > 2 ? L / p : 0, L / p};
    return 1;
  }
  int mids = p - (j->pp_first > 0) - (j->pp_last > 0);
  int each = mids > 0 ? (L - j->pp_first - j->pp_last) / mids : 0;
  sp->first = j->pp_first ? j->pp_first : each;
  sp->last = j->pp_last ? j->pp_last : each;
  sp->mid = p > 2 ? each : 0;
  return 1;
}

/* What a stage costs per micro-batch, for split_balance: layers [0, moe_from) are dense,
 * the rest MoE; the first stage adds the embedding, the last the output layer and loss. */
typedef struct split_cost {
  int L, moe_from;
  double dense, moe, first, last;
} split_cost;

static double span_cost(const split_cost *c, int lo, int hi) { /* layers [lo, hi); O(1) */
  int m0 = lo > c->moe_from ? lo : c->moe_from, nm = hi > m0 ? hi - m0 : 0;
  return (hi - lo - nm) * c->dense + nm * c->moe;
}

/* The split whose slowest stage is fastest: for every middle size (ascending, stopping once
 * a middle stage alone is slower than the best found), the first/last sizes where the two
 * ends' times cross (bisection: the first stage's time grows with its layers, the last's
 * shrinks). Ties go to fewer layers on the first stage, which holds the most micro-batches in
 * flight -- Meta's reason for Llama 3's 126 layers on 16 stages (Dubey et al. 2024, Sec.
 * 3.3.2). O(L/(p-2) log L); the caller has checked that a split exists (split_check). */
static stage_split split_balance(const split_cost *c, int p, int v) {
  int L = c->L, emin = split_min(v, p, 0), mmin = p > 2 ? v : 0;
  int mid_hi = p > 2 ? (L - 2 * emin) / (p - 2) : 0;
  double per_layer = fmin(c->dense, c->moe), best_t = INFINITY;
  stage_split best = {0, 0, 0};
  for (int mid = mmin; mid <= mid_hi; mid++) {
    if (p > 2 && mid * per_layer > best_t) break;
    int r = L - (p - 2) * mid, a = emin, b = r - emin;
    if (b < a) break;
    while (a < b) { /* the least f with first(f) >= last(r - f) */
      int f = a + (b - a) / 2;
      if (span_cost(c, 0, f) + c->first >= span_cost(c, L - (r - f), L) + c->last) b = f;
      else a = f + 1;
    }
    for (int f = a > emin ? a - 1 : a; f <= a; f++) {
      int l = r - f;
      double t = fmax(span_cost(c, 0, f) + c->first, span_cost(c, L - l, L) + c->last);
      if (p > 2)
        t = fmax(t, fmax(span_cost(c, f, f + mid), span_cost(c, L - l - mid, L - l)));
      if (t < best_t * (1 - 1e-12) || (t <= best_t * (1 + 1e-12) && f < best.first)) {
        best_t = fmin(t, best_t);
        best = (stage_split){f, mid, l};
      }
    }
  }
  WK_ASSERT(best.first > 0);
  return best;
}

/* Refuses a split that leaves a stage (or, with VPP, a model chunk) empty, naming the values;
 * vpp 0 (auto) is checked as 1, the candidates being filtered when they are tried. */
static wk_errcode split_check(const work_job *j, wk_err *err) {
  int L = j->model.layers, p = j->pp, v = j->vpp ? j->vpp : 1;
  int f = j->pp_first, l = j->pp_last;
  if (f < 0 || l < 0)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "pp-first-layers %d, pp-last-layers %d: layer counts must be positive", f,
                      l);
  if ((f || l) && p < 2)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "pp-first-layers %d, pp-last-layers %d need pp >= 2 (PP is %d)", f, l, p);
  if (v > 1 && p < 2)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "vpp > 1 needs pp >= 2 (interleaving)");
  if (L < p)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "layers < pp: %d layers cannot fill %d pipeline stages", L, p);
  if (f || l) {
    int mids = p - (f > 0) - (l > 0), rest = L - f - l;
    if (f + l > L)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "pp-first-layers %d + pp-last-layers %d = %d exceed the model's %d "
                        "layers",
                        f, l, f + l, L);
    if (!mids && rest)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "pp-first-layers %d + pp-last-layers %d = %d, but with PP 2 the two "
                        "stages hold all %d layers",
                        f, l, f + l, L);
    if (mids && rest < mids)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "pp-first-layers %d + pp-last-layers %d leave %d layers for %d middle "
                        "stages: a stage would be empty",
                        f, l, rest, mids);
    if (mids && rest % mids)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "pp-first-layers %d + pp-last-layers %d leave %d layers, which do not "
                        "spread evenly over %d middle stages",
                        f, l, rest, mids);
  }
  if (v == 1) return WK_OK;
  stage_split sp;
  if (split_fixed(j, v, &sp)) {
    int stages[3] = {0, p > 2 ? 1 : 0, p - 1}; /* first, a middle one, last */
    for (int k = 0; k < 3; k++) {
      int d = stages[k], n = split_stage(&sp, p, d), need = split_min(v, p, d);
      if (n < need)
        return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                          "vpp %d leaves a model chunk empty: stage %d holds %d layers, needs "
                          "%d (one per chunk but the embedding's and the output layer's)",
                          v, d, n, need);
    }
  } else if (L < (p - 2) * v + 2 * split_min(v, p, 0)) {
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "layers < pp * vpp: %d layers cannot fill PP %d x VPP %d model chunks", L,
                      p, v);
  }
  return WK_OK;
}

/* ---- checks ------------------------------------------------------------------------------ */
wk_errcode work_train_check(const work_ctx *x, const work_job *j, wk_err *err) {
  const work_model *m = &j->model;
  if (j->tp < 1 || j->pp < 1 || j->vpp < 0 || j->dp < 1 || j->cp < 1 || j->ep < 1)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "parallel sizes must be at least 1");
  if (j->seq < 1 || j->gbs < 1 || j->mbs < 0)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "seq and gbs must be positive");
  if (m->heads % j->tp)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "heads %% tp != 0: %d attention heads cannot be split over TP %d",
                      m->heads, j->tp);
  if (m->kv_heads % j->tp && j->tp % m->kv_heads)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "kv-heads %% tp != 0: %d KV heads cannot be split over TP %d", m->kv_heads,
                      j->tp);
  if (m->ffn_hidden % j->tp)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "ffn-hidden %% tp != 0: %d over TP %d",
                      m->ffn_hidden, j->tp);
  wk_errcode src = split_check(j, err);
  if (src) return src;
  if (!m->experts && j->ep > 1)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "ep %d needs a model with experts", j->ep);
  if (m->experts && m->experts % j->ep)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "experts %% ep != 0: %d experts cannot be split over EP %d", m->experts,
                      j->ep);
  if (j->dp % j->ep)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "dp %% ep != 0: expert parallelism %d is carved out of data parallelism %d",
                      j->ep, j->dp);
  if (j->cp > 1 && j->seq % (2 * j->cp))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "seq %% (2 * cp) != 0: sequence %d over context parallelism %d", j->seq,
                      j->cp);
  if (j->gbs % j->dp)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "gbs %% dp != 0: global batch %d over data parallelism %d", j->gbs, j->dp);
  if (j->mbs && j->gbs % (j->mbs * j->dp))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "gbs %% (mbs * dp) != 0: global batch %d over micro-batch %d x DP %d",
                      j->gbs, j->mbs, j->dp);
  if (j->mbs && j->vpp > 1 && (j->gbs / (j->mbs * j->dp)) % j->pp)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "micro-batches %% pp != 0: the interleaved schedule needs the %d "
                      "micro-batches to be a multiple of PP %d",
                      j->gbs / (j->mbs * j->dp), j->pp);
  if (!(j->moe_imbalance >= 1) || !isfinite(j->moe_imbalance))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "moe imbalance %g: the busiest expert rank's tokens over the mean is at "
                      "least 1 (1 = balanced)", j->moe_imbalance);
  if (!(j->capacity_factor >= 0) || !isfinite(j->capacity_factor))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "capacity factor %g: give one > 0 (tokens an expert takes, in mean "
                      "loads), or 0 for dropless", j->capacity_factor);
  if (j->zero < 0 || j->zero > 3)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "zero must be 0, 1, 2 or 3");
  if (j->level < 0 || j->level > 2)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "level must be 0, 1 or 2");
  wk_errcode arc = work_attn_check(&hw_cfg(work_ctx_cluster(x))->accel, j->attn, err);
  if (arc) return arc;
  uint64_t cards = (uint64_t)j->tp * j->pp * j->dp * j->cp;
  if (j->first_card + cards > hw_cards(work_ctx_cluster(x)))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "the job needs %llu cards (tp %d x pp %d x dp %d x cp %d) but the cluster "
                      "has %u",
                      (unsigned long long)cards, j->tp, j->pp, j->dp, j->cp,
                      hw_cards(work_ctx_cluster(x)));
  return WK_OK;
}

/* ---- one layer ------------------------------------------------------------------------------ */
/* Costs of one transformer layer for one micro-batch on one card. Communication times are for
 * one pass (forward); backward repeats them, full recomputation adds one more forward's. */
typedef struct layer_cost {
  double fwd, bwd, rc;        /* compute seconds (GEMMs, attention, HBM-bound kernels) */
  double attn_fwd, attn_bwd;  /* the attention core, which CP communication can hide behind */
  double tp;                  /* exposed TP (AR or AG+RS), per pass */
  double ep_f, ep_b;          /* exposed EP all-to-all (dispatch and combine) in the forward,
                                 and in the backward with the recomputed forward's */
  double ep_all;              /* that all-to-all in full, every pass, hidden or not */
  double cp_fwd, cp_bwd;      /* exposed CP KV exchange, forward and backward */
  double dp_f, dp_b;          /* exposed per-layer DP communication (ZeRO-2's gradient
                                 reduce-scatter, ZeRO-3's parameter gathers), per micro-batch's
                                 forward / backward (+ recompute) */
  double ovl_f, ovl_b;        /* compute slowed by the CP and per-layer DP communication
                                 overlapped with it, likewise */
  double dpc_f, dpc_b;        /* that per-layer DP communication in full (hidden or not) */
  double dpc_e;               /* of which the expert groups', both passes */
  double dp_rs;               /* one gradient reduce-scatter of the layer (ZeRO >= 2) */
  double pass_f, pass_b;      /* the layer's whole forward / backward (+ recompute) on a card
                                 per micro-batch: compute, exposed TP/EP/CP/DP, slowdown */
  double flops_fwd, flops_rc; /* hardware FLOPs of the whole layer (all ranks) */
  double act, act_work;       /* bytes stored per micro-batch; working set while recomputing */
  double params_dense, params_expert; /* whole layer */
} layer_cost;

typedef struct step_env {
  work_ctx *x;
  const work_job *j;
  const hw_accel *a;
  double peak, peak16; /* GEMM peak for the dtype; 16-bit peak (attention, elementwise math) */
  int b;               /* micro-batch */
  work_recompute rc;
} step_env;

static double gpeak(const hw_accel *a, work_dtype d) {
  return d == WORK_FP8 ? a->fp8_flops : d == WORK_FP16 ? a->fp16_flops : a->bf16_flops;
}

/* Communication of m seconds on its own stream beside compute of c seconds: the compute runs
 * OVERLAP_SLOWDOWN times slower while the communication kernels run, and what the
 * communication outlasts is exposed. Returns the slowdown (extra compute seconds); OUT
 * *exposed. Together: max(m, c + m (1 - 1/s)). */
static double overlap(double c, double m, double *exposed) {
  double s = OVERLAP_SLOWDOWN;
  if (m >= c * s) {
    *exposed = m - c * s;
    return c * (s - 1);
  }
  *exposed = 0;
  return m * (1 - 1 / s);
}

/* A collective of one group of n ranks at `stride` from the job's first card, and of every
 * group of that shape that runs at the same moment: the group's block (`block` cards, holding
 * `stride` interleaved groups) repeated `nblocks` times. Alone without contention; with it
 * (the default) all of them at once on the fabric (work_coll_groups). Level 2 solves the
 * groups together at level 1 (lockstep): an event run of thousands of groups' every flow is
 * beyond L2's limits at scale, and one collective alone is the same at both levels. */
static wk_errcode group_coll(work_ctx *x, const work_job *j, coll_op op, uint32_t stride,
                             uint32_t n, uint32_t nblocks, uint32_t block, double bytes,
                             double *time_s, wk_err *err) {
  if (!j->dp_contention || j->level < 1)
    return work_coll(x, op, j->level, j->first_card, stride, n, bytes, time_s, err);
  return work_coll_groups(x, op, 1, j->first_card, stride, n, nblocks, block, bytes, time_s, err);
}

/* A DP-group collective (gradients, parameters): the groups of every TP rank, CP/EP slice and
 * pipeline stage (a stage spans tp cp dp cards) reduce at the same time. */
static wk_errcode dp_coll(work_ctx *x, const work_job *j, coll_op op, uint32_t stride, uint32_t n,
                          double bytes, double *time_s, wk_err *err) {
  return group_coll(x, j, op, stride, n, (uint32_t)j->pp, (uint32_t)(j->tp * j->cp * j->dp), bytes,
                    time_s, err);
}

/* The busiest EP rank's routed tokens over the mean, as run: the imbalance (EP 1: every card
 * routes its own tokens to its own experts, balanced by construction), capped by the expert
 * capacity when tokens are dropped. */
static double moe_load(const work_job *j) {
  double L = j->ep > 1 ? j->moe_imbalance : 1;
  if (j->capacity_factor > 0 && L > j->capacity_factor) L = j->capacity_factor;
  return L;
}

/* Group-limited routing over EP groups of whole scale-up domains (DeepSeek-V3's node-limited
 * routing): r EP ranks in each of nd domains, and how many domains a token reaches at most.
 * Returns 0 when it does not apply (no groups, EP inside one domain or not over whole ones,
 * groups that do not fit the domains). */
static int ep_domains(const work_job *j, uint32_t cps, uint32_t *r, uint32_t *nd, double *reach) {
  const work_model *m = &j->model;
  uint32_t tc = (uint32_t)(j->tp * j->cp), G = (uint32_t)m->expert_groups;
  if (!G || j->ep < 2 || cps % tc || j->first_card % cps) return 0;
  *r = cps / tc;
  if ((uint32_t)j->ep % *r || (uint32_t)j->ep / *r < 2) return 0;
  *nd = (uint32_t)j->ep / *r;
  if (G % *nd == 0) *reach = fmin(*nd, m->group_topk); /* each domain holds G / nd groups */
  else if (*nd % G == 0) *reach = fmin(*nd, fmin(m->top_k, (double)m->group_topk * (*nd / G)));
  else return 0;
  return 1;
}

/* One EP dispatch or combine: each of the card's `tokens` routed tokens to its top_k experts'
 * ranks, bpe bytes an element, with every EP group of the job at once (group_coll). With
 * group-limited routing over whole domains (ep_domains), as DeepSeek-V3 runs it (Sec. 3.2.2:
 * a token crosses IB to at most 4 nodes, once per node, then NVLink forwards it to its
 * experts' GPUs, the two overlapped): an all-to-all across the domains among cards of the
 * same local rank, each token once per domain it reaches, beside one inside each domain with
 * its top_k copies; the slower sets the time. Otherwise one all-to-all over the EP group with
 * top_k copies a token. O(1) coll calls. */
static wk_errcode ep_a2a(const step_env *e, double tokens, double bpe, double *t, wk_err *err) {
  const work_job *j = e->j;
  const work_model *m = &j->model;
  uint32_t tc = (uint32_t)(j->tp * j->cp), ep = (uint32_t)j->ep;
  uint32_t cps = hw_level_cards(work_ctx_cluster(e->x), HW_LEVEL_SUPERNODE), r, nd;
  uint32_t blocks = (uint32_t)(j->dp / j->ep * j->pp);
  double h = m->hidden, k = m->top_k, reach;
  if (!ep_domains(j, cps, &r, &nd, &reach))
    return group_coll(e->x, j, COLL_ALLTOALL, tc, ep, blocks, tc * ep, tokens * k * h * bpe, t, err);
  double across, inside = 0;
  wk_errcode rc = group_coll(e->x, j, COLL_ALLTOALL, cps, nd, blocks, tc * ep,
                             tokens * reach * h * bpe, &across, err);
  if (!rc && r >= 2)
    rc = group_coll(e->x, j, COLL_ALLTOALL, tc, r, work_job_cards(j) / cps, cps,
                    tokens * k * h * bpe, &inside, err);
  *t = fmax(across, inside);
  return rc;
}

/* GEMM time of a pass, forward and backward, and in FP8 the HBM traffic of quantizing their
 * inputs (gemm_add). */
typedef struct gemm_acc {
  double f, b;   /* seconds: forward; backward (input and weight gradients) */
  double qf, qb; /* FP8 quantization bytes, forward and backward */
} gemm_acc;

/* `count` GEMMs of m x n (output) by k, in the job's dtype (lowp) or at the 16-bit peak. The
 * 16-bit backward takes twice the forward (the rule the 16-bit curve was calibrated with; its
 * short k half-length makes the three shapes nearly equal). In FP8, where k matters much more
 * (FP8_GEMM_K_HALF), the backward's input gradient (m x k by n) and weight gradient (k x n by
 * m) are each timed for their own shape: MLA's key/value up-projection has k = 512 forward,
 * but its gradients have k = 32768 and the tokens. In FP8 each input is quantized by a kernel of its own that reads the
 * BF16 activation from HBM and writes it back in FP8 (DeepSeek-V3 Sec. 3.5.2 describes this
 * round trip and asks hardware to fuse it): 3 bytes an element of the forward's input (q_in
 * elements: the caller's count m k, or fewer when the input was quantized once for several
 * GEMMs); the backward re-reads that FP8 input and writes it transposed in 128 x 1 tiles for
 * the weight gradient (2 bytes; Sec. 3.5.2 "Support for Transposed GEMM Operations") and
 * quantizes the output gradient in both layouts (read 2, write 1 + 1). O(1). */
static void gemm_add(const step_env *e, gemm_acc *g, int lowp, double count, double m, double n,
                     double k, double q_in) {
  const hw_accel *a = e->a;
  if (count <= 0 || m <= 0) return;
  if (lowp && e->j->dtype == WORK_FP8) {
    g->f += count * work_gemm_time_fp8(a, m, n, k);
    g->b += count * (work_gemm_time_fp8(a, m, k, n) + work_gemm_time_fp8(a, k, n, m));
    g->qf += 3 * q_in;
    g->qb += count * (2 * m * k + 4 * m * n);
    return;
  }
  double peak = lowp ? e->peak : e->peak16;
  double fwd = count * work_gemm_time(a, peak, m, n, k);
  g->f += fwd;
  g->b += 2 * fwd;
}

static wk_errcode layer(const step_env *e, int moe, layer_cost *lc, wk_err *err) {
  const work_job *j = e->j;
  const work_model *m = &j->model;
  const hw_accel *a = e->a;
  memset(lc, 0, sizeof *lc);
  double h = m->hidden, heads = m->heads, g = m->kv_heads;
  double dqk = work_model_qk_dim(m), dv = work_model_v_dim(m), dr = m->qk_rope_head_dim;
  double rq = m->q_lora_rank, rkv = m->kv_lora_rank;
  double t = j->tp, c = j->cp, s = j->seq, b = e->b;
  int sp = j->seq_par && j->tp > 1, dropout = !m->gated_mlp;
  double T = b * s / c;          /* tokens per card in TP-replicated regions */
  double Tn = sp ? T / t : T;    /* tokens per card in norms, dropout, residual */
  double kvh = g >= t ? g / t : 1; /* KV heads per card (replicated when fewer than TP) */
  double hc = heads / t;         /* query heads per card */
  double fmul = m->gated_mlp ? 2 : 1;
  gemm_acc G = {0, 0, 0, 0};

  /* GEMMs of the attention block: Q, K, V (column parallel) and the output projection (row
   * parallel); with MLA the down-projections to the query and key/value latents (with the
   * shared rotary key) as one GEMM, replicated over TP, then the per-head up-projections. */
  double ew_f = Tn * h * (8 + (dropout ? 14 : 12)); /* 2 norms (r+w) and 2 residual(+dropout) */
  if (rkv > 0) {
    gemm_add(e, &G, 1, 1, T, rq + rkv + dr, h, T * h);
    if (rq > 0) gemm_add(e, &G, 1, 1, T, hc * dqk, rq, T * rq);
    else gemm_add(e, &G, 1, 1, T, hc * dqk, h, 0); /* input quantized with the one above */
    gemm_add(e, &G, 1, 1, T, hc * (dqk - dr + dv), rkv, T * rkv);
    /* the latents' two RMSNorms (read and write, 2 bytes), RoPE on the queries' rotary part in
     * place, and each head's key written whole from its own part and the shared rotary one */
    ew_f += T * (4 * (rq + rkv) + 4 * hc * dr + 2 * hc * dqk + 2 * hc * (dqk - dr));
  } else {
    gemm_add(e, &G, 1, 1, T, hc * dqk + kvh * (dqk + dv), h, T * h);
  }
  gemm_add(e, &G, 1, 1, T, h, hc * dv, T * hc * dv);
  double score_elems = b * hc * (s / c) * s;
  if (j->attn == WORK_ATTN_UNFUSED) {
    double nb = b * hc;
    double ag = nb * (work_gemm_time(a, e->peak16, s / c, s, dqk) +
                      work_gemm_time(a, e->peak16, s / c, dv, s));
    double aew = score_elems * (dropout ? SCORE_BYTES_DROPOUT : SCORE_BYTES_NODROPOUT);
    lc->attn_fwd = ag + work_mem_time(a, aew);
    lc->attn_bwd = 2 * ag + work_mem_time(a, 2 * aew);
  } else {
    /* causal: half the score blocks are skipped */
    work_flash_time(a, j->attn, 2.0 * score_elems * (dqk + dv) * 0.5, s, &lc->attn_fwd,
                    &lc->attn_bwd);
  }
  double attn_p = work_model_attn_params(m);
  double fl_attn = 2 * b * s * attn_p + 2 * b * s * s * heads * (dqk + dv);
  lc->params_dense = attn_p;

  /* MLP: dense (column then row parallel) or MoE (experts not tensor-parallel: each card
   * routes its T/t tokens; the EP all-to-all brings each expert its tokens). */
  /* bytes a token stored for the attention block: Q, K, V and the projection's input (and
   * MLA's latents), x T */
  double act_attn = 2 * hc * dqk + 2 * kvh * (dqk + dv) + 2 * hc * dv + (rkv > 0 ? 2 * (rq + rkv + dr) : 0);
  double act_repl = dropout ? 10 : 8;              /* x Tn*h: norms, GEMM inputs, masks */
  double act_mlp = 0, ep_pass = 0; /* EP all-to-all of one pass, dispatch and combine */
  if (!moe) {
    double F = m->ffn_hidden;
    gemm_add(e, &G, 1, 1, T, F * fmul / t, h, T * h);
    gemm_add(e, &G, 1, 1, T, h, F / t, T * F / t);
    ew_f += (m->gated_mlp ? 6 : 4) * T * F / t;
    act_mlp = T * (2 * F * fmul + 2 * F * fmul) / t;
    lc->flops_fwd = fl_attn + 2 * b * s * h * F * (fmul + 1);
    lc->params_dense += h * F * (fmul + 1);
  } else {
    double E = m->experts, k = m->top_k, sh = m->shared_experts, F = m->moe_ffn_hidden;
    double Tm = T / t, assign = Tm * k, El = E / j->ep, Me = assign / El;
    /* the busiest EP rank's routed tokens (moe_load): its experts' GEMMs, activations and
     * permutes, and the tokens it receives, set the pace of every rank at each all-to-all */
    double L = moe_load(j), busy = assign * L;
    gemm_add(e, &G, 0, 1, Tm, E, h, 0); /* router */
    /* experts: the tokens are quantized once before the dispatch (Sec. 3.3.2), not per copy */
    gemm_add(e, &G, 1, El, Me * L, F * fmul, h, Tm * h);
    gemm_add(e, &G, 1, El, Me * L, h, F, busy * F);
    if (sh > 0) {
      gemm_add(e, &G, 1, 1, Tm, F * fmul * sh, h, 0); /* same input as the routed experts */
      gemm_add(e, &G, 1, 1, Tm, h, F * sh, Tm * F * sh);
    }
    ew_f += (m->gated_mlp ? 6 : 4) * (busy + Tm * sh) * F + 8 * busy * h; /* act + permute */
    act_mlp = (busy + Tm * sh) * (2 * h + 4 * F * fmul) + 2 * busy * h;
    lc->flops_fwd = fl_attn + 2 * b * s * h * E + 2 * b * s * h * F * (fmul + 1) * (k + sh);
    lc->params_dense += h * E + sh * h * F * (fmul + 1);
    lc->params_expert = E * h * F * (fmul + 1);
    if (j->ep > 1) {
      /* dispatch: FP8 with one fp32 scale per 128 values when training in FP8 (DeepSeek-V3
       * Sec. 3.3.2), else 16-bit; combine: 16-bit. The busiest receiver sets the pace. */
      double t_d, t_c, bd = j->dtype == WORK_FP8 ? 1 + 4.0 / 128 : 2;
      wk_errcode rc;
      if ((rc = ep_a2a(e, Tm, bd, &t_d, err)) || (rc = ep_a2a(e, Tm, 2, &t_c, err))) return rc;
      ep_pass = (t_d + t_c) * L;
    }
  }
  lc->fwd = G.f + lc->attn_fwd + work_mem_time(a, ew_f + G.qf);
  lc->bwd = G.b + lc->attn_bwd + work_mem_time(a, 2 * ew_f + G.qb);

  /* Tensor parallelism: per pass two all-reduces (or, with SP, two all-gathers and two
   * reduce-scatters) of the T x h activations; an MoE layer only its attention's pair. */
  if (j->tp > 1) {
    double bytes = T * h * 2, t_ar, t_ag, t_rs;
    wk_errcode rc;
    if (sp) {
      if ((rc = work_coll(e->x, COLL_ALLGATHER, j->level, j->first_card, 1, (uint32_t)j->tp, bytes, &t_ag, err)) ||
          (rc = work_coll(e->x, COLL_REDUCESCATTER, j->level, j->first_card, 1, (uint32_t)j->tp, bytes, &t_rs, err)))
        return rc;
      lc->tp = moe ? t_ag + t_rs : 2 * (t_ag + t_rs);
    } else {
      if ((rc = work_coll(e->x, COLL_ALLREDUCE, j->level, j->first_card, 1, (uint32_t)j->tp, bytes, &t_ar, err)))
        return rc;
      if (moe && (rc = work_coll(e->x, COLL_ALLGATHER, j->level, j->first_card, 1, (uint32_t)j->tp, bytes, &t_ag, err)))
        return rc;
      lc->tp = moe ? t_ar + t_ag : 2 * t_ar;
    }
  }
  /* Context parallelism: each card needs the K and V of the whole sequence (the bytes of an
   * all-gather) in every forward and returns their gradients in the backward (a
   * reduce-scatter). Ring attention (P2P) overlaps each block's exchange with the attention on
   * the block before, so only the excess is exposed, and slows that attention (its backward
   * also passes K,V around again, not counted here: the replay's CP phase holds only exposed
   * time). The all-gather scheme (Llama 3) waits for the whole gather before the attention
   * starts, exposed in full ("the all-gather communication latency is exposed in the critical
   * path", Dubey et al. 2024, Sec. 3.3.2), and its backward gathers K,V again (Transformer
   * Engine keeps only the local ones) before reduce-scattering dK,dV. cp_fwd is per forward
   * (the recomputed one too), cp_bwd per backward. */
  if (j->cp > 1) {
    double kv_bytes = b * s * kvh * (dqk + dv) * 2, t_ag, t_rs;
    wk_errcode rc;
    /* CP groups: every TP rank of every DP replica and stage (blocks of tp cp cards) */
    uint32_t ut = (uint32_t)j->tp, uc = (uint32_t)j->cp, blocks = (uint32_t)(j->dp * j->pp);
    if ((rc = group_coll(e->x, j, COLL_ALLGATHER, ut, uc, blocks, ut * uc, kv_bytes, &t_ag, err)) ||
        (rc = group_coll(e->x, j, COLL_REDUCESCATTER, ut, uc, blocks, ut * uc, kv_bytes, &t_rs, err)))
      return rc;
    if (j->cp_comm == WORK_CP_ALLGATHER) {
      lc->cp_fwd = t_ag;
      lc->cp_bwd = t_ag + t_rs;
    } else {
      lc->ovl_f = overlap(lc->attn_fwd, t_ag, &lc->cp_fwd);
      lc->ovl_b = overlap(lc->attn_bwd, t_rs, &lc->cp_bwd);
      if (e->rc == WORK_RECOMPUTE_FULL) lc->ovl_b += lc->ovl_f; /* the recomputed forward's */
    }
  }

  /* Activations stored per micro-batch (Korthikanti et al. 2022, Sec. 4: 34sbh + 5as^2b per
   * layer; with TP 10sbh + 24sbh/t + 5as^2b/t; with SP everything / t), generalised to GQA,
   * gated MLPs and MoE; CP divides the sequence. */
  double scores = j->attn == WORK_ATTN_UNFUSED ? score_elems * (dropout ? 5 : 2) : score_elems / s * 4;
  double full_layer = Tn * h * act_repl + T * act_attn + act_mlp + scores;
  switch (e->rc) {
  case WORK_RECOMPUTE_FULL:
    lc->act = Tn * h * 2; /* the layer's input only */
    lc->act_work = full_layer;
    lc->rc = lc->fwd;
    lc->flops_rc = lc->flops_fwd;
    break;
  case WORK_RECOMPUTE_SELECTIVE:
    lc->act = full_layer - (j->attn == WORK_ATTN_UNFUSED ? scores : 0);
    if (j->attn == WORK_ATTN_UNFUSED) {
      lc->rc = lc->attn_fwd;
      lc->flops_rc = 4 * b * s * s * h;
    }
    break;
  default: lc->act = full_layer; break;
  }
  /* EP: blocking, or (moe_overlap) beside the compute of the micro-batch paired with it --
   * DualPipe's forward chunk of one and backward chunk of another -- each pass's all-to-all
   * against a pass of compute, exposed only where it outlasts it, and slowing it. */
  int full = e->rc == WORK_RECOMPUTE_FULL;
  lc->ep_all = ep_pass * (2 + full);
  if (j->moe_overlap && ep_pass > 0) {
    lc->ovl_f += overlap(lc->fwd, ep_pass, &lc->ep_f);
    lc->ovl_b += overlap(lc->bwd + lc->rc, ep_pass * (1 + full), &lc->ep_b);
  } else {
    lc->ep_f = ep_pass;
    lc->ep_b = ep_pass * (1 + full);
  }
  return WK_OK;
}

/* ---- one step with every choice made ------------------------------------------------------ */
#define MAX_PP WORK_MAX_PP

/* What the schedule simulation needs beyond the result: forward and backward time of one
 * micro-batch through each virtual stage s = chunk * pp + device (its layers, exposed TP/EP/CP
 * communication, the embedding on s = 0, the output layer and loss on the last), and one p2p
 * hop. f and b hold pp * vpp entries and are owned by the caller. */
typedef struct step_detail {
  double *f, *b;
  double p2p;
  double dp_tail; /* the step-level DP time after the pipeline: exposed, and the slowdown of
                     the compute it hid behind */
} step_detail;

/* ZeRO-2 and -3 as they run (Rajbhandari et al. SC'20; PyTorch FSDP, Zhao et al. VLDB'23;
 * Megatron-Core's custom FSDP): every micro-batch's backward reduce-scatters the layer's
 * gradients over the sharding group as it produces them (a card keeps only its shard, so
 * they cannot wait for the last micro-batch), and ZeRO-3 all-gathers the layer's parameters
 * before its forward, its backward and (full recompute) its recomputed forward: one collective
 * over the whole group each, with its own latency (coll times the (n - 1) ring steps or the
 * tree's depth). A bounded prefetch (one layer ahead: the two gathered layers the memory
 * counts) lets each hide behind a layer's compute, which it slows (overlap). Fills lc's dp_*,
 * dpc_* and adds to ovl_*; then pass_f / pass_b. O(1) coll calls. */
static wk_errcode zero_layer(const step_env *e, int moe, layer_cost *lc, wk_err *err) {
  const work_job *j = e->j;
  int full = e->rc == WORK_RECOMPUTE_FULL;
  double c_f = lc->fwd + lc->tp + lc->ep_f + lc->cp_fwd;
  double c_b = lc->bwd + lc->rc + lc->tp * (1 + full) + lc->ep_b + lc->cp_fwd * full + lc->cp_bwd;
  if (j->zero >= 2 && (j->dp * j->cp > 1 || j->dp / j->ep > 1)) {
    uint32_t t = (uint32_t)j->tp, ndp = (uint32_t)(j->dp * j->cp), nedp = (uint32_t)(j->dp / j->ep);
    uint32_t estride = (uint32_t)(j->tp * j->cp * j->ep);
    double gb = j->dtype == WORK_FP16 ? 2 : 4, pd = lc->params_dense / j->tp;
    double pe = moe ? lc->params_expert / j->ep : 0, rs = 0, ag = 0, rs_e = 0, ag_e = 0;
    wk_errcode rc;
    if ((rc = dp_coll(e->x, j, COLL_REDUCESCATTER, t, ndp, pd * gb, &rs, err)) ||
        (pe > 0 && (rc = dp_coll(e->x, j, COLL_REDUCESCATTER, estride, nedp, pe * gb, &rs_e, err))))
      return rc;
    if (j->zero >= 3 &&
        ((rc = dp_coll(e->x, j, COLL_ALLGATHER, t, ndp, pd * 2, &ag, err)) ||
         (pe > 0 && (rc = dp_coll(e->x, j, COLL_ALLGATHER, estride, nedp, pe * 2, &ag_e, err)))))
      return rc;
    lc->dp_rs = rs + rs_e;
    lc->dpc_f = ag + ag_e;
    lc->dpc_b = (ag + ag_e) * (1 + full) + rs + rs_e;
    lc->dpc_e = ag_e * (2 + full) + rs_e;
    if (j->overlap_dp) {
      lc->ovl_f += overlap(c_f, lc->dpc_f, &lc->dp_f);
      lc->ovl_b += overlap(c_b, lc->dpc_b, &lc->dp_b);
    } else { /* each collective before (gathers) or after (gradients) its layer */
      lc->dp_f = lc->dpc_f;
      lc->dp_b = lc->dpc_b;
    }
  }
  lc->pass_f = c_f + lc->dp_f + lc->ovl_f;
  lc->pass_b = c_b + lc->dp_b + lc->ovl_b;
  return WK_OK;
}

/* The pipeline's compute span, p devices and m micro-batches, device d taking f[d] + b[d]
 * per micro-batch (its chunks together) and cf[d] + cb[d] for its slowest chunk: the slowest
 * path over bottleneck devices k, each running its m micro-batches back to back after the
 * first chunk-forwards of devices before it (fill) and before their last chunk-backwards
 * (drain), plus what k waits for its first backward (its warm-up forwards, p - k of them,
 * against the round trip R_k through the devices after it) and after its last forward (its
 * remaining backwards against the same round trip). Equal devices: m (f + b) + (p - 1) (cf
 * + cb), the (p - 1) / (v m) bubble of Narayanan et al. (SC'21); a slow first device hides the
 * others' fill and drain, as the schedule simulation shows (test_uneven_stages). O(p). */
static double pipe_time(int p, double m, const double *f, const double *b, const double *cf,
                        const double *cb) {
  double total = 0, before = 0, t = 0;
  for (int k = 0; k < p; k++) total += cf[k] + cb[k];
  for (int k = 0; k < p; k++) {
    double after = total - before - cf[k] - cb[k]; /* the round trip R_k */
    double wait = fmax(0, cf[k] + after - (p - k) * cf[k]) +
                  fmax(0, after + cb[k] - (p - k) * cb[k]);
    t = fmax(t, m * (f[k] + b[k]) + before + wait);
    before += cf[k] + cb[k];
  }
  return t;
}

static wk_errcode step_fixed(work_ctx *x, const work_job *j, work_result *r, step_detail *det,
                             wk_err *err) {
  const work_model *m = &j->model;
  const hw_cluster *cl = work_ctx_cluster(x);
  const hw_accel *a = &hw_cfg(cl)->accel;
  memset(r, 0, sizeof *r);
  uint64_t misses0 = work_coll_misses(x);
  step_env e = {x, j, a, gpeak(a, j->dtype), a->bf16_flops, j->mbs, j->recompute};
  int p = j->pp, v = j->vpp, t = j->tp;
  if (p > MAX_PP) return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "pp above %d", MAX_PP);
  int nmicro = j->gbs / (j->mbs * j->dp);
  double mm = nmicro;
  int has_moe = m->experts > 0, nmoe = has_moe ? m->layers - m->dense_layers : 0;
  layer_cost ld, lm;
  memset(&lm, 0, sizeof lm);
  wk_errcode rc;
  if ((rc = layer(&e, 0, &ld, err)) || (rc = zero_layer(&e, 0, &ld, err))) return rc;
  if (nmoe && ((rc = layer(&e, 1, &lm, err)) || (rc = zero_layer(&e, 1, &lm, err)))) return rc;
  int full = j->recompute == WORK_RECOMPUTE_FULL;
  double h = m->hidden, V = m->vocab, b = j->mbs, T = b * j->seq / j->cp;
  int sp = j->seq_par && t > 1;

  /* Embedding (first device) and output layer + cross-entropy (last device). */
  double emb_f = work_mem_time(a, T * h * 6), emb_b = work_mem_time(a, T * h * 8);
  double logit_gemm = work_gemm_time(a, e.peak16, T, V / t, h);
  double ce_bytes = 12 * T * V / t; /* fp32 logits: softmax and loss read/write */
  double out_f = logit_gemm + work_mem_time(a, ce_bytes), out_b = 2 * logit_gemm + work_mem_time(a, ce_bytes);
  double out_tp = 0;
  if (t > 1 && (rc = work_coll(x, sp ? COLL_ALLGATHER : COLL_ALLREDUCE, j->level, j->first_card, 1,
                               (uint32_t)t, sp ? T * h * 2 : T * 4 * 3, &out_tp, err)))
    return rc;

  /* Multi-token prediction (DeepSeek-V3 Sec. 2.2), on the last device after the output layer:
   * each module runs one more transformer layer (lt: MoE when the model's last layers are),
   * after the embedding of the tokens one further ahead (the shared embedding: a lookup), two
   * RMSNorms and their concatenation (read and write, 16 bytes a token-h) and a 2h -> h
   * projection, then the shared output layer and loss once more. mtp_f / mtp_b: all of it but
   * the layers, per micro-batch. */
  int D = m->mtp_layers;
  const layer_cost *lt = nmoe ? &lm : &ld;
  double mtp_f = 0, mtp_b = 0;
  if (D) {
    gemm_acc G = {0, 0, 0, 0};
    gemm_add(&e, &G, 1, 1, T, h / t, 2 * h, 2 * T * h);
    mtp_f = D * (G.f + work_mem_time(a, 22 * T * h + G.qf) + out_f + out_tp);
    mtp_b = D * (G.b + work_mem_time(a, 2 * 16 * T * h + 8 * T * h + G.qb) + out_b + out_tp);
  }

  /* ZeRO-2/3: the embedding and the output layer are sharded units too (V h / t parameters
   * each), their collectives beside the lookup and the logits (zero_layer's rule). */
  uint32_t ndp = (uint32_t)(j->dp * j->cp), nedp = (uint32_t)(j->dp / j->ep);
  double gb = j->dtype == WORK_FP16 ? 2 : 4;
  double ends_dp[2] = {0, 0}, ends_ovl[2] = {0, 0}, ends_comm = 0; /* [0] embedding, [1] output */
  if (j->zero >= 2 && ndp > 1) {
    double pv = V * h / t, rs, ag = 0;
    if ((rc = dp_coll(x, j, COLL_REDUCESCATTER, (uint32_t)t, ndp, pv * gb, &rs, err)) ||
        (j->zero >= 3 && (rc = dp_coll(x, j, COLL_ALLGATHER, (uint32_t)t, ndp, pv * 2, &ag, err))))
      return rc;
    double *fb[2][2] = {{&emb_f, &emb_b}, {&out_f, &out_b}};
    int units = p > 1 || !m->tied_embeddings ? 2 : 1; /* tied on one stage: one unit */
    for (int u = 0; u < units; u++) {
      double of = 0, ob = 0, xf = ag, xb = ag * (1 + full) + rs; /* no overlap: all exposed */
      if (j->overlap_dp) {
        of = overlap(*fb[u][0], ag, &xf);
        ob = overlap(*fb[u][1], ag * (1 + full) + rs, &xb);
      }
      *fb[u][0] += xf + of;
      *fb[u][1] += xb + ob;
      ends_dp[u] = xf + xb;
      ends_ovl[u] = of + ob;
    }
    ends_comm = units * (ag * (2 + full) + rs);
  }

  /* Layers per stage: given, equal, or balanced on the time of one micro-batch through each
   * stage (its layers with their exposed TP/EP/CP, plus the embedding or the output layer). */
  stage_split split;
  if (!split_fixed(j, v, &split)) {
    split_cost sc = {m->layers, has_moe ? m->dense_layers : m->layers, ld.pass_f + ld.pass_b,
                     lm.pass_f + lm.pass_b, emb_f + emb_b,
                     out_f + out_b + 2 * out_tp + D * (lt->pass_f + lt->pass_b) + mtp_f + mtp_b};
    split = split_balance(&sc, p, v);
  }

  /* Virtual stage s = chunk * p + device holds the next layers in order (chunk c of device d
   * feeds chunk c of device d + 1; the last device's chunk c feeds device 0's chunk c + 1);
   * O(1) per chunk, not O(layers): the planner times many layouts of deep models. */
  int nd_dev[MAX_PP], nm_dev[MAX_PP];
  double cf_max[MAX_PP], cb_max[MAX_PP]; /* each device's slowest chunk, forward / backward */
  double dev_f[MAX_PP], dev_b[MAX_PP];   /* each device's forward / backward per micro-batch */
  memset(nd_dev, 0, sizeof nd_dev[0] * (size_t)p);
  memset(nm_dev, 0, sizeof nm_dev[0] * (size_t)p);
  memset(cf_max, 0, sizeof cf_max[0] * (size_t)p);
  memset(cb_max, 0, sizeof cb_max[0] * (size_t)p);
  for (int ch = 0, lo = 0; ch < p * v; ch++) {
    int d = ch % p, n = split_chunk(split_stage(&split, p, d), v, p, d, ch / p), hi = lo + n;
    int first_moe = m->dense_layers > lo ? m->dense_layers : lo;
    int cm = has_moe && first_moe < hi ? hi - first_moe : 0, cd = n - cm;
    lo = hi;
    nd_dev[d] += cd;
    nm_dev[d] += cm;
    double cf = cd * ld.pass_f + cm * lm.pass_f, cb = cd * ld.pass_b + cm * lm.pass_b;
    if (ch == 0) {
      cf += emb_f;
      cb += emb_b;
    }
    if (ch == p * v - 1) {
      cf += out_f + out_tp + D * lt->pass_f + mtp_f;
      cb += out_b + out_tp + D * lt->pass_b + mtp_b;
      (nmoe ? nm_dev : nd_dev)[d] += D; /* the MTP layers, counted with the device's own */
    }
    if (det) {
      det->f[ch] = cf;
      det->b[ch] = cb;
    }
    if (cf + cb > cf_max[d] + cb_max[d]) cf_max[d] = cf, cb_max[d] = cb;
  }

  double dmax = 0, dsum = 0, comp_sum = 0, tp_sum = 0, ep_sum = 0, cp_sum = 0, dpl_sum = 0;
  double ep_all_sum = 0; /* EP all-to-all, hidden or not */
  double ovl_sum = 0;
  double mem_best = -1;
  double df0 = 0, db0 = 0, params_card0 = 0, exp_card0 = 0, params_card_max = 0;
  work_memory memw = {0};
  for (int i = 0; i < p; i++) {
    int nd = nd_dev[i], nm = nm_dev[i];
    double comp = nd * (ld.fwd + ld.bwd + ld.rc) + nm * (lm.fwd + lm.bwd + lm.rc);
    double tpc = (nd * ld.tp + nm * lm.tp) * (2 + full);
    double epc = nm * (lm.ep_f + lm.ep_b);
    double cpc = nd * (ld.cp_fwd * (1 + full) + ld.cp_bwd) + nm * (lm.cp_fwd * (1 + full) + lm.cp_bwd);
    double dplc = nd * (ld.dp_f + ld.dp_b) + nm * (lm.dp_f + lm.dp_b);
    double ovlc = nd * (ld.ovl_f + ld.ovl_b) + nm * (lm.ovl_f + lm.ovl_b);
    double df = nd * ld.pass_f + nm * lm.pass_f;
    double pdense = nd * ld.params_dense + nm * lm.params_dense, pexp = nm * lm.params_expert;
    if (i == 0) {
      comp += emb_f + emb_b - ends_dp[0] - ends_ovl[0];
      dplc += ends_dp[0];
      ovlc += ends_ovl[0];
      df += emb_f;
      pdense += V * h;
    }
    if (i == p - 1) {
      comp += out_f + out_b - ends_dp[1] - ends_ovl[1];
      dplc += ends_dp[1];
      ovlc += ends_ovl[1];
      tpc += 2 * out_tp;
      df += out_f + out_tp;
      if (p > 1 || !m->tied_embeddings) pdense += V * h;
      comp += mtp_f + mtp_b; /* the MTP layers are among nd / nm */
      df += mtp_f;
      pdense += D * 2 * h * h + (D && p > 1 ? V * h : 0); /* projection; the embedding's copy */
    }
    double dtot = comp + tpc + epc + cpc + dplc + ovlc, db = dtot - df;
    dev_f[i] = df;
    dev_b[i] = db;
    if (dtot > dmax) dmax = dtot;
    dsum += dtot;
    comp_sum += comp;
    tp_sum += tpc;
    ep_sum += epc;
    ep_all_sum += nm * lm.ep_all;
    cp_sum += cpc;
    dpl_sum += dplc;
    ovl_sum += ovlc;
    double pcard = pdense / t + pexp / j->ep;
    if (i == 0) {
      df0 = df;
      db0 = db;
      params_card0 = pdense / t;
      exp_card0 = pexp / j->ep;
    }
    if (pcard > params_card_max) params_card_max = pcard;

    /* Memory of device i. */
    double shard_d = (double)j->dp * j->cp, shard_e = shard_d / j->ep;
    double pd = pdense / t, pe = pexp / j->ep;
    double gbytes = j->dtype == WORK_FP16 ? 2 : 4; /* Megatron: fp32 main grads for bf16 */
    work_memory mem;
    mem.weights = 2 * (j->zero >= 3 ? pd / shard_d + pe / shard_e : pd + pe);
    if (j->moe_overlap) mem.weights *= 2; /* DualPipe keeps two copies of the parameters */
    if (j->zero >= 3) /* two layers' weights gathered at a time (prefetch) */
      mem.weights += 2 * 2 * (nm ? lm.params_dense / t + lm.params_expert / j->ep : ld.params_dense / t);
    mem.grads = gbytes * (j->zero >= 2 ? pd / shard_d + pe / shard_e : pd + pe);
    mem.optimizer = 12 * (j->zero >= 1 ? pd / shard_d + pe / shard_e : pd + pe);
    double inflight = fmin(mm, p - i);
    if (v > 1) inflight *= 1 + (p - 1.0) / ((double)p * v);
    mem.activations = inflight * (nd * ld.act + nm * lm.act);
    if (full) mem.activations += fmax(ld.act_work, lm.act_work);
    if (i == p - 1) mem.activations += 4 * T * V / t; /* fp32 logits */
    mem.other = MEM_RESERVE_BYTES;
    mem.total = mem.weights + mem.grads + mem.optimizer + mem.activations + mem.other;
    if (mem.total > mem_best) {
      mem_best = mem.total;
      memw = mem;
    }
  }
  double davg = dsum / p;

  /* Pipeline: 1F1B runs m micro-batches at the slowest device's pace plus (p-1)/v of a
   * micro-batch to fill and drain (Narayanan et al. 2021, bubble (p-1)/(v m)). Each chunk
   * boundary costs a blocking send/recv of the T x h activation (scatter-gather: 1/t per TP
   * rank), forward and backward, on every one of the m v + p - 1 steps of the critical path. */
  double t_p2p = 0, pp_exposed = 0;
  if (p > 1) {
    uint32_t stride = (uint32_t)(t * j->cp * j->dp);
    double seen[HW_LEVELS];
    for (int l = 0; l < HW_LEVELS; l++) seen[l] = -1;
    for (int i = 0; i + 1 < p; i++) {
      uint32_t c0 = j->first_card + (uint32_t)i * stride;
      hw_level lv = hw_common_level(cl, c0, c0 + stride);
      if (seen[lv] < 0 &&
          (rc = work_coll(x, COLL_SENDRECV, j->level, c0, stride, 2, T * h * 2 / t, &seen[lv], err)))
        return rc;
      if (seen[lv] > t_p2p) t_p2p = seen[lv];
    }
    /* Without SP the receiver re-assembles the full activation from the t slices: an
     * all-gather inside the TP group (Megatron's scatter-gather optimisation). */
    double t_regather = 0;
    if (t > 1 && !sp &&
        (rc = work_coll(x, COLL_ALLGATHER, j->level, j->first_card, 1, (uint32_t)t, T * h * 2, &t_regather, err)))
      return rc;
    pp_exposed = 2 * (t_p2p + t_regather) * (mm * v + p - 1);
    if (det) det->p2p = t_p2p + t_regather;
  }
  double t_pipe = pipe_time(p, mm, dev_f, dev_b, cf_max, cb_max) + pp_exposed;

  /* Data parallelism, step level: ZeRO 0/1 reduce gradients (all-reduce, or reduce-scatter
   * with a distributed optimizer) in buckets as the last micro-batch's backward produces them
   * (ZeRO >= 2 reduced them per layer in every micro-batch: only the last layer's, on device
   * 0, outlasts the backward); ZeRO 1/2 all-gather the updated parameters during the next
   * forward (ZeRO-3 gathers them per layer). Overlapped, only what outlasts that window is
   * exposed, never less than the last bucket, and the window's compute is slowed (overlap).
   * Device 0 finishes last, so its window is the one that counts. */
  double dp_exposed = 0, dp_slow = 0;
  if (ndp > 1 || nedp > 1) {
    double t_g = 0, t_p = 0, tt, e_g = 0, e_p = 0; /* e_: the expert groups' part */
    uint32_t estride = (uint32_t)(t * j->cp * j->ep);
    coll_op gop = j->zero ? COLL_REDUCESCATTER : COLL_ALLREDUCE;
    if (j->zero < 2) {
      if ((rc = dp_coll(x, j, gop, (uint32_t)t, ndp, params_card0 * gb, &t_g, err)) ||
          (exp_card0 > 0 && (rc = dp_coll(x, j, gop, estride, nedp, exp_card0 * gb, &e_g, err))))
        return rc;
      t_g += e_g;
    }
    if (j->zero == 1 || j->zero == 2) {
      if ((rc = dp_coll(x, j, COLL_ALLGATHER, (uint32_t)t, ndp, params_card0 * 2, &t_p, err)) ||
          (exp_card0 > 0 &&
           (rc = dp_coll(x, j, COLL_ALLGATHER, estride, nedp, exp_card0 * 2, &e_p, err))))
        return rc;
      t_p += e_p;
    }
    /* ZeRO >= 2: device 0's first layer reduces its gradients after everything else */
    double tail = j->zero >= 2 ? (nd_dev[0] ? ld.dp_rs : lm.dp_rs) : 0;
    double last = fmin(1.0, DP_BUCKET_PARAMS / fmax(1.0, params_card0 + exp_card0));
    if (!j->overlap_dp) {
      dp_exposed = t_g + t_p + tail;
    } else {
      double xg, xp;
      dp_slow = overlap(db0, t_g * (1 - last), &xg) + overlap(df0, t_p * (1 - last), &xp);
      dp_exposed = (t_g + t_p) * last + xg + xp + tail;
    }
    /* the replay's view: dense and expert DP communication as two phases (all of it, per
     * layer and per step, on device 0), the exposed time split in proportion to each one's
     * share of the traffic time */
    tt = nd_dev[0] * (ld.dpc_f + ld.dpc_b) + nm_dev[0] * (lm.dpc_f + lm.dpc_b) + ends_comm;
    double dp_total = t_g + t_p + mm * tt + tail, edp_total = e_g + e_p + mm * nm_dev[0] * lm.dpc_e;
    double exposed = dp_exposed + mm * dpl_sum / p;
    double share = dp_total > 0 ? (dp_total - edp_total) / dp_total : 0;
    work_phase_add(r->phases, &r->nphases, "dp", WORK_PAT_RING, (uint32_t)t, ndp,
                   dp_total - edp_total, exposed * share);
    work_phase_add(r->phases, &r->nphases, "edp", WORK_PAT_RING, estride, nedp, edp_total,
                   exposed * (1 - share));
  }
  double shard = j->zero ? (double)j->dp * j->cp : 1;
  double t_opt = work_mem_time(a, params_card_max / shard * ADAM_BYTES_PER_PARAM);

  r->step_time_s = t_pipe + dp_exposed + dp_slow + t_opt;
  if (det) det->dp_tail = dp_exposed + dp_slow;
  r->b.compute = mm * comp_sum / p;
  r->b.tp = mm * tp_sum / p;
  r->b.ep = mm * ep_sum / p;
  r->b.cp = mm * cp_sum / p;
  r->b.pp = pp_exposed;
  r->b.bubble = t_pipe - pp_exposed - mm * davg;
  r->b.dp = dp_exposed + mm * dpl_sum / p;
  r->b.overlap = dp_slow + mm * ovl_sum / p;
  r->b.optimizer = t_opt;
  /* rank order tp fastest, then cp, dp, pp (Megatron's): TP groups are consecutive ranks, CP
   * groups at stride tp, EP groups at stride tp cp, pipeline neighbours tp cp dp apart */
  work_phase_add(r->phases, &r->nphases, "tp", WORK_PAT_RING, 1, (uint32_t)t, r->b.tp, r->b.tp);
  work_phase_add(r->phases, &r->nphases, "cp", WORK_PAT_RING, (uint32_t)t, (uint32_t)j->cp,
                 r->b.cp, r->b.cp);
  { /* EP: with group-limited routing the network carries the all-to-all among cards of one
     * local rank across the domains (the rest stays on the scale-up bus) */
    uint32_t cps = hw_level_cards(cl, HW_LEVEL_SUPERNODE), er, nd, es = (uint32_t)(t * j->cp);
    uint32_t en = (uint32_t)j->ep;
    double reach;
    if (ep_domains(j, cps, &er, &nd, &reach)) es = cps, en = nd;
    work_phase_add(r->phases, &r->nphases, "ep", WORK_PAT_ALLTOALL, es, en,
                   mm * ep_all_sum / p, r->b.ep);
  }
  work_phase_add(r->phases, &r->nphases, "pp", WORK_PAT_CHAIN, (uint32_t)(t * j->cp * j->dp),
                 (uint32_t)p, r->b.pp, r->b.pp);

  /* FLOPs per step for the whole job: per micro-batch forward, x3 for forward + backward,
   * plus recomputation (hardware FLOPs only). */
  double fl_layers = (m->layers - nmoe) * ld.flops_fwd + nmoe * lm.flops_fwd;
  double fl_rc = (m->layers - nmoe) * ld.flops_rc + nmoe * lm.flops_rc;
  fl_layers += D * lt->flops_fwd;
  fl_rc += D * lt->flops_rc;
  double fl_logits = (1 + D) * 2 * b * j->seq * h * V + D * 2 * b * j->seq * 2 * h * h;
  double micro_total = mm * j->dp;
  double cards = (double)work_job_cards(j);
  r->model_flops = micro_total * 3 * (fl_layers + fl_logits);
  r->hw_flops = r->model_flops + micro_total * fl_rc;
  r->tokens_per_s = (double)j->gbs * j->seq / r->step_time_s;
  r->tflops_per_card = r->hw_flops / r->step_time_s / cards / 1e12;
  r->mfu = r->model_flops / (r->step_time_s * e.peak * cards);
  r->mem = memw;
  r->hbm_bytes = a->hbm_bytes;
  r->fits = memw.total <= a->hbm_bytes;
  r->mbs = j->mbs;
  r->vpp = v;
  r->layers_first = split.first;
  r->layers_mid = split.mid;
  r->layers_last = split.last;
  r->microbatches = nmicro;
  r->recompute = j->recompute;
  r->moe_load = has_moe ? moe_load(j) : 1;
  if (has_moe) {
    double asked = j->ep > 1 ? j->moe_imbalance : 1; /* what the busiest rank is routed */
    r->moe_dropped = asked > r->moe_load ? 1 - r->moe_load / asked : 0;
  }
  r->colls_timed = work_coll_misses(x) - misses0;
  return WK_OK;
}

/* The VPP candidates for a job with vpp 0, ascending (see work_train_step's contract); at
 * most WORK_MAX_AUTO_VPP of them. Returns how many. O(sqrt n) candidates, O(n) to list. */
static int vpp_candidates(const work_job *j, int *out) {
  int L = j->model.layers, p = j->pp, n = 0;
  if (p < 2) {
    out[0] = 1;
    return 1;
  }
  stage_split sp = {0, 0, 0};
  int even = !j->pp_first && !j->pp_last && L % p == 0, most;
  if (even) most = L / p;
  else if (split_fixed(j, 1, &sp)) most = sp.first > sp.last ? sp.first : sp.last;
  else most = (L + p - 1) / p;
  if (!even && sp.mid > most) most = sp.mid;
  for (int v = 1; v <= most && v <= WORK_MAX_AUTO_VPP; v++) {
    /* even: v divides the stage; else the least v giving each chunk ceil(most / v) layers
     * (a larger v with the same chunk size only adds p2p hops) */
    int ok = even ? most % v == 0 : v == 1 || (most + v - 1) / v < (most + v - 2) / (v - 1);
    if (ok) out[n++] = v;
  }
  return n;
}

wk_errcode work_train_step(work_ctx *x, const work_job *j, work_result *out, wk_err *err) {
  wk_errcode rc = work_train_check(x, j, err);
  if (rc) return rc;
  if (j->mbs && j->vpp && j->recompute != WORK_RECOMPUTE_AUTO)
    return step_fixed(x, j, out, NULL, err);
  /* Try every VPP candidate, every micro-batch that divides the per-replica batch (and keeps
   * the interleaved schedule's micro-batch count a multiple of PP) and every recompute mode. */
  int per_replica = j->gbs / j->dp, found = 0, best_fits = 0;
  int vs[WORK_MAX_AUTO_VPP], nv = 1;
  if (j->vpp) vs[0] = j->vpp;
  else nv = vpp_candidates(j, vs);
  uint64_t misses0 = work_coll_misses(x);
  work_result best, cur;
  memset(&best, 0, sizeof best);
  for (int iv = 0; iv < nv; iv++) {
    work_job k = *j;
    k.vpp = vs[iv];
    wk_err e2;
    if (!j->vpp && split_check(&k, &e2)) continue; /* a chunk would be empty */
    for (int b = 1; b <= per_replica && b <= 64; b++) {
      if (j->mbs && b != j->mbs) continue;
      if (per_replica % b) continue;
      if (k.vpp > 1 && (per_replica / b) % j->pp) continue;
      for (int r = WORK_RECOMPUTE_NONE; r <= WORK_RECOMPUTE_FULL; r++) {
        if (j->recompute != WORK_RECOMPUTE_AUTO && r != (int)j->recompute) continue;
        k.mbs = b;
        k.recompute = (work_recompute)r;
        if ((rc = step_fixed(x, &k, &cur, NULL, err))) return rc;
        int better = !found || (cur.fits && !best_fits) ||
                     (cur.fits == best_fits && (cur.fits ? cur.step_time_s < best.step_time_s
                                                         : cur.mem.total < best.mem.total));
        if (better) {
          best = cur;
          best_fits = cur.fits;
          found = 1;
        }
      }
    }
  }
  if (!found)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "no micro-batch size divides the %d sequences per replica into a multiple "
                      "of PP %d micro-batches (needed by VPP %d)",
                      per_replica, j->pp, j->vpp);
  best.colls_timed = work_coll_misses(x) - misses0;
  *out = best;
  return WK_OK;
}

const char *work_fit_advice(const work_job *j, const work_result *r, char *buf, size_t n) {
  (void)j;
  double over = r->mem.total - r->hbm_bytes;
  snprintf(buf, n,
           "does not fit: needs %.1f GB per card (weights %.1f, grads %.1f, optimizer %.1f, "
           "activations %.1f, other %.1f), HBM holds %.1f GB: %.1f GB over",
           r->mem.total / 1e9, r->mem.weights / 1e9, r->mem.grads / 1e9, r->mem.optimizer / 1e9,
           r->mem.activations / 1e9, r->mem.other / 1e9, r->hbm_bytes / 1e9, over / 1e9);
  return buf;
}

/* ---- pipeline schedule and timeline ------------------------------------------------------ */
/* The step's pipeline phase as an actual schedule: every device runs its list of chunk
 * forwards and backwards in Megatron-LM's order, an op starting when its device is free and
 * its input is ready. VPP 1 is 1F1B (warm-up forwards, one-forward-one-backward, cool-down
 * backwards); VPP > 1 is the interleaved 1F1B of Narayanan et al. (SC'21, Sec. 2.2), as in
 * Megatron's forward_backward_pipelining_with_interleaving: micro-batches go through the v
 * chunks in groups of p, chunk c of device d is virtual stage s = c * p + d, and the last
 * device's chunk c feeds device 0's chunk c + 1. Forward of (micro i, stage s) needs forward
 * (i, s - 1); backward needs backward (i, s + 1), the last stage its own forward. An input
 * from another device comes by a blocking receive of det->p2p seconds that the device waits
 * out (Megatron's p2p is not overlapped with compute): the same cost the analytic step time
 * charges per pipeline step, so the two agree to a few per mille when stages are balanced. */

/* Chrome trace-event output, kept bounded at about TL_EVENTS events (< 3 MB): every op and
 * receive is drawn while they fit; then each receive is folded into the op it feeds (args
 * recv_us); beyond that, consecutive ops of a stage are merged into one event (args: how many,
 * how busy), half of a stage's budget going to keeping idle gaps (bubbles) visible as gaps. */
#define TL_EVENTS 24000

typedef struct tl_track { /* one pipeline stage (tid), with the event being gathered */
  int tid, per_group, splits_left;
  int n, nf, nb, recv_only, mb0, ch0, from;
  double start, end, busy, recv;
} tl_track;

typedef struct tl_writer {
  FILE *f;
  int first, v, fold; /* fold: receives drawn inside the op they feed */
  tl_track *tr;       /* [p] */
} tl_writer;

static void tl_us(FILE *f, long long ns) { fprintf(f, "%lld.%03lld", ns / 1000, ns % 1000); }

/* Opens an X event up to its args object; ts and dur come from the ends rounded to the
 * nanosecond, so back-to-back events never overlap in the file either. */
static void tl_begin(tl_writer *w, const char *name, const char *cat, double start, double end,
                     int tid) {
  long long a = llround(start * 1e9), b = llround(end * 1e9);
  fprintf(w->f, "%s\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":", w->first ? "" : ",",
          name, cat);
  tl_us(w->f, a);
  fprintf(w->f, ",\"dur\":");
  tl_us(w->f, b - a);
  fprintf(w->f, ",\"pid\":0,\"tid\":%d,\"args\":{", tid);
  w->first = 0;
}

static void tl_flush(tl_writer *w, tl_track *t) {
  if (!t->n) return;
  char name[64], chunk[16] = "";
  if (w->v > 1) snprintf(chunk, sizeof chunk, " c%d", t->ch0);
  if (t->recv_only) {
    snprintf(name, sizeof name, "recv %c%d%s", t->nf ? 'F' : 'B', t->mb0, chunk);
    tl_begin(w, name, "p2p", t->start, t->end, t->tid);
    fprintf(w->f, "\"mb\":%d,\"chunk\":%d,\"from_stage\":%d}}", t->mb0, t->ch0, t->from);
  } else if (t->n == 1) {
    snprintf(name, sizeof name, "%c%d%s", t->nf ? 'F' : 'B', t->mb0, chunk);
    tl_begin(w, name, t->nf ? "forward" : "backward", t->start, t->end, t->tid);
    fprintf(w->f, "\"mb\":%d,\"chunk\":%d", t->mb0, t->ch0);
    if (t->recv > 0) {
      fprintf(w->f, ",\"recv_us\":");
      tl_us(w->f, llround(t->recv * 1e9));
      fprintf(w->f, ",\"from_stage\":%d", t->from);
    }
    fprintf(w->f, "}}");
  } else {
    snprintf(name, sizeof name, "%d ops (%d F, %d B)", t->n, t->nf, t->nb);
    tl_begin(w, name, !t->nb ? "forward" : !t->nf ? "backward" : "compute", t->start, t->end,
             t->tid);
    fprintf(w->f, "\"ops\":%d,\"first_mb\":%d,\"busy_us\":", t->n, t->mb0);
    tl_us(w->f, llround(t->busy * 1e9));
    fprintf(w->f, ",\"recv_us\":");
    tl_us(w->f, llround(t->recv * 1e9));
    fprintf(w->f, "}}");
  }
  t->n = t->nf = t->nb = t->recv_only = 0;
  t->busy = t->recv = 0;
}

/* One op on a track: [start, end) of which the first `recv` seconds are its receive (folded)
 * or, with recv_only, a receive drawn on its own. */
static void tl_add(tl_writer *w, tl_track *t, int fwd, int mb, int ch, int from, double start,
                   double end, double recv, int recv_only) {
  if (t->n) {
    int gap = start - t->end > 0.5 * (end - start) && t->splits_left > 0;
    if (t->n >= t->per_group || gap || recv_only || t->recv_only) {
      if (gap && t->n < t->per_group) t->splits_left--;
      tl_flush(w, t);
    }
  }
  if (!t->n) {
    t->start = start;
    t->mb0 = mb;
    t->ch0 = ch;
    t->from = from;
    t->recv_only = recv_only;
  }
  t->end = end;
  t->busy += end - start;
  t->recv += recv;
  t->n++;
  if (fwd) t->nf++;
  else t->nb++;
}

/* Op n of device d's list: OUT *fwd, *micro, *chunk. Megatron's warm-up count: p - d - 1 for
 * VPP 1; (p - d - 1) * 2 + (v - 1) * p interleaved, or every forward first when m == p. */
static void pipe_op(int p, int v, int m, int d, int n, int *fwd, int *micro, int *chunk) {
  int total = m * v, warm;
  if (v == 1) warm = p - d - 1;
  else warm = m == p ? total : (p - d - 1) * 2 + (v - 1) * p;
  if (warm > total) warm = total;
  int steady = total - warm, k; /* k: the op's index among the device's forwards (backwards) */
  if (n < warm) *fwd = 1, k = n;
  else if (n < warm + 2 * steady) {
    *fwd = (n - warm) % 2 == 0;
    k = *fwd ? warm + (n - warm) / 2 : (n - warm) / 2;
  } else *fwd = 0, k = n - warm - steady;
  *chunk = k % (p * v) / p;
  if (!*fwd) *chunk = v - 1 - *chunk;
  *micro = k / (p * v) * p + k % p;
}

/* Runs the schedule; returns when the last device finishes its last backward. w: NULL, or
 * where the events go. Cost: O(p v m) time and two doubles of memory per op, plus O(p) per
 * sweep over the devices (each sweep runs every device until it blocks). */
static double pipe_simulate(int p, int v, int m, const step_detail *det, tl_writer *w) {
  size_t nst = (size_t)p * (size_t)v, nops = 2 * (size_t)v * (size_t)m;
  double *fend = wk_malloc(sizeof *fend * nst * (size_t)m);
  double *bend = wk_malloc(sizeof *bend * nst * (size_t)m);
  size_t *next = wk_calloc((size_t)p, sizeof *next);
  double *free_at = wk_calloc((size_t)p, sizeof *free_at);
  for (size_t i = 0; i < nst * (size_t)m; i++) fend[i] = bend[i] = -1;
  size_t remaining = nops * (size_t)p;
  int progress = 1;
  while (remaining && progress) {
    progress = 0;
    for (int d = 0; d < p; d++) {
      while (next[d] < nops) {
        int fwd, mb, ch;
        pipe_op(p, v, m, d, (int)next[d], &fwd, &mb, &ch);
        int s = ch * p + d, up = fwd ? s - 1 : s + 1, remote = fwd ? s > 0 : s < (int)nst - 1;
        double ready = 0; /* when the input exists; -1: not yet */
        if (remote) ready = (fwd ? fend : bend)[(size_t)up * m + mb];
        else if (!fwd) ready = fend[(size_t)s * m + mb];
        if (ready < 0) break;
        double start = fmax(free_at[d], ready), recv = remote ? det->p2p : 0;
        double end = start + recv + (fwd ? det->f[s] : det->b[s]);
        if (w && recv > 0 && !w->fold)
          tl_add(w, &w->tr[d], fwd, mb, ch, up % p, start, start + recv, 0, 1);
        if (w)
          tl_add(w, &w->tr[d], fwd, mb, ch, up % p, w->fold ? start : start + recv, end,
                 w->fold ? recv : 0, 0);
        free_at[d] = end;
        (fwd ? fend : bend)[(size_t)s * m + mb] = end;
        next[d]++;
        remaining--;
        progress = 1;
      }
    }
  }
  WK_ASSERT(!remaining); /* Megatron's schedules cannot deadlock */
  double end = 0;
  for (int d = 0; d < p; d++) end = fmax(end, free_at[d]);
  wk_free(fend);
  wk_free(bend);
  wk_free(next);
  wk_free(free_at);
  return end;
}

int work_train_timeline(work_ctx *x, const work_job *j, const work_result *r, FILE *f) {
  work_job k = *j;
  k.mbs = r->mbs;
  k.recompute = r->recompute;
  k.vpp = r->vpp;
  if (k.pp > 1) { /* the split as resolved (an automatic one is given explicitly) */
    k.pp_first = r->layers_first;
    k.pp_last = r->layers_last;
  }
  wk_err err;
  if (work_train_check(x, &k, &err)) return -1;
  int p = k.pp, v = k.vpp, m = r->microbatches, rc = -1;
  step_detail det = {0};
  det.f = wk_calloc((size_t)p * (size_t)v * 2, sizeof *det.f);
  det.b = det.f + (size_t)p * (size_t)v;
  tl_writer w = {f, 1, v, 0, wk_calloc((size_t)p, sizeof *w.tr)};
  work_result rr;
  if (step_fixed(x, &k, &rr, &det, &err)) goto out;

  /* level of detail: ops per stage, receives included, against the budget */
  double ops = 2.0 * v * m, budget = TL_EVENTS / p > 16 ? TL_EVENTS / p : 16;
  w.fold = p > 1 && 2 * ops > budget;
  for (int d = 0; d < p; d++) {
    tl_track *t = &w.tr[d];
    t->tid = d;
    t->per_group = 1;
    if (ops > budget) { /* merged events are ~1.5x longer: 2/3 the budget, half for gaps */
      double merged = floor(budget * 2 / 3), half = merged - floor(merged / 2);
      t->per_group = (int)ceil(ops / half);
      t->splits_left = (int)(merged / 2);
    }
  }
  fprintf(f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
  for (int d = 0; d < p; d++)
    fprintf(f, "%s\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":%d,"
               "\"args\":{\"name\":\"stage %d\"}}",
            d ? "," : "", d, d);
  w.first = 0;
  double end = pipe_simulate(p, v, m, &det, &w);
  for (int d = 0; d < p; d++) {
    tl_flush(&w, &w.tr[d]);
    double t = end;
    if (det.dp_tail > 0) {
      tl_begin(&w, "DP grad reduce (exposed)", "dp", t, t + det.dp_tail, d);
      fprintf(f, "}}");
      t += det.dp_tail;
    }
    tl_begin(&w, "optimizer", "optimizer", t, t + rr.b.optimizer, d);
    fprintf(f, "}}");
  }
  fprintf(f, "\n]}\n");
  rc = ferror(f) ? -1 : 0;
out:
  wk_free(w.tr);
  wk_free(det.f);
  return rc;
}
