/* work — workloads as compute + communication on the cluster model: one step of transformer
 * training (dense or MoE) under Megatron-LM-style TP/PP(VPP)/DP(ZeRO)/SP/CP/EP parallelism,
 * with FLOPs, bytes, memory per card and every collective timed by coll_time on the job's
 * real (packed) placement; the layout planner that enumerates and ranks layouts; and three
 * AI-for-science jobs (3-D stencil with halo exchange, distributed 3-D FFT, data-parallel
 * science model). Stands on hw/ and coll/ only (DESIGN.md). */
#ifndef WK_WORK_H
#define WK_WORK_H

#include "coll/coll.h"
#include "hw/hw.h"

#include <stdint.h>
#include <stdio.h>

/* ---- models ----------------------------------------------------------------------------- */
/* A decoder-only transformer. MoE: layers [dense_layers, layers) have `experts` routed experts
 * of moe_ffn_hidden (top_k per token) plus `shared_experts` always-on experts of the same size;
 * the rest have a dense MLP of ffn_hidden. gated_mlp = SwiGLU (three matrices, Llama) instead
 * of GeLU (two, GPT). */
typedef struct work_model {
  char name[64];
  int layers, hidden, heads, kv_heads, ffn_hidden, vocab;
  int gated_mlp;
  int experts, top_k, shared_experts, moe_ffn_hidden, dense_layers;
  int tied_embeddings; /* input embedding and output layer share weights */
  char source[160];    /* where the numbers come from */
  /* Group-limited routing (DeepSeek-V2/V3's node-limited routing; Megatron-Core's
   * --moe-router-num-groups / --moe-router-group-topk): the routed experts form expert_groups
   * groups and a token picks its top_k experts from its group_topk best groups. 0, 0: none.
   * With EP over whole scale-up domains holding whole groups, a token then crosses the
   * network to at most that many domains (train.c, ep_a2a). */
  int expert_groups, group_topk;
  /* Attention head shape (0: the default). Queries and keys have heads of qk_nope_head_dim
   * (default hidden / heads) + qk_rope_head_dim (default 0) values, values of v_head_dim
   * (default qk_nope_head_dim). kv_lora_rank > 0 makes it multi-head latent attention (MLA,
   * DeepSeek-V2/V3): keys and values come up from one latent of kv_lora_rank (plus a shared
   * rotary key of qk_rope_head_dim) projected down from the hidden state, queries likewise
   * from a latent of q_lora_rank when that is > 0; kv_heads is then the heads (each has its
   * own key and value after the up-projection). The keys are the Hugging Face config's. */
  int q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;
  /* Multi-token prediction modules (DeepSeek-V3's MTP, `num_nextn_predict_layers`): each one
   * more transformer layer (MoE when the model's last layers are), a 2h -> h projection and a
   * second pass through the shared output layer and loss, on the last pipeline stage. */
  int mtp_layers;
} work_model;

/* Head dimensions of queries/keys and of values (the defaults filled in). */
double work_model_qk_dim(const work_model *m);
double work_model_v_dim(const work_model *m);
/* Weights of one layer's attention: Q, K, V (or MLA's down- and up-projections) and output. */
double work_model_attn_params(const work_model *m);

/* Largest sizes a model may have (work_model_check and the model reader refuse larger, naming
 * the limit). Generous for any physical transformer -- the largest published have ~10^2 layers,
 * ~3*10^4 hidden, ~2.6*10^5 vocab -- and they bound the planner (its loops are O(divisors) of
 * these, each layout O(layers)) and keep every int product such as 4 * hidden in range. The
 * `train --layers/--hidden/...` options use the same bounds. */
#define WORK_MAX_LAYERS 100000
#define WORK_MAX_HIDDEN (1 << 20)
#define WORK_MAX_HEADS (1 << 16)     /* also kv_heads */
#define WORK_MAX_FFN_HIDDEN (1 << 24) /* also moe_ffn_hidden */
#define WORK_MAX_VOCAB (1 << 24)
#define WORK_MAX_EXPERTS (1 << 16)   /* also top_k, shared_experts */
#define WORK_MAX_HEAD_DIM (1 << 16)  /* qk_nope, qk_rope, v head dims (ranks: WORK_MAX_HIDDEN) */
#define WORK_MAX_MTP_LAYERS 16

