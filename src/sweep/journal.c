/* journal.c — DIR/sweep.journal: every finished point, one line each, appended and put on disk
 * (fdatasync) before the next is handed out, so a sweep killed at any moment loses no point
 * that finished and re-runs none: --resume reads the lines back (a torn last line, from a
 * crash inside write(), is cut off) and skips what they hold. The file's first line names the
 * grid by its digest, so a folder holding another sweep's results is refused. The rows are
 * assembled from here in grid order (table.c), so what is held in memory is 13 bytes a point. */
#define _GNU_SOURCE
#include "sweep_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SW_MAGIC "wanka sweep journal v1"
#define SW_NONE UINT64_MAX

struct sw_journal {
  int fd;
  int durable; /* fdatasync each record (DIR/sweep.journal; not the temporary one) */
  uint64_t points, count, failed;
  uint64_t end; /* where the next record goes */
  uint64_t *off; /* per point: offset of its record line, or SW_NONE */
  uint32_t *len; /* its length, without the '\n' */
  uint8_t *state; /* per point: 0 not done, 1 ok, 2 failed */
};

char *sw_journal_path(const char *dir) {
  size_t n = strlen(dir) + 32;
  char *p = wk_malloc(n);
  snprintf(p, n, "%s/sweep.journal", dir);
  return p;
}

static void header(const sweep_spec *s, char *buf, size_t n) {
  snprintf(buf, n, SW_MAGIC " digest=%016" PRIx64 " points=%" PRIu64 " command=%s\n",
           sweep_digest(s), sweep_points(s), sweep_command(s));
}

/* Reads the first line of the file at path into buf. 0, or -1 (errno set). */
static int first_line(const char *path, char *buf, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  if (!fgets(buf, (int)n, f)) buf[0] = 0;
  fclose(f);
  return 0;
}

static int exists(const char *dir, const char *name) {
  char p[4096];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return stat(p, &st) == 0;
}

wk_errcode sweep_check_dir(const sweep_spec *s, const sweep_run_opts *opts, wk_err *err) {
  if (!opts->dir) return WK_OK;
  char *path = sw_journal_path(opts->dir), line[1024], want[1024];
  wk_errcode rc = WK_OK;
  header(s, want, sizeof want);
  if (first_line(path, line, sizeof line)) {
    if (errno != ENOENT)
      rc = wk_err_set(err, WK_EIO, path, 0, 0, "cannot read the journal: %s", strerror(errno));
    else if (exists(opts->dir, "results.csv") || exists(opts->dir, "results.json"))
      rc = wk_err_set(err, WK_EVALUE, opts->dir, 0, 0,
                      "--out folder holds results.csv or results.json but no sweep.journal: "
                      "they are not this sweep's to replace; give another --out");
  } else if (strncmp(line, SW_MAGIC " ", strlen(SW_MAGIC) + 1)) {
    rc = wk_err_set(err, WK_EVALUE, path, 1, 1, "not a sweep journal: give another --out");
  } else if (strcmp(line, want)) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    rc = wk_err_set(err, WK_EVALUE, path, 1, 1,
                    "--out holds the results of another sweep (%s), not of this SPEC: give "
                    "another --out, or remove the folder to start over",
                    line + strlen(SW_MAGIC) + 1);
  } else if (!opts->resume) {
    rc = wk_err_set(err, WK_EVALUE, path, 1, 1,
                    "--out already holds this sweep: give --resume to continue it (points "
                    "already written are not run again), or remove the folder to start over");
  }
  wk_free(path);
  return rc;
}

/* Parses a record line "POINT\tok|failed\tWALL\tPAYLOAD" (without '\n'). 0, or -1. */
static int parse_record(const char *line, size_t n, uint64_t points, uint64_t *point, int *ok,
                        const char **payload) {
  char *end;
  errno = 0;
  unsigned long long p = strtoull(line, &end, 10);
  if (errno || end == line || *end != '\t' || p >= points) return -1;
  const char *st = end + 1, *wall;
  if (!strncmp(st, "ok\t", 3)) *ok = 1, wall = st + 3;
  else if (!strncmp(st, "failed\t", 7)) *ok = 0, wall = st + 7;
  else return -1;
  const char *tab = memchr(wall, '\t', n - (size_t)(wall - line));
  if (!tab) return -1;
  *point = p;
  *payload = tab + 1;
  return 0;
}

static void index_record(sw_journal *j, uint64_t point, int ok, uint64_t off, size_t len) {
  if (!j->state[point]) j->count++;
  if (j->state[point] == 2) j->failed--; /* a later record of the point replaces it */
  j->state[point] = ok ? 1 : 2;
  if (!ok) j->failed++;
  j->off[point] = off;
  j->len[point] = (uint32_t)len;
}

/* Reads an existing journal: header checked by sweep_check_dir; every complete record indexed;
 * a torn last line cut off. O(file size). */
static wk_errcode load(sw_journal *j, const char *path, wk_err *err) {
  FILE *f = fdopen(dup(j->fd), "rb");
  if (!f) return wk_err_set(err, WK_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  uint64_t off = 0, good = 0;
  int lineno = 0;
  wk_errcode rc = WK_OK;
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    if (line[n - 1] != '\n') break; /* torn: written in part when the process died */
    if (lineno > 1) {
      uint64_t p;
      int ok;
      const char *payload;
      line[n - 1] = 0;
      if (parse_record(line, (size_t)n - 1, j->points, &p, &ok, &payload)) {
        rc = wk_err_set(err, WK_EPARSE, path, lineno, 1, "not a journal record: remove the "
                        "folder to start the sweep over");
        break;
      }
      index_record(j, p, ok, off, (size_t)n - 1);
    }
    off += (uint64_t)n;
    good = off;
  }
  free(line);
  fclose(f);
  if (rc) return rc;
  if (ftruncate(j->fd, (off_t)good))
    return wk_err_set(err, WK_EIO, path, 0, 0, "cannot cut the torn last record: %s",
                      strerror(errno));
  j->end = good;
  return WK_OK;
}

