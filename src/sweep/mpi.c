/* mpi.c — the sweep across machines: rank 0 hands out points one at a time to whichever rank
 * has a free slot (points differ in cost by orders of magnitude, so a static split would leave
 * ranks idle) and every rank runs its points in child processes, as on one machine (exec.c).
 * Messages are small: a point index out, its result back. MPI is optional (WK_HAVE_MPI, from
 * CMake finding MPICH); without it these say MPI is absent. Waiting polls with 1 ms sleeps,
 * never a blocking MPI_Probe: MPICH's progress engine spins a core while it waits, and the
 * cores are the points'. Written to the MPI standard, so Open MPI builds it too. */
#define _GNU_SOURCE
#include "sweep_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef WK_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_POINT = 1, TAG_STOP = 2, TAG_RESULT = 3 };

struct sweep_mpi {
  int rank, size;
  int released; /* rank 0 has told the others to stop */
};

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  long x = strtol(v, &end, 10);
  return *end ? dflt : x;
}

int sweep_mpi_launched(void) {
  static const char *const sizes[] = {"PMI_SIZE", "PMIX_SIZE", "OMPI_COMM_WORLD_SIZE", NULL};
  for (const char *const *s = sizes; *s; s++)
    if (env_long(*s, 1) > 1) return 1;
  return 0;
}

int sweep_mpi_env_rank(void) {
  static const char *const ranks[] = {"PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", NULL};
  for (const char *const *r = ranks; *r; r++) {
    long v = env_long(*r, -1);
    if (v >= 0) return (int)v;
  }
  return 0;
}

int sweep_mpi_rank(const sweep_mpi *m) { return m ? m->rank : 0; }
int sweep_mpi_size(const sweep_mpi *m) { return m ? m->size : 1; }

#ifdef WK_HAVE_MPI
int sweep_mpi_built(void) { return 1; }

static void nap_ms(int ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

wk_errcode sweep_mpi_start(sweep_mpi **out, wk_err *err) {
  (void)err;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(NULL, NULL);
  sweep_mpi *m = wk_calloc(1, sizeof *m);
  MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m->size);
  *out = m;
  return WK_OK;
}

void sweep_mpi_release(sweep_mpi *m) {
  if (!m || m->rank || m->released) return;
  m->released = 1;
  uint64_t none = 0;
  for (int r = 1; r < m->size; r++) MPI_Send(&none, 1, MPI_UINT64_T, r, TAG_STOP, MPI_COMM_WORLD);
}

int sweep_mpi_agree(sweep_mpi *m, int ok, uint64_t digest) {
  if (!m) return ok;
  int bad = !ok, any_bad = 0;
  uint64_t lo = digest, hi = digest;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return !any_bad && lo == hi;
}

void sweep_mpi_stop(sweep_mpi *m) {
  if (!m) return;
  MPI_Finalize();
  wk_free(m);
}

void sw_mpi_send_point(sweep_mpi *m, int rank, uint64_t point) {
  (void)m;
  MPI_Send(&point, 1, MPI_UINT64_T, rank, TAG_POINT, MPI_COMM_WORLD);
}

/* [u64 point][i32 kind][f64 wall][text, no NUL] */
static void send_result(const sw_result *r) {
  size_t n = r->text ? strlen(r->text) : 0;
  char *b = wk_malloc(20 + n);
  int32_t kind = (int32_t)r->kind;
  memcpy(b, &r->point, 8);
  memcpy(b + 8, &kind, 4);
  memcpy(b + 12, &r->wall_s, 8);
  if (n) memcpy(b + 20, r->text, n);
  MPI_Send(b, (int)(20 + n), MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
  wk_free(b);
}

int sw_mpi_poll_result(sweep_mpi *m, int *rank, sw_result *res) {
  (void)m;
  int flag = 0, n = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
  if (!flag) return 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  char *b = wk_malloc((size_t)n + 1);
  MPI_Recv(b, n, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  WK_ASSERT(n >= 20);
  int32_t kind;
  memcpy(&res->point, b, 8);
  memcpy(&kind, b + 8, 4);
  memcpy(&res->wall_s, b + 12, 8);
  res->kind = (sw_kind)kind;
  res->text = malloc((size_t)n - 20 + 1);
  WK_ASSERT(res->text);
  memcpy(res->text, b + 20, (size_t)n - 20);
  res->text[n - 20] = 0;
  wk_free(b);
  *rank = st.MPI_SOURCE;
  return 1;
}

int sweep_serve(sweep_mpi *m, const sweep_spec *s, const sweep_host *h, int jobs) {
  WK_ASSERT(m && m->rank > 0);
  sw_pool *pool = sw_pool_new(s, h, jobs);
  int stop = 0;
  /* rank 0 says stop once every point is in, or when it fails: then a point still running
   * here is nobody's (sw_pool_free kills it) */
  while (!stop) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag) {
      uint64_t point;
      MPI_Recv(&point, 1, MPI_UINT64_T, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (st.MPI_TAG == TAG_STOP) {
        stop = 1;
      } else { /* rank 0 sends no more than `jobs` points at once */
        WK_ASSERT(point < sweep_points(s) && sw_pool_free_slots(pool));
        sw_pool_start(pool, point);
      }
      continue;
    }
    sw_result r;
    if (sw_pool_busy(pool) ? sw_pool_wait(pool, 1, &r) : (nap_ms(1), 0)) {
      send_result(&r);
      free(r.text);
    }
  }
  sw_pool_free(pool);
  return 0;
}

#else /* no MPI in this build */
int sweep_mpi_built(void) { return 0; }

wk_errcode sweep_mpi_start(sweep_mpi **out, wk_err *err) {
  *out = NULL;
  return wk_err_set(err, WK_EUSAGE, "", 0, 0,
                    "MPI is absent: this wanka was built without MPI (CMake found no MPICH); "
                    "install libmpich-dev and mpich and rebuild, or run the sweep on this "
                    "machine alone with -j N");
}

int sweep_mpi_agree(sweep_mpi *m, int ok, uint64_t digest) {
  (void)m, (void)digest;
  return ok;
}
void sweep_mpi_release(sweep_mpi *m) { (void)m; }
void sweep_mpi_stop(sweep_mpi *m) { (void)m; }
void sw_mpi_send_point(sweep_mpi *m, int rank, uint64_t point) {
  (void)m, (void)rank, (void)point;
  WK_ASSERT(0);
}
int sw_mpi_poll_result(sweep_mpi *m, int *rank, sw_result *res) {
  (void)m, (void)rank, (void)res;
  return 0;
}
int sweep_serve(sweep_mpi *m, const sweep_spec *s, const sweep_host *h, int jobs) {
  (void)m, (void)s, (void)h, (void)jobs;
  WK_ASSERT(0);
  return 2;
}
#endif
