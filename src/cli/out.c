/* out.c — every file wanka writes goes through here, by one rule (README "Reliability"): a
 * regular file or a new path is replaced atomically (a temp file in the same folder, fsync,
 * rename); a symlink is followed and its target replaced the same way, the link kept; a device,
 * FIFO or socket is written in place, never renamed over; "-" is standard output. Paths are
 * checked before any work, temp files are removed on SIGINT, SIGTERM and SIGHUP, a write error
 * is one line naming the path, and a closed pipe ends the process as SIGPIPE ends Unix tools. */
#define _GNU_SOURCE /* fopencookie: a stream whose writes we see, so each error keeps its errno */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum out_kind {
  OUT_STDOUT,  /* file descriptor 1: "-", or a path naming the same file as standard output */
  OUT_REPLACE, /* a regular file or a new name: temp file, fsync, rename over `target` */
  OUT_DIRECT,  /* a device, FIFO or socket: opened and written in place */
} out_kind;

struct cli_out {
  out_kind kind;
  char *path;   /* as given, for messages */
  char *target; /* OUT_REPLACE: the name replaced, links followed; OUT_DIRECT: path */
  char *tmp;    /* OUT_REPLACE once begun: the temp file, registered for the signal handler */
  int slot;     /* its registry slot, -1 when none */
  int fd;       /* -1 until begun */
  FILE *f;
  int err;       /* errno of the first failed write, 0 while all went well */
  int discard;   /* aborting: buffered bytes are dropped, not written */
  int existed;   /* OUT_REPLACE over an existing file: keep its mode and owner */
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

/* ---- temp files removed on a fatal signal ----------------------------------------------- */
#define OUT_MAX_TEMPS 16
/* The temp files that exist now. A signal handler is given no context pointer, so the table it
 * reads must be process-wide: this is the one piece of global mutable state in wanka (STYLE
 * rule 3's exception). Only the main flow claims and frees slots; `live` is raised after the
 * path is complete and lowered before it changes, with a signal fence between, so the handler
 * never reads a half-written path. */
static struct {
  volatile sig_atomic_t live;
  char path[PATH_MAX];
} out_temps[OUT_MAX_TEMPS];

/* Async-signal-safe: unlink() only. */
static void remove_temps(void) {
  for (int i = 0; i < OUT_MAX_TEMPS; i++)
    if (out_temps[i].live) unlink(out_temps[i].path);
}

static int claim_slot(const char *path) {
  if (strlen(path) >= PATH_MAX) return -1;
  for (int i = 0; i < OUT_MAX_TEMPS; i++)
    if (!out_temps[i].live) {
      memcpy(out_temps[i].path, path, strlen(path) + 1);
      atomic_signal_fence(memory_order_seq_cst);
      out_temps[i].live = 1;
      return i;
    }
  return -1;
}

static void free_slot(int slot) {
  if (slot >= 0) out_temps[slot].live = 0;
  atomic_signal_fence(memory_order_seq_cst);
}

/* SIGINT, SIGTERM, SIGHUP: remove the temp files, then die of the same signal (the default
 * action), so the parent sees what killed us. */
static void on_fatal_signal(int sig) {
  remove_temps();
  signal(sig, SIG_DFL);
  raise(sig); /* pending until this handler returns (the signal is blocked inside it) */
}

/* A reader closed the pipe (or FIFO) we write to: remove the temp files and end the process by
 * SIGPIPE, as `yes | head -1` ends `yes`: no message, and a shell sees status 141. */
static _Noreturn void broken_pipe(void) {
  remove_temps();
  signal(SIGPIPE, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  raise(SIGPIPE);
  _exit(128 + SIGPIPE); /* only if SIGPIPE could not be delivered */
}

/* ---- the stream ----------------------------------------------------------------------------- */
/* Waits until fd takes more bytes: standard output may have been left non-blocking by another
 * process sharing it. */
static void wait_writable(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/* The cookie stream's write: all of buf, or -1 with the first errno kept in o->err. */
static ssize_t out_write(void *cookie, const char *buf, size_t n) {
  cli_out *o = cookie;
  if (o->discard) return (ssize_t)n;
  if (o->err) return -1;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(o->fd, buf + done, n - done);
    if (w > 0) {
      done += (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_writable(o->fd);
    } else {
      if (w < 0 && errno == EPIPE) broken_pipe();
      o->err = w < 0 ? errno : EIO;
      return -1;
    }
  }
  return (ssize_t)n;
}

static FILE *out_stream(cli_out *o) {
  cookie_io_functions_t io = {NULL, out_write, NULL, NULL};
  FILE *f = fopencookie(o, "w", io);
  if (!f) return NULL;
  /* a terminal sees each line as it comes; anything else gets large writes */
  setvbuf(f, NULL, o->kind == OUT_STDOUT && isatty(o->fd) ? _IOLBF : _IOFBF, 1 << 16);
  return f;
}

/* ---- checking a path -------------------------------------------------------------------- */
static const char *out_name(const cli_out *o, char *buf, size_t n) {
  if (!strcmp(o->path, "-")) return "<stdout>";
  snprintf(buf, n, "'%s'", o->path);
  return buf;
}

static void out_free(cli_out *o) {
  if (!o) return;
  free(o->path);
  free(o->target);
  free(o->tmp);
  free(o);
}

static char *dup_str(const char *s) {
  char *d = strdup(s);
  if (!d) {
    fputs("error: out of memory\n", stderr);
    exit(3);
  }
  return d;
}

/* The folder of path ("." when it names none). Owned by the caller. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return dup_str(".");
  if (slash == path) return dup_str("/");
  char *d = dup_str(path);
  d[slash - path] = 0;
  return d;
}

/* Follows symbolic links from path to the name they end at, which may not exist yet (a
 * dangling link, whose target is then created). A relative link is read from its folder.
 * OUT *final (owned by the caller). 0, or an errno (ELOOP after 40 links). */
static int follow_links(const char *path, char **final) {
  char *cur = dup_str(path);
  for (int hops = 0;; hops++) {
    struct stat st;
    if (lstat(cur, &st)) {
      if (errno == ENOENT) break;
      int e = errno;
      free(cur);
      return e;
    }
    if (!S_ISLNK(st.st_mode)) break;
    char to[PATH_MAX];
    ssize_t n = hops < 40 ? readlink(cur, to, sizeof to - 1) : -1;
    if (n < 0) {
      int e = hops < 40 ? errno : ELOOP;
      free(cur);
      return e;
    }
    to[n] = 0;
    char *next;
    if (to[0] == '/') {
      next = dup_str(to);
    } else {
      char *dir = dir_of(cur);
      size_t len = strlen(dir) + strlen(to) + 2;
      next = malloc(len);
      if (!next) exit(3);
      if (strchr(cur, '/')) snprintf(next, len, "%s/%s", dir, to);
      else snprintf(next, len, "%s", to); /* a link in the current folder */
      free(dir);
    }
    free(cur);
    cur = next;
  }
  *final = cur;
  return 0;
}

/* Fails unless the folder of target exists and takes new files. */
static int check_folder(const cli_out *o, const char *target) {
  char nb[PATH_MAX + 8], via[PATH_MAX + 32] = "";
  if (strcmp(target, o->path)) snprintf(via, sizeof via, " (a link to '%s')", target);
  char *dir = dir_of(target);
  struct stat st;
  int rc = 0;
  if (stat(dir, &st))
    rc = errno == ENOENT ? cli_fail("cannot write %s%s: folder '%s' does not exist",
                                    out_name(o, nb, sizeof nb), via, dir)
                         : cli_fail("cannot write %s%s: folder '%s': %s",
                                    out_name(o, nb, sizeof nb), via, dir, strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    rc = cli_fail("cannot write %s%s: '%s' is not a folder", out_name(o, nb, sizeof nb), via, dir);
  else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS))
    rc = cli_fail("cannot write %s%s: cannot create files in folder '%s' (%s)",
                  out_name(o, nb, sizeof nb), via, dir, strerror(errno));
  free(dir);
  return rc;
}

cli_out *cli_out_new(const char *path) {
  cli_out *o = calloc(1, sizeof *o);
  if (!o) exit(3);
  o->path = dup_str(path);
  o->slot = o->fd = -1;
  char nb[PATH_MAX + 8];
  if (!*path) {
    cli_fail("cannot write '': give a file name, or - for standard output");
    out_free(o);
    return NULL;
  }
  struct stat st, so;
  if (!strcmp(path, "-")) {
    o->kind = OUT_STDOUT;
    o->fd = STDOUT_FILENO;
    return o;
  }
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      cli_fail("cannot write %s: it is a folder; give a file name", out_name(o, nb, sizeof nb));
      out_free(o);
      return NULL;
    }
    /* /dev/stdout, /proc/self/fd/1, or the very file the shell redirected us to: written as
     * standard output, so `>>` appends and a terminal or pipe is not replaced */
    if (fstat(STDOUT_FILENO, &so) == 0 && so.st_dev == st.st_dev && so.st_ino == st.st_ino) {
      o->kind = OUT_STDOUT;
      o->fd = STDOUT_FILENO;
      return o;
    }
    if (!S_ISREG(st.st_mode)) {
      o->kind = OUT_DIRECT;
      o->target = dup_str(path);
      if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS)) {
        cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
        out_free(o);
        return NULL;
      }
      return o;
    }
    o->existed = 1;
    o->mode = st.st_mode & 07777;
    o->uid = st.st_uid;
    o->gid = st.st_gid;
  } else if (errno != ENOENT) {
    cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
    out_free(o);
    return NULL;
  }
  /* a regular file, a new name, or a dangling link: replaced (or made) atomically */
  o->kind = OUT_REPLACE;
  int e = follow_links(path, &o->target);
  if (e) {
    cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(e));
    out_free(o);
    return NULL;
  }
  /* a read-only file is kept, as `cp` would keep it, though its folder would let us rename */
  int rc = 0;
  if (o->existed && faccessat(AT_FDCWD, o->target, W_OK, AT_EACCESS))
    rc = cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
  else rc = check_folder(o, o->target);
  if (rc) {
    out_free(o);
    return NULL;
  }
  return o;
}

