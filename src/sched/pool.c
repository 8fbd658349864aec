/* pool.c — the free cards of a cluster, counted per domain at every nested level of the
 * placement hierarchy, with domains bucketed by free count (a two-level bitmap over counts),
 * so "the fullest domain with at least k free cards" is O(1) per level. Gang allocation walks
 * down from the chosen domain only; no decision scans the 61,440 cards. Card ranges out are
 * sorted and merged. */
#include "sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEV (HW_LEVELS + 2)

typedef struct plevel {
  uint32_t size, ndom, fan; /* cards per domain, domains, children per domain (0 at level 0) */
  hw_level hw;
  uint32_t *free; /* per domain */
  /* buckets by free count (levels 1 .. top-1) */
  int bucketed;
  uint32_t nvals, nwords, nsum;
  uint32_t *head;       /* per free value: first domain or SCHED_NONE */
  uint32_t *next, *prev; /* per domain */
  uint64_t *bits, *sum;
  uint32_t *scratch; /* fan entries: children sorted by free count */
} plevel;

struct sched_pool {
  uint32_t cards;
  int nlev;
  plevel lev[MAXLEV];
  uint32_t *owner;
  sched_range *out;
  uint32_t nout, capout;
  uint32_t cur_owner;
  sched_range *cand[2]; /* netaware: the best candidate so far and the one being scored */
  uint32_t capcand[2];
};

/* ---- buckets ---- */
static void bucket_insert(plevel *L, uint32_t d, uint32_t v) {
  uint32_t h = L->head[v];
  L->next[d] = h;
  L->prev[d] = SCHED_NONE;
  if (h != SCHED_NONE) L->prev[h] = d;
  L->head[v] = d;
  L->bits[v >> 6] |= 1ULL << (v & 63);
  L->sum[v >> 12] |= 1ULL << ((v >> 6) & 63);
}
static void bucket_remove(plevel *L, uint32_t d, uint32_t v) {
  uint32_t n = L->next[d], p = L->prev[d];
  if (p != SCHED_NONE) L->next[p] = n;
  else L->head[v] = n;
  if (n != SCHED_NONE) L->prev[n] = p;
  if (L->head[v] == SCHED_NONE) {
    L->bits[v >> 6] &= ~(1ULL << (v & 63));
    if (!L->bits[v >> 6]) L->sum[v >> 12] &= ~(1ULL << ((v >> 6) & 63));
  }
}
/* Smallest free value >= k that some domain has; SCHED_NONE if none. O(nvals / 2^12). */
static uint32_t bucket_find_ge(const plevel *L, uint32_t k) {
  if (k >= L->nvals) return SCHED_NONE;
  uint32_t w = k >> 6;
  uint64_t m = L->bits[w] & (~0ULL << (k & 63));
  if (m) return (w << 6) + (uint32_t)__builtin_ctzll(m);
  uint32_t w1 = w + 1;
  if (w1 >= L->nwords) return SCHED_NONE;
  uint32_t s = w1 >> 6;
  uint64_t sm = L->sum[s] & (~0ULL << (w1 & 63));
  while (!sm) {
    if (++s >= L->nsum) return SCHED_NONE;
    sm = L->sum[s];
  }
  uint32_t ww = (s << 6) + (uint32_t)__builtin_ctzll(sm);
  return (ww << 6) + (uint32_t)__builtin_ctzll(L->bits[ww]);
}

static inline uint32_t dom_size(const sched_pool *p, int l, uint32_t d) {
  uint32_t sz = p->lev[l].size, first = d * sz;
  return p->cards - first < sz ? p->cards - first : sz;
}
static inline void set_free(plevel *L, uint32_t d, uint32_t v) {
  if (L->bucketed && L->free[d] != v) {
    bucket_remove(L, d, L->free[d]);
    bucket_insert(L, d, v);
  }
  L->free[d] = v;
}