/* Built-in presets (models/NAME.yaml mirror them): NULL-name terminated, borrowed. */
extern const work_model work_models[];
const work_model *work_model_find(const char *name); /* NULL if unknown */
/* Reads a model YAML file (flat "key: value", keys as in models/NAME.yaml); missing kv_heads,
 * ffn_hidden, vocab take GPT defaults (heads, 4*hidden, 51200). Errors carry path:line:col. */
wk_errcode work_model_load(work_model *m, const char *path, wk_err *err);
/* A preset name, or else a YAML file path; an unknown name lists the presets. */
wk_errcode work_model_get(work_model *m, const char *name_or_file, wk_err *err);
wk_errcode work_model_parse(work_model *m, const char *yaml, size_t len, const char *path,
                            wk_err *err);
/* Fills defaults and checks sizes (positive, at most the WORK_MAX_* limits, heads % kv_heads,
 * hidden % heads, top_k <= E). */
wk_errcode work_model_check(work_model *m, wk_err *err);
/* Parameters: total and active per token (MoE: top_k + shared experts), embeddings included;
 * MTP modules not (as DeepSeek-V3 counts its 671 B). */
double work_model_params(const work_model *m);
double work_model_active_params(const work_model *m);

/* ---- training step ---------------------------------------------------------------------- */
typedef enum work_recompute {
  WORK_RECOMPUTE_NONE,
  WORK_RECOMPUTE_SELECTIVE, /* attention core only (Korthikanti et al. 2022) */
  WORK_RECOMPUTE_FULL,      /* every layer's forward again in backward */
  WORK_RECOMPUTE_AUTO       /* the fastest that fits */
} work_recompute;
typedef enum work_dtype { WORK_BF16, WORK_FP16, WORK_FP8 } work_dtype;
/* Attention kernels. FLASH2, FLASH3: FlashAttention-2 (Dao 2023) and -3 (Shah et al. 2024;
 * Hopper only), fused, causal half skipped, no s^2 activations, each at its published speed on
 * the card (hw_accel's flash*_flops; train.c). FLASH: the best the card has published speeds
 * for (FLASH3 where it has them, as on H100 and H800; else FLASH2) -- what a current stack
 * runs. UNFUSED (GEMM + fused softmax/dropout kernels over the s x s scores) as in the
 * Megatron-LM of 2021-2022 that section A/B of the validation measured. */
typedef enum work_attn {
  WORK_ATTN_FLASH,
  WORK_ATTN_UNFUSED,
  WORK_ATTN_FLASH2,
  WORK_ATTN_FLASH3
} work_attn;
/* Context-parallel attention, how each card gets the K and V of the whole sequence (both with
 * the load-balanced split: card r holds chunks r and 2cp - 1 - r of 2cp):
 * P2P: ring attention (Megatron-Core's default --cp-comm-type p2p; Liu et al. 2023): K,V
 * blocks passed around the ring behind the attention of the block before, their gradients
 * back in the backward; only what outlasts the attention core is exposed.
 * ALLGATHER: all-gather K,V, then attention on the local queries (Llama 3, Dubey et al. 2024,
 * Sec. 3.3.2; Megatron-Core --cp-comm-type all_gather, Transformer Engine's
 * AttnFuncWithCPAndKVAllGather): the gather is exposed in the forward; the backward gathers
 * K,V again and reduce-scatters their gradients, exposed too. */
typedef enum work_cp_comm { WORK_CP_P2P, WORK_CP_ALLGATHER } work_cp_comm;

const char *work_recompute_name(work_recompute r);
int work_recompute_parse(const char *s, work_recompute *out); /* 0 ok, -1 unknown */
const char *work_dtype_name(work_dtype d);
int work_dtype_parse(const char *s, work_dtype *out);
const char *work_cp_comm_name(work_cp_comm c);            /* "p2p", "allgather" */
int work_cp_comm_parse(const char *s, work_cp_comm *out); /* 0 ok, -1 unknown */
const char *work_attn_name(work_attn k);            /* "flash", "unfused", "flash2", "flash3" */
int work_attn_parse(const char *s, work_attn *out); /* 0 ok, -1 unknown */
/* The kernel that runs on card a when k is asked for: FLASH resolves to FLASH3 when the card
 * has FlashAttention-3's published speeds, else FLASH2; the others are themselves. */
