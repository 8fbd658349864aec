/* core — the base every wanka module stands on: int64-nanosecond time, checked allocation,
 * arenas, seeded RNG streams, the (time, sequence) event queue, error values that carry
 * path:line:col, and size/duration parsing. No global mutable state: every object here is
 * owned by its caller, so two simulations can live in one process. */
#ifndef WK_CORE_H
#define WK_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time ------------------------------------------------------------------------------ */
/* Simulated time in integer nanoseconds: 2^63 ns is 292 years, and integer time keeps event
 * order exact (no float ties that differ between builds). */
typedef int64_t wk_time;
#define WK_NS ((wk_time)1)
#define WK_US ((wk_time)1000)
#define WK_MS ((wk_time)1000000)
#define WK_SEC ((wk_time)1000000000)
#define WK_TIME_MAX INT64_MAX
/* Seconds (double) -> ns, rounded to nearest; saturates at WK_TIME_MAX. */
wk_time wk_time_from_s(double s);
static inline double wk_time_to_s(wk_time t) { return (double)t * 1e-9; }

/* ---- assertions and allocation ---------------------------------------------------------- */
/* Bugs are asserts (bad input is an error value, never an assert). Always on: the checks sit
 * outside hot loops, and a silent wrong number is worse than a stop. */
#define WK_ASSERT(e) ((e) ? (void)0 : wk_assert_fail(#e, __FILE__, __LINE__))
_Noreturn void wk_assert_fail(const char *expr, const char *file, int line);

/* All heap allocation goes through here: out of memory prints one line naming what the
 * caller's module was building and what shrinks it (from its file, never shown) and exits 3
 * (never a NULL that travels). wk_free(NULL) is a no-op. */
#define wk_malloc(n) wk_malloc_at((n), __FILE__, __LINE__)
#define wk_calloc(n, sz) wk_calloc_at((n), (sz), __FILE__, __LINE__)
#define wk_realloc(p, n) wk_realloc_at((p), (n), __FILE__, __LINE__)
#define wk_strdup(s) wk_strdup_at((s), __FILE__, __LINE__)
/* zeroed n * sz bytes at a multiple of 64 (a cache line), for records that fill one */
#define wk_calloc_lines(n, sz) wk_calloc_lines_at((n), (sz), __FILE__, __LINE__)
void *wk_malloc_at(size_t n, const char *file, int line);
void *wk_calloc_at(size_t n, size_t sz, const char *file, int line);
void *wk_realloc_at(void *p, size_t n, const char *file, int line);
char *wk_strdup_at(const char *s, const char *file, int line);
void *wk_calloc_lines_at(size_t n, size_t sz, const char *file, int line);
/* n bytes for a large table: from 2 MiB on, in transparent huge pages (mem.c) */
#define wk_malloc_big(n) wk_malloc_big_at((n), __FILE__, __LINE__)
void *wk_malloc_big_at(size_t n, const char *file, int line);
void wk_free(void *p);
/* The same end for a library's allocation that failed (jansson returns NULL): that one line,
 * n bytes wanted (0: unknown), exit 3. */
#define wk_oom(n) wk_oom_at((n), __FILE__, __LINE__)
_Noreturn void wk_oom_at(size_t n, const char *file, int line);

/* Bytes a model, trace or simulation may take before wanka refuses it with a message rather
 * than meet the OOM killer: $WANKA_MAX_MODEL_BYTES if set, else half of physical memory. */
double wk_memory_limit(void);

/* ---- arena -------------------------------------------------------------------------------- */
/* Bump allocator for simulation objects: freed whole, never piecemeal. Blocks grow
 * geometrically; O(1) per allocation. Memory is zeroed. */
typedef struct wk_arena wk_arena;
wk_arena *wk_arena_new(size_t first_block_bytes);
void *wk_arena_alloc(wk_arena *a, size_t bytes); /* 16-byte aligned, zeroed; owned by a */
#define WK_ARENA_NEW(a, type, n) ((type *)wk_arena_alloc((a), sizeof(type) * (size_t)(n)))
char *wk_arena_strdup(wk_arena *a, const char *s);
size_t wk_arena_bytes(const wk_arena *a); /* bytes reserved from the system */
void wk_arena_free(wk_arena *a);          /* NULL is a no-op */

/* ---- RNG ---------------------------------------------------------------------------------- */
/* xoshiro256** seeded through splitmix64 from (seed, stream): streams with different ids are
 * independent, so adding a new random consumer never shifts the numbers another one sees. */
typedef struct wk_rng {
  uint64_t s[4];
} wk_rng;
void wk_rng_init(wk_rng *r, uint64_t seed, uint64_t stream);
uint64_t wk_rng_u64(wk_rng *r);
double wk_rng_uniform(wk_rng *r);                 /* [0, 1) with 53 random bits */
uint64_t wk_rng_below(wk_rng *r, uint64_t bound); /* [0, bound), unbiased; bound > 0 */
double wk_rng_exp(wk_rng *r, double mean);        /* exponential with the given mean */
double wk_rng_normal(wk_rng *r);                  /* standard normal (Box-Muller) */
/* Stateless 64-bit mixer (splitmix64 finaliser) for hashing ids, e.g. ECMP path choice. */
static inline uint64_t wk_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Division of 32-bit numbers by a divisor fixed ahead (a cluster's domain sizes): a 128-bit
 * product for the hardware's divide, exact for every n and d > 0 (m = ceil(2^64 / d); Lemire,
 * Kaser and Kurz, "Faster remainder by direct computation", 2019). */
