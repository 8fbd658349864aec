/* heap.c — the engine's indexed heaps. The event heap (4-ary, by time then insertion sequence)
 * holds each flow's one pending event, so a rate change moves the flow's drain time in place.
 * The link heap (binary, by fair share then link id) drives progressive filling; the link
 * id tie-break makes the freezing order a pure function of the flows, hence deterministic. The
 * per-link flow heaps (max by rate) find a link's flows above a level without a scan. All
 * arrays are sized by their owners in advance: nothing here allocates. */
#include "net/net_int.h"

/* ---- event heap -------------------------------------------------------------------------- */
static inline int ev_before(const net_ev *a, const net_ev *b) {
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_place(net_sim *s, uint32_t i, net_ev e) {
  s->ev[i] = e;
  s->f_epos[e.flow] = i;
}

static void ev_sift_up(net_sim *s, uint32_t i, net_ev e) {
  while (i > 0) {
    uint32_t p = (i - 1) >> 2;
    if (!ev_before(&e, &s->ev[p])) break;
    ev_place(s, i, s->ev[p]);
    i = p;
  }
  ev_place(s, i, e);
}

static void ev_sift_down(net_sim *s, uint32_t i, net_ev e) {
  uint32_t n = s->nev;
  for (;;) {
    uint32_t c = 4 * i + 1;
    if (c >= n) break;
    uint32_t best = c, end = c + 4 < n ? c + 4 : n;
    for (uint32_t k = c + 1; k < end; k++)
      if (ev_before(&s->ev[k], &s->ev[best])) best = k;
    if (!ev_before(&s->ev[best], &e)) break;
    ev_place(s, i, s->ev[best]);
    i = best;
  }
  ev_place(s, i, e);
}

void net_ev_set(net_sim *s, uint32_t f, double t) {
  net_ev e = {t, s->seq++, f, 0};
  uint32_t i = s->f_epos[f];
  if (i == NET_NIL) {
    WK_ASSERT(s->nev < s->fcap);
    ev_sift_up(s, s->nev++, e);
  } else if (ev_before(&e, &s->ev[i])) {
    ev_sift_up(s, i, e);
  } else {
    ev_sift_down(s, i, e);
  }
}

void net_ev_remove(net_sim *s, uint32_t f) {
  uint32_t i = s->f_epos[f];
  if (i == NET_NIL) return;
  s->f_epos[f] = NET_NIL;
  net_ev last = s->ev[--s->nev];
  if (i == s->nev) return;
  if (i > 0 && ev_before(&last, &s->ev[(i - 1) >> 2]))
    ev_sift_up(s, i, last);
  else
    ev_sift_down(s, i, last);
}

uint32_t net_ev_pop(net_sim *s, double *t) {
  if (s->nev == 0) return NET_NIL;
  uint32_t f = s->ev[0].flow;
  *t = s->ev[0].t;
  net_ev_remove(s, f);
  return f;
}

/* ---- link heap --------------------------------------------------------------------------- */
static inline int lh_before(const net_lh *a, const net_lh *b) {
  return a->key < b->key || (a->key == b->key && a->link < b->link);
}

static void lh_place(net_sim *s, uint32_t i, net_lh e) {
  s->lheap[i] = e;
  s->lk[e.link].pos = i;
}

static void lh_sift_up(net_sim *s, uint32_t i, net_lh e) {
  while (i > 0) {
    uint32_t p = (i - 1) >> 1;
    if (!lh_before(&e, &s->lheap[p])) break;
    lh_place(s, i, s->lheap[p]);
    i = p;
  }
  lh_place(s, i, e);
}

static void lh_sift_down(net_sim *s, uint32_t i, net_lh e) {
  uint32_t n = s->nlheap;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && lh_before(&s->lheap[c + 1], &s->lheap[c])) c++;
    if (!lh_before(&s->lheap[c], &e)) break;
    lh_place(s, i, s->lheap[c]);
    i = c;
  }
  lh_place(s, i, e);
}

void net_lh_push(net_sim *s, uint32_t l, double key) {
  net_lh e = {key, l, 0};
  lh_sift_up(s, s->nlheap++, e);
}

