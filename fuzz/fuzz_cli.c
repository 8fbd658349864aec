/* fuzz_cli — libFuzzer harness for the command-line parser: the input is split at newlines
 * into argv words and given to the option-table parser (every option type) and to
 * `wanka cluster` (which also parses NAME:key=value tweaks). Output goes to /dev/null. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char buf[4096];
  setenv("WANKA_MAX_MODEL_BYTES", "268435456", 1); /* stay far below the fuzzer's RSS limit */
  char *argv[64];
  int argc = 0;
  if (size >= sizeof buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  for (char *p = buf, *q; p && argc < 64; p = q) {
    q = strchr(p, '\n');
    if (q) *q++ = 0;
    argv[argc++] = p;
  }
  int flag = 0;
  const char *str = NULL;
  int64_t i64 = 0;
  double d = 0, dur = 0;
  uint64_t sz = 0;
  const cli_opt opts[] = {
      {"flag", CLI_FLAG, &flag, NULL, "a flag", 0, 0},
      {"str", CLI_STR, &str, "S", "a string", 0, 0},
      {"int", CLI_INT, &i64, "N", "an integer", -1e6, 1e6},
      {"num", CLI_DOUBLE, &d, "X", "a number", -1e6, 1e6},
      {"size", CLI_SIZE, &sz, "B", "a size", 0, 1099511627776.0},
      {"time", CLI_DURATION, &dur, "T", "a duration", 0.001, 86400},
      {0},
  };
  const cli_cmd cmd = {"fuzz", "fuzz [options]", "fuzzing", opts};
  char *pos[4];
  int npos;
  cli_parse(&cmd, argc, argv, pos, 4, &npos);
  if (argc >= 1 && (!strcmp(argv[0], "show") || !strcmp(argv[0], "export") || !strcmp(argv[0], "list"))) {
    cmd_cluster(argc, argv);
  }
  return 0;
}
