/* mem.c — the one place wanka takes memory from the system, and the arena built on it.
 * Out of memory is reported with the caller's file:line (Redis zmalloc's rule): a NULL never
 * travels up the stack. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void wk_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, expr);
  abort();
}

static _Noreturn void oom(size_t n, const char *file, int line) {
  fprintf(stderr, "%s:%d: error: out of memory allocating %zu bytes\n", file, line, n);
  exit(3);
}

void *wk_malloc_at(size_t n, const char *file, int line) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n, file, line);
  return p;
}

void *wk_calloc_at(size_t n, size_t sz, const char *file, int line) {
  void *p = calloc(n ? n : 1, sz ? sz : 1);
  if (!p) oom(n * sz, file, line);
  return p;
}

void *wk_calloc_lines_at(size_t n, size_t sz, const char *file, int line) {
  void *p = NULL;
  if (sz && n > SIZE_MAX / sz) oom(SIZE_MAX, file, line);
  size_t bytes = n && sz ? n * sz : 1;
  if (posix_memalign(&p, 64, bytes)) oom(bytes, file, line);
  return memset(p, 0, bytes);
}

void *wk_realloc_at(void *p, size_t n, const char *file, int line) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n, file, line);
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
    b = wk_malloc(sizeof(block) + size);
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
