/* trace.c — what every reader shares: the gzip/memory line reader, the field splitter that
 * keeps character columns, UTC date arithmetic without the C library's locale and time-zone
 * state (days_from_civil), the builder (name interning, bounds, skip_bad bookkeeping), format
 * detection, the load entry points, the stable sort and transforms, and the summary. */
#include "trace_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names of enums ------------------------------------------------------------------------ */
static const char *const state_names[] = {
#define X(name, str) str,
    TRACE_STATE_MAP(X)
#undef X
};
static const char *const format_names[] = {
#define X(name, str) str,
    TRACE_FORMAT_MAP(X)
#undef X
};
static const char *const drop_text[] = {
#define X(name, str) str,
    TRACE_DROP_MAP(X)
#undef X
};
static const char *const drop_names[] = {"no_runtime",    "no_cards",  "cpu_only",
                                         "never_started", "job_step", "not_end_record"};
_Static_assert(sizeof drop_names / sizeof drop_names[0] == TRACE_DROP_COUNT, "drop names");

const char *trace_state_name(trace_state s) {
  return (unsigned)s < TRACE_STATE_COUNT ? state_names[s] : "?";
}
const char *trace_format_name(trace_format f) {
  return (unsigned)f < TRACE_FMT_COUNT ? format_names[f] : "?";
}
const char *trace_drop_name(trace_drop d) {
  return (unsigned)d < TRACE_DROP_COUNT ? drop_names[d] : "?";
}
const char *trace_drop_text(trace_drop d) {
  return (unsigned)d < TRACE_DROP_COUNT ? drop_text[d] : "?";
}
int trace_format_parse(const char *name, trace_format *out) {
  for (int i = 0; i < TRACE_FMT_COUNT; i++)
    if (!strcmp(name, format_names[i])) {
      *out = (trace_format)i;
      return 0;
    }
  return -1;
}

void trace_opts_init(trace_opts *o) {
  memset(o, 0, sizeof *o);
  o->format = TRACE_FMT_AUTO;
  o->cards_per_unit = 1;
  o->time_scale = 1.0;
  o->load = 1.0;
}

/* ---- line reader ---------------------------------------------------------------------------- */
enum { RD_CHUNK = 1 << 17 }; /* bytes per gzread */

int trace_rd_open_file(trace_rd *r, const char *path, wk_err *e) {
  memset(r, 0, sizeof *r);
  r->path = path;
  errno = 0;
  r->gz = gzopen(path, "rb");
  if (!r->gz) {
    wk_err_set(e, WK_EIO, path, 0, 0, "cannot open: %s", errno ? strerror(errno) : "zlib");
    return -1;
  }
  gzbuffer(r->gz, RD_CHUNK);
  r->chunk = wk_malloc(RD_CHUNK);
  r->cap = 4096;
  r->buf = wk_malloc(r->cap);
  return 0;
}

void trace_rd_open_mem(trace_rd *r, const char *name, const char *text, size_t len) {
  memset(r, 0, sizeof *r);
  r->path = name;
  r->mem = text;
  r->memlen = len;
  r->cap = 4096;
  r->buf = wk_malloc(r->cap);
}

static void grow(trace_rd *r, size_t need) {
  if (need <= r->cap) return;
  while (r->cap < need) r->cap *= 2;
  r->buf = wk_realloc(r->buf, r->cap);
}

/* Cuts the next line (with its '\n' when it has one) from the gzip (or plain) file into
 * r->buf, *n bytes, NULs included. Returns 1, 0 at a clean end, -1 on an error (e set).
 * zlib reports a stream cut short as Z_BUF_ERROR only once the bytes before the cut have been
 * handed out, so the error lands on the line where the file stops. */
