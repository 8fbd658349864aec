/* exec.c — points run in worker processes, one point at a time each, `slots` workers at once.
 * A worker is forked once and then runs point after point: fork and exit cost 1.7 ms of CPU
 * and 3.5 ms of wall time on the 2-core development VM, more than the whole 5 ms budget of a
 * point's overhead, while the commands keep no global state between runs (STYLE rule 3), so a
 * process can run many. A point still cannot harm the sweep: whatever kills its worker (a
 * crash, an exit on out of memory, kill -9) ends that worker only; the point is classified by
 * how the worker died, and the slot gets a new worker for its next point. */
#define _GNU_SOURCE
#include "sweep_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SW_ERR_KEEP 8192 /* bytes of a point's stderr kept for its error */

typedef struct sw_child {
  pid_t pid;  /* the worker, 0 when the slot has none (started on its next point) */
  int cmd;    /* socket: the points to run go in (8 bytes each) */
  int fd[2];  /* results: [i32 exit code][u32 length][JSON]; stderr; -1 once at end of file */
  char *buf[2]; /* what each said for the point in hand */
  size_t len[2], cap[2];
  int busy; /* running `point` */
  uint64_t point;
  double t0;
  int timed_out;
} sw_child;

struct sw_pool {
  const sweep_spec *s;
  const sweep_host *h;
  int slots, busy;
  sw_child *c;
  struct pollfd *pf; /* 2 a slot, for poll() */
  int *who;          /* slot * 2 + which pipe, for each pf entry */
  double limit_bytes; /* WANKA_MAX_MODEL_BYTES for each worker: this machine's share */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static _Noreturn void die(const char *what) {
  fprintf(stderr, "error: %s: %s\n", what, strerror(errno));
  exit(3);
}

sw_pool *sw_pool_new(const sweep_spec *s, const sweep_host *h, int slots) {
  WK_ASSERT(slots >= 1);
  sw_pool *p = wk_calloc(1, sizeof *p);
  p->s = s;
  p->h = h;
  p->slots = slots;
  p->c = wk_calloc((size_t)slots, sizeof *p->c);
  for (int i = 0; i < slots; i++) p->c[i].fd[0] = p->c[i].fd[1] = p->c[i].cmd = -1;
  p->pf = wk_calloc(2 * (size_t)slots, sizeof *p->pf);
  p->who = wk_calloc(2 * (size_t)slots, sizeof *p->who);
  /* Every point checks its models against the memory limit (half of physical memory by
   * default); with several points at once on one machine (-j, and MPI ranks sharing a node,
   * which MPICH's launcher says in MPI_LOCALNRANKS) each gets its share, so that together they
   * stay within it and a point too large is refused with a message, not killed. */
  const char *local = getenv("MPI_LOCALNRANKS");
  long ranks = local ? strtol(local, NULL, 10) : 1;
  if (ranks < 1) ranks = 1;
  p->limit_bytes = getenv("WANKA_MAX_MODEL_BYTES") ? 0
                                                   : wk_memory_limit() / (double)(slots * ranks);
  return p;
}

static void clear_point(sw_child *c) {
  for (int k = 0; k < 2; k++) {
    free(c->buf[k]);
    c->buf[k] = NULL;
    c->len[k] = c->cap[k] = 0;
  }
  c->busy = 0;
  c->timed_out = 0;
}

/* The worker is gone (or must go): closes its channels and reaps it. OUT *status. */
static void end_worker(sw_child *c, int *status) {
  for (int k = 0; k < 2; k++) {
    if (c->fd[k] >= 0) close(c->fd[k]);
    c->fd[k] = -1;
  }
  if (c->cmd >= 0) close(c->cmd);
  c->cmd = -1;
  int st = 0;
  if (c->pid) {
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (status) *status = st;
  c->pid = 0;
}

void sw_pool_free(sw_pool *p) {
  if (!p) return;
  for (int i = 0; i < p->slots; i++) {
    sw_child *c = &p->c[i];
    if (c->pid) kill(c->pid, SIGKILL);
    end_worker(c, NULL);
    clear_point(c);
  }
  wk_free(p->c);
  wk_free(p->pf);
  wk_free(p->who);
  wk_free(p);
}

int sw_pool_free_slots(const sw_pool *p) { return p->slots - p->busy; }
int sw_pool_busy(const sw_pool *p) { return p->busy; }

static int write_all(int fd, const void *buf, size_t n) {
  const char *b = buf;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The worker: reads point numbers, runs each, writes its framed result; ends when the
 * coordinator closes the socket (or dies: PDEATHSIG). */
static _Noreturn void worker(sw_pool *p, int cmd, int out, int err, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* an interrupted sweep leaves no point running */
  if (getppid() != parent) _exit(1);
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0 && null != 0) {
    dup2(null, 0);
    close(null);
  }
  dup2(err, 2);
  close(err);
  if (p->limit_bytes > 0) {
    char v[32];
    snprintf(v, sizeof v, "%.0f", p->limit_bytes);
    setenv("WANKA_MAX_MODEL_BYTES", v, 1);
  }
  for (;;) {
    uint64_t point;
    size_t got = 0;
    while (got < sizeof point) {
      ssize_t r = read(cmd, (char *)&point + got, sizeof point - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) _exit(0); /* no more points */
      got += (size_t)r;
    }
    int argc;
    char **argv = sweep_point_argv(p->s, point, &argc);
    char *json = NULL;
    int32_t rc = p->h->run(p->h->ctx, argc, argv, &json);
    sweep_argv_free(argv, argc);
    fflush(stderr); /* the point's error lines before its result (exec.c reads both) */
    uint32_t n = json ? (uint32_t)strlen(json) : 0;
    char head[8];
    memcpy(head, &rc, 4);
    memcpy(head + 4, &n, 4);
    if (write_all(out, head, 8) || (n && write_all(out, json, n))) _exit(1);
    free(json);
  }
}

/* Starts a worker in slot c. */
static void spawn(sw_pool *p, sw_child *c) {
  int sv[2], po[2], pe[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) die("cannot start a sweep worker");
  if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) die("cannot start a sweep worker");
  fflush(NULL); /* the worker must not inherit (and later write) our buffered output */
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) die("cannot start a sweep worker");
  if (pid == 0) {
    /* only this slot's channels stay open here: another worker's end of file must not wait
     * for this one */
    for (int i = 0; i < p->slots; i++) {
      sw_child *o = &p->c[i];
      if (o == c) continue;
      for (int k = 0; k < 2; k++)
        if (o->fd[k] >= 0) close(o->fd[k]);
      if (o->cmd >= 0) close(o->cmd);
    }
    close(sv[0]);
    close(po[0]);
    close(pe[0]);
    worker(p, sv[1], po[1], pe[1], parent);
  }
  close(sv[1]);
  close(po[1]);
  close(pe[1]);
  c->pid = pid;
  c->cmd = sv[0];
  c->fd[0] = po[0];
  c->fd[1] = pe[0];
  for (int k = 0; k < 2; k++) fcntl(c->fd[k], F_SETFL, O_NONBLOCK);
}

