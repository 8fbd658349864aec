/* read_csv.c — readers for traces with a header line that names the columns: Slurm `sacct
 * --parsable2` ('|'), the Philly job table, Alibaba's GPU-2023 pods and Helios/Acme job CSVs.
 * Columns are found by name, so their order and extra columns do not matter; a missing
 * required column is a header error naming it. O(bytes) per file. */
#include "trace_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ---- shared --------------------------------------------------------------------------------- */
typedef struct table {
  trace_field hdr[TRACE_MAX_FIELDS];
  char *hdr_copy;
  int nh;
  int hdr_line;
  trace_field f[TRACE_MAX_FIELDS];
  int nf;
  char sep;
  int quotes;
} table;

/* Reads the first non-blank line as the header. 0, or -1 (fatal set). */
static int read_header(trace_rd *r, trace_build *b, table *t, char sep, int quotes) {
  char *line;
  size_t len;
  int rc;
  t->sep = sep;
  t->quotes = quotes;
  while ((rc = trace_rd_next(r, &line, &len, b->e)) == 1) {
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s) break;
  }
  if (rc < 0) return -1;
  if (rc == 0) return trace_fatal(b, WK_EPARSE, 0, 0, "empty file: expected a header line");
  t->hdr_copy = wk_strdup(line);
  t->hdr_line = r->line;
  int bad_col = 0;
  t->nh = trace_split(t->hdr_copy, sep, quotes, t->hdr, TRACE_MAX_FIELDS, &bad_col);
  if (t->nh < 0)
    return trace_fatal(b, WK_EPARSE, r->line, bad_col,
                       "header: unterminated quote or more than %d columns", TRACE_MAX_FIELDS);
  if (trace_refuse_summary(b, t->hdr, t->nh, r->line)) return -1;
  return 0;
}

static void table_free(table *t) { wk_free(t->hdr_copy); }

static int col_find(const table *t, const char *name) {
  for (int i = 0; i < t->nh; i++)
    if (!strcasecmp(t->hdr[i].s, name)) return i;
  return -1;
}

static int need_col(trace_build *b, const table *t, const char *name, const char *what,
                    int *out) {
  *out = col_find(t, name);
  if (*out >= 0) return 0;
  return trace_fatal(b, WK_EPARSE, t->hdr_line, 1,
                     "header has no '%s' column (%s); this reader needs it", name, what);
}

/* Next data row split into t->f. 1 row, 0 end, -1 stop. Malformed rows under skip_bad are
 * counted and skipped here. */
static int next_row(trace_rd *r, trace_build *b, table *t) {
  char *line;
  size_t len;
  int rc;
  while ((rc = trace_rd_next(r, &line, &len, b->e)) == 1) {
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) continue;
    b->t->counts.rows++;
    int bad_col = 0;
    t->nf = trace_split(line, t->sep, t->quotes, t->f, TRACE_MAX_FIELDS, &bad_col);
    if (t->nf < 0) {
      if (trace_bad(b, r->line, bad_col,
                    "unterminated quoted field (or text after a closing quote): write \"\" for "
                    "a quote inside a quoted field"))
        return -1;
      continue;
    }
    if (t->nf != t->nh) {
      int col = t->nf > t->nh ? t->f[t->nh].col : trace_col_of(line, len);
      if (trace_bad(b, r->line, col, "row has %d fields but the header names %d columns",
                    t->nf, t->nh))
        return -1;
      continue;
    }
    return 1;
  }
  return rc;
}

static const trace_field *fld(const table *t, int i) { return &t->f[i]; }

static int empty_or(const char *s, const char *a, const char *b2) {
  return !*s || !strcasecmp(s, a) || (b2 && !strcasecmp(s, b2));
}

/* A non-negative whole number in column i ("8", "8.0"). 0, or reports and returns 1 (skip)
 * or -1 (stop). */
static int num_field(trace_rd *r, trace_build *b, const table *t, int i, const char *what,
                     int64_t *out) {
  const trace_field *f = fld(t, i);
  if (trace_parse_num(f->s, out))
    return trace_bad(b, r->line, f->col, "%s '%s' (column '%s') is not a number", what, f->s,
                     t->hdr[i].s) ? -1 : 1;
  if (*out < 0)
    return trace_bad(b, r->line, f->col, "%s %lld (column '%s') is negative", what,
                     (long long)*out, t->hdr[i].s) ? -1 : 1;
  return 0;
}

