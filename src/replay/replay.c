/* replay.c — the event loop of a cluster replay. Arrivals stream from the (sorted) jobs;
 * ends, walltime kills, failures and repairs sit in one wk_evq ordered by (time, seq); after
 * all events of one instant the scheduler makes one pass. Per-job state is structure-of-arrays
 * in an arena; nothing is allocated per event. Progress is tracked in work-nanoseconds (the
 * trace's runtime at ideal placement), which a run makes at 1/stretch per wall nanosecond
 * after its restart overhead. */
#include "replay_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* EV_LINK_REPAIR: a drawn cable fault ends (id: its link); EV_FAULT_ON / EV_FAULT_OFF: an
 * injected fault begins or ends (id: its index). */
enum { EV_END, EV_KILL, EV_FAIL, EV_REPAIR, EV_LINK_REPAIR, EV_FAULT_ON, EV_FAULT_OFF };
#define EV(kind, epoch, id) (((uint64_t)(kind) << 61) | ((uint64_t)((epoch) & 0x1fffffffu) << 32) | (uint64_t)(id))
#define EV_KIND(d) ((int)((d) >> 61))
#define EV_EPOCH(d) ((uint32_t)(((d) >> 32) & 0x1fffffffu))
#define EV_ID(d) ((uint32_t)(d))

struct replay {
  wk_arena *arena;
  replay_metrics m;
  replay_job *jobs;
  size_t njobs;
  replay_sample *samples;
  size_t nsamples, capsamples;
  sched_tenants *tenants; /* the list the scheduler used (owned) */
  replay_wl *wl;          /* the jobs' workloads (fabric on), for their labels */
};

/* Everything the loop needs; lives only during replay_run. */
typedef struct loop {
  const hw_cluster *c;
  replay_opts o;
  replay *r;
  sched *s;
  sched_pool *pool;
  wk_evq *q;
  wk_rng fail_time, fail_where; /* separate streams: adding a consumer shifts no one */
  uint32_t cards, cards_per_node;
  /* per replayed job (index = sched id) */
  uint32_t *src;      /* index into r->jobs */
  wk_time *work, *done, *seg_start, *over_end, *first_start;
  double *stretch, *productive_s, *ckpt_ns, *alone_stretch_cur;
  /* Progress under a stretch that changes during a run (the fabric re-solves): work made up
   * to mark_t is mark_w (ns of work); from mark_t on it grows at 1 / stretch per ns. Over the
   * run: wall ns spent making work, work made, and the wall it would have taken alone. */
  wk_time *mark_t;
  double *mark_w, *run_wall, *run_work, *alone, *wall_all, *work_all, *alone_all;
  uint32_t *endver;   /* END events carry it: a re-rate or a stop makes older ones stale */
  uint32_t *shape;    /* workload of each job (fabric on) */
  uint32_t *epoch, *cards_of;
  uint8_t *restart_pending;
  uint32_t *stalled;  /* interruptions in a row that saved no new checkpoint */
  uint8_t *down;      /* per card: failures holding it down */
  uint32_t ndown;
  replay_fab *fab;    /* the shared fabric (fabric on), else NULL */
  uint8_t *ldown;     /* per link: faults holding it down */
  uint64_t *lout;     /* bitmap of the links out of service (capacity 0): routes avoid them */
  uint32_t *shared, nshared; /* the switch-to-switch links, for drawn cable faults */
  uint32_t **flinks, **fcards, *nflinks, *nfcards; /* injected faults' links and cut-off cards */
  uint32_t *relay, nrelay, *relay_mark, relay_stamp; /* jobs to lay again, deduplicated */
  uint32_t *buf;      /* scratch for link lists */
  uint32_t *cardbuf;  /* a job's cards in rank order, for replay_fab_add */
  uint32_t scaleup;   /* cards per scale-up domain */
  double tier_area[HW_MAX_TIERS + 1]; /* integral of each tier's utilization over time */
  size_t unfinished;  /* queued + running + not yet arrived */
  double busy_card_s;
  double q_area;      /* integral of queued jobs over time (job-seconds) */
} loop;

static const double llama3_share[REPLAY_FAIL_KINDS] = {
    268, /* faulty GPU 148, HBM3 72, SRAM 19, GPU system processor 17, SDC 6, thermal 6 */
    52,  /* host maintenance 32, other 20 */
    42,  /* network switch/cable 35, NIC 7 */
    61,  /* software 54, NCCL watchdog 7 */
};

void replay_opts_init(replay_opts *o) {
  memset(o, 0, sizeof *o);
  sched_opts_init(&o->sched);
  o->failure_rate = REPLAY_LLAMA3_FAILURES_PER_CARD_DAY;
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) o->fail_share[k] = llama3_share[k];
  o->repair_s[REPLAY_FAIL_CARD] = 8 * 3600.0;
  o->repair_s[REPLAY_FAIL_NODE] = 2 * 3600.0;
  o->repair_s[REPLAY_FAIL_LINK] = 3600.0;
  o->repair_s[REPLAY_FAIL_SOFTWARE] = 0;
  o->checkpoint_interval_s = 3600;
  o->checkpoint_cost_s = 60;
  o->restart_cost_s = 300;
  o->fabric = 1;
  o->comm_fraction = 0.1;
  o->sample_s = 600;
  o->abandon_after = 50;
  o->seed = 1;
}

