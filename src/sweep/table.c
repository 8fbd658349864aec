/* table.c — the rows of a finished sweep, in grid order, as CSV and as one JSON object. Each
 * row is built from the journal: the axis values (typed: an unquoted 2 is a number), status
 * and error, then the command's JSON flattened ("breakdown.compute_s"). The columns are every
 * key seen, in the order first seen going down the grid, so they too are the same whatever
 * ran the points. Two passes over the journal (columns, then rows): O(points x keys) time,
 * one row in memory at a time. */
#include "sweep_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SW_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* An axis value as JSON: an unquoted YAML scalar that is a number or true/false is typed. */
static json_t *typed(const char *text, int plain) {
  int64_t i;
  double d;
  if (plain && !wk_parse_i64(text, &i)) return json_integer((json_int_t)i);
  if (plain && !wk_parse_double(text, &d)) return json_real(d);
  if (plain && (!strcmp(text, "true") || !strcmp(text, "false")))
    return json_boolean(text[0] == 't');
  json_t *s = json_string(text);
  return s ? s : json_string("(not UTF-8)");
}

static int is_axis_name(const sweep_spec *s, const char *name) {
  if (!strcmp(name, "status") || !strcmp(name, "error")) return 1;
  for (uint32_t c = 0; c < s->ncols; c++)
    if (!strcmp(s->cols[c].name, name)) return 1;
  return 0;
}

/* 1 when v is a non-empty array of objects only (coll's rows, plan's best layouts). */
static int array_of_objects(const json_t *v) {
  if (!json_is_array(v) || !json_array_size(v)) return 0;
  for (size_t i = 0; i < json_array_size(v); i++)
    if (!json_is_object(json_array_get(v, i))) return 0;
  return 1;
}

static void flatten(const sweep_spec *s, json_t *row, json_t *obj, const char *prefix);

/* An array of objects, each flattened under "prefix.INDEX" ("best.0.step_time_s"). */
static void flatten_array(const sweep_spec *s, json_t *row, json_t *arr, const char *prefix) {
  size_t n = strlen(prefix) + 24;
  char *name = wk_malloc(n);
  for (size_t i = 0; i < json_array_size(arr); i++) {
    snprintf(name, n, "%s.%zu", prefix, i);
    flatten(s, row, json_array_get(arr, i), name);
  }
  wk_free(name);
}

/* Adds obj's keys to row, nested objects as "prefix.key" and arrays of objects as
 * "prefix.key.INDEX.key"; wall-clock keys left out; a key an axis column has is written
 * "<command>.<key>". Arrays of numbers or strings stay one value. */
static void flatten(const sweep_spec *s, json_t *row, json_t *obj, const char *prefix) {
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    if (!strcmp(k, "wall_s")) continue; /* differs run to run: the rows would too */
    size_t n = strlen(k) + (prefix ? strlen(prefix) + 1 : 0) + strlen(s->words[0]) + 2;
    char *name = wk_malloc(n);
    if (prefix) snprintf(name, n, "%s.%s", prefix, k);
    else snprintf(name, n, "%s", k);
    if (json_is_object(v) && json_object_size(v)) {
      flatten(s, row, v, name);
    } else if (array_of_objects(v)) {
      flatten_array(s, row, v, name);
    } else {
      if (is_axis_name(s, name)) {
        char *renamed = wk_malloc(n);
        snprintf(renamed, n, "%s.%s", s->words[0], name);
        wk_free(name);
        name = renamed;
      }
      json_object_set(row, name, v);
    }
    wk_free(name);
  }
}

/* Row of point i (owned by the caller), or NULL after err (journal unreadable). */
static json_t *row_of(const sweep_run *r, uint64_t i, int *ok, wk_err *err) {
  const sweep_spec *s = sw_run_spec(r);
  char *payload = sw_journal_read(sw_run_journal(r), i, ok);
  if (!payload) {
    wk_err_set(err, WK_EIO, "", 0, 0, "cannot read point %llu back from the sweep journal",
               (unsigned long long)i);
    return NULL;
  }
  json_error_t je;
  json_t *body = json_loads(payload, JSON_DECODE_ANY, &je);
  wk_free(payload);
  if (!body) {
    wk_err_set(err, WK_EPARSE, "", 0, 0, "point %llu in the sweep journal is not JSON: %s",
               (unsigned long long)i, je.text);
    return NULL;
  }
  json_t *row = json_object();
  uint64_t idx[SW_MAX_COLS];
  sw_decode(s, i, idx);
  for (uint32_t a = 0; a < s->naxes; a++) {
    const sw_axis *ax = &s->axes[a];
    for (uint32_t k = 0; k < ax->ncols; k++) {
      uint64_t v = idx[a] * ax->ncols + k;
      json_object_set_new(row, s->cols[ax->col0 + k].name, typed(ax->text[v], ax->plain[v]));
    }
  }
  json_object_set_new(row, "status", json_string(*ok ? "ok" : "failed"));
  if (*ok) {
    json_object_set_new(row, "error", json_null());
    if (json_is_object(body)) flatten(s, row, body, NULL);
  } else {
    json_object_set(row, "error", body);
  }
  json_decref(body);
  return row;
}

