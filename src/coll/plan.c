/* plan.c — every algorithm as phases of flows between ranks. A phase is one symmetric step
 * repeated `repeat` times (a ring all-reduce is one phase of 2(n-1) steps); the same plan is
 * timed at all three levels, so L0, L1 and L2 can only differ in how they share bandwidth.
 * Rings run one channel per rank of the smallest scale-up segment, each channel entering and
 * leaving a segment through the same local rank's NIC (rail-aligned, as NCCL does with PXN);
 * at L1 and L2 each edge across the network is split over NCCL's channels and the NIC's queue
 * pairs (edge_flows), which ECMP hashes apart. */
#include "coll/coll_int.h"

#include <math.h>
#include <string.h>

void coll_plan_free(coll_plan *p) {
  if (!p) return;
  wk_free(p->fs);
  wk_free(p->fd);
  wk_free(p->fb);
  wk_free(p->ph);
  memset(p, 0, sizeof *p);
}

static void add_flow(coll_plan *p, uint32_t s, uint32_t d, double b) {
  if (p->nf == p->capf) {
    p->capf = p->capf ? 2 * p->capf : 1024;
    p->fs = wk_realloc(p->fs, p->capf * sizeof *p->fs);
    p->fd = wk_realloc(p->fd, p->capf * sizeof *p->fd);
    p->fb = wk_realloc(p->fb, p->capf * sizeof *p->fb);
  }
  p->fs[p->nf] = s;
  p->fd[p->nf] = d;
  p->fb[p->nf] = b;
  p->nf++;
}

static coll_phase *push_phase(coll_plan *p, coll_ph_kind kind, double repeat) {
  if (p->nph == p->capph) {
    p->capph = p->capph ? 2 * p->capph : 16;
    p->ph = wk_realloc(p->ph, p->capph * sizeof *p->ph);
  }
  coll_phase *ph = &p->ph[p->nph++];
  memset(ph, 0, sizeof *ph);
  ph->kind = kind;
  ph->repeat = repeat;
  ph->same_as = -1;
  ph->first = p->nf;
  return ph;
}

/* Closes a PH_LIST phase opened at `first`; drops it when it holds no flow. */
static void end_list(coll_plan *p) {
  coll_phase *ph = &p->ph[p->nph - 1];
  ph->nflows = p->nf - ph->first;
  if (!ph->nflows || !(ph->repeat > 0)) p->nph--;
}

static void same_phase(coll_plan *p, uint32_t earlier, double repeat) {
  if (earlier >= p->nph) return; /* the earlier phase was empty and dropped */
  coll_phase *ph = push_phase(p, p->ph[earlier].kind, repeat);
  *ph = p->ph[earlier];
  ph->repeat = repeat;
  ph->same_as = (int32_t)earlier;
}

static inline uint32_t dom(const coll_ctx *x, const coll_plan *p, uint32_t r) {
  return p->cards[r] / x->cps;
}

/* Segment starts (maximal runs of consecutive ranks in one scale-up domain) into x->tmp;
 * returns their count. O(n). */
static uint32_t segments(coll_ctx *x, const coll_plan *p) {
  uint32_t ns = 0;
  for (uint32_t i = 0; i < p->n; i++)
    if (i == 0 || dom(x, p, i) != dom(x, p, i - 1)) x->tmp[ns++] = i;
  x->tmp[ns] = p->n;
  return ns;
}

/* Flows per ring edge that crosses the network when `exits` cards (rings) leave each scale-up
 * segment: the communicator's NCCL channels (COLL_CHANNELS_PER_NIC per NIC of those cards, at
 * most COLL_MAX_CHANNELS, fewer for a small message: coll_int.h has the rule and its source)
 * shared by the exits, times the queue pairs per connection. One at level 0, whose per-card
 * loads the split does not change. O(COLL_MAX_CHANNELS). */
static uint32_t edge_flows(const coll_ctx *x, const coll_plan *p, uint32_t exits) {
  if (p->level < 1 || !exits) return 1;
  const hw_config *cfg = hw_cfg(x->c);
  double nc = fmin(COLL_MAX_CHANNELS, (double)COLL_CHANNELS_PER_NIC * exits * cfg->nics_per_card);
  while (nc >= 2 && p->bytes < nc * COLL_CHANNEL_MIN_BYTES) nc--;
  uint32_t per = nc > exits ? (uint32_t)(nc / exits) : 1;
  return per * (uint32_t)cfg->nic_qps;
}