const char *replay_fate_name(replay_fate f) {
  static const char *names[] = {"finished", "killed", "dropped", "abandoned"};
  return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

double replay_young_daly_s(const replay_opts *o, uint32_t cards) {
  if (!(o->failure_rate > 0) || !cards) return 3600;
  double mtbf_s = 86400.0 / (o->failure_rate * cards);
  return sqrt(2 * o->checkpoint_cost_s * mtbf_s);
}

void replay_free(replay *r) {
  if (!r) return;
  replay_wl_free(r->wl);
  sched_tenants_free(r->tenants);
  wk_free(r->samples);
  wk_arena_free(r->arena);
  wk_free(r);
}
const replay_metrics *replay_get_metrics(const replay *r) { return &r->m; }
const replay_job *replay_jobs(const replay *r, size_t *n) {
  *n = r->njobs;
  return r->jobs;
}
const replay_sample *replay_samples(const replay *r, size_t *n) {
  *n = r->nsamples;
  return r->samples;
}
uint32_t replay_ntenants(const replay *r) { return sched_tenants_count(r->tenants); }
const char *replay_workload_name(const replay *r, uint32_t w) {
  return r->wl && w < replay_wl_count(r->wl) ? replay_wl_label(r->wl, w) : "";
}
const char *replay_tenant_name(const replay *r, uint32_t i) { return sched_tenant_name(r->tenants, i); }
double replay_tenant_quota_cards(const replay *r, uint32_t i, uint32_t cards) {
  return sched_tenant_quota_cards(r->tenants, i, cards);
}

/* ---- stretch ---- */
/* Slowdown of a run on these cards: 1 + f * (bw_ideal / bw_actual - 1), where bw_actual is
 * the per-card bandwidth of the smallest domain holding all of them (hw_common_level of the
 * first and last card: domains are contiguous) and bw_ideal the best bandwidth of a domain
 * level large enough to hold the job. A job inside its ideal domain runs at trace speed. */
static double stretch_of(const loop *L, uint32_t cards, const sched_range *r, uint32_t nr) {
  if (!(L->o.comm_fraction > 0) || cards <= 1) return 1;
  uint32_t lo = r[0].first, hi = r[nr - 1].first + r[nr - 1].n - 1;
  double actual = hw_level_card_bw(L->c, hw_common_level(L->c, lo, hi)), ideal = 0;
  for (int l = HW_LEVEL_NODE; l <= HW_LEVEL_CLUSTER; l++) {
    double bw = hw_level_card_bw(L->c, (hw_level)l);
    if ((l == HW_LEVEL_CLUSTER || hw_level_cards(L->c, (hw_level)l) >= cards) && bw > ideal) ideal = bw;
  }
  if (!(actual > 0) || ideal <= actual) return 1;
  return 1 + L->o.comm_fraction * (ideal / actual - 1);
}

/* ---- job runs ---- */
/* Work made by job id up to now (ns of work, at most its work). */
static double progress(const loop *L, uint32_t id, wk_time now) {
  wk_time from = L->mark_t[id] > L->over_end[id] ? L->mark_t[id] : L->over_end[id];
  double w = L->mark_w[id] + (now > from ? (double)(now - from) / L->stretch[id] : 0);
  return w < (double)L->work[id] ? w : (double)L->work[id];
}

/* Banks the work job id has made up to now (and the wall it took, and what it would have
 * taken alone on its cards) into the run's totals. */
static void bank(loop *L, uint32_t id, wk_time now) {
  double w = progress(L, id, now);
  wk_time from = L->mark_t[id] > L->over_end[id] ? L->mark_t[id] : L->over_end[id];
  if (now > from) L->run_wall[id] += (double)(now - from);
  L->alone[id] += (w - L->mark_w[id]) * L->alone_stretch_cur[id];
  L->run_work[id] += w - L->mark_w[id];
  L->mark_t[id] = now;
  L->mark_w[id] = w;
}

/* From now on job id runs `stretch` times slower than at its reference (and `alone` times
 * alone on its cards): bank what it made so far, and move its end. */
static void rerate(loop *L, uint32_t id, wk_time now, double stretch, double alone) {
  bank(L, id, now);
  double w = L->mark_w[id];
  L->stretch[id] = stretch;
  L->alone_stretch_cur[id] = alone;
  wk_time start = now > L->over_end[id] ? now : L->over_end[id];
  double left = ((double)L->work[id] - w) * stretch;
  wk_time end = isfinite(left) && left < 9e18 ? start + (wk_time)llround(left) : WK_TIME_MAX;
  L->endver[id]++;
  if (end < WK_TIME_MAX) wk_evq_push(L->q, end, EV(EV_END, L->endver[id], id));
}

/* Lays the job's workload on its cards when it can meet another job's traffic: when it spans
 * more than one scale-up domain (inside one, it talks over that domain's bus, which is its
 * own, as its reference did). */
static void fabric_add(loop *L, uint32_t id, const sched_range *r, uint32_t nr) {
  const replay_shape *sh = replay_wl_shape(L->r->wl, L->shape[id]);
  if (!sh->nphases) return;
  uint32_t lo = r[0].first, hi = r[nr - 1].first + r[nr - 1].n - 1;
  if (lo / L->scaleup == hi / L->scaleup && L->cards_of[id] <= L->scaleup) return;
  uint32_t n = 0;
  for (uint32_t i = 0; i < nr; i++)
    for (uint32_t k = 0; k < r[i].n; k++) L->cardbuf[n++] = r[i].first + k;
  replay_fab_add(L->fab, id, sh, L->cardbuf, n);
  L->r->m.fabric_jobs++;
}

/* netaware's scorer: the candidate cards of job id, probed on the fabric. */
static double net_score(void *ctx, uint32_t id, const sched_range *r, uint32_t nr) {
  loop *L = ctx;
  const replay_shape *sh = replay_wl_shape(L->r->wl, L->shape[id]);
  if (!sh->nphases) return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < nr; i++)
    for (uint32_t k = 0; k < r[i].n; k++) L->cardbuf[n++] = r[i].first + k;
  return replay_fab_probe(L->fab, sh, L->cardbuf, n);
}

static void start_run(loop *L, uint32_t id, wk_time now) {
  uint32_t nr;
  const sched_range *r = sched_job_ranges(L->s, id, &nr);
  replay_job *rj = &L->r->jobs[L->src[id]];
  if (L->first_start[id] < 0) {
    L->first_start[id] = now;
    rj->start_s = wk_time_to_s(now);
  }
  L->seg_start[id] = now;
  L->over_end[id] = now + (L->restart_pending[id] ? wk_time_from_s(L->o.restart_cost_s) : 0);
  L->restart_pending[id] = 0;
  L->mark_t[id] = now;
  L->mark_w[id] = (double)L->done[id];
  L->run_wall[id] = L->run_work[id] = L->alone[id] = 0;
  L->alone_stretch_cur[id] = 1;
  rj->domains = sched_pool_domains_spanned(L->pool, sched_pool_ideal_level(L->pool, L->cards_of[id]), r, nr);
  if (L->fab) {
    /* 1 until the fabric is solved after this instant's pass, which re-rates the job */
    L->stretch[id] = 1;
    fabric_add(L, id, r, nr);
  } else {
    L->stretch[id] = stretch_of(L, L->cards_of[id], r, nr);
  }
  double left = (double)(L->work[id] - L->done[id]) * L->stretch[id];
  wk_time end = L->over_end[id] + (wk_time)llround(left);
  L->endver[id]++;
  wk_evq_push(L->q, end, EV(EV_END, L->endver[id], id));
  if (L->o.observe) L->o.observe(L->o.observe_ctx, id, 1, now, r, nr);
}

