/* sweep_int.h — what the files of src/sweep/ share and nobody else sees: the parsed SPEC, the
 * journal, and the messages between the coordinator and its workers. */
#ifndef WK_SWEEP_INT_H
#define WK_SWEEP_INT_H

#include "sweep/sweep.h"

#define SW_MAX_COLS 256 /* axis columns, and base options, in one SPEC */

/* One setting a point receives: a base option, or one column of an axis. */
typedef struct sw_col {
  const char *name; /* as written: "policy", "cluster:oversubscription" */
  const char *opt;  /* the option it sets, or tweaks */
  const char *key;  /* the tweak's key ("oversubscription"), NULL for a plain option */
  int flag;         /* the option takes no value */
} sw_col;

/* An axis: ncols columns varied together (one for a list or range, several for `zip`), each
 * with nvalues values; value v of column k is text[v * ncols + k]. */
typedef struct sw_axis {
  uint32_t col0, ncols; /* its columns: spec->cols[col0, col0 + ncols) */
  uint64_t nvalues;
  const char **text;
  uint8_t *plain; /* 1: an unquoted YAML scalar (a number or true/false is typed in JSON) */
} sw_axis;

struct sweep_spec {
  wk_arena *arena;
  char path[256];
  char *command; /* the words, joined by spaces */
  char **words;
  int nwords;
  sw_col *base; /* base options (key NULL, one value each) */
  const char **base_value;
  uint32_t nbase;
  sw_col *cols; /* the axes' columns, in order */
  uint32_t ncols;
  sw_axis *axes;
  uint32_t naxes;
  uint64_t points;
  uint64_t digest;
  double timeout_s;
};

/* The value index on each axis of point i (the last axis varies fastest). OUT idx[naxes]. */
void sw_decode(const sweep_spec *s, uint64_t i, uint64_t *idx);

/* ---- results of one point --------------------------------------------------------------- */
typedef enum sw_kind {
  SW_OK,          /* text: the command's JSON object, compact */
  SW_FAILED,      /* text: the error */
  SW_DIED,        /* the process died by a signal (text says which): run it again once */
  SW_INTERRUPTED, /* SIGINT, SIGTERM or SIGHUP: the sweep is being stopped; not recorded */
} sw_kind;

typedef struct sw_result {
  uint64_t point;
  sw_kind kind;
  double wall_s;
  char *text; /* malloc'd */
} sw_result;

/* ---- local children (exec.c) -------------------------------------------------------------- */
/* Up to `slots` points at once, each in a forked child whose stdout and stderr are pipes. */
typedef struct sw_pool sw_pool;
sw_pool *sw_pool_new(const sweep_spec *s, const sweep_host *h, int slots);
void sw_pool_free(sw_pool *p); /* kills and reaps children still running */
int sw_pool_free_slots(const sw_pool *p);
int sw_pool_busy(const sw_pool *p);
void sw_pool_start(sw_pool *p, uint64_t point);
/* Waits up to timeout_ms (-1: until one finishes) for children; OUT *res: one finished point
 * (the caller frees res->text). Returns 1 when res was filled, 0 on timeout. */
int sw_pool_wait(sw_pool *p, int timeout_ms, sw_result *res);

/* ---- the journal (journal.c) -------------------------------------------------------------- */
typedef struct sw_journal sw_journal;
/* Opens DIR/sweep.journal (created with its header, or, when resuming, read: every complete
 * record indexed; a torn last line cut off), or a temporary file when dir is NULL. */
wk_errcode sw_journal_open(const sweep_spec *s, const char *dir, int resume, sw_journal **out,
                           wk_err *err);
void sw_journal_free(sw_journal *j);
int sw_journal_done(const sw_journal *j, uint64_t point);
uint64_t sw_journal_count(const sw_journal *j);
uint64_t sw_journal_failed(const sw_journal *j);
/* Appends point's record (kind SW_OK or SW_FAILED) and puts it on disk (fdatasync) before
 * returning. */
wk_errcode sw_journal_append(sw_journal *j, const sw_result *r, wk_err *err);
/* The record of a done point: OUT *ok, and its payload (the JSON object, or the error as a
 * JSON string), malloc'd. NULL on a read error. */
char *sw_journal_read(const sw_journal *j, uint64_t point, int *ok);
/* The path of the journal file in dir (owned by the caller). */
char *sw_journal_path(const char *dir);

/* A finished run's spec and journal (run.c), for the writers (table.c). */
const sweep_spec *sw_run_spec(const sweep_run *r);
const sw_journal *sw_run_journal(const sweep_run *r);

/* ---- messages (mpi.c) ------------------------------------------------------------------- */
/* Coordinator side: hands point to rank r; polls for a result of any rank (1 with *rank and
 * *res, the caller freeing res->text; 0 when none is waiting). */
void sw_mpi_send_point(sweep_mpi *m, int rank, uint64_t point);
int sw_mpi_poll_result(sweep_mpi *m, int *rank, sw_result *res);

#endif