static int gz_line(trace_rd *r, size_t *n, wk_err *e) {
  *n = 0;
  for (;;) {
    if (r->chunk_pos < r->chunk_len) {
      const char *s = r->chunk + r->chunk_pos;
      size_t avail = r->chunk_len - r->chunk_pos;
      const char *nl = memchr(s, '\n', avail);
      size_t k = nl ? (size_t)(nl - s) + 1 : avail;
      grow(r, *n + k + 1);
      memcpy(r->buf + *n, s, k);
      *n += k;
      r->chunk_pos += k;
      if (nl) return 1;
    }
    int got = gzread(r->gz, r->chunk, RD_CHUNK);
    int zerr = Z_OK;
    const char *msg = gzerror(r->gz, &zerr);
    size_t pl = strlen(r->path); /* zlib writes "path: what": the path is in ours already */
    if (!strncmp(msg, r->path, pl) && msg[pl] == ':' && msg[pl + 1] == ' ') msg += pl + 2;
    if (got < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
      wk_err_set(e, WK_EIO, r->path, r->line + 1, 1, "read error: %s",
                 zerr == Z_ERRNO ? strerror(errno) : msg);
      return -1;
    }
    if (got > 0) {
      r->chunk_len = (size_t)got;
      r->chunk_pos = 0;
      continue;
    }
    if (zerr == Z_BUF_ERROR) {
      wk_err_set(e, WK_EIO, r->path, r->line + 1, 1,
                 "gzip stream ends early (the file is truncated): %s", msg);
      return -1;
    }
    return *n > 0;
  }
}

int trace_rd_next(trace_rd *r, char **line, size_t *len, wk_err *e) {
  size_t n = 0;
  if (r->unread) {
    r->unread = 0;
    *line = r->buf;
    *len = r->last_len;
    return 1;
  }
  if (r->gz) {
    int k = gz_line(r, &n, e);
    if (k <= 0) return k;
  } else {
    if (r->mempos >= r->memlen) return 0;
    const char *s = r->mem + r->mempos;
    const char *nl = memchr(s, '\n', r->memlen - r->mempos);
    n = nl ? (size_t)(nl - s) + 1 : r->memlen - r->mempos;
    grow(r, n + 1);
    memcpy(r->buf, s, n);
    r->mempos += n;
  }
  r->buf[n] = 0;
  r->line++;
  if (r->line == 1 && n >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM */
    memmove(r->buf, r->buf + 3, n - 3 + 1);
    n -= 3;
  }
  /* the length is what was read, so a NUL cannot silently end the line early */
  const char *nul = memchr(r->buf, 0, n);
  if (nul) {
    wk_err_set(e, WK_EPARSE, r->path, r->line, trace_col_of(r->buf, (size_t)(nul - r->buf)),
               "NUL byte in a text trace (is this a binary file?)");
    return -1;
  }
  while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r')) r->buf[--n] = 0;
  *line = r->buf;
  *len = r->last_len = n;
  return 1;
}

void trace_rd_unread(trace_rd *r) {
  WK_ASSERT(r->line > 0 && !r->unread);
  r->unread = 1;
}

void trace_rd_close(trace_rd *r) {
  if (r->gz) gzclose(r->gz);
  wk_free(r->chunk);
  wk_free(r->buf);
  memset(r, 0, sizeof *r);
}

