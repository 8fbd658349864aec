/* cli — the `wanka` command. Each subcommand is one cmd_*.c file with an option table that
 * also generates its --help (ROSS's TWOPT tables). Only this module prints errors and exits. */
#ifndef WK_CLI_H
#define WK_CLI_H

#include "core/core.h"
#include "replay/replay.h"
#include "report/report.h"

#include <jansson.h>
#include <stdio.h>

typedef enum cli_opt_type {
  CLI_FLAG,     /* int: set to 1 */
  CLI_STR,      /* const char *: borrowed from argv */
  CLI_INT,      /* int64_t */
  CLI_DOUBLE,   /* double */
  CLI_SIZE,     /* uint64_t bytes, "1K" = 1024 */
  CLI_DURATION, /* double seconds, "30m" */
  CLI_LIST,     /* cli_list: each use of the option adds one value (borrowed from argv) */
} cli_opt_type;

/* The values of an option that may be given several times (`--cluster A --cluster B`). */
#define CLI_LIST_MAX 16
typedef struct cli_list {
  const char *v[CLI_LIST_MAX];
  int n;
} cli_list;

typedef struct cli_opt {
  const char *name; /* without the leading "--" */
  cli_opt_type type;
  void *dest;
  const char *metavar; /* shown in --help, e.g. "N" */
  const char *help;
  /* Numeric types: the values accepted, both ends included (for CLI_DURATION in seconds, for
   * CLI_SIZE in bytes), shown in --help as "[lo, hi]" and checked by cli_parse before any
   * work. Every numeric option has one: lo == hi == 0 is a bug (WK_ASSERT). Defaults the
   * command sets itself are not checked (a default may be a sentinel such as -1 = all). */
  double lo, hi;
} cli_opt;

/* Names shared by several commands, for their "unknown ..." errors (NULL-terminated). */
extern const char *const cli_trace_formats[]; /* auto, swf, sacct, ... */
extern const char *const cli_dtypes[];        /* train and plan: bf16, fp16, fp8 */
extern const char *const cli_attentions[];    /* flash, unfused */
extern const char *const cli_cp_comms[];      /* p2p, allgather */
extern const char *const cli_recomputes[];    /* none, selective, full */
extern const char *const cli_policies[];      /* replay and compare: fifo, backfill, ... */
extern const char *const cli_placements[];    /* topo, first-fit, netaware */

/* Ranges shared by several commands' tables. */
#define CLI_MAX_CARDS 67108864.0        /* 2^26 cards: above any cluster wanka can build */
#define CLI_MAX_SEED 9007199254740991.0 /* 2^53 - 1: every seed up to it is exact as a double */
#define CLI_LEVELS 0, 2                 /* fidelity levels 0, 1, 2 */

typedef struct cli_cmd {
  const char *name;
  const char *usage;   /* "wanka coll <op> --cluster C [options]" */
  const char *summary; /* one line for `wanka --help` */
  const cli_opt *opts; /* NULL-name terminated */
} cli_cmd;

/* Parses argv (after the subcommand words) against cmd->opts. Positional arguments are
 * collected into pos (at most maxpos). Each numeric value given is checked against its
 * option's range. Returns 0, 1 when --help was printed, or 2 after printing a usage error
 * ("error: --cards -8 is out of range [2, 67108864]"). */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int maxpos, int *npos);
void cli_help(const cli_cmd *cmd, FILE *f);
/* For a command of subcommands (`wanka model list|show ...`): given none, prints top's help on
 * stderr and returns 2; given --help or -h, prints it on stdout and returns 0; else returns -1
 * (argv[0] names the subcommand). */
int cli_sub_help(const cli_cmd *top, int argc, char **argv);
/* The same range check for a number an option carries inside a string (e.g. `--failures
 * RATE|off`): 0 when lo <= v <= hi, else 2 after printing the error, which shows `text` as
 * given and the bounds formatted as `type` reads them. */
int cli_check_range(const char *name, const char *text, double v, double lo, double hi,
                    cli_opt_type type);
/* Formats a duration in seconds as the parser reads it back ("1ms", "10m", "7d"). */
const char *cli_fmt_duration(double s, char *buf, size_t n);

/* "Did you mean": the name in names (NULL-terminated) that `given` is most likely a typo of
 * (edit distance with transpositions, case ignored, at most a third of its length, and 1 at
 * least), or NULL when none is that close. */
const char *cli_suggest(const char *given, const char *const *names);
/* "; did you mean 'NAME'?" (prefix + NAME) in buf when cli_suggest finds one, else "". */
const char *cli_did_you_mean(const char *given, const char *const *names, const char *prefix,
                             char *buf, size_t n);

/* "error: unknown WHAT 'GIVEN'; did you mean 'NAME'? (a, b or c)": one line listing names
 * (NULL-terminated), the suggestion only when GIVEN is a likely typo of one. Returns 2. */
int cli_fail_unknown(const char *what, const char *given, const char *const *names);
/* cli_fail_err for an error of hw_load(spec) or work_model_get(spec), adding "did you mean"
 * when spec names no file and is one typo from a preset or model (names.c). Return 2. */