void net_lh_update(net_sim *s, uint32_t l, double key) {
  uint32_t i = s->lk[l].pos;
  net_lh e = {key, l, 0};
  if (lh_before(&e, &s->lheap[i]))
    lh_sift_up(s, i, e);
  else
    lh_sift_down(s, i, e);
}

void net_lh_remove(net_sim *s, uint32_t l) {
  uint32_t i = s->lk[l].pos;
  net_lh last = s->lheap[--s->nlheap];
  if (i == s->nlheap) return;
  if (i > 0 && lh_before(&last, &s->lheap[(i - 1) >> 1]))
    lh_sift_up(s, i, last);
  else
    lh_sift_down(s, i, last);
}

uint32_t net_lh_pop(net_sim *s, double *key) {
  if (s->nlheap == 0) return NET_NIL;
  uint32_t l = s->lheap[0].link;
  *key = s->lheap[0].key;
  net_lh_remove(s, l);
  return l;
}

/* ---- per-link flow heaps ----------------------------------------------------------------- */
static inline double hop_rate(const net_sim *s, uint32_t h) {
  return s->f_rate[s->hop[h].flow];
}

static void lf_sift_up(net_sim *s, uint32_t *a, uint32_t i, uint32_t h) {
  double r = hop_rate(s, h);
  while (i > 0) {
    uint32_t p = (i - 1) >> 1;
    if (!(hop_rate(s, a[p]) < r)) break;
    a[i] = a[p];
    s->hop[a[i]].pos = i;
    i = p;
  }
  a[i] = h;
  s->hop[h].pos = i;
}

static void lf_sift_down(net_sim *s, uint32_t *a, uint32_t n, uint32_t i, uint32_t h) {
  double r = hop_rate(s, h);
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    double rc = hop_rate(s, a[c]);
    if (c + 1 < n) {
      double r2 = hop_rate(s, a[c + 1]);
      if (r2 > rc) c++, rc = r2;
    }
    if (!(rc > r)) break;
    a[i] = a[c];
    s->hop[a[i]].pos = i;
    i = c;
  }
  a[i] = h;
  s->hop[h].pos = i;
}

/* Links with at most NET_LF_SMALL flows keep them unordered (a scan is cheaper than upkeep);
 * the array becomes a heap (heapified, O(d)) when the link grows past that. */
static void lf_heapify(net_sim *s, uint32_t *a, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) lf_sift_down(s, a, n, i, a[i]);
}

void net_lf_insert(net_sim *s, uint32_t h) {
  uint32_t l = s->hop[h].link, n = s->lk[l].n++, *a = s->lk[l].fl;
  WK_ASSERT(n < s->lk[l].fcap);
  if (n + 1 <= NET_LF_SMALL) {
    a[n] = h;
    s->hop[h].pos = n;
  } else if (n == NET_LF_SMALL) {
    a[n] = h;
    s->hop[h].pos = n;
    lf_heapify(s, a, n + 1);
  } else {
    lf_sift_up(s, a, n, h);
  }
}

void net_lf_remove(net_sim *s, uint32_t h) {
  uint32_t l = s->hop[h].link, i = s->hop[h].pos, *a = s->lk[l].fl;
  uint32_t n = s->lk[l].n--, last = a[n - 1];
  if (i == n - 1) return;
  if (n <= NET_LF_SMALL + 1) { /* unordered now, or becoming so */
    a[i] = last;
    s->hop[last].pos = i;
  } else if (i > 0 && hop_rate(s, a[(i - 1) >> 1]) < hop_rate(s, last)) {
    lf_sift_up(s, a, i, last);
  } else {
    lf_sift_down(s, a, n - 1, i, last);
  }
}

void net_lf_moved(net_sim *s, uint32_t h, int up) {
  uint32_t l = s->hop[h].link;
  if (s->lk[l].n <= NET_LF_SMALL) return;
  if (up)
    lf_sift_up(s, s->lk[l].fl, s->hop[h].pos, h);
  else
    lf_sift_down(s, s->lk[l].fl, s->lk[l].n, s->hop[h].pos, h);
}
