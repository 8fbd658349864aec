/* test_hw.c — the cluster model: presets load with their published sizes, tweaks resize
 * them, every route is a connected path from source card to destination card, routes stay
 * inside the smallest domain that holds both cards, and bad descriptions are refused with
 * file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "hw/hw.h"

static hw_cluster *load(const char *spec) {
  wk_err err;
  hw_cluster *c = hw_load(spec, &err);
  if (!c) {
    char buf[1024];
    fail_msg("%s: %s", spec, wk_err_format(&err, buf, sizeof buf));
  }
  return c;
}

static void test_preset_sizes(void **st) {
  (void)st;
  static const struct { const char *name; uint32_t cards, supernodes; } want[] = {
      {"zhengzhou-60k", 61440, 96}, {"scalex-10k", 10240, 16}, {"scalex640", 640, 1},
      {"dgx-a100", 4480, 560},      {"h100-roce-24k", 24576, 3072},
      {"cloudmatrix-384", 384, 1},  {"ascend-910b-8k", 8192, 1024},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    hw_cluster *c = load(want[i].name);
    assert_int_equal(hw_cards(c), want[i].cards);
    assert_int_equal(hw_supernodes(c), want[i].supernodes);
    hw_summary s;
    hw_summarize(c, &s);
    assert_true(s.bisection_bytes_per_s > 0);
    assert_true(s.peak_bf16_flops > 0);
    hw_free(c);
  }
  hw_cluster *c = load("zhengzhou-60k");
  hw_summary s;
  hw_summarize(c, &s);
  /* 61,440 cards x 0.49 PFLOPS = 30.1 EFLOPS; non-blocking: bisection = half the NICs. */
  assert_true(s.peak_bf16_flops > 3.0e19 && s.peak_bf16_flops < 3.02e19);
  assert_true(s.bisection_bytes_per_s == 61440 / 2 * 50e9);
  hw_free(c);
}

static void test_tweaks(void **st) {
  (void)st;
  hw_cluster *c = load("dgx-a100:nodes=1536");
  assert_int_equal(hw_cards(c), 12288);
  hw_free(c);
  hw_cluster *full = load("zhengzhou-60k"), *over = load("zhengzhou-60k:oversubscription=3");
  hw_summary a, b;
  hw_summarize(full, &a);
  hw_summarize(over, &b);
  assert_true(b.bisection_bytes_per_s < 0.34 * a.bisection_bytes_per_s);
  assert_true(b.switches < a.switches); /* fewer uplinks, fewer spines */
  hw_free(full);
  hw_free(over);
  c = load("scalex-10k:supernodes=4");
  assert_int_equal(hw_cards(c), 2560);
  hw_free(c);
  /* The Llama 3 cluster: 1:7 between pods gives about 1/7 of full bisection. */
  c = load("h100-roce-24k");
  hw_summarize(c, &a);
  assert_true(a.bisection_bytes_per_s / (24576 / 2 * 50e9) > 0.13);
  assert_true(a.bisection_bytes_per_s / (24576 / 2 * 50e9) < 0.15);
  assert_int_equal(hw_level_cards(c, HW_LEVEL_POD), 3072);
  hw_free(c);
}

/* Every route must be a chain of links from src to dst, and never leave the smallest
 * domain (supernode / leaf / pod) that holds both cards. */
