/* cmd_sweep.c — `wanka sweep SPEC.yaml`: design-space exploration. The sweep module expands
 * the grid, hands the points out (-j N processes here, MPI ranks under mpiexec), journals and
 * orders the results; this file is its host: which options each command takes (read from the
 * command's own --help, which its option table generates), which cluster keys exist, and how to
 * run one point (the subcommand's function, called in the point's process with its standard
 * output captured: that is the point's --json). Outputs go through cli_out like every file. */
#define _GNU_SOURCE /* open_memstream */
#include "cli.h"
#include "hw/hw.h"
#include "report/report.h"
#include "sweep/sweep.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The subcommands a point can be. */
typedef struct point_cmd {
  const char *name;
  int (*run)(int argc, char **argv);
} point_cmd;
static const point_cmd point_cmds[] = {
    {"replay", cmd_replay}, {"compare", cmd_compare}, {"train", cmd_train},
    {"plan", cmd_plan},     {"coll", cmd_coll},       {"sim", cmd_sim},
    {NULL, NULL},
};
/* What the SPEC's `command:` may say, for its "unknown command" error. */
static const sweep_option command_names[] = {
    {"replay", 0},   {"compare", 0},       {"train", 0},   {"plan", 0},    {"coll OP", 0},
    {"sim stencil", 0}, {"sim fft", 0}, {"sim dataparallel", 0},
};

static const char *const reserved[] = {"json", "out", "timeline", "report", "help", NULL};

/* The host's state: the option list of the SPEC's command (one command per sweep). */
typedef struct host_ctx {
  char *help;          /* the command's --help text, which opts point into */
  sweep_option *opts;
  size_t nopts;
} host_ctx;

static const point_cmd *find_cmd(const char *name) {
  for (const point_cmd *c = point_cmds; c->name; c++)
    if (!strcmp(c->name, name)) return c;
  return NULL;
}

/* Runs cmd with argv, its standard output captured. OUT *text (malloc'd). Returns its exit
 * code. The process's `stdout` stream is swapped, not its descriptor: every writer of a
 * command prints through `stdout` (cli_print_json, printf). */
static int captured(const point_cmd *cmd, int argc, char **argv, char **text) {
  size_t n = 0;
  *text = NULL;
  FILE *mem = open_memstream(text, &n), *saved = stdout;
  if (!mem) return cli_fail("cannot capture a command's output: out of memory");
  stdout = mem;
  int rc = cmd->run(argc, argv);
  stdout = saved;
  fclose(mem);
  return rc;
}

/* cli_help prints "  --NAME METAVAR   help" for an option with a value and "  --NAME   help"
 * for a switch, the left column padded to 26 (opt.c): a name followed by one space and a
 * word is an option with a value. */
static int host_options(void *vctx, int nwords, char *const *words, const sweep_option **opts,
                        size_t *n) {
  host_ctx *h = vctx;
  const point_cmd *cmd = find_cmd(words[0]);
  if (!cmd || (!strcmp(words[0], "sim") && nwords < 2) || (!strcmp(words[0], "coll") && nwords < 2)) {
    *opts = command_names;
    *n = sizeof command_names / sizeof command_names[0];
    return 1;
  }
  char *argv[16];
  int argc = 0;
  for (int i = 1; i < nwords && argc < 14; i++) argv[argc++] = words[i];
  argv[argc++] = "--help";
  argv[argc] = NULL;
  free(h->help);
  free(h->opts);
  h->help = NULL;
  h->opts = NULL;
  h->nopts = 0;
  captured(cmd, argc, argv, &h->help);
  size_t cap = 0;
  for (char *line = h->help, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (strncmp(line, "  --", 4)) continue;
    char *name = line + 4;
    size_t len = strcspn(name, " ");
    int flag = !(name[len] == ' ' && name[len + 1] && name[len + 1] != ' ');
    name[len] = 0;
    if (h->nopts == cap) {
      cap = cap ? 2 * cap : 32;
      h->opts = realloc(h->opts, cap * sizeof *h->opts);
      if (!h->opts) exit(3);
    }
    h->opts[h->nopts++] = (sweep_option){name, flag};
  }
  if (!h->nopts) { /* "sim bogus --help": not a command with options */
    *opts = command_names;
    *n = sizeof command_names / sizeof command_names[0];
    return 1;
  }
  *opts = h->opts;
  *n = h->nopts;
  return 0;
}