/* ---- construction ---- */
sched_pool *sched_pool_new(const hw_cluster *c) {
  sched_pool *p = wk_calloc(1, sizeof *p);
  p->cards = hw_cards(c);
  /* Candidate sizes: each hw level below the cluster, ascending; keep those that nest. */
  uint32_t sizes[HW_LEVELS];
  hw_level hwl[HW_LEVELS];
  int ns = 0;
  for (int l = HW_LEVEL_NODE; l < HW_LEVEL_CLUSTER; l++) {
    sizes[ns] = hw_level_cards(c, (hw_level)l);
    hwl[ns++] = (hw_level)l;
  }
  for (int i = 1; i < ns; i++) /* insertion sort by size, stable (enum order on ties) */
    for (int j = i; j > 0 && sizes[j] < sizes[j - 1]; j--) {
      uint32_t t = sizes[j];
      sizes[j] = sizes[j - 1];
      sizes[j - 1] = t;
      hw_level h = hwl[j];
      hwl[j] = hwl[j - 1];
      hwl[j - 1] = h;
    }
  p->lev[0].size = 1;
  p->lev[0].hw = HW_LEVEL_NODE;
  p->nlev = 1;
  for (int i = 0; i < ns; i++) {
    uint32_t prev = p->lev[p->nlev - 1].size;
    if (sizes[i] <= prev || sizes[i] % prev || sizes[i] >= p->cards) continue;
    p->lev[p->nlev].size = sizes[i];
    p->lev[p->nlev].hw = hwl[i];
    p->nlev++;
  }
  p->lev[p->nlev].size = p->cards;
  p->lev[p->nlev].hw = HW_LEVEL_CLUSTER;
  p->nlev++;
  for (int l = 0; l < p->nlev; l++) {
    plevel *L = &p->lev[l];
    L->ndom = (p->cards + L->size - 1) / L->size;
    L->fan = l ? (L->size + p->lev[l - 1].size - 1) / p->lev[l - 1].size : 0; /* top may be partial */
    L->free = wk_malloc(sizeof(uint32_t) * L->ndom);
    for (uint32_t d = 0; d < L->ndom; d++) L->free[d] = dom_size(p, l, d);
    if (l) L->scratch = wk_malloc(sizeof(uint32_t) * L->fan);
    L->bucketed = l > 0 && l < p->nlev - 1;
    if (L->bucketed) {
      L->nvals = L->size + 1;
      L->nwords = (L->nvals + 63) / 64;
      L->nsum = (L->nwords + 63) / 64;
      L->head = wk_malloc(sizeof(uint32_t) * L->nvals);
      for (uint32_t v = 0; v < L->nvals; v++) L->head[v] = SCHED_NONE;
      L->next = wk_malloc(sizeof(uint32_t) * L->ndom);
      L->prev = wk_malloc(sizeof(uint32_t) * L->ndom);
      L->bits = wk_calloc(L->nwords, sizeof(uint64_t));
      L->sum = wk_calloc(L->nsum, sizeof(uint64_t));
      for (uint32_t d = L->ndom; d-- > 0;) bucket_insert(L, d, L->free[d]); /* low ids first */
    }
  }
  p->owner = wk_malloc(sizeof(uint32_t) * p->cards);
  for (uint32_t i = 0; i < p->cards; i++) p->owner[i] = SCHED_NONE;
  p->capout = 64;
  p->out = wk_malloc(sizeof(sched_range) * p->capout);
  return p;
}

void sched_pool_free(sched_pool *p) {
  if (!p) return;
  wk_free(p->cand[0]);
  wk_free(p->cand[1]);
  for (int l = 0; l < p->nlev; l++) {
    plevel *L = &p->lev[l];
    wk_free(L->free);
    wk_free(L->head);
    wk_free(L->next);
    wk_free(L->prev);
    wk_free(L->bits);
    wk_free(L->sum);
    wk_free(L->scratch);
  }
  wk_free(p->owner);
  wk_free(p->out);
  wk_free(p);
}

uint32_t sched_pool_cards(const sched_pool *p) { return p->cards; }
uint32_t sched_pool_free_cards(const sched_pool *p) { return p->lev[p->nlev - 1].free[0]; }
int sched_pool_levels(const sched_pool *p) { return p->nlev; }
uint32_t sched_pool_level_size(const sched_pool *p, int l) { return p->lev[l].size; }
uint32_t sched_pool_level_domains(const sched_pool *p, int l) { return p->lev[l].ndom; }
hw_level sched_pool_level_hw(const sched_pool *p, int l) { return p->lev[l].hw; }
uint32_t sched_pool_domain_free(const sched_pool *p, int l, uint32_t d) { return p->lev[l].free[d]; }
uint32_t sched_pool_owner(const sched_pool *p, uint32_t card) { return p->owner[card]; }

