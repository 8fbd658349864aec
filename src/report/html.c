/* html.c — HTML reports (report.h). A report is kept as the JSON document the page draws from
 * (render.js): sections of text, tables and charts. Writing it puts Apache ECharts, that
 * document and the renderer into one page, and the same document into FILE.data.json, so what
 * a chart shows can be read by other tools without scraping. Both are embedded in the binary
 * at build time (cmake/assets.cmake), so `wanka` stays one file that needs nothing installed
 * to write a report, and the report needs nothing fetched to be read. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"
#include "report/report_int.h"

#ifndef RP_ECHARTS_VERSION
#define RP_ECHARTS_VERSION "?" /* set by CMake from package.json */
#endif
#define RP_LIBRARY "Apache ECharts " RP_ECHARTS_VERSION

struct rp_chart {
  json_t *o; /* borrowed from the report's document */
};

struct rp_report {
  json_t *doc;      /* {title, subtitle, library, sections: [{heading, text, items}]} */
  json_t *items;    /* of the current section (borrowed) */
  json_t *table;    /* the last table's rows (borrowed), NULL when none */
  size_t table_cols;
  rp_chart **charts; /* handles given out, freed with the report */
  size_t ncharts, capcharts;
};

const char *rp_report_library(void) { return RP_LIBRARY; }

/* jansson fails only when an allocation does: end as the allocator does. */
static json_t *must(json_t *j) {
  if (!j) wk_oom(0);
  return j;
}

static json_t *str_or_null(const char *s) { return s ? must(json_string(s)) : json_null(); }

/* A finite number, or null (a gap in a line; JSON has no NaN). */
static json_t *num(double v) { return isfinite(v) ? must(json_real(v)) : json_null(); }

rp_report *rp_report_new(const char *title, const char *subtitle) {
  rp_report *r = wk_calloc(1, sizeof *r);
  r->doc = must(json_object());
  json_object_set_new(r->doc, "title", str_or_null(title ? title : "wanka report"));
  json_object_set_new(r->doc, "subtitle", str_or_null(subtitle));
  json_object_set_new(r->doc, "footer",
                      must(json_string("Written by wanka; charts by " RP_LIBRARY
                                       ". The data behind every chart is in the .data.json "
                                       "file beside this page.")));
  json_object_set_new(r->doc, "sections", must(json_array()));
  return r;
}

void rp_report_free(rp_report *r) {
  if (!r) return;
  for (size_t i = 0; i < r->ncharts; i++) wk_free(r->charts[i]);
  wk_free(r->charts);
  json_decref(r->doc);
  wk_free(r);
}

void rp_report_section(rp_report *r, const char *heading, const char *text) {
  json_t *s = must(json_object());
  json_object_set_new(s, "heading", str_or_null(heading));
  json_object_set_new(s, "text", str_or_null(text));
  r->items = must(json_array());
  json_object_set_new(s, "items", r->items);
  json_array_append_new(json_object_get(r->doc, "sections"), s);
  r->table = NULL;
}

static json_t *items(rp_report *r) {
  if (!r->items) rp_report_section(r, NULL, NULL);
  return r->items;
}

void rp_report_table(rp_report *r, const char *caption, size_t ncols, const char *const *head) {
  WK_ASSERT(ncols > 0);
  json_t *t = must(json_object()), *h = must(json_array()), *it = must(json_object());
  json_object_set_new(t, "caption", str_or_null(caption));
  for (size_t i = 0; i < ncols; i++) json_array_append_new(h, str_or_null(head[i]));
  json_object_set_new(t, "head", h);
  r->table = must(json_array());
  r->table_cols = ncols;
  json_object_set_new(t, "rows", r->table);
  json_object_set_new(it, "table", t);
  json_array_append_new(items(r), it);
}

void rp_report_row(rp_report *r, const char *const *cells) {
  WK_ASSERT(r->table);
  json_t *row = must(json_array());
  for (size_t i = 0; i < r->table_cols; i++) json_array_append_new(row, str_or_null(cells[i]));
  json_array_append_new(r->table, row);
}

static const char *kind_name(rp_kind k) {
  switch (k) {
  case RP_LINE: return "line";
  case RP_SCATTER: return "scatter";
  case RP_BAR: return "bar";
  case RP_STACK: return "stack";
  case RP_GRID: return "grid";
  }
  return "line";
}