static void check_routes(const char *spec, int pairs) {
  hw_cluster *c = load(spec);
  wk_rng r;
  wk_rng_init(&r, 11, 0);
  hw_route rt;
  uint32_t n = hw_cards(c);
  for (int i = 0; i < pairs; i++) {
    uint32_t s = (uint32_t)wk_rng_below(&r, n), d = (uint32_t)wk_rng_below(&r, n);
    if (i % 3 == 0) d = (s / 8) * 8 + (uint32_t)wk_rng_below(&r, 8) % (n - (s / 8) * 8); /* near */
    if (s == d) continue;
    hw_route_salted(c, s, d, (uint64_t)i, &rt);
    assert_true(rt.n >= 1 && rt.n <= HW_ROUTE_MAX);
    uint32_t at = s, from, to;
    for (uint32_t k = 0; k < rt.n; k++) {
      hw_link_ends(c, rt.link[k], &from, &to);
      if (from != at) {
        char buf[200];
        fail_msg("%s: route %u->%u breaks at hop %u (%s)", spec, s, d, k,
                 hw_link_describe(c, rt.link[k], buf, sizeof buf));
      }
      at = to;
      assert_true(hw_link_capacity(c)[rt.link[k]] > 0);
    }
    assert_int_equal(at, d);
    hw_level lv = hw_common_level(c, s, d);
    if (lv <= HW_LEVEL_SUPERNODE && hw_cfg(c)->cards_per_supernode > 1 &&
        s / (uint32_t)hw_cfg(c)->cards_per_supernode == d / (uint32_t)hw_cfg(c)->cards_per_supernode)
      assert_true(hw_link_kind_of(c, rt.link[0]) == HW_LINK_SCALEUP);
    if (hw_cfg(c)->topology == HW_TOPO_CLOS && lv == HW_LEVEL_LEAF &&
        s / (uint32_t)hw_cfg(c)->cards_per_supernode != d / (uint32_t)hw_cfg(c)->cards_per_supernode &&
        !hw_cfg(c)->rail_optimized)
      assert_int_equal(rt.n, 2); /* same ToR: NIC up, NIC down */
    /* the reverse route has the same length (up-down symmetry) */
    hw_route back;
    hw_route_salted(c, d, s, (uint64_t)i, &back);
    assert_int_equal(back.n, rt.n);
    /* the replay's routes: the same links with every link in service, salt by salt or four at
     * once; with the first switch-to-switch hop out of service, a Clos route goes around it */
    hw_route lr[4];
    uint64_t salts[4] = {(uint64_t)i, (uint64_t)i + 7, (uint64_t)i * 31, 5};
    hw_route su, live;
    uint32_t cps = (uint32_t)hw_cfg(c)->cards_per_supernode;
    int in = hw_route_scaleup(c, s, d, &su); /* inside one scale-up domain: its route there */
    assert_int_equal(in, s / cps == d / cps);
    hw_route_live(c, s, d, salts[0], NULL, &live);
    if (in) {
      assert_int_equal(su.n, live.n);
      assert_memory_equal(su.link, live.link, live.n * sizeof live.link[0]);
    }
    int nr = hw_route_live_n(c, s, d, salts, 4, NULL, lr); /* 1: the same route for all four */
    assert_true(nr == 1 || nr == 4);
    for (int k = 0; k < 4; k++) {
      hw_route one;
      hw_route_salted(c, s, d, salts[k], &one);
      assert_int_equal(lr[nr == 1 ? 0 : k].n, one.n);
      assert_memory_equal(lr[nr == 1 ? 0 : k].link, one.link, one.n * sizeof one.link[0]);
    }
    if (hw_cfg(c)->topology == HW_TOPO_CLOS && rt.n > 2 && hw_link_kind_of(c, rt.link[1]) == HW_LINK_FABRIC) {
      uint64_t *down = calloc(hw_nlinks(c) / 64 + 1, sizeof(uint64_t));
      down[rt.link[1] / 64] |= 1ULL << (rt.link[1] % 64);
      hw_route alt, alt4[4];
      hw_route_live(c, s, d, (uint64_t)i, down, &alt);
      hw_route_live_n(c, s, d, salts, 1, down, alt4);
      assert_int_equal(alt.n, rt.n);
      assert_memory_equal(alt4[0].link, alt.link, alt.n * sizeof alt.link[0]);
      uint32_t at2 = s;
      for (uint32_t k = 0; k < alt.n; k++) {
        assert_true(alt.link[k] != rt.link[1]);
        hw_link_ends(c, alt.link[k], &from, &to);
        assert_int_equal(from, at2);
        at2 = to;
      }
      assert_int_equal(at2, d);
      free(down);
    }
  }
  hw_free(c);
}

static void test_routes_presets(void **st) {
  (void)st;
  for (const hw_preset *p = hw_presets; p->name; p++) check_routes(p->name, 20000);
}

