/* evq.c — the simulation event queue: a radix heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990)
 * over (time, insertion sequence). A simulation never schedules into its past, so every push
 * is at or after the time last popped; bucket b (1..64) then holds the events whose time first
 * differs from that time at bit b-1, bucket 0 those equal to it. Push is O(1); pop is O(1)
 * from bucket 0, else one pass over the lowest non-empty bucket (amortised O(log T) moves per
 * event). Events with equal times always share a bucket and keep their arrival order in it,
 * so ties pop in insertion order. Buckets are flat arrays that only grow. */
#include "core.h"

#include <string.h>

#define NBUCKETS 65

typedef struct bucket {
  wk_event *ev;
  size_t len, cap, head; /* head: next to pop (bucket 0 only) */
} bucket;

struct wk_evq {
  bucket b[NBUCKETS];
  uint64_t nonempty; /* bit b-1 set when bucket b >= 1 holds events */
  uint64_t last;     /* biased time of the last pop (the radix origin) */
  size_t n;
  uint64_t next_seq;
  /* The minimum of the lowest non-empty bucket, found by peek/pop and kept up to date by
   * push in O(1), so peeking never moves events (a peek is not a pop: pushes earlier than
   * the peeked event are still allowed). min_bucket < 0: not known. */
  int min_bucket;
  size_t min_idx;
  uint64_t min_key;
};

static inline uint64_t biased(wk_time t) { return (uint64_t)t ^ (1ULL << 63); }

static inline int bucket_of(uint64_t key, uint64_t last) {
  return key == last ? 0 : 64 - __builtin_clzll(key ^ last);
}

static inline void append(wk_evq *q, int i, const wk_event *e) { /* O(1) amortised */
  bucket *b = &q->b[i];
  if (b->len == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->ev = wk_realloc(b->ev, b->cap * sizeof *b->ev);
  }
  b->ev[b->len++] = *e;
  if (i) q->nonempty |= 1ULL << (i - 1);
}

wk_evq *wk_evq_new(size_t initial_capacity) {
  wk_evq *q = wk_calloc(1, sizeof *q);
  q->min_bucket = -1;
  if (initial_capacity) {
    q->b[0].cap = initial_capacity;
    q->b[0].ev = wk_malloc(initial_capacity * sizeof(wk_event));
  }
  return q;
}

void wk_evq_free(wk_evq *q) {
  if (!q) return;
  for (int i = 0; i < NBUCKETS; i++) wk_free(q->b[i].ev);
  wk_free(q);
}

void wk_evq_push(wk_evq *q, wk_time t, uint64_t data) {
  uint64_t key = biased(t);
  WK_ASSERT(key >= q->last); /* contract: never schedule before the last popped time */
  wk_event e = {t, q->next_seq++, data};
  int i = bucket_of(key, q->last);
  append(q, i, &e);
  q->n++;
  if (i && q->min_bucket >= 0 && (i < q->min_bucket || (i == q->min_bucket && key < q->min_key))) {
    q->min_bucket = i;
    q->min_idx = q->b[i].len - 1;
    q->min_key = key;
  }
}

/* Finds the minimum of the lowest non-empty bucket >= 1 (bucket 0 empty, q->n > 0). */
static void find_min(wk_evq *q) {
  if (q->min_bucket >= 0) return;
  int i = __builtin_ctzll(q->nonempty) + 1;
  const bucket *b = &q->b[i];
  size_t idx = 0;
  uint64_t min = biased(b->ev[0].time);
  for (size_t k = 1; k < b->len; k++) {
    uint64_t key = biased(b->ev[k].time);
    if (key < min) min = key, idx = k;
  }
  q->min_bucket = i;
  q->min_idx = idx;
  q->min_key = min;
}

int wk_evq_pop(wk_evq *q, wk_event *out) {
  if (q->n == 0) return 0;
  bucket *z = &q->b[0];
  if (z->head == z->len) {
    /* Redistribute the lowest bucket around its minimum, which becomes the origin. Events
     * with equal times move together in array order, so their insertion order is kept. */
    z->head = z->len = 0;
    find_min(q);
    int i = q->min_bucket;
    bucket *b = &q->b[i];
    q->last = q->min_key;
    q->min_bucket = -1;
    size_t len = b->len;
    b->len = 0;
    q->nonempty &= ~(1ULL << (i - 1));
    for (size_t k = 0; k < len; k++) /* every event lands in a bucket below i */
      append(q, bucket_of(biased(b->ev[k].time), q->last), &b->ev[k]);
  }
  *out = z->ev[z->head++];
  q->n--;
  return 1;
}

const wk_event *wk_evq_peek(wk_evq *q) {
  if (q->n == 0) return NULL;
  const bucket *z = &q->b[0];
  if (z->head < z->len) return &z->ev[z->head];
  find_min(q);
  return &q->b[q->min_bucket].ev[q->min_idx];
}

size_t wk_evq_len(const wk_evq *q) { return q->n; }

void wk_evq_clear(wk_evq *q) {
  for (int i = 0; i < NBUCKETS; i++) q->b[i].len = q->b[i].head = 0;
  q->nonempty = 0;
  q->n = 0;
  q->last = 0;
  q->min_bucket = -1;
}
