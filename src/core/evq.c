/* evq.c — the simulation event queue: a 4-ary implicit min-heap keyed by (time, seq).
 * A 4-ary heap halves the depth of a binary one and keeps the four children of a node in one
 * or two cache lines, which is what dominates at millions of pending events. */
#include "core.h"

#include <string.h>

struct wk_evq {
  wk_event *h;
  size_t n, cap;
  uint64_t next_seq;
};

wk_evq *wk_evq_new(size_t initial_capacity) {
  wk_evq *q = wk_calloc(1, sizeof *q);
  q->cap = initial_capacity ? initial_capacity : 64;
  q->h = wk_malloc(q->cap * sizeof *q->h);
  return q;
}

void wk_evq_free(wk_evq *q) {
  if (!q) return;
  wk_free(q->h);
  wk_free(q);
}

/* (time, seq) as one 128-bit unsigned key: a single compare, no branch on ties. Time is
 * biased by 2^63 so negative times order correctly as unsigned. */
static inline unsigned __int128 key(const wk_event *a) {
  return ((unsigned __int128)((uint64_t)a->time ^ (1ULL << 63)) << 64) | a->seq;
}
static inline int before(const wk_event *a, const wk_event *b) { return key(a) < key(b); }

void wk_evq_push(wk_evq *q, wk_time t, uint64_t data) {
  if (q->n == q->cap) {
    q->cap *= 2;
    q->h = wk_realloc(q->h, q->cap * sizeof *q->h);
  }
  wk_event e = {t, q->next_seq++, data};
  size_t i = q->n++;
  while (i > 0) { /* sift up: O(log4 n) */
    size_t p = (i - 1) >> 2;
    if (!before(&e, &q->h[p])) break;
    q->h[i] = q->h[p];
    i = p;
  }
  q->h[i] = e;
}

int wk_evq_pop(wk_evq *q, wk_event *out) {
  if (q->n == 0) return 0;
  *out = q->h[0];
  wk_event last = q->h[--q->n];
  size_t n = q->n, i = 0;
  if (n == 0) return 1;
  /* Floyd's bottom-up sift: walk the hole down to a leaf along the smallest children without
   * comparing against `last` (which came from the bottom and usually belongs there), then
   * sift `last` up from that leaf. Saves a compare and a mispredicted branch per level. */
  for (;;) {
    size_t c = 4 * i + 1;
    if (c >= n) break;
    size_t best = c;
    unsigned __int128 kb = key(&q->h[c]);
    if (c + 4 <= n) { /* the common case: four children, compared without a loop bound */
      unsigned __int128 k1 = key(&q->h[c + 1]), k2 = key(&q->h[c + 2]), k3 = key(&q->h[c + 3]);
      size_t b01 = k1 < kb ? c + 1 : c, b23 = k3 < k2 ? c + 3 : c + 2;
      unsigned __int128 m01 = k1 < kb ? k1 : kb, m23 = k3 < k2 ? k3 : k2;
      best = m23 < m01 ? b23 : b01;
    } else {
      for (size_t k = c + 1; k < n; k++) {
        unsigned __int128 kk = key(&q->h[k]);
        if (kk < kb) best = k, kb = kk;
      }
    }
    q->h[i] = q->h[best];
    i = best;
  }
  unsigned __int128 kl = key(&last);
  while (i > 0) {
    size_t p = (i - 1) >> 2;
    if (!(kl < key(&q->h[p]))) break;
    q->h[i] = q->h[p];
    i = p;
  }
  q->h[i] = last;
  return 1;
}

const wk_event *wk_evq_peek(const wk_evq *q) { return q->n ? &q->h[0] : NULL; }
size_t wk_evq_len(const wk_evq *q) { return q->n; }
void wk_evq_clear(wk_evq *q) { q->n = 0; }
