/* fuzz_trace — libFuzzer harness for every job-trace reader. The first byte picks the format
 * (auto-detect or one of the six readers) and whether malformed rows are skipped; the rest is
 * the trace text. Any bytes must give a trace or an error value, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  trace_opts o;
  trace_opts_init(&o);
  o.format = (trace_format)(data[0] % TRACE_FMT_COUNT);
  o.skip_bad = (data[0] >> 4) & 1;
  trace *t = NULL;
  wk_err err;
  if (trace_parse("fuzz", (const char *)data + 1, size - 1, &o, &t, &err) == WK_OK) {
    trace_summary s;
    trace_summarize(t, &s);
    const trace_job *j = trace_jobs(t);
    for (size_t i = 0; i < trace_njobs(t); i++) {
      WK_ASSERT(j[i].cards >= 1 && j[i].runtime_s >= 0);
      WK_ASSERT(i == 0 || j[i - 1].submit_s <= j[i].submit_s);
    }
    trace_free(t);
  } else {
    WK_ASSERT(err.msg[0]);
  }
  return 0;
}