void sw_pool_start(sw_pool *p, uint64_t point) {
  sw_child *c = NULL;
  for (int i = 0; i < p->slots && !c; i++)
    if (!p->c[i].busy) c = &p->c[i];
  WK_ASSERT(c);
  for (int tries = 0;; tries++) {
    if (!c->pid) spawn(p, c);
    /* MSG_NOSIGNAL: a worker that died while idle is an EPIPE here, not a SIGPIPE */
    if (send(c->cmd, &point, sizeof point, MSG_NOSIGNAL) == (ssize_t)sizeof point) break;
    if (tries) die("cannot hand a point to a new sweep worker");
    end_worker(c, NULL); /* died between points: start another */
  }
  c->busy = 1;
  c->point = point;
  c->t0 = now_s();
  p->busy++;
}

/* Reads what is there on c->fd[k]; closes it at end of file. */
static void drain(sw_child *c, int k) {
  for (;;) {
    if (c->cap[k] - c->len[k] < 4096) {
      if (k == 1 && c->len[k] >= SW_ERR_KEEP) { /* stderr: keep the start, drop the rest */
        char junk[4096];
        ssize_t r = read(c->fd[k], junk, sizeof junk);
        if (r > 0 || (r < 0 && errno == EINTR)) continue;
        if (r == 0 || errno != EAGAIN) close(c->fd[k]), c->fd[k] = -1;
        return;
      }
      c->cap[k] = c->cap[k] ? 2 * c->cap[k] : 8192;
      char *nb = realloc(c->buf[k], c->cap[k]);
      if (!nb) die("reading a sweep point's output");
      c->buf[k] = nb;
    }
    ssize_t r = read(c->fd[k], c->buf[k] + c->len[k], c->cap[k] - c->len[k] - 1);
    if (r > 0) {
      c->len[k] += (size_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || errno != EAGAIN) {
      close(c->fd[k]);
      c->fd[k] = -1;
    }
    return;
  }
}

/* The first line of what the point said on stderr, without "error: ", or NULL. */
static char *first_error_line(sw_child *c) {
  if (!c->len[1]) return NULL;
  c->buf[1][c->len[1]] = 0;
  char *s = c->buf[1];
  while (*s == '\n') s++;
  if (!strncmp(s, "error: ", 7)) s += 7;
  size_t n = strcspn(s, "\n");
  if (!n) return NULL;
  char *e = wk_malloc(n + 1);
  memcpy(e, s, n);
  e[n] = 0;
  return e;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  if (vasprintf(&s, f, ap) < 0) s = NULL;
  va_end(ap);
  if (!s) die("formatting a sweep point's result");
  return s;
}

/* A point whose command returned rc and printed json[0, n). */
static void finished(sw_child *c, int rc, const char *json, size_t n, sw_result *res) {
  char *why = first_error_line(c);
  if (rc) {
    res->kind = SW_FAILED;
    res->text = why ? fmt("%s", why) : fmt("exited with status %d and no message", rc);
  } else {
    json_error_t je;
    json_t *o = n ? json_loadb(json, n, 0, &je) : NULL;
    if (o && json_is_object(o)) {
      res->kind = SW_OK;
      char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
      res->text = fmt("%s", t ? t : "{}");
      free(t);
    } else {
      res->kind = SW_FAILED;
      res->text = n ? fmt("printed no JSON object (%s at line %d)", o ? "not an object"
                          : je.text, o ? 1 : je.line)
                    : fmt("printed nothing on standard output");
    }
    json_decref(o);
  }
  wk_free(why);
}

/* A worker that died running its point: how it died says what became of the point. */
static void died(const sw_pool *p, sw_child *c, int status, sw_result *res) {
  char *why = first_error_line(c);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (c->timed_out) {
      res->kind = SW_FAILED;
      res->text = fmt("timed out after %g s (the SPEC's timeout)", sweep_timeout_s(p->s));
    } else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      res->kind = SW_INTERRUPTED;
      res->text = fmt("interrupted (%s)", strsignal(sig));
    } else {
      res->kind = SW_DIED;
      res->text = fmt("its process died: %s (signal %d)%s%s", strsignal(sig), sig,
                      why ? ": " : "", why ? why : "");
    }
  } else { /* exit() inside the command: out of memory (exit 3) or a bug */
    res->kind = SW_FAILED;
    res->text = why ? fmt("%s", why)
                    : fmt("its process exited with status %d and no message",
                          WEXITSTATUS(status));
  }
  wk_free(why);
}