static int time_field(trace_rd *r, trace_build *b, const table *t, int i, const char *what,
                      int64_t *out) {
  const trace_field *f = fld(t, i);
  if (trace_parse_time(f->s, out))
    return trace_bad(b, r->line, f->col,
                     "%s '%s' (column '%s') is not a time: expected Unix seconds or "
                     "YYYY-MM-DD HH:MM:SS (UTC)",
                     what, f->s, t->hdr[i].s) ? -1 : 1;
  return 0;
}

int trace_state_from_slurm(const char *s) {
  static const struct {
    const char *word;
    trace_state st;
  } map[] = {
      {"COMPLETED", TRACE_COMPLETED}, {"COMPLETE", TRACE_COMPLETED}, {"SUCCEEDED", TRACE_COMPLETED},
      {"FAILED", TRACE_FAILED},       {"OUT_OF_MEMORY", TRACE_FAILED}, {"BOOT_FAIL", TRACE_FAILED},
      {"CANCELLED", TRACE_CANCELLED}, {"CANCELED", TRACE_CANCELLED}, {"TIMEOUT", TRACE_TIMEOUT},
      {"DEADLINE", TRACE_TIMEOUT},    {"NODE_FAIL", TRACE_NODE_FAIL}, {"PREEMPTED", TRACE_PREEMPTED},
      {"RUNNING", TRACE_RUNNING},     {"REQUEUED", TRACE_UNKNOWN}, {"RESIZING", TRACE_UNKNOWN},
      {"SUSPENDED", TRACE_UNKNOWN},   {"REVOKED", TRACE_UNKNOWN}, {"PENDING", TRACE_UNKNOWN},
  };
  size_t n = 0;
  while (s[n] && s[n] != ' ' && s[n] != '+') n++; /* "CANCELLED by 1234", "CANCELLED+" */
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strlen(map[i].word) == n && !strncasecmp(s, map[i].word, n)) return (int)map[i].st;
  return -1;
}

static int64_t numeric_id(const char *s, int64_t fallback) {
  int64_t v;
  return trace_parse_num(s, &v) || v < 0 ? fallback : v;
}

/* ---- Philly --------------------------------------------------------------------------------- */
int trace_read_philly(trace_rd *r, trace_build *b) {
  table t;
  memset(&t, 0, sizeof t);
  int rc = -1, c_ts, c_dur, c_gpu, c_cl;
  if (read_header(r, b, &t, ',', 1) || need_col(b, &t, "timestamp", "submit time", &c_ts) ||
      need_col(b, &t, "duration", "run time in seconds", &c_dur) ||
      need_col(b, &t, "num_gpus", "GPUs per job", &c_gpu))
    goto out;
  c_cl = col_find(&t, "cluster");
  int64_t row = 0;
  for (;;) {
    int k = next_row(r, b, &t);
    if (k <= 0) {
      rc = k;
      break;
    }
    row++;
    int64_t sub, dur, gpus;
    const trace_field *fd = fld(&t, c_dur);
    if (empty_or(fd->s, "None", "NaN")) {
      trace_count_drop(b, TRACE_DROP_NO_RUNTIME);
      continue;
    }
    if (fld(&t, c_ts)->s[0] && trace_parse_datetime(fld(&t, c_ts)->s, &sub)) {
      if (trace_bad(b, r->line, fld(&t, c_ts)->col,
                    "timestamp '%s' is not YYYY-MM-DD HH:MM:SS (UTC)", fld(&t, c_ts)->s))
        goto out;
      continue;
    }
    if (!fld(&t, c_ts)->s[0]) {
      if (trace_bad(b, r->line, fld(&t, c_ts)->col, "timestamp is empty: the submit time is required"))
        goto out;
      continue;
    }
    if ((k = num_field(r, b, &t, c_dur, "duration", &dur)) || (k = num_field(r, b, &t, c_gpu, "num_gpus", &gpus))) {
      if (k < 0) goto out;
      continue;
    }
    trace_job j = {0};
    j.id = row;
    j.submit_s = sub;
    j.runtime_s = dur;
    j.walltime_s = -1;
    j.line = (uint32_t)r->line;
    j.state = TRACE_UNKNOWN;
    if (c_cl >= 0) j.group = trace_intern(b, fld(&t, c_cl)->s, fld(&t, c_cl)->len);
    if (trace_add(b, &j, gpus, fld(&t, c_gpu)->col, fld(&t, c_ts)->col, fd->col)) goto out;
  }
out:
  table_free(&t);
  return rc;
}

