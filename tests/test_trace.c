/* test_trace.c — unit tests for trace/: every reader on small texts (fields, drops, states,
 * errors with line:col, skip_bad), the CSV tokenizer's quotes, gzip input, detection, the
 * transforms, the generator (determinism, offered load, sizes, SWF round trip), and every real
 * trace in WK_SHARED_DIR/data/traces (counts, first and last jobs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "trace/trace.h"

static trace *parse_ok(const char *text, const trace_opts *o) {
  trace *t = NULL;
  wk_err e;
  wk_err_clear(&e);
  wk_errcode c = trace_parse("mem", text, strlen(text), o, &t, &e);
  if (c) {
    char buf[1024];
    print_error("unexpected error: %s\n", wk_err_format(&e, buf, sizeof buf));
  }
  assert_int_equal(c, WK_EOK);
  assert_non_null(t);
  return t;
}

/* Parses text expecting an error; returns the formatted message in a static buffer. */
static const char *parse_err(const char *text, const trace_opts *o) {
  static char buf[1024];
  trace *t = NULL;
  wk_err e;
  wk_err_clear(&e);
  wk_errcode c = trace_parse("mem", text, strlen(text), o, &t, &e);
  assert_int_not_equal(c, WK_EOK);
  assert_null(t);
  return wk_err_format(&e, buf, sizeof buf);
}

static void assert_contains(const char *s, const char *needle) {
  if (!strstr(s, needle)) print_error("'%s' does not contain '%s'\n", s, needle);
  assert_non_null(strstr(s, needle));
}

static trace_opts opts_fmt(trace_format f) {
  trace_opts o;
  trace_opts_init(&o);
  o.format = f;
  return o;
}

/* ---- SWF -------------------------------------------------------------------------------- */
static const char *swf_text =
    "; Version: 2.2\n"
    "; UnixStartTime: 1000\n"
    "1 10 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n"
    "2 5 0 50 -1 -1 -1 8 60 -1 0 7 3 -1 2 -1 -1 -1\n"   /* alloc -1: requested used */
    "3 10 0 -1 4 -1 -1 4 60 -1 1 8 3 -1 2 -1 -1 -1\n"   /* run -1: dropped */
    "4 10 0 30 0 -1 -1 0 60 -1 1 8 3 -1 2 -1 -1 -1\n"   /* 0 procs: dropped */
    "\n"
    "5 10 0 60 2 -1 -1 2 60 -1 0 9 -1 -1 -1 -1 -1 -1\n" /* run == req: timeout */
    "6 12 0 1 1 -1 -1 1 60 -1 5 9 -1 -1 -1 -1 -1 -1\n";

static void test_swf(void **st) {
  (void)st;
  trace_opts o = opts_fmt(TRACE_FMT_AUTO);
  trace *t = parse_ok(swf_text, &o);
  assert_int_equal(trace_get_format(t), TRACE_FMT_SWF);
  assert_int_equal(trace_njobs(t), 4);
  const trace_job *j = trace_jobs(t);
  /* sorted by submit, stable: job 2 (submit 5) first, then 1 and 5 (both 10) in file order */
  assert_int_equal(j[0].id, 2);
  assert_int_equal(j[0].submit_s, 1005);
  assert_int_equal(j[0].cards, 8);
  assert_int_equal(j[0].state, TRACE_FAILED);
  assert_int_equal(j[1].id, 1);
  assert_int_equal(j[1].runtime_s, 100);
  assert_int_equal(j[1].walltime_s, 200);
  assert_int_equal(j[1].line, 3);
  assert_int_equal(j[1].state, TRACE_COMPLETED);
  assert_string_equal(trace_name(t, j[1].user), "7");
  assert_string_equal(trace_name(t, j[1].queue), "2");
  assert_int_equal(j[2].id, 5);
  assert_int_equal(j[2].state, TRACE_TIMEOUT);
  assert_string_equal(trace_name(t, j[2].group), "");
  assert_int_equal(j[3].state, TRACE_CANCELLED);
  const trace_counts *c = trace_get_counts(t);
  assert_int_equal(c->rows, 6);
  assert_int_equal(c->loaded, 4);
  assert_int_equal(c->dropped[TRACE_DROP_NO_RUNTIME], 1);
  assert_int_equal(c->dropped[TRACE_DROP_NO_CARDS], 1);
  trace_free(t);
  trace_free(NULL);
}

static char *swf_bytes(const trace *t, size_t *len);

/* "; Queue: NUMBER NAME" headers name the queue numbers of field 15 (a later line for the
 * same number wins; free-text lines are left alone), and the writer emits them so names
 * survive a round trip, even when a name's id is also a numbered queue's number. */
