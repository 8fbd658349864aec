/* science.c — AI-for-science jobs on the cluster model: a 3-D stencil with halo exchange, a
 * distributed 3-D FFT with all-to-all transposes, and a data-parallel science model. Compute
 * by roofline (FP64 vector rate vs HBM bandwidth), communication through work_coll on the
 * packed placement (rank r on card r), exactly as the training step does. */
#include "work_int.h"

#include <math.h>
#include <string.h>

/* FP64 vector (non-tensor) rate as a fraction of the dense 16-bit tensor peak, since presets
 * give only the latter: A100 9.7 / 312, H100 34 / 989 TFLOP/s (NVIDIA data sheets) ~ 1/32. */
#define SCI_FP64_FRACTION (1.0 / 32)
/* Elementwise streams at this fraction of HBM bandwidth (as train.c's HBM_EFF). */
#define SCI_HBM_EFF 0.80
#define SCI_RESERVE_BYTES 2.0e9

static double fp64_peak(const hw_accel *a) { return a->bf16_flops * SCI_FP64_FRACTION; }
static double stream_time(const hw_accel *a, double bytes) {
  return bytes / (a->hbm_bytes_per_s * SCI_HBM_EFF);
}

/* The most cubic px*py*pz = n for a grid nx*ny*nz: minimises halo surface per card. O(d^2)
 * over the divisors of n. */
static void decompose3(uint32_t n, int64_t nx, int64_t ny, int64_t nz, int d[3]) {
  double best = INFINITY;
  d[0] = (int)n, d[1] = d[2] = 1;
  for (uint32_t a = 1; a <= n; a++) {
    if (n % a) continue;
    for (uint32_t b = 1; b <= n / a; b++) {
      if ((n / a) % b) continue;
      uint32_t cc = n / a / b;
      double lx = (double)nx / a, ly = (double)ny / b, lz = (double)nz / cc;
      if (lx < 1 || ly < 1 || lz < 1) continue;
      double surf = (a > 1 ? ly * lz : 0) + (b > 1 ? lx * lz : 0) + (cc > 1 ? lx * ly : 0);
      if (surf < best) {
        best = surf;
        d[0] = (int)a, d[1] = (int)b, d[2] = (int)cc;
      }
    }
  }
}

wk_errcode work_sim_stencil(work_ctx *x, const work_stencil *s, work_sci_result *out,
                            wk_err *err) {
  memset(out, 0, sizeof *out);
  const hw_cluster *c = work_ctx_cluster(x);
  const hw_accel *a = &hw_cfg(c)->accel;
  if (s->nx < 1 || s->ny < 1 || s->nz < 1 || s->halo < 1 || s->bytes_per_cell <= 0 ||
      s->flops_per_cell < 0)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "grid, halo and bytes per cell must be positive");
  if (s->cards < 1 || s->cards > hw_cards(c))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "--cards %u: the cluster has %u cards",
                      s->cards, hw_cards(c));
  if ((double)s->nx * (double)s->ny * (double)s->nz < s->cards)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "fewer cells than cards");
  int *d = out->decomp;
  decompose3(s->cards, s->nx, s->ny, s->nz, d);
  double l[3] = {(double)s->nx / d[0], (double)s->ny / d[1], (double)s->nz / d[2]};
  double cells = l[0] * l[1] * l[2], H = s->halo;
  for (int k = 0; k < 3; k++)
    if (d[k] > 1 && l[k] < 2 * H)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "%.0f cells per card along axis %d is less than two halos (%d): use "
                        "fewer cards or a larger grid",
                        l[k], k, s->halo);
  /* Roofline: each cell's state is read and written once per step. */
  double flops = cells * s->flops_per_cell;
  out->compute_s = fmax(flops / fp64_peak(a), stream_time(a, 2 * cells * s->bytes_per_cell));
  /* Halo exchange: per axis, both faces at once (links are full duplex), axes in turn (the
   * usual x, then y, then z ordering that also fills edges and corners). */
  uint32_t stride[3] = {1, (uint32_t)d[0], (uint32_t)(d[0] * d[1])};
  double face[3] = {l[1] * l[2], l[0] * l[2], l[0] * l[1]};
  double axis_s[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    if (d[k] < 2) continue;
    wk_errcode rc = work_coll(x, COLL_SENDRECV, s->level, 0, stride[k], 2,
                              face[k] * H * s->bytes_per_cell, &axis_s[k], err);
    if (rc) return rc;
    out->comm_s += axis_s[k];
  }
  double interior = 1;
  for (int k = 0; k < 3; k++) interior *= d[k] > 1 ? fmax(0, l[k] - 2 * H) / l[k] : 1;
  out->exposed_comm_s = s->overlap ? fmax(0, out->comm_s - out->compute_s * interior) : out->comm_s;
  for (int k = 0; k < 3; k++) /* each axis its share of the exposed time */
    work_phase_add(out->phases, &out->nphases, "halo", WORK_PAT_EXCHANGE, stride[k], (uint32_t)d[k],
                   axis_s[k], out->exposed_comm_s * axis_s[k] / fmax(out->comm_s, 1e-300));
  out->step_time_s = out->compute_s + out->exposed_comm_s;
  out->flops_per_card = flops;
  out->tflops_per_card = flops / out->step_time_s / 1e12;
  double halo_cells = (l[0] + 2 * H) * (l[1] + 2 * H) * (l[2] + 2 * H) - cells;
  out->memory_bytes_per_card = 2 * (cells + halo_cells) * s->bytes_per_cell + SCI_RESERVE_BYTES;
  out->fits = out->memory_bytes_per_card <= a->hbm_bytes;
  out->items_per_s = (double)s->nx * (double)s->ny * (double)s->nz / out->step_time_s;
  return WK_OK;
}