/* ---- fields --------------------------------------------------------------------------------- */
int trace_col_of(const char *line, size_t off) {
  /* counts over NULs too: the splitters replace one-byte separators by NUL */
  int col = 1;
  for (size_t i = 0; i < off; i++)
    if (((unsigned char)line[i] & 0xC0) != 0x80) col++;
  return col;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Characters (not UTF-8 continuation bytes) in [a, b). */
static int nchars(const char *a, const char *b) {
  int n = 0;
  for (; a < b; a++) n += ((unsigned char)*a & 0xC0) != 0x80;
  return n;
}

int trace_split(char *line, char sep, int quotes, trace_field *f, int max, int *bad_col) {
  int nf = 0, col = 1; /* col: character column of p, counted before any byte is rewritten */
  char *p = line;
  for (;;) {
    if (nf >= max) {
      *bad_col = col;
      return -1;
    }
    char *lead = p;
    while (is_blank(*p)) p++;
    col += nchars(lead, p);
    trace_field *fl = &f[nf++];
    fl->col = col;
    if (quotes && *p == '"') {
      /* find the closing quote first (nothing rewritten yet), then unescape in place */
      char *q = p + 1;
      for (;;) {
        if (!*q) {
          *bad_col = fl->col;
          return -1;
        }
        if (*q == '"') {
          if (q[1] == '"') {
            q += 2;
            continue;
          }
          break;
        }
        q++;
      }
      char *close = q++;
      while (is_blank(*q)) q++;
      if (*q && *q != sep) {
        *bad_col = col + nchars(p, q);
        return -1;
      }
      col += nchars(p, q) + 1;
      char next = *q, *w = p;
      for (char *r = p + 1; r < close; r++) {
        *w++ = *r;
        if (*r == '"') r++; /* "" -> " */
      }
      fl->s = p;
      fl->len = (size_t)(w - p);
      *w = 0;
      if (!next) return nf;
      p = q + 1;
      continue;
    }
    fl->s = p;
    char *end = strchr(p, sep);
    char *stop = end ? end : p + strlen(p);
    col += nchars(p, stop) + 1;
    char *t = stop;
    while (t > p && is_blank(t[-1])) t--;
    fl->len = (size_t)(t - p);
    *t = 0;
    if (!end) return nf;
    p = end + 1;
  }
}

int trace_split_ws(char *line, trace_field *f, int max) {
  int nf = 0;
  char *p = line;
  while (*p) {
    while (*p && (is_blank(*p))) p++;
    if (!*p) break;
    char *s = p;
    while (*p && !is_blank(*p)) p++;
    if (nf < max) {
      f[nf].s = s;
      f[nf].len = (size_t)(p - s);
      f[nf].col = trace_col_of(line, (size_t)(s - line));
    }
    nf++;
    if (*p) *p++ = 0;
  }
  return nf;
}

/* ---- numbers and time ----------------------------------------------------------------------- */
int trace_parse_real(const char *s, double *out) { return wk_parse_double(s, out); }

int trace_parse_num(const char *s, int64_t *out) {
  int64_t i;
  if (!wk_parse_i64(s, &i)) {
    *out = i;
    return 0;
  }
  double d;
  if (wk_parse_double(s, &d) || fabs(d) > 9.0e18) return -1;
  *out = (int64_t)llround(d);
  return 0;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar,
 * exact for any year, no libc time zone or locale involved. */
int64_t trace_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

int trace_parse_datetime(const char *s, int64_t *out) {
  int y, mo, d, h, mi, se;
  if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
      s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') ||
      digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
      digits(s + 17, 2, &se))
    return -1;
  const char *rest = s + 19;
  double frac = 0;
  if (*rest == '.') {
    const char *q = rest + 1;
    double scale = 0.1;
    if (!*q) return -1;
    while (*q >= '0' && *q <= '9') {
      frac += scale * (*q - '0');
      scale *= 0.1;
      q++;
    }
    rest = q;
  }
  if (*rest == 'Z') rest++;
  if (*rest) return -1;
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
    return -1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return -1;
  *out = trace_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se +
         (frac >= 0.5);
  return 0;
}

int trace_parse_time(const char *s, int64_t *out) {
  if (!trace_parse_num(s, out)) return 0;
  return trace_parse_datetime(s, out);
}

int trace_parse_hms(const char *s, int64_t *out) {
  int64_t days = 0, part[3] = {0, 0, 0};
  int np = 0;
  const char *p = s;
  const char *dash = strchr(s, '-');
  if (dash) {
    if (dash == s) return -1;
    days = 0;
    for (const char *q = s; q < dash; q++) {
      if (*q < '0' || *q > '9' || days > 100000) return -1;
      days = days * 10 + (*q - '0');
    }
    p = dash + 1;
  }
  double frac = 0;
  for (;;) {
    if (*p < '0' || *p > '9') return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
      if (v > 100000000) return -1;
      v = v * 10 + (*p++ - '0');
    }
    if (np >= 3) return -1;
    part[np++] = v;
    if (*p == ':') {
      p++;
      continue;
    }
    if (*p == '.') {
      char *end;
      frac = strtod(p, &end);
      p = end;
    }
    break;
  }
  if (*p || np < 2) return -1;
  int64_t h = 0, m, sec;
  if (np == 3) {
    h = part[0];
    m = part[1];
    sec = part[2];
  } else {
    m = part[0];
    sec = part[1];
  }
  if ((np == 3 && m > 59) || sec > 59) return -1;
  *out = days * 86400 + h * 3600 + m * 60 + sec + (frac >= 0.5);
  return 0;
}

/* ---- builder -------------------------------------------------------------------------------- */
void trace_build_init(trace_build *b, const trace_opts *o, const char *path, wk_err *e) {
  memset(b, 0, sizeof *b);
  b->t = wk_calloc(1, sizeof *b->t);
  b->t->arena = wk_arena_new(1 << 16);
  snprintf(b->t->source, sizeof b->t->source, "%s", path ? path : "");
  b->o = o;
  b->path = path;
  b->e = e;
  b->hcap = 1024;
  b->hash = wk_calloc(b->hcap, sizeof *b->hash);
  b->names_cap = 64;
  b->names = wk_malloc(b->names_cap * sizeof *b->names);
  b->names[0] = "";
  b->t->nnames = 1;
}