static void test_swf_queue_names(void **st) {
  (void)st;
  static const char text[] = "; Queue: batch jobs go to the big queue\n"
                             "; Queue: 7 old\n"
                             "; Queue: 7 gpu\n"
                             "1 0 -1 10 1 -1 -1 1 60 -1 1 -1 -1 -1 7 -1 -1 -1\n"
                             "2 1 -1 10 1 -1 -1 1 60 -1 1 -1 -1 -1 1 -1 -1 -1\n"
                             "3 2 -1 10 1 -1 -1 1 60 -1 1 -1 -1 -1 -1 -1 -1 -1\n";
  trace *t = parse_ok(text, NULL);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(trace_njobs(t), 3);
  assert_string_equal(trace_name(t, j[0].queue), "gpu");
  assert_string_equal(trace_name(t, j[1].queue), "1");
  assert_string_equal(trace_name(t, j[2].queue), "");
  size_t len;
  char *out = swf_bytes(t, &len);
  assert_non_null(strstr(out, "; Queue: "));
  trace *r = parse_ok(out, NULL);
  const trace_job *k = trace_jobs(r);
  assert_int_equal(trace_njobs(r), 3);
  for (size_t i = 0; i < 3; i++)
    assert_string_equal(trace_name(r, k[i].queue), trace_name(t, j[i].queue));
  free(out);
  trace_free(r);
  trace_free(t);
}

