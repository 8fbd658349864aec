/* fuzz_cluster — libFuzzer harness for the YAML cluster loader and tweak parser: any bytes
 * must give either a valid cluster or an error value with a message, never a crash, leak,
 * hang or sanitizer report. Clusters small enough are also built and routed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A first line "#tweak: k=v,..." is applied as command-line tweaks. */
  char tweak[256] = "";
  if (size > 8 && !memcmp(data, "#tweak: ", 8)) {
    size_t i = 8;
    while (i < size && data[i] != '\n' && i - 8 < sizeof tweak - 1) i++;
    memcpy(tweak, data + 8, i - 8);
    tweak[i - 8] = 0;
  }
  hw_config cfg;
  wk_err err;
  if (hw_config_parse(&cfg, (const char *)data, size, "fuzz.yaml", &err)) {
    WK_ASSERT(err.msg[0]);
    return 0;
  }
  if (tweak[0] && hw_config_tweak(&cfg, tweak, &err)) return 0;
  if (hw_config_check(&cfg, "fuzz.yaml", &err)) {
    WK_ASSERT(err.msg[0]);
    return 0;
  }
  setenv("WANKA_MAX_MODEL_BYTES", "67108864", 1); /* the loader must refuse, not the OOM killer */
  hw_cluster *c = hw_build(&cfg, &err);
  if (!c) return 0;
  hw_summary s;
  hw_summarize(c, &s);
  hw_route r;
  uint32_t n = hw_cards(c);
  for (uint32_t i = 0; i < 64 && n > 1; i++) {
    uint32_t a = (uint32_t)(wk_mix64(i) % n), b = (uint32_t)(wk_mix64(i + 1000) % n);
    if (a != b) hw_route_salted(c, a, b, i, &r);
  }
  hw_free(c);
  return 0;
}
