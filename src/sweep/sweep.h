/* sweep — grids of scenarios (design-space exploration): a SPEC (YAML) names a base command and
 * the axes to vary; the grid is expanded, its points are handed out dynamically to worker
 * processes on this machine (-j N) and to MPI ranks, each finished point is written durably to
 * an append-only journal (so an interrupted sweep resumes without re-running or losing one),
 * and the rows are assembled in grid order, the same bytes whatever ran them. The module knows
 * nothing of the subcommands: its host (the cli) says which options a command takes and runs
 * one point, returning the command's JSON. docs/sweep.md is the user's side of it. */
#ifndef WK_SWEEP_H
#define WK_SWEEP_H

#include "core/core.h"

#include <stdio.h>
#include <sys/types.h>

/* ---- the host: what the cli tells the sweep about its commands ------------------------ */
/* One option of a command, as its --help lists it. */
typedef struct sweep_option {
  const char *name; /* without "--" */
  int flag;         /* 1: takes no value (true adds it, false leaves it out) */
} sweep_option;

typedef struct sweep_host {
  void *ctx; /* passed to every callback */
  /* The options of the command named by words[0..nwords) (e.g. {"coll", "allreduce"}): OUT
   * *opts (owned by the host, valid while the spec lives) and *n. Returns 0, or 1 when words[0]
   * names no command a sweep can run; then *opts lists those that are (as names, flag 0). */
  int (*options)(void *ctx, int nwords, char *const *words, const sweep_option **opts,
                 size_t *n);
  /* Options a point may not set (NULL-terminated), each with why in `why_reserved`: the
   * sweep adds --json itself, and files a point would write would collide between points. */
  const char *const *reserved;
  const char *why_reserved;
  /* An axis "OPT:KEY" tweaks option OPT's value with KEY=value (a cluster key). 0 when KEY is
   * known for OPT (value: the option's first value, first: the axis's first value), else 1
   * with the reason in msg. NULL: no option takes tweaks. */
  int (*tweak_known)(void *ctx, const char *opt, const char *value, const char *key,
                     const char *first, char *msg, size_t n);
  /* Runs one point: argv[0..argc) are the command's words and options (with --json). OUT
   * *json: what the command printed on standard output (malloc'd, NUL-terminated; the caller
   * frees it with free()), may be NULL. Returns the command's exit code. Error lines go to
   * stderr. Called in a child process (a crash or exit there fails only the point), or in
   * this one by sweep_run_point. */
  int (*run)(void *ctx, int argc, char **argv, char **json);
  /* "Did you mean": the entry of names (NULL-terminated) that given is a likely typo of, or
   * NULL. NULL: no suggestions. */
  const char *(*suggest)(const char *given, const char *const *names);
} sweep_host;

/* ---- the SPEC -------------------------------------------------------------------------- */
/* Grids above this many points are refused unless allow_large. */
#define SWEEP_LARGE 1000000ull

typedef struct sweep_spec sweep_spec;
/* Reads and checks a SPEC (docs/sweep.md): the command and its options (each checked against
 * h->options, line:col on the first bad one), the axes, the grid size (over SWEEP_LARGE points
 * only with allow_large). OUT *out (free with sweep_spec_free), or NULL and err. O(size of the
 * file + number of axis values). */
wk_errcode sweep_spec_load(const char *path, const sweep_host *h, int allow_large,
                           sweep_spec **out, wk_err *err);
wk_errcode sweep_spec_parse(const char *path, const char *text, size_t len, const sweep_host *h,
                            int allow_large, sweep_spec **out, wk_err *err);
void sweep_spec_free(sweep_spec *s); /* NULL is a no-op */

uint64_t sweep_points(const sweep_spec *s);
/* 64-bit digest of the expanded grid (command, options, axes and their values, in order): two
 * SPEC files with the same grid have the same digest, whatever their comments and layout. */
uint64_t sweep_digest(const sweep_spec *s);
const char *sweep_command(const sweep_spec *s); /* "replay", "coll allreduce" */
/* The argv of point i (i < sweep_points): OUT *argc; the array and its strings are owned by the
 * caller, freed with sweep_argv_free. O(options). */
char **sweep_point_argv(const sweep_spec *s, uint64_t i, int *argc);
void sweep_argv_free(char **argv, int argc);
/* Per-point run-time limit in seconds from the SPEC's `timeout:` (0: none). */
double sweep_timeout_s(const sweep_spec *s);

