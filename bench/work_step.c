/* work_step.c — times one training step of a 1-trillion-parameter model (Megatron 1T: 128
 * layers, hidden 25600) on all 61,440 cards of zhengzhou-60k with L1 (flow-level)
 * collectives: cold (every collective solved) and warm (cache hits). Target: < 100 ms cold. */
#include "bench.h"
#include "work/work.h"

#include <time.h>

int main(void) {
  wk_err err;
  double t0 = bench_now();
  hw_cluster *c = hw_load("zhengzhou-60k", &err);
  if (!c) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  double t_build = bench_now() - t0;
  work_job j;
  work_job_init(&j);
  j.model = *work_model_find("megatron-1t");
  j.seq = 2048;
  j.tp = 8;
  j.pp = 32;
  j.vpp = 4;
  j.dp = 240; /* 8 x 32 x 240 = 61,440 */
  j.gbs = 240 * 64; /* 15,360 sequences = 31 M tokens: 64 micro-batches per pipeline */
  j.mbs = 1;
  j.recompute = WORK_RECOMPUTE_SELECTIVE;
  j.level = 1;
  work_ctx *x = work_ctx_new(c);
  work_result r;
  t0 = bench_now();
  if (work_train_step(x, &j, &r, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  double cold = bench_now() - t0;
  unsigned long long cold_calls = (unsigned long long)r.colls_timed;
  int reps = 1000;
  t0 = bench_now();
  for (int i = 0; i < reps; i++) work_train_step(x, &j, &r, &err);
  double warm = (bench_now() - t0) / reps;
  printf("work_step: megatron-1t (%.2f T params) on %u cards of zhengzhou-60k, TP8 PP32 VPP4 "
         "DP240, L1\n", work_model_params(&j.model) / 1e12, work_job_cards(&j));
  printf("  cluster build %.1f ms\n", 1e3 * t_build);
  printf("  one step, cold cache: %.2f ms (%llu coll_time calls)   target < 100 ms\n", 1e3 * cold,
         cold_calls);
  printf("  one step, warm cache: %.1f us\n", 1e6 * warm);
  printf("  predicted: %.2f s/step, %.0f TFLOP/s per card, MFU %.1f %%, %.1f GB per card (%s)\n",
         r.step_time_s, r.tflops_per_card, 100 * r.mfu, r.mem.total / 1e9,
         r.fits ? "fits" : "does not fit");
  work_ctx_free(x);
  hw_free(c);
  return 0;
}
