/* read_text.c — the two line-oriented, non-CSV readers: the Standard Workload Format of the
 * Parallel Workloads Archive (18 blank-separated numbers, ';' header comments) and Cobalt/PBS
 * accounting logs ("date;E;jobid;key=value ..."), of which only end records make jobs.
 * Both are O(bytes); every error names the field by its column and says what was expected. */
#include "trace_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- SWF ------------------------------------------------------------------------------------ */
/* Field numbers (1-based) as the SWF definition counts them. */
enum { SWF_ID = 1, SWF_SUBMIT = 2, SWF_RUN = 4, SWF_ALLOC = 5, SWF_REQ = 8, SWF_REQTIME = 9,
       SWF_STATUS = 11, SWF_USER = 12, SWF_GROUP = 13, SWF_QUEUE = 15, SWF_FIELDS = 18 };
static const char *const swf_field_names[SWF_FIELDS + 1] = {
    "", "job number", "submit time", "wait time", "run time", "allocated processors",
    "average CPU time", "used memory", "requested processors", "requested time",
    "requested memory", "status", "user id", "group id", "executable", "queue", "partition",
    "preceding job", "think time"};

/* Reads the SWF header value "; Key: value" when the line is that key. */
static int swf_header_i64(const char *line, const char *key, int64_t *out) {
  const char *p = line + 1;
  while (*p == ' ' || *p == '\t') p++;
  size_t n = strlen(key);
  if (strncmp(p, key, n) || p[n] != ':') return 0;
  p += n + 1;
  while (*p == ' ' || *p == '\t') p++;
  char tmp[64];
  size_t k = 0;
  while (*p && *p != ' ' && *p != '\t' && k + 1 < sizeof tmp) tmp[k++] = *p++;
  tmp[k] = 0;
  return trace_parse_num(tmp, out) == 0;
}

/* Queue names from "; Queue: NUMBER NAME" header lines (SWF 2.2 describes each queue on
 * one such line; the rest of the line after the number is its name). Field 15 then reads as
 * that name instead of the bare number. Sorted once, when the first job line needs it. */
typedef struct swf_queue {
  int64_t num;
  uint32_t name; /* interned */
  uint32_t seq;  /* header order: a later line for the same number wins */
} swf_queue;
typedef struct swf_queues {
  swf_queue *q;
  size_t n, cap;
  int sorted;
} swf_queues;

static int cmp_swf_queue(const void *a, const void *b) {
  const swf_queue *x = a, *y = b;
  if (x->num != y->num) return x->num < y->num ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Reads "; Queue: NUMBER NAME" into qs. 1 when the line is one, else 0 (other comments,
 * and free-text "Queue:" lines that do not start with a number, are left alone). */
static int swf_header_queue(const char *line, trace_build *b, swf_queues *qs) {
  const char *p = line + 1;
  while (*p == ' ' || *p == '\t') p++;
  if (strncmp(p, "Queue:", 6)) return 0;
  p += 6;
  while (*p == ' ' || *p == '\t') p++;
  char tmp[32];
  size_t k = 0;
  while (*p && *p != ' ' && *p != '\t' && k + 1 < sizeof tmp) tmp[k++] = *p++;
  tmp[k] = 0;
  int64_t num;
  if (wk_parse_i64(tmp, &num) || num < 0) return 0;
  while (*p == ' ' || *p == '\t') p++;
  size_t len = strlen(p);
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
  if (!len) return 0;
  if (qs->n == qs->cap) {
    qs->cap = qs->cap ? 2 * qs->cap : 16;
    qs->q = wk_realloc(qs->q, sizeof *qs->q * qs->cap);
  }
  qs->q[qs->n] = (swf_queue){num, trace_intern(b, p, len), (uint32_t)qs->n};
  qs->n++;
  qs->sorted = 0;
  return 1;
}

/* The name id for queue number num (its header name, else the number as written). O(log n). */
static uint32_t swf_queue_name(trace_build *b, swf_queues *qs, int64_t num, const trace_field *fl) {
  if (qs->n) {
    if (!qs->sorted) {
      qsort(qs->q, qs->n, sizeof *qs->q, cmp_swf_queue);
      size_t w = 0; /* keep the last line of each number */
      for (size_t i = 0; i < qs->n; i++) {
        if (w && qs->q[w - 1].num == qs->q[i].num) w--;
        qs->q[w++] = qs->q[i];
      }
      qs->n = w;
      qs->sorted = 1;
    }
    size_t lo = 0, hi = qs->n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (qs->q[mid].num < num) lo = mid + 1;
      else hi = mid;
    }
    if (lo < qs->n && qs->q[lo].num == num) return qs->q[lo].name;
  }
  return trace_intern(b, fl->s, fl->len);
}