/* Every column, in the order first seen down the grid (owned by the caller: a JSON array). */
static json_t *columns(const sweep_run *r, wk_err *err) {
  const sweep_spec *s = sw_run_spec(r);
  json_t *cols = json_array(), *seen = json_object();
  for (uint64_t i = 0; i < s->points; i++) {
    int ok;
    json_t *row = row_of(r, i, &ok, err);
    if (!row) {
      json_decref(cols);
      cols = NULL;
      break;
    }
    const char *k;
    json_t *v;
    json_object_foreach(row, k, v) {
      if (json_object_get(seen, k)) continue;
      json_object_set_new(seen, k, json_true());
      json_array_append_new(cols, json_string(k));
    }
    json_decref(row);
  }
  json_decref(seen);
  return cols;
}

/* One CSV field (RFC 4180: quoted when it holds a comma, quote, line end or edge space). */
static void csv_field(FILE *f, const json_t *v) {
  char *owned = NULL;
  const char *t = "";
  char num[64];
  if (!v || json_is_null(v)) t = "";
  else if (json_is_string(v)) t = json_string_value(v);
  else if (json_is_true(v)) t = "true";
  else if (json_is_false(v)) t = "false";
  else if (json_is_integer(v)) {
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
    t = num;
  } else {
    t = owned = json_dumps(v, JSON_ENCODE_ANY | SW_JSON_FLAGS);
    if (!t) t = "";
  }
  size_t n = strlen(t);
  int quote = n && (strpbrk(t, ",\"\r\n") || t[0] == ' ' || t[n - 1] == ' ');
  if (!quote) {
    fputs(t, f);
  } else {
    fputc('"', f);
    for (const char *p = t; *p; p++) {
      if (*p == '"') fputc('"', f);
      fputc(*p, f);
    }
    fputc('"', f);
  }
  free(owned);
}

wk_errcode sweep_write_csv(const sweep_run *r, FILE *f, wk_err *err) {
  const sweep_spec *s = sw_run_spec(r);
  json_t *cols = columns(r, err);
  if (!cols) return err->code;
  size_t nc = json_array_size(cols);
  for (size_t c = 0; c < nc; c++) {
    if (c) fputc(',', f);
    csv_field(f, json_array_get(cols, c));
  }
  fputc('\n', f);
  wk_errcode rc = WK_OK;
  for (uint64_t i = 0; i < s->points && !rc; i++) {
    int ok;
    json_t *row = row_of(r, i, &ok, err);
    if (!row) {
      rc = err->code;
      break;
    }
    for (size_t c = 0; c < nc; c++) {
      if (c) fputc(',', f);
      csv_field(f, json_object_get(row, json_string_value(json_array_get(cols, c))));
    }
    fputc('\n', f);
    json_decref(row);
  }
  json_decref(cols);
  return rc;
}

static void put_json(FILE *f, const json_t *v) {
  char *t = json_dumps(v, JSON_ENCODE_ANY | SW_JSON_FLAGS);
  fputs(t ? t : "null", f);
  free(t);
}

wk_errcode sweep_write_json(const sweep_run *r, const char *spec_name, FILE *f, wk_err *err) {
  const sweep_spec *s = sw_run_spec(r);
  json_t *cols = columns(r, err);
  if (!cols) return err->code;
  json_t *axes = json_array();
  for (uint32_t c = 0; c < s->ncols; c++) json_array_append_new(axes, json_string(s->cols[c].name));
  json_t *name = json_string(spec_name), *cmd = json_string(s->command);
  uint64_t failed = sw_journal_failed(sw_run_journal(r));
  fputs("{\n  \"spec\": ", f);
  put_json(f, name);
  fputs(",\n  \"command\": ", f);
  put_json(f, cmd);
  fputs(",\n  \"axes\": ", f);
  put_json(f, axes);
  fprintf(f, ",\n  \"points\": %llu,\n  \"ok\": %llu,\n  \"failed\": %llu,\n  \"columns\": ",
          (unsigned long long)s->points, (unsigned long long)(s->points - failed),
          (unsigned long long)failed);
  put_json(f, cols);
  fputs(",\n  \"rows\": [", f);
  json_decref(name);
  json_decref(cmd);
  json_decref(axes);
  json_decref(cols);
  wk_errcode rc = WK_OK;
  for (uint64_t i = 0; i < s->points; i++) {
    int ok;
    json_t *row = row_of(r, i, &ok, err);
    if (!row) {
      rc = err->code;
      break;
    }
    fputs(i ? ",\n    " : "\n    ", f);
    put_json(f, row);
    json_decref(row);
  }
  fputs(s->points ? "\n  ]\n}\n" : "]\n}\n", f);
  return rc;
}
