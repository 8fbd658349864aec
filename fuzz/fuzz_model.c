/* fuzz_model — libFuzzer harness for the model YAML loader (work_model_parse, what `wanka train
 * --model FILE.yaml` reads): any bytes must give either a checked model or an error value with
 * a message, never a crash, leak, hang or sanitizer report. A model that loads is also sized
 * (parameter counts), as train and plan do first. */
#include <stddef.h>
#include <stdint.h>

#include "work/work.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  work_model m;
  wk_err err;
  if (work_model_parse(&m, (const char *)data, size, "fuzz.yaml", &err)) {
    WK_ASSERT(err.msg[0]);
    return 0;
  }
  WK_ASSERT(m.name[0] && m.layers > 0 && m.hidden > 0 && m.heads > 0);
  double total = work_model_params(&m), active = work_model_active_params(&m);
  WK_ASSERT(total > 0 && active > 0 && active <= total * (1 + 1e-9));
  return 0;
}
