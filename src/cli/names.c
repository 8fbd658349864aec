/* names.c — "did you mean" for the names a user types most: cluster presets and models. The
 * modules that read them (hw/, work/) report an unknown name as a missing file; the command
 * line, which knows the user typed a name, adds the preset or model it is a typo of. */
#include "cli.h"
#include "hw/hw.h"
#include "work/work.h"

#include <string.h>
#include <unistd.h>

const char *const cli_trace_formats[] = {"auto",    "swf",     "sacct",  "cobalt",
                                         "philly",  "alibaba", "helios", NULL};
const char *const cli_dtypes[] = {"bf16", "fp16", "fp8", NULL};
const char *const cli_attentions[] = {"flash", "flash2", "flash3", "unfused", NULL};
const char *const cli_cp_comms[] = {"p2p", "allgather", NULL};
const char *const cli_recomputes[] = {"none", "selective", "full", NULL};
const char *const cli_policies[] = {"fifo", "backfill", "sjf", "fairshare", "priority", "las", NULL};
const char *const cli_placements[] = {"topo", "first-fit", "netaware", NULL};

/* Prints err, plus "; did you mean 'NAME'?" when the name part of spec (before any ':'
 * tweaks) is no file, no known name, and one typo from a name in names. Returns 2. */
static int fail_near(const wk_err *err, const char *spec, const char *const *names) {
  char given[256], buf[1024], near[128];
  snprintf(given, sizeof given, "%.*s", (int)strcspn(spec, ":"), spec);
  const char *s = cli_suggest(given, names);
  if (!s || !strcmp(s, given) || access(given, F_OK) == 0) return cli_fail_err(err);
  fprintf(stderr, "%s%s\n", wk_err_format(err, buf, sizeof buf),
          cli_did_you_mean(given, names, "", near, sizeof near));
  return 2;
}

int cli_fail_cluster(const wk_err *err, const char *spec) {
  const char *names[64];
  int k = 0;
  for (const hw_preset *p = hw_presets; p->name && k < 63; p++) names[k++] = p->name;
  names[k] = NULL;
  return fail_near(err, spec, names);
}

int cli_fail_model(const wk_err *err, const char *spec) {
  const char *names[64];
  int k = 0;
  for (const work_model *m = work_models; m->name[0] && k < 63; m++) names[k++] = m->name;
  names[k] = NULL;
  return fail_near(err, spec, names);
}