/* One network edge of a ring, s -> d with b bytes, as k flows of b / k (its channels and
 * queue pairs): each is hashed on its own ECMP path (the flow index salts the route). */
static void add_edge(coll_plan *p, uint32_t s, uint32_t d, double b, uint32_t k) {
  for (uint32_t i = 0; i < k; i++) add_flow(p, s, d, b / k);
}

/* One ring step in which every rank forwards u bytes (summed over channels). With several
 * segments, C = the smallest segment's length channels run; inside a segment every channel
 * makes a full cycle (the last hop hands the chunk to the channel's exit card, PXN-style), so
 * each rank sends u to its in-segment successor; the exit card at local position k < C sends
 * u/C to the same position of the next segment, over edge_flows flows. O(n + C * segments *
 * edge_flows) flows. */
static void ring_step(coll_ctx *x, coll_plan *p, double u) {
  uint32_t ns = segments(x, p), n = p->n;
  if (ns == 1) {
    for (uint32_t i = 0; i < n; i++) add_flow(p, i, (i + 1) % n, u);
    return;
  }
  uint32_t C = n;
  for (uint32_t j = 0; j < ns; j++)
    if (x->tmp[j + 1] - x->tmp[j] < C) C = x->tmp[j + 1] - x->tmp[j];
  uint32_t k = edge_flows(x, p, C);
  p->ph[p->nph - 1].spread = k;
  for (uint32_t j = 0; j < ns; j++) {
    uint32_t a = x->tmp[j], m = x->tmp[j + 1] - a, next = x->tmp[(j + 1) % ns];
    if (m >= 2)
      for (uint32_t i = 0; i < m; i++) add_flow(p, a + i, a + (i + 1) % m, u);
    for (uint32_t e = 0; e < C; e++) add_edge(p, a + e, next + e, u / C, k);
  }
}

/* Splits a pipelined phase (the last one pushed, built with the whole message as one chunk)
 * into P chunks: P = sqrt(fill * beta / alpha) minimises (P + fill) * (alpha + beta / P), with
 * alpha and beta from L0 so every level pipelines alike. */
static void pipeline(coll_ctx *x, coll_plan *p, double fill) {
  if (!p->nph) return;
  coll_phase *ph = &p->ph[p->nph - 1];
  double alpha, step = coll_l0_phase(x, p, ph, &alpha);
  double beta = step - alpha, P = 1;
  if (alpha > 0 && beta > 0 && fill > 0) P = floor(sqrt(fill * beta / alpha) + 0.5);
  double maxp = floor(p->bytes / 64); /* chunks of at least 64 bytes */
  if (P > maxp) P = maxp;
  if (P < 1) P = 1;
  for (uint32_t f = ph->first; f < ph->first + ph->nflows; f++) p->fb[f] /= P;
  ph->repeat = P + fill;
}

/* In-order binary tree over positions 1..n (NCCL's double binary tree shape): the parent of
 * position q, or 0 for the root. O(log n). */
static uint32_t tree_parent(uint32_t q, uint32_t n) {
  uint32_t root = n ? 1u << (31 - __builtin_clz(n)) : 1; /* the largest power of 2 <= n */
  if (q == root) return 0;
  do {
    uint32_t b = q & (~q + 1);
    q = (q & (b << 1)) ? q - b : q + b;
  } while (q > n);
  return q;
}

static int is_pow2(uint32_t n) { return n && !(n & (n - 1)); }

static wk_errcode not_for(wk_err *err, coll_algo a, coll_op op, const char *use) {
  return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "algorithm '%s' does not apply to %s (use %s)",
                    coll_algo_name(a), coll_op_name(op), use);
}

static const char *algos_for(coll_op op) {
  switch (op) {
  case COLL_ALLREDUCE: return "auto, ring, tree, rhd, hier, nvls or direct (full mesh)";
  case COLL_ALLGATHER:
  case COLL_REDUCESCATTER: return "auto, ring, rhd, hier or direct (full mesh)";
  case COLL_BROADCAST:
  case COLL_REDUCE: return "auto or ring";
  case COLL_ALLTOALL: return "auto, direct or pairwise";
  default: return "auto or direct";
  }
}

