/* err.c — error values that carry path:line:col, formatted the way compilers print them, and
 * the one whole-file reader whose failures come back as such values. */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
#define WK_ERR_NAME(name, msg) msg,
    WK_ERR_MAP(WK_ERR_NAME)
#undef WK_ERR_NAME
};

const char *wk_errcode_name(wk_errcode c) {
  return (size_t)c < sizeof names / sizeof names[0] ? names[c] : "error";
}

wk_errcode wk_err_vset(wk_err *e, wk_errcode code, const char *path, int line, int col,
                       const char *fmt, va_list ap) {
  if (!e) return code;
  e->code = code;
  snprintf(e->path, sizeof e->path, "%s", path ? path : "");
  e->line = line;
  e->col = col;
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  return code;
}

wk_errcode wk_err_set(wk_err *e, wk_errcode code, const char *path, int line, int col,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wk_err_vset(e, code, path, line, col, fmt, ap);
  va_end(ap);
  return code;
}

int wk_err_first(wk_err *e, int *nerr, wk_errcode code, const char *path, int line, int col,
                 const char *fmt, ...) {
  if (!(*nerr)++) {
    va_list ap;
    va_start(ap, fmt);
    wk_err_vset(e, code, path, line, col, fmt, ap);
    va_end(ap);
  }
  return -1;
}

const char *wk_err_format(const wk_err *e, char *buf, size_t n) {
  if (e->path[0] && e->line > 0 && e->col > 0)
    snprintf(buf, n, "%s:%d:%d: error: %s", e->path, e->line, e->col, e->msg);
  else if (e->path[0] && e->line > 0)
    snprintf(buf, n, "%s:%d: error: %s", e->path, e->line, e->msg);
  else if (e->path[0])
    snprintf(buf, n, "%s: error: %s", e->path, e->msg);
  else
    snprintf(buf, n, "error: %s", e->msg);
  return buf;
}

void wk_err_clear(wk_err *e) { memset(e, 0, sizeof *e); }

char *wk_read_file(const char *path, size_t max_bytes, const char *what, size_t *len, wk_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    wk_err_set(err, WK_EIO, path, 0, 0, "cannot open %s: %s", what, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 14, n = 0;
  char *buf = wk_malloc(cap + 1);
  for (;;) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    if (cap >= max_bytes) {
      fclose(f);
      wk_free(buf);
      wk_err_set(err, WK_ECAPACITY, path, 0, 0, "%s larger than %zu MiB", what, max_bytes >> 20);
      return NULL;
    }
    cap *= 2;
    buf = wk_realloc(buf, cap + 1);
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    wk_free(buf);
    wk_err_set(err, WK_EIO, path, 0, 0, "cannot read %s", what);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}