static void test_routes_other_topologies(void **st) {
  (void)st;
  check_routes(WK_SOURCE_DIR "/tests/data/dragonfly.yaml", 20000);
  check_routes(WK_SOURCE_DIR "/tests/data/torus3d.yaml", 20000);
  check_routes(WK_SOURCE_DIR "/tests/data/tor2.yaml", 20000);
}

static void test_ecmp_spreads(void **st) {
  (void)st;
  /* Different salts between the same two far cards use several distinct spine links. */
  hw_cluster *c = load("zhengzhou-60k");
  hw_route rt;
  uint32_t seen[64];
  int nseen = 0;
  for (uint64_t salt = 0; salt < 64; salt++) {
    hw_route_salted(c, 0, 61439, salt, &rt);
    assert_int_equal(rt.n, 6); /* NIC, leaf-spine, spine-core, core-spine, spine-leaf, NIC */
    int dup = 0;
    for (int k = 0; k < nseen; k++) dup |= seen[k] == rt.link[1];
    if (!dup) seen[nseen++] = rt.link[1];
  }
  assert_true(nseen > 20);
  /* Same salt, same route: deterministic. */
  hw_route a, b;
  hw_route_salted(c, 5, 40000, 3, &a);
  hw_route_salted(c, 5, 40000, 3, &b);
  assert_memory_equal(a.link, b.link, a.n * sizeof a.link[0]);
  hw_free(c);
}

static void test_levels(void **st) {
  (void)st;
  hw_cluster *c = load("zhengzhou-60k");
  assert_int_equal(hw_level_cards(c, HW_LEVEL_NODE), 8);
  assert_int_equal(hw_level_cards(c, HW_LEVEL_SUPERNODE), 640);
  assert_int_equal(hw_level_cards(c, HW_LEVEL_POD), 1280);
  assert_int_equal(hw_level_domains(c, HW_LEVEL_SUPERNODE), 96);
  assert_true(hw_common_level(c, 0, 7) == HW_LEVEL_NODE);
  assert_true(hw_common_level(c, 0, 639) == HW_LEVEL_SUPERNODE);
  assert_true(hw_common_level(c, 0, 61439) == HW_LEVEL_CLUSTER);
  assert_true(hw_level_card_bw(c, HW_LEVEL_SUPERNODE) == 224e9);
  assert_true(hw_level_card_bw(c, HW_LEVEL_CLUSTER) == 50e9);
  hw_free(c);
  c = load("zhengzhou-60k:oversubscription=3");
  assert_true(hw_level_card_bw(c, HW_LEVEL_CLUSTER) < 0.35 * 50e9);
  hw_free(c);
}

static void expect_error(const char *yaml, wk_errcode code, int line, int col, const char *needle) {
  hw_config cfg;
  wk_err err;
  wk_err_clear(&err);
  wk_errcode rc = hw_config_parse(&cfg, yaml, strlen(yaml), "t.yaml", &err);
  if (rc == WK_OK) rc = hw_config_check(&cfg, "t.yaml", &err);
  char buf[1024];
  wk_err_format(&err, buf, sizeof buf);
  if (rc != code || err.line != line || (col && err.col != col) || !strstr(err.msg, needle))
    fail_msg("got rc=%d '%s', want rc=%d at %d:%d containing '%s'", rc, buf, code, line, col, needle);
}

#define GOOD_HEAD "name: x\naccelerator: {bf16_tflops: 100, hbm_gib: 16, hbm_tbytes_per_s: 1}\n" \
                  "node: {cards: 8}\nsupernode: {gbytes_per_s: 100}\nnics: {gbits_per_s: 400}\n"

