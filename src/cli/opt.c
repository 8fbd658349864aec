/* opt.c — table-driven option parsing, --help generation, error printing (outputs: out.c). */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail_err(const wk_err *e) {
  char buf[1024];
  fprintf(stderr, "%s\n", wk_err_format(e, buf, sizeof buf));
  return 2;
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), ASCII case
 * ignored; names longer than 63 characters are never suggested. O(|a| |b|). */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 1 << 20;
  int d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int v = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

const char *cli_suggest(const char *given, const char *const *names) {
  int most = (int)strlen(given) / 3, best = 1 << 20;
  if (most < 1) most = 1;
  const char *pick = NULL;
  for (const char *const *p = names; *p; p++) {
    int dist = edit_distance(given, *p);
    if (dist < best) best = dist, pick = *p; /* ties: the first listed */
  }
  return best <= most ? pick : NULL;
}

const char *cli_did_you_mean(const char *given, const char *const *names, const char *prefix,
                             char *buf, size_t n) {
  const char *s = cli_suggest(given, names);
  if (s) snprintf(buf, n, "; did you mean '%s%s'?", prefix, s);
  else if (n) buf[0] = 0;
  return buf;
}

int cli_fail_unknown(const char *what, const char *given, const char *const *names) {
  char near[128], list[512] = "";
  size_t k = 0;
  for (const char *const *p = names; *p && k < sizeof list; p++)
    k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", p == names ? "" : p[1] ? ", " : " or ",
                          *p);
  return cli_fail("unknown %s '%s'%s (%s)", what, given,
                  cli_did_you_mean(given, names, "", near, sizeof near), list);
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 2;
}

static int is_numeric(cli_opt_type t) { return t != CLI_FLAG && t != CLI_STR && t != CLI_LIST; }

const char *cli_fmt_duration(double s, char *buf, size_t n) {
  static const struct { double unit; const char *name; } units[] = {
      {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}};
  if (s == 0) {
    snprintf(buf, n, "0");
    return buf;
  }
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    double k = s / units[i].unit;
    if (k >= 1 && fabs(k - round(k)) < 1e-9 * k) {
      snprintf(buf, n, "%.0f%s", round(k), units[i].name);
      return buf;
    }
  }
  snprintf(buf, n, "%gs", s);
  return buf;
}

static const char *fmt_bound(cli_opt_type t, double v, char *buf, size_t n) {
  switch (t) {
  case CLI_INT: snprintf(buf, n, "%.0f", v); break;
  case CLI_SIZE: wk_fmt_bytes_iec(v, buf, n); break;
  case CLI_DURATION: cli_fmt_duration(v, buf, n); break;
  default: snprintf(buf, n, "%g", v); break;
  }
  return buf;
}

int cli_check_range(const char *name, const char *text, double v, double lo, double hi,
                    cli_opt_type type) {
  if (v >= lo && v <= hi) return 0;
  char a[32], b[32];
  return cli_fail("--%s %s is out of range [%s, %s]", name, text, fmt_bound(type, lo, a, sizeof a),
                  fmt_bound(type, hi, b, sizeof b));
}

void cli_help(const cli_cmd *cmd, FILE *f) {
  fprintf(f, "Usage: %s\n%s\n", cmd->usage, cmd->summary);
  if (!cmd->opts || !cmd->opts[0].name) return;
  fprintf(f, "\nOptions:\n");
  for (const cli_opt *o = cmd->opts; o->name; o++) {
    char left[64], a[32], b[32];
    if (o->type == CLI_FLAG) snprintf(left, sizeof left, "--%s", o->name);
    else snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "X");
    fprintf(f, "  %-26s %s", left, o->help);
    if (is_numeric(o->type))
      fprintf(f, " [%s, %s]", fmt_bound(o->type, o->lo, a, sizeof a),
              fmt_bound(o->type, o->hi, b, sizeof b));
    fputc('\n', f);
  }
  fprintf(f, "  %-26s %s\n", "--help", "show this help");
}

int cli_sub_help(const cli_cmd *top, int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "--help") && strcmp(argv[0], "-h")) return -1;
  cli_help(top, argc < 1 ? stderr : stdout);
  return argc < 1 ? 2 : 0;
}