/* ---- running -------------------------------------------------------------------------- */
typedef struct sweep_run_opts {
  int jobs;           /* points at once on each rank (-j), >= 1 */
  const char *dir;    /* --out DIR: the journal lives there; NULL: a temporary journal */
  int resume;         /* DIR's journal continues (it must be this grid's) */
  FILE *progress;     /* a progress bar goes here (borrowed), or NULL */
  int say_retries;    /* print a line on stderr when a point is run again */
  struct sweep_mpi *mpi; /* NULL, or MPI started on several ranks: the others are serving */
} sweep_run_opts;

typedef struct sweep_run sweep_run;
/* Checks before any work that opts->dir can take this sweep: a journal of another grid, or
 * results files without a journal, are refused (err names the fix), as is a journal of this
 * grid without opts->resume. Writes nothing. 0 or an error code. */
wk_errcode sweep_check_dir(const sweep_spec *s, const sweep_run_opts *opts, wk_err *err);

/* Runs every point not yet in the journal, on opts->jobs processes here and, when MPI is up
 * (opts->mpi) on more than one rank, on every other rank's (each of which is in
 * sweep_serve). A point that fails is recorded with its error; a point whose process dies
 * (a signal other than SIGINT, SIGTERM, SIGHUP) is run once more, on whichever worker is free
 * next, and recorded as failed if it dies again. OUT *out: the run, whose rows can then be
 * written (free with sweep_run_free). Returns 0 or an error code (the journal cannot be
 * written). Called on rank 0 only. */
wk_errcode sweep_execute(const sweep_spec *s, const sweep_host *h, const sweep_run_opts *opts,
                         sweep_run **out, wk_err *err);
void sweep_run_free(sweep_run *r); /* NULL is a no-op */
uint64_t sweep_run_failed(const sweep_run *r);
uint64_t sweep_run_executed(const sweep_run *r); /* points run now (not found in the journal) */
uint64_t sweep_run_retried(const sweep_run *r);  /* points run again after their process died */
double sweep_run_point_s(const sweep_run *r);    /* sum of the points' own wall time, run now */

/* One row per point in grid order: the axis values, status, error, then the command's JSON
 * keys (nested objects flattened as "a.b", arrays of objects as "a.0.b"; a key that an axis
 * column already has is written "<command>.<key>"; wall-clock keys, "wall_s", are left out so that the rows are the same
 * bytes on any number of workers). CSV: RFC 4180, arrays as JSON text. JSON: one object
 * {spec, command, axes, points, ok, failed, columns, rows}, one row per line. A write error is
 * seen through ferror(f) by the caller. O(points x keys), two passes over the journal. */
wk_errcode sweep_write_csv(const sweep_run *r, FILE *f, wk_err *err);
wk_errcode sweep_write_json(const sweep_run *r, const char *spec_name, FILE *f, wk_err *err);

/* Runs point i in this process through h->run (no child): for tests and the benchmark. */
int sweep_run_point(const sweep_spec *s, const sweep_host *h, uint64_t i, char **json);

/* ---- MPI -------------------------------------------------------------------------------- */
/* 1 when this process was started by an MPI launcher (mpiexec, srun) as one of several: PMI_SIZE,
 * PMIX_SIZE or OMPI_COMM_WORLD_SIZE above 1 in the environment. */
int sweep_mpi_launched(void);
/* 1 when this build has MPI (MPICH found by CMake). */
int sweep_mpi_built(void);
/* The launcher's rank of this process from the environment (0 when none): which one of several
 * processes prints, where MPI is absent and cannot say. */
int sweep_mpi_env_rank(void);

typedef struct sweep_mpi sweep_mpi;
/* MPI_Init (threads not needed: one thread calls MPI). OUT *out. WK_EUSAGE when this build has
 * no MPI. */
wk_errcode sweep_mpi_start(sweep_mpi **out, wk_err *err);
int sweep_mpi_rank(const sweep_mpi *m);
int sweep_mpi_size(const sweep_mpi *m);
/* Every rank says whether it read the SPEC and the grid's digest: 1 when all read it and
 * found the same grid (the points are sent as indices), else 0 on every rank. m NULL: ok. */
int sweep_mpi_agree(sweep_mpi *m, int ok, uint64_t digest);
/* Rank 0 tells every other rank (each in sweep_serve) to stop, once: after the sweep, or
 * when it fails before. Other ranks: no-op. */
void sweep_mpi_release(sweep_mpi *m);
/* MPI_Finalize (rank 0 must have released the others if they serve). NULL is a no-op. */
void sweep_mpi_stop(sweep_mpi *m);
/* A rank other than 0: runs the points rank 0 hands it, jobs at a time, each in a child
 * process, and sends back their results, until rank 0 says stop. Returns 0. */
int sweep_serve(sweep_mpi *m, const sweep_spec *s, const sweep_host *h, int jobs);

#endif
