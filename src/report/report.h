/* report — what wanka shows a person while and after it runs: a one-line progress bar for long
 * runs (an L2 all-to-all of 4,096 cards takes a minute or more), drawn on a terminal only, so
 * pipes, files, CI logs and --json output never see it; and HTML reports, one self-contained
 * file of charts (Apache ECharts, inlined) that opens offline, with the data behind every chart
 * written beside it as JSON. The report knows charts, not clusters: the cli turns results into
 * series here. */
#ifndef WK_REPORT_H
#define WK_REPORT_H

#include <stddef.h>
#include <stdint.h>
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


/* ---- HTML reports ------------------------------------------------------------------------ */
typedef struct rp_report rp_report;
typedef struct rp_chart rp_chart;
typedef enum rp_kind {
  RP_LINE,    /* lines through (x, y) points (time series, CDFs, sweeps) */
  RP_SCATTER, /* points, each may carry a label shown when pointed at */
  RP_BAR,     /* bars over named categories, series side by side */
  RP_STACK,   /* bars over named categories, series stacked (a breakdown), horizontal */
  RP_GRID     /* a heatmap of rows x cols cells (the cluster, one cell per supernode) */
} rp_kind;

/* A report titled `title` (copied; subtitle may be NULL). Never NULL (allocation failures end
 * the process through wk_alloc). Free with rp_report_free; NULL is a no-op there. */
rp_report *rp_report_new(const char *title, const char *subtitle);
void rp_report_free(rp_report *r);
/* Starts a section: a heading and a paragraph (either may be NULL). Charts and tables added
 * after it belong to it; those added before any section get an untitled one. */
void rp_report_section(rp_report *r, const char *heading, const char *text);
/* A table in the current section: ncols columns headed head[0, ncols) (copied); rows follow
 * with rp_report_row, each ncols cells of text (copied). */
void rp_report_table(rp_report *r, const char *caption, size_t ncols, const char *const *head);
void rp_report_row(rp_report *r, const char *const *cells);
/* A chart in the current section, owned by r (valid until rp_report_free). Axis labels name the
 * unit ("time (days)"). */
rp_chart *rp_chart_add(rp_report *r, rp_kind kind, const char *title, const char *xlabel,
                       const char *ylabel);
void rp_chart_note(rp_chart *c, const char *text); /* a line under the chart: how to read it */
void rp_chart_log(rp_chart *c, int xlog, int ylog); /* logarithmic axes (values must be > 0) */
void rp_chart_yrange(rp_chart *c, double lo, double hi); /* fixed value axis (default: fitted) */
void rp_chart_step(rp_chart *c);                     /* RP_LINE as a staircase */
/* A series of n points (copied). labels (may be NULL) name each point in the tooltip. Non-finite
 * values are written as null (a gap). */
void rp_chart_xy(rp_chart *c, const char *name, const double *x, const double *y,
                 const char *const *labels, size_t n);
/* The empirical CDF of v[0, n) (copied and sorted; v is not changed) as a line of at most
 * `points` points (>= 2) at evenly spaced quantiles, the smallest and largest kept; values
 * below `floor` are drawn at floor (a log axis cannot show 0). x: the value, y: the fraction
 * <= it. O(n log n). */
void rp_chart_cdf(rp_chart *c, const char *name, const double *v, size_t n, size_t points,
                  double floor);
/* RP_BAR, RP_STACK: the categories (copied), then one rp_chart_values per series with one
 * value per category. */
void rp_chart_categories(rp_chart *c, const char *const *names, size_t n);
void rp_chart_values(rp_chart *c, const char *name, const double *v, size_t n);
/* RP_GRID: rows x cols cells, values v[rows * cols] row by row (copied), coloured from lo to
 * hi; row_names[rows] label the rows, `cell` names one cell ("supernode") and `value` what
 * it shows ("busy share") in the tooltip. */
void rp_chart_grid(rp_chart *c, uint32_t rows, uint32_t cols, const double *v,
                   const char *const *row_names, const char *cell, const char *value, double lo,
                   double hi);
/* Writes the page to html (one file, the charting library and the data inlined, nothing
 * fetched when it is viewed) and, when data is not NULL, the same document as JSON to data
 * (what every chart shows, for other tools). Same report, same bytes: no dates, no random
 * ids. Returns 0, or -1 when a stream reports an error. O(size of the data) plus the library
 * (about 1.1 MB). */
int rp_report_write(const rp_report *r, FILE *html, FILE *data);
/* The charting library's name and version, as inlined ("Apache ECharts 6.1.0"). */
const char *rp_report_library(void);

#endif