/* Why a run stops. A walltime kill ends the job like a finish does; a failure or a
 * preemption interrupts it and it will run again. */
typedef enum { STOP_FINISHED, STOP_KILLED, STOP_FAILED, STOP_PREEMPTED } stop_why;

/* A run stops at now: account its card-seconds, and when interrupted, the progress kept up to
 * the last checkpoint (all of it for a graceful preemption), productive time, the restart to
 * come and the failures in a row that kept nothing new. The scheduler is told by the caller. */
static void stop_run(loop *L, uint32_t id, wk_time now, stop_why why, int graceful,
                     const sched_range *r, uint32_t nr) {
  if (L->o.observe) L->o.observe(L->o.observe_ctx, id, 0, now, r, nr);
  L->busy_card_s += (double)L->cards_of[id] * wk_time_to_s(now - L->seg_start[id]);
  L->epoch[id]++;
  L->endver[id]++;
  bank(L, id, now);
  if (L->fab) replay_fab_remove(L->fab, id);
  L->wall_all[id] += L->run_wall[id];
  L->work_all[id] += L->run_work[id];
  L->alone_all[id] += L->alone[id];
  /* wall ns per ns of work over this run: the stretch, averaged as it changed */
  double per_work = L->run_work[id] > 0 ? L->run_wall[id] / L->run_work[id] : L->stretch[id];
  if (why == STOP_FINISHED) {
    L->productive_s[id] += wk_time_to_s(L->work[id] - L->done[id]) * per_work;
    L->done[id] = L->work[id];
    return;
  }
  if (why == STOP_KILLED) return; /* the job ends here: nothing is kept, nothing restarts */
  double w = L->mark_w[id];
  double kept = graceful ? w : floor(w / L->ckpt_ns[id]) * L->ckpt_ns[id];
  if (kept < (double)L->done[id]) kept = (double)L->done[id];
  if (kept > (double)L->done[id]) L->stalled[id] = 0;
  else if (why == STOP_FAILED) L->stalled[id]++; /* a preemption is not the job failing */
  L->productive_s[id] += (kept - (double)L->done[id]) * 1e-9 * per_work;
  L->done[id] = (wk_time)kept;
  L->restart_pending[id] = 1;
  L->r->jobs[L->src[id]].restarts++;
  L->r->m.restarts++;
}

static void finish_job(loop *L, uint32_t id, wk_time now, replay_fate fate) {
  replay_job *rj = &L->r->jobs[L->src[id]];
  rj->end_s = wk_time_to_s(now);
  rj->fate = (uint8_t)fate;
  L->unfinished--;
  if (fate == REPLAY_FINISHED) L->r->m.finished++;
  else if (fate == REPLAY_ABANDONED) L->r->m.abandoned++;
  else L->r->m.killed++;
}

/* A failure stops job id: requeue it, or give it up when it has now been interrupted
 * abandon_after times in a row without saving a checkpoint (each run must outlast the restart
 * cost plus one checkpoint interval of stretched work to progress; if its cards' mean time
 * between failures is shorter, the expected number of tries grows exponentially and the job,
 * and the replay, would never end). */
static void interrupt(loop *L, uint32_t id, wk_time now) {
  uint32_t nr;
  const sched_range *r = sched_job_ranges(L->s, id, &nr);
  double stretch = L->stretch[id];
  stop_run(L, id, now, STOP_FAILED, 0, r, nr);
  if (!L->o.abandon_after || L->stalled[id] < L->o.abandon_after) {
    sched_end(L->s, id, now, 1);
    return;
  }
  sched_end(L->s, id, now, 0);
  L->r->jobs[L->src[id]].restarts--; /* stop_run counted a restart that will not happen */
  L->r->m.restarts--;
  finish_job(L, id, now, REPLAY_ABANDONED);
  double mtbf_s = 86400.0 / (L->o.failure_rate * L->cards_of[id]);
  if (L->o.restart_cost_s + L->ckpt_ns[id] * 1e-9 * stretch > mtbf_s) L->r->m.abandoned_hopeless++;
}

/* ---- fabric faults ---- */
/* Job id is to be laid again at this instant (its routes cross a link that failed, or could use
 * one that came back). */
static void want_relay(loop *L, uint32_t id) {
  if (!sched_job_running(L->s, id) || L->relay_mark[id] == L->relay_stamp) return;
  L->relay_mark[id] = L->relay_stamp;
  L->relay[L->nrelay++] = id;
}

/* Lays the jobs of want_relay again on the links as they are now: their work so far is banked,
 * their traffic taken off and laid afresh (ECMP over the live links); the fabric's solve after
 * the pass gives them their new pace. */
static void relay_jobs(loop *L, wk_time now) {
  for (uint32_t i = 0; i < L->nrelay; i++) {
    uint32_t id = L->relay[i], nr;
    if (!sched_job_running(L->s, id) || !replay_fab_has(L->fab, id)) continue;
    bank(L, id, now);
    replay_fab_remove(L->fab, id);
    const sched_range *r = sched_job_ranges(L->s, id, &nr);
    fabric_add(L, id, r, nr);
    L->r->m.fabric_rerouted++;
  }
  L->nrelay = 0;
  L->relay_stamp++;
}

/* Links links[0, n) fail (down = 1) or come back (0); cards cut off by the fault go down or up
 * with them. The jobs crossing a failed link, and those that could use a link back in service
 * (its ECMP siblings' jobs), are laid again. */