/* Counts, ids and status codes are integers in SWF ("64", "64.0", "1e3"); a fraction such as
 * 64.5 processors is a wrong file, not something to round. Times may carry fractions. */
static int swf_whole(const char *s) {
  int64_t i;
  double d;
  if (!wk_parse_i64(s, &i)) return 1;
  return !wk_parse_double(s, &d) && d == floor(d);
}

static int read_swf(trace_rd *r, trace_build *b, swf_queues *qs) {
  trace_field f[SWF_FIELDS + 1];
  char *line;
  size_t len;
  int rc;
  int64_t unix_start = 0;
  size_t status_zero = 0, status_other = 0;
  while ((rc = trace_rd_next(r, &line, &len, b->e)) == 1) {
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == ';') {
      int64_t v;
      if (swf_header_i64(s, "UnixStartTime", &v)) unix_start = v;
      else swf_header_queue(s, b, qs);
      continue;
    }
    if (!*s) continue;
    b->t->counts.rows++;
    int nf = trace_split_ws(line, f, SWF_FIELDS + 1);
    if (nf != SWF_FIELDS) {
      int col = nf > SWF_FIELDS ? f[SWF_FIELDS].col : trace_col_of(line, len);
      if (trace_bad(b, r->line, col,
                    "SWF line has %d fields, expected %d blank-separated numbers (use -1 for "
                    "unknown values)",
                    nf, SWF_FIELDS))
        return -1;
      continue;
    }
    int64_t v[SWF_FIELDS + 1];
    int bad = 0;
    for (int i = 1; i <= SWF_FIELDS && !bad; i++) {
      const trace_field *fl = &f[i - 1];
      /* a field the twin does not use must still be a number (archives give fractions in
       * CPU time and memory, and -1 when unknown): a letter there means a broken line */
      int used = i == SWF_ID || i == SWF_SUBMIT || i == SWF_RUN || i == SWF_ALLOC ||
                 i == SWF_REQ || i == SWF_REQTIME || i == SWF_STATUS || i == SWF_USER ||
                 i == SWF_GROUP || i == SWF_QUEUE;
      double unused;
      if (used ? trace_parse_num(fl->s, &v[i]) : wk_parse_double(fl->s, &unused)) {
        bad = 1;
        if (trace_bad(b, r->line, fl->col,
                      "field %d (%s) is '%s', not a number: SWF fields are numbers, -1 when "
                      "unknown",
                      i, swf_field_names[i], fl->s))
          return -1;
      } else if (!used) {
        continue;
      } else if (i != SWF_SUBMIT && i != SWF_RUN && i != SWF_REQTIME && !swf_whole(fl->s)) {
        bad = 1;
        if (trace_bad(b, r->line, fl->col,
                      "field %d (%s) is '%s', not a whole number: SWF counts, ids and status "
                      "codes are integers",
                      i, swf_field_names[i], fl->s))
          return -1;
      } else if (v[i] < -1) {
        bad = 1;
        if (trace_bad(b, r->line, fl->col,
                      "field %d (%s) is %lld: SWF values are >= 0, or -1 when unknown", i,
                      swf_field_names[i], (long long)v[i]))
          return -1;
      }
    }
    if (bad) continue;
    if (v[SWF_SUBMIT] < 0) {
      if (trace_bad(b, r->line, f[SWF_SUBMIT - 1].col,
                    "field 2 (submit time) is -1: every job needs a submit time in seconds"))
        return -1;
      continue;
    }
    if (v[SWF_RUN] < 0) {
      trace_count_drop(b, TRACE_DROP_NO_RUNTIME);
      continue;
    }
    int procs_field = v[SWF_ALLOC] > 0 ? SWF_ALLOC : SWF_REQ;
    int64_t units = v[procs_field] > 0 ? v[procs_field] : 0;
    if (units > TRACE_MAX_CARDS) {
      if (trace_bad(b, r->line, f[procs_field - 1].col,
                    "field %d (%s) is %lld: more than %d is not a real job size",
                    procs_field, swf_field_names[procs_field], (long long)units,
                    TRACE_MAX_CARDS))
        return -1;
      continue;
    }
    trace_job j = {0};
    j.id = v[SWF_ID];
    j.submit_s = unix_start + v[SWF_SUBMIT];
    j.runtime_s = v[SWF_RUN];
    j.walltime_s = v[SWF_REQTIME] > 0 ? v[SWF_REQTIME] : -1;
    j.line = (uint32_t)r->line;
    j.user = v[SWF_USER] >= 0 ? trace_intern(b, f[SWF_USER - 1].s, f[SWF_USER - 1].len) : 0;
    j.group = v[SWF_GROUP] >= 0 ? trace_intern(b, f[SWF_GROUP - 1].s, f[SWF_GROUP - 1].len) : 0;
    j.queue = v[SWF_QUEUE] >= 0 ? swf_queue_name(b, qs, v[SWF_QUEUE], &f[SWF_QUEUE - 1]) : 0;
    switch (v[SWF_STATUS]) {
    case 1: case 3: j.state = TRACE_COMPLETED; break;
    case 0: case 4:
      j.state = (j.walltime_s > 0 && j.runtime_s >= j.walltime_s) ? TRACE_TIMEOUT : TRACE_FAILED;
      break;
    case 5: j.state = TRACE_CANCELLED; break;
    default: j.state = TRACE_UNKNOWN; break;
    }
    size_t before = b->n;
    if (trace_add(b, &j, units, f[procs_field - 1].col, f[SWF_SUBMIT - 1].col, f[SWF_RUN - 1].col))
      return -1;
    if (b->n > before) {
      if (v[SWF_STATUS] == 0) status_zero++;
      else status_other++;
    }
  }
  if (rc < 0) return -1;
  /* A converter that wrote 0 ("failed") for every job recorded no status at all (the Theta
   * SWF does this): every job failing is not a real trace. Those jobs become unknown, except
   * the ones whose run reached the requested time, which are timeouts either way. */
  if (status_zero >= 2 && status_other == 0)
    for (size_t i = 0; i < b->n; i++)
      if (b->jobs[i].state == TRACE_FAILED) b->jobs[i].state = TRACE_UNKNOWN;
  return 0;
}