static wk_errcode build_ring(coll_ctx *x, coll_plan *p) {
  double S = p->bytes, n = p->n;
  switch (p->op) {
  case COLL_ALLREDUCE:
    push_phase(p, PH_LIST, 2 * (n - 1));
    ring_step(x, p, S / n);
    end_list(p);
    break;
  case COLL_ALLGATHER:
  case COLL_REDUCESCATTER:
    push_phase(p, PH_LIST, n - 1);
    ring_step(x, p, S / n);
    end_list(p);
    break;
  default: /* broadcast, reduce: a pipelined chain along the ring */
    push_phase(p, PH_LIST, 1);
    ring_step(x, p, S);
    end_list(p);
    pipeline(x, p, n - 2);
  }
  return WK_OK;
}

static wk_errcode build_tree(coll_ctx *x, coll_plan *p) {
  uint32_t n = p->n, depth = 0;
  push_phase(p, PH_LIST, 1);
  for (int t = 0; t < 2; t++) { /* tree 1 is tree 0 shifted by one rank */
    for (uint32_t q = 1; q <= n; q++) {
      uint32_t par = tree_parent(q, n), d = 0;
      if (!par) continue;
      uint32_t child = t ? q % n : q - 1, parent = t ? par % n : par - 1;
      add_flow(p, child, parent, p->bytes / 2); /* reduce up */
      add_flow(p, parent, child, p->bytes / 2); /* broadcast down */
      for (uint32_t a = q; a; a = tree_parent(a, n)) d++;
      if (d > depth) depth = d;
    }
  }
  end_list(p);
  pipeline(x, p, 2.0 * depth);
  return WK_OK;
}

static wk_errcode build_rhd(coll_ctx *x, coll_plan *p, wk_err *err) {
  (void)x;
  uint32_t n = p->n, p2 = 1, L = 0;
  while (p2 * 2 <= n) p2 *= 2, L++;
  double S = p->bytes;
  if (p->op != COLL_ALLREDUCE && !is_pow2(n))
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "algorithm 'rhd' needs a power-of-two number of ranks for %s (%u given; "
                      "use ring or hier)", coll_op_name(p->op), n);
  if (p->op == COLL_ALLGATHER) {
    for (uint32_t k = 0; k < L; k++) { /* recursive doubling, nearest partner first */
      push_phase(p, PH_LIST, 1);
      for (uint32_t i = 0; i < n; i++) add_flow(p, i, i ^ (1u << k), S / n * (double)(1u << k));
      end_list(p);
    }
    return WK_OK;
  }
  if (n > p2) { /* fold the extra ranks into the first ones */
    push_phase(p, PH_LIST, 1);
    for (uint32_t i = p2; i < n; i++) add_flow(p, i, i - p2, S);
    end_list(p);
  }
  uint32_t rs0 = p->nph;
  for (uint32_t k = 0; k < L; k++) { /* recursive halving, nearest partner with most data */
    push_phase(p, PH_LIST, 1);
    for (uint32_t i = 0; i < p2; i++) add_flow(p, i, i ^ (1u << k), S / (double)(2u << k));
    end_list(p);
  }
  if (p->op == COLL_REDUCESCATTER) return WK_OK;
  for (uint32_t k = L; k-- > 0;) same_phase(p, rs0 + k, 1); /* doubling: the mirror steps */
  if (n > p2) {
    push_phase(p, PH_LIST, 1);
    for (uint32_t i = p2; i < n; i++) add_flow(p, i - p2, i, S);
    end_list(p);
  }
  return WK_OK;
}

static wk_errcode build_hier(coll_ctx *x, coll_plan *p, wk_err *err) {
  uint32_t g = segments(x, p), m = x->tmp[1] - x->tmp[0];
  for (uint32_t j = 0; j < g; j++) {
    if (x->tmp[j + 1] - x->tmp[j] != m)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "algorithm 'hier' needs the same number of ranks in every scale-up "
                        "domain (%u and %u here; use ring, or a packed placement)",
                        m, x->tmp[j + 1] - x->tmp[j]);
    if (j && dom(x, p, x->tmp[j]) <= dom(x, p, x->tmp[j - 1]))
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "algorithm 'hier' needs ranks ordered by scale-up domain (sort the "
                        "cards, or use ring)");
  }
  double S = p->bytes, n = p->n;
  uint32_t k = edge_flows(x, p, m); /* the m rings across share the channels */
  /* intra: a ring inside each domain; inter: m rings of same-local-rank cards (rail-aligned) */
