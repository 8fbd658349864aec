/* solve.c — max-min fair rates by progressive filling, re-solved incrementally.
 * Filling: a heap of links by fair share; pop the lowest, freeze its unfrozen flows at that
 * share, lower the counts of their other links, repeat. A link's share is a pure function of
 * which of its flows are frozen and at what rates: max(rem / unfrozen, highest frozen rate) with
 * rem = capacity - sum of frozen rates in exact fixed point. So the result does not depend on
 * the order of freezing, and re-solving a part from the state "every flow below level t frozen"
 * yields bit for bit what a full solve yields; t is the lowest level the batch can disturb. */
#include <math.h>

#include "net/net_int.h"

static inline int64_t fx(double bytes_per_s) { return (int64_t)(bytes_per_s * NET_FX); }

/* The canonical fair share of a link (see the file comment). */
static inline double share(int64_t rem, uint32_t unfrozen, double highest_frozen) {
  double raw = rem > 0 ? (double)rem * (1.0 / NET_FX) / (double)unfrozen : 0.0;
  return raw > highest_frozen ? raw : highest_frozen;
}

void net_seed_links(net_sim *s, uint32_t f) {
  const net_hop *hp = s->hop + s->f_hop[f];
  for (uint32_t k = 0; k < s->f_nh[f]; k++) {
    uint32_t l = hp[k].link;
    if (s->l_mark[l] == s->epoch) continue;
    s->l_mark[l] = s->epoch;
    s->lq[s->nlq++] = l;
  }
}

/* In-place sort of doubles: insertion for short runs, heapsort above (no allocation, unlike
 * glibc's qsort). O(n log n). */
static void sort_doubles(double *a, uint32_t n) {
  if (n <= 24) {
    for (uint32_t i = 1; i < n; i++) {
      double v = a[i];
      uint32_t j = i;
      for (; j > 0 && a[j - 1] > v; j--) a[j] = a[j - 1];
      a[j] = v;
    }
    return;
  }
  for (uint32_t i = n / 2; i-- > 0;) { /* heapify, then pop the max to the end */
    for (uint32_t r = i;;) {
      uint32_t c = 2 * r + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1] > a[c]) c++;
      if (a[c] <= a[r]) break;
      double t = a[c]; a[c] = a[r]; a[r] = t;
      r = c;
    }
  }
  for (uint32_t end = n - 1; end > 0; end--) {
    double t = a[0]; a[0] = a[end]; a[end] = t;
    for (uint32_t r = 0;;) {
      uint32_t c = 2 * r + 1;
      if (c >= end) break;
      if (c + 1 < end && a[c + 1] > a[c]) c++;
      if (a[c] <= a[r]) break;
      double u = a[c]; a[c] = a[r]; a[r] = u;
      r = c;
    }
  }
}

/* Lowest level at which link l, now carrying new flows, could change the old solution. Replays
 * the old freezing of l's other flows (ascending rates r1 <= r2 ...) with the new flows counted
 * as unfrozen: while l's share stays above the next old freeze level, the old run's order is
 * untouched. O(d log d) for d flows on l. Returns INFINITY if l has no new flow. */
static double arrival_bound(net_sim *s, uint32_t l) {
  uint32_t nnew = 0, n = 0;
  for (uint32_t h = s->l_head[l]; h != NET_NIL; h = s->hop[h].next) {
    double r = s->f_rate[s->hop[h].flow];
    if (isinf(r))
      nnew++;
    else
      s->scratch[n++] = r;
  }
  if (!nnew) return INFINITY;
  sort_doubles(s->scratch, n);
  int64_t rem = fx(s->cap[l]);
  uint32_t unfrozen = nnew + n;
  double mf = 0.0;
  for (uint32_t j = 0;; j++) {
    double k = share(rem, unfrozen, mf);
    if (j == n || k <= s->scratch[j]) return k;
    rem -= fx(s->scratch[j]);
    unfrozen--;
    mf = s->scratch[j];
  }
}

void net_solve_batch(net_sim *s) {
  const uint32_t ep = s->epoch, nseed = s->nlq;
  double thr = s->thr;
  if (s->mode == NET_MODE_FULL) {
    thr = -1.0;
    for (uint32_t f = 0; f < s->fhigh; f++)
      if (s->f_state[f] == FS_ACTIVE) net_seed_links(s, f);
  } else {
    for (uint32_t i = 0; i < nseed; i++) {
      double b = arrival_bound(s, s->lq[i]);
      if (b < thr) thr = b;
    }
  }

  /* The part to re-solve: flows at or above thr reachable from the seeds through links. */
  uint32_t nu = 0;
  for (uint32_t i = 0; i < s->nlq; i++) {
    for (uint32_t h = s->l_head[s->lq[i]]; h != NET_NIL; h = s->hop[h].next) {
      uint32_t f = s->hop[h].flow;
      if (s->f_mark[f] == ep || !(s->f_rate[f] >= thr)) continue;
      s->f_mark[f] = ep;
      s->ulist[nu++] = f;
      net_seed_links(s, f);
    }
  }

  /* Starting state: flows below thr frozen at their rates, the rest unfrozen. */
  for (uint32_t i = 0; i < s->nlq; i++) {
    uint32_t l = s->lq[i], cnt = 0;
    int64_t rem = fx(s->cap[l]);
    double mf = 0.0;
    for (uint32_t h = s->l_head[l]; h != NET_NIL; h = s->hop[h].next) {
      uint32_t f = s->hop[h].flow;
      if (s->f_mark[f] == ep) {
        cnt++;
      } else {
        rem -= fx(s->f_rate[f]);
        if (s->f_rate[f] > mf) mf = s->f_rate[f];
      }
    }
    s->l_rem[l] = rem;
    s->l_cnt[l] = cnt;
    s->l_mf[l] = mf;
    if (cnt) net_lh_push(s, l, share(rem, cnt, mf));
  }

  double k;
  uint32_t l;
  while ((l = net_lh_pop(s, &k)) != NET_NIL) {
    int64_t kfx = fx(k);
    for (uint32_t h = s->l_head[l]; h != NET_NIL; h = s->hop[h].next) {
      uint32_t f = s->hop[h].flow;
      if (s->f_mark[f] != ep) continue;
      s->f_mark[f] = ep + 1;
      net_flow_set_rate(s, f, k);
      const net_hop *hp = s->hop + s->f_hop[f];
      for (uint32_t j = 0; j < s->f_nh[f]; j++) {
        uint32_t l2 = hp[j].link;
        if (l2 == l) continue;
        s->l_rem[l2] -= kfx;
        if (k > s->l_mf[l2]) s->l_mf[l2] = k;
        if (--s->l_cnt[l2] == 0)
          net_lh_remove(s, l2);
        else
          net_lh_update(s, l2, share(s->l_rem[l2], s->l_cnt[l2], s->l_mf[l2]));
      }
    }
  }
  s->st.flows_resolved += nu;
  s->st.links_resolved += s->nlq;
}
