/* comm.c — the work module's door to coll/: every communication of a step (TP, CP, EP, PP,
 * DP, halo, FFT transposes) goes through work_coll, which builds the packed card list and
 * caches coll_time's answer, so a planner sweep over thousands of layouts asks coll only once
 * per distinct (op, group, bytes). */
#include "work_int.h"

#include <string.h>

typedef struct cache_slot {
  uint64_t key; /* hash of the fields below, odd; 0 = empty */
  uint64_t op_level;
  uint32_t first, stride, n; /* compared in full: the hash only picks the slot */
  uint32_t nstages, stage_stride; /* work_coll_groups' shifts; 0, 0 for one group alone */
  double bytes, time_s;
} cache_slot;

struct work_ctx {
  const hw_cluster *c;
  coll_ctx *coll;
  cache_slot *tab;
  size_t cap, used; /* open addressing, linear probing, load <= 1/2 */
  uint32_t *cards, *offsets;
  size_t ncards, noffsets;
  uint64_t misses;
};

work_ctx *work_ctx_new(const hw_cluster *c) {
  work_ctx *x = wk_calloc(1, sizeof *x);
  x->c = c;
  x->coll = coll_ctx_new(c);
  x->cap = 1024;
  x->tab = wk_calloc(x->cap, sizeof *x->tab);
  return x;
}

void work_ctx_free(work_ctx *x) {
  if (!x) return;
  coll_ctx_free(x->coll);
  wk_free(x->tab);
  wk_free(x->cards);
  wk_free(x->offsets);
  wk_free(x);
}

const hw_cluster *work_ctx_cluster(const work_ctx *x) { return x->c; }
uint64_t work_coll_misses(const work_ctx *x) { return x->misses; }

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static void grow(work_ctx *x) {
  cache_slot *old = x->tab;
  size_t oldcap = x->cap;
  x->cap *= 2;
  x->tab = wk_calloc(x->cap, sizeof *x->tab);
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].key) {
      size_t j = old[i].key & (x->cap - 1);
      while (x->tab[j].key) j = (j + 1) & (x->cap - 1);
      x->tab[j] = old[i];
    }
  wk_free(old);
}

/* One group alone (nstages == 0) or every shift of it (work_coll_groups). */
static wk_errcode coll_cached(work_ctx *x, coll_op op, int level, uint32_t first, uint32_t stride,
                              uint32_t n, uint32_t nstages, uint32_t stage_stride, double bytes,
                              double *time_s, wk_err *err) {
  *time_s = 0;
  if (n < 2 || !(bytes > 0)) return WK_OK;
  uint64_t a = (uint64_t)op << 8 | (uint64_t)level;
  /* each field mixed in turn (no packing of fields into shared bits, which collides) */
  uint64_t key = wk_mix64(a);
  key = wk_mix64(key ^ first);
  key = wk_mix64(key ^ stride);
  key = wk_mix64(key ^ n);
  key = wk_mix64(key ^ nstages);
  key = wk_mix64(key ^ stage_stride);
  key = wk_mix64(key ^ bits(bytes)) | 1;
  size_t i = key & (x->cap - 1);
  for (; x->tab[i].key; i = (i + 1) & (x->cap - 1)) {
    const cache_slot *s = &x->tab[i];
    if (s->key == key && s->op_level == a && s->first == first && s->stride == stride &&
        s->n == n && s->nstages == nstages && s->stage_stride == stage_stride &&
        s->bytes == bytes) {
      *time_s = s->time_s;
      return WK_OK;
    }
  }
  uint64_t last = (uint64_t)first + (uint64_t)(n - 1) * stride;
  if (nstages) last += (uint64_t)(stride - 1) + (uint64_t)(nstages - 1) * stage_stride;
  if (last >= hw_cards(x->c))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0,
                      "a group reaches card %llu but the cluster has %u cards",
                      (unsigned long long)last, hw_cards(x->c));
  if (x->ncards < n) {
    wk_free(x->cards);
    x->cards = wk_malloc(sizeof *x->cards * n);
    x->ncards = n;
  }
  for (uint32_t r = 0; r < n; r++) x->cards[r] = first + r * stride;
  coll_result res;
  wk_errcode rc;
  if (nstages) {
    size_t ng = (size_t)stride * nstages;
    if (x->noffsets < ng) {
      wk_free(x->offsets);
      x->offsets = wk_malloc(sizeof *x->offsets * ng);
      x->noffsets = ng;
    }
    for (uint32_t s = 0; s < nstages; s++)
      for (uint32_t o = 0; o < stride; o++)
        x->offsets[(size_t)s * stride + o] = s * stage_stride + o;
    rc = coll_time_groups(x->coll, op, COLL_AUTO, level, x->cards, n, x->offsets, (uint32_t)ng,
                          bytes, &res, err);
  } else {
    rc = coll_time(x->coll, op, COLL_AUTO, level, x->cards, n, bytes, &res, err);
  }
  if (rc) return rc;
  x->misses++;
  if (2 * (x->used + 1) > x->cap) {
    grow(x);
    i = key & (x->cap - 1);
    while (x->tab[i].key) i = (i + 1) & (x->cap - 1);
  }
  x->tab[i] = (cache_slot){key, a, first, stride, n, nstages, stage_stride, bytes, res.time_s};
  x->used++;
  *time_s = res.time_s;
  return WK_OK;
}

wk_errcode work_coll(work_ctx *x, coll_op op, int level, uint32_t first, uint32_t stride,
                     uint32_t n, double bytes, double *time_s, wk_err *err) {
  return coll_cached(x, op, level, first, stride, n, 0, 0, bytes, time_s, err);
}

wk_errcode work_coll_groups(work_ctx *x, coll_op op, int level, uint32_t first, uint32_t stride,
                            uint32_t n, uint32_t nstages, uint32_t stage_stride, double bytes,
                            double *time_s, wk_err *err) {
  if (level < 1 || (stride == 1 && nstages <= 1)) /* L0: no contention; or one group only */
    return coll_cached(x, op, level, first, stride, n, 0, 0, bytes, time_s, err);
  return coll_cached(x, op, level, first, stride, n, nstages ? nstages : 1, stage_stride, bytes,
                     time_s, err);
}
