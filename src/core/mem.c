/* mem.c — the one place wanka takes memory from the system, and the arena built on it.
 * Out of memory is reported at the one place (Redis zmalloc's rule: a NULL never travels up
 * the stack), as what the caller's module was building and what shrinks it. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

_Noreturn void wk_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, expr);
  abort();
}

/* What the code in each module builds, and what makes it smaller: an allocation that fails
 * names these, since a user can act on neither a source file nor a line. Keyed by the source
 * folder of the caller (its __FILE__), so the one allocator needs no context passed in. */
static const struct {
  const char *dir, *what, *fix;
} oom_hints[] = {
    {"src/hw/", "the cluster model", "a cluster with fewer nodes"},
    {"src/net/", "the flow engine of a level 1 or 2 run",
     "--level 0, fewer --cards, or a cluster with fewer nodes"},
    {"src/coll/", "the flows of a collective", "fewer --cards, a lower --level or smaller --sizes"},
    {"src/work/", "the training or science model", "fewer --cards or a lower --level"},
    {"src/trace/", "the job trace", "a shorter trace (trace gen: fewer --days or --cards)"},
    {"src/sched/", "the scheduler's queues", "a shorter trace"},
    {"src/replay/", "the replay's jobs and time series", "a shorter trace or a longer --sample"},
    {"src/report/", "a report", "a smaller run"},
    {"src/cli/", "the command's results", "fewer --cards, --sizes or --top"},
};

/* Reports the failure as one line saying what was being built and what shrinks it (never a
 * source path), and exits 3. */
_Noreturn void wk_oom_at(size_t n, const char *file, int line) {
  (void)line;
  const char *what = "the model", *fix = "a smaller cluster, fewer cards or a shorter trace";
  for (size_t i = 0; i < sizeof oom_hints / sizeof oom_hints[0]; i++)
    if (strstr(file, oom_hints[i].dir)) {
      what = oom_hints[i].what;
      fix = oom_hints[i].fix;
      break;
    }
  fprintf(stderr,
          "error: out of memory building %s (%.3g GiB more could not be allocated): use %s\n",
          what, (double)n / 1073741824.0, fix);
  exit(3);
}

void *wk_malloc_at(size_t n, const char *file, int line) {
  void *p = malloc(n ? n : 1);
  if (!p) wk_oom_at(n, file, line);
  return p;
}

void *wk_calloc_at(size_t n, size_t sz, const char *file, int line) {
  void *p = calloc(n ? n : 1, sz ? sz : 1);
  if (!p) wk_oom_at(n * sz, file, line);
  return p;
}

/* Memory of `bytes` for a large table read at random (or filled once): from 2 MiB on, aligned to
 * and rounded up to 2 MiB and marked for transparent huge pages, so that first touches fault a
 * page per 2 MiB, not per 4 KiB (a month's replay took 178,000 faults, 4 % of its time, each a
 * trap to the hypervisor here), and random reads miss the TLB less. Freed by wk_free. */
#define BIG_PAGE ((size_t)2 << 20)
static void *alloc_big(size_t bytes, size_t align, const char *file, int line) {
  void *p = NULL;
  if (bytes >= BIG_PAGE) {
    size_t r = (bytes + BIG_PAGE - 1) & ~(BIG_PAGE - 1);
    if (posix_memalign(&p, BIG_PAGE, r)) wk_oom_at(bytes, file, line);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, r, MADV_HUGEPAGE); /* advice: without it, small pages */
#endif
    return p;
  }
  if (posix_memalign(&p, align, bytes ? bytes : 1)) wk_oom_at(bytes, file, line);
  return p;
}

void *wk_malloc_big_at(size_t n, const char *file, int line) { return alloc_big(n, 16, file, line); }

void *wk_calloc_lines_at(size_t n, size_t sz, const char *file, int line) {
  if (sz && n > SIZE_MAX / sz) wk_oom_at(SIZE_MAX, file, line);
  size_t bytes = n && sz ? n * sz : 1;
  return memset(alloc_big(bytes, 64, file, line), 0, bytes);
}

void *wk_realloc_at(void *p, size_t n, const char *file, int line) {
  void *q = realloc(p, n ? n : 1);
  if (!q) wk_oom_at(n, file, line);
  return q;
}

char *wk_strdup_at(const char *s, const char *file, int line) {
  size_t n = strlen(s) + 1;
  char *d = wk_malloc_at(n, file, line);
  memcpy(d, s, n);
  return d;
}

void wk_free(void *p) { free(p); }

double wk_memory_limit(void) {
  const char *env = getenv("WANKA_MAX_MODEL_BYTES");
  double v;
  if (env && wk_parse_double(env, &v) == 0 && v > 0) return v;
  double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  return phys > 0 ? phys / 2 : 8.0 * 1073741824.0;
}

/* ---- arena ---- */
typedef struct block {
  struct block *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} block;

struct wk_arena {
  block *head;
  size_t next_size, reserved;
};

wk_arena *wk_arena_new(size_t first_block_bytes) {
  wk_arena *a = wk_calloc(1, sizeof *a);
  a->next_size = first_block_bytes < 4096 ? 4096 : first_block_bytes;
  return a;
}

void *wk_arena_alloc(wk_arena *a, size_t bytes) {
  size_t need = (bytes + 15) & ~(size_t)15;
  block *b = a->head;
  if (!b || b->size - b->used < need) {
    size_t size = a->next_size;
    while (size < need) size *= 2;
    b = wk_malloc_big(sizeof(block) + size);
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->reserved += size;
    if (a->next_size < ((size_t)1 << 28)) a->next_size *= 2;
  }
  void *p = b->data + b->used;
  b->used += need;
  memset(p, 0, bytes);
  return p;
}

char *wk_arena_strdup(wk_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = wk_arena_alloc(a, n);
  memcpy(d, s, n);
  return d;
}

size_t wk_arena_bytes(const wk_arena *a) { return a->reserved; }

void wk_arena_free(wk_arena *a) {
  if (!a) return;
  for (block *b = a->head, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  free(a);
}