#define INTRA(u, rep)                                                                    \
  do {                                                                                   \
    push_phase(p, PH_LIST, rep);                                                         \
    if (m >= 2)                                                                          \
      for (uint32_t d = 0; d < g; d++)                                                   \
        for (uint32_t j = 0; j < m; j++) add_flow(p, d * m + j, d * m + (j + 1) % m, u); \
    end_list(p);                                                                         \
  } while (0)
#define INTER(u, rep)                                                                        \
  do {                                                                                       \
    push_phase(p, PH_LIST, rep)->spread = k;                                                 \
    if (g >= 2)                                                                              \
      for (uint32_t d = 0; d < g; d++)                                                       \
        for (uint32_t j = 0; j < m; j++) add_edge(p, d * m + j, ((d + 1) % g) * m + j, u, k); \
    end_list(p);                                                                             \
  } while (0)
  if (p->op == COLL_ALLREDUCE) {
    uint32_t first = p->nph;
    INTRA(S / m, (double)m - 1);              /* reduce-scatter inside */
    INTER(S / n, 2.0 * ((double)g - 1));      /* all-reduce of 1/m of the data across */
    if (m >= 2) same_phase(p, first, (double)m - 1); /* all-gather inside */
  } else if (p->op == COLL_ALLGATHER) {
    INTER(S / n, (double)g - 1);
    INTRA(S / m, (double)m - 1);
  } else {
    INTRA(S / m, (double)m - 1);
    INTER(S / n, (double)g - 1);
  }
#undef INTRA
#undef INTER
  return WK_OK;
}

/* All-reduce in the scale-up switch (NVLink SHARP, NCCL's NVLS): each card's shard is read
 * from every card, summed in the switch and returned (a card sends S, receives S/n), then each
 * card's reduced shard is multicast by the switch to all (it sends S/n, receives S). Pipelined,
 * the two overlap: every card port carries S (n + 1) / n each way, once, against 2 S (n - 1) / n
 * over two (n - 1)-step rings. A non-blocking switch is loaded only at its ports, so one step
 * in which rank i sends that much to rank i + 1 loads every port exactly so (and sees a port
 * slowed by a failure); the bytes carry COLL_EFF_NVLS. */
static wk_errcode build_nvls(coll_ctx *x, coll_plan *p, wk_err *err) {
  const hw_config *cfg = hw_cfg(x->c);
  if (!cfg->scaleup_reduction || cfg->scaleup != HW_SCALEUP_SWITCH)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "algorithm 'nvls' needs a scale-up switch that reduces in the switch "
                      "(supernode.in_switch_reduction: true, as H100's NVSwitch); %s has none "
                      "(use ring, tree, rhd or hier)", cfg->name);
  if (segments(x, p) > 1) /* one run of consecutive ranks in one domain */
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "algorithm 'nvls' needs every card in one scale-up domain of %u cards "
                      "(use hier across domains, or ring)", x->cps);
  double n = p->n;
  push_phase(p, PH_LIST, 1);
  for (uint32_t i = 0; i < p->n; i++)
    add_flow(p, i, (i + 1) % p->n, p->bytes * (n + 1) / n / COLL_EFF_NVLS);
  end_list(p);
  return WK_OK;
}

/* All-gather, reduce-scatter or all-reduce inside one full-mesh scale-up domain (Ascend
 * 910B's HCCS, HCCL's mesh algorithms): every card sends its S/n shard to every other card at
 * once, each over its own link, instead of n - 1 ring steps over one link each; an all-reduce
 * is a reduce-scatter then an all-gather. */
