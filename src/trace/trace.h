/* trace — job traces in and out: readers for the Standard Workload Format, Slurm `sacct
 * --parsable2`, Cobalt/PBS accounting logs and the public GPU-cluster CSVs (Philly, Alibaba
 * GPU 2023, Helios/Acme), a synthetic generator calibrated on published statistics, and an
 * SWF writer. A trace is one arena-owned array of jobs sorted by submit time; replay/ reads
 * it, nothing here knows about clusters or schedulers. Errors come back as wk_err values
 * ("path:line:col: error: ..."), never printed. */
#ifndef WK_TRACE_H
#define WK_TRACE_H

#include "core/core.h"

#include <stdio.h>

/* ---- jobs ----------------------------------------------------------------------------------- */
/* Final state of a job. One list generates the enum and the names. */
#define TRACE_STATE_MAP(X)                                                                   \
  X(UNKNOWN, "unknown")     /* the trace does not say (Philly, Theta, Mira) */              \
  X(COMPLETED, "completed") /* SWF 1, Slurm COMPLETED, Alibaba Succeeded */                 \
  X(FAILED, "failed")       /* SWF 0, Slurm FAILED/OUT_OF_MEMORY/BOOT_FAIL, Failed */       \
  X(CANCELLED, "cancelled") /* SWF 5, Slurm "CANCELLED by N" */                             \
  X(TIMEOUT, "timeout")     /* Slurm TIMEOUT/DEADLINE; SWF/Cobalt run >= requested time */  \
  X(NODE_FAIL, "node_fail") /* Slurm NODE_FAIL: the machine, not the job, failed */         \
  X(PREEMPTED, "preempted") /* Slurm PREEMPTED */                                          \
  X(RUNNING, "running")     /* still running when the trace ends: runtime is a lower bound */
typedef enum trace_state {
#define TRACE_STATE_ENUM(name, str) TRACE_##name,
  TRACE_STATE_MAP(TRACE_STATE_ENUM)
#undef TRACE_STATE_ENUM
      TRACE_STATE_COUNT
} trace_state;
const char *trace_state_name(trace_state s); /* "completed"; static string */

/* One job. Times are whole seconds (every public trace has 1 s resolution); replay converts
 * to wk_time. Names (user, group, queue) are ids into the trace's name table: 0 is "" (not
 * recorded), see trace_name(). 64 bytes. */
typedef struct trace_job {
  int64_t id;         /* the trace's own job id (array tasks may share one); else the row */
  int64_t submit_s;   /* Unix seconds where the trace has absolute times (SWF adds its
                         UnixStartTime); seconds from the trace start for Alibaba */
  int64_t runtime_s;  /* >= 0, after time_scale */
  int64_t walltime_s; /* requested limit after time_scale; -1 when not known */
  int64_t cards;      /* units * cards_per_unit, 1 .. TRACE_MAX_CARDS */
  int32_t units;      /* as the trace counts them: GPUs, nodes or processors */
  uint32_t user;      /* name id: user */
  uint32_t group;     /* name id: account / virtual cluster / SWF group */
  uint32_t queue;     /* name id: queue / partition / QoS */
  uint32_t line;      /* 1-based source line (0 for generated jobs) */
  uint8_t state;      /* trace_state */
} trace_job;

#define TRACE_MAX_CARDS 10000000         /* more than this on one job is refused as absurd */
#define TRACE_MAX_SECONDS 315576000LL    /* ten years: longer runtimes are refused */
#define TRACE_MAX_TIMESTAMP 32503680000LL /* year 3000 */

/* ---- formats, options, counts ----------------------------------------------------------------- */
#define TRACE_FORMAT_MAP(X)                                                       \
  X(AUTO, "auto")       /* detect from the first non-blank line */               \
  X(SWF, "swf")         /* Parallel Workloads Archive, 18 fields */              \
  X(SACCT, "sacct")     /* Slurm sacct --parsable2 ('|', header names columns) */\
  X(COBALT, "cobalt")   /* Cobalt/PBS accounting: date;E;jobid;key=value ... */  \
  X(PHILLY, "philly")   /* timestamp,duration,num_gpus,gpu_time,cluster */       \
  X(ALIBABA, "alibaba") /* Alibaba cluster-trace-gpu-v2023 pod CSV */            \
  X(HELIOS, "helios")   /* Helios / Acme per-job CSV, columns matched by name */
