/* test_sweep.c — the sweep module against a fake host (no subcommand involved): SPEC reading
 * (lists, ranges, zip, seeds, tweak axes, errors with line:col), point argv, the digest, the
 * run (points in child processes, a point whose process dies twice, a failing one), the rows
 * (grid order, flattening, renamed and dropped keys, CSV quoting), resume and a torn journal. */
#include "sweep/sweep.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const sweep_option fake_opts[] = {
    {"cluster", 0}, {"policy", 0}, {"seed", 0}, {"cards", 0},
    {"level", 0},   {"quick", 1},  {"json", 1}, {"out", 0},
};
static const sweep_option fake_cmds[] = {{"fake", 0}, {"fake2", 0}};
static const char *const fake_reserved[] = {"json", "out", NULL};

static int fake_options(void *ctx, int nwords, char *const *words, const sweep_option **opts,
                        size_t *n) {
  (void)ctx, (void)nwords;
  if (strcmp(words[0], "fake")) {
    *opts = fake_cmds;
    *n = 2;
    return 1;
  }
  *opts = fake_opts;
  *n = sizeof fake_opts / sizeof fake_opts[0];
  return 0;
}

static int fake_tweak(void *ctx, const char *opt, const char *value, const char *key,
                      const char *first, char *msg, size_t n) {
  (void)ctx, (void)opt, (void)value, (void)first;
  if (!strcmp(key, "nodes") || !strcmp(key, "oversubscription")) return 0;
  snprintf(msg, n, "unknown cluster key '%s'", key);
  return 1;
}

/* Prints {"args": ..., "policy": ..., "nested": {...}, "list": [1, 2], "wall_s": ...}; policy
 * "bad" fails with a message, "crash" dies by SIGKILL, "slow" takes 5 s. */
static int fake_run(void *ctx, int argc, char **argv, char **json) {
  (void)ctx;
  char args[1024] = "", pol[64] = "";
  for (int i = 0; i < argc; i++) {
    strcat(args, i ? " " : "");
    strcat(args, argv[i]);
    if (!strcmp(argv[i], "--policy") && i + 1 < argc) snprintf(pol, sizeof pol, "%s", argv[i + 1]);
  }
  if (!strcmp(pol, "bad")) {
    fprintf(stderr, "error: unknown policy 'bad'\n");
    *json = NULL;
    return 2;
  }
  if (!strcmp(pol, "crash")) kill(getpid(), SIGKILL);
  if (!strcmp(pol, "slow")) sleep(5);
  size_t n = strlen(args) + 256;
  *json = malloc(n);
  snprintf(*json, n, "{\n  \"args\": \"%s\",\n  \"policy\": \"%s\",\n  \"nested\": {\"a\": 1, "
           "\"b\": {\"c\": 2.5}},\n  \"list\": [1, 2],\n  \"wall_s\": 0.123,\n  \"note\": "
           "\"a, \\\"quoted\\\" word\"\n}\n", args, pol);
  return 0;
}

static const char *suggest(const char *given, const char *const *names) {
  for (; *names; names++)
    if (strlen(*names) + 1 >= strlen(given) && strlen(*names) <= strlen(given) + 1 &&
        strncmp(*names, given, 2) == 0)
      return *names;
  return NULL;
}

static const sweep_host host = {NULL, fake_options, fake_reserved, "reserved for the sweep",
                                fake_tweak, fake_run, suggest};

static sweep_spec *parse(const char *text, int allow_large, wk_err *err) {
  sweep_spec *s = NULL;
  wk_err_clear(err);
  sweep_spec_parse("t.yaml", text, strlen(text), &host, allow_large, &s, err);
  return s;
}

static char *argv_text(const sweep_spec *s, uint64_t i) {
  int n;
  char **v = sweep_point_argv(s, i, &n);
  static char buf[1024];
  buf[0] = 0;
  for (int k = 0; k < n; k++) {
    strcat(buf, k ? " " : "");
    strcat(buf, v[k]);
  }
  sweep_argv_free(v, n);
  return buf;
}