static void link_fault(loop *L, const uint32_t *links, uint32_t n, const uint32_t *cards, uint32_t ncards,
                       int down, wk_time now) {
  const double *orig = hw_link_capacity(L->c);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t l = links[i];
    if (down) {
      if (!L->ldown[l]++) {
        replay_fab_set_cap(L->fab, l, 0);
        L->lout[l >> 6] |= 1ULL << (l & 63);
        L->r->m.fabric_faults++;
      }
      WK_ASSERT(L->ldown[l] < 255);
      uint32_t m = replay_fab_jobs_on(L->fab, l, L->buf, L->cards);
      for (uint32_t k = 0; k < m && k < L->cards; k++) want_relay(L, L->buf[k]);
    } else if (!--L->ldown[l]) {
      replay_fab_set_cap(L->fab, l, orig[l]);
      if (orig[l] > 0) L->lout[l >> 6] &= ~(1ULL << (l & 63));
      int m = hw_link_siblings(L->c, l, L->buf, L->cards);
      uint32_t nsib = (uint32_t)m < L->cards ? (uint32_t)m : L->cards;
      uint32_t *sib = L->buf + L->cards; /* second half of the scratch */
      memcpy(sib, L->buf, sizeof(uint32_t) * nsib);
      for (uint32_t s2 = 0; s2 < nsib; s2++) {
        uint32_t q = replay_fab_jobs_on(L->fab, sib[s2], L->buf, L->cards);
        for (uint32_t k = 0; k < q && k < L->cards; k++) want_relay(L, L->buf[k]);
      }
    }
  }
  for (uint32_t i = 0; i < ncards; i++) {
    uint32_t card = cards[i];
    if (down) {
      uint32_t owner = sched_pool_owner(L->pool, card);
      if (owner < SCHED_DOWN) {
        double lost = progress(L, owner, now) - floor(progress(L, owner, now) / L->ckpt_ns[owner]) * L->ckpt_ns[owner];
        L->r->m.fault_lost_card_s += lost * 1e-9 * L->cards_of[owner];
        interrupt(L, owner, now);
      }
      if (!L->down[card]++) {
        sched_pool_set_down(L->pool, card, 1);
        L->ndown++;
      }
    } else if (!--L->down[card]) {
      sched_pool_set_down(L->pool, card, 0);
      L->ndown--;
    }
  }
  relay_jobs(L, now);
}

/* ---- failures ---- */
static void schedule_failure(loop *L, wk_time now) {
  if (!(L->o.failure_rate > 0) || !L->unfinished) return;
  double mean_s = 86400.0 / (L->o.failure_rate * L->cards);
  wk_evq_push(L->q, now + wk_time_from_s(wk_rng_exp(&L->fail_time, mean_s)), EV(EV_FAIL, 0, 0));
}

static void card_down(loop *L, uint32_t card, replay_fail_kind k, wk_time now) {
  uint32_t owner = sched_pool_owner(L->pool, card);
  if (owner < SCHED_DOWN) interrupt(L, owner, now);
  if (k == REPLAY_FAIL_SOFTWARE || !(L->o.repair_s[k] > 0)) return;
  if (!L->down[card]++) {
    sched_pool_set_down(L->pool, card, 1);
    L->ndown++;
  }
  WK_ASSERT(L->down[card] < 255);
  wk_evq_push(L->q, now + wk_time_from_s(L->o.repair_s[k]), EV(EV_REPAIR, 0, card));
}

static void failure(loop *L, wk_time now) {
  double tot = 0, u;
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) tot += L->o.fail_share[k];
  u = wk_rng_uniform(&L->fail_where) * tot;
  replay_fail_kind kind = REPLAY_FAIL_SOFTWARE;
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) {
    if (u < L->o.fail_share[k]) {
      kind = (replay_fail_kind)k;
      break;
    }
    u -= L->o.fail_share[k];
  }
  uint32_t card = (uint32_t)wk_rng_below(&L->fail_where, L->cards);
  L->r->m.failures++;
  /* With the fabric on, a network failure is a switch or cable (35 of Llama 3's 42) taken
   * down for its repair time, or a NIC (7), which takes its card down as before. */
  if (kind == REPLAY_FAIL_LINK && L->fab && L->nshared &&
      wk_rng_uniform(&L->fail_where) * 42 < 35) {
    uint32_t l = L->shared[wk_rng_below(&L->fail_where, L->nshared)];
    uint32_t both[2] = {l, hw_link_reverse(L->c, l)};
    int hit = 0;
    for (int i = 0; i < 2; i++) hit |= replay_fab_jobs_on(L->fab, both[i], L->buf, 1) > 0;
    link_fault(L, both, 2, NULL, 0, 1, now);
    L->r->m.failures_hit_jobs += (uint64_t)hit;
    if (L->o.repair_s[kind] > 0)
      wk_evq_push(L->q, now + wk_time_from_s(L->o.repair_s[kind]), EV(EV_LINK_REPAIR, 0, l));
    return;
  }
  uint32_t first = card, n = 1;
  if (kind == REPLAY_FAIL_NODE) {
    first = card / L->cards_per_node * L->cards_per_node;
    n = L->cards - first < L->cards_per_node ? L->cards - first : L->cards_per_node;
  }
  int hit = 0;
  for (uint32_t c = first; c < first + n; c++) {
    hit |= sched_pool_owner(L->pool, c) < SCHED_DOWN;
    card_down(L, c, kind, now);
  }
  L->r->m.failures_hit_jobs += (uint64_t)hit;
}

/* ---- samples ---- */
static void sample(loop *L, wk_time t) {
  replay *r = L->r;
  if (r->nsamples == r->capsamples) {
    r->capsamples = r->capsamples ? 2 * r->capsamples : 1024; /* amortized, off the hot path */
    r->samples = wk_realloc(r->samples, sizeof(replay_sample) * r->capsamples);
  }
  replay_sample *s = &r->samples[r->nsamples++];
  memset(s, 0, sizeof *s); /* padding too: samples compare byte for byte across runs */
  s->t_s = wk_time_to_s(t);
  s->busy_cards = sched_busy_cards(L->s);
  s->down_cards = L->ndown;
  s->queued_jobs = sched_queued_jobs(L->s);
  s->queued_cards = sched_queued_cards(L->s);
  for (int k = 0; k < HW_MAX_TIERS; k++)
    s->tier_util[k] = L->fab ? (float)replay_fab_tier_util(L->fab, k + 1) : 0;
}