static json_t *axis(const char *label) {
  json_t *a = must(json_object());
  json_object_set_new(a, "label", str_or_null(label ? label : ""));
  return a;
}

rp_chart *rp_chart_add(rp_report *r, rp_kind kind, const char *title, const char *xlabel,
                       const char *ylabel) {
  json_t *c = must(json_object()), *it = must(json_object());
  json_object_set_new(c, "kind", must(json_string(kind_name(kind))));
  json_object_set_new(c, "title", str_or_null(title ? title : ""));
  json_object_set_new(c, "x", axis(xlabel));
  json_object_set_new(c, "y", axis(ylabel));
  if (kind == RP_STACK) json_object_set_new(c, "horizontal", json_true());
  json_object_set_new(c, "series", must(json_array()));
  json_object_set_new(it, "chart", c);
  json_array_append_new(items(r), it);
  r->table = NULL;
  if (r->ncharts == r->capcharts) {
    r->capcharts = r->capcharts ? 2 * r->capcharts : 16;
    r->charts = wk_realloc(r->charts, r->capcharts * sizeof *r->charts);
  }
  rp_chart *h = wk_calloc(1, sizeof *h);
  h->o = c;
  r->charts[r->ncharts++] = h;
  return h;
}

void rp_chart_note(rp_chart *c, const char *text) {
  json_object_set_new(c->o, "note", str_or_null(text));
}

void rp_chart_log(rp_chart *c, int xlog, int ylog) {
  json_object_set_new(json_object_get(c->o, "x"), "log", json_boolean(xlog));
  json_object_set_new(json_object_get(c->o, "y"), "log", json_boolean(ylog));
}

void rp_chart_yrange(rp_chart *c, double lo, double hi) {
  json_t *y = json_object_get(c->o, "y");
  json_object_set_new(y, "min", num(lo));
  json_object_set_new(y, "max", num(hi));
}

void rp_chart_step(rp_chart *c) { json_object_set_new(c->o, "step", json_true()); }

static json_t *numbers(const double *v, size_t n) {
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++) json_array_append_new(a, num(v[i]));
  return a;
}

void rp_chart_xy(rp_chart *c, const char *name, const double *x, const double *y,
                 const char *const *labels, size_t n) {
  json_t *s = must(json_object());
  json_object_set_new(s, "name", str_or_null(name ? name : ""));
  json_object_set_new(s, "x", numbers(x, n));
  json_object_set_new(s, "y", numbers(y, n));
  if (labels) {
    json_t *l = must(json_array());
    for (size_t i = 0; i < n; i++) json_array_append_new(l, str_or_null(labels[i]));
    json_object_set_new(s, "labels", l);
  }
  json_array_append_new(json_object_get(c->o, "series"), s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void rp_chart_cdf(rp_chart *c, const char *name, const double *v, size_t n, size_t points,
                  double floor) {
  WK_ASSERT(points >= 2);
  double *s = wk_malloc((n ? n : 1) * sizeof *s);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) s[m++] = v[i] < floor ? floor : v[i];
  qsort(s, m, sizeof *s, cmp_double);
  size_t k = m < points ? m : points;
  double *x = wk_malloc((k ? k : 1) * sizeof *x), *y = wk_malloc((k ? k : 1) * sizeof *y);
  for (size_t i = 0; i < k; i++) {
    /* the i-th of k evenly spaced ranks, from the smallest value to the largest */
    size_t rank = k > 1 ? (size_t)llround((double)i * (double)(m - 1) / (double)(k - 1)) : 0;
    x[i] = s[rank];
    y[i] = (double)(rank + 1) / (double)m;
  }
  rp_chart_xy(c, name, x, y, NULL, k);
  wk_free(x);
  wk_free(y);
  wk_free(s);
}

void rp_chart_categories(rp_chart *c, const char *const *names, size_t n) {
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++) json_array_append_new(a, str_or_null(names[i]));
  json_object_set_new(c->o, "categories", a);
}

void rp_chart_values(rp_chart *c, const char *name, const double *v, size_t n) {
  json_t *s = must(json_object());
  json_object_set_new(s, "name", str_or_null(name ? name : ""));
  json_object_set_new(s, "y", numbers(v, n));
  json_array_append_new(json_object_get(c->o, "series"), s);
}