int trace_read_swf(trace_rd *r, trace_build *b) {
  swf_queues qs = {0};
  int rc = read_swf(r, b, &qs);
  wk_free(qs.q);
  return rc;
}

/* ---- Cobalt / PBS accounting ---------------------------------------------------------------- */
typedef struct kv {
  const char *key;
  const char *val; /* NULL when absent */
  int col;
} kv;

static int64_t leading_id(const char *s, int64_t fallback) {
  int64_t v = 0;
  int any = 0;
  for (; *s >= '0' && *s <= '9' && v < 100000000000000000LL; s++, any = 1) v = v * 10 + (*s - '0');
  return any ? v : fallback;
}

int trace_read_cobalt(trace_rd *r, trace_build *b) {
  enum { K_QTIME, K_NODECT, K_NODES, K_NCPUS, K_WALL, K_RUNTIME, K_USED_WALL, K_START, K_END,
         K_QNAME, K_QUEUE, K_USER, K_ACCOUNT, K_PROJECT, K_EXIT, K_EXIT2, K_N };
  static const char *const keys[K_N] = {
      "qtime", "Resource_List.nodect", "Resource_List.nodes", "Resource_List.ncpus",
      "Resource_List.walltime", "runtime", "resources_used.walltime", "start", "end",
      "queue_name", "queue", "user", "account", "project", "Exit_status", "exit_status"};
  char *line;
  size_t len;
  int rc;
  trace_field tok[TRACE_MAX_FIELDS];
  while ((rc = trace_rd_next(r, &line, &len, b->e)) == 1) {
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    b->t->counts.rows++;
    char *semi1 = strchr(line, ';'), *semi2 = semi1 ? strchr(semi1 + 1, ';') : NULL;
    char *semi3 = semi2 ? strchr(semi2 + 1, ';') : NULL;
    if (!semi3) {
      if (trace_bad(b, r->line, trace_col_of(line, len),
                    "expected 'date;type;jobid;key=value ...' (Cobalt/PBS accounting record), "
                    "found %s ';'", semi1 ? (semi2 ? "only two" : "only one") : "no"))
        return -1;
      continue;
    }
    int type_col = trace_col_of(line, (size_t)(semi1 + 1 - line));
    if (semi2 - semi1 != 2) {
      if (trace_bad(b, r->line, type_col,
                    "record type must be one letter (E, S, Q, D, ...), found '%.*s'",
                    (int)(semi2 - semi1 - 1), semi1 + 1))
        return -1;
      continue;
    }
    if (semi1[1] != 'E') {
      trace_count_drop(b, TRACE_DROP_NOT_END_RECORD);
      continue;
    }
    *semi3 = 0;
    const char *jobid = semi2 + 1;
    char *rest = semi3 + 1;
    size_t rest_off = (size_t)(rest - line);
    int base_col = trace_col_of(line, rest_off);
    int nt = trace_split_ws(rest, tok, TRACE_MAX_FIELDS);
    if (nt > TRACE_MAX_FIELDS) nt = TRACE_MAX_FIELDS;
    kv v[K_N];
    for (int k = 0; k < K_N; k++) v[k] = (kv){keys[k], NULL, 0};
    for (int i = 0; i < nt; i++) {
      char *eq = strchr(tok[i].s, '=');
      if (!eq) continue; /* PBS allows bare words; nothing we use */
      *eq = 0;
      /* trace_split_ws counted columns from rest: shift to the whole line */
      int col = base_col + tok[i].col - 1;
      for (int k = 0; k < K_N; k++)
        if (!strcmp(tok[i].s, keys[k])) v[k] = (kv){keys[k], eq + 1, col};
    }
    int64_t qtime, units = -1, wall = -1, run = -1;
    if (!v[K_QTIME].val) {
      if (trace_bad(b, r->line, base_col,
                    "E record has no qtime=<unix seconds>: the submit time is required"))
        return -1;
      continue;
    }
    if (trace_parse_num(v[K_QTIME].val, &qtime)) {
      if (trace_bad(b, r->line, v[K_QTIME].col,
                    "qtime='%s' is not a number: expected Unix seconds such as 1516304767.0",
                    v[K_QTIME].val))
        return -1;
      continue;
    }
    int size_k = v[K_NODECT].val ? K_NODECT : v[K_NODES].val ? K_NODES : K_NCPUS;
    if (!v[size_k].val) {
      if (trace_bad(b, r->line, base_col,
                    "E record has no Resource_List.nodect= (nor .nodes/.ncpus): the job size "
                    "is required"))
        return -1;
      continue;
    }
    /* Resource_List.nodes may read "4:ppn=16": the count is what comes first */
    int64_t lead = leading_id(v[size_k].val, -1);
    const char *after = v[size_k].val;
    while (*after >= '0' && *after <= '9') after++;
    if (lead < 0 || (*after && *after != ':')) {
      if (trace_bad(b, r->line, v[size_k].col, "%s='%s' is not a whole number of nodes",
                    keys[size_k], v[size_k].val))
        return -1;
      continue;
    }
    units = lead;
    if (units > TRACE_MAX_CARDS) {
      /* leading_id stops counting at 18 digits: quote the value as written instead */
      size_t vl = strlen(v[size_k].val);
      if (trace_bad(b, r->line, v[size_k].col, "%s=%.*s%s is more than %d: not a real job size",
                    keys[size_k], vl > 40 ? 40 : (int)vl, v[size_k].val, vl > 40 ? "..." : "",
                    TRACE_MAX_CARDS))
        return -1;
      continue;
    }
    if (v[K_WALL].val && trace_parse_hms(v[K_WALL].val, &wall) &&
        trace_parse_num(v[K_WALL].val, &wall)) {
      if (trace_bad(b, r->line, v[K_WALL].col,
                    "Resource_List.walltime='%s' is not HH:MM:SS (or seconds)", v[K_WALL].val))
        return -1;
      continue;
    }
    int run_col = v[K_RUNTIME].col;
    if (v[K_RUNTIME].val) {
      if (trace_parse_num(v[K_RUNTIME].val, &run)) {
        if (trace_bad(b, r->line, v[K_RUNTIME].col, "runtime='%s' is not a number of seconds",
                      v[K_RUNTIME].val))
          return -1;
        continue;
      }
    } else if (v[K_USED_WALL].val) {
      run_col = v[K_USED_WALL].col;
      if (trace_parse_hms(v[K_USED_WALL].val, &run)) {
        if (trace_bad(b, r->line, run_col, "resources_used.walltime='%s' is not HH:MM:SS",
                      v[K_USED_WALL].val))
          return -1;
        continue;
      }
    } else if (v[K_START].val && v[K_END].val) {
      int64_t st, en;
      run_col = v[K_END].col;
      if (trace_parse_num(v[K_START].val, &st) || trace_parse_num(v[K_END].val, &en)) {
        if (trace_bad(b, r->line, run_col, "start/end are not Unix seconds and there is no "
                      "runtime=: cannot tell the run time"))
          return -1;
        continue;
      }
      run = en - st;
    } else {
      trace_count_drop(b, TRACE_DROP_NO_RUNTIME);
      continue;
    }
    trace_job j = {0};
    j.id = leading_id(jobid, r->line);
    j.submit_s = qtime;
    j.runtime_s = run;
    j.walltime_s = wall > 0 ? wall : -1;
    j.line = (uint32_t)r->line;
    const kv *q = v[K_QNAME].val ? &v[K_QNAME] : &v[K_QUEUE];
    if (q->val) j.queue = trace_intern(b, q->val, strlen(q->val));
    if (v[K_USER].val) j.user = trace_intern(b, v[K_USER].val, strlen(v[K_USER].val));
    const kv *g = v[K_ACCOUNT].val ? &v[K_ACCOUNT] : &v[K_PROJECT];
    if (g->val) j.group = trace_intern(b, g->val, strlen(g->val));
    const kv *ex = v[K_EXIT].val ? &v[K_EXIT] : &v[K_EXIT2];
    if (j.walltime_s > 0 && j.runtime_s >= j.walltime_s) j.state = TRACE_TIMEOUT;
    else if (ex->val) j.state = strcmp(ex->val, "0") ? TRACE_FAILED : TRACE_COMPLETED;
    else j.state = TRACE_UNKNOWN;
    if (trace_add(b, &j, units, v[size_k].col, v[K_QTIME].col, run_col ? run_col : base_col)) return -1;
  }
  return rc < 0 ? -1 : 0;
}