static void fsync_dir(const char *dir) {
  int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return;
  if (fsync(d)) { /* best effort: some file systems refuse fsync on a folder */
  }
  close(d);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

wk_errcode sw_journal_open(const sweep_spec *s, const char *dir, int resume, sw_journal **out,
                           wk_err *err) {
  sw_journal *j = wk_calloc(1, sizeof *j);
  j->points = sweep_points(s);
  j->off = wk_malloc(j->points * sizeof *j->off);
  memset(j->off, 0xff, j->points * sizeof *j->off);
  j->len = wk_calloc(j->points, sizeof *j->len);
  j->state = wk_calloc(j->points, 1);
  char *path = NULL, hdr[1024];
  wk_errcode rc = WK_OK;
  header(s, hdr, sizeof hdr);
  if (!dir) {
    const char *tmp = getenv("TMPDIR");
    char t[4096];
    snprintf(t, sizeof t, "%s/wanka-sweep-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    j->fd = mkostemp(t, O_CLOEXEC);
    if (j->fd < 0) {
      rc = wk_err_set(err, WK_EIO, t, 0, 0, "cannot make the sweep's temporary journal: %s",
                      strerror(errno));
      goto done;
    }
    unlink(t); /* gone with the process */
  } else {
    path = sw_journal_path(dir);
    j->durable = 1;
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC), 0666);
    if (j->fd < 0) {
      rc = wk_err_set(err, WK_EIO, path, 0, 0, "cannot write the journal: %s", strerror(errno));
      goto done;
    }
    struct stat st;
    if (resume && fstat(j->fd, &st) == 0 && st.st_size > 0) {
      rc = load(j, path, err);
      if (rc == WK_OK && j->end == 0) goto fresh; /* only a torn header was there */
      goto done;
    }
  }
fresh:
  if (write_all(j->fd, hdr, strlen(hdr)) || (j->durable && fdatasync(j->fd))) {
    rc = wk_err_set(err, WK_EIO, path ? path : "journal", 0, 0, "cannot write: %s",
                    strerror(errno));
    goto done;
  }
  j->end = strlen(hdr);
  if (dir) fsync_dir(dir); /* the new name on disk too */
done:
  wk_free(path);
  if (rc) {
    sw_journal_free(j);
    j = NULL;
  }
  *out = j;
  return rc;
}

void sw_journal_free(sw_journal *j) {
  if (!j) return;
  if (j->fd >= 0) close(j->fd);
  wk_free(j->off);
  wk_free(j->len);
  wk_free(j->state);
  wk_free(j);
}

int sw_journal_done(const sw_journal *j, uint64_t point) { return j->state[point] != 0; }
uint64_t sw_journal_count(const sw_journal *j) { return j->count; }
uint64_t sw_journal_failed(const sw_journal *j) { return j->failed; }

wk_errcode sw_journal_append(sw_journal *j, const sw_result *r, wk_err *err) {
  WK_ASSERT(r->kind == SW_OK || r->kind == SW_FAILED);
  char *payload = NULL;
  if (r->kind == SW_FAILED) {
    json_t *e = json_string(r->text ? r->text : "");
    if (!e) e = json_string("(the error was not valid UTF-8)");
    payload = json_dumps(e, JSON_ENCODE_ANY);
    json_decref(e);
  }
  const char *body = payload ? payload : r->text;
  size_t n = strlen(body) + 64;
  char *line = wk_malloc(n);
  int len = snprintf(line, n, "%" PRIu64 "\t%s\t%.3f\t%s\n", r->point,
                     r->kind == SW_OK ? "ok" : "failed", r->wall_s, body);
  free(payload);
  wk_errcode rc = WK_OK;
  /* one write() per record: a crash leaves at most a torn last line, which load() cuts off */
  if (pwrite(j->fd, line, (size_t)len, (off_t)j->end) != len ||
      (j->durable && fdatasync(j->fd))) {
    rc = wk_err_set(err, WK_EIO, "", 0, 0, "cannot write the sweep journal: %s",
                    strerror(errno ? errno : EIO));
  } else {
    index_record(j, r->point, r->kind == SW_OK, j->end, (size_t)len - 1);
    j->end += (uint64_t)len;
  }
  wk_free(line);
  return rc;
}

char *sw_journal_read(const sw_journal *j, uint64_t point, int *ok) {
  if (j->off[point] == SW_NONE) return NULL;
  size_t n = j->len[point];
  char *line = wk_malloc(n + 1);
  if (pread(j->fd, line, n, (off_t)j->off[point]) != (ssize_t)n) {
    wk_free(line);
    return NULL;
  }
  line[n] = 0;
  uint64_t p;
  const char *payload;
  if (parse_record(line, n, j->points, &p, ok, &payload) || p != point) {
    wk_free(line);
    return NULL;
  }
  char *out = wk_strdup(payload);
  wk_free(line);
  return out;
}
