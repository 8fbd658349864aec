/* opt.c — table-driven option parsing, --help generation, error printing (outputs: out.c). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail_err(const wk_err *e) {
  char buf[1024];
  fprintf(stderr, "%s\n", wk_err_format(e, buf, sizeof buf));
  return 2;
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

void cli_help(const cli_cmd *cmd, FILE *f) {
  fprintf(f, "Usage: %s\n%s\n", cmd->usage, cmd->summary);
  if (!cmd->opts || !cmd->opts[0].name) return;
  fprintf(f, "\nOptions:\n");
  for (const cli_opt *o = cmd->opts; o->name; o++) {
    char left[64];
    if (o->type == CLI_FLAG) snprintf(left, sizeof left, "--%s", o->name);
    else snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "X");
    fprintf(f, "  %-26s %s\n", left, o->help);
  }
  fprintf(f, "  %-26s %s\n", "--help", "show this help");
}

static int set_value(const cli_opt *o, const char *v) {
  switch (o->type) {
  case CLI_FLAG: *(int *)o->dest = 1; return 0;
  case CLI_STR: *(const char **)o->dest = v; return 0;
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

int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int maxpos, int *npos) {
  *npos = 0;
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
      if (!o) return cli_fail("unknown option '--%.*s' (see '%s --help')", (int)len, name,
                              cmd->usage);
      const char *v = NULL;
      if (o->type != CLI_FLAG) {
        if (eq) v = eq + 1;
        else if (i + 1 < argc) v = argv[++i];
        else return cli_fail("option '--%s' needs %s", o->name, type_hint(o->type));
      } else if (eq) {
        return cli_fail("option '--%s' takes no value", o->name);
      }
      if (set_value(o, v))
        return cli_fail("option '--%s': '%s' is not %s", o->name, v, type_hint(o->type));
      continue;
    }
    if (*npos >= maxpos) return cli_fail("unexpected argument '%s' (see '%s --help')", a,
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
