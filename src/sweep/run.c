/* run.c — the coordinator: hands out the points not yet in the journal, one at a time, to
 * whichever worker is free (a local child slot, or an MPI rank with a free slot), writes each
 * result to the journal as it comes, and runs a point again, once, when its process died
 * under it (killed, crashed); a second death is recorded as the point's error. Results come in
 * any order; their order in the outputs is the grid's (table.c), so any number of workers
 * gives the same bytes. */
#define _GNU_SOURCE
#include "sweep_int.h"

#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sweep_run {
  const sweep_spec *s;
  sw_journal *j;
  uint64_t executed, retried;
  double point_s;
};

/* Points to run: the grid in order, skipping what the journal holds, and before it the points
 * whose process died (LIFO: run again as soon as a worker is free). */
typedef struct queue {
  const sw_journal *j;
  uint64_t cursor, points;
  uint64_t *again;
  size_t nagain, cap;
  uint64_t *died; /* points whose process died once (few: a sorted-free small list) */
  size_t ndied, capdied;
} queue;

static int next_point(queue *q, uint64_t *p) {
  if (q->nagain) {
    *p = q->again[--q->nagain];
    return 1;
  }
  while (q->cursor < q->points && sw_journal_done(q->j, q->cursor)) q->cursor++;
  if (q->cursor >= q->points) return 0;
  *p = q->cursor++;
  return 1;
}

static void push_again(queue *q, uint64_t p) {
  if (q->nagain == q->cap) {
    q->cap = q->cap ? 2 * q->cap : 16;
    q->again = wk_realloc(q->again, q->cap * sizeof *q->again);
  }
  q->again[q->nagain++] = p;
}

/* 1 when p's process had died before (and now again); else remembers it and returns 0. */
static int died_before(queue *q, uint64_t p) {
  for (size_t i = 0; i < q->ndied; i++)
    if (q->died[i] == p) return 1;
  if (q->ndied == q->capdied) {
    q->capdied = q->capdied ? 2 * q->capdied : 16;
    q->died = wk_realloc(q->died, q->capdied * sizeof *q->died);
  }
  q->died[q->ndied++] = p;
  return 0;
}

/* A result in: written, or queued to run again. 0, or an error (the journal). */
static wk_errcode take(sweep_run *r, queue *q, const sweep_run_opts *o, sw_result *res,
                       uint64_t *done, wk_err *err) {
  wk_errcode rc = WK_OK;
  if (res->kind == SW_DIED && died_before(q, res->point)) {
    char *t = NULL;
    if (asprintf(&t, "%s (twice: not run again)", res->text) < 0) t = NULL;
    free(res->text);
    res->text = t;
    res->kind = SW_FAILED;
  }
  if (res->kind == SW_DIED || res->kind == SW_INTERRUPTED) {
    if (o->say_retries && res->kind == SW_DIED)
      fprintf(stderr, "sweep: point %llu: %s; running it again\n",
              (unsigned long long)res->point, res->text);
    r->retried += res->kind == SW_DIED;
    push_again(q, res->point);
  } else {
    rc = sw_journal_append(r->j, res, err);
    r->executed++;
    r->point_s += res->wall_s;
    (*done)++;
  }
  free(res->text);
  res->text = NULL;
  return rc;
}

/* Gives every free slot, here and at each rank, the next point to run. */
static void hand_out(queue *q, sw_pool *pool, const sweep_run_opts *o, int *held, int ranks) {
  uint64_t p;
  while (sw_pool_free_slots(pool) && next_point(q, &p)) sw_pool_start(pool, p);
  for (int k = 1; k < ranks; k++)
    while (held[k] < o->jobs && next_point(q, &p)) {
      sw_mpi_send_point(o->mpi, k, p);
      held[k]++;
    }
}

wk_errcode sweep_execute(const sweep_spec *s, const sweep_host *h, const sweep_run_opts *o,
                         sweep_run **out, wk_err *err) {
  *out = NULL;
  sweep_run *r = wk_calloc(1, sizeof *r);
  r->s = s;
  wk_errcode rc = sw_journal_open(s, o->dir, o->resume, &r->j, err);
  if (rc) {
    wk_free(r);
    return rc;
  }
  uint64_t n = sweep_points(s), todo = n - sw_journal_count(r->j), done = 0;
  queue q = {.j = r->j, .points = n};
  int ranks = o->mpi ? sweep_mpi_size(o->mpi) : 1;
  int *held = wk_calloc((size_t)ranks, sizeof *held); /* points out at each rank */
  sw_pool *pool = sw_pool_new(s, h, o->jobs);
  rp_progress *bar = rp_progress_new(o->progress, o->progress != NULL);
  while (done < todo && !rc) {
    hand_out(&q, pool, o, held, ranks);
    sw_result res;
    int got = 0, from;
    while (ranks > 1 && !rc && sw_mpi_poll_result(o->mpi, &from, &res)) {
      held[from]--;
      hand_out(&q, pool, o, held, ranks);
      rc = take(r, &q, o, &res, &done, err);
      got = 1;
    }
    /* alone, block until a child ends (waking for the bar); with ranks, look at MPI often */
    int wait_ms = got ? 0 : ranks > 1 ? 1 : 100;
    if (!rc && sw_pool_busy(pool)) {
      if (sw_pool_wait(pool, wait_ms, &res)) {
        /* the next point starts before this one's record goes to disk: the fdatasync and the
         * JSON are done while it runs */
        hand_out(&q, pool, o, held, ranks);
        rc = take(r, &q, o, &res, &done, err);
      }
    } else if (!got && !rc) {
      struct timespec ts = {0, 1000000L};
      nanosleep(&ts, NULL);
    }
    char label[64];
    snprintf(label, sizeof label, "sweep: %llu of %llu points",
             (unsigned long long)sw_journal_count(r->j), (unsigned long long)n);
    rp_progress_set(bar, label, (double)sw_journal_count(r->j) / (double)n, rp_clock_s());
  }
  rp_progress_free(bar);
  sw_pool_free(pool);
  wk_free(held);
  wk_free(q.again);
  wk_free(q.died);
  if (rc) {
    sweep_run_free(r);
    return rc;
  }
  *out = r;
  return WK_OK;
}

void sweep_run_free(sweep_run *r) {
  if (!r) return;
  sw_journal_free(r->j);
  wk_free(r);
}

uint64_t sweep_run_failed(const sweep_run *r) { return sw_journal_failed(r->j); }
uint64_t sweep_run_executed(const sweep_run *r) { return r->executed; }
uint64_t sweep_run_retried(const sweep_run *r) { return r->retried; }
double sweep_run_point_s(const sweep_run *r) { return r->point_s; }

int sweep_run_point(const sweep_spec *s, const sweep_host *h, uint64_t i, char **json) {
  int argc;
  char **argv = sweep_point_argv(s, i, &argc);
  int rc = h->run(h->ctx, argc, argv, json);
  sweep_argv_free(argv, argc);
  return rc;
}

const sweep_spec *sw_run_spec(const sweep_run *r) { return r->s; }
const sw_journal *sw_run_journal(const sweep_run *r) { return r->j; }
