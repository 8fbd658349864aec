/* progress.c — the progress bar (report.h). One line redrawn in place with '\r', padded to
 * the length of the last one so nothing is left over; erased when the bar is freed, so the
 * run's real output starts on a clean line. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "report/report.h"

#define RP_QUIET_S 0.5  /* nothing drawn before: short runs stay silent */
#define RP_EVERY_S 0.1  /* redraws at most this often */
#define RP_WIDTH 30     /* cells of the bar */

struct rp_progress {
  FILE *out;
  double t0, last;  /* first set, last draw (< 0: none yet) */
  double run_t0, frac; /* start and last fraction of the run in hand, for the time left */
  char label[48];      /* of the run in hand: a new label, or a fraction that goes back, is
                        * a new run */
  int len;             /* characters of the line drawn last (0: none) */
};

double rp_clock_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

rp_progress *rp_progress_new(FILE *out, int enabled) {
  if (!enabled || !out) return NULL;
  rp_progress *p = wk_calloc(1, sizeof *p);
  p->out = out;
  p->t0 = p->last = p->run_t0 = -1.0;
  return p;
}

/* "42 s", "3 min 05 s", "2 h 07 min" */
static void fmt_span(char *b, size_t n, double s) {
  if (!(s >= 0.0) || s > 1e7) s = 1e7;
  long v = lround(s);
  if (v < 60)
    snprintf(b, n, "%ld s", v);
  else if (v < 3600)
    snprintf(b, n, "%ld min %02ld s", v / 60, v % 60);
  else
    snprintf(b, n, "%ld h %02ld min", v / 3600, v / 60 % 60);
}

void rp_progress_set(rp_progress *p, const char *label, double frac, double now_s) {
  if (!p) return;
  if (!label) label = "";
  if (!(frac >= 0.0)) frac = 0.0; /* NaN too */
  if (frac > 1.0) frac = 1.0;
  if (p->t0 < 0.0) p->t0 = now_s;
  if (p->run_t0 < 0.0 || frac < p->frac || strncmp(label, p->label, sizeof p->label - 1)) {
    p->run_t0 = now_s;
    snprintf(p->label, sizeof p->label, "%s", label);
  }
  p->frac = frac;
  double el = now_s - p->t0, run = now_s - p->run_t0;
  if (el < RP_QUIET_S || (p->last >= 0.0 && now_s - p->last < RP_EVERY_S)) return;
  p->last = now_s;
  char bar[RP_WIDTH + 1], span[32], left[48] = "";
  int full = (int)(frac * RP_WIDTH);
  memset(bar, '#', (size_t)full);
  memset(bar + full, '.', (size_t)(RP_WIDTH - full));
  bar[RP_WIDTH] = 0;
  fmt_span(span, sizeof span, el);
  if (frac >= 0.01 && frac < 1.0) {
    char rest[32];
    fmt_span(rest, sizeof rest, run * (1.0 - frac) / frac);
    snprintf(left, sizeof left, ", about %s left", rest);
  }
  char line[160];
  int n = snprintf(line, sizeof line, "%s [%s] %3d%%  %s%s", p->label, bar,
                   (int)(frac * 100.0), span, left);
  if (n >= (int)sizeof line) n = (int)sizeof line - 1;
  fprintf(p->out, "\r%s%*s", line, p->len > n ? p->len - n : 0, "");
  fflush(p->out);
  p->len = n;
}

void rp_progress_free(rp_progress *p) {
  if (!p) return;
  if (p->len) {
    fprintf(p->out, "\r%*s\r", p->len, "");
    fflush(p->out);
  }
  wk_free(p);
}
