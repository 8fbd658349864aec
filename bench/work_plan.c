/* work_plan.c — times the layout planner over every layout of GPT-3 175B on 12,288 cards
 * (dgx-a100:nodes=1536), L0 collectives, cold cache; prints how many layouts were enumerated,
 * evaluated and fit, and the best. Target: < 5 s. */
#include "bench.h"
#include "work/work.h"

#include <time.h>

int main(void) {
  wk_err err;
  hw_cluster *c = hw_load("dgx-a100:nodes=1536", &err);
  if (!c) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  work_ctx *x = work_ctx_new(c);
  work_plan_opts o = {12288, 2048, 1536, WORK_BF16, WORK_ATTN_FLASH, 0, 3, NULL, NULL};
  work_plan_entry best[3];
  int n;
  work_plan_stats st;
  double t0 = bench_now();
  if (work_plan(x, work_model_find("gpt3-175b"), &o, best, &n, &st, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  double dt = bench_now() - t0;
  printf("work_plan: gpt3-175b on 12288 cards (dgx-a100:nodes=1536), seq 2048, gbs 1536, L0\n");
  printf("  %llu layouts enumerated, %llu evaluated, %llu fit, in %.3f s (%.1f us per layout)"
         "   target < 5 s\n",
         (unsigned long long)st.enumerated, (unsigned long long)st.evaluated,
         (unsigned long long)st.fitting, dt, 1e6 * dt / (double)(st.evaluated ? st.evaluated : 1));
  for (int i = 0; i < n; i++)
    printf("  #%d TP %d PP %d VPP %d DP %d CP %d mbs %d recompute %s ZeRO %d: %.3f s/step, "
           "MFU %.1f %%\n",
           i + 1, best[i].job.tp, best[i].job.pp, best[i].job.vpp, best[i].job.dp, best[i].job.cp,
           best[i].job.mbs, work_recompute_name(best[i].job.recompute), best[i].job.zero,
           best[i].res.step_time_s, 100 * best[i].res.mfu);
  work_ctx_free(x);
  hw_free(c);
  return 0;
}
