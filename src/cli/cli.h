/* cli — the `wanka` command. Each subcommand is one cmd_*.c file with an option table that
 * also generates its --help (ROSS's TWOPT tables). Only this module prints errors and exits. */
#ifndef WK_CLI_H
#define WK_CLI_H

#include "core/core.h"

#include <jansson.h>
#include <stdio.h>

typedef enum cli_opt_type {
  CLI_FLAG,     /* int: set to 1 */
  CLI_STR,      /* const char *: borrowed from argv */
  CLI_INT,      /* int64_t */
  CLI_DOUBLE,   /* double */
  CLI_SIZE,     /* uint64_t bytes, "1K" = 1024 */
  CLI_DURATION, /* double seconds, "30m" */
} cli_opt_type;

typedef struct cli_opt {
  const char *name; /* without the leading "--" */
  cli_opt_type type;
  void *dest;
  const char *metavar; /* shown in --help, e.g. "N" */
  const char *help;
} cli_opt;

typedef struct cli_cmd {
  const char *name;
  const char *usage;   /* "wanka coll <op> --cluster C [options]" */
  const char *summary; /* one line for `wanka --help` */
  const cli_opt *opts; /* NULL-name terminated */
} cli_cmd;

/* Parses argv (after the subcommand words) against cmd->opts. Positional arguments are
 * collected into pos (at most maxpos). Returns 0, 1 when --help was printed, or 2 after
 * printing a usage error. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int maxpos, int *npos);
void cli_help(const cli_cmd *cmd, FILE *f);

/* Prints "wanka: <formatted error>" style lines to stderr and returns the exit code (2). */
int cli_fail_err(const wk_err *e);
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints o as one indented JSON object on stdout (keys in insertion order, reals with
 * `precision` significant digits; 0 = jansson's default) and releases it (steals o). */
void cli_print_json(json_t *o, int precision);

/* Sets o["breakdown"] to a training step's time breakdown ({compute_s, tp_s, ..., overlap_s}):
 * one writer for `train --json` and `plan --json` (cmd_train.c). */
struct work_breakdown;
void cli_put_breakdown(json_t *o, const struct work_breakdown *b);

/* Atomic output files: write to "<path>.tmp.<pid>", then rename over path on commit, so a
 * failed or interrupted run leaves the previous output intact. */
typedef struct cli_out {
  FILE *f;
  char path[1024], tmp[1100];
} cli_out;
int cli_out_open(cli_out *o, const char *path);   /* 0 or -1 (errno set) */
int cli_out_commit(cli_out *o);                   /* 0 or -1; the temp file is removed on error */
void cli_out_abort(cli_out *o);

/* Subcommand entry points: argc/argv start after the subcommand name. Return the exit code. */
int cmd_cluster(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_coll(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
