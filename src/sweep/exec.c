/* exec.c — points run in child processes, up to `slots` at once: each point is forked from the
 * coordinator (or from an MPI worker rank), runs the host's command there and prints its JSON
 * on a pipe. A child per point isolates what a point can do to a process — crash, exit on out
 * of memory, leak, leave state behind — so a failed point is recorded and the sweep goes on.
 * fork() of a process this size costs well under a millisecond (bench/sweep measures it). */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SW_ERR_KEEP 8192 /* bytes of a point's stderr kept for its error */

typedef struct sw_child {
  pid_t pid; /* 0: the slot is free */
  uint64_t point;
  int fd[2];        /* stdout (its JSON), stderr; -1 once at end of file */
  char *buf[2];     /* what each said */
  size_t len[2], cap[2];
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
  double limit_bytes; /* WANKA_MAX_MODEL_BYTES for each child: this machine's share */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sw_pool *sw_pool_new(const sweep_spec *s, const sweep_host *h, int slots) {
  WK_ASSERT(slots >= 1);
  sw_pool *p = wk_calloc(1, sizeof *p);
  p->s = s;
  p->h = h;
  p->slots = slots;
  p->c = wk_calloc((size_t)slots, sizeof *p->c);
  for (int i = 0; i < slots; i++) p->c[i].fd[0] = p->c[i].fd[1] = -1;
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

static void reset(sw_child *c) {
  for (int k = 0; k < 2; k++) {
    if (c->fd[k] >= 0) close(c->fd[k]);
    c->fd[k] = -1;
    free(c->buf[k]);
    c->buf[k] = NULL;
    c->len[k] = c->cap[k] = 0;
  }
  c->pid = 0;
  c->timed_out = 0;
}

void sw_pool_free(sw_pool *p) {
  if (!p) return;
  for (int i = 0; i < p->slots; i++) {
    sw_child *c = &p->c[i];
    if (!c->pid) continue;
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    reset(c);
  }
  wk_free(p->c);
  wk_free(p->pf);
  wk_free(p->who);
  wk_free(p);
}

int sw_pool_free_slots(const sw_pool *p) { return p->slots - p->busy; }
int sw_pool_busy(const sw_pool *p) { return p->busy; }

/* In the child: runs the point and ends the process with the command's exit code. */
static _Noreturn void child(sw_pool *p, uint64_t point, int out, int err, pid_t parent) {
  /* die with the coordinator: an interrupted sweep leaves no point running */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
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
  int argc;
  char **argv = sweep_point_argv(p->s, point, &argc);
  char *json = NULL;
  int rc = p->h->run(p->h->ctx, argc, argv, &json);
  if (json) {
    size_t n = strlen(json), done = 0;
    while (done < n) {
      ssize_t w = write(out, json + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += (size_t)w;
    }
  }
  _exit(rc & 0xff); /* no exit handlers, no stdio flush: the parent's buffers are not ours */
}

void sw_pool_start(sw_pool *p, uint64_t point) {
  sw_child *c = NULL;
  for (int i = 0; i < p->slots && !c; i++)
    if (!p->c[i].pid) c = &p->c[i];
  WK_ASSERT(c);
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
    perror("error: cannot make a pipe for a sweep point");
    exit(3);
  }
  fflush(NULL); /* the child must not inherit (and later write) our buffered output */
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) {
    perror("error: cannot start a process for a sweep point");
    exit(3);
  }
  if (pid == 0) {
    close(po[0]);
    close(pe[0]);
    child(p, point, po[1], pe[1], parent);
  }
  close(po[1]);
  close(pe[1]);
  c->pid = pid;
  c->point = point;
  c->fd[0] = po[0];
  c->fd[1] = pe[0];
  for (int k = 0; k < 2; k++) fcntl(c->fd[k], F_SETFL, O_NONBLOCK);
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
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        if (r == 0 || errno != EAGAIN) close(c->fd[k]), c->fd[k] = -1;
        return;
      }
      c->cap[k] = c->cap[k] ? 2 * c->cap[k] : 8192;
      char *nb = realloc(c->buf[k], c->cap[k]);
      if (!nb) {
        fputs("error: out of memory reading a sweep point's output\n", stderr);
        exit(3);
      }
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
  if (!s) {
    fputs("error: out of memory\n", stderr);
    exit(3);
  }
  return s;
}

/* What a finished child's status and output make of its point. */
static void classify(const sw_pool *p, sw_child *c, int status, sw_result *res) {
  res->point = c->point;
  res->wall_s = now_s() - c->t0;
  res->text = NULL;
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
  } else if (WEXITSTATUS(status)) {
    res->kind = SW_FAILED;
    res->text = why ? fmt("%s", why)
                    : fmt("exited with status %d and no message", WEXITSTATUS(status));
  } else {
    json_error_t je;
    json_t *o = c->len[0] ? json_loadb(c->buf[0], c->len[0], 0, &je) : NULL;
    if (o && json_is_object(o)) {
      res->kind = SW_OK;
      char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
      res->text = fmt("%s", t ? t : "{}");
      free(t);
    } else {
      res->kind = SW_FAILED;
      res->text = c->len[0] ? fmt("printed no JSON object (%s at line %d)", o ? "not an object"
                                  : je.text, o ? 1 : je.line)
                            : fmt("printed nothing on standard output");
    }
    json_decref(o);
  }
  wk_free(why);
}

int sw_pool_wait(sw_pool *p, int timeout_ms, sw_result *res) {
  double limit = sweep_timeout_s(p->s), t_end = timeout_ms < 0 ? -1 : now_s() + timeout_ms / 1e3;
  for (;;) {
    /* a child whose pipes are both closed has exited, or is about to */
    for (int i = 0; i < p->slots; i++) {
      sw_child *c = &p->c[i];
      if (!c->pid || c->fd[0] >= 0 || c->fd[1] >= 0) continue;
      int status;
      while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
      }
      classify(p, c, status, res);
      reset(c);
      p->busy--;
      return 1;
    }
    if (!p->busy) return 0;
    struct pollfd *pf = p->pf;
    int *who = p->who, n = 0;
    double now = now_s(), wait_s = t_end < 0 ? 1e9 : t_end - now;
    for (int i = 0; i < p->slots; i++) {
      sw_child *c = &p->c[i];
      if (!c->pid) continue;
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
    if (r < 0 && errno != EINTR) {
      perror("error: poll");
      exit(3);
    }
    for (int q = 0; q < n && r > 0; q++)
      if (pf[q].revents) drain(&p->c[who[q] / 2], who[q] % 2);
    if (r == 0 && t_end >= 0 && now_s() >= t_end) return 0;
  }
}