void trace_build_abort(trace_build *b) {
  if (b->t) {
    wk_arena_free(b->t->arena);
    wk_free(b->t);
  }
  wk_free(b->jobs);
  wk_free(b->hash);
  wk_free(b->names);
  memset(b, 0, sizeof *b);
}

int trace_bad(trace_build *b, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (b->o->skip_bad) {
    trace_counts *c = &b->t->counts;
    if (c->skipped_bad++ == 0) wk_err_vset(&c->first_bad, WK_EPARSE, b->path, line, col, fmt, ap);
    va_end(ap);
    return 0;
  }
  wk_err_vset(b->e, WK_EPARSE, b->path, line, col, fmt, ap);
  va_end(ap);
  return -1;
}

int trace_fatal(trace_build *b, wk_errcode code, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wk_err_vset(b->e, code, b->path, line, col, fmt, ap);
  va_end(ap);
  return -1;
}

void trace_count_drop(trace_build *b, trace_drop why) { b->t->counts.dropped[why]++; }

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a, then mixed */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return wk_mix64(h);
}

uint32_t trace_intern(trace_build *b, const char *s, size_t len) {
  if (len == 0) return 0;
  trace *t = b->t;
  if (t->nnames * 2 >= b->hcap) { /* rehash at half full */
    size_t ncap = b->hcap * 2;
    uint32_t *nh = wk_calloc(ncap, sizeof *nh);
    for (size_t i = 0; i < b->hcap; i++) {
      uint32_t id = b->hash[i];
      if (!id) continue;
      size_t k = hash_bytes(b->names[id], strlen(b->names[id])) & (ncap - 1);
      while (nh[k]) k = (k + 1) & (ncap - 1);
      nh[k] = id;
    }
    wk_free(b->hash);
    b->hash = nh;
    b->hcap = ncap;
  }
  size_t k = hash_bytes(s, len) & (b->hcap - 1);
  for (; b->hash[k]; k = (k + 1) & (b->hcap - 1)) {
    const char *nm = b->names[b->hash[k]];
    if (!strncmp(nm, s, len) && nm[len] == 0) return b->hash[k];
  }
  if (t->nnames == b->names_cap) {
    b->names_cap *= 2;
    b->names = wk_realloc(b->names, b->names_cap * sizeof *b->names);
  }
  char *copy = wk_arena_alloc(t->arena, len + 1);
  memcpy(copy, s, len);
  uint32_t id = (uint32_t)t->nnames++;
  b->names[id] = copy;
  b->hash[k] = id;
  return id;
}

int trace_add(trace_build *b, const trace_job *j, int64_t units, int units_col, int submit_col,
              int run_col) {
  int line = (int)j->line;
  if (units < 0)
    return trace_bad(b, line, units_col, "negative size %lld: GPUs/nodes/processors must be >= 1",
                     (long long)units);
  if (units > TRACE_MAX_CARDS || units * b->o->cards_per_unit > TRACE_MAX_CARDS)
    return trace_bad(b, line, units_col,
                     "size %lld x %lld cards per unit exceeds %d cards: an absurd job size "
                     "(check the column or the cards-per-unit factor)",
                     (long long)units, (long long)b->o->cards_per_unit, TRACE_MAX_CARDS);
  if (j->submit_s < 0 || j->submit_s > TRACE_MAX_TIMESTAMP)
    return trace_bad(b, line, submit_col,
                     "submit time %lld is out of range: expected seconds in 0 .. %lld",
                     (long long)j->submit_s, (long long)TRACE_MAX_TIMESTAMP);
  if (j->runtime_s < 0 || j->runtime_s > TRACE_MAX_SECONDS)
    return trace_bad(b, line, run_col,
                     "run time %lld s is out of range: expected 0 .. %lld s (ten years)",
                     (long long)j->runtime_s, (long long)TRACE_MAX_SECONDS);
  if (units == 0) {
    trace_count_drop(b, TRACE_DROP_NO_CARDS);
    return 0;
  }
  if (b->n == b->cap) {
    /* The jobs are held twice while the trace is finished (here and in its arena): refuse a
     * trace beyond the memory limit with a message, before the kernel's OOM killer would. */
    size_t cap = b->cap ? b->cap * 2 : 1024;
    if (3.0 * (double)cap * sizeof *b->jobs > wk_memory_limit())
      return trace_fatal(b, WK_ECAPACITY, line, 1, "more than %zu jobs: the trace needs more memory than the "
                       "%.1f GiB allowed (half of this machine's, or WANKA_MAX_MODEL_BYTES); "
                       "split it", b->n, wk_memory_limit() / 1073741824.0);
    b->cap = cap;
    b->jobs = wk_realloc(b->jobs, b->cap * sizeof *b->jobs);
  }
  trace_job *d = &b->jobs[b->n++];
  *d = *j;
  d->units = (int32_t)units;
  d->cards = units * b->o->cards_per_unit;
  if (d->walltime_s > TRACE_MAX_SECONDS) d->walltime_s = TRACE_MAX_SECONDS;
  return 0;
}