typedef enum trace_format {
#define TRACE_FORMAT_ENUM(name, str) TRACE_FMT_##name,
  TRACE_FORMAT_MAP(TRACE_FORMAT_ENUM)
#undef TRACE_FORMAT_ENUM
      TRACE_FMT_COUNT
} trace_format;
const char *trace_format_name(trace_format f);
/* "swf" -> TRACE_FMT_SWF. Returns 0, or -1 for an unknown name. */
int trace_format_parse(const char *name, trace_format *out);

/* Why a well-formed row did not become a job. Dropping is not an error: it is counted. */
#define TRACE_DROP_MAP(X)                                                                 \
  X(NO_RUNTIME, "run time unknown (-1, or no Start/End/Elapsed)")                        \
  X(NO_CARDS, "zero processors/GPUs allocated and requested")                            \
  X(CPU_ONLY, "CPU-only job or pod (0 GPUs) in a GPU trace")                             \
  X(NEVER_STARTED, "never scheduled or started (pending at trace end)")                  \
  X(JOB_STEP, "Slurm job step (123.batch, 123.0): the job's own row counts")             \
  X(NOT_END_RECORD, "Cobalt/PBS record other than E (end): S/Q/D lines repeat the job")
typedef enum trace_drop {
#define TRACE_DROP_ENUM(name, str) TRACE_DROP_##name,
  TRACE_DROP_MAP(TRACE_DROP_ENUM)
#undef TRACE_DROP_ENUM
      TRACE_DROP_COUNT
} trace_drop;
const char *trace_drop_name(trace_drop d); /* "no_runtime" */
const char *trace_drop_text(trace_drop d); /* the sentence above */

/* How to read a trace. Transforms, applied in this order after reading:
 *   cards    = units * cards_per_unit (a GPU, node or processor is one card unless told:
 *              Theta nodes carry no GPUs, so a 4-card-per-node twin would say 4);
 *   runtime  = round(runtime * time_scale), walltime likewise (stretches every job);
 *   submit   = first + round((submit - first) / load): a load L > 1 compresses the gaps
 *              between arrivals by 1/L, so arrivals come L times as fast and the offered
 *              card-hours per hour grow by L; runtimes and sizes are untouched.
 * To put a larger machine's trace on a 61,440-card cluster, scale sizes (cards_per_unit) or
 * arrivals (load); a job wider than the cluster is the replay's to refuse, not the reader's. */
typedef struct trace_opts {
  trace_format format;    /* TRACE_FMT_AUTO: detect */
  int64_t cards_per_unit; /* >= 1 */
  double time_scale;      /* > 0 */
  double load;            /* > 0 */
  int skip_bad;           /* 1: count and skip malformed rows (the first error is kept);
                             0: stop at the first one. Header errors always stop. */
} trace_opts;
void trace_opts_init(trace_opts *o); /* auto, 1 card per unit, scale 1, load 1, strict */

typedef struct trace_counts {
  size_t rows;                       /* data rows seen (not header, comment or blank) */
  size_t loaded;                     /* jobs in the trace */
  size_t skipped_bad;                /* malformed rows skipped under skip_bad */
  size_t dropped[TRACE_DROP_COUNT];  /* well-formed rows that are not jobs, by reason */
  wk_err first_bad;                  /* first skipped row's error (code WK_EOK if none) */
} trace_counts;

/* ---- loading ---------------------------------------------------------------------------------- */
typedef struct trace trace;

/* Reads path (plain or gzip, told apart by zlib) in opts->format, or the detected one when
 * that is TRACE_FMT_AUTO; opts NULL means trace_opts_init's defaults. On success *out owns
 * the jobs (free with trace_free) and WK_EOK is returned. On error *out is NULL and e says
 * where: the line and the 1-based character column of the offending field, and what to do.
 * The file is read once, front to back (detection hands its line to the reader, it does not
 * seek back), so path may be a pipe such as /dev/stdin.
 * Cost: O(bytes) to parse plus O(n log n) to sort when the file is not in submit order;
 * memory about 64 bytes per job plus the distinct names. */
