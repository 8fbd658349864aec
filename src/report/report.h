/* report — what wanka shows a person while and after it runs. For now: a one-line progress
 * bar for long runs (an L2 all-to-all of 4,096 cards takes a minute or more). It draws on a
 * terminal only, so pipes, files, CI logs and --json output never see it. */
#ifndef WK_REPORT_H
#define WK_REPORT_H

#include <stdio.h>

/* Seconds on a monotonic clock (for rp_progress_set and wall-time figures). */
double rp_clock_s(void);

typedef struct rp_progress rp_progress;
/* A bar drawing on out (borrowed), or NULL when !enabled: every call below takes NULL as a
 * no-op, so a caller passes isatty(fileno(out)) and needs no other test. */
rp_progress *rp_progress_new(FILE *out, int enabled);
/* The run `label` (copied; at most 47 characters shown) is frac (0..1) done at now_s
 * (rp_clock_s, or any clock in seconds). Nothing is drawn in the bar's first 0.5 s, so short
 * runs stay silent; after that at most every 0.1 s, with the time elapsed since the bar began
 * and, once 1 % of the run is done, an estimate of the time it has left. A new label, or a
 * fraction lower than the last, starts a new run. */
void rp_progress_set(rp_progress *p, const char *label, double frac, double now_s);
/* Erases the line if anything was drawn, and frees the bar; NULL is a no-op. */
void rp_progress_free(rp_progress *p);

#endif