/* ---- finishing: sort (stable), transform, move into the arena ---------------------------------- */
static int cmp_job(const void *a, const void *b) {
  const trace_job *x = a, *y = b;
  if (x->submit_s != y->submit_s) return x->submit_s < y->submit_s ? -1 : 1;
  /* stable: the source order. line is strictly increasing in a file; generated jobs carry
   * line 0 but are produced in order, so the id breaks ties there. */
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

static int64_t scale_round(int64_t v, double f) {
  double r = nearbyint((double)v * f);
  return r > (double)TRACE_MAX_SECONDS ? TRACE_MAX_SECONDS : (int64_t)r;
}

trace *trace_build_finish(trace_build *b, trace_format fmt) {
  trace *t = b->t;
  int sorted = 1;
  for (size_t i = 1; i < b->n && sorted; i++) sorted = cmp_job(&b->jobs[i - 1], &b->jobs[i]) <= 0;
  if (!sorted) qsort(b->jobs, b->n, sizeof *b->jobs, cmp_job); /* O(n log n) once */
  const trace_opts *o = b->o;
  if (o->time_scale != 1.0)
    for (size_t i = 0; i < b->n; i++) {
      b->jobs[i].runtime_s = scale_round(b->jobs[i].runtime_s, o->time_scale);
      if (b->jobs[i].walltime_s >= 0)
        b->jobs[i].walltime_s = scale_round(b->jobs[i].walltime_s, o->time_scale);
    }
  if (o->load != 1.0 && b->n) {
    int64_t first = b->jobs[0].submit_s;
    for (size_t i = 0; i < b->n; i++)
      b->jobs[i].submit_s = first + (int64_t)nearbyint((double)(b->jobs[i].submit_s - first) / o->load);
  }
  t->jobs = WK_ARENA_NEW(t->arena, trace_job, b->n ? b->n : 1);
  if (b->n) memcpy(t->jobs, b->jobs, b->n * sizeof *b->jobs);
  t->njobs = b->n;
  t->counts.loaded = b->n;
  t->names = WK_ARENA_NEW(t->arena, const char *, t->nnames);
  memcpy(t->names, b->names, t->nnames * sizeof *t->names);
  t->format = fmt;
  wk_free(b->jobs);
  wk_free(b->hash);
  wk_free(b->names);
  memset(b, 0, sizeof *b);
  return t;
}

/* ---- detection ------------------------------------------------------------------------------ */
static int has_col(const char *hdr, const char *name) {
  size_t n = strlen(name);
  for (const char *p = hdr; (p = strstr(p, name)); p++) {
    int left = p == hdr || p[-1] == ',' || p[-1] == '|' || p[-1] == '"';
    char c = p[n];
    if (left && (c == 0 || c == ',' || c == '|' || c == '"')) return 1;
  }
  return 0;
}

static int looks_cobalt(const char *s) {
  const char *a = strchr(s, ';');
  if (!a) return 0;
  const char *b = strchr(a + 1, ';');
  return b && b - a >= 2 && b - a <= 3 && a[1] >= 'A' && a[1] <= 'Z' && strchr(b + 1, '=');
}

static int looks_swf_row(const char *s) {
  int nf = 0;
  const char *p = s;
  while (*p) {
    while (is_blank(*p)) p++;
    if (!*p) break;
    if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) return 0;
    while (*p && !is_blank(*p)) p++;
    nf++;
  }
  return nf >= 18;
}

static int is_summary_header(const char *s) {
  return has_col(s, "job_num") && (has_col(s, "avg_gpu_num") || has_col(s, "gpu_job_num"));
}