static void test_swf_errors(void **st) {
  (void)st;
  trace_opts o = opts_fmt(TRACE_FMT_SWF);
  const char *m = parse_err("1 10 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n"
                            "2 10 5 1x0 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:2:8: error: field 4 (run time) is '1x0', not a number");
  m = parse_err("1 10 5 100 4 -1 -1 4 200\n", &o);
  assert_contains(m, "mem:1:25: error: SWF line has 9 fields, expected 18");
  m = parse_err("1 10 5 100 20000000 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:12: error: field 5 (allocated processors) is 20000000");
  m = parse_err("1 10 5 -7 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:8: error: field 4 (run time) is -7");
  /* counts are integers: 64.5 processors is refused, 64.0 is 64; times may be fractional */
  m = parse_err("1 10 5 100 64.5 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:12: error: field 5 (allocated processors) is '64.5', not a whole "
                     "number");
  m = parse_err("1 10 5 100 -1 -1 -1 2.5 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:21: error: field 8 (requested processors) is '2.5'");
  trace *tf = parse_ok("1 10.4 5 99.6 64.0 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_int_equal(trace_jobs(tf)[0].cards, 64);
  assert_int_equal(trace_jobs(tf)[0].runtime_s, 100);
  trace_free(tf);
  /* a UTF-8 byte-order mark is skipped, in detection too */
  trace_opts a = opts_fmt(TRACE_FMT_AUTO);
  tf = parse_ok("\xEF\xBB\xBF" "1 10 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &a);
  assert_int_equal(trace_get_format(tf), TRACE_FMT_SWF);
  assert_int_equal(trace_njobs(tf), 1);
  trace_free(tf);
  m = parse_err("\xEF\xBB\xBF" "1 10 5 1x0 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:8: error: field 4 (run time)");
  /* a NUL inside a line is an error at its column, not the end of the line */
  {
    static const char nul[] = "1 10 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n2 10\0 5 100\n";
    trace *tn = NULL;
    wk_err e;
    char buf[512];
    assert_int_not_equal(trace_parse("mem", nul, sizeof nul - 1, &o, &tn, &e), WK_EOK);
    assert_null(tn);
    assert_contains(wk_err_format(&e, buf, sizeof buf),
                    "mem:2:5: error: NUL byte in a text trace (is this a binary file?)");
  }
  /* UTF-8 before the bad field: the column counts characters, not bytes */
  trace_opts h = opts_fmt(TRACE_FMT_HELIOS);
  m = parse_err("job_id,user,gpu_num,submit_time,duration\n1,\"üü\",2,yesterday,5\n", &h);
  assert_contains(m, "mem:2:10: error: submit_time 'yesterday'");
  /* skip_bad: count, keep the first message, load the rest */
  o.skip_bad = 1;
  trace *t = parse_ok("1 10 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n"
                      "2 10 5 1x0 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n"
                      "3 10 5 100\n"
                      "4 11 5 100 4 -1 -1 4 200 -1 1 7 3 -1 2 -1 -1 -1\n", &o);
  const trace_counts *c = trace_get_counts(t);
  assert_int_equal(trace_njobs(t), 2);
  assert_int_equal(c->skipped_bad, 2);
  char buf[512];
  assert_contains(wk_err_format(&c->first_bad, buf, sizeof buf), "mem:2:8: error:");
  trace_free(t);
  /* skip_bad that skips every row is an error: the format is wrong */
  m = parse_err("a,b,c\n1,2,3\n", &o);
  assert_contains(m, "mem:1:6: error: SWF line has 1 fields");
  assert_contains(m, "every one of 2 rows was malformed");
}

static void test_swf_constant_status(void **st) {
  (void)st;
  /* every status 0 (a converter that recorded none): unknown, except runs that hit the limit */
  trace *t = parse_ok("1 0 0 10 1 -1 -1 1 100 -1 0 -1 -1 -1 -1 -1 -1 -1\n"
                      "2 1 0 100 1 -1 -1 1 100 -1 0 -1 -1 -1 -1 -1 -1 -1\n"
                      "3 2 0 10 1 -1 -1 1 100 -1 0 -1 -1 -1 -1 -1 -1 -1\n", NULL);
  assert_int_equal(trace_jobs(t)[0].state, TRACE_UNKNOWN);
  assert_int_equal(trace_jobs(t)[1].state, TRACE_TIMEOUT);
  trace_free(t);
}

/* ---- sacct ------------------------------------------------------------------------------ */
static void test_sacct(void **st) {
  (void)st;
  const char *txt =
      "User|JobID|Partition|Account|State|Submit|Start|End|Elapsed|AllocTRES|NNodes|Timelimit\n"
      "alice|100|gpu|proj1|COMPLETED|2024-03-01T12:00:00|2024-03-01T12:00:10|"
      "2024-03-01T13:00:10|01:00:00|billing=16,cpu=16,gres/gpu=8,mem=64G,node=1|1|02:00:00\n"
      "|100.batch|gpu|proj1|COMPLETED|2024-03-01T12:00:00|2024-03-01T12:00:10|"
      "2024-03-01T13:00:10|01:00:00|cpu=16,gres/gpu=8|1|\n"
      "bob|101_3|gpu|proj2|CANCELLED by 1234|2024-03-01T11:00:00|2024-03-01T11:30:00|"
      "2024-03-02T11:30:00|1-00:00:00|billing=4,cpu=4,gres/gpu:a100=2,gres/gpu:h100=2|1|"
      "UNLIMITED\n"
      "carol|102|cpu|proj2|PENDING|2024-03-01T11:00:00|Unknown|Unknown|00:00:00||1|60\n"
      "dave|103|cpu|proj3|NODE_FAIL|2024-03-01T14:00:00|2024-03-01T14:00:00|"
      "2024-03-01T14:05:00|05:00|billing=32,cpu=32|4|60\n"
      "erin|104|big|proj3|TIMEOUT|2024-03-01T14:00:01|2024-03-01T14:00:01|None||cpu=2|2|1-00:00:00\n";
  trace *t = parse_ok(txt, NULL);
  assert_int_equal(trace_get_format(t), TRACE_FMT_SACCT);
  assert_int_equal(trace_njobs(t), 3);
  const trace_counts *c = trace_get_counts(t);
  assert_int_equal(c->dropped[TRACE_DROP_JOB_STEP], 1);
  assert_int_equal(c->dropped[TRACE_DROP_NEVER_STARTED], 1);
  assert_int_equal(c->dropped[TRACE_DROP_NO_RUNTIME], 1); /* erin: no Elapsed, End None */
  const trace_job *j = trace_jobs(t);
  assert_int_equal(j[0].id, 101);
  assert_int_equal(j[0].cards, 4); /* typed gres summed */
  assert_int_equal(j[0].runtime_s, 86400);
  assert_int_equal(j[0].walltime_s, -1);
  assert_int_equal(j[0].state, TRACE_CANCELLED);
  assert_string_equal(trace_name(t, j[0].user), "bob");
  assert_int_equal(j[1].id, 100);
  assert_int_equal(j[1].submit_s, 1709294400); /* 2024-03-01T12:00:00Z */
  assert_int_equal(j[1].cards, 8);
  assert_int_equal(j[1].walltime_s, 7200);
  assert_string_equal(trace_name(t, j[1].group), "proj1");
  assert_string_equal(trace_name(t, j[1].queue), "gpu");
  assert_int_equal(j[2].cards, 32); /* billing when there is no gres/gpu */
  assert_int_equal(j[2].runtime_s, 300);
  assert_int_equal(j[2].walltime_s, 3600);
  assert_int_equal(j[2].state, TRACE_NODE_FAIL);
  trace_free(t);

  trace_opts o = opts_fmt(TRACE_FMT_SACCT);
  const char *m = parse_err("JobID|State|Submit|Elapsed|NNodes\n"
                            "1|COMPLETED|2024-13-01T00:00:00|00:01:00|1\n", &o);
  assert_contains(m, "mem:2:13: error: Submit '2024-13-01T00:00:00' is not a time");
  m = parse_err("JobID|State|Submit|NNodes\n1|COMPLETED|2024-01-01T00:00:00|1\n", &o);
  assert_contains(m, "mem:1:1: error: header has no 'Elapsed' column");
  m = parse_err("JobID|State|Submit|Elapsed|NNodes\n1|EXPLODED|2024-01-01T00:00:00|00:01|1\n", &o);
  assert_contains(m, "mem:2:3: error: State 'EXPLODED' is not a Slurm job state");
  /* End before Start with no Elapsed is a broken row, not an unknown run time */
  m = parse_err("JobID|State|Submit|Start|End|Elapsed|NNodes\n"
                "1|COMPLETED|2024-01-01T00:00:00|2024-01-01T01:00:00|2024-01-01T00:30:00||1\n", &o);
  assert_contains(m, "mem:2:53: error: End '2024-01-01T00:30:00' (column 'End') is before Start "
                     "'2024-01-01T01:00:00'");
}

/* ---- Cobalt ----------------------------------------------------------------------------- */
static void test_cobalt(void **st) {
  (void)st;
  const char *txt =
      "01/18/2018 19:46:07;S;7;queue=default qtime=1000.0 Resource_List.nodect=512 "
      "Resource_List.walltime=06:00:00 start=1000.0\n"
      "01/19/2018 00:01:45;E;7;queue=default qtime=1000.0 Resource_List.nodect=512 "
      "Resource_List.walltime=06:00:00 start=5.0 end=99999.0 runtime=15338.0 "
      "queue_name=prod-short user=ann\n"
      "01/19/2018 00:02:00;E;8.mira;qtime=900 Resource_List.nodect=1024 "
      "Resource_List.walltime=01:00:00 start=1000 end=4600 queue_name=prod-long\n";
  trace *t = parse_ok(txt, NULL);
  assert_int_equal(trace_get_format(t), TRACE_FMT_COBALT);
  assert_int_equal(trace_njobs(t), 2);
  assert_int_equal(trace_get_counts(t)->dropped[TRACE_DROP_NOT_END_RECORD], 1);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(j[0].id, 8);
  assert_int_equal(j[0].submit_s, 900);
  assert_int_equal(j[0].runtime_s, 3600); /* end - start when runtime= is absent */
  assert_int_equal(j[0].state, TRACE_TIMEOUT);
  assert_int_equal(j[1].runtime_s, 15338); /* runtime=, not end - start */
  assert_int_equal(j[1].walltime_s, 21600);
  assert_int_equal(j[1].cards, 512);
  assert_string_equal(trace_name(t, j[1].queue), "prod-short");
  assert_string_equal(trace_name(t, j[1].user), "ann");
  trace_free(t);
  trace_opts o = opts_fmt(TRACE_FMT_COBALT);
  const char *m = parse_err("01/19/2018 00:02:00;E;8;Resource_List.nodect=2 runtime=5\n", &o);
  assert_contains(m, "mem:1:25: error: E record has no qtime=");
  m = parse_err("01/19/2018 00:02:00;E;8;qtime=1 Resource_List.nodect=two runtime=5\n", &o);
  assert_contains(m, "mem:1:33: error: Resource_List.nodect='two' is not a whole number");
  m = parse_err("01/19/2018 00:02:00;E;8;qtime=1 Resource_List.nodect=2 "
                "Resource_List.walltime=1h runtime=5\n", &o);
  assert_contains(m, "mem:1:56: error: Resource_List.walltime='1h' is not HH:MM:SS");
  /* a size too large is quoted as written, cut with "..." only past 40 characters */
  m = parse_err("01/19/2018 00:02:00;E;8;qtime=1 Resource_List.nodect=99999999999999999999 "
                "runtime=5\n", &o);
  assert_contains(m, "mem:1:33: error: Resource_List.nodect=99999999999999999999 is more than");
  m = parse_err("01/19/2018 00:02:00;E;8;qtime=1 Resource_List.nodect="
                "123456789012345678901234567890123456789012345 runtime=5\n", &o);
  assert_contains(m, "nodect=1234567890123456789012345678901234567890... is more than");
  /* a byte-order mark before the first record: detected, and columns count after it */
  trace_opts a = opts_fmt(TRACE_FMT_AUTO);
  m = parse_err("\xEF\xBB\xBF" "01/19/2018 00:02:00;E;8;qtime=1 Resource_List.nodect=2 "
                "Resource_List.walltime=1h runtime=5\n", &a);
  assert_contains(m, "mem:1:56: error: Resource_List.walltime='1h' is not HH:MM:SS");
}

/* ---- CSV readers ------------------------------------------------------------------------ */
static void test_philly(void **st) {
  (void)st;
  trace *t = parse_ok("timestamp,duration,num_gpus,gpu_time,cluster\n"
                      "2017-10-09 07:01:55,66.0,1,66.0,11cb48\n"
                      "1970-01-01 00:00:00,10,2,20,x\n"
                      "2024-02-29 23:59:59,5,8,40,x\n\n", NULL);
  assert_int_equal(trace_get_format(t), TRACE_FMT_PHILLY);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(trace_njobs(t), 3);
  assert_int_equal(j[0].submit_s, 0);
  assert_int_equal(j[1].submit_s, 1507532515);
  assert_int_equal(j[1].runtime_s, 66);
  assert_int_equal(j[2].submit_s, 1709251199);
  assert_string_equal(trace_name(t, j[1].group), "11cb48");
  trace_free(t);
  trace_opts o = opts_fmt(TRACE_FMT_PHILLY);
  const char *m = parse_err("timestamp,duration,num_gpus,gpu_time,cluster\n"
                            "2017-02-30 07:01:55,66.0,1,66.0,11cb48\n", &o);
  assert_contains(m, "mem:2:1: error: timestamp '2017-02-30 07:01:55' is not");
  m = parse_err("timestamp,duration,num_gpus,gpu_time,cluster\n"
                "2017-01-30 07:01:55,66.0,-1,66.0,11cb48\n", &o);
  assert_contains(m, "mem:2:26: error: num_gpus -1 (column 'num_gpus') is negative");
  m = parse_err("timestamp,duration,gpus\n", &o);
  assert_contains(m, "mem:1:1: error: header has no 'num_gpus' column");
}

static void test_alibaba(void **st) {
  (void)st;
  trace *t = parse_ok(
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
      "deletion_time,scheduled_time\n"
      "openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061\n"
      "openb-pod-0002,6000,12288,0,0,,LS,Running,5,10,5\n"
      "openb-pod-0003,6000,12288,8,1000,V100M32,BE,Succeeded,10,110,20\n"
      "openb-pod-0004,6000,12288,2,1000,,BE,Pending,10,110,\n"
      "openb-pod-0005,6000,12288,1,1000,,BE,Failed,11,20,12\n", NULL);
  assert_int_equal(trace_get_format(t), TRACE_FMT_ALIBABA);
  const trace_counts *c = trace_get_counts(t);
  assert_int_equal(trace_njobs(t), 3);
  assert_int_equal(c->dropped[TRACE_DROP_CPU_ONLY], 1);
  assert_int_equal(c->dropped[TRACE_DROP_NEVER_STARTED], 1);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(j[0].id, 3);
  assert_int_equal(j[0].cards, 8);
  assert_int_equal(j[0].runtime_s, 90); /* deletion - scheduled */
  assert_int_equal(j[0].state, TRACE_COMPLETED);
  assert_string_equal(trace_name(t, j[0].group), "V100M32");
  assert_int_equal(j[1].state, TRACE_FAILED);
  assert_int_equal(j[2].cards, 1); /* 460 milli-GPU: one card */
  assert_int_equal(j[2].state, TRACE_RUNNING);
  trace_free(t);
}

static void test_helios_quotes(void **st) {
  (void)st;
  /* Acme-style extra columns, a different order, quoted fields with commas and quotes */
  trace *t = parse_ok(
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,"
      "duration,queue,fail_time\n"
      "j1,\"smith, j\",vcA,16,64,2,COMPLETED,2020-04-01 00:00:00,2020-04-01 00:00:10,"
      "2020-04-01 01:00:10,3600,10,\n"
      "j2,\"say \"\"hi\"\"\",vcB,0,8,1,FAILED,1585699200,1585699200,1585699300,100,0,\n"
      "7,u3,vcB,1,8,1,CANCELLED,1585699201,1585699201,1585699301,,0,\n", NULL);
  assert_int_equal(trace_get_format(t), TRACE_FMT_HELIOS);
  assert_int_equal(trace_njobs(t), 2);
  assert_int_equal(trace_get_counts(t)->dropped[TRACE_DROP_CPU_ONLY], 1);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(j[0].submit_s, 1585699200);
  assert_string_equal(trace_name(t, j[0].user), "smith, j");
  assert_int_equal(j[0].cards, 16);
  assert_int_equal(j[0].id, 1); /* non-numeric job_id: the row */
  assert_int_equal(j[1].id, 7);
  assert_int_equal(j[1].runtime_s, 100); /* end - start when duration is empty */
  assert_int_equal(j[1].state, TRACE_CANCELLED);
  trace_free(t);
  trace_opts o = opts_fmt(TRACE_FMT_HELIOS);
  const char *m = parse_err("job_id,user,gpu_num,submit_time,duration\n"
                            "1,\"unterminated,2,100,5\n", &o);
  assert_contains(m, "mem:2:3: error: unterminated quoted field");
  m = parse_err("job_id,user,gpu_num,submit_time,duration\n1,u,2,100,5,6\n", &o);
  assert_contains(m, "mem:2:13: error: row has 6 fields but the header names 5");
  m = parse_err("job_id,user,gpu_num,submit_time,duration\n1,u,2,yesterday,5\n", &o);
  assert_contains(m, "mem:2:7: error: submit_time 'yesterday'");
}

static void test_detect_and_summary(void **st) {
  (void)st;
  const char *m = parse_err("hello world\n", NULL);
  assert_contains(m, "mem:1:1: error: cannot tell the trace format");
  m = parse_err("", NULL);
  assert_contains(m, "empty file");
  m = parse_err("id,job_num,cpu_job_num,gpu_job_num,avg_gpu_num\nSeren,1,1,1,1\n", NULL);
  assert_contains(m, "is a cluster summary");
  trace_opts o = opts_fmt(TRACE_FMT_HELIOS);
  m = parse_err("id,job_num,cpu_job_num,gpu_job_num,avg_gpu_num\nSeren,1,1,1,1\n", &o);
  assert_contains(m, "is a cluster summary");
  trace_format f;
  assert_int_equal(trace_format_parse("cobalt", &f), 0);
  assert_int_equal(f, TRACE_FMT_COBALT);
  assert_int_equal(trace_format_parse("csv", &f), -1);
  assert_string_equal(trace_state_name(TRACE_NODE_FAIL), "node_fail");
  assert_string_equal(trace_drop_name(TRACE_DROP_CPU_ONLY), "cpu_only");
}

static void test_transforms_and_bounds(void **st) {
  (void)st;
  trace_opts o;
  trace_opts_init(&o);
  o.cards_per_unit = 4;
  o.time_scale = 2;
  o.load = 2;
  trace *t = parse_ok("1 100 0 10 3 -1 -1 3 60 -1 1 1 1 -1 1 -1 -1 -1\n"
                      "2 300 0 20 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n"
                      "3 501 0 20 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n", &o);
  const trace_job *j = trace_jobs(t);
  assert_int_equal(j[0].cards, 12);
  assert_int_equal(j[0].units, 3);
  assert_int_equal(j[0].runtime_s, 20);
  assert_int_equal(j[0].walltime_s, 120);
  assert_int_equal(j[1].walltime_s, -1);
  assert_int_equal(j[0].submit_s, 100);
  assert_int_equal(j[1].submit_s, 200); /* gap 200 -> 100 */
  assert_int_equal(j[2].submit_s, 300); /* 100 + 401/2 rounds to even: 200 */
  trace_summary s;
  trace_summarize(t, &s);
  assert_int_equal(s.jobs, 3);
  assert_int_equal(s.cards_max, 12);
  assert_int_equal(s.cards_p50, 4);
  assert_true(s.card_hours > (12.0 * 20 + 4 * 40 + 4 * 40) / 3600 - 1e-9);
  trace_free(t);
  /* 3 million units x 4 cards is more than 10 million cards: refused */
  const char *m = parse_err("1 100 0 10 3000000 -1 -1 3 60 -1 1 1 1 -1 1 -1 -1 -1\n", &o);
  assert_contains(m, "mem:1:12: error: size 3000000 x 4 cards per unit exceeds");
  o.cards_per_unit = 0;
  m = parse_err("1 100 0 10 3 -1 -1 3 60 -1 1 1 1 -1 1 -1 -1 -1\n", &o);
  assert_contains(m, "cards per unit 0 is out of range");
}

static void test_gzip(void **st) {
  (void)st;
  char path[] = "/tmp/wk_test_trace_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  gzFile gz = gzopen(path, "wb");
  assert_non_null(gz);
  gzputs(gz, "timestamp,duration,num_gpus,gpu_time,cluster\n");
  for (int i = 0; i < 5000; i++) gzprintf(gz, "2017-10-09 07:01:55,%d.0,2,1,c%d\n", i, i % 7);
  gzclose(gz);
  trace *t = NULL;
  wk_err e;
  assert_int_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  assert_int_equal(trace_njobs(t), 5000);
  assert_int_equal(trace_jobs(t)[4999].runtime_s, 4999);
  assert_int_equal(trace_nnames(t), 8);
  trace_free(t);
  /* a truncated gzip stream is an error, not a short trace */
  FILE *f = fopen(path, "r+b");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  assert_int_equal(truncate(path, size / 2), 0);
  assert_int_not_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  assert_null(t);
  assert_contains(e.msg, "gzip stream ends early (the file is truncated)");
  assert_int_equal(e.col, 1);
  /* the error is on the line where the data stops: count the complete lines that came out */
  gz = gzopen(path, "rb");
  char chunk[4096];
  int got, lines = 0;
  while ((got = gzread(gz, chunk, sizeof chunk)) > 0)
    for (int i = 0; i < got; i++) lines += chunk[i] == '\n';
  gzclose(gz);
  assert_int_equal(e.line, lines + 1);
  /* a BOM, then a NUL inside a gzip line */
  gz = gzopen(path, "wb");
  gzputs(gz, "\xEF\xBB\xBF" "timestamp,duration,num_gpus,gpu_time,cluster\n");
  gzputs(gz, "2017-10-09 07:01:55,5.0,2,1,c0\n");
  gzwrite(gz, "2017-10-09 07:01:56,5", 21);
  gzwrite(gz, "\0", 1);
  gzputs(gz, "0,2,1,c0\n");
  gzclose(gz);
  assert_int_not_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  char buf[512];
  assert_contains(wk_err_format(&e, buf, sizeof buf),
                  ":3:22: error: NUL byte in a text trace");
  remove(path);
  assert_int_equal(trace_load("/nonexistent/trace.swf", NULL, &t, &e), WK_EIO);
  assert_string_equal(e.path, "/nonexistent/trace.swf");
}

/* ---- generator -------------------------------------------------------------------------- */
static char *swf_bytes(const trace *t, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  wk_err e;
  assert_int_equal(trace_write_swf(t, f, "test", &e), WK_EOK);
  fclose(f);
  return buf;
}

static void test_gen(void **st) {
  (void)st;
  trace_gen_opts g;
  trace_gen_opts_init(&g);
  g.cards = 4096;
  g.days = 60;
  g.seed = 7;
  trace *a = NULL, *b = NULL, *c = NULL;
  wk_err e;
  assert_int_equal(trace_gen(&g, &a, &e), WK_EOK);
  assert_int_equal(trace_gen(&g, &b, &e), WK_EOK);
  g.seed = 8;
  assert_int_equal(trace_gen(&g, &c, &e), WK_EOK);
  size_t la, lb, lc;
  char *sa = swf_bytes(a, &la), *sb = swf_bytes(b, &lb), *sc = swf_bytes(c, &lc);
  assert_true(la == lb && !memcmp(sa, sb, la)); /* same seed, same bytes */
  assert_true(la != lc || memcmp(sa, sc, la));
  trace_summary s;
  trace_summarize(a, &s);
  assert_true(s.jobs > 1000);
  /* many 1-card jobs, power-of-two sizes within the cluster */
  assert_int_equal(s.cards_p50, 1);
  assert_true(s.cards_max <= 4096);
  const trace_job *j = trace_jobs(a);
  size_t ones = 0;
  for (size_t i = 0; i < s.jobs; i++) {
    assert_true((j[i].cards & (j[i].cards - 1)) == 0);
    assert_true(j[i].runtime_s >= 1 && j[i].runtime_s <= j[i].walltime_s);
    assert_true(i == 0 || j[i].submit_s >= j[i - 1].submit_s);
    ones += j[i].cards == 1;
  }
  assert_true(ones > s.jobs / 4);
  /* offered load: card-hours over the arrival window, near the 0.9 target (heavy tail:
   * a wide band) */
  double offered = s.card_hours / (g.days * 24.0 * 4096.0);
  if (offered < 0.6 || offered > 1.25) print_error("offered load %.3f\n", offered);
  assert_true(offered > 0.6 && offered < 1.25);
  assert_true(s.states[TRACE_FAILED] > 0 && s.states[TRACE_CANCELLED] > 0 &&
              s.states[TRACE_COMPLETED] > s.jobs / 3);

  /* round trip: write SWF, read it back, same jobs */
  trace *r = parse_ok(sa, NULL);
  assert_int_equal(trace_njobs(r), s.jobs);
  const trace_job *k = trace_jobs(r);
  for (size_t i = 0; i < s.jobs; i++) {
    assert_int_equal(k[i].submit_s, j[i].submit_s);
    assert_int_equal(k[i].runtime_s, j[i].runtime_s);
    assert_int_equal(k[i].walltime_s, j[i].walltime_s);
    assert_int_equal(k[i].cards, j[i].cards);
    assert_int_equal(k[i].state, j[i].state);
    assert_string_equal(trace_name(r, k[i].user), trace_name(a, j[i].user));
    assert_string_equal(trace_name(r, k[i].queue), trace_name(a, j[i].queue));
  }
  int64_t num;
  assert_true(wk_parse_i64(trace_name(r, k[0].queue), &num) != 0); /* a class name, not an id */
  trace_free(r);
  free(sa);
  free(sb);
  free(sc);
  trace_free(a);
  trace_free(b);
  trace_free(c);

  const char *const *names = trace_gen_profiles();
  for (int i = 0; names[i]; i++) {
    g.profile = names[i];
    g.cards = 8; /* smaller than pretraining's smallest job: sizes clamp to the cluster */
    g.days = 3;
    assert_int_equal(trace_gen(&g, &a, &e), WK_EOK);
    trace_summarize(a, &s);
    assert_true(s.jobs > 0 && s.cards_max <= 8);
    trace_free(a);
  }
  g.profile = "quantum";
  assert_int_equal(trace_gen(&g, &a, &e), WK_EUNKNOWN_NAME);
  assert_contains(e.msg, "unknown trace profile 'quantum'");
  g.profile = NULL;
  g.days = -1;
  assert_int_equal(trace_gen(&g, &a, &e), WK_EVALUE);
  /* a full disk is a write error with its reason (the caller names the file) */
  FILE *full = fopen("/dev/full", "w");
  if (full) {
    g.days = 1;
    assert_int_equal(trace_gen(&g, &a, &e), WK_EOK);
    assert_int_equal(trace_write_swf(a, full, NULL, &e), WK_EIO);
    assert_contains(e.msg, "write error while writing SWF: No space left on device");
    fclose(full);
    trace_free(a);
  }
}

/* ---- the real traces -------------------------------------------------------------------- */
typedef struct real_case {
  const char *file;
  trace_format fmt;
  size_t jobs;
  int64_t first_lo, first_hi, last_lo, last_hi; /* plausible first/last submit windows */
  int64_t max_cards;
} real_case;

static void test_real_traces(void **st) {
  (void)st;
  static const real_case cases[] = {
      /* 23,911 jobs in calendar 2022 (UTC 2022-01-01 .. 2023-01-01), up to 4,048 nodes */
      {"theta_2022.swf", TRACE_FMT_SWF, 23911, 1641021254, 1641021254, 1672445845, 1672445845,
       4048},
      /* 2,147 and 1,511 end records; qtime within 2017-12 .. 2018-03 */
      {"mira_2018_wk1.cobalt.log", TRACE_FMT_COBALT, 2147, 1512532278, 1512532278, 1517183976,
       1517183976, 49152},
      {"mira_2018_wk2.cobalt.log", TRACE_FMT_COBALT, 1511, 1520886693, 1520886693, 1522022273,
       1522022273, 49152},
      /* 82,247 jobs 2017-09-04 10:30:41 .. 2017-12-22 08:02:11 UTC, 1..128 GPUs */
      {"philly_jobs.csv.gz", TRACE_FMT_PHILLY, 82247, 1504521041, 1504521041, 1513929731,
       1513929731, 128},
      /* 8,152 pods: 1,088 CPU pods and 861 never-scheduled GPU pods dropped */
      {"alibaba_gpu_2023_pods.csv", TRACE_FMT_ALIBABA, 6203, 0, 0, 12901761, 12901761, 8},
  };
  char path[1024];
  snprintf(path, sizeof path, "%s/data/traces", WK_SHARED_DIR);
  if (access(path, R_OK)) {
    print_message("skipped: %s not found (real traces live in the shared folder)\n", path);
    skip();
  }
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const real_case *rc = &cases[i];
    snprintf(path, sizeof path, "%s/data/traces/%s", WK_SHARED_DIR, rc->file);
    trace *t = NULL;
    wk_err e;
    wk_err_clear(&e);
    trace_format f;
    assert_int_equal(trace_detect(path, &f, &e), WK_EOK);
    assert_int_equal(f, rc->fmt);
    wk_errcode code = trace_load(path, NULL, &t, &e);
    if (code) {
      char buf[1024];
      print_error("%s\n", wk_err_format(&e, buf, sizeof buf));
    }
    assert_int_equal(code, WK_EOK);
    trace_summary s;
    trace_summarize(t, &s);
    if (s.jobs != rc->jobs) print_error("%s: %zu jobs, expected %zu\n", rc->file, s.jobs, rc->jobs);
    assert_int_equal(s.jobs, rc->jobs);
    assert_true(s.first_submit_s >= rc->first_lo && s.first_submit_s <= rc->first_hi);
    assert_true(s.last_submit_s >= rc->last_lo && s.last_submit_s <= rc->last_hi);
    assert_true(s.cards_max <= rc->max_cards && s.cards_max >= 1);
    assert_int_equal(trace_get_counts(t)->skipped_bad, 0);
    trace_free(t);
  }
  /* the Alibaba drops, by reason */
  snprintf(path, sizeof path, "%s/data/traces/alibaba_gpu_2023_pods.csv", WK_SHARED_DIR);
  trace *t = NULL;
  wk_err e;
  assert_int_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  assert_int_equal(trace_get_counts(t)->dropped[TRACE_DROP_CPU_ONLY], 1088);
  assert_int_equal(trace_get_counts(t)->dropped[TRACE_DROP_NEVER_STARTED], 861);
  assert_int_equal(trace_get_counts(t)->rows, 8152);
  trace_free(t);
  /* Theta's first job: 128 nodes, 10,849 s; 1,866 jobs of >= 1,024 nodes (MANIFEST) */
  snprintf(path, sizeof path, "%s/data/traces/theta_2022.swf", WK_SHARED_DIR);
  assert_int_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  assert_int_equal(trace_jobs(t)[0].cards, 128);
  assert_int_equal(trace_jobs(t)[0].runtime_s, 10849);
  assert_int_equal(trace_jobs(t)[0].walltime_s, 10800);
  size_t big = 0;
  for (size_t i = 0; i < trace_njobs(t); i++) big += trace_jobs(t)[i].cards >= 1024;
  assert_int_equal(big, 1866);
  trace_free(t);
  /* Philly: 1,932 jobs with >= 8 GPUs (MANIFEST) */
  snprintf(path, sizeof path, "%s/data/traces/philly_jobs.csv.gz", WK_SHARED_DIR);
  assert_int_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  big = 0;
  for (size_t i = 0; i < trace_njobs(t); i++) big += trace_jobs(t)[i].cards >= 8;
  assert_int_equal(big, 1932);
  trace_free(t);
  /* the summary is recognised and refused */
  snprintf(path, sizeof path, "%s/data/traces/acme_cluster_summary.csv", WK_SHARED_DIR);
  assert_int_not_equal(trace_load(path, NULL, &t, &e), WK_EOK);
  assert_contains(e.msg, "cluster summary");
  assert_int_equal(e.line, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_swf),
      cmocka_unit_test(test_swf_queue_names),
      cmocka_unit_test(test_swf_errors),
      cmocka_unit_test(test_swf_constant_status),
      cmocka_unit_test(test_sacct),
      cmocka_unit_test(test_cobalt),
      cmocka_unit_test(test_philly),
      cmocka_unit_test(test_alibaba),
      cmocka_unit_test(test_helios_quotes),
      cmocka_unit_test(test_detect_and_summary),
      cmocka_unit_test(test_transforms_and_bounds),
      cmocka_unit_test(test_gzip),
      cmocka_unit_test(test_gen),
      cmocka_unit_test(test_real_traces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
