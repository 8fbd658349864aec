/* solve.c — max-min fair rates by progressive filling, re-solved incrementally.
 * Filling: a heap of links by fair share; pop the lowest, freeze its unfrozen flows at that
 * share, lower the counts of their other links, repeat. A link's share is a pure function of
 * which of its flows are frozen and at what rates: max(rem / unfrozen, highest frozen rate) with
 * rem = capacity - sum of frozen rates in exact fixed point. So the result does not depend on
 * the order of freezing, and re-solving a part from the state "every flow below level t frozen"
 * yields bit for bit what a full solve yields; t is the lowest level the batch can disturb.
 * That state comes from per-link sums of solved rates, and the flows above t from walks of the
 * per-link rate heaps, so a re-solve costs what it re-solves, not the degree of its links. */
#include <math.h>

#include "net/net_int.h"

#define fx net_fx
#define share net_share

void net_seed_links(net_sim *s, uint32_t f) {
  const net_hop *hp = s->hop + s->f_hop[f];
  for (uint32_t k = 0; k < s->f_nh[f]; k++) {
    uint32_t l = hp[k].link;
    if (s->lk[l].mark == s->epoch) continue;
    s->lk[l].mark = s->epoch;
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
  const net_lfe *a = s->lk[l].fl;
  if (s->lk[l].n > NET_LF_SMALL && !isinf(a[0].rate))
    return INFINITY; /* heap-ordered and no new flow on top: none new */
  for (uint32_t i = 0; i < s->lk[l].n; i++) {
    double r = a[i].rate;
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

/* Runs body with f bound to every flow on link l of rate >= thr: a pruned walk of l's 4-ary
 * max-heap, O(1 + number found). The stack holds at most 3 entries per level plus 4. */
#define WALK_ABOVE(s, l, thr, body)                                                            \
  do {                                                                                         \
    const net_lfe *wa_ = (s)->lk[l].fl;                                                        \
    uint32_t wn_ = (s)->lk[l].n, wstk_[64], wsp_ = 0;                                           \
    if (wn_ <= NET_LF_SMALL) {                                                                 \
      for (uint32_t wi_ = 0; wi_ < wn_; wi_++) {                                               \
        if (!(wa_[wi_].rate >= (thr))) continue;                                               \
        uint32_t f = wa_[wi_].flow;                                                            \
        body;                                                                                  \
      }                                                                                        \
      break;                                                                                   \
    }                                                                                          \
    wstk_[wsp_++] = 0;                                                                         \
    while (wsp_) {                                                                             \
      uint32_t wi_ = wstk_[--wsp_];                                                            \
      if (!(wa_[wi_].rate >= (thr))) continue;                                                 \
      uint32_t f = wa_[wi_].flow;                                                              \
      body;                                                                                    \
      for (uint32_t wc_ = 4 * wi_ + 1, we_ = wc_ + 4; wc_ < we_ && wc_ < wn_; wc_++)           \
        wstk_[wsp_++] = wc_;                                                                   \
    }                                                                                          \
  } while (0)

/* Writes the new rates of the nu re-solved flows (scratch[f]) into the flow table, the per-link
 * heaps and the event heap. When a solve moves many flows at once (a start of an all-to-all, the
 * end of a wave), sifting each move costs O(log n) per hop and per event; a heap rebuilt whole
 * costs O(its size). So a link heap with more than 1/8 of its flows moved, and the event heap
 * with more than 1/16 of its events moved, take the moves unordered and are rebuilt once. The
 * flows are applied in ulist order either way, so sequence numbers (and event order) agree. */
static void apply_rates(net_sim *s, uint32_t nu) {
  uint32_t nchg = 0;
  for (uint32_t i = 0; i < nu; i++) {
    uint32_t f = s->ulist[i];
    if (s->scratch[f] != s->f_rate[f]) s->ulist[nchg++] = f; /* the rest keep their events */
  }
  uint32_t nbulk = 0;
  if (nchg >= 8) {
    for (uint32_t i = 0; i < nchg; i++) {
      uint32_t f = s->ulist[i];
      const net_hop *hp = s->hop + s->f_hop[f];
      for (uint32_t k = 0; k < s->f_nh[f]; k++) s->lk[hp[k].link].chg++;
    }
    for (uint32_t i = 0; i < s->nlq; i++) { /* every link of a re-solved flow is in lq */
      net_link *lk = &s->lk[s->lq[i]];
      lk->chg = lk->n > NET_LF_SMALL && (uint64_t)lk->chg * 8 > lk->n;
      nbulk += lk->chg;
    }
    s->ev_lazy = (uint64_t)nchg * 16 > s->nev;
  }
  for (uint32_t i = 0; i < nchg; i++) net_flow_set_rate(s, s->ulist[i], s->scratch[s->ulist[i]]);
  if (s->ev_lazy) net_ev_heapify(s);
  for (uint32_t i = 0; nbulk && i < s->nlq; i++) {
    uint32_t l = s->lq[i];
    if (s->lk[l].chg) {
      s->lk[l].chg = 0;
      net_lf_heapify(s, l);
      nbulk--;
    }
  }
}

/* Re-solve: the flows of rate >= thr reachable from the seeded links through links (every other
 * flow keeps its rate and counts as frozen), filled from the state "all below thr frozen".
 * Rates are written to scratch[f] during the filling and applied at the end, so the per-link
 * heaps keep the old rates the walks rely on. Cost O((F_r * h) log L_r) plus O(log d) per hop
 * of each flow whose rate changed; no step scans a whole link. */
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
    uint32_t l = s->lq[i];
    WALK_ABOVE(s, l, thr, {
      if (s->f_mark[f] != ep) {
        s->f_mark[f] = ep;
        s->ulist[nu++] = f;
        net_seed_links(s, f);
      }
    });
  }

  /* Starting state: flows below thr frozen at their rates (from the maintained per-link sums),
   * the rest unfrozen. The highest frozen rate starts at 0: every frozen rate is below thr and
   * no share can fall below thr (thr is where the changes begin), so it can never bind. */
  for (uint32_t i = 0; i < s->nlq; i++) {
    uint32_t l = s->lq[i];
    s->lk[l].rem = fx(s->cap[l]) - s->lk[l].sum;
    s->lk[l].cnt = 0;
    s->lk[l].mf = 0.0;
  }
  for (uint32_t i = 0; i < nu; i++) {
    uint32_t f = s->ulist[i];
    double r = s->f_rate[f];
    int64_t rfx = isinf(r) ? 0 : fx(r);
    const net_hop *hp = s->hop + s->f_hop[f];
    for (uint32_t k = 0; k < s->f_nh[f]; k++) {
      s->lk[hp[k].link].rem += rfx;
      s->lk[hp[k].link].cnt++;
    }
  }
  for (uint32_t i = 0; i < s->nlq; i++) {
    uint32_t l = s->lq[i];
    if (s->lk[l].cnt) net_lh_push(s, l, net_link_share(s, l));
  }

  double k;
  uint32_t l;
  while ((l = net_lh_pop(s, &k)) != NET_NIL) {
    int64_t kfx = fx(k);
    WALK_ABOVE(s, l, thr, {
      if (s->f_mark[f] == ep) {
        s->f_mark[f] = ep + 1;
        s->scratch[f] = k;
        const net_hop *hp = s->hop + s->f_hop[f];
        for (uint32_t j = 0; j < s->f_nh[f]; j++) {
          uint32_t l2 = hp[j].link;
          if (l2 == l) continue;
          s->lk[l2].rem -= kfx;
          if (k > s->lk[l2].mf) s->lk[l2].mf = k;
          if (--s->lk[l2].cnt == 0)
            net_lh_remove(s, l2);
          else
            net_lh_update(s, l2, net_link_share(s, l2));
        }
      }
    });
  }
  apply_rates(s, nu);
  s->st.flows_resolved += nu;
  s->st.links_resolved += s->nlq;
}