static wk_errcode detect_rd(trace_rd *r, trace_format *out, wk_err *e) {
  char *line;
  size_t len;
  int rc;
  while ((rc = trace_rd_next(r, &line, &len, e)) == 1) {
    const char *s = line;
    while (is_blank(*s)) s++;
    if (!*s) continue;
    if (*s == ';' || looks_swf_row(s)) *out = TRACE_FMT_SWF;
    else if (looks_cobalt(s)) *out = TRACE_FMT_COBALT;
    else if (is_summary_header(s))
      return wk_err_set(e, WK_EVALUE, r->path, r->line, 1,
                        "this is a cluster summary (per-cluster job counts and rates, as in "
                        "acme_cluster_summary.csv), not a job trace: it feeds the generator's "
                        "constants; give a per-job trace instead");
    else if (strchr(s, '|') && (has_col(s, "JobID") || has_col(s, "Submit")))
      *out = TRACE_FMT_SACCT;
    else if (has_col(s, "timestamp") && has_col(s, "num_gpus")) *out = TRACE_FMT_PHILLY;
    else if (has_col(s, "num_gpu") && has_col(s, "gpu_milli")) *out = TRACE_FMT_ALIBABA;
    else if (has_col(s, "gpu_num") && has_col(s, "submit_time")) *out = TRACE_FMT_HELIOS;
    else
      return wk_err_set(e, WK_EPARSE, r->path, r->line, 1,
                        "cannot tell the trace format from this line; name it with --format "
                        "swf|sacct|cobalt|philly|alibaba|helios");
    return WK_EOK;
  }
  if (rc < 0) return e ? e->code : WK_EIO;
  return wk_err_set(e, WK_EPARSE, r->path, 0, 0,
                    "empty file: no header or job lines to detect the format from");
}

wk_errcode trace_detect(const char *path, trace_format *out, wk_err *e) {
  trace_rd r;
  if (trace_rd_open_file(&r, path, e)) return WK_EIO;
  wk_errcode c = detect_rd(&r, out, e);
  trace_rd_close(&r);
  return c;
}

int trace_refuse_summary(trace_build *b, const trace_field *f, int nf, int line) {
  int job_num = 0, gpu = 0;
  for (int i = 0; i < nf; i++) {
    if (!strcmp(f[i].s, "job_num")) job_num = 1;
    if (!strcmp(f[i].s, "avg_gpu_num") || !strcmp(f[i].s, "gpu_job_num")) gpu = 1;
  }
  if (!(job_num && gpu)) return 0;
  return trace_fatal(b, WK_EVALUE, line, 1,
                     "this is a cluster summary (per-cluster job counts and rates, as in "
                     "acme_cluster_summary.csv), not a job trace: it feeds the generator's "
                     "constants; give a per-job trace instead");
}

/* ---- load ----------------------------------------------------------------------------------- */
static wk_errcode load_rd(trace_rd *r, const char *name, const trace_opts *opts, trace **out,
                          wk_err *e) {
  trace_opts def;
  if (!opts) {
    trace_opts_init(&def);
    opts = &def;
  }
  *out = NULL;
  if (opts->cards_per_unit < 1 || opts->cards_per_unit > TRACE_MAX_CARDS)
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0,
                      "cards per unit %lld is out of range: give 1 .. %d",
                      (long long)opts->cards_per_unit, TRACE_MAX_CARDS);
  if (!(opts->time_scale > 0 && opts->time_scale < 1e6) || !(opts->load > 0 && opts->load < 1e6))
    return wk_err_set(e, WK_EVALUE, NULL, 0, 0,
                      "time scale and load must be positive numbers below 1e6 (got %g, %g)",
                      opts->time_scale, opts->load);
  trace_format fmt = opts->format;
  if (fmt == TRACE_FMT_AUTO) {
    /* detection reads up to the first non-blank line and hands it back (no rewind: the
     * input may be a pipe); every reader skips the blank lines before it anyway */
    wk_errcode c = detect_rd(r, &fmt, e);
    if (c) return c;
    trace_rd_unread(r);
  }
  trace_build b;
  trace_build_init(&b, opts, name, e);
  int rc = -1;
  switch (fmt) {
  case TRACE_FMT_SWF: rc = trace_read_swf(r, &b); break;
  case TRACE_FMT_SACCT: rc = trace_read_sacct(r, &b); break;
  case TRACE_FMT_COBALT: rc = trace_read_cobalt(r, &b); break;
  case TRACE_FMT_PHILLY: rc = trace_read_philly(r, &b); break;
  case TRACE_FMT_ALIBABA: rc = trace_read_alibaba(r, &b); break;
  case TRACE_FMT_HELIOS: rc = trace_read_helios(r, &b); break;
  default: trace_fatal(&b, WK_EVALUE, 0, 0, "no reader for format %d", (int)fmt);
  }
  if (!rc && b.n == 0 && b.t->counts.skipped_bad > 0 &&
      b.t->counts.skipped_bad == b.t->counts.rows) {
    /* skip_bad that skipped every row: a wrong --format, not a trace with a few bad lines */
    const wk_err *f = &b.t->counts.first_bad;
    wk_err_set(e, WK_EPARSE, f->path, f->line, f->col,
               "%s (every one of %zu rows was malformed: is --format %s right?)", f->msg,
               b.t->counts.rows, trace_format_name(fmt));
    rc = -1;
  }
  if (rc) {
    trace_build_abort(&b);
    return e ? e->code : WK_EPARSE;
  }
  *out = trace_build_finish(&b, fmt);
  return WK_EOK;
}

