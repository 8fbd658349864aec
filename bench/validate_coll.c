/* validate_coll — the collective model against every row of the published table
 * (shared/data/validation/collectives.md): system, collective, published busbw, predicted
 * busbw, error. Usage: validate_coll [collectives.md]; by default the file is found beside
 * the repository (../shared/... relative to the source tree). Exit 1 if a row is off by more
 * than 10 %. */
#include "coll/coll.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf) return NULL;
  buf[got] = 0;
  return buf;
}

int main(int argc, char **argv) {
  char def[1024];
  const char *path = argc > 1 ? argv[1] : NULL;
  if (!path) { /* this file is <repo>/bench/validate_coll.c; the data is <repo>/../shared */
    snprintf(def, sizeof def, "%s", __FILE__);
    char *slash = strrchr(def, '/');
    if (slash) *slash = 0;
    size_t len = strlen(def);
    snprintf(def + len, sizeof def - len, "%s../../shared/data/validation/collectives.md",
             slash ? "/" : "");
    path = def;
  }
  char *text = slurp(path);
  if (!text) {
    fprintf(stderr, "error: cannot read %s (pass the path of collectives.md)\n", path);
    return 2;
  }
  coll_vrow rows[32];
  int n;
  wk_err err;
  if (coll_validate_md(text, rows, 32, &n, &err)) {
    char buf[1024];
    fprintf(stderr, "%s\n", wk_err_format(&err, buf, sizeof buf));
    free(text);
    return 2;
  }
  printf("# wanka coll validation against %s (busbw, GB/s)\n", path);
  printf("%-58s %-10s %11s %10s %8s  %s\n", "system", "collective", "published", "predicted",
         "error", "modelled as");
  int bad = 0;
  for (int i = 0; i < n; i++) {
    const coll_vrow *r = &rows[i];
    char pub[32];
    if (r->published_lo == r->published_hi) snprintf(pub, sizeof pub, "%.2f", r->published_lo / 1e9);
    else snprintf(pub, sizeof pub, "%.0f-%.0f", r->published_lo / 1e9, r->published_hi / 1e9);
    if (r->modelled) {
      printf("%-58.58s %-10s %11s %10.2f %+7.1f%%  %s\n", r->system, r->collective, pub,
             r->predicted / 1e9, r->error_pct, r->scenario);
      if (fabs(r->error_pct) > 10) bad++;
    } else {
      printf("%-58.58s %-10s %11s %10s %8s  %s\n", r->system, r->collective, pub, "-", "-",
             r->scenario);
    }
  }
  printf("# %d rows, %d beyond 10 %%\n", n, bad);
  free(text);
  return bad ? 1 : 0;
}