work_attn work_attn_kernel(const hw_accel *a, work_attn k);
/* 1 when k can run on card a: FLASH3 needs the card's published FlashAttention-3 speeds
 * (accelerator.flash3_*_tflops); every other kernel runs everywhere. */
int work_attn_available(const hw_accel *a, work_attn k);

typedef struct work_job {
  work_model model;
  int seq, gbs;
  int tp, pp, vpp, dp, cp, ep; /* vpp = virtual stages per device (1 = plain 1F1B; 0 = the
                                  fastest that fits, see work_train_step) */
  int pp_first, pp_last; /* layers on the first / last pipeline stage, the rest spread evenly
                            over the middle stages (Megatron-Core's --decoder-first/last-
                            pipeline-num-layers); 0 = not given. Neither given and layers %
                            (pp * vpp) != 0: a split balancing compute, embedding and output
                            layer is chosen (work_train_step) */
  int mbs;                     /* micro-batch size; 0 = the fastest that fits */
  work_recompute recompute;
  int zero;        /* 0 none, 1 distributed optimizer (ZeRO-1), 2 + gradients, 3 + weights */
  int seq_par;     /* Megatron sequence parallelism with TP (1 unless tp == 1) */
  int overlap_dp;  /* DP gradient/parameter communication overlapped with compute (Megatron-
                      Core --overlap-grad-reduce/--overlap-param-gather; the 2021-22 Megatron
                      of the validation rows reduced after the backward pass) */
  work_dtype dtype;
  work_attn attn;       /* as asked: FLASH is resolved per card (work_attn_kernel) */
  work_cp_comm cp_comm; /* with cp > 1: ring (P2P, default) or all-gather (Llama 3) */
  double moe_imbalance; /* the busiest EP rank's routed tokens over the mean (>= 1; 1 =
                           balanced): it sets the pace of the experts and the all-to-all */
  double capacity_factor; /* expert capacity in mean loads: tokens beyond it are dropped, so
                             the busiest rank takes min(imbalance, capacity); 0 = dropless */
  int moe_overlap; /* the EP all-to-all hidden behind another micro-batch's compute
                      (DeepSeek-V3's DualPipe pairs a forward and a backward chunk): only what
                      outlasts it is exposed, and the compute runs slower beside it */
  int level;       /* collective fidelity level (0 or 1; 2 works but is slow) */
  int dp_contention; /* 1 (default): at level >= 1 every DP, CP and EP collective is timed
                        with every group of the job that runs it at the same moment (the DP
                        groups of every TP rank, CP/EP slice and stage, ...), sharing the
                        fabric (coll_time_groups, ring edges spread over NCCL's channels and
                        queue pairs); 0: one group alone. No effect at level 0 */
  uint32_t first_card; /* the job's cards are [first_card, first_card + cards), packed */
} work_job;

/* Sets defaults: vpp 0 (auto), pp_first/pp_last 0 (even, or balanced when layers do not
 * divide), cp 1, ep 1, dp 1, mbs 0 (auto), recompute AUTO, zero 1, seq_par 1, overlap_dp 1,
 * bf16, flash attention, cp_comm P2P, level 0, dp_contention 1, moe_imbalance 1,
 * capacity_factor 0 (dropless), moe_overlap 0. */
void work_job_init(work_job *j);
uint32_t work_job_cards(const work_job *j); /* tp * pp * dp * cp */
#define WORK_MAX_AUTO_VPP 64 /* the largest VPP tried when it is chosen */

/* One kind of communication of a job's iteration, as the replay lays it on the fabric: the
 * ranks that talk (rank r is the job's r-th card), how, and how long it takes per iteration
 * alone on the placement it was timed on. Groups: for every base rank b with
 * (b / stride) % n == 0, the n ranks b, b + stride, ..., b + (n - 1) * stride. */
