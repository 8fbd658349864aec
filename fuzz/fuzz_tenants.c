/* fuzz_tenants — libFuzzer harness for the tenants YAML loader (sched_tenants_parse, what
 * `wanka replay --tenants FILE.yaml` reads): any bytes must give tenants or an error value
 * with a message, never a crash, leak, hang or sanitizer report. Loaded tenants are queried
 * the way replay does (quotas, priorities, matching a few job names). */
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sched_tenants *t = NULL;
  wk_err err;
  if (sched_tenants_parse("fuzz.yaml", (const char *)data, size, &t, &err)) {
    WK_ASSERT(!t && err.msg[0]);
    return 0;
  }
  uint32_t n = sched_tenants_count(t);
  WK_ASSERT(n > 0 && sched_tenants_halflife_s(t) > 0);
  for (uint32_t i = 0; i < n; i++) {
    double q = sched_tenant_quota_cards(t, i, 61440);
    WK_ASSERT(q >= 0 && q <= 1e9);
    WK_ASSERT(sched_tenant_name(t, i)[0]);
    (void)sched_tenant_priority(t, i);
  }
  static const char *const names[] = {"", "alice", "prod-short", "R.x", "a*b", "[", "\\"};
  for (size_t u = 0; u < 7; u++) {
    int k = sched_tenants_match(t, names[u], names[(u + 1) % 7], names[(u + 3) % 7]);
    WK_ASSERT(k >= -1 && k < (int)n);
  }
  sched_tenants_free(t);
  return 0;
}