typedef struct wk_div32 {
  uint64_t m; /* 0 for d = 1 */
  uint32_t d;
} wk_div32;
static inline wk_div32 wk_div32_of(uint32_t d) {
  return (wk_div32){d > 1 ? UINT64_MAX / d + 1 : 0, d};
}
static inline uint32_t wk_div32_q(wk_div32 v, uint32_t n) {
#ifdef __SIZEOF_INT128__
  return v.m ? (uint32_t)(((unsigned __int128)v.m * n) >> 64) : n;
#else
  return n / v.d; /* no 128-bit product: the divide itself */
#endif
}

/* ---- event queue -------------------------------------------------------------------------- */
/* Min-queue of events ordered by (time, insertion sequence): events at equal times pop in the
 * order they were pushed, so runs are reproducible. A radix heap: O(1) push, amortised
 * O(log T) pop, no allocation per event (buckets grow geometrically). Contract, as in any
 * discrete-event simulation: a push is never earlier than the time last popped (asserted);
 * an empty queue may restart at any time. */
typedef struct wk_event {
  wk_time time;
  uint64_t seq;  /* assigned by push */
  uint64_t data; /* caller's payload, e.g. (kind << 32) | id */
} wk_event;
typedef struct wk_evq wk_evq;
wk_evq *wk_evq_new(size_t initial_capacity);
void wk_evq_free(wk_evq *q); /* NULL is a no-op */
void wk_evq_push(wk_evq *q, wk_time t, uint64_t data);
int wk_evq_pop(wk_evq *q, wk_event *out); /* OUT: earliest event; returns 0 when empty */
const wk_event *wk_evq_peek(wk_evq *q); /* borrowed until the next push/pop; NULL when empty */
size_t wk_evq_len(const wk_evq *q);
void wk_evq_clear(wk_evq *q);

/* ---- errors ------------------------------------------------------------------------------- */
/* One list of error kinds generates the enum and the names (libuv's UV_ERRNO_MAP). */
#define WK_ERR_MAP(X)                                   \
  X(OK, "ok")                                          \
  X(IO, "cannot read or write file")                   \
  X(PARSE, "malformed input")                          \
  X(VALUE, "invalid value")                            \
  X(RANGE, "value out of range")                       \
  X(UNKNOWN_KEY, "unknown key")                        \
  X(UNKNOWN_NAME, "unknown name")                      \
  X(CAPACITY, "does not fit")                          \
  X(USAGE, "bad command line")
typedef enum wk_errcode {
#define WK_ERR_ENUM(name, msg) WK_E##name,
  WK_ERR_MAP(WK_ERR_ENUM)
  WK_OK = WK_EOK,
#undef WK_ERR_ENUM
} wk_errcode;
const char *wk_errcode_name(wk_errcode c);

/* An error value: where (path, 1-based line and column; 0 when not known) and what. Readers
 * fill one and return; only cli/ prints and exits. */
typedef struct wk_err {
  wk_errcode code;
  char path[256];
  int line, col;
  char msg[512];
} wk_err;
/* Sets *e (if e non-NULL) and returns the code, so `return wk_err_set(e, ...)` reads well. */
wk_errcode wk_err_set(wk_err *e, wk_errcode code, const char *path, int line, int col,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
wk_errcode wk_err_vset(wk_err *e, wk_errcode code, const char *path, int line, int col,
                       const char *fmt, va_list ap);
/* For a reader that goes on past an error to check the rest of its input: counts the error in
 * *nerr and sets *e only for the first (the later ones often follow from it). Returns -1, so a
 * reader's step that returns 0 or -1 can `return wk_err_first(...)`. */
int wk_err_first(wk_err *e, int *nerr, wk_errcode code, const char *path, int line, int col,
                 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Formats "path:line:col: error: msg" (parts that are unknown are left out) into buf. */
const char *wk_err_format(const wk_err *e, char *buf, size_t n);
void wk_err_clear(wk_err *e);

/* Reads a whole file (a regular file or a pipe) into a buffer owned by the caller (wk_free),
 * NUL-terminated at [*len]. NULL + err (WK_EIO naming the path and the reason, or
 * WK_ECAPACITY above max_bytes naming the limit) on failure. `what` names the file in errors
 * ("workloads file"). O(bytes). */
char *wk_read_file(const char *path, size_t max_bytes, const char *what, size_t *len, wk_err *err);

/* ---- units -------------------------------------------------------------------------------- */
/* "1K", "16M", "1G", "4096", "2T": sizes in bytes where K/M/G/T are powers of 1024 (as
 * nccl-tests reads them). Returns 0 and sets *out, or -1 on bad syntax/overflow. */
int wk_parse_size(const char *s, uint64_t *out);
/* "90", "1.5s", "30m", "2h", "7d", "250ms", "10us": a duration in seconds. -1 on bad input. */
int wk_parse_duration_s(const char *s, double *out);
/* Strict number parsers: whole string must be consumed, finite, no overflow. 0 ok, -1 bad. */
int wk_parse_double(const char *s, double *out);
int wk_parse_i64(const char *s, int64_t *out);
/* Formats a value with an SI prefix and unit, e.g. 1.23e15 "FLOP/s" -> "1.23 PFLOP/s". */
const char *wk_fmt_si(double v, const char *unit, char *buf, size_t n);
/* Formats bytes with binary prefixes as nccl-tests-style sizes where exact ("1K", "16M"). */
const char *wk_fmt_bytes_iec(double v, char *buf, size_t n);

#endif