/* An axis cluster:KEY: known when the base cluster takes KEY=first as a tweak. A cluster that
 * cannot be loaded here is not judged (its points will say why). */
static int host_tweak_known(void *vctx, const char *opt, const char *value, const char *key,
                            const char *first, char *msg, size_t n) {
  (void)vctx;
  if (strcmp(opt, "cluster")) {
    snprintf(msg, n, "--%s takes no KEY=value tweaks (--cluster does)", opt);
    return 1;
  }
  hw_config cfg;
  wk_err err;
  wk_err_clear(&err);
  if (hw_config_load(&cfg, value, &err)) return 0;
  char kv[512];
  snprintf(kv, sizeof kv, "%s=%s", key, first);
  if (hw_config_tweak(&cfg, kv, &err) == WK_EUNKNOWN_KEY) {
    snprintf(msg, n, "%s", err.msg);
    return 1;
  }
  return 0;
}

static int host_run(void *vctx, int argc, char **argv, char **json) {
  (void)vctx;
  const point_cmd *cmd = find_cmd(argv[0]);
  if (!cmd) {
    *json = NULL;
    return cli_fail("unknown command '%s'", argv[0]);
  }
  return captured(cmd, argc - 1, argv + 1, json);
}

/* "-j N" and "-jN" as --jobs (cli_parse reads long options only). OUT argv copy. */
static char **long_jobs(int argc, char **argv, char **buf) {
  char **v = calloc((size_t)argc + 1, sizeof *v);
  if (!v) exit(3);
  *buf = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "-j")) v[i] = "--jobs";
    else if (!strncmp(argv[i], "-j", 2) && argv[i][2] != '-') {
      if (asprintf(buf, "--jobs=%s", argv[i] + 2) < 0) exit(3);
      v[i] = *buf;
    } else v[i] = argv[i];
  }
  return v;
}

/* Shell-quoted word for --list. */
static void put_word(FILE *f, const char *w) {
  if (*w && !strpbrk(w, " \t\n'\"\\$`*?[]{}()<>|&;#~!")) {
    fputs(w, f);
    return;
  }
  fputc('\'', f);
  for (const char *p = w; *p; p++) {
    if (*p == '\'') fputs("'\\''", f);
    else fputc(*p, f);
  }
  fputc('\'', f);
}

/* DIR/results.csv and DIR/results.json, checked before any work (NULL, NULL when DIR does not
 * exist yet: checked again once it is made). 0 or 2. */
static int check_results(const char *dir, int exists, cli_out *out[2]) {
  out[0] = out[1] = NULL;
  if (!exists) return 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/results.csv", dir);
  if (!(out[0] = cli_out_new(path))) return 2;
  snprintf(path, sizeof path, "%s/results.json", dir);
  if (!(out[1] = cli_out_new(path))) {
    cli_out_abort(out[0]);
    out[0] = NULL;
    return 2;
  }
  return 0;
}

/* Writes DIR/results.csv and results.json as a pair (both temp files in full, then two
 * renames). Takes out[]. 0 or 2. */
static int write_results(const sweep_run *r, const char *spec_path, cli_out *out[2]) {
  wk_err err;
  wk_err_clear(&err);
  FILE *csv = cli_out_begin(out[0]);
  if (!csv) {
    cli_out_abort(out[1]);
    return 2;
  }
  FILE *js = cli_out_begin(out[1]);
  if (!js) {
    cli_out_abort(out[0]);
    return 2;
  }
  if (sweep_write_csv(r, csv, &err) || sweep_write_json(r, spec_path, js, &err)) {
    cli_out_abort(out[0]);
    cli_out_abort(out[1]);
    return cli_fail_err(&err);
  }
  return cli_out_commit(out, 2);
}