typedef enum work_pattern {
  WORK_PAT_RING,     /* rank i sends to i + 1 (mod n): ring all-reduce, all-gather, reduce-scatter */
  WORK_PAT_CHAIN,    /* rank i and i + 1 exchange both ways, no wrap: pipeline send/recv */
  WORK_PAT_EXCHANGE, /* rank i and i + 1 (mod n) exchange both ways: halo exchange along an axis */
  WORK_PAT_ALLTOALL  /* every rank sends to every other rank of its group */
} work_pattern;
typedef struct work_phase {
  char name[8];      /* "tp", "cp", "ep", "pp", "dp", "edp", "halo", "fft", "grad" */
  uint8_t pattern;   /* work_pattern */
  uint32_t stride, n;
  double total_s;    /* communication time per iteration, alone */
  double exposed_s;  /* of which on the critical path; the rest hides behind compute */
} work_phase;
#define WORK_MAX_PHASES 8

typedef struct work_breakdown { /* seconds per step, on the critical path */
  double compute;   /* forward + backward (+ recompute) kernels, incl. memory-bound ops */
  double tp, pp, dp, ep, cp; /* exposed communication */
  double bubble;    /* pipeline fill and drain */
  double overlap;   /* compute slowed by the communication kernels running beside it (the
                       hidden DP, ZeRO, CP and, with moe_overlap, EP communication) */
  double optimizer; /* optimizer step (memory-bound) */
} work_breakdown;

typedef struct work_memory { /* bytes per card on the most loaded pipeline stage */
  double weights, grads, optimizer, activations, other, total;
} work_memory;

typedef struct work_result {
  double step_time_s;      /* one global batch */
  double tokens_per_s;
  double tflops_per_card;  /* hardware FLOP/s (incl. recompute) / 1e12 per card */
  double mfu;              /* model FLOPs (no recompute) / (step time * peak * cards) */
  double hw_flops, model_flops; /* per step, whole job */
  double hbm_bytes;        /* capacity per card */
  int fits;
  work_memory mem;
  work_breakdown b;
  int mbs, vpp, microbatches; /* as resolved */
  int layers_first, layers_mid, layers_last; /* per pipeline stage, as resolved: stage 0, each
                                                of stages 1 .. pp-2, stage pp-1 (pp 1: all
                                                three the model's layers; pp 2: mid 0) */
  work_recompute recompute;
  double moe_load;         /* the busiest EP rank's routed tokens over the mean, as run:
                              min(imbalance, capacity factor) (1 for a dense model) */
  double moe_dropped;      /* share of the busiest rank's routed tokens beyond capacity */
  uint64_t colls_timed;    /* coll_time calls made (cache misses) for this result */
  work_phase phases[WORK_MAX_PHASES]; /* the communication of one step, by kind (replay) */
  int nphases;
} work_result;

/* Layers on pipeline stage d (0 <= d < pp) of a result: layers_first, _mid or _last. */
int work_stage_layers(const work_result *r, int pp, int d);

/* Times collectives of one cluster and caches them by (op, ranks, placement stride, first
 * card, bytes, level): identical layouts in a planner sweep cost one coll_time each. The
 * cluster is borrowed and must outlive the context. Not thread-safe. */
typedef struct work_ctx work_ctx;
work_ctx *work_ctx_new(const hw_cluster *c);
void work_ctx_free(work_ctx *x); /* NULL is a no-op */
const hw_cluster *work_ctx_cluster(const work_ctx *x);

/* Checks a job against its model and the cluster: heads % tp, kv_heads % tp, the pipeline
 * split (every stage holds a layer; pp_first + pp_last within the layers and the rest a
 * multiple of the middle stages; with vpp > 1 every model chunk holds a layer, except that
 * the first stage's first chunk (beside the embedding) and the last stage's last chunk (beside
 * the output layer) may hold none), experts % ep, (dp * cp) % ep, gbs % (mbs * dp), seq %
 * (2 * cp), cards within the cluster. The message names the constraint and the values. */