static wk_errcode build_mesh_direct(coll_ctx *x, coll_plan *p, wk_err *err) {
  if (hw_cfg(x->c)->scaleup != HW_SCALEUP_MESH || segments(x, p) > 1)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "algorithm 'direct' for %s needs every card in one full-mesh scale-up "
                      "domain (use ring or hier)", coll_op_name(p->op));
  int phases = p->op == COLL_ALLREDUCE ? 2 : 1;
  for (int i = 0; i < phases; i++) {
    coll_phase *ph = push_phase(p, PH_A2A, 1);
    uint64_t nf = (uint64_t)p->n * (p->n - 1);
    ph->nflows = nf > UINT32_MAX ? UINT32_MAX : (uint32_t)nf;
    ph->bytes = p->bytes / p->n;
    if (i) ph->same_as = 0;
  }
  return WK_OK;
}

static wk_errcode build_a2a(coll_ctx *x, coll_plan *p, int exact) {
  (void)x;
  uint32_t n = p->n;
  double b = p->bytes / n;
  if (p->algo == COLL_DIRECT) {
    coll_phase *ph = push_phase(p, PH_A2A, 1);
    uint64_t nf = (uint64_t)n * (n - 1);
    ph->nflows = nf > UINT32_MAX ? UINT32_MAX : (uint32_t)nf;
    ph->bytes = b;
    return WK_OK;
  }
  uint32_t rounds = n - 1, use = rounds;
  if (!exact && rounds > COLL_PAIRWISE_SAMPLES) use = COLL_PAIRWISE_SAMPLES;
  for (uint32_t j = 0; j < use; j++) { /* evenly spaced rounds, each standing for its share */
    coll_phase *ph = push_phase(p, PH_SHIFT, (double)rounds / use);
    ph->shift = 1 + (uint32_t)((uint64_t)j * rounds / use);
    ph->nflows = n;
    ph->bytes = b;
  }
  return WK_OK;
}

wk_errcode coll_plan_build(coll_ctx *x, coll_plan *p, coll_op op, coll_algo algo,
                           const uint32_t *cards, uint32_t n, double bytes, int level, wk_err *err) {
  WK_ASSERT(algo != COLL_AUTO && n >= 2);
  int exact = level == 2;
  p->op = op;
  p->algo = algo;
  p->bytes = bytes;
  p->cards = cards;
  p->n = n;
  p->level = level;
  p->ngroups = 1;
  p->nf = p->nph = 0;
  if (n + 1 > x->capn) {
    x->capn = n + 1;
    x->tmp = wk_realloc(x->tmp, x->capn * sizeof *x->tmp);
    x->tmp2 = wk_realloc(x->tmp2, x->capn * sizeof *x->tmp2);
    x->acc = wk_realloc(x->acc, 4 * (size_t)x->capn * sizeof *x->acc);
  }
  const char *use = algos_for(op);
  switch (op) {
  case COLL_ALLREDUCE:
    if (algo == COLL_RING) return build_ring(x, p);
    if (algo == COLL_TREE) return build_tree(x, p);
    if (algo == COLL_RHD) return build_rhd(x, p, err);
    if (algo == COLL_HIER) return build_hier(x, p, err);
    if (algo == COLL_NVLS) return build_nvls(x, p, err);
    if (algo == COLL_DIRECT) return build_mesh_direct(x, p, err);
    return not_for(err, algo, op, use);
  case COLL_ALLGATHER:
  case COLL_REDUCESCATTER:
    if (algo == COLL_RING) return build_ring(x, p);
    if (algo == COLL_RHD) return build_rhd(x, p, err);
    if (algo == COLL_HIER) return build_hier(x, p, err);
    if (algo == COLL_DIRECT) return build_mesh_direct(x, p, err);
    return not_for(err, algo, op, use);
  case COLL_BROADCAST:
  case COLL_REDUCE:
    if (algo == COLL_RING) return build_ring(x, p);
    return not_for(err, algo, op, use);
  case COLL_ALLTOALL:
    if (algo == COLL_DIRECT || algo == COLL_PAIRWISE) return build_a2a(x, p, exact);
    return not_for(err, algo, op, use);
  case COLL_SENDRECV:
    if (algo != COLL_DIRECT) return not_for(err, algo, op, use);
    if (n != 2)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "sendrecv takes exactly 2 cards (sender, receiver); %u given", n);
    push_phase(p, PH_LIST, 1);
    add_flow(p, 0, 1, bytes);
    end_list(p);
    return WK_OK;
  default: break;
  }
  return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "unknown collective");
}