/* ---- Alibaba GPU 2023 pods ------------------------------------------------------------------- */
/* One pod is one job. num_gpu 0 pods are CPU pods (dropped, counted). A pod sharing one GPU
 * (num_gpu 1, gpu_milli < 1000) is counted as 1 card: the twin places whole cards, and the
 * fraction is not a separate device. Runtime = deletion - scheduled; pods never scheduled
 * (empty scheduled_time) are dropped. Phase: Succeeded -> completed, Failed -> failed,
 * Running -> running (still up at the trace's end), Pending -> unknown. Times are seconds from
 * the trace start. Queue = qos, group = gpu_spec (the requested GPU model, often empty). */
int trace_read_alibaba(trace_rd *r, trace_build *b) {
  table t;
  memset(&t, 0, sizeof t);
  int rc = -1, c_name, c_ngpu, c_milli, c_phase, c_create, c_delete, c_sched;
  if (read_header(r, b, &t, ',', 1) || need_col(b, &t, "name", "pod name", &c_name) ||
      need_col(b, &t, "num_gpu", "GPUs per pod", &c_ngpu) ||
      need_col(b, &t, "creation_time", "submit time", &c_create) ||
      need_col(b, &t, "deletion_time", "end time", &c_delete) ||
      need_col(b, &t, "scheduled_time", "start time", &c_sched))
    goto out;
  c_milli = col_find(&t, "gpu_milli");
  c_phase = col_find(&t, "pod_phase");
  int c_qos = col_find(&t, "qos"), c_spec = col_find(&t, "gpu_spec");
  int64_t row = 0;
  for (;;) {
    int k = next_row(r, b, &t);
    if (k <= 0) {
      rc = k;
      break;
    }
    row++;
    int64_t ngpu, milli = 1000, created, deleted, sched;
    if ((k = num_field(r, b, &t, c_ngpu, "num_gpu", &ngpu)) ||
        (c_milli >= 0 && (k = num_field(r, b, &t, c_milli, "gpu_milli", &milli))) ||
        (k = num_field(r, b, &t, c_create, "creation_time", &created))) {
      if (k < 0) goto out;
      continue;
    }
    if (milli > 1000) {
      if (trace_bad(b, r->line, fld(&t, c_milli)->col,
                    "gpu_milli %lld is over 1000: it is the share of one GPU (1000 = whole)",
                    (long long)milli))
        goto out;
      continue;
    }
    if (ngpu == 0) {
      trace_count_drop(b, TRACE_DROP_CPU_ONLY);
      continue;
    }
    if (!fld(&t, c_sched)->s[0]) {
      trace_count_drop(b, TRACE_DROP_NEVER_STARTED);
      continue;
    }
    if (!fld(&t, c_delete)->s[0]) {
      trace_count_drop(b, TRACE_DROP_NO_RUNTIME);
      continue;
    }
    if ((k = num_field(r, b, &t, c_sched, "scheduled_time", &sched)) ||
        (k = num_field(r, b, &t, c_delete, "deletion_time", &deleted))) {
      if (k < 0) goto out;
      continue;
    }
    if (deleted < sched) {
      if (trace_bad(b, r->line, fld(&t, c_delete)->col,
                    "deletion_time %lld is before scheduled_time %lld: a pod cannot end before "
                    "it starts", (long long)deleted, (long long)sched))
        goto out;
      continue;
    }
    trace_job j = {0};
    const char *nm = fld(&t, c_name)->s;
    size_t nl = fld(&t, c_name)->len;
    size_t d = nl;
    while (d > 0 && isdigit((unsigned char)nm[d - 1])) d--;
    j.id = d < nl ? numeric_id(nm + d, row) : row;
    j.submit_s = created;
    j.runtime_s = deleted - sched;
    j.walltime_s = -1;
    j.line = (uint32_t)r->line;
    j.state = TRACE_UNKNOWN;
    if (c_phase >= 0) {
      const char *ph = fld(&t, c_phase)->s;
      if (!strcasecmp(ph, "Succeeded")) j.state = TRACE_COMPLETED;
      else if (!strcasecmp(ph, "Failed")) j.state = TRACE_FAILED;
      else if (!strcasecmp(ph, "Running")) j.state = TRACE_RUNNING;
    }
    if (c_qos >= 0) j.queue = trace_intern(b, fld(&t, c_qos)->s, fld(&t, c_qos)->len);
    if (c_spec >= 0) j.group = trace_intern(b, fld(&t, c_spec)->s, fld(&t, c_spec)->len);
    if (trace_add(b, &j, ngpu, fld(&t, c_ngpu)->col, fld(&t, c_create)->col, fld(&t, c_delete)->col))
      goto out;
  }
out:
  table_free(&t);
  return rc;
}

