/* fuzz_sweep — libFuzzer harness for the sweep SPEC reader (sweep_spec_parse, what `wanka sweep
 * SPEC.yaml` reads), against a stand-in host with a few options and one tweakable cluster key:
 * any bytes must give a grid or an error value with a position and a message, never a crash,
 * leak, hang or sanitizer report. A grid's first, middle and last points are expanded into
 * argv, the way workers do. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sweep/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sweep_option opts[] = {{"cluster", 0}, {"policy", 0}, {"seed", 0},
                                    {"cards", 0},   {"quick", 1},  {"json", 1}};
static const char *const reserved[] = {"json", NULL};

static int options(void *ctx, int nwords, char *const *words, const sweep_option **o, size_t *n) {
  (void)ctx, (void)nwords;
  *o = opts;
  *n = strcmp(words[0], "fake") ? 1 : sizeof opts / sizeof opts[0];
  return strcmp(words[0], "fake") != 0;
}

static int tweak(void *ctx, const char *opt, const char *value, const char *key, const char *first,
                 char *msg, size_t n) {
  (void)ctx, (void)opt, (void)value, (void)first;
  if (!strcmp(key, "oversubscription")) return 0;
  strncpy(msg, "unknown cluster key", n);
  return 1;
}

static int run(void *ctx, int argc, char **argv, char **json) {
  (void)ctx, (void)argc, (void)argv;
  *json = NULL;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sweep_host host = {NULL, options, reserved, "reserved", tweak, run, NULL};
  sweep_spec *s = NULL;
  wk_err err;
  if (sweep_spec_parse("fuzz.yaml", (const char *)data, size, &host, 0, &s, &err)) {
    WK_ASSERT(!s && err.msg[0]);
    return 0;
  }
  uint64_t n = sweep_points(s);
  WK_ASSERT(n >= 1 && n <= SWEEP_LARGE);
  uint64_t pick[3] = {0, n / 2, n - 1};
  for (int i = 0; i < 3; i++) {
    int argc;
    char **argv = sweep_point_argv(s, pick[i], &argc);
    WK_ASSERT(argc >= 2 && !strcmp(argv[0], "fake") && !strcmp(argv[argc - 1], "--json"));
    sweep_argv_free(argv, argc);
  }
  (void)sweep_digest(s);
  sweep_spec_free(s);
  return 0;
}