wk_errcode work_sim_fft(work_ctx *x, const work_fft *f, work_sci_result *out, wk_err *err) {
  memset(out, 0, sizeof *out);
  const hw_cluster *c = work_ctx_cluster(x);
  const hw_accel *a = &hw_cfg(c)->accel;
  if (f->n < 2) return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "--n must be at least 2");
  if (f->cards < 1 || f->cards > hw_cards(c))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "--cards %u: the cluster has %u cards",
                      f->cards, hw_cards(c));
  double n = (double)f->n, pts = n * n * n / f->cards, P = f->cards;
  int pr = 1, pc = (int)f->cards;
  if (f->pencil) { /* the most square pr x pc */
    for (int r = 1; (uint64_t)r * r <= f->cards; r++)
      if (f->cards % (uint32_t)r == 0) pr = r;
    pc = (int)(f->cards / (uint32_t)pr);
    if (pr > f->n || pc > f->n)
      return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                        "pencil %d x %d exceeds the grid %lld per axis", pr, pc, (long long)f->n);
  } else if (P > n) {
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "slab decomposition needs cards <= n (%u > %lld): use --pencil",
                      f->cards, (long long)f->n);
  }
  out->decomp[0] = f->pencil ? pr : (int)f->cards;
  out->decomp[1] = f->pencil ? pc : 1;
  out->decomp[2] = 1;
  /* 5 N log2 N FLOPs for a complex FFT of N points (Cooley-Tukey count); three axis passes,
   * each streaming the data in and out, plus one local pack per transpose. */
  double flops = 5 * pts * log2(n * n * n), ntrans = f->pencil ? 2 : 1;
  out->compute_s = fmax(flops / fp64_peak(a), stream_time(a, (3 + ntrans) * 2 * 16 * pts));
  double bytes = 16 * pts, t;
  wk_errcode rc;
  if (f->pencil) {
    if ((rc = work_coll(x, COLL_ALLTOALL, f->level, 0, 1, (uint32_t)pc, bytes, &t, err))) return rc;
    out->comm_s += t;
    work_phase_add(out->phases, &out->nphases, "fft", WORK_PAT_ALLTOALL, 1, (uint32_t)pc, t, t);
    if ((rc = work_coll(x, COLL_ALLTOALL, f->level, 0, (uint32_t)pc, (uint32_t)pr, bytes, &t, err))) return rc;
    out->comm_s += t;
    work_phase_add(out->phases, &out->nphases, "fft", WORK_PAT_ALLTOALL, (uint32_t)pc, (uint32_t)pr, t, t);
  } else {
    if ((rc = work_coll(x, COLL_ALLTOALL, f->level, 0, 1, f->cards, bytes, &t, err))) return rc;
    out->comm_s += t;
    work_phase_add(out->phases, &out->nphases, "fft", WORK_PAT_ALLTOALL, 1, f->cards, t, t);
  }
  out->exposed_comm_s = out->comm_s; /* transposes separate the passes: nothing to hide behind */
  out->step_time_s = out->compute_s + out->comm_s;
  out->flops_per_card = flops;
  out->tflops_per_card = flops / out->step_time_s / 1e12;
  out->memory_bytes_per_card = 2 * 16 * pts + SCI_RESERVE_BYTES;
  out->fits = out->memory_bytes_per_card <= a->hbm_bytes;
  out->items_per_s = 1 / out->step_time_s;
  return WK_OK;
}

wk_errcode work_sim_dataparallel(work_ctx *x, const work_dataparallel *d, work_sci_result *out,
                                 wk_err *err) {
  memset(out, 0, sizeof *out);
  const hw_cluster *c = work_ctx_cluster(x);
  const hw_accel *a = &hw_cfg(c)->accel;
  if (d->params <= 0 || d->flops_per_sample <= 0 || d->batch_per_card < 1)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "params, flops per sample and batch per card must be positive");
  if (d->efficiency <= 0 || d->efficiency > 1)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "efficiency must be in (0, 1]");
  if (d->cards < 1 || d->cards > hw_cards(c))
    return wk_err_set(err, WK_ERANGE, NULL, 0, 0, "--cards %u: the cluster has %u cards",
                      d->cards, hw_cards(c));
  /* forward + backward = 3x the forward FLOPs; gradients in fp32, all-reduced in buckets as
   * backward (2/3 of the compute) produces them; the last bucket is always exposed. */
  double flops = 3 * d->flops_per_sample * (double)d->batch_per_card;
  out->compute_s = flops / (a->bf16_flops * d->efficiency);
  wk_errcode rc = work_coll(x, COLL_ALLREDUCE, d->level, 0, 1, d->cards, 4 * d->params, &out->comm_s, err);
  if (rc) return rc;
  double last = fmin(1, 4.0e7 / d->params);
  out->exposed_comm_s = fmax(out->comm_s - out->compute_s * 2 / 3, out->comm_s * last);
  work_phase_add(out->phases, &out->nphases, "grad", WORK_PAT_RING, 1, d->cards, out->comm_s,
                 out->exposed_comm_s);
  double opt = stream_time(a, 30 * d->params);
  out->step_time_s = out->compute_s + out->exposed_comm_s + opt;
  out->flops_per_card = flops;
  out->tflops_per_card = flops / out->step_time_s / 1e12;
  out->memory_bytes_per_card = 18 * d->params + SCI_RESERVE_BYTES; /* bf16 w, fp32 g, Adam */
  out->fits = out->memory_bytes_per_card <= a->hbm_bytes;
  out->items_per_s = (double)d->batch_per_card * d->cards / out->step_time_s;
  return WK_OK;
}