/* ---- tenants ---- */
static sched_tenants *make_tenants(const trace_job *jobs, size_t n, const trace *names,
                                   const sched_tenants *given, uint32_t cards, uint32_t *tenant_of) {
  sched_tenants *t = sched_tenants_new();
  if (given) {
    for (uint32_t i = 0; i < sched_tenants_count(given); i++)
      sched_tenants_add(t, sched_tenant_name(given, i), sched_tenant_quota_cards(given, i, cards), 0,
                        sched_tenant_priority(given, i));
    int unmatched = -1;
    for (size_t i = 0; i < n; i++) {
      const char *u = names ? trace_name(names, jobs[i].user) : "";
      const char *g = names ? trace_name(names, jobs[i].group) : "";
      const char *q = names ? trace_name(names, jobs[i].queue) : "";
      int m = sched_tenants_match(given, u, g, q);
      if (m < 0) {
        if (unmatched < 0) unmatched = (int)sched_tenants_add(t, "(unmatched)", 0, 0, 0);
        m = unmatched;
      }
      tenant_of[i] = (uint32_t)m;
    }
    return t;
  }
  /* one tenant per distinct group, else user, else queue, when there are 2..256 */
  size_t nn = names ? trace_nnames(names) : 0;
  uint32_t *map = nn ? wk_malloc(sizeof(uint32_t) * nn) : NULL;
  for (int field = 0; field < 3 && nn; field++) {
    for (size_t k = 0; k < nn; k++) map[k] = SCHED_NONE;
    uint32_t distinct = 0;
    for (size_t i = 0; i < n && distinct <= 256; i++) {
      uint32_t id = field == 0 ? jobs[i].group : field == 1 ? jobs[i].user : jobs[i].queue;
      if (id < nn && map[id] == SCHED_NONE) map[id] = distinct++;
    }
    if (distinct < 2 || distinct > 256) continue;
    for (size_t k = 0; k < nn; k++)
      if (map[k] != SCHED_NONE) {
        const char *nm = trace_name(names, (uint32_t)k);
        (void)sched_tenants_add(t, *nm ? nm : "(none)", -1, 1.0 / distinct, 0);
      }
    /* tenants were added in name-id order: renumber map to that order */
    uint32_t next = 0;
    for (size_t k = 0; k < nn; k++)
      if (map[k] != SCHED_NONE) map[k] = next++;
    for (size_t i = 0; i < n; i++) {
      uint32_t id = field == 0 ? jobs[i].group : field == 1 ? jobs[i].user : jobs[i].queue;
      tenant_of[i] = map[id];
    }
    wk_free(map);
    return t;
  }
  wk_free(map);
  sched_tenants_add(t, "all", -1, 1.0, 0);
  for (size_t i = 0; i < n; i++) tenant_of[i] = 0;
  return t;
}

/* ---- metrics ---- */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double pct(const double *v, size_t n, double p) { /* nearest rank */
  if (!n) return 0;
  size_t k = (size_t)ceil(p * (double)n);
  return v[k ? k - 1 : 0];
}

static int cmp_submit(const void *a, const void *b, const trace_job *j) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (j[x].submit_s != j[y].submit_s) return j[x].submit_s < j[y].submit_s ? -1 : 1;
  return (x > y) - (x < y);
}

static int opts_check(const replay_opts *o, wk_err *err) {
  if (!(o->failure_rate >= 0) || o->failure_rate > 1000)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "failure rate must be >= 0 per card-day"), -1;
  if (!(o->checkpoint_interval_s >= 0) || !(o->restart_cost_s >= 0) || !(o->checkpoint_cost_s >= 0))
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "checkpoint interval and restart cost must be >= 0"), -1;
  if (!(o->comm_fraction >= 0) || o->comm_fraction > 1)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "communication fraction must be within 0..1"), -1;
  if (!(o->sample_s >= 0)) return wk_err_set(err, WK_EVALUE, "", 0, 0, "sample step must be >= 0"), -1;
  double tot = 0;
  for (int k = 0; k < REPLAY_FAIL_KINDS; k++) {
    if (!(o->fail_share[k] >= 0) || !(o->repair_s[k] >= 0))
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "failure shares and repair times must be >= 0"), -1;
    tot += o->fail_share[k];
  }
  if (o->failure_rate > 0 && !(tot > 0))
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "failure shares sum to 0"), -1;
  return 0;
}