static int set_value(const cli_opt *o, const char *v) {
  switch (o->type) {
  case CLI_FLAG: *(int *)o->dest = 1; return 0;
  case CLI_STR: *(const char **)o->dest = v; return 0;
  case CLI_LIST: {
    cli_list *l = o->dest;
    if (l->n >= CLI_LIST_MAX) return -1;
    l->v[l->n++] = v;
    return 0;
  }
  case CLI_INT: return wk_parse_i64(v, (int64_t *)o->dest);
  case CLI_DOUBLE: return wk_parse_double(v, (double *)o->dest);
  case CLI_SIZE: return wk_parse_size(v, (uint64_t *)o->dest);
  case CLI_DURATION: return wk_parse_duration_s(v, (double *)o->dest);
  }
  return -1;
}

static const char *type_hint(cli_opt_type t) {
  switch (t) {
  case CLI_INT: return "an integer";
  case CLI_DOUBLE: return "a number";
  case CLI_SIZE: return "a size such as 4096, 1K, 16M or 1G";
  case CLI_DURATION: return "a duration such as 90, 30m, 2h or 7d";
  default: return "a value";
  }
}

/* The words of cmd's usage that name the command ("wanka coll", "wanka cluster show"): a
 * hint a user can paste, unlike the usage's placeholders (a shell reads "<op>" as a
 * redirection). */
static int command_words(const cli_cmd *cmd) {
  const char *u = cmd->usage, *end = u;
  for (const char *p = u; *p;) {
    const char *w = p;
    if (!islower((unsigned char)*p)) break; /* an option or a placeholder: not a command word */
    while (*p && (islower((unsigned char)*p) || *p == '-')) p++;
    if (p == w || (*p && *p != ' ')) break;
    end = p;
    while (*p == ' ') p++;
  }
  return (int)(end - u);
}

static int unknown_option(const cli_cmd *cmd, const char *name, size_t len) {
  char given[64], near[96];
  const char *names[64];
  int k = 0;
  for (const cli_opt *p = cmd->opts; p && p->name && k < 62; p++) names[k++] = p->name;
  names[k++] = "help";
  names[k] = NULL;
  snprintf(given, sizeof given, "%.*s", (int)len, name);
  return cli_fail("unknown option '--%.*s'%s (see '%.*s --help')", (int)len, name,
                  cli_did_you_mean(given, names, "--", near, sizeof near), command_words(cmd),
                  cmd->usage);
}

/* The value an option just parsed into its destination, as a double for the range check. */
static double parsed_value(const cli_opt *o) {
  switch (o->type) {
  case CLI_INT: return (double)*(const int64_t *)o->dest;
  case CLI_DOUBLE:
  case CLI_DURATION: return *(const double *)o->dest;
  case CLI_SIZE: return (double)*(const uint64_t *)o->dest;
  default: return 0;
  }
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int maxpos, int *npos) {
  *npos = 0;
  for (const cli_opt *p = cmd->opts; p && p->name; p++) /* a table without a range is a bug */
    WK_ASSERT(!is_numeric(p->type) || (p->lo <= p->hi && (p->lo != 0 || p->hi != 0)));
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      cli_help(cmd, stdout);
      return 1;
    }
    if (a[0] == '-' && a[1] == '-' && a[2]) {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      const cli_opt *o = NULL;
      for (const cli_opt *p = cmd->opts; p && p->name; p++)
        if (strlen(p->name) == len && !strncmp(p->name, name, len)) o = p;
      if (!o) return unknown_option(cmd, name, len);
      const char *v = NULL;
      if (o->type != CLI_FLAG) {
        if (eq) v = eq + 1;
        else if (i + 1 < argc) v = argv[++i];
        else return cli_fail("option '--%s' needs %s", o->name, type_hint(o->type));
      } else if (eq) {
        return cli_fail("option '--%s' takes no value", o->name);
      }
      if (set_value(o, v))
        return o->type == CLI_LIST
                   ? cli_fail("option '--%s' is given more than %d times", o->name, CLI_LIST_MAX)
                   : cli_fail("option '--%s': '%s' is not %s", o->name, v, type_hint(o->type));
      if (is_numeric(o->type) &&
          cli_check_range(o->name, v, parsed_value(o), o->lo, o->hi, o->type))
        return 2;
      continue;
    }
    if (*npos >= maxpos)
      return cli_fail("unexpected argument '%s' (see '%.*s --help')", a, command_words(cmd),
                      cmd->usage);
    pos[(*npos)++] = argv[i];
  }
  return 0;
}

void cli_print_json(json_t *o, int precision) {
  char *txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(precision));
  puts(txt);
  free(txt);
  json_decref(o);
}