int sched_pool_ideal_level(const sched_pool *p, uint32_t k) {
  for (int l = 1; l < p->nlev; l++)
    if (p->lev[l].size >= k) return l;
  return p->nlev - 1;
}

/* ---- allocation ---- */
static void emit(sched_pool *p, uint32_t first, uint32_t n) {
  if (p->nout && p->out[p->nout - 1].first + p->out[p->nout - 1].n == first) {
    p->out[p->nout - 1].n += n;
    return;
  }
  if (p->nout == p->capout) {
    p->capout *= 2; /* grows to the most fragmented job seen, then stays */
    p->out = wk_realloc(p->out, sizeof(sched_range) * p->capout);
  }
  p->out[p->nout].first = first;
  p->out[p->nout].n = n;
  p->nout++;
}

/* Domain d of level l is entirely free: give all of it. O(cards + sub-domains). */
static void take_whole(sched_pool *p, int l, uint32_t d) {
  uint32_t first = d * p->lev[l].size, n = dom_size(p, l, d);
  for (int m = l; m >= 1; m--) {
    plevel *L = &p->lev[m];
    uint32_t d0 = first / L->size, d1 = (first + n - 1) / L->size;
    for (uint32_t x = d0; x <= d1; x++) set_free(L, x, 0);
  }
  for (uint32_t c = first; c < first + n; c++) {
    p->owner[c] = p->cur_owner;
    p->lev[0].free[c] = 0;
  }
  emit(p, first, n);
}

static int cmp_children(const void *a, const void *b, const uint32_t *fr) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (fr[x] != fr[y]) return fr[x] > fr[y] ? -1 : 1; /* most free first */
  return (x > y) - (x < y);
}

/* Takes k cards (k <= free) from domain d of level l. */
static void take(sched_pool *p, sched_placement how, int l, uint32_t d, uint32_t k) {
  plevel *L = &p->lev[l];
  if (l == 0) {
    p->owner[d] = p->cur_owner;
    L->free[d] = 0;
    emit(p, d, 1);
    return;
  }
  if (k == dom_size(p, l, d)) {
    take_whole(p, l, d);
    return;
  }
  set_free(L, d, L->free[d] - k);
  const plevel *C = &p->lev[l - 1];
  uint32_t c0 = d * L->fan, c1 = c0 + L->fan < C->ndom ? c0 + L->fan : C->ndom;
  if (how == SCHED_PLACE_FIRST_FIT || l == 1) {
    for (uint32_t c = c0; c < c1 && k; c++) {
      uint32_t f = C->free[c];
      if (!f) continue;
      uint32_t t = f < k ? f : k;
      take(p, how, l - 1, c, t);
      k -= t;
    }
    WK_ASSERT(k == 0);
    return;
  }
  /* topo: children sorted by free count, most first. While the rest does not fit in one
   * child, take the fullest child whole; then the remainder goes to the best-fitting child. */
  uint32_t *a = L->scratch, m = 0;
  for (uint32_t c = c0; c < c1; c++)
    if (C->free[c]) a[m++] = c;
  for (uint32_t i = 1; i < m; i++) /* insertion sort: fans are small (2 .. 80) */
    for (uint32_t j = i; j > 0 && cmp_children(&a[j], &a[j - 1], C->free) < 0; j--) {
      uint32_t t = a[j];
      a[j] = a[j - 1];
      a[j - 1] = t;
    }
  uint32_t i = 0;
  while (k) {
    WK_ASSERT(i < m);
    uint32_t f = C->free[a[i]];
    if (f >= k) {
      uint32_t j = i;
      while (j + 1 < m && C->free[a[j + 1]] >= k) j++;
      take(p, how, l - 1, a[j], k);
      return;
    }
    take(p, how, l - 1, a[i], f);
    k -= f;
    i++;
  }
}

static int cmp_range(const void *a, const void *b) {
  uint32_t x = ((const sched_range *)a)->first, y = ((const sched_range *)b)->first;
  return (x > y) - (x < y);
}