/* ---- writing ------------------------------------------------------------------------------ */
FILE *cli_out_begin(cli_out *o) {
  char nb[PATH_MAX + 8];
  if (o->kind == OUT_STDOUT) {
    fflush(stdout); /* what the command printed before comes first */
  } else if (o->kind == OUT_DIRECT) {
    /* a FIFO waits here for its reader, as `echo > fifo` does */
    o->fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (o->fd < 0) {
      cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
      out_free(o);
      return NULL;
    }
  } else {
    size_t len = strlen(o->target) + 48;
    o->tmp = malloc(len);
    if (!o->tmp) exit(3);
    for (int n = 0; o->fd < 0 && n < 100; n++) {
      if (n) snprintf(o->tmp, len, "%s.tmp.%ld.%d", o->target, (long)getpid(), n);
      else snprintf(o->tmp, len, "%s.tmp.%ld", o->target, (long)getpid());
      /* registered before it exists, so no signal can fall between creation and registry */
      o->slot = claim_slot(o->tmp);
      if (o->slot < 0) {
        errno = ENAMETOOLONG;
        break;
      }
      o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, o->existed ? o->mode : 0666);
      if (o->fd < 0) {
        int e = errno;
        free_slot(o->slot);
        o->slot = -1;
        errno = e;
        if (e != EEXIST) break;
      }
    }
    if (o->fd < 0) {
      cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
      out_free(o);
      return NULL;
    }
    if (o->existed) {
      /* the replacement keeps the old file's permissions (not the umask's) and, for root,
       * its owner; failing either leaves a file we own with our umask, which is still safe */
      if (fchmod(o->fd, o->mode)) {
      }
      if (geteuid() == 0 && fchown(o->fd, o->uid, o->gid)) {
      }
    }
  }
  o->f = out_stream(o);
  if (!o->f) {
    cli_fail("cannot write %s: %s", out_name(o, nb, sizeof nb), strerror(errno));
    cli_out_abort(o);
    return NULL;
  }
  return o->f;
}