wk_errcode replay_run_jobs(const hw_cluster *c, const trace_job *jobs, size_t n, const trace *names,
                           const replay_opts *o, replay **out, wk_err *err) {
  *out = NULL;
  if (opts_check(o, err)) return err ? err->code : WK_EVALUE;
  if (n >= SCHED_DOWN) return wk_err_set(err, WK_ECAPACITY, "", 0, 0, "too many jobs (%zu)", n);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  replay *r = wk_calloc(1, sizeof *r);
  r->arena = wk_arena_new(1 << 20);
  loop L;
  memset(&L, 0, sizeof L);
  L.c = c;
  L.o = *o;
  L.r = r;
  L.cards = hw_cards(c);
  L.cards_per_node = hw_level_cards(c, HW_LEVEL_NODE);
  wk_rng_init(&L.fail_time, o->seed, 101);
  wk_rng_init(&L.fail_where, o->seed, 102);

  /* order by submit (stable), tenants, drop the too-wide */
  uint32_t *order = WK_ARENA_NEW(r->arena, uint32_t, n + 1), *tenant_of = WK_ARENA_NEW(r->arena, uint32_t, n + 1);
  for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
  int sorted = 1;
  for (size_t i = 1; i < n && sorted; i++) sorted = jobs[i - 1].submit_s <= jobs[i].submit_s;
  if (!sorted) { /* insertion-merge would do; a plain sort with index ties is stable enough */
    for (size_t w = 1; w < n; w *= 2) { /* bottom-up merge sort: no qsort context needed */
      uint32_t *tmp = wk_malloc(sizeof(uint32_t) * n);
      for (size_t lo = 0; lo < n; lo += 2 * w) {
        size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, a = lo, b = mid, k = lo;
        while (a < mid && b < hi) tmp[k++] = cmp_submit(&order[b], &order[a], jobs) < 0 ? order[b++] : order[a++];
        while (a < mid) tmp[k++] = order[a++];
        while (b < hi) tmp[k++] = order[b++];
      }
      memcpy(order, tmp, sizeof(uint32_t) * n);
      wk_free(tmp);
    }
  }
  r->tenants = make_tenants(jobs, n, names, o->sched.tenants, L.cards, tenant_of);
  L.o.sched.tenants = r->tenants;
  r->jobs = WK_ARENA_NEW(r->arena, replay_job, n + 1);
  r->njobs = n;
  /* time zero is the first submit among the jobs replayed: one dropped as too wide for the
   * cluster must not shift every time (its own submit_s may then be negative) */
  int64_t t0s = 0;
  for (size_t k = 0; k < n; k++)
    if (jobs[order[k]].cards <= (int64_t)L.cards) {
      t0s = jobs[order[k]].submit_s;
      break;
    }
  uint32_t nrep = 0;
  for (size_t i = 0; i < n; i++) {
    const trace_job *j = &jobs[i];
    replay_job *rj = &r->jobs[i];
    rj->id = j->id;
    rj->tenant = tenant_of[i];
    rj->cards = j->cards > UINT32_MAX ? UINT32_MAX : (uint32_t)j->cards;
    rj->submit_s = (double)(j->submit_s - t0s);
    rj->start_s = rj->end_s = -1;
    rj->runtime_s = (double)j->runtime_s;
    rj->workload = UINT32_MAX;
    if (j->cards > (int64_t)L.cards) {
      rj->fate = REPLAY_DROPPED;
      r->m.dropped_too_large++;
    } else {
      nrep++;
    }
  }
  r->m.jobs = nrep;
  /* every job's workload, resolved before any work: a rule that cannot serve its jobs is an
   * error naming it */
  uint32_t *shape_in = NULL;
  if (o->fabric) {
    replay_workloads *def = o->workloads ? NULL : replay_workloads_default();
    shape_in = WK_ARENA_NEW(r->arena, uint32_t, n + 1);
    wk_errcode wrc = replay_wl_build(c, o->workloads ? o->workloads : def, jobs, n, names, shape_in,
                                     &r->wl, err);
    replay_workloads_free(def);
    if (wrc) {
      replay_free(r);
      return wrc;
    }
  }
  L.scaleup = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  if (o->fabric && o->sched.placement == SCHED_PLACE_NETAWARE) {
    L.o.sched.score = net_score;
    L.o.sched.score_ctx = &L;
    L.o.sched.quiet_cards = L.scaleup;
  }
  L.s = sched_new(c, &L.o.sched, nrep, err);
  if (!L.s) {
    replay_free(r);
    return err ? err->code : WK_EVALUE;
  }
  L.pool = sched_get_pool(L.s);
  size_t m = nrep + 1;
  L.src = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.work = WK_ARENA_NEW(r->arena, wk_time, m);
  L.done = WK_ARENA_NEW(r->arena, wk_time, m);
  L.seg_start = WK_ARENA_NEW(r->arena, wk_time, m);
  L.over_end = WK_ARENA_NEW(r->arena, wk_time, m);
  L.first_start = WK_ARENA_NEW(r->arena, wk_time, m);
  L.stretch = WK_ARENA_NEW(r->arena, double, m);
  L.productive_s = WK_ARENA_NEW(r->arena, double, m);
  L.ckpt_ns = WK_ARENA_NEW(r->arena, double, m);
  L.epoch = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.cards_of = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.restart_pending = WK_ARENA_NEW(r->arena, uint8_t, m);
  L.stalled = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.alone_stretch_cur = WK_ARENA_NEW(r->arena, double, m);
  L.mark_t = WK_ARENA_NEW(r->arena, wk_time, m);
  L.mark_w = WK_ARENA_NEW(r->arena, double, m);
  L.run_wall = WK_ARENA_NEW(r->arena, double, m);
  L.run_work = WK_ARENA_NEW(r->arena, double, m);
  L.alone = WK_ARENA_NEW(r->arena, double, m);
  L.wall_all = WK_ARENA_NEW(r->arena, double, m);
  L.work_all = WK_ARENA_NEW(r->arena, double, m);
  L.alone_all = WK_ARENA_NEW(r->arena, double, m);
  L.endver = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.shape = WK_ARENA_NEW(r->arena, uint32_t, m);
  L.scaleup = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  if (o->fabric) {
    uint32_t nl = hw_nlinks(c);
    const double *cap = hw_link_capacity(c);
    L.ldown = WK_ARENA_NEW(r->arena, uint8_t, nl + 1);
    L.lout = WK_ARENA_NEW(r->arena, uint64_t, nl / 64 + 1);
    for (uint32_t l = 0; l < nl; l++)
      if (!(cap[l] > 0)) L.lout[l >> 6] |= 1ULL << (l & 63);
    L.shared = WK_ARENA_NEW(r->arena, uint32_t, nl + 1);
    for (uint32_t l = 0; l < nl; l++) /* one direction of each switch-to-switch cable */
      if (hw_link_kind_of(c, l) == HW_LINK_FABRIC && hw_link_reverse(c, l) > l) L.shared[L.nshared++] = l;
    L.fab = replay_fab_new(c, cap, L.lout, nrep);
    L.cardbuf = WK_ARENA_NEW(r->arena, uint32_t, L.cards + 1);
    L.buf = WK_ARENA_NEW(r->arena, uint32_t, 2 * (size_t)L.cards + 2);
    L.relay = WK_ARENA_NEW(r->arena, uint32_t, m);
    L.relay_mark = WK_ARENA_NEW(r->arena, uint32_t, m);
    L.relay_stamp = 1;
    r->m.fabric_tiers = replay_fab_tiers(L.fab);
    uint32_t nf = o->nfaults;
    L.flinks = WK_ARENA_NEW(r->arena, uint32_t *, nf + 1);
    L.fcards = WK_ARENA_NEW(r->arena, uint32_t *, nf + 1);
    L.nflinks = WK_ARENA_NEW(r->arena, uint32_t, nf + 1);
    L.nfcards = WK_ARENA_NEW(r->arena, uint32_t, nf + 1);
    for (uint32_t f = 0; f < nf; f++)
      L.nflinks[f] = replay_fault_links(c, &o->faults[f], &L.flinks[f], &L.fcards[f], &L.nfcards[f]);
  }
  wk_time *submit = WK_ARENA_NEW(r->arena, wk_time, m), *walltime = WK_ARENA_NEW(r->arena, wk_time, m);
  L.down = WK_ARENA_NEW(r->arena, uint8_t, L.cards);
  /* wk_arena_alloc zeroes: done, productive_s, epoch, restart_pending, stalled, down start at 0 */
  /* sched ids in submit order */
  uint32_t id = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t i = order[k];
    if (r->jobs[i].fate == REPLAY_DROPPED) continue;
    const trace_job *j = &jobs[i];
    L.src[id] = i;
    L.work[id] = wk_time_from_s((double)j->runtime_s);
    L.first_start[id] = -1;
    L.cards_of[id] = (uint32_t)j->cards;
    if (shape_in) L.shape[id] = shape_in[i];
    submit[id] = wk_time_from_s((double)(j->submit_s - t0s));
    walltime[id] = j->walltime_s > 0 ? wk_time_from_s((double)j->walltime_s) : -1;
    double ck = o->checkpoint_interval_s > 0 ? o->checkpoint_interval_s : replay_young_daly_s(o, (uint32_t)j->cards);
    L.ckpt_ns[id] = ck * 1e9;
    id++;
  }
  L.unfinished = nrep;
  L.q = wk_evq_new(1024);
  schedule_failure(&L, 0);
  for (uint32_t f = 0; L.fab && f < o->nfaults; f++)
    wk_evq_push(L.q, wk_time_from_s(o->faults[f].at_s), EV(EV_FAULT_ON, 0, f));
  wk_time step = o->sample_s > 0 ? wk_time_from_s(o->sample_s) : 0, next_sample = 0, last_t = 0;
  uint32_t ai = 0;
  wk_errcode rc = WK_OK;
  /* Guards against event explosion (e.g. abandon_after 0 and jobs that can never reach a
   * checkpoint): a bounded number of events in all, and between two job ends. */
  uint64_t max_events = o->max_events ? o->max_events : 1000 * (uint64_t)nrep + 1000000;
  uint64_t max_stall = max_events / 10, events_at_end = 0;
  uint64_t nchecks = 0;
  size_t unfinished_before = L.unfinished, next_progress = 0;
  while (L.unfinished) {
    if (L.unfinished != unfinished_before) {
      unfinished_before = L.unfinished;
      events_at_end = r->m.events;
      if (o->progress && nrep - L.unfinished >= next_progress) {
        o->progress(o->progress_ctx, (double)(nrep - L.unfinished) / nrep);
        next_progress = nrep - L.unfinished + nrep / 1000 + 1;
      }
    }
    if (r->m.events > max_events || r->m.events - events_at_end > max_stall) {
      rc = wk_err_set(err, WK_ECAPACITY, "", 0, 0,
                      "replay stopped after %llu events, %llu of them since a job last ended "
                      "(%zu of %u jobs unfinished at day %.1f): jobs fail faster than they "
                      "progress; lower --failures, shorten --checkpoint-interval or set "
                      "--abandon-after",
                      (unsigned long long)r->m.events,
                      (unsigned long long)(r->m.events - events_at_end), L.unfinished, nrep,
                      wk_time_to_s(last_t) / 86400);
      break;
    }
    const wk_event *top = wk_evq_peek(L.q);
    wk_time t = ai < nrep ? submit[ai] : WK_TIME_MAX;
    if (top && top->time < t) t = top->time;
    if (t == WK_TIME_MAX) {
      rc = wk_err_set(err, WK_ECAPACITY, "", 0, 0, "%u queued jobs can never start (a bug)", sched_queued_jobs(L.s));
      break;
    }
    for (; step && next_sample < t; next_sample += step) sample(&L, next_sample);
    L.q_area += (double)sched_queued_jobs(L.s) * wk_time_to_s(t - last_t);
    if (L.fab)
      for (int k = 1; k <= r->m.fabric_tiers; k++)
        L.tier_area[k] += replay_fab_tier_util(L.fab, k) * wk_time_to_s(t - last_t);
    last_t = t;
    wk_event ev;
    while ((top = wk_evq_peek(L.q)) && top->time == t) {
      wk_evq_pop(L.q, &ev);
      r->m.events++;
      uint32_t j = EV_ID(ev.data);
      switch (EV_KIND(ev.data)) {
      case EV_END:
      case EV_KILL:
        if (EV_EPOCH(ev.data) != ((EV_KIND(ev.data) == EV_END ? L.endver[j] : L.epoch[j]) & 0x1fffffffu) ||
            !sched_job_running(L.s, j))
          break;
        uint32_t nr;
        const sched_range *rg = sched_job_ranges(L.s, j, &nr);
        stop_run(&L, j, t, EV_KIND(ev.data) == EV_END ? STOP_FINISHED : STOP_KILLED, 0, rg, nr);
        sched_end(L.s, j, t, 0);
        finish_job(&L, j, t, EV_KIND(ev.data) == EV_END ? REPLAY_FINISHED : REPLAY_KILLED);
        break;
      case EV_FAIL:
        failure(&L, t);
        schedule_failure(&L, t);
        break;
      case EV_REPAIR:
        if (!--L.down[j]) {
          sched_pool_set_down(L.pool, j, 0);
          L.ndown--;
        }
        break;
      case EV_LINK_REPAIR: {
        uint32_t both[2] = {j, hw_link_reverse(c, j)};
        link_fault(&L, both, 2, NULL, 0, 0, t);
        break;
      }
      case EV_FAULT_ON:
      case EV_FAULT_OFF:
        link_fault(&L, L.flinks[j], L.nflinks[j], L.fcards[j], L.nfcards[j], EV_KIND(ev.data) == EV_FAULT_ON, t);
        if (EV_KIND(ev.data) == EV_FAULT_ON)
          wk_evq_push(L.q, t + wk_time_from_s(o->faults[j].for_s), EV(EV_FAULT_OFF, 0, j));
        break;
      }
    }
    for (; ai < nrep && submit[ai] == t; ai++) {
      uint32_t i = L.src[ai];
      sched_job sj = {L.cards_of[ai], tenant_of[i], submit[ai],
                      walltime[ai] > 0 ? walltime[ai] : L.work[ai]};
      sched_submit(L.s, ai, &sj, t);
      r->m.events++;
    }
    uint32_t na;
    const sched_action *a = sched_pass(L.s, t, &na);
    r->m.passes++;
    for (uint32_t k = 0; k < na; k++) {
      uint32_t j = a[k].job;
      if (a[k].kind == SCHED_PREEMPT) {
        /* the scheduler already freed the cards and requeued the job: account the run */
        stop_run(&L, j, t, STOP_PREEMPTED, L.o.preempt_checkpoint, a[k].r, a[k].nr);
        r->jobs[L.src[j]].preemptions++;
        r->m.preemptions++;
        continue;
      }
      start_run(&L, j, t);
      if (L.o.walltime_kill && walltime[j] > 0) {
        /* Slurm restarts the time limit on requeue: each run may last the walltime */
        wk_evq_push(L.q, t + walltime[j], EV(EV_KILL, L.epoch[j], j));
      }
    }
    if (L.fab) { /* the jobs whose share of the fabric moved run at their new pace from now */
      uint32_t nch;
      const uint32_t *ch = replay_fab_solve(L.fab, &nch);
      if (L.o.fabric_check && nch && ++nchecks % L.o.fabric_check == 0) {
        double mean, worst;
        ch = replay_fab_drift(L.fab, &mean, &worst, &nch);
        replay_metrics *M = &L.r->m;
        M->fabric_drift_mean += (mean - M->fabric_drift_mean) / (double)++M->fabric_checks;
        if (worst > M->fabric_drift_max) M->fabric_drift_max = worst;
      }
      for (uint32_t k = 0; k < nch; k++) {
        if (!sched_job_running(L.s, ch[k])) continue;
        double st = replay_fab_stretch(L.fab, ch[k]);
        if (isfinite(st)) {
          if (!L.o.fabric_open_loop) rerate(&L, ch[k], t, st, replay_fab_alone(L.fab, ch[k]));
        } else { /* a fault left it no path: interrupted, as by any failure */
          double w = progress(&L, ch[k], t);
          L.r->m.fault_lost_card_s +=
              (w - floor(w / L.ckpt_ns[ch[k]]) * L.ckpt_ns[ch[k]]) * 1e-9 * L.cards_of[ch[k]];
          interrupt(&L, ch[k], t);
        }
      }
    }
  }
  wk_evq_free(L.q);

  /* metrics */
  replay_metrics *M = &r->m;
  double mk = 0;
  for (size_t i = 0; i < n; i++)
    if (r->jobs[i].fate != REPLAY_DROPPED && r->jobs[i].end_s > mk) mk = r->jobs[i].end_s;
  for (; step && next_sample <= wk_time_from_s(mk); next_sample += step) sample(&L, next_sample);
  M->makespan_s = mk;
  M->busy_card_s = L.busy_card_s;
  M->utilization = mk > 0 ? L.busy_card_s / ((double)L.cards * mk) : 0;
  M->mean_queued_jobs = mk > 0 ? L.q_area / mk : 0;
  double *jct = wk_malloc(sizeof(double) * m), *qd = wk_malloc(sizeof(double) * m);
  size_t nj = 0, nq = 0;
  double sum_jct = 0, sum_q = 0, sum_bsd = 0, useful = 0, prod = 0, span = 0;
  for (uint32_t k = 0; k < nrep; k++) {
    const replay_job *rj = &r->jobs[L.src[k]];
    if (rj->start_s >= 0) {
      qd[nq++] = rj->start_s - rj->submit_s;
      sum_q += rj->start_s - rj->submit_s;
    }
    if (rj->end_s < 0) continue;
    double tj = rj->end_s - rj->submit_s;
    jct[nj++] = tj;
    sum_jct += tj;
    sum_bsd += fmax(1.0, tj / fmax(rj->runtime_s, 10.0));
    if (rj->fate == REPLAY_FINISHED) {
      useful += (double)rj->cards * rj->runtime_s;
      prod += (double)rj->cards * L.productive_s[k];
      span += (double)rj->cards * (rj->end_s - rj->start_s);
    }
  }
  qsort(jct, nj, sizeof(double), cmp_double);
  qsort(qd, nq, sizeof(double), cmp_double);
  M->avg_jct_s = nj ? sum_jct / (double)nj : 0;
  M->p50_jct_s = pct(jct, nj, 0.5);
  M->p99_jct_s = pct(jct, nj, 0.99);
  M->avg_queue_s = nq ? sum_q / (double)nq : 0;
  M->p99_queue_s = pct(qd, nq, 0.99);
  M->bounded_slowdown = nj ? sum_bsd / (double)nj : 0;
  M->useful_card_s = useful;
  M->goodput = L.busy_card_s > 0 ? useful / L.busy_card_s : 1;
  M->ettr = span > 0 ? prod / span : 1;
  /* what each job's runs cost it beyond its reference, and beyond running alone on its cards */
  size_t ns = 0;
  double sw = 0, swc = 0;
  for (uint32_t k = 0; k < nrep; k++) {
    replay_job *rj = &r->jobs[L.src[k]];
    if (!L.fab) continue;
    const replay_shape *sh = replay_wl_shape(r->wl, L.shape[k]);
    rj->workload = L.shape[k];
    if (!(L.work_all[k] > 0)) continue;
    rj->iter_ideal_s = sh->iter_ref_s;
    rj->iter_actual_s = sh->iter_ref_s * L.wall_all[k] / L.work_all[k];
    rj->slowdown = L.alone_all[k] > 0 ? L.wall_all[k] / L.alone_all[k] : 1;
    if (rj->fate != REPLAY_FINISHED) continue;
    jct[ns++] = rj->slowdown; /* jct is free again: it holds the slowdowns now */
    sw += (double)rj->cards * rj->slowdown;
    swc += (double)rj->cards;
    M->jobs_slowed += rj->slowdown > 1.05;
  }
  qsort(jct, ns, sizeof(double), cmp_double);
  M->contention_slowdown_mean = swc > 0 ? sw / swc : 1;
  M->contention_slowdown_p99 = ns ? pct(jct, ns, 0.99) : 1;
  M->jobs_slowed = ns ? M->jobs_slowed / (double)ns : 0;
  if (L.fab) {
    for (int k = 1; k <= M->fabric_tiers; k++)
      M->fabric_util_by_tier[k - 1] = mk > 0 ? L.tier_area[k] / mk : 0;
    replay_fab_stats fs;
    replay_fab_get_stats(L.fab, &fs);
    M->fabric_solves = fs.solves;
    M->fabric_evals = fs.evals;
    M->fabric_entries = fs.entries_visited;
    M->fabric_full_evals = fs.full_evals;
    M->fabric_full_entries = fs.full_entries;
    M->fabric_handovers = fs.handovers;
    M->workloads = replay_wl_count(r->wl);
  }
  replay_fab_free(L.fab);
  for (uint32_t f = 0; L.flinks && f < o->nfaults; f++) {
    wk_free(L.flinks[f]);
    wk_free(L.fcards[f]);
  }
  wk_free(jct);
  wk_free(qd);
  sched_free(L.s);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  M->wall_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  if (rc != WK_OK) {
    replay_free(r);
    return rc;
  }
  *out = r;
  return WK_OK;
}

wk_errcode replay_run(const hw_cluster *c, const trace *t, const replay_opts *o, replay **out, wk_err *err) {
  return replay_run_jobs(c, trace_jobs(t), trace_njobs(t), t, o, out, err);
}