wk_errcode work_train_check(const work_ctx *x, const work_job *j, wk_err *err);

/* One training step. mbs 0, vpp 0 or recompute AUTO: every choice is tried and the fastest
 * that fits is returned (if none fits, the one needing least memory, with fits = 0). VPP
 * candidates: with equal stages the divisors of layers/pp (Megatron's interleaving needs
 * equal chunks), else ceil(n/k) for n the most layers a stage holds (chunks as even as the
 * layers allow); at most WORK_MAX_AUTO_VPP. Uneven stages (pp_first/pp_last given, or layers %
 * (pp * vpp) != 0): a stage's layers are spread over its chunks as evenly as they go, the
 * spare chunk slot on the first stage beside the embedding and on the last beside the output
 * layer (Llama 3's layout); the automatic split minimises the slowest stage's time per
 * micro-batch, ties going to fewer layers on the first stage (it holds the most micro-batches
 * in flight). Cost: a few dozen coll_time calls on a cold cache, O(1) on a warm one; O(pp
 * vpp) arithmetic per choice, O(layers / pp * log layers) more for an automatic split. */
wk_errcode work_train_step(work_ctx *x, const work_job *j, work_result *out, wk_err *err);

/* Writes why a job does not fit: what it needs per card, part by part, and by how much HBM
 * falls short ("does not fit: needs ..."). What would help is the caller's to say: only it
 * knows which settings its user can change (cmd_train tries them). */
const char *work_fit_advice(const work_job *j, const work_result *r, char *buf, size_t n);

/* Writes a Chrome trace-event JSON of the step: a simulation of the pipeline schedule (1F1B,
 * or Megatron's interleaved 1F1B when r->vpp > 1) with one track (tid) per pipeline stage
 * holding each chunk's forward and backward of each micro-batch and the blocking p2p
 * receives, then the exposed DP gradient reduction and the optimizer step. Times in
 * microseconds; its last event ends within ~2 % of r->step_time_s. Bounded at about 24,000
 * events (~3 MB): beyond that, receives are folded into the ops they feed, then consecutive
 * ops merged (args say how many). mbs, recompute and vpp are taken from r. Cost O(pp * vpp *
 * micro-batches) time and memory. Returns 0, or -1 on a write error. */
int work_train_timeline(work_ctx *x, const work_job *j, const work_result *r, FILE *f);

/* ---- planner ---------------------------------------------------------------------------- */
typedef struct work_plan_opts {
  uint32_t cards;
  int seq, gbs;
  work_dtype dtype;
  work_attn attn;
  int level;
  int top; /* how many to keep */
  /* told the share of the layouts' (TP, CP, PP) groups done, for a progress bar; NULL: none */
  void (*progress)(void *ctx, double frac);
  void *progress_ctx;
} work_plan_opts;

typedef struct work_plan_entry {
  work_job job; /* resolved: mbs, recompute, vpp (and an uneven split) set */
  work_result res;
} work_plan_entry;

typedef struct work_plan_stats {
  uint64_t enumerated; /* layouts generated (valid divisibility) */
  uint64_t evaluated;  /* layouts timed */
  uint64_t fitting;    /* that fit in memory */
  int have_unfit;      /* unfit is set: some layout faster than the best does not fit */
  work_plan_entry unfit; /* of those, the one needing least memory (it lost on memory) */
} work_plan_stats;

/* Enumerates TP, PP (uneven stages too), DP, CP, EP, micro-batch, recompute and ZeRO over the
 * cards, VPP chosen for each as work_train_step does, drops those that do not fit, and writes
 * the opts->top fastest to out[] (ascending step time; each job as resolved: vpp, and pp_first
 * / pp_last when the stages are unequal).
 * OUT *nout, *stats. Error if nothing fits (the message says what was closest). */
wk_errcode work_plan(work_ctx *x, const work_model *m, const work_plan_opts *o,
                     work_plan_entry *out, int *nout, work_plan_stats *stats, wk_err *err);