void rp_chart_grid(rp_chart *c, uint32_t rows, uint32_t cols, const double *v,
                   const char *const *row_names, const char *cell, const char *value, double lo,
                   double hi) {
  json_t *g = must(json_object()), *names = must(json_array());
  json_object_set_new(g, "rows", json_integer(rows));
  json_object_set_new(g, "cols", json_integer(cols));
  json_object_set_new(g, "values", numbers(v, (size_t)rows * cols));
  for (uint32_t i = 0; i < rows; i++) json_array_append_new(names, str_or_null(row_names[i]));
  json_object_set_new(g, "row_names", names);
  json_object_set_new(g, "cell", str_or_null(cell));
  json_object_set_new(g, "value", str_or_null(value));
  json_object_set_new(g, "lo", num(lo));
  json_object_set_new(g, "hi", num(hi));
  json_object_set_new(c->o, "grid", g);
}

/* ---- writing ------------------------------------------------------------------------------ */
static const char page_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;"
    "margin:0;background:#f4f5f7;color:#1d2328}"
    "#report{max-width:1500px;margin:0 auto;padding:24px 28px 40px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;"
    "border-bottom:1px solid #d5d9de;padding-bottom:4px}"
    "p{line-height:1.45;max-width:1100px}.subtitle{color:#56606a;margin-top:0}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:16px}"
    ".chart{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:0;padding:10px}"
    ".chart-title{font-weight:600;font-size:14px;margin-bottom:4px}"
    ".plot{width:100%;height:340px}.note{color:#56606a;font-size:12.5px;margin:6px 2px 0}"
    ".table-box{overflow-x:auto;margin:10px 0}table{border-collapse:collapse;background:#fff;"
    "font-size:13px}th,td{border:1px solid #dde1e6;padding:4px 9px;text-align:left;"
    "white-space:nowrap}th{background:#eef1f4}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}.table-caption{font-weight:600;margin:0 0 4px}"
    ".footer{color:#7a848d;font-size:12px;margin-top:32px}";

/* Writes text[0, n) into a <script> element: a "</" that could close it early becomes "<\/",
 * which means the same inside a JavaScript string, regex or comment (ECharts has none today). */
static void put_script(FILE *f, const char *text, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i + 1 < n; i++)
    if (text[i] == '<' && text[i + 1] == '/') {
      fwrite(text + from, 1, i + 1 - from, f);
      fputc('\\', f);
      from = i + 1;
    }
  fwrite(text + from, 1, n - from, f);
}

/* text with &, <, > and " escaped, for the <title>. */
static void put_escaped(FILE *f, const char *s) {
  for (; *s; s++) switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
}

int rp_report_write(const rp_report *r, FILE *html, FILE *data) {
  /* reals with 7 significant digits: enough for every figure shown, and a month of samples
   * stays small; JSON_ESCAPE_SLASH keeps "</script>" out of the inlined copy */
  size_t flags = JSON_INDENT(0) | JSON_COMPACT | JSON_REAL_PRECISION(7) | JSON_ESCAPE_SLASH;
  char *inline_doc = json_dumps(r->doc, flags);
  if (!inline_doc) wk_oom(0);
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        html);
  put_escaped(html, json_string_value(json_object_get(r->doc, "title")));
  fprintf(html, "</title>\n<style>%s</style>\n<script>\n", page_style);
  put_script(html, rp_asset_echarts, (size_t)(rp_asset_echarts_end - rp_asset_echarts));
  fputs("\n</script>\n</head>\n<body>\n<div id=\"report\"></div>\n"
        "<script type=\"application/json\" id=\"wanka-data\">",
        html);
  fputs(inline_doc, html);
  fputs("</script>\n<script>\n", html);
  put_script(html, rp_asset_render, (size_t)(rp_asset_render_end - rp_asset_render));
  fputs("</script>\n</body>\n</html>\n", html);
  free(inline_doc);
  int bad = ferror(html) != 0;
  if (data) {
    if (json_dumpf(r->doc, data, JSON_INDENT(1) | JSON_REAL_PRECISION(7)) || fputc('\n', data) == EOF)
      bad = 1;
    if (ferror(data)) bad = 1;
  }
  return bad ? -1 : 0;
}
