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

static inline int before(const wk_event *a, const wk_event *b) {
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

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
  for (;;) { /* sift down: O(4 log4 n) compares */
    size_t c = 4 * i + 1;
    if (c >= n) break;
    size_t best = c, end = c + 4 < n ? c + 4 : n;
    for (size_t k = c + 1; k < end; k++)
      if (before(&q->h[k], &q->h[best])) best = k;
    if (!before(&q->h[best], &last)) break;
    q->h[i] = q->h[best];
    i = best;
  }
  if (n) q->h[i] = last;
  return 1;
}

const wk_event *wk_evq_peek(const wk_evq *q) { return q->n ? &q->h[0] : NULL; }
size_t wk_evq_len(const wk_evq *q) { return q->n; }
void wk_evq_clear(wk_evq *q) { q->n = 0; }