/* The ranges emitted, sorted and merged (OUT *nranges). */
static const sched_range *finish_out(sched_pool *p, uint32_t *nranges) {
  if (p->nout > 1) {
    qsort(p->out, p->nout, sizeof(sched_range), cmp_range);
    uint32_t w = 0;
    for (uint32_t r = 1; r < p->nout; r++) {
      if (p->out[w].first + p->out[w].n == p->out[r].first) p->out[w].n += p->out[r].n;
      else p->out[++w] = p->out[r];
    }
    p->nout = w + 1;
  }
  *nranges = p->nout;
  return p->out;
}

const sched_range *sched_pool_alloc(sched_pool *p, sched_placement how, uint32_t k, uint32_t owner,
                                    uint32_t *nranges) {
  *nranges = 0;
  if (k == 0 || k > sched_pool_free_cards(p)) return NULL;
  WK_ASSERT(owner < SCHED_DOWN);
  p->nout = 0;
  p->cur_owner = owner;
  int top = p->nlev - 1;
  if (how == SCHED_PLACE_TOPO) {
    for (int l = sched_pool_ideal_level(p, k); l < top; l++) {
      uint32_t v = bucket_find_ge(&p->lev[l], k);
      if (v != SCHED_NONE) {
        uint32_t d = p->lev[l].head[v];
        for (int a = l + 1; a <= top; a++) { /* the ancestors lose k too */
          plevel *A = &p->lev[a];
          uint32_t ad = d * p->lev[l].size / A->size;
          set_free(A, ad, A->free[ad] - k);
        }
        take(p, how, l, d, k);
        goto done;
      }
    }
  }
  take(p, how, top, 0, k);
done:
  return finish_out(p, nranges);
}

/* Largest free value some domain of level L has (SCHED_NONE if none). O(nvals / 2^12). */
static uint32_t bucket_find_max(const plevel *L) {
  for (uint32_t s = L->nsum; s-- > 0;) {
    if (!L->sum[s]) continue;
    uint32_t ww = (s << 6) + 63 - (uint32_t)__builtin_clzll(L->sum[s]);
    return (ww << 6) + 63 - (uint32_t)__builtin_clzll(L->bits[ww]);
  }
  return SCHED_NONE;
}

/* Gives the cards of ranges r[0, n) to owner (they are free): the inverse of release. */
static void claim(sched_pool *p, const sched_range *r, uint32_t n, uint32_t owner) {
  for (uint32_t i = 0; i < n; i++) {
    for (uint32_t c = r[i].first; c < r[i].first + r[i].n; c++) {
      WK_ASSERT(p->owner[c] == SCHED_NONE);
      p->owner[c] = owner;
      p->lev[0].free[c] = 0;
    }
    for (int l = 1; l < p->nlev; l++) {
      plevel *L = &p->lev[l];
      uint32_t d0 = r[i].first / L->size, d1 = (r[i].first + r[i].n - 1) / L->size;
      for (uint32_t d = d0; d <= d1; d++) {
        uint32_t lo = d * L->size > r[i].first ? d * L->size : r[i].first;
        uint32_t hi = (d + 1) * L->size < r[i].first + r[i].n ? (d + 1) * L->size : r[i].first + r[i].n;
        set_free(L, d, L->free[d] - (hi - lo));
      }
    }
  }
}

/* Topo's walk, but in the domain with the most free cards of the smallest level that has one
 * holding k: the placement that leaves the most room around it. NULL if no level below the
 * top holds k in one domain. */
static const sched_range *alloc_emptiest(sched_pool *p, uint32_t k, uint32_t owner, uint32_t *nr) {
  int top = p->nlev - 1;
  for (int l = sched_pool_ideal_level(p, k); l < top; l++) {
    uint32_t v = bucket_find_max(&p->lev[l]);
    if (v == SCHED_NONE || v < k) continue;
    p->nout = 0;
    p->cur_owner = owner;
    uint32_t d = p->lev[l].head[v];
    for (int a = l + 1; a <= top; a++) {
      plevel *A = &p->lev[a];
      uint32_t ad = d * p->lev[l].size / A->size;
      set_free(A, ad, A->free[ad] - k);
    }
    take(p, SCHED_PLACE_TOPO, l, d, k);
    return finish_out(p, nr);
  }
  return NULL;
}

