/* solve.c — max-min fair rates by progressive filling, re-solved by bottleneck propagation.
 * Filling: a heap of links by fair share; pop the lowest, freeze its unfrozen flows at that
 * share, lower the counts of their other links, repeat. A link's share is max(rem / unfrozen,
 * highest frozen rate), rem = capacity - frozen rates in exact fixed point.
 *
 * A batch of starts and finishes re-solves a set U of flows with every other flow held at its
 * rate, then checks the one condition that makes an allocation max-min fair: every flow has a
 * bottleneck, a saturated link on which no flow is faster. A held flow loses its bottleneck only
 * where U changed: a link it was the fastest on, saturated before the batch, on which a flow of
 * U left or changed rate (it may now rise or must yield), or a link that froze flows of U at a
 * level below it (it must come down). Such flows join U and U is solved again, until no held
 * flow is disturbed. Changes in a fabric usually die out within a few hops (cascades of up to
 * ~16 rounds were seen with 100,000 flows on a loaded fat tree), so a batch costs what it
 * changes, not the size of the connected part of the flow/link graph it touches.
 *
 * Rates equal to within a tolerance count as unchanged and keep their old value: the fair
 * shares a re-solve recomputes differ in the last bits with the order of freezing, and by up to
 * one fixed-point unit per flow of a link (the truncation left over when a link's capacity was
 * split), and that noise must not spread through the fabric. Results are max-min fair to that
 * tolerance and deterministic; a FULL re-solve of every flow at every batch is the reference
 * (tests). */
#include <math.h>

#include "net/net_int.h"

#define fx net_fx
#define NET_TOL 1e-9

/* Whether what is left of link l (rem, fixed point) is nothing, to within rounding: NET_TOL of
 * its capacity, plus the units its n flows' truncated rates can leave. Generous on purpose: a
 * saturated link only costs a look at its fastest flows. */
static inline int saturated(const net_sim *s, uint32_t l, int64_t rem) {
  return rem <= (int64_t)s->lk[l].tol + 2 * (int64_t)s->lk[l].n;
}

float net_link_tol(double cap) { return (float)((double)fx(cap) * 8 * NET_TOL + 64); }

void net_seed_links(net_sim *s, uint32_t f, uint32_t flags) {
  const net_hop *hp = s->hop + s->f_hop[f];
  for (uint32_t k = 0; k < s->f_nh[f]; k++) {
    net_link *lk = &s->lk[hp[k].link];
    if (lk->mark == s->epoch) {
      lk->fl_ = (lk->fl_ | flags) & 15u;
      continue;
    }
    lk->mark = s->epoch & ((1u << 28) - 1);
    lk->ucnt = 0; /* no solve yet: disturbed() looks at it */
    s->lq[s->nlq++] = hp[k].link;
    /* saturated as of before the batch: sums only move in drain, after this, and in apply */
    lk->fl_ = (flags | (saturated(s, hp[k].link, lk->head) ? NET_LSAT : 0u)) & 15u;
  }
}

/* How far apart two rates near r may be on link l and still count as equal: NET_TOL relative,
 * plus the fixed-point units a link of n flows can leave over. */
static inline double slack(const net_sim *s, uint32_t l, double r) {
  return r * 4 * NET_TOL + (double)(s->lk[l].n + 2) * (1.0 / NET_FX);
}