static void test_bad_configs(void **st) {
  (void)st;
  expect_error("name: [unclosed\n", WK_EPARSE, 2, 0, "malformed YAML");
  expect_error("", WK_EPARSE, 1, 1, "empty cluster file");
  expect_error("- a\n- b\n", WK_EPARSE, 1, 1, "mapping");
  expect_error(GOOD_HEAD "nodes: 4\nfabric: {tiers: [{radix: 64}]}\nbogus: 1\n", WK_EUNKNOWN_KEY, 8, 8, "unknown key 'bogus'");
  expect_error(GOOD_HEAD "nodes: -4\n", WK_EVALUE, 6, 8, "'nodes' must be a whole number > 0");
  expect_error(GOOD_HEAD "nodes: 0\n", WK_EVALUE, 6, 8, "'nodes'");
  expect_error(GOOD_HEAD "nodes: 4x\n", WK_EVALUE, 6, 8, "not '4x'");
  expect_error(GOOD_HEAD "nodes: 4\nnodes: 5\nfabric: {tiers: [{radix: 64}]}\n", WK_EVALUE, 7, 1, "duplicate key 'nodes'");
  expect_error(GOOD_HEAD "nodes: 4000\nfabric:\n  tiers: [{radix: 64}]\n", WK_ECAPACITY, 7, 1, "holds at most 64 NIC ports");
  expect_error(GOOD_HEAD "nodes: 4\nfabric:\n  topology: mesh3d\n", WK_EVALUE, 8, 13, "clos, dragonfly or torus");
  expect_error(GOOD_HEAD "nodes: 4\nfabric:\n  tiers: [{radix: 0}]\n", WK_EVALUE, 8, 19, "'fabric.tiers.1.radix'");
  expect_error(GOOD_HEAD "nodes: 4\nfabric:\n  topology: torus\n  torus: {dims: [4, 2]}\n", WK_EVALUE, 7, 1, "torus dims multiply to 8");
  expect_error(GOOD_HEAD "nodes: 4\nfabric: {rail_optimized: true, tiers: [{radix: 64}]}\n", WK_EVALUE, 7, 1, "at least two tiers");
  expect_error("name: x\nnodes: 4\n", WK_EVALUE, 1, 1, "missing accelerator.bf16_tflops");
  /* in-switch reduction needs a switch; a value not a boolean is refused where it stands */
#define RED_HEAD "name: x\naccelerator: {bf16_tflops: 100, hbm_gib: 16, hbm_tbytes_per_s: 1}\n" \
                 "node: {cards: 8}\nnics: {gbits_per_s: 400}\nnodes: 4\nfabric: {tiers: [{radix: 64}]}\n"
  expect_error(RED_HEAD "supernode: {gbytes_per_s: 100, topology: mesh, in_switch_reduction: true}\n",
               WK_EVALUE, 7, 1, "needs supernode.topology: switch");
  expect_error(RED_HEAD "supernode: {gbytes_per_s: 100, in_switch_reduction: maybe}\n", WK_EVALUE, 7,
               0, "in_switch_reduction");
  hw_config cfg;
  wk_err err;
  const char *ok = RED_HEAD "supernode: {gbytes_per_s: 100, in_switch_reduction: true}\n";
  assert_int_equal(hw_config_parse(&cfg, ok, strlen(ok), "t.yaml", &err), WK_OK);
  assert_int_equal(hw_config_check(&cfg, "t.yaml", &err), WK_OK);
  assert_int_equal(cfg.scaleup_reduction, 1);
#undef RED_HEAD
  /* attention kernels' published speeds: forward and backward together, below the BF16 peak */
#define FA_HEAD(acc)                                                                               \
  "name: x\naccelerator: {bf16_tflops: 100, hbm_gib: 16, hbm_tbytes_per_s: 1" acc "}\n"            \
  "node: {cards: 8}\nsupernode: {gbytes_per_s: 100}\nnics: {gbits_per_s: 400}\nnodes: 4\n"         \
  "fabric: {tiers: [{radix: 64}]}\n"
  expect_error(FA_HEAD(", flash3_fwd_tflops: 60"), WK_EVALUE, 1, 1,
               "accelerator.flash3_fwd_tflops needs accelerator.flash3_bwd_tflops");
  expect_error(FA_HEAD(", flash2_fwd_tflops: 60, flash2_bwd_tflops: 120"), WK_EVALUE, 1, 1,
               "accelerator.flash2_bwd_tflops 120 exceeds the BF16 peak");
  expect_error(FA_HEAD(", flash2_fwd_tflops: 0, flash2_bwd_tflops: 50"), WK_EVALUE, 2, 0,
               "'accelerator.flash2_fwd_tflops' must be a number > 0");
  const char *fa = FA_HEAD(", flash2_fwd_tflops: 34, flash2_bwd_tflops: 33");
  assert_int_equal(hw_config_parse(&cfg, fa, strlen(fa), "t.yaml", &err), WK_OK);
  assert_int_equal(hw_config_check(&cfg, "t.yaml", &err), WK_OK);
  assert_true(cfg.accel.flash2_fwd_flops == 34e12 && cfg.accel.flash3_fwd_flops == 0);
#undef FA_HEAD
  hw_cluster *c = load("h100-roce-24k");
  assert_int_equal(hw_cfg(c)->scaleup_reduction, 1); /* H100's NVSwitch; A100's does not */
  /* FlashAttention-2 and -3 on H100 (Shah et al. 2024, Fig. 5-6); A100 has no FlashAttention-3 */
  assert_true(hw_cfg(c)->accel.flash2_fwd_flops == 335e12 &&
              hw_cfg(c)->accel.flash2_bwd_flops == 322e12);
  assert_true(hw_cfg(c)->accel.flash3_fwd_flops == 616e12 &&
              hw_cfg(c)->accel.flash3_bwd_flops == 561e12);
  hw_free(c);
  c = load("dgx-a100");
  assert_int_equal(hw_cfg(c)->scaleup_reduction, 0);
  assert_true(hw_cfg(c)->accel.flash3_fwd_flops == 0);
  hw_free(c);
}

