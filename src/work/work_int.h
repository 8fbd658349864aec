/* work_int.h — private to src/work: the collective cache shared by the training step, the
 * planner and the science jobs, and the model constants every time estimate uses (one set,
 * documented where they are defined in train.c). */
#ifndef WK_WORK_INT_H
#define WK_WORK_INT_H

#include "work.h"

/* Deepest pipeline a training step is modelled with (train.c refuses more; the planner does
 * not enumerate more). */
#define WORK_MAX_PP 1024

/* Times `op` over n ranks on the cards first, first + stride, ..., first + (n-1)*stride (every
 * group a packed layout makes is such a progression) at `level`; n < 2 or bytes <= 0 costs 0.
 * Cached per context by (op, level, n, first, stride, bytes): a hit is O(1), a miss is one
 * coll_time call (O(n) to build the card list). OUT *time_s. */
wk_errcode work_coll(work_ctx *x, coll_op op, int level, uint32_t first, uint32_t stride,
                     uint32_t n, double bytes, double *time_s, wk_err *err);
/* The same, run at once on every group of the same shape in the block the layout tiles: the
 * group shifted by o + s * stage_stride for o < stride, s < nstages (the DP groups of every TP
 * rank, o, and every pipeline stage, s: stage_stride = t cp dp), timed by coll_time_groups so
 * that the groups share the fabric's upper tiers; the slowest group's time. At level 0 (no
 * contention) it is work_coll. Cached like work_coll, keyed also by nstages and stage_stride;
 * a miss is one coll_time_groups call (L1 of every group's flows together). */
wk_errcode work_coll_groups(work_ctx *x, coll_op op, int level, uint32_t first, uint32_t stride,
                            uint32_t n, uint32_t nstages, uint32_t stage_stride, double bytes,
                            double *time_s, wk_err *err);
uint64_t work_coll_misses(const work_ctx *x);

/* Compute-time primitives (train.c), also used by the science jobs. */
double work_gemm_time(const hw_accel *a, double peak, double m, double n, double k);
/* An FP8 GEMM with DeepSeek-V3's fine-grained scaling (1 x 128 activation tiles, 128 x 128
 * weight blocks, FP32 promotion every 128 of k) at the fp8 peak: its own efficiency curve
 * (train.c, FP8_GEMM_*), 1-byte operands and a 2-byte output. */
double work_gemm_time_fp8(const hw_accel *a, double m, double n, double k);
double work_mem_time(const hw_accel *a, double bytes);
/* WK_EVALUE, naming the card, when kernel k cannot run on card a (work_attn_available) or is
 * no kernel at all. */
wk_errcode work_attn_check(const hw_accel *a, work_attn k, wk_err *err);
/* The attention core by a flash kernel k (FLASH resolved for the card) doing `flops` in the
 * forward (the papers' count: causal half skipped) at s tokens: OUT *fwd, and *bwd for the
 * backward's 2.5x the FLOPs, each at the kernel's speed on the card (train.c, FLASH_*). k must
 * be available on the card (work_attn_available). */
void work_flash_time(const hw_accel *a, work_attn k, double flops, double s, double *fwd,
                     double *bwd);

/* Appends a phase to ph[0, *np) (at most WORK_MAX_PHASES): nothing when the group has fewer
 * than 2 ranks or the phase costs no time. exposed is clamped to [0, total]. */
void work_phase_add(work_phase *ph, int *np, const char *name, work_pattern pattern,
                    uint32_t stride, uint32_t n, double total_s, double exposed_s);

#endif