/* ---- Helios / Acme ---------------------------------------------------------------------------- */
/* job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue
 * (Acme adds columns; all matched by name). Runtime = duration, else end - start. In Helios
 * "queue" is the queueing delay in seconds; a non-numeric queue is taken as a queue name.
 * gpu_num 0 rows are CPU jobs (dropped, counted). States as Slurm names them. */
int trace_read_helios(trace_rd *r, trace_build *b) {
  table t;
  memset(&t, 0, sizeof t);
  int rc = -1, c_gpu, c_sub;
  if (read_header(r, b, &t, ',', 1) || need_col(b, &t, "gpu_num", "GPUs per job", &c_gpu) ||
      need_col(b, &t, "submit_time", "submit time", &c_sub))
    goto out;
  int c_id = col_find(&t, "job_id"), c_user = col_find(&t, "user"), c_vc = col_find(&t, "vc");
  int c_state = col_find(&t, "state"), c_start = col_find(&t, "start_time");
  int c_end = col_find(&t, "end_time"), c_dur = col_find(&t, "duration");
  int c_queue = col_find(&t, "queue");
  if (c_dur < 0 && (c_start < 0 || c_end < 0)) {
    trace_fatal(b, WK_EPARSE, t.hdr_line, 1,
                "header has no 'duration' column and not both 'start_time' and 'end_time': "
                "the run time cannot be known");
    goto out;
  }
  int64_t row = 0;
  for (;;) {
    int k = next_row(r, b, &t);
    if (k <= 0) {
      rc = k;
      break;
    }
    row++;
    int64_t gpus, sub, run = -1;
    int run_col = 1;
    if ((k = num_field(r, b, &t, c_gpu, "gpu_num", &gpus)) ||
        (k = time_field(r, b, &t, c_sub, "submit_time", &sub))) {
      if (k < 0) goto out;
      continue;
    }
    int state = TRACE_UNKNOWN;
    if (c_state >= 0 && fld(&t, c_state)->s[0]) {
      state = trace_state_from_slurm(fld(&t, c_state)->s);
      if (state < 0) {
        if (trace_bad(b, r->line, fld(&t, c_state)->col,
                      "state '%s' is not a Slurm job state (COMPLETED, FAILED, CANCELLED, "
                      "TIMEOUT, NODE_FAIL, ...)", fld(&t, c_state)->s))
          goto out;
        continue;
      }
    }
    if (gpus == 0) {
      trace_count_drop(b, TRACE_DROP_CPU_ONLY);
      continue;
    }
    if (c_dur >= 0 && !empty_or(fld(&t, c_dur)->s, "None", "NaN")) {
      run_col = fld(&t, c_dur)->col;
      if ((k = num_field(r, b, &t, c_dur, "duration", &run))) {
        if (k < 0) goto out;
        continue;
      }
    } else if (c_start >= 0 && c_end >= 0 && !empty_or(fld(&t, c_start)->s, "None", "NaN") &&
               !empty_or(fld(&t, c_end)->s, "None", "NaN")) {
      int64_t st, en;
      run_col = fld(&t, c_end)->col;
      if ((k = time_field(r, b, &t, c_start, "start_time", &st)) ||
          (k = time_field(r, b, &t, c_end, "end_time", &en))) {
        if (k < 0) goto out;
        continue;
      }
      run = en - st;
    } else {
      trace_count_drop(b, (c_start >= 0 && empty_or(fld(&t, c_start)->s, "None", "NaN"))
                        ? TRACE_DROP_NEVER_STARTED : TRACE_DROP_NO_RUNTIME);
      continue;
    }
    trace_job j = {0};
    j.id = c_id >= 0 ? numeric_id(fld(&t, c_id)->s, row) : row;
    j.submit_s = sub;
    j.runtime_s = run;
    j.walltime_s = -1;
    j.line = (uint32_t)r->line;
    j.state = (uint8_t)state;
    if (c_user >= 0) j.user = trace_intern(b, fld(&t, c_user)->s, fld(&t, c_user)->len);
    if (c_vc >= 0) j.group = trace_intern(b, fld(&t, c_vc)->s, fld(&t, c_vc)->len);
    int64_t qdelay;
    if (c_queue >= 0 && fld(&t, c_queue)->s[0] && trace_parse_num(fld(&t, c_queue)->s, &qdelay))
      j.queue = trace_intern(b, fld(&t, c_queue)->s, fld(&t, c_queue)->len);
    if (trace_add(b, &j, gpus, fld(&t, c_gpu)->col, fld(&t, c_sub)->col, run_col)) goto out;
  }
out:
  table_free(&t);
  return rc;
}