/* Encoding errors: libyaml gives only a byte offset; the position is recomputed in characters
 * (a BOM not counted, CRLF and lone CR one break) and the message says "malformed YAML". */
static void test_yaml_reader_errors(void **st) {
  (void)st;
  static const struct {
    const char *text;
    size_t len;
    int line, col;
    const char *needle;
  } cases[] = {
      {"name: x\nnodes: 6\0004\n", 19, 2, 9, "malformed YAML: control characters are not allowed"},
      {"\xEF\xBB\xBFname: x\r\nnodes: \xFF\r\n", 22, 2, 8, "malformed YAML: invalid leading UTF-8 octet"},
      {"name: \xC3\xA9t\xC3\xA9\x01\n", 13, 1, 10, "control characters are not allowed (U+0001)"},
      {"a: 1\rb: \xFF\n", 10, 2, 4, "invalid leading UTF-8 octet (byte 0xFF)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hw_config cfg;
    wk_err err;
    wk_err_clear(&err);
    assert_int_equal(hw_config_parse(&cfg, cases[i].text, cases[i].len, "t.yaml", &err), WK_EPARSE);
    char buf[1024];
    wk_err_format(&err, buf, sizeof buf);
    if (err.line != cases[i].line || err.col != cases[i].col || !strstr(err.msg, cases[i].needle))
      fail_msg("case %zu: got '%s', want %d:%d '%s'", i, buf, cases[i].line, cases[i].col,
               cases[i].needle);
  }
}

static void test_tweak_errors(void **st) {
  (void)st;
  wk_err err;
  assert_null(hw_load("dgx-a100:colour=blue", &err));
  assert_int_equal(err.code, WK_EUNKNOWN_KEY);
  assert_null(hw_load("dgx-a100:nodes=-3", &err));
  assert_int_equal(err.code, WK_EVALUE);
  assert_null(hw_load("dgx-a100:nodes", &err));
  assert_int_equal(err.code, WK_EUSAGE);
  assert_null(hw_load("no-such-preset", &err));
  assert_int_equal(err.code, WK_EIO);
  /* a radix that cannot hold the requested size */
  assert_null(hw_load("dgx-a100:nodes=100000", &err));
  assert_int_equal(err.code, WK_ECAPACITY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_preset_sizes),   cmocka_unit_test(test_tweaks),
      cmocka_unit_test(test_routes_presets), cmocka_unit_test(test_routes_other_topologies),
      cmocka_unit_test(test_ecmp_spreads),   cmocka_unit_test(test_levels),
      cmocka_unit_test(test_bad_configs),    cmocka_unit_test(test_tweak_errors),
      cmocka_unit_test(test_yaml_reader_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