int cmd_sweep(int argc, char **argv) {
  const char *out_dir = NULL;
  int json = 0, resume = 0, allow_large = 0, list = 0, want_mpi = 0;
  int64_t jobs = 1;
  const cli_opt opts[] = {
      {"out", CLI_STR, &out_dir, "DIR",
       "write DIR/results.csv and DIR/results.json, and journal each point in "
       "DIR/sweep.journal as it finishes", 0, 0},
      {"json", CLI_FLAG, &json, NULL, "print the results as one JSON object (else CSV, or a "
       "summary with --out)", 0, 0},
      {"jobs", CLI_INT, &jobs, "N", "-j N: points at once on this machine (on each rank under "
       "MPI; default 1)", 1, 1024},
      {"resume", CLI_FLAG, &resume, NULL, "continue the sweep journaled in --out DIR: points "
       "already written are not run again", 0, 0},
      {"allow-large", CLI_FLAG, &allow_large, NULL, "run a grid of over 1,000,000 points", 0, 0},
      {"list", CLI_FLAG, &list, NULL, "print each point's command line and run nothing", 0, 0},
      {"mpi", CLI_FLAG, &want_mpi, NULL, "insist on MPI (an error when this build has none or "
       "no launcher started it)", 0, 0},
      {0},
  };
  const cli_cmd cmd = {"sweep", "wanka sweep SPEC.yaml [--out DIR] [--json] [-j N] [--resume]",
                       "Run a grid of scenarios (docs/sweep.md): every point a replay, train, "
                       "plan, coll or sim\nrun, one row each, in grid order; -j N processes "
                       "here, or MPI ranks under mpiexec.", opts};
  /* Several processes under a launcher read the same command line: only one says what is
   * wrong with it. */
  int env_rank = sweep_mpi_env_rank();
  FILE *quiet = NULL, *saved_err = stderr;
  if (env_rank) {
    quiet = fopen("/dev/null", "w");
    if (quiet) stderr = quiet;
  }
  char *jbuf, **av = long_jobs(argc, argv, &jbuf), *pos[1];
  int npos, rc = cli_parse(&cmd, argc, av, pos, 1, &npos);
  free(av);
  free(jbuf);
  if (!rc && npos != 1) rc = cli_fail("sweep needs a SPEC file (see docs/sweep.md)");
  if (!rc && resume && !out_dir) rc = cli_fail("--resume needs --out DIR (the sweep's journal)");
  int launched = sweep_mpi_launched();
  if (!rc && (launched || want_mpi) && !sweep_mpi_built())
    rc = cli_fail("MPI is absent: this wanka was built without MPI (CMake found no MPICH), so "
                  "it cannot be one of several ranks; install libmpich-dev and mpich and "
                  "rebuild, or run the sweep alone with -j N");
  if (!rc && want_mpi && !launched)
    rc = cli_fail("--mpi: no MPI launcher started this process; run it as 'mpiexec -n K wanka "
                  "sweep ...'");
  if (rc) {
    if (quiet) stderr = saved_err, fclose(quiet);
    return rc == 1 ? 0 : rc;
  }
  const char *spec_path = pos[0];

  sweep_mpi *mpi = NULL;
  wk_err err;
  wk_err_clear(&err);
  if (launched && sweep_mpi_start(&mpi, &err)) {
    if (quiet) stderr = saved_err, fclose(quiet);
    return env_rank ? 2 : cli_fail_err(&err);
  }
  int rank = sweep_mpi_rank(mpi), ranks = sweep_mpi_size(mpi);
  if (quiet) stderr = saved_err, fclose(quiet), quiet = NULL;

  host_ctx hc = {NULL, NULL, 0};
  sweep_host host = {&hc, host_options, reserved,
                     "each point prints its --json to the sweep, and files written by points "
                     "would overwrite each other (the sweep writes --out DIR/results.*)",
                     host_tweak_known, host_run, cli_suggest};
  sweep_spec *spec = NULL;
  sweep_run *run = NULL;
  cli_out *outs[2] = {NULL, NULL};
  int serving = 0;
  rc = 2;
  /* every rank reads the SPEC (a point is sent as its index); rank 0 speaks for all */
  int bad = sweep_spec_load(spec_path, &host, allow_large, &spec, &err) != WK_OK;
  if (bad && !rank) cli_fail_err(&err);
  if (!sweep_mpi_agree(mpi, !bad, bad ? 0 : sweep_digest(spec))) {
    if (!bad && !rank)
      cli_fail("another rank could not read %s, or read a different grid from it: give every "
               "rank the same file", spec_path);
    goto done;
  }
  if (list) {
    if (!rank)
      for (uint64_t i = 0; i < sweep_points(spec); i++) {
        int n;
        char **pv = sweep_point_argv(spec, i, &n);
        printf("%llu\twanka", (unsigned long long)i);
        for (int k = 0; k < n; k++) putchar(' '), put_word(stdout, pv[k]);
        putchar('\n');
        sweep_argv_free(pv, n);
      }
    rc = 0;
    goto done;
  }
  if (rank) {
    rc = sweep_serve(mpi, spec, &host, (int)jobs);
    goto done;
  }
  serving = ranks > 1; /* the other ranks wait for points, or for stop */
  sweep_run_opts ro = {(int)jobs, out_dir, resume, isatty(STDERR_FILENO) ? stderr : NULL, 1, mpi};
  int exists = 0;
  if (out_dir) { /* every check before any work; the folder is made only then */
    if (cli_out_check_dir(out_dir, &exists) || check_results(out_dir, exists, outs)) goto done;
    if (sweep_check_dir(spec, &ro, &err)) {
      cli_fail_err(&err);
      goto done;
    }
    if (!exists && (cli_out_make_dir(out_dir) || check_results(out_dir, 1, outs))) goto done;
  }
  double t0 = rp_clock_s();
  if (sweep_execute(spec, &host, &ro, &run, &err)) {
    cli_fail_err(&err);
    goto done;
  }
  double wall = rp_clock_s() - t0;
  sweep_mpi_release(mpi); /* every point is in: the other ranks can end */
  if (out_dir) {
    rc = write_results(run, spec_path, outs);
    outs[0] = outs[1] = NULL;
    if (rc) goto done;
  }
  if (json) {
    if (sweep_write_json(run, spec_path, stdout, &err)) {
      rc = cli_fail_err(&err);
      goto done;
    }
  } else if (!out_dir) {
    if (sweep_write_csv(run, stdout, &err)) {
      rc = cli_fail_err(&err);
      goto done;
    }
  } else {
    uint64_t n = sweep_points(spec), failed = sweep_run_failed(run);
    printf("sweep      %s: %llu points of '%s' (%llu ok, %llu failed)\n", spec_path,
           (unsigned long long)n, sweep_command(spec), (unsigned long long)(n - failed),
           (unsigned long long)failed);
    printf("ran        %llu now (%llu from the journal), %llu run again after their process "
           "died\n", (unsigned long long)sweep_run_executed(run),
           (unsigned long long)(n - sweep_run_executed(run)),
           (unsigned long long)sweep_run_retried(run));
    printf("time       %.2f s on %d rank%s x %lld process%s (the points' own: %.2f s)\n", wall,
           ranks, ranks > 1 ? "s" : "", (long long)jobs, jobs > 1 ? "es" : "",
           sweep_run_point_s(run));
    printf("results    %s/results.csv, %s/results.json\n", out_dir, out_dir);
  }
  /* the count of failed points, unless the results themselves could not be written */
  if (sweep_run_failed(run) && !(fflush(stdout) || ferror(stdout)))
    fprintf(stderr, "sweep: %llu of %llu points failed (their errors are in the error "
            "column)\n", (unsigned long long)sweep_run_failed(run),
            (unsigned long long)sweep_points(spec));
  rc = 0;
done:
  if (serving) sweep_mpi_release(mpi);
  cli_out_abort(outs[0]);
  cli_out_abort(outs[1]);
  sweep_run_free(run);
  sweep_spec_free(spec);
  free(hc.help);
  free(hc.opts);
  sweep_mpi_stop(mpi);
  return rc;
}