/* ---- Slurm sacct --parsable2 ------------------------------------------------------------------- */
static int is_unknown_time(const char *s) {
  return !*s || !strcasecmp(s, "Unknown") || !strcasecmp(s, "None");
}

/* "billing=4,cpu=4,gres/gpu=2,mem=16G,node=1" -> GPUs (untyped gres/gpu=, else the sum of
 * typed gres/gpu:a100=), else billing. Returns 0 and *units, or -1 when neither is there. */
static int tres_units(const char *s, int64_t *units, int *bad) {
  int64_t gpu = -1, typed = 0, billing = -1;
  int any_typed = 0;
  *bad = 0;
  while (*s) {
    const char *e = strchr(s, ','), *end = e ? e : s + strlen(s);
    const char *eq = memchr(s, '=', (size_t)(end - s));
    if (eq) {
      char val[32];
      size_t n = (size_t)(end - eq - 1);
      if (n >= sizeof val) n = sizeof val - 1;
      memcpy(val, eq + 1, n);
      val[n] = 0;
      int64_t v = -1;
      size_t kl = (size_t)(eq - s);
      int is_gpu = kl == 8 && !strncmp(s, "gres/gpu", 8);
      int is_typed = kl > 9 && !strncmp(s, "gres/gpu:", 9);
      int is_bill = kl == 7 && !strncmp(s, "billing", 7);
      if (is_gpu || is_typed || is_bill) {
        if (trace_parse_num(val, &v) || v < 0) {
          *bad = 1;
          return -1;
        }
        if (is_gpu) gpu = v;
        else if (is_typed) typed += v, any_typed = 1;
        else billing = v;
      }
    }
    s = e ? e + 1 : end;
  }
  if (gpu >= 0) *units = gpu;
  else if (any_typed) *units = typed;
  else if (billing >= 0) *units = billing;
  else return -1;
  return 0;
}

/* Slurm's Timelimit: "UNLIMITED", "Partition_Limit", "MM", "MM:SS", "HH:MM:SS", "D-HH:MM:SS". */
static int slurm_limit(const char *s, int64_t *out) {
  if (!*s || !strcasecmp(s, "UNLIMITED") || !strcasecmp(s, "Partition_Limit") ||
      !strcasecmp(s, "INVALID")) {
    *out = -1;
    return 0;
  }
  int64_t m;
  if (!wk_parse_i64(s, &m) && m >= 0) {
    *out = m * 60;
    return 0;
  }
  return trace_parse_hms(s, out);
}