void cli_out_abort(cli_out *o) {
  if (!o) return;
  o->discard = 1;
  if (o->f) fclose(o->f);
  if (o->tmp && o->fd >= 0) unlink(o->tmp);
  free_slot(o->slot);
  if (o->fd >= 0 && o->kind != OUT_STDOUT) close(o->fd);
  out_free(o);
}

/* Flushes o's stream and, for a temp file, puts it on disk. 0, or an errno. */
static int out_finish(cli_out *o) {
  if (!o->f) return EBADF;
  if (fflush(o->f) && !o->err) o->err = errno ? errno : EIO;
  if (!o->err && ferror(o->f)) o->err = EIO;
  if (!o->err && o->kind == OUT_REPLACE && fsync(o->fd)) o->err = errno;
  return o->err;
}

int cli_out_commit(cli_out *const *outs, int n) {
  char nb[PATH_MAX + 8];
  int bad = -1, e = 0;
  for (int i = 0; i < n && bad < 0; i++)
    if ((e = out_finish(outs[i]))) bad = i;
  for (int i = 0; i < n && bad < 0; i++) {
    cli_out *o = outs[i];
    o->discard = 1; /* flushed: fclose writes nothing more */
    fclose(o->f);
    o->f = NULL;
    if (o->kind == OUT_STDOUT) continue;
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) || (o->kind == OUT_REPLACE && rename(o->tmp, o->target))) {
      e = errno;
      bad = i;
      if (o->kind == OUT_REPLACE) unlink(o->tmp);
      break;
    }
    if (o->kind == OUT_REPLACE) {
      free_slot(o->slot);
      o->slot = -1;
      /* the rename on disk too; best effort (some file systems refuse fsync on a folder, and
       * the output is complete either way) */
      char *dir = dir_of(o->target);
      int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        if (fsync(dfd)) {
        }
        close(dfd);
      }
      free(dir);
    }
  }
  if (bad >= 0) cli_fail("cannot write %s: %s", out_name(outs[bad], nb, sizeof nb), strerror(e));
  for (int i = 0; i < n; i++) cli_out_abort(outs[i]);
  return bad >= 0 ? 2 : 0;
}

