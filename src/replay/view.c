/* view.c — what the reports need from a finished replay that replay.h's tables do not give
 * directly, derived from them alone, so the replay loop (replay.c) stays as it is. */
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

/* Merge sort of idx[0, n) by (submit, index), the replay's own order of ids (a stable sort of
 * input order by submit time). O(n log n), tmp of n entries. */
static void sort_by_submit(uint32_t *idx, uint32_t *tmp, size_t n, const replay_job *j) {
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) tmp[k++] = j[idx[b]].submit_s < j[idx[a]].submit_s ? idx[b++] : idx[a++];
      while (a < mid) tmp[k++] = idx[a++];
      while (b < hi) tmp[k++] = idx[b++];
    }
    for (size_t i = 0; i < n; i++) idx[i] = tmp[i];
  }
}

size_t replay_run_ids(const replay *r, uint32_t *run_job) {
  size_t n;
  const replay_job *j = replay_jobs(r, &n);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (j[i].fate != REPLAY_DROPPED) run_job[m++] = (uint32_t)i;
  uint32_t *tmp = wk_malloc(sizeof(uint32_t) * (m ? m : 1));
  sort_by_submit(run_job, tmp, m, j);
  wk_free(tmp);
  return m;
}

void replay_energy_of(const replay *r, const hw_cluster *c, replay_energy *out) {
  const hw_config *cfg = hw_cfg(c);
  const replay_metrics *m = replay_get_metrics(r);
  memset(out, 0, sizeof *out);
  if (!(cfg->card_busy_w > 0)) return;
  out->known = 1;
  double span = m->makespan_s, cards = (double)hw_cards(c);
  double idle_card_s = cards * span - m->busy_card_s;
  out->cards_j = cfg->card_busy_w * m->busy_card_s + cfg->card_idle_w * (idle_card_s > 0 ? idle_card_s : 0);
  if (cfg->switch_busy_w > 0) {
    hw_summary hs;
    hw_summarize(c, &hs);
    for (int t = 0; t < hs.switch_tiers; t++) {
      double load = m->utilization;
      if (t < m->fabric_tiers) {
        double links = m->fabric_util_by_tier[t];
        load = t == 0 ? (links > load ? links : load) : links;
      }
      if (load > 1) load = 1;
      double w = cfg->switch_idle_w + (cfg->switch_busy_w - cfg->switch_idle_w) * load;
      out->switches_j += (double)hs.switches_per_tier[t] * w * span;
    }
  }
  out->pue = cfg->pue > 0 ? cfg->pue : 1.0;
  out->facility_j = (out->cards_j + out->switches_j) * out->pue;
  if (m->useful_card_s > 0) out->kwh_per_useful_card_hour = out->facility_j / 3.6e6 / (m->useful_card_s / 3600);
}