static void test_grid(void **st) {
  (void)st;
  wk_err e;
  sweep_spec *s = parse("command: fake\n"
                        "base:\n  cluster: big\n  quick: true\n"
                        "axes:\n"
                        "  cluster:oversubscription: [1, 2]\n"
                        "  zip:\n    policy: [a, b, c]\n    cards: [8, 16, 32]\n"
                        "  level: {from: 0, to: 4, step: 2}\n"
                        "seeds: 2\n",
                        0, &e);
  assert_non_null(s);
  assert_int_equal(sweep_points(s), 2 * 3 * 3 * 2);
  assert_string_equal(argv_text(s, 0), "fake --cluster big:oversubscription=1 --quick --policy a "
                                       "--cards 8 --level 0 --seed 1 --json");
  /* the last axis varies fastest; zipped columns move together */
  assert_string_equal(argv_text(s, 35), "fake --cluster big:oversubscription=2 --quick --policy c "
                                        "--cards 32 --level 4 --seed 2 --json");
  assert_string_equal(argv_text(s, 3), "fake --cluster big:oversubscription=1 --quick --policy a "
                                       "--cards 8 --level 2 --seed 2 --json");
  /* the same grid written otherwise has the same digest; another value, another digest */
  sweep_spec *t = parse("# comment\ncommand: fake\nbase: {cluster: big, quick: yes}\naxes:\n"
                        "  cluster:oversubscription: [1, 2]\n"
                        "  zip: [{policy: [a, b, c], cards: [8, 16, 32]}]\n"
                        "  level: [0, 2, 4]\nseeds: [1, 2]\n",
                        0, &e);
  assert_non_null(t);
  assert_true(sweep_digest(s) == sweep_digest(t));
  sweep_spec_free(t);
  t = parse("command: fake\nbase: {cluster: big, quick: true}\naxes:\n"
            "  cluster:oversubscription: [1, 3]\n  zip: {policy: [a, b, c], cards: [8, 16, 32]}\n"
            "  level: [0, 2, 4]\nseeds: 2\n", 0, &e);
  assert_non_null(t);
  assert_true(sweep_digest(s) != sweep_digest(t));
  sweep_spec_free(t);
  /* a list in base gives the option once per value (compare's --cluster A --cluster B), and a
   * cluster axis tweaks each of them */
  t = parse("command: fake\nbase: {cluster: [big, small]}\naxes:\n  cluster:nodes: [8]\n", 0, &e);
  assert_non_null(t);
  assert_string_equal(argv_text(t, 0), "fake --cluster big:nodes=8 --cluster small:nodes=8 --json");
  sweep_spec_free(t);
  sweep_spec_free(s);
  /* ranges: geometric, fractional; a switch as an axis */
  s = parse("command: fake\naxes:\n  cards: {from: 64, to: 1024, times: 2}\n"
            "  level: {from: 0.5, to: 1, step: 0.25}\n  quick: [false, true]\n", 0, &e);
  assert_non_null(s);
  assert_int_equal(sweep_points(s), 5 * 3 * 2);
  assert_string_equal(argv_text(s, 29), "fake --cards 1024 --level 1 --quick --json");
  assert_string_equal(argv_text(s, 2), "fake --cards 64 --level 0.75 --json");
  sweep_spec_free(s);
  /* no axes: one point */
  s = parse("command: fake\nbase: {policy: x}\n", 0, &e);
  assert_non_null(s);
  assert_int_equal(sweep_points(s), 1);
  sweep_spec_free(s);
}

/* The first error of text: "LINE:COL: MESSAGE-PREFIX". */
static void bad(const char *text, int line, int col, const char *msg) {
  wk_err e;
  sweep_spec *s = parse(text, 0, &e);
  if (s || e.line != line || e.col != col || !strstr(e.msg, msg)) {
    print_error("for:\n%s\ngot %d:%d: %s\nwant %d:%d: ...%s...\n", text, e.line, e.col, e.msg,
                line, col, msg);
    sweep_spec_free(s);
    fail();
  }
}