wk_errcode trace_load(const char *path, const trace_opts *opts, trace **out, wk_err *e) {
  trace_rd r;
  *out = NULL;
  if (trace_rd_open_file(&r, path, e)) return WK_EIO;
  wk_errcode c = load_rd(&r, path, opts, out, e);
  trace_rd_close(&r);
  return c;
}

wk_errcode trace_parse(const char *name, const char *text, size_t len, const trace_opts *opts,
                       trace **out, wk_err *e) {
  trace_rd r;
  trace_rd_open_mem(&r, name, text, len);
  wk_errcode c = load_rd(&r, name, opts, out, e);
  trace_rd_close(&r);
  return c;
}

void trace_free(trace *t) {
  if (!t) return;
  wk_arena_free(t->arena);
  wk_free(t);
}

size_t trace_njobs(const trace *t) { return t->njobs; }
const trace_job *trace_jobs(const trace *t) { return t->jobs; }
const char *trace_name(const trace *t, uint32_t id) { return id < t->nnames ? t->names[id] : ""; }
size_t trace_nnames(const trace *t) { return t->nnames; }
const trace_counts *trace_get_counts(const trace *t) { return &t->counts; }
trace_format trace_get_format(const trace *t) { return t->format; }
const char *trace_source(const trace *t) { return t->source; }

/* ---- summary -------------------------------------------------------------------------------- */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int64_t pct(const int64_t *v, size_t n, double p) {
  size_t k = (size_t)ceil(p * (double)n);
  return v[k ? k - 1 : 0];
}

void trace_summarize(const trace *t, trace_summary *s) {
  memset(s, 0, sizeof *s);
  size_t n = t->njobs;
  s->jobs = n;
  if (!n) return;
  int64_t *cards = wk_malloc(n * sizeof *cards), *run = wk_malloc(n * sizeof *run);
  s->first_submit_s = t->jobs[0].submit_s;
  s->last_submit_s = t->jobs[n - 1].submit_s;
  s->last_end_s = s->first_submit_s;
  double cs = 0;
  for (size_t i = 0; i < n; i++) {
    const trace_job *j = &t->jobs[i];
    cards[i] = j->cards;
    run[i] = j->runtime_s;
    cs += (double)j->cards * (double)j->runtime_s;
    if (j->submit_s + j->runtime_s > s->last_end_s) s->last_end_s = j->submit_s + j->runtime_s;
    s->states[j->state < TRACE_STATE_COUNT ? j->state : 0]++;
  }
  s->card_hours = cs / 3600.0;
  double span_h = (double)(s->last_end_s - s->first_submit_s) / 3600.0;
  s->mean_offered_cards = span_h > 0 ? s->card_hours / span_h : 0;
  qsort(cards, n, sizeof *cards, cmp_i64);
  qsort(run, n, sizeof *run, cmp_i64);
  s->cards_p50 = pct(cards, n, 0.5);
  s->cards_p90 = pct(cards, n, 0.9);
  s->cards_p99 = pct(cards, n, 0.99);
  s->cards_max = cards[n - 1];
  s->runtime_p50_s = pct(run, n, 0.5);
  s->runtime_p90_s = pct(run, n, 0.9);
  s->runtime_max_s = run[n - 1];
  wk_free(cards);
  wk_free(run);
}