int trace_read_sacct(trace_rd *r, trace_build *b) {
  table t;
  memset(&t, 0, sizeof t);
  int rc = -1, c_sub, c_state;
  if (read_header(r, b, &t, '|', 0) ||
      need_col(b, &t, "Submit", "submit time, YYYY-MM-DDTHH:MM:SS", &c_sub) ||
      need_col(b, &t, "State", "final job state", &c_state))
    goto out;
  int c_id = col_find(&t, "JobID");
  if (c_id < 0) c_id = col_find(&t, "JobIDRaw");
  int c_start = col_find(&t, "Start"), c_end = col_find(&t, "End");
  int c_el = col_find(&t, "Elapsed"), c_elraw = col_find(&t, "ElapsedRaw");
  int c_tres = col_find(&t, "AllocTRES"), c_nodes = col_find(&t, "NNodes");
  int c_cpus = col_find(&t, "NCPUS");
  if (c_cpus < 0) c_cpus = col_find(&t, "AllocCPUS");
  int c_user = col_find(&t, "User"), c_acct = col_find(&t, "Account");
  int c_part = col_find(&t, "Partition"), c_lim = col_find(&t, "Timelimit");
  int c_limraw = col_find(&t, "TimelimitRaw");
  if (c_el < 0 && c_elraw < 0 && (c_start < 0 || c_end < 0)) {
    trace_fatal(b, WK_EPARSE, t.hdr_line, 1,
                "header has no 'Elapsed' column and not both 'Start' and 'End': the run time "
                "cannot be known (sacct --format=...,Elapsed or Start,End)");
    goto out;
  }
  if (c_tres < 0 && c_nodes < 0 && c_cpus < 0) {
    trace_fatal(b, WK_EPARSE, t.hdr_line, 1,
                "header has none of 'AllocTRES', 'NNodes', 'NCPUS', 'AllocCPUS': the job size "
                "cannot be known");
    goto out;
  }
  int64_t row = 0;
  for (;;) {
    int k = next_row(r, b, &t);
    if (k <= 0) {
      rc = k;
      break;
    }
    row++;
    if (c_id >= 0 && strchr(fld(&t, c_id)->s, '.')) {
      trace_count_drop(b, TRACE_DROP_JOB_STEP);
      continue;
    }
    const trace_field *fs = fld(&t, c_state);
    int state = trace_state_from_slurm(fs->s);
    if (state < 0) {
      if (trace_bad(b, r->line, fs->col,
                    "State '%s' is not a Slurm job state (COMPLETED, FAILED, CANCELLED by N, "
                    "TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, ...)", fs->s))
        goto out;
      continue;
    }
    int64_t sub, run = -1, units = -1, wall = -1;
    int run_col = 1, units_col = 1;
    if (is_unknown_time(fld(&t, c_sub)->s)) {
      if (trace_bad(b, r->line, fld(&t, c_sub)->col, "Submit is '%s': every job needs a submit "
                    "time (YYYY-MM-DDTHH:MM:SS)", fld(&t, c_sub)->s))
        goto out;
      continue;
    }
    if (trace_parse_datetime(fld(&t, c_sub)->s, &sub)) {
      if (trace_bad(b, r->line, fld(&t, c_sub)->col,
                    "Submit '%s' is not a time like 2024-03-01T12:00:00", fld(&t, c_sub)->s))
        goto out;
      continue;
    }
    int started = !(c_start >= 0 && is_unknown_time(fld(&t, c_start)->s));
    if (!started || !strncasecmp(fs->s, "PENDING", 7)) {
      trace_count_drop(b, TRACE_DROP_NEVER_STARTED);
      continue;
    }
    if (c_elraw >= 0 && fld(&t, c_elraw)->s[0]) {
      run_col = fld(&t, c_elraw)->col;
      if ((k = num_field(r, b, &t, c_elraw, "ElapsedRaw", &run))) {
        if (k < 0) goto out;
        continue;
      }
    } else if (c_el >= 0 && fld(&t, c_el)->s[0]) {
      run_col = fld(&t, c_el)->col;
      if (trace_parse_hms(fld(&t, c_el)->s, &run)) {
        if (trace_bad(b, r->line, run_col, "Elapsed '%s' is not [D-]HH:MM:SS",
                      fld(&t, c_el)->s))
          goto out;
        continue;
      }
    } else if (c_start >= 0 && c_end >= 0 && !is_unknown_time(fld(&t, c_end)->s)) {
      int64_t st, en;
      run_col = fld(&t, c_end)->col;
      if (trace_parse_datetime(fld(&t, c_start)->s, &st) ||
          trace_parse_datetime(fld(&t, c_end)->s, &en)) {
        if (trace_bad(b, r->line, run_col,
                      "Start/End '%s'/'%s' are not times like 2024-03-01T12:00:00",
                      fld(&t, c_start)->s, fld(&t, c_end)->s))
          goto out;
        continue;
      }
      if (en < st) {
        if (trace_bad(b, r->line, run_col,
                      "End '%s' (column '%s') is before Start '%s': a job cannot end before it "
                      "starts", fld(&t, c_end)->s, t.hdr[c_end].s, fld(&t, c_start)->s))
          goto out;
        continue;
      }
      run = en - st;
    }
    if (run < 0) {
      trace_count_drop(b, TRACE_DROP_NO_RUNTIME);
      continue;
    }
    /* size: GPUs (or billing) from AllocTRES, else nodes, else CPUs */
    int bad = 0;
    if (c_tres >= 0 && fld(&t, c_tres)->s[0]) {
      units_col = fld(&t, c_tres)->col;
      if (tres_units(fld(&t, c_tres)->s, &units, &bad) && bad) {
        if (trace_bad(b, r->line, units_col,
                      "AllocTRES '%s' has a gres/gpu or billing count that is not a number",
                      fld(&t, c_tres)->s))
          goto out;
        continue;
      }
    }
    if (units < 0 && c_nodes >= 0 && fld(&t, c_nodes)->s[0]) {
      units_col = fld(&t, c_nodes)->col;
      if ((k = num_field(r, b, &t, c_nodes, "NNodes", &units))) {
        if (k < 0) goto out;
        continue;
      }
    }
    if (units < 0 && c_cpus >= 0 && fld(&t, c_cpus)->s[0]) {
      units_col = fld(&t, c_cpus)->col;
      if ((k = num_field(r, b, &t, c_cpus, "NCPUS", &units))) {
        if (k < 0) goto out;
        continue;
      }
    }
    if (units < 0) units = 0; /* dropped as no cards */
    int64_t lraw;
    if (c_limraw >= 0 && !trace_parse_num(fld(&t, c_limraw)->s, &lraw) && lraw >= 0)
      wall = lraw * 60;
    else if (c_lim >= 0 && slurm_limit(fld(&t, c_lim)->s, &wall)) {
      if (trace_bad(b, r->line, fld(&t, c_lim)->col,
                    "Timelimit '%s' is not [D-]HH:MM:SS, minutes or UNLIMITED",
                    fld(&t, c_lim)->s))
        goto out;
      continue;
    }
    trace_job j = {0};
    j.id = c_id >= 0 ? numeric_id(fld(&t, c_id)->s, row) : row;
    if (c_id >= 0 && j.id == row) { /* "123_4" array task, "123+0" het job: leading number */
      const char *s = fld(&t, c_id)->s;
      int64_t v = 0;
      int any = 0;
      for (; *s >= '0' && *s <= '9' && v < 100000000000000000LL; s++, any = 1) v = v * 10 + (*s - '0');
      if (any) j.id = v;
    }
    j.submit_s = sub;
    j.runtime_s = run;
    j.walltime_s = wall;
    j.line = (uint32_t)r->line;
    j.state = (uint8_t)state;
    if (c_user >= 0) j.user = trace_intern(b, fld(&t, c_user)->s, fld(&t, c_user)->len);
    if (c_acct >= 0) j.group = trace_intern(b, fld(&t, c_acct)->s, fld(&t, c_acct)->len);
    if (c_part >= 0) j.queue = trace_intern(b, fld(&t, c_part)->s, fld(&t, c_part)->len);
    if (trace_add(b, &j, units, units_col, fld(&t, c_sub)->col, run_col)) goto out;
  }
out:
  table_free(&t);
  return rc;
}