static void test_errors(void **st) {
  (void)st;
  bad("command: fake\naxes:\n  polcy: [a]\n", 3, 3, "unknown option or axis 'polcy' for 'fake'; "
      "did you mean 'policy'?");
  bad("command: fake\nbase:\n  out: x\n", 3, 3, "'out' cannot be set in a sweep: reserved");
  bad("command: fake\naxes:\n  policy: []\n", 3, 11, "axis 'policy' is empty");
  bad("command: fake\nbase: {cluster: c}\naxes:\n  cluster:nodez: [1]\n", 4, 3,
      "axis 'cluster:nodez': unknown cluster key 'nodez'");
  bad("command: fake\naxes:\n  cluster:nodes: [1]\n", 3, 3, "tweaks --cluster, which is not set");
  bad("command: fake\naxes:\n  cluster: [a, b]\n  zip:\n    cluster:nodez: [1]\n", 5, 5,
      "axis 'cluster:nodez'");
  bad("command: fake\naxes:\n  quick:nodes: [1]\n", 3, 3, "takes no KEY=value tweaks");
  bad("command: fake\naxes:\n  cards: {from: 1, to: 1000}\n  level: {from: 1, to: 1001}\n", 2, 1,
      "the grid has 1001000 points (1000 x 1001), over 1000000: give --allow-large");
  bad("command: fake\naxes:\n  quick: [maybe]\n", 3, 11, "'quick' is a switch: give true or false");
  bad("command: fake\naxes:\n  zip: {policy: [a, b], cards: [1]}\n", 3, 32,
      "zipped axis 'cards' has 1 values, the first (line 3) has 2");
  bad("command: fake\naxes:\n  policy: [a]\n  policy: [b]\n", 4, 3, "'policy' is already an axis");
  bad("command: fake\nbase: {seed: 1}\nseeds: 3\n", 3, 1, "'seed' is set in base");
  bad("command: fak\n", 1, 10, "unknown command 'fak' for a sweep; did you mean 'fake'? (fake or "
      "fake2)");
  bad("axes: {}\n", 1, 1, "a sweep needs 'command:'");
  bad("command: fake\naxis: {}\n", 2, 1, "unknown key 'axis'; did you mean 'axes'?");
  bad("command: fake\naxes:\n  level: {from: 4, to: 1}\n", 3, 10, "never reaches 1 from 4");
  bad("command: fake\naxes:\n  level: {from: 1, to: 8, step: x}\n", 3, 33, "'step' of axis "
      "'level' must be a number");
  bad("command: fake\nbase:\n  policy: []\n", 3, 11, "'policy' is an empty list");
  bad("command: fake\nbase:\n  policy: [a, {b: 1}]\n", 3, 15, "'policy' takes one value, not a "
      "mapping");
  bad("command: fake\ntimeout: soon\n", 2, 10, "'timeout' must be a duration");
  bad("command: fake\n[", 3, 1, "malformed YAML");
  /* --allow-large lifts the limit (the grid is not expanded: nothing is built per point) */
  wk_err e;
  sweep_spec *s = parse("command: fake\naxes:\n  cards: {from: 1, to: 1000}\n"
                        "  level: {from: 1, to: 1001}\n", 1, &e);
  assert_non_null(s);
  assert_int_equal(sweep_points(s), 1001000);
  assert_string_equal(argv_text(s, 1000999), "fake --cards 1000 --level 1001 --json");
  sweep_spec_free(s);
}