/* ---- folders (replay --out DIR) ----------------------------------------------------------- */
int cli_out_check_dir(const char *dir, int *exists) {
  struct stat st;
  *exists = 0;
  if (!*dir || !strcmp(dir, "-")) return cli_fail("--out takes a folder name, not '%s'", dir);
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return cli_fail("cannot write to '%s': it is not a folder", dir);
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS))
      return cli_fail("cannot create files in folder '%s': %s", dir, strerror(errno));
    *exists = 1;
    return 0;
  }
  if (errno != ENOENT) return cli_fail("cannot write to '%s': %s", dir, strerror(errno));
  char *parent = dir_of(dir);
  int rc = 0;
  if (stat(parent, &st))
    rc = cli_fail("cannot create folder '%s': folder '%s' does not exist", dir, parent);
  else if (!S_ISDIR(st.st_mode))
    rc = cli_fail("cannot create folder '%s': '%s' is not a folder", dir, parent);
  else if (faccessat(AT_FDCWD, parent, W_OK | X_OK, AT_EACCESS))
    rc = cli_fail("cannot create folder '%s': %s", dir, strerror(errno));
  free(parent);
  return rc;
}

int cli_out_make_dir(const char *dir) {
  if (mkdir(dir, 0777) && errno != EEXIST)
    return cli_fail("cannot create folder '%s': %s", dir, strerror(errno));
  return 0;
}

/* ---- the process's standard output ------------------------------------------------------ */
/* Installs the handlers: SIGINT, SIGTERM and SIGHUP remove temp files and die of the signal
 * (one the parent ignores, as nohup ignores SIGHUP, stays ignored); SIGPIPE is ignored, so a
 * closed pipe is an EPIPE that out_write turns into broken_pipe(). */
static void install_signals(void) {
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old, sa;
    if (sigaction(sigs[i], NULL, &old) || old.sa_handler == SIG_IGN) continue;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t j = 0; j < sizeof sigs / sizeof sigs[0]; j++) sigaddset(&sa.sa_mask, sigs[j]);
    sigaction(sigs[i], &sa, NULL);
  }
  signal(SIGPIPE, SIG_IGN);
}

cli_out *cli_stdout_begin(FILE **saved) {
  install_signals();
  /* a closed descriptor 1 would be reused by the next open() (a temp file would then receive
   * our standard output): hold it with /dev/null opened read-only, so writes fail with EBADF */
  if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fd != STDOUT_FILENO) close(fd);
  }
  cli_out *o = cli_out_new("-");
  if (!o || !cli_out_begin(o)) return NULL;
  *saved = stdout;
  /* glibc documents stdout as an ordinary variable that may be assigned; printf, puts and
   * every other writer of the process's standard output then go through out_write */
  stdout = o->f;
  return o;
}

int cli_stdout_end(cli_out *o, FILE *saved, int rc) {
  if (!o) return rc;
  int e = out_finish(o);
  stdout = saved;
  o->discard = 1;
  fclose(o->f);
  o->f = NULL;
  out_free(o);
  if (e && rc == 0) rc = cli_fail("cannot write <stdout>: %s", strerror(e));
  return rc;
}