const sched_range *sched_pool_alloc_scored(sched_pool *p, uint32_t k, uint32_t owner,
                                           uint32_t quiet_cards, sched_score_fn score, void *ctx,
                                           uint32_t *nranges) {
  uint32_t nr;
  const sched_range *r = sched_pool_alloc(p, SCHED_PLACE_TOPO, k, owner, &nr);
  if (!r) return NULL;
  if (quiet_cards && r[0].first / quiet_cards == (r[nr - 1].first + r[nr - 1].n - 1) / quiet_cards) {
    *nranges = nr;
    return r;
  }
  /* the candidates, each taken, copied, scored and given back; the best is claimed again.
   * Buffers grow to the most fragmented candidate seen, then stay. */
  int bi = -1, ci = 0;
  uint32_t nbest = 0;
  double sbest = INFINITY;
  for (int v = 0; v < 3; v++) {
    if (v == 1) r = alloc_emptiest(p, k, owner, &nr);
    else if (v == 2) r = sched_pool_alloc(p, SCHED_PLACE_FIRST_FIT, k, owner, &nr);
    if (!r) continue;
    if (p->capcand[ci] < nr) {
      p->capcand[ci] = nr;
      p->cand[ci] = wk_realloc(p->cand[ci], sizeof(sched_range) * nr);
    }
    memcpy(p->cand[ci], r, sizeof(sched_range) * nr);
    sched_pool_release(p, p->cand[ci], nr);
    double sc = score(ctx, owner, p->cand[ci], nr);
    if (sc < sbest) { /* ties keep the earlier candidate: topo's */
      bi = ci;
      ci = 1 - ci;
      nbest = nr;
      sbest = sc;
    }
  }
  if (bi < 0) return sched_pool_alloc(p, SCHED_PLACE_TOPO, k, owner, nranges); /* all NaN */
  claim(p, p->cand[bi], nbest, owner);
  p->nout = 0;
  for (uint32_t i = 0; i < nbest; i++) emit(p, p->cand[bi][i].first, p->cand[bi][i].n);
  *nranges = nbest;
  return p->out;
}

/* Adds one free card for each card of [first, first + n) at every level >= 1. */
static void add_free(sched_pool *p, uint32_t first, uint32_t n) {
  for (int l = 1; l < p->nlev; l++) {
    plevel *L = &p->lev[l];
    uint32_t d0 = first / L->size, d1 = (first + n - 1) / L->size;
    for (uint32_t d = d0; d <= d1; d++) {
      uint32_t lo = d * L->size > first ? d * L->size : first;
      uint32_t hi = (d + 1) * L->size < first + n ? (d + 1) * L->size : first + n;
      set_free(L, d, L->free[d] + (hi - lo));
    }
  }
}

void sched_pool_release(sched_pool *p, const sched_range *r, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    WK_ASSERT(r[i].n > 0 && r[i].first + r[i].n <= p->cards);
    for (uint32_t c = r[i].first; c < r[i].first + r[i].n; c++) {
      WK_ASSERT(p->owner[c] != SCHED_NONE && p->owner[c] != SCHED_DOWN);
      p->owner[c] = SCHED_NONE;
      p->lev[0].free[c] = 1;
    }
    add_free(p, r[i].first, r[i].n);
  }
}

void sched_pool_set_down(sched_pool *p, uint32_t card, int down) {
  WK_ASSERT(card < p->cards);
  if (down) {
    WK_ASSERT(p->owner[card] == SCHED_NONE);
    p->owner[card] = SCHED_DOWN;
    p->lev[0].free[card] = 0;
    for (int l = 1; l < p->nlev; l++) {
      plevel *L = &p->lev[l];
      uint32_t d = card / L->size;
      set_free(L, d, L->free[d] - 1);
    }
  } else {
    WK_ASSERT(p->owner[card] == SCHED_DOWN);
    p->owner[card] = SCHED_NONE;
    p->lev[0].free[card] = 1;
    add_free(p, card, 1);
  }
}

uint32_t sched_pool_domains_spanned(const sched_pool *p, int level, const sched_range *r, uint32_t n) {
  uint32_t sz = p->lev[level].size, count = 0, last = SCHED_NONE;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t d0 = r[i].first / sz, d1 = (r[i].first + r[i].n - 1) / sz;
    count += d1 - d0 + 1 - (d0 == last);
    last = d1;
  }
  return count;
}