wk_errcode trace_load(const char *path, const trace_opts *opts, trace **out, wk_err *e);
/* The same from memory (tests, stdin slurped by a caller); name is used in error messages. */
wk_errcode trace_parse(const char *name, const char *text, size_t len, const trace_opts *opts,
                       trace **out, wk_err *e);
/* Detects the format from the first non-blank line of path. WK_EOK and *out set, or an error
 * naming the file (a cluster-summary CSV gets its own message: it is not a job trace). */
wk_errcode trace_detect(const char *path, trace_format *out, wk_err *e);
void trace_free(trace *t); /* NULL is a no-op */

size_t trace_njobs(const trace *t);
const trace_job *trace_jobs(const trace *t); /* borrowed; sorted by (submit_s, source order) */
const char *trace_name(const trace *t, uint32_t id); /* borrowed; "" for 0 or out of range */
size_t trace_nnames(const trace *t);                 /* ids are 0 .. trace_nnames()-1 */
const trace_counts *trace_get_counts(const trace *t); /* borrowed */
trace_format trace_get_format(const trace *t);
const char *trace_source(const trace *t); /* the path or name given to load/parse */

/* ---- summary ------------------------------------------------------------------------------------ */
typedef struct trace_summary {
  size_t jobs;
  int64_t first_submit_s, last_submit_s;
  int64_t last_end_s;       /* max(submit + runtime) */
  double card_hours;        /* sum cards * runtime / 3600 */
  double mean_offered_cards; /* card_hours / (last_end - first_submit) hours: the busy cards a
                                cluster would need on average to keep up */
  int64_t cards_p50, cards_p90, cards_p99, cards_max;
  int64_t runtime_p50_s, runtime_p90_s, runtime_max_s;
  size_t states[TRACE_STATE_COUNT];
} trace_summary;
/* O(n log n) (percentiles sort a copy). An empty trace gives zeros. */
void trace_summarize(const trace *t, trace_summary *out);

/* ---- writing and generating --------------------------------------------------------------------- */
/* Writes t as SWF (18 fields; header comments say what wrote it). Status: completed 1,
 * failed/node_fail/timeout 0, cancelled/preempted 5, others -1; a timeout reads back as
 * one because its runtime reaches the requested time. User, group and queue are written as
 * numbers: the name itself when it is one, else its name id (a queue id that is another
 * queue's number gets the next free number); queues with other names are named in
 * "; Queue: NUMBER NAME" header lines, which the SWF reader maps back. Submit times are written
 * relative to a "; UnixStartTime:" header (the first submit, rounded down to a day).
 * comment (may be NULL) adds header lines, each prefixed "; ". f is flushed at the end.
 * Returns WK_EIO if f reports a write error; the message gives the reason but not the file
 * (f has no name here: the caller adds it). O(n). */
wk_errcode trace_write_swf(const trace *t, FILE *f, const char *comment, wk_err *e);

typedef struct trace_gen_opts {
  const char *profile; /* "ai4s" (default when NULL), "llm" or "hpc" */
  int64_t cards;       /* cluster size N: job sizes never exceed it; 1 .. TRACE_MAX_CARDS */
  double days;         /* arrivals span [0, days) */
  uint64_t seed;       /* same seed, same jobs, on every platform */
  double utilization;  /* target offered load as a fraction of N cards (default 0.9) */
  int64_t start_s;     /* Unix time of the first instant (default 2024-01-01 00:00 UTC) */
} trace_gen_opts;
void trace_gen_opts_init(trace_gen_opts *o);
/* Builds a synthetic trace (see gen.c for the model and its sources). Arrivals are Poisson
 * with a mild diurnal swing, at the rate that makes E[cards * runtime] * rate equal to
 * utilization * cards. WK_EVALUE/WK_EUNKNOWN_NAME for bad options. Cost: O(jobs), about
 * 64 bytes per job; a month on 61,440 cards is a few hundred thousand jobs. */
wk_errcode trace_gen(const trace_gen_opts *o, trace **out, wk_err *e);
/* The profile names, NULL-terminated (for --help and error messages). */
const char *const *trace_gen_profiles(void);

#endif