/* Whether flow f of U moved from its old rate to scratch[f] by more than noise: O(hops). */
static int rate_moved(const net_sim *s, uint32_t f) {
  double old = s->f_rate[f], d = fabs(s->scratch[f] - old);
  if (isinf(old) || d > 0.25 * old) return 1;
  if (d <= NET_TOL * old) return 0;
  const net_hop *hp = s->hop + s->f_hop[f];
  for (uint32_t k = 0; k < s->f_nh[f]; k++)
    if (d > slack(s, hp[k].link, old)) return 1;
  return 0;
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

/* The fastest finite rate on link l: the heap top, or below the new flows (INFINITY) on top.
 * O(1 + new flows on l). Returns -1 if l has no solved flow. */
static double top_finite(const net_sim *s, uint32_t l) {
  const net_lfe *a = s->lk[l].fl;
  uint32_t n = s->lk[l].n;
  double m = -1.0;
  if (n <= NET_LF_SMALL) {
    for (uint32_t i = 0; i < n; i++)
      if (!isinf(a[i].rate) && a[i].rate > m) m = a[i].rate;
    return m;
  }
  uint32_t stk[64], sp = 0;
  stk[sp++] = 0;
  while (sp) {
    uint32_t i = stk[--sp];
    if (!isinf(a[i].rate)) {
      if (a[i].rate > m) m = a[i].rate;
      continue;
    }
    for (uint32_t c = 4 * i + 1, e = c + 4; c < e && c < n; c++) stk[sp++] = c;
  }
  return m;
}

static void join(net_sim *s, uint32_t f) {
  s->f_mark[f] = s->epoch;
  s->ulist[s->nu++] = f;
  net_seed_links(s, f, 0);
}

static inline int held(const net_sim *s, uint32_t f) { return s->f_mark[f] - s->epoch > 1; }

/* Whether a held flow on link l has a rate above t: a pruned walk of l's heap, O(1 + flows of U
 * above t on l). */
static int held_above(const net_sim *s, uint32_t l, double t) {
  const net_lfe *a = s->lk[l].fl;
  uint32_t n = s->lk[l].n, stk[64], sp = 0;
  if (n <= NET_LF_SMALL) {
    for (uint32_t i = 0; i < n; i++)
      if (a[i].rate > t && held(s, a[i].flow)) return 1;
    return 0;
  }
  stk[sp++] = 0;
  while (sp) {
    uint32_t i = stk[--sp];
    if (!(a[i].rate > t)) continue;
    if (held(s, a[i].flow)) return 1;
    for (uint32_t c = 4 * i + 1, e = c + 4; c < e && c < n; c++) stk[sp++] = c;
  }
  return 0;
}

/* After a solve: link l is saturated (it froze flows, or what is left of it is within rounding
 * of nothing) and carries nothing faster than rate r (flows of U at their new rates, held flows
 * at theirs): a bottleneck for a flow of rate r. */
static int bottleneck_for(const net_sim *s, uint32_t l, double r) {
  const net_link *lk = &s->lk[l];
  int sat = (lk->fl_ & NET_LFROZE) || saturated(s, l, lk->rem);
  double t = r + slack(s, l, r);
  return sat && lk->mf <= t && !held_above(s, l, t);
}

/* Some flow of U frozen at link l's level (l is a saturated link that froze flows of U at mf
 * while a held flow on it is faster) has no bottleneck: one saturated link on which nothing is
 * faster. Ties make this common and harmless: a flow whose rate is set by two links at once is
 * frozen by whichever pops first. O(flows of U on l times their hops). */
static int unbottlenecked(const net_sim *s, uint32_t l) {
  const net_link *lk = &s->lk[l];
  double lvl = lk->mf + slack(s, l, lk->mf);
  for (uint32_t i = lk->uoff, e = i + lk->ucnt; i < e; i++) {
    uint32_t f = s->uflow[i];
    double r = s->scratch[f];
    if (r > lvl) continue; /* frozen above l's level: not by l */
    const net_hop *hp = s->hop + s->f_hop[f];
    int ok = 0;
    for (uint32_t k = 0; k < s->f_nh[f] && !ok; k++)
      ok = hp[k].link != l && bottleneck_for(s, hp[k].link, r);
    if (!ok) return 1;
  }
  return 0;
}

/* Joins held flow g and, one step ahead, the fastest held flows on its other saturated links:
 * g's rate is about to move, and theirs with it. Saves rounds of a cascade through a loaded
 * fabric; only while U is small, as in a wide collective most of those flows would not move. */
static void join_ahead(net_sim *s, uint32_t g) {
  join(s, g);
  if (s->nu > 256) return;
  const net_hop *hp = s->hop + s->f_hop[g];
  for (uint32_t k = 0; k < s->f_nh[g]; k++) {
    uint32_t l = hp[k].link;
    if (!(s->lk[l].fl_ & NET_LSAT)) continue;
    double m = top_finite(s, l);
    if (!(m > s->f_rate[g])) continue;
    double lo = m - slack(s, l, m);
    WALK_ABOVE(s, l, lo, {
      if (held(s, f)) join(s, f);
    });
  }
}

/* The held flows a solve (or, with solved == 0, the batch itself) disturbed join U; returns how
 * many. A held flow is disturbed on link l (a) if l was its bottleneck, saturated before the
 * batch with it among the fastest, U changed on l (a flow left, or a rate of U moved), and l is
 * no longer a bottleneck for it; or (b) if l froze flows of U at a level below it and one of them
 * has no other bottleneck (it must come down). Only links with held flows are looked at; a look
 * costs O(1 + flows found). lq grows while it is walked (joining flows bring their links); those
 * links have no flow of U yet. */
static uint32_t disturbed(net_sim *s, int solved) {
  const uint32_t nu0 = s->nu;
  for (uint32_t i = 0, nlq = s->nlq; i < nlq; i++) {
    uint32_t l = s->lq[i];
    net_link *lk = &s->lk[l];
    if (solved && lk->ucnt == lk->n) continue; /* every flow on it is in U */
    if ((lk->fl_ & NET_LSAT) && (lk->fl_ & (NET_LSEED | NET_LDIRTY))) {
      double m = top_finite(s, l);
      if (m >= 0.0 && !(solved && bottleneck_for(s, l, m))) {
        double lo = m - slack(s, l, m);
        WALK_ABOVE(s, l, lo, {
          if (held(s, f)) join_ahead(s, f);
        });
      }
    }
    if (lk->fl_ & NET_LFROZE) {
      double above = lk->mf + slack(s, l, lk->mf);
      if (held_above(s, l, above) && unbottlenecked(s, l))
        WALK_ABOVE(s, l, above, {
          if (held(s, f) && s->f_rate[f] > above) join_ahead(s, f);
        });
    }
  }
  return s->nu - nu0;
}

/* Link l has the lowest fair share k of the fill: its unfrozen flows of U freeze at k, which
 * takes k off what is left of their other links. A link of an all-to-all holds thousands of
 * flows scattered over tables far larger than the caches: each flow's record, then its route,
 * is asked for a few flows ahead (FREEZE_AHEAD), so their misses overlap. */
#define FREEZE_AHEAD 8u
static void freeze_link(net_sim *s, uint32_t l, double k) {
  const uint32_t ep = s->epoch;
  int64_t kfx = fx(k);
  for (uint32_t i = s->lk[l].uoff, e = i + s->lk[l].ucnt; i < e; i++) {
    if (i + 2 * FREEZE_AHEAD < e) {
      uint32_t g = s->uflow[i + 2 * FREEZE_AHEAD];
      __builtin_prefetch(&s->f_hop[g]);
      __builtin_prefetch(&s->f_mark[g]);
    }
    if (i + FREEZE_AHEAD < e) __builtin_prefetch(&s->hop[s->f_hop[s->uflow[i + FREEZE_AHEAD]]]);
    uint32_t f = s->uflow[i];
    if (s->f_mark[f] != ep) continue;
    s->f_mark[f] = ep + 1;
    s->scratch[f] = k;
    const net_hop *hp = s->hop + s->f_hop[f];
    for (uint32_t j = 0; j < s->f_nh[f]; j++) {
      net_link *l2 = &s->lk[hp[j].link];
      if (hp[j].link == l) continue;
      l2->rem -= kfx;
      l2->cnt--;
      if (k > l2->mf) l2->mf = k;
    }
  }
  s->lk[l].mf = k; /* all its U flows are frozen now: nothing raises mf again */
  s->lk[l].fl_ |= NET_LFROZE;
}

/* Progressive filling of the flows in U (ulist) with every other flow frozen at its rate; the
 * new rates go to scratch[f], the per-link heaps keep the old ones the walks rely on. Marks the
 * links that froze flows (NET_LFROZE, level in mf). Reads no link heap, so net_maxmin runs it
 * on flows that never joined theirs. O((|U| * h) log L_U). */
void net_fill(net_sim *s) {
  const uint32_t ep = s->epoch;
  for (uint32_t i = 0; i < s->nlq; i++) {
    net_link *lk = &s->lk[s->lq[i]];
    lk->rem = lk->head;
    lk->cnt = 0;
    lk->mf = 0.0;
    lk->fl_ &= ~(NET_LFROZE | NET_LDIRTY);
  }
  for (uint32_t i = 0; i < s->nu; i++) {
    uint32_t f = s->ulist[i];
    double r = s->f_rate[f];
    int64_t rfx = isinf(r) ? 0 : fx(r);
    s->f_mark[f] = ep;
    const net_hop *hp = s->hop + s->f_hop[f];
    for (uint32_t k = 0; k < s->f_nh[f]; k++) {
      s->lk[hp[k].link].rem += rfx;
      s->lk[hp[k].link].cnt++;
    }
  }
  /* U grouped by link (counting sort), so a link that pops finds its flows of U directly, not
   * by a walk of a heap that may hold thousands of flows not in U */
  uint32_t off = 0;
  for (uint32_t i = 0; i < s->nlq; i++) {
    net_link *lk = &s->lk[s->lq[i]];
    lk->uoff = off;
    lk->ucnt = 0;
    off += lk->cnt;
  }
  for (uint32_t i = 0; i < s->nu; i++) {
    uint32_t f = s->ulist[i];
    const net_hop *hp = s->hop + s->f_hop[f];
    for (uint32_t k = 0; k < s->f_nh[f]; k++) {
      net_link *lk = &s->lk[hp[k].link];
      s->uflow[lk->uoff + lk->ucnt++] = f;
    }
  }
  /* The queue holds every link with two or more flows of U, and of each flow's links with it
   * alone only the one of lowest share: the share of such a link moves only when that flow
   * freezes, so the others could only pop after it, with nothing left to freeze. Most links of
   * a re-solve carry one flow of U, and this keeps their (fruitless) pops out of the queue. */
  s->nlheap = 0;
  for (uint32_t i = 0; i < s->nlq; i++) {
    uint32_t l = s->lq[i];
    if (s->lk[l].cnt > 1) s->lheap[s->nlheap++] = (net_lh){0, l, net_link_share(s, l)};
  }
  for (uint32_t i = 0; i < s->nu; i++) {
    uint32_t f = s->ulist[i], alone = 0;
    const net_hop *hp = s->hop + s->f_hop[f];
    net_lh best = {0, NET_NIL, INFINITY};
    for (uint32_t k = 0; k < s->f_nh[f]; k++) {
      uint32_t l = hp[k].link;
      if (s->lk[l].cnt != 1) continue;
      alone++;
      net_lh e = {0, l, net_link_share(s, l)};
      if (net_lh_before(&e, &best)) best = e;
    }
    if (best.link == NET_NIL) continue;
    if (alone == s->f_nh[f]) /* no other flow of U on any of its links: nothing can come first */
      freeze_link(s, best.link, best.key);
    else
      s->lheap[s->nlheap++] = best;
  }
  net_lh_build(s);
  /* Freezing flows at the lowest share k can only raise the shares of their other links, so
   * those keep their (now low) keys and are re-keyed once they come first: one re-key per link
   * taken, not one per flow frozen on it. Links come in the order of an eagerly kept heap. */
  for (const net_lh *e; (e = net_lh_top(s));) {
    uint32_t l = e->link;
    if (!s->lk[l].cnt) { /* its flows of U were all frozen by other links */
      net_lh_pop(s);
      continue;
    }
    double k = net_link_share(s, l);
    if (k != e->key) {
      net_lh_settop(s, k);
      continue;
    }
    net_lh_pop(s);
    freeze_link(s, l, k);
  }
  s->st.flows_resolved += s->nu;
}

/* net_fill, then the links on which a rate of U moved are marked NET_LDIRTY for disturbed(). */
static void fill(net_sim *s) {
  net_fill(s);
  for (uint32_t i = 0; i < s->nu; i++) {
    uint32_t f = s->ulist[i];
    if (!rate_moved(s, f)) continue;
    const net_hop *hp = s->hop + s->f_hop[f];
    for (uint32_t k2 = 0; k2 < s->f_nh[f]; k2++) s->lk[hp[k2].link].fl_ |= NET_LDIRTY;
  }
}

/* Writes the new rates of the flows of U that moved into the flow table, the per-link heaps and
 * the event heap (the others keep their old rate, bit for bit, and their events). When a solve
 * moves many flows at once (a start of an all-to-all, the end of a wave), sifting each move
 * costs O(log n) per hop and per event; a heap rebuilt whole costs O(its size). So a link heap
 * with more than 1/8 of its flows moved, and the event heap with more than 1/16 of its events
 * moved, take the moves unordered and are rebuilt once. Flows are applied in ulist order either
 * way, so sequence numbers (and event order) agree. */
static void apply_rates(net_sim *s) {
  uint32_t nchg = 0;
  for (uint32_t i = 0; i < s->nu; i++) {
    uint32_t f = s->ulist[i];
    if (rate_moved(s, f)) s->ulist[nchg++] = f;
  }
  s->st.rates_changed += nchg;
  for (uint32_t i = 0; i < s->nlq; i++) s->lk[s->lq[i]].chg = 0; /* the word held ucnt */
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

void net_solve_batch(net_sim *s) {
  if (s->mode == NET_MODE_FULL) { /* U = every active flow: nothing is held */
    s->nu = 0;
    for (uint32_t f = 0; f < s->fhigh; f++)
      if (s->f_state[f] == FS_ACTIVE) join(s, f);
  } else {
    disturbed(s, 0); /* the fastest flows on saturated links that flows left */
  }
  do fill(s);
  while (disturbed(s, 1));
  apply_rates(s);
  s->st.links_resolved += s->nlq;
}