static char *slurp(FILE *f) {
  fflush(f);
  rewind(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  return buf;
}

static void test_run(void **st) {
  (void)st;
  char dir[] = "/tmp/wk_test_sweep_XXXXXX";
  assert_non_null(mkdtemp(dir));
  wk_err e;
  sweep_spec *s = parse("command: fake\naxes:\n  policy: [ok, crash, bad]\nseeds: 2\n", 0, &e);
  assert_non_null(s);
  sweep_run_opts o = {2, dir, 0, NULL, 0, NULL};
  assert_int_equal(sweep_check_dir(s, &o, &e), WK_OK);
  sweep_run *r = NULL;
  assert_int_equal(sweep_execute(s, &host, &o, &r, &e), WK_OK);
  assert_int_equal(sweep_run_executed(r), 6);
  assert_int_equal(sweep_run_failed(r), 4);
  assert_int_equal(sweep_run_retried(r), 2); /* each crash ran twice */
  FILE *f = tmpfile();
  assert_int_equal(sweep_write_csv(r, f, &e), WK_OK);
  const char *csv = slurp(f);
  const char *want =
      "policy,seed,status,error,args,fake.policy,nested.a,nested.b.c,list,note\n"
      "ok,1,ok,,fake --policy ok --seed 1 --json,ok,1,2.5,\"[1, 2]\",\"a, \"\"quoted\"\" word\"\n"
      "ok,2,ok,,fake --policy ok --seed 2 --json,ok,1,2.5,\"[1, 2]\",\"a, \"\"quoted\"\" word\"\n"
      "crash,1,failed,its process died: Killed (signal 9) (twice: not run again),,,,,,\n"
      "crash,2,failed,its process died: Killed (signal 9) (twice: not run again),,,,,,\n"
      "bad,1,failed,unknown policy 'bad',,,,,,\n"
      "bad,2,failed,unknown policy 'bad',,,,,,\n";
  assert_string_equal(csv, want);
  fclose(f);
  f = tmpfile();
  assert_int_equal(sweep_write_json(r, "t.yaml", f, &e), WK_OK);
  char *json = strdup(slurp(f));
  fclose(f);
  assert_non_null(strstr(json, "\"points\": 6,\n  \"ok\": 2,\n  \"failed\": 4,"));
  assert_non_null(strstr(json, "\n    {\"policy\": \"ok\", \"seed\": 1, \"status\": \"ok\", "
                               "\"error\": null, \"args\": "));
  assert_null(strstr(json, "wall_s"));
  sweep_run_free(r);

  /* the folder now holds this sweep: refused without --resume, fine with it */
  assert_int_equal(sweep_check_dir(s, &o, &e), WK_EVALUE);
  assert_non_null(strstr(e.msg, "give --resume"));
  o.resume = 1;
  assert_int_equal(sweep_check_dir(s, &o, &e), WK_OK);
  /* a torn last record (a crash inside write()) is cut off; nothing runs again */
  char path[256];
  snprintf(path, sizeof path, "%s/sweep.journal", dir);
  FILE *j = fopen(path, "a");
  fputs("3\tok\t0.1\t{\"torn", j);
  fclose(j);
  assert_int_equal(sweep_execute(s, &host, &o, &r, &e), WK_OK);
  assert_int_equal(sweep_run_executed(r), 0);
  f = tmpfile();
  assert_int_equal(sweep_write_json(r, "t.yaml", f, &e), WK_OK);
  assert_string_equal(slurp(f), json);
  fclose(f);
  sweep_run_free(r);
  free(json);

  /* another grid in the same folder is refused */
  sweep_spec *t = parse("command: fake\naxes:\n  policy: [ok]\n", 0, &e);
  assert_int_equal(sweep_check_dir(t, &o, &e), WK_EVALUE);
  assert_non_null(strstr(e.msg, "holds the results of another sweep"));
  assert_int_equal(e.line, 1);
  sweep_spec_free(t);

  /* in this process, no child */
  char *out = NULL;
  assert_int_equal(sweep_run_point(s, &host, 1, &out), 0);
  assert_non_null(strstr(out, "\"args\": \"fake --policy ok --seed 2 --json\""));
  free(out);
  sweep_spec_free(s);
  unlink(path);
  rmdir(dir);
}

/* Without --out the journal is a temporary file; the timeout fails a point that runs too long. */
static void test_timeout(void **st) {
  (void)st;
  wk_err e;
  sweep_spec *s = parse("command: fake\ntimeout: 200ms\naxes:\n  policy: [ok, slow]\n", 0, &e);
  assert_non_null(s);
  assert_true(sweep_timeout_s(s) == 0.2);
  sweep_run_opts o = {1, NULL, 0, NULL, 0, NULL};
  sweep_run *r = NULL;
  assert_int_equal(sweep_execute(s, &host, &o, &r, &e), WK_OK);
  assert_int_equal(sweep_run_failed(r), 1);
  FILE *f = tmpfile();
  assert_int_equal(sweep_write_csv(r, f, &e), WK_OK);
  assert_non_null(strstr(slurp(f), "\nslow,failed,timed out after 0.2 s (the SPEC's timeout),"));
  fclose(f);
  sweep_run_free(r);
  sweep_spec_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_grid),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_run),
      cmocka_unit_test(test_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