int cli_fail_cluster(const wk_err *err, const char *spec);
int cli_fail_model(const wk_err *err, const char *spec);

/* Prints "wanka: <formatted error>" style lines to stderr and returns the exit code (2). */
int cli_fail_err(const wk_err *e);
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints o as one indented JSON object on stdout (keys in insertion order, reals with
 * `precision` significant digits; 0 = jansson's default) and releases it (steals o). */
void cli_print_json(json_t *o, int precision);

/* train and plan: refuses --dtype fp8 on a card without FP8 units (its FP8 peak no higher than
 * BF16), naming the tweak that asks the what-if. 0, or 2 after the error. */
int cli_check_dtype(const hw_cluster *c, const char *cluster, int dtype); /* dtype: work_dtype */
/* The same for an attention kernel the card cannot run (flash3 without its published speeds):
 * prints the error, naming the tweak that asks the what-if, and returns 2; else 0. k:
 * work_attn */
int cli_check_attn(const hw_cluster *c, const char *cluster, int k);

/* Sets o["breakdown"] to a training step's time breakdown ({compute_s, tp_s, ..., overlap_s}):
 * one writer for `train --json` and `plan --json` (cmd_train.c). */
struct work_breakdown;
void cli_put_breakdown(json_t *o, const struct work_breakdown *b);

/* ---- outputs (out.c) ---------------------------------------------------------------------
 * Every file wanka writes goes through a cli_out, by one rule: a regular file or a new name is
 * replaced atomically (a temp file "<target>.tmp.<pid>" in the target's folder, fsync, rename),
 * so a failed or interrupted run leaves the previous output byte for byte; a symlink is
 * followed (even a dangling one) and its target replaced, the link kept; a device, FIFO or
 * socket is written in place; "-" (or a path naming the same file as standard output) is
 * standard output. The functions print their one error line themselves ("error: cannot write
 * 'PATH': reason", "<stdout>" for standard output) and return 2, the exit code. A closed pipe
 * is no error: the process removes its temp files and ends by SIGPIPE, quietly, as Unix tools
 * do (status 141 in a shell). */
typedef struct cli_out cli_out;
/* Checks, before any work, that path can be written (its folder exists and takes files, it is
 * not a folder, a file is not read-only). Returns a handle (nothing opened yet) or NULL after
 * printing the error. The handle must go to cli_out_begin, cli_out_commit or cli_out_abort. */
cli_out *cli_out_new(const char *path);
/* Opens the output for writing: the stream to write to (owned by o), or NULL after printing
 * the error, with o freed. Write errors need no checking: the stream keeps the first one and
 * cli_out_commit reports it. */
FILE *cli_out_begin(cli_out *o);
/* Completes outs[0..n) as one set: every stream is flushed (temp files fsynced) and only when
 * all succeeded are the temp files renamed into place, one after the other. On any error all
 * temp files are removed and nothing is renamed. Frees every handle. 0, or 2 after printing
 * the error of the first output that failed. */
int cli_out_commit(cli_out *const *outs, int n);
/* Drops an output: its temp file is removed and the target left as it was. NULL: no-op. */
void cli_out_abort(cli_out *o);
/* For an output folder (replay --out DIR): 0 when DIR is a writable folder (OUT *exists = 1)
 * or can be made in a writable parent (*exists = 0), else 2 after printing why. */
int cli_out_check_dir(const char *dir, int *exists);
int cli_out_make_dir(const char *dir); /* mkdir; an existing one is fine; 0 or 2 */
/* main's frame around a subcommand: installs the signal handlers (temp files removed on
 * SIGINT, SIGTERM, SIGHUP; SIGPIPE ignored) and routes the process's stdout through a checked
 * stream (OUT *saved: the stream to restore). cli_stdout_end flushes it, restores *saved and
 * returns rc, or 2 after "error: cannot write <stdout>: reason" when rc was 0 and a write to
 * standard output failed. */
cli_out *cli_stdout_begin(FILE **saved);
int cli_stdout_end(cli_out *o, FILE *saved, int rc);

/* ---- HTML reports (report.c) -------------------------------------------------------------
 * `--report FILE.html` writes the page and FILE.data.json beside it (FILE.html's name less
 * ".html", plus ".data.json"), the pair through cli_out: both checked before any work, both
 * replaced atomically together. */
typedef struct cli_report cli_report;
/* Checks both paths (a file name is required: "-" is refused, the data has to go beside it).
 * NULL after printing the error. */
cli_report *cli_report_new(const char *path);
/* Writes rep to both files and commits them as a pair; frees o. 0, or 2 after the error. */
int cli_report_commit(cli_report *o, const rp_report *rep);
void cli_report_abort(cli_report *o); /* NULL is a no-op */

/* What a replay's report needs beyond replay.h: each supernode's busy card-seconds and each
 * run's card-seconds, gathered by replay_opts.observe (set observe = cli_usage_observe and
 * observe_ctx = the cli_usage). Cost: O(supernodes a run spans) per start and stop. */
typedef struct cli_usage cli_usage;
cli_usage *cli_usage_new(const hw_cluster *c, size_t jobs); /* jobs: the trace's, an upper bound */
void cli_usage_observe(void *ctx, uint32_t job, int start, wk_time t, const sched_range *r,
                       uint32_t nr);
void cli_usage_free(cli_usage *u); /* NULL is a no-op */
/* Card-seconds held by all the runs of observer id `run` (replay_run_ids maps ids to jobs). */
double cli_usage_job_card_s(const cli_usage *u, uint32_t run);

/* ---- what each tenant, queue and job size got (sreport.c) ---------------------------------
 * Slurm's sreport for a finished replay: per tenant, per trace queue and per job size (cards:
 * 1, 2-8, 9-64, ... by powers of 8), the replayed jobs, the card-hours their runs held
 * (failures and restarts included), the cards in use on average over the makespan, the
 * tenant's quota in cards, and the wait (first start - submit) at p50 and p99 (nearest rank,
 * as the replay's own; null where no job of the row started). Tenants and queues most
 * card-hours first, sizes in order. u: the replay's observer (card-seconds per run). */
typedef struct cli_sreport_row {
  char name[64];
  uint32_t group; /* tenant id, queue name id or size bin */
  size_t jobs, waited; /* waited: jobs that started */
  double card_hours, cards_used, quota_cards; /* quota: tenants only (-1 elsewhere) */
  double wait_p50_s, wait_p99_s;
} cli_sreport_row;
typedef struct cli_sreport cli_sreport;
cli_sreport *cli_sreport_new(const hw_cluster *c, const trace *t, const replay *r,
                             const cli_usage *u);
void cli_sreport_free(cli_sreport *s); /* NULL is a no-op */
/* table 0 tenants, 1 queues, 2 sizes: OUT *n rows (borrowed). */
const cli_sreport_row *cli_sreport_rows(const cli_sreport *s, int table, size_t *n);
json_t *cli_sreport_json(const cli_sreport *s); /* {"tenants":[..],"queues":[..],"sizes":[..]} */
/* kind,name,jobs,card_hours,cards_used,quota_cards,wait_p50_s,wait_p99_s: a row a line. */
void cli_sreport_csv(const cli_sreport *s, FILE *f);
/* The three tables as text, the 16 largest tenants and queues one by one, the rest as one row. */
void cli_sreport_text(const cli_sreport *s);

/* Adds the replay's pages to rep: load over time, job-time CDFs, tenants against quotas,
 * failures, the fabric (tiers, slowdowns) and the cluster's supernodes. `what` names the
 * scenario in headings (NULL: none). */
void cli_report_replay(rp_report *rep, const char *what, const hw_cluster *c, const replay *r,
                       const cli_usage *u, const replay_opts *o);

/* Scenarios side by side (compare): a few figures as bars, utilization and queue length over
 * time and the JCT and queueing CDFs, one line per scenario. */
void cli_report_compare(rp_report *rep, const char *const *labels, const hw_cluster *const *c,
                        const replay *const *r, const cli_usage *const *u, size_t n);
/* The cluster's picture after replay r: one cell per supernode coloured by busy share. */
void cli_report_machine(rp_report *rep, const char *name, const hw_cluster *c, const replay *r,
                        const cli_usage *u);

/* Training steps side by side: the breakdown of each (compute, exposed TP/PP/DP/EP/CP, bubble,
 * overlap, optimizer) as stacked bars, and the memory each needs per card against HBM.
 * names[i] labels res[i]. */
struct work_result;
void cli_report_steps(rp_report *rep, const char *const *names, const struct work_result *const *res,
                      size_t n);

/* --failures RATE|off and --fabric on|off (replay and compare) into o. 0, or 2 after the error. */
int cli_replay_failures_fabric(const char *failures, const char *fabric, replay_opts *o);
/* A progress bar fed by a run's progress callback (replay_opts, work_plan_opts): its share done
 * maps to [base, base + span] of the bar, so that several runs make one bar. */
typedef struct cli_bar {
  rp_progress *p;
  char label[64];
  double base, span;
} cli_bar;
void cli_bar_set(void *ctx, double frac);
/* --fail SPEC[,SPEC]: each fault read against cluster c, named in errors as given (`name`)
 * (OUT faults[CLI_MAX_FAULTS], *n). */
#define CLI_MAX_FAULTS 64
wk_errcode cli_replay_faults(const char *fail, const hw_cluster *c, const char *name,
                             replay_fault *faults, uint32_t *n, wk_err *err);

/* A replay's figures as one JSON object (replay --json, and each scenario of compare --json):
 * the metrics, the fabric's, and energy (null where the cluster gives no power). Owned by the
 * caller. */
json_t *cli_replay_json(const hw_cluster *c, const char *cluster, const trace *t,
                        const char *trace_path, const replay_opts *o, const replay *r);

/* Subcommand entry points: argc/argv start after the subcommand name. Return the exit code. */
int cmd_cluster(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_coll(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

#endif
