/* trace_int.h — private to src/trace/: the line reader (gzip or memory), the CSV tokenizer
 * that keeps character columns, time and duration parsers, and the builder every reader
 * feeds (name interning, bounds checks, skip_bad bookkeeping). Not part of the public face. */
#ifndef WK_TRACE_INT_H
#define WK_TRACE_INT_H

#include "trace.h"

#include <zlib.h>

struct trace {
  wk_arena *arena;
  trace_job *jobs; /* arena-owned */
  size_t njobs;
  const char **names; /* arena-owned table; names[0] = "" */
  size_t nnames;
  trace_counts counts;
  trace_format format;
  char source[256];
};

/* ---- line reader: O(bytes), one buffer that grows to the longest line ---- */
typedef struct trace_rd {
  const char *path;
  gzFile gz;       /* NULL when reading memory */
  char *chunk;     /* gzread's output (gzip input only): lines are cut from it with memchr,
                      so a line's length is the bytes read, not strlen (NULs are seen) */
  size_t chunk_len, chunk_pos;
  const char *mem; /* memory input */
  size_t memlen, mempos;
  char *buf;
  size_t cap;
  int line; /* 1-based number of the line last returned */
  size_t last_len; /* length of the line last returned, for trace_rd_unread */
  int unread;      /* 1: the next trace_rd_next hands back the line last returned */
} trace_rd;
int trace_rd_open_file(trace_rd *r, const char *path, wk_err *e); /* 0 or -1 */
void trace_rd_open_mem(trace_rd *r, const char *name, const char *text, size_t len);
/* Next line without its "\n"/"\r\n", NUL-terminated in r->buf (which the caller may edit);
 * a UTF-8 byte-order mark before line 1 is skipped, so columns count from after it.
 * Returns 1 with *line and *len set, 0 at end, -1 (e set) on a read error, a gzip stream
 * that ends early, or a NUL byte inside a line (not a text file). */
int trace_rd_next(trace_rd *r, char **line, size_t *len, wk_err *e);
/* Makes the next trace_rd_next return the line it last returned again (same number), so
 * format detection can look at the first line and leave it to the reader without seeking
 * back: a pipe cannot be rewound. The caller must not have edited that line. */
void trace_rd_unread(trace_rd *r);
void trace_rd_close(trace_rd *r);

/* ---- CSV / separated fields ---- */
typedef struct trace_field {
  char *s; /* NUL-terminated, unquoted, outer spaces trimmed when unquoted */
  size_t len;
  int col; /* 1-based character column where the field starts */
} trace_field;
#define TRACE_MAX_FIELDS 256
/* Splits line in place at sep; "..." fields may hold sep and "" for a quote. Returns the
 * number of fields, or -1 with *bad_col set on an unterminated quote or too many fields. */
int trace_split(char *line, char sep, int quotes, trace_field *f, int max, int *bad_col);
/* Splits on runs of blanks (SWF). */
int trace_split_ws(char *line, trace_field *f, int max);
/* 1-based character column of byte offset off in line (UTF-8 continuation bytes skipped). */
int trace_col_of(const char *line, size_t off);

/* ---- time ---- */
int64_t trace_days_from_civil(int64_t y, unsigned m, unsigned d);
/* "YYYY-MM-DD HH:MM:SS" or with 'T'; optional fractional seconds; UTC. 0 ok, -1 bad. */
int trace_parse_datetime(const char *s, int64_t *out);
/* Unix seconds (possibly fractional, rounded) or a datetime as above. */
int trace_parse_time(const char *s, int64_t *out);
/* "[D-]HH:MM:SS", "MM:SS", with optional ".fff"; hours may exceed 24. 0 ok, -1 bad. */
int trace_parse_hms(const char *s, int64_t *out);
/* A whole number of seconds or a count from a decimal string ("12", "12.0", "1e3");
 * rounds to nearest, refuses NaN/inf/overflow. 0 ok, -1 bad. */
int trace_parse_num(const char *s, int64_t *out);
int trace_parse_real(const char *s, double *out);

/* ---- builder ---- */
typedef struct trace_build {
  trace *t;
  const trace_opts *o;
  const char *path;
  wk_err *e;
  trace_job *jobs; /* heap, grows geometrically; copied into the arena at the end */
  size_t n, cap;
  uint32_t *hash; /* open-addressing table of name ids, 0 = empty */
  size_t hcap;
  size_t names_cap;
  const char **names; /* heap during the build */
} trace_build;

/* A malformed row at (line, col). With skip_bad it is counted, the first message kept, and
 * 0 returned (go on); otherwise the error is set and -1 returned (stop). */
int trace_bad(trace_build *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A header problem: always fatal. Returns -1. */
int trace_fatal(trace_build *b, wk_errcode code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void trace_count_drop(trace_build *b, trace_drop why);
/* Interns s[0..len) (len 0 -> id 0). O(1) expected. */
uint32_t trace_intern(trace_build *b, const char *s, size_t len);
/* Checks bounds (units 0..TRACE_MAX_CARDS after cards_per_unit, runtime 0..TRACE_MAX_SECONDS,
 * submit 0..TRACE_MAX_TIMESTAMP), sets units and cards, and appends; 0 units is dropped as
 * NO_CARDS. The *_col arguments locate the fields for the error. Returns 0 (added, dropped or
 * skipped as bad) or -1 (stop). */
int trace_add(trace_build *b, const trace_job *j, int64_t units, int units_col, int submit_col,
              int run_col);

/* Per-format readers: consume r from its start, feed b. Return 0 or -1 (b->e set). */
int trace_read_swf(trace_rd *r, trace_build *b);
int trace_read_sacct(trace_rd *r, trace_build *b);
int trace_read_cobalt(trace_rd *r, trace_build *b);
int trace_read_philly(trace_rd *r, trace_build *b);
int trace_read_alibaba(trace_rd *r, trace_build *b);
int trace_read_helios(trace_rd *r, trace_build *b);
/* Slurm state word ("CANCELLED by 1234") -> state; RUNNING etc. included. -1 if unknown word. */
int trace_state_from_slurm(const char *s);
/* Refuses a cluster-summary CSV header (acme_cluster_summary.csv) with a clear message.
 * Returns -1 (fatal set) when fields look like one, else 0. */
int trace_refuse_summary(trace_build *b, const trace_field *f, int nf, int line);

/* Builds an empty trace object for the generator, and finishes one from a builder. */
void trace_build_init(trace_build *b, const trace_opts *o, const char *path, wk_err *e);
trace *trace_build_finish(trace_build *b, trace_format fmt); /* sorts, transforms, owns */
void trace_build_abort(trace_build *b);

#endif
