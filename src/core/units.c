/* units.c — strict parsing of numbers, sizes and durations typed by users, and SI output.
 * Strict means the whole string is consumed and the value is finite: "12abc" is an error,
 * never 12. */
#include "core.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wk_time wk_time_from_s(double s) {
  double ns = s * 1e9;
  if (!(ns < 9.2e18)) return WK_TIME_MAX;
  if (ns <= -9.2e18) return -WK_TIME_MAX;
  return (wk_time)llround(ns);
}

int wk_parse_double(const char *s, double *out) {
  if (!s || !*s) return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || errno == ERANGE || !isfinite(v) || end == s) return -1;
  *out = v;
  return 0;
}

int wk_parse_i64(const char *s, int64_t *out) {
  if (!s || !*s) return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end || errno == ERANGE || end == s) return -1;
  *out = v;
  return 0;
}

int wk_parse_size(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || errno == ERANGE) return -1;
  int shift = 0;
  switch (*end) {
  case 0: break;
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  case 'T': case 't': shift = 40; end++; break;
  default: return -1;
  }
  if (*end == 'B' || *end == 'b') end++; /* "16MB" reads as 16M, like nccl-tests */
  if (*end) return -1;
  if (shift && v > (UINT64_MAX >> shift)) return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

int wk_parse_duration_s(const char *s, double *out) {
  if (!s || !*s) return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno == ERANGE || !isfinite(v) || v < 0) return -1;
  double mul = 1;
  if (!strcmp(end, "") || !strcmp(end, "s")) mul = 1;
  else if (!strcmp(end, "ms")) mul = 1e-3;
  else if (!strcmp(end, "us")) mul = 1e-6;
  else if (!strcmp(end, "ns")) mul = 1e-9;
  else if (!strcmp(end, "m") || !strcmp(end, "min")) mul = 60;
  else if (!strcmp(end, "h")) mul = 3600;
  else if (!strcmp(end, "d")) mul = 86400;
  else return -1;
  *out = v * mul;
  return 0;
}

const char *wk_fmt_si(double v, const char *unit, char *buf, size_t n) {
  static const char pre[] = {' ', 'K', 'M', 'G', 'T', 'P', 'E', 'Z'};
  int i = 0;
  double a = fabs(v);
  while (a >= 1000.0 && i < 7) {
    a /= 1000.0;
    v /= 1000.0;
    i++;
  }
  if (i == 0) snprintf(buf, n, "%.3g %s", v, unit);
  else snprintf(buf, n, "%.3g %c%s", v, pre[i], unit);
  return buf;
}

const char *wk_fmt_bytes_iec(double v, char *buf, size_t n) {
  static const char *pre[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1024.0 && i < 5 && fmod(v, 1024.0) == 0.0) {
    v /= 1024.0;
    i++;
  }
  snprintf(buf, n, "%.0f%s", v, pre[i]);
  return buf;
}
