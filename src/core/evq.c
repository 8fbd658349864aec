/* evq.c — the simulation event queue: a 4-ary implicit min-heap keyed by (time, seq).
 * Heap entries are 16 bytes (time, and seq << 28 | payload slot) with the root placed so that
 * the four children of a node share one 64-byte cache line; payloads live in a side table
 * indexed by slot. At 100,000+ pending events the heap walk is memory-bound, so halving the
 * lines it touches is what makes it fast. */
#include "core.h"

#include <string.h>

#define SLOT_BITS 28 /* up to 268 M pending events; 2^36 pushes per queue */
#define SLOT_MASK ((1ULL << SLOT_BITS) - 1)
#define ROOT 3 /* heap node i lives at h[i + ROOT]: children 4i+1..4i+4 -> h[4i+4..4i+7] */

typedef struct entry {
  uint64_t time; /* biased by 2^63 so that unsigned order is signed time order */
  uint64_t key;  /* seq << SLOT_BITS | slot */
} entry;

struct wk_evq {
  entry *mem, *h; /* h = mem aligned to 64 bytes, minus ROOT entries */
  uint64_t *payload;
  uint32_t *free_slots;
  size_t n, cap, nfree;
  uint64_t next_seq;
  wk_event top; /* peek's view of h[ROOT] */
};

static void grow(wk_evq *q, size_t cap) {
  entry *mem = wk_malloc((cap + ROOT + 4) * sizeof(entry) + 64);
  entry *h = (entry *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
  if (q->n) memcpy(h + ROOT, q->h + ROOT, q->n * sizeof(entry));
  wk_free(q->mem);
  q->mem = mem;
  q->h = h;
  q->payload = wk_realloc(q->payload, cap * sizeof *q->payload);
  q->free_slots = wk_realloc(q->free_slots, cap * sizeof *q->free_slots);
  for (size_t s = cap; s > q->cap; s--) q->free_slots[q->nfree++] = (uint32_t)(s - 1);
  q->cap = cap;
}

wk_evq *wk_evq_new(size_t initial_capacity) {
  wk_evq *q = wk_calloc(1, sizeof *q);
  size_t cap = initial_capacity ? initial_capacity : 64;
  WK_ASSERT(cap <= SLOT_MASK);
  grow(q, cap);
  return q;
}

void wk_evq_free(wk_evq *q) {
  if (!q) return;
  wk_free(q->mem);
  wk_free(q->payload);
  wk_free(q->free_slots);
  wk_free(q);
}

static inline unsigned __int128 k128(const entry *e) {
  return ((unsigned __int128)e->time << 64) | e->key;
}

void wk_evq_push(wk_evq *q, wk_time t, uint64_t data) {
  if (q->n == q->cap) {
    WK_ASSERT(q->cap * 2 <= SLOT_MASK + 1);
    grow(q, q->cap * 2);
  }
  uint32_t slot = q->free_slots[--q->nfree];
  q->payload[slot] = data;
  WK_ASSERT(q->next_seq < (1ULL << (64 - SLOT_BITS)));
  entry e = {(uint64_t)t ^ (1ULL << 63), (q->next_seq++ << SLOT_BITS) | slot};
  unsigned __int128 ke = k128(&e);
  entry *h = q->h + ROOT;
  size_t i = q->n++;
  while (i > 0) { /* sift up: O(log4 n) */
    size_t p = (i - 1) >> 2;
    if (!(ke < k128(&h[p]))) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

static void to_event(const wk_evq *q, const entry *e, wk_event *out) {
  out->time = (wk_time)(e->time ^ (1ULL << 63));
  out->seq = e->key >> SLOT_BITS;
  out->data = q->payload[e->key & SLOT_MASK];
}

int wk_evq_pop(wk_evq *q, wk_event *out) {
  if (q->n == 0) return 0;
  entry *h = q->h + ROOT;
  to_event(q, &h[0], out);
  q->free_slots[q->nfree++] = (uint32_t)(h[0].key & SLOT_MASK);
  entry last = h[--q->n];
  size_t n = q->n, i = 0;
  if (n == 0) return 1;
  /* Floyd's bottom-up sift: walk the hole down to a leaf along the smallest children without
   * comparing against `last` (it came from the bottom and usually belongs there), then sift
   * `last` up from that leaf. */
  for (;;) {
    size_t c = 4 * i + 1;
    if (c >= n) break;
    size_t best = c;
    if (c + 4 <= n) { /* four children in one cache line */
      unsigned __int128 k0 = k128(&h[c]), k1 = k128(&h[c + 1]), k2 = k128(&h[c + 2]),
                        k3 = k128(&h[c + 3]);
      size_t b01 = k1 < k0 ? c + 1 : c, b23 = k3 < k2 ? c + 3 : c + 2;
      unsigned __int128 m01 = k1 < k0 ? k1 : k0, m23 = k3 < k2 ? k3 : k2;
      best = m23 < m01 ? b23 : b01;
    } else {
      unsigned __int128 kb = k128(&h[c]);
      for (size_t k = c + 1; k < n; k++) {
        unsigned __int128 kk = k128(&h[k]);
        if (kk < kb) best = k, kb = kk;
      }
    }
    h[i] = h[best];
    i = best;
  }
  unsigned __int128 kl = k128(&last);
  while (i > 0) {
    size_t p = (i - 1) >> 2;
    if (!(kl < k128(&h[p]))) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = last;
  return 1;
}

const wk_event *wk_evq_peek(const wk_evq *q) {
  if (!q->n) return NULL;
  wk_evq *mq = (wk_evq *)q; /* the cached view is not observable state */
  to_event(q, &q->h[ROOT], &mq->top);
  return &mq->top;
}
size_t wk_evq_len(const wk_evq *q) { return q->n; }
void wk_evq_clear(wk_evq *q) {
  q->n = 0;
  q->nfree = 0;
  for (size_t s = q->cap; s > 0; s--) q->free_slots[q->nfree++] = (uint32_t)(s - 1);
}