/* Slot c's point is done when its frame is whole: 1 and *res. */
static int frame_done(sw_child *c, sw_result *res) {
  if (c->len[0] < 8) return 0;
  int32_t rc;
  uint32_t n;
  memcpy(&rc, c->buf[0], 4);
  memcpy(&n, c->buf[0] + 4, 4);
  if (c->len[0] < 8 + (size_t)n) return 0;
  /* its stderr was written before the frame: all of it is in the pipe now */
  if (c->fd[1] >= 0) drain(c, 1);
  finished(c, rc, c->buf[0] + 8, n, res);
  return 1;
}

int sw_pool_wait(sw_pool *p, int timeout_ms, sw_result *res) {
  double limit = sweep_timeout_s(p->s), t_end = timeout_ms < 0 ? -1 : now_s() + timeout_ms / 1e3;
  for (;;) {
    for (int i = 0; i < p->slots; i++) {
      sw_child *c = &p->c[i];
      if (!c->busy) continue;
      int done = frame_done(c, res), status = 0;
      if (!done && c->fd[0] < 0 && c->fd[1] < 0) { /* the worker died under its point */
        end_worker(c, &status);
        died(p, c, status, res);
        done = 1;
      }
      if (!done) continue;
      res->point = c->point;
      res->wall_s = now_s() - c->t0;
      clear_point(c);
      p->busy--;
      return 1;
    }
    if (!p->busy) return 0;
    struct pollfd *pf = p->pf;
    int *who = p->who, n = 0;
    double now = now_s(), wait_s = t_end < 0 ? 1e9 : t_end - now;
    for (int i = 0; i < p->slots; i++) {
      sw_child *c = &p->c[i];
      if (!c->busy) continue;
      if (limit > 0 && !c->timed_out) {
        if (now - c->t0 >= limit) {
          kill(c->pid, SIGKILL);
          c->timed_out = 1;
        } else if (c->t0 + limit - now < wait_s) {
          wait_s = c->t0 + limit - now;
        }
      }
      for (int k = 0; k < 2; k++)
        if (c->fd[k] >= 0) {
          pf[n] = (struct pollfd){c->fd[k], POLLIN, 0};
          who[n++] = i * 2 + k;
        }
    }
    if (wait_s < 0) wait_s = 0;
    int ms = wait_s > 1e6 ? -1 : (int)(wait_s * 1e3 + 0.999);
    int r = poll(pf, (nfds_t)n, ms);
    if (r < 0 && errno != EINTR) die("waiting for sweep points");
    for (int q = 0; q < n && r > 0; q++)
      if (pf[q].revents) drain(&p->c[who[q] / 2], who[q] % 2);
    if (r == 0 && t_end >= 0 && now_s() >= t_end) return 0;
  }
}