/* One line on why `other` lost to `best` (both from work_plan): the time it gives away and
 * the parts of the step that make it up, largest first (exposed TP/PP/DP/EP/CP, bubble,
 * compute, overlap slowdown, optimizer), with the layout difference behind the largest (VPP,
 * micro-batch, ZeRO, recompute, ...); or, for a layout that does not fit, the time it would
 * save and the memory it lacks. Returns buf. */
const char *work_plan_explain(const work_plan_entry *best, const work_plan_entry *other,
                              char *buf, size_t n);

/* ---- AI-for-science jobs ------------------------------------------------------------------ */
typedef struct work_sci_result {
  double step_time_s;
  double compute_s, comm_s, exposed_comm_s;
  double flops_per_card;   /* per step */
  double tflops_per_card;  /* achieved */
  double memory_bytes_per_card;
  int fits;
  int decomp[3];           /* cards per dimension (stencil, fft) */
  double items_per_s;      /* cells/s (stencil), transforms/s (fft), samples/s (dp) */
  work_phase phases[WORK_MAX_PHASES]; /* the communication of one step (replay) */
  int nphases;
} work_sci_result;

/* 3-D stencil on an nx*ny*nz grid over `cards` cards (decomposed into the most cubic
 * px*py*pz), halo of `halo` cells, exchanged with 6 neighbours by send/recv; compute by
 * roofline (FLOPs at the FP64 vector rate, taken as 1/32 of the dense BF16 peak; bytes at HBM
 * bandwidth). overlap: interior compute
 * hides the halo exchange. */
typedef struct work_stencil {
  int64_t nx, ny, nz;
  uint32_t cards;
  int halo;
  double bytes_per_cell, flops_per_cell;
  int overlap, level;
} work_stencil;
wk_errcode work_sim_stencil(work_ctx *x, const work_stencil *s, work_sci_result *out,
                            wk_err *err);

/* Distributed complex-to-complex 3-D FFT of n^3 points (16 bytes each, double complex):
 * slab (1-D, cards <= n, one all-to-all) or pencil (2-D, pr * pc, two all-to-alls). */
typedef struct work_fft {
  int64_t n;
  uint32_t cards;
  int pencil;
  int level;
} work_fft;
wk_errcode work_sim_fft(work_ctx *x, const work_fft *f, work_sci_result *out, wk_err *err);

/* A data-parallel science model (e.g. a weather or protein model): params, forward FLOPs per
 * sample, samples per card per step; gradients all-reduced, overlapped with backward. */
typedef struct work_dataparallel {
  double params, flops_per_sample;
  int64_t batch_per_card;
  uint32_t cards;
  double efficiency; /* fraction of bf16 peak the model's kernels reach */
  int level;
} work_dataparallel;
wk_errcode work_sim_dataparallel(work_ctx *x, const work_dataparallel *d, work_sci_result *out,
                                 wk_err *err);

/* ---- validation against published runs ----------------------------------------------------- */
typedef struct work_valid_row {
  char section;  /* 'A' (TFLOP/s per GPU) or 'B' (seconds per iteration) */
  char label[64];
  int heads, hidden, layers, tp, pp, gpus, gbs, vpp;
  int recompute_full; /* B: 1 = full recompute column, 0 = SP + selective column */
  double published;   /* TFLOP/s per GPU (A) or s/iteration (B) */
} work_valid_row;

/* Parses section A and B tables of training.md into rows (B rows yield two each: full and
 * selective). Returns the number of rows (<= max), or -1 with err set if none were found. */
int work_valid_parse(const char *text, work_valid_row *rows, int max, wk_err *err);
/* Runs one row on the Selene model (dgx-a100 with enough nodes): section A as Megatron ran it
 * (full recompute, no SP, the fastest micro-batch and interleave that fit), B as given.
 * OUT *predicted in the row's unit. */
wk_errcode work_valid_run(const work_valid_row *row, double *predicted, work_result *res,
                          wk_err *err);
/* The same at a collective fidelity level (work_valid_run is level 0): at 1 and 2 with every DP
 * group's collectives timed together on the fabric, as work_job_init sets. */
wk_errcode work_valid_run_at(const work_valid_row *row, int level, double *predicted,
                             work_result *res, wk_err *err);

#endif
