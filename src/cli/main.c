/* main.c — `wanka SUBCOMMAND [options]`: dispatch, --help and --version, inside the frame of
 * out.c (signal handlers; standard output checked, so a failed write exits 2). */
#define _GNU_SOURCE /* dladdr */
#include "cli.h"

#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#ifndef WK_VERSION
#define WK_VERSION "0.0.0"
#endif

typedef struct subcmd {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} subcmd;

static const subcmd subcmds[] = {
    {"cluster", cmd_cluster, "show, list and export cluster models (presets or YAML files)"},
    {"trace", cmd_trace, "generate job traces and describe real ones (SWF, sacct, Philly, ...)"},
    {"coll", cmd_coll, "time collectives like nccl-tests (L0 analytic, L1 phase, L2 event)"},
    {"train", cmd_train, "time one training step of a transformer (TP/PP/DP/CP/EP, memory, MFU)"},
    {"plan", cmd_plan, "rank every training layout of a model on N cards by time per step"},
    {"model", cmd_model, "list the built-in transformer models and show one (or a YAML file)"},
    {"replay", cmd_replay, "replay a job trace on a cluster: policies, placement, failures, metrics"},
    {"compare", cmd_compare, "the same work on several clusters, policies, placements, side by side"},
    {"sim", cmd_sim, "AI-for-science jobs: 3-D stencil, distributed 3-D FFT, data-parallel model"},
    {"sweep", cmd_sweep, "run a grid of scenarios over -j N processes or MPI ranks, resumable"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
  fprintf(f, "Usage: wanka COMMAND [options]\n"
             "wanka (万卡) is a software twin of a 10,000-60,000-card accelerator cluster and\n"
             "its scheduler.\n\nCommands:\n");
  for (const subcmd *s = subcmds; s->name; s++) fprintf(f, "  %-10s %s\n", s->name, s->summary);
  fprintf(f, "\nRun 'wanka COMMAND --help' for a command's options (e.g. 'wanka coll --help').\n"
             "  --help      show this help\n  --version   print the version\n");
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("wanka %s\n", WK_VERSION);
    return 0;
  }
  const char *names[sizeof subcmds / sizeof subcmds[0]];
  size_t k = 0;
  for (const subcmd *s = subcmds; s->name; s++) {
    if (!strcmp(argv[1], s->name)) return s->run(argc - 2, argv + 2);
    names[k++] = s->name;
  }
  names[k] = NULL;
  return cli_fail_unknown("command", argv[1], names);
}

/* Linking MPI for `sweep` loads MPICH's transport, UCX, whose libucs installs handlers for
 * SIGHUP, SIGILL, SIGBUS, SIGFPE and SIGSEGV as it loads, in every process, whatever the
 * command: a run under nohup would die of SIGHUP, and a crash would print UCX's backtrace
 * instead of dying as it should. The dispositions this process started with are read before
 * any library initialises (the executable's .preinit_array runs first) and put back as main
 * begins; handlers of the sanitizers' runtimes are left alone. Written once before main and
 * read once in it: the table is global because a preinit function is given no context. */
#define START_SIGNALS 32
static struct sigaction start_sig[START_SIGNALS];
static int start_sig_read;

static void read_start_signals(int argc, char **argv, char **envp) {
  (void)argc, (void)argv, (void)envp;
  for (int s = 1; s < START_SIGNALS; s++) sigaction(s, NULL, &start_sig[s]);
  start_sig_read = 1;
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit_signals)(
    int, char **, char **) = read_start_signals;

static void restore_start_signals(void) {
  if (!start_sig_read) return;
  for (int s = 1; s < START_SIGNALS; s++) {
    struct sigaction now;
    if (sigaction(s, NULL, &now) || now.sa_handler == start_sig[s].sa_handler) continue;
    Dl_info who;
    if (now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN &&
        dladdr((void *)now.sa_handler, &who) && who.dli_fname && strstr(who.dli_fname, "san"))
      continue; /* libasan, libubsan: theirs to keep */
    sigaction(s, &start_sig[s], NULL);
  }
}

int main(int argc, char **argv) {
  restore_start_signals();
  FILE *saved = NULL;
  cli_out *so = cli_stdout_begin(&saved);
  int rc = dispatch(argc, argv);
  return cli_stdout_end(so, saved, rc);
}
