/* cmd_train.c — `wanka train`: one training step of a transformer on a cluster model, with
 * Megatron-LM's words for the layout; prints step time, throughput, TFLOP/s and MFU per card,
 * memory per card and the time breakdown, as text or one JSON object, and optionally writes a
 * Chrome trace-event timeline of the pipeline (atomically). */
#include "cli.h"
#include "work/work.h"

#include <jansson.h>
#include <string.h>

/* Options of one invocation: a local, so two calls in one process never share state. */
typedef struct train_args {
  const char *cluster, *model, *recompute, *dtype, *timeline, *attn, *report, *cp_comm;
  int64_t layers, hidden, heads, kv, ffn, vocab, experts, topk, seq, gbs, mbs, tp, pp, vpp, dp,
      cp, ep, cards, zero, level, pp_first, pp_last;
  int json, nosp, nooverlap, dpcont, nocont, moe_overlap;
  double imbalance, capacity;
} train_args;

void cli_put_breakdown(json_t *o, const work_breakdown *b) {
  json_t *d = json_object();
  json_object_set_new(d, "compute_s", json_real(b->compute));
  json_object_set_new(d, "tp_s", json_real(b->tp));
  json_object_set_new(d, "pp_s", json_real(b->pp));
  json_object_set_new(d, "dp_s", json_real(b->dp));
  json_object_set_new(d, "ep_s", json_real(b->ep));
  json_object_set_new(d, "cp_s", json_real(b->cp));
  json_object_set_new(d, "bubble_s", json_real(b->bubble));
  json_object_set_new(d, "optimizer_s", json_real(b->optimizer));
  json_object_set_new(d, "overlap_s", json_real(b->overlap));
  json_object_set_new(o, "breakdown", d);
}

int cli_check_dtype(const hw_cluster *c, const char *cluster, int d) {
  const hw_accel *a = &hw_cfg(c)->accel;
  if (d != (int)WORK_FP8 || a->fp8_flops > a->bf16_flops) return 0;
  char peak[32];
  return cli_fail("--dtype fp8: %s has no FP8 units (its FP8 peak is its BF16 one, %s), so an "
                  "FP8 step would be a BF16 step; use --dtype bf16, or ask what FP8 units would "
                  "give with --cluster %s%saccelerator.fp8_tflops=%.0f",
                  a->name, wk_fmt_si(a->bf16_flops, "FLOP/s", peak, sizeof peak), cluster,
                  strchr(cluster, ':') ? "," : ":", 2 * a->bf16_flops / 1e12);
}

int cli_check_attn(const hw_cluster *c, const char *cluster, int k) {
  const hw_accel *a = &hw_cfg(c)->accel;
  if (work_attn_available(a, (work_attn)k)) return 0;
  return cli_fail("--attention %s: %s has no published FlashAttention-3 speeds (the kernel needs "
                  "Hopper's TMA and wgmma); use --attention flash2, or give its speeds with "
                  "--cluster %s%saccelerator.flash3_fwd_tflops=F,accelerator.flash3_bwd_tflops=B",
                  work_attn_name((work_attn)k), a->name, cluster, strchr(cluster, ':') ? "," : ":");
}

/* One change that might make a job fit, tried on the model: memory is the same at every
 * level, so it is timed at level 0 alone. Appends "--zero 3 needs 61.2 GB (fits)" to buf at *k when
 * the change is valid and needs less memory than `now`; 1 when it fits. */
static int try_fit(work_ctx *x, const work_job *alt0, double now, const char *what, char *buf,
                   size_t n, size_t *k) {
  work_job alt = *alt0;
  alt.level = 0;
  alt.dp_contention = 0;
  work_result r;
  wk_err e;
  if (work_train_step(x, &alt, &r, &e) || !(r.mem.total < now - 1e6)) return 0;
  if (*k < n)
    *k += (size_t)snprintf(buf + *k, n - *k, "%s%s needs %.1f GB%s", *k ? ", " : "", what,
                           r.mem.total / 1e9, r.fits ? " (fits)" : "");
  return r.fits;
}

/* The lowest ZeRO level above j's that fits, else the highest (it saves the most): the level
 * to try, or -1 when there is nothing to shard over (DP x CP of 1) or j is at ZeRO 3. */
static int zero_to_try(work_ctx *x, const work_job *j) {
  if (j->zero >= 3 || j->dp * j->cp <= 1) return -1;
  for (int z = j->zero + 1; z < 3; z++) {
    work_job alt = *j;
    alt.zero = z;
    alt.level = 0;
    alt.dp_contention = 0;
    work_result r;
    wk_err e;
    if (!work_train_step(x, &alt, &r, &e) && r.fits) return z;
  }
  return 3;
}

/* The advice for a step that does not fit: by how much (work_fit_advice), then each change of
 * this command's options that lowers the memory, tried on the model, with what it needs:
 * ZeRO only where there is DP (or CP) to shard over, recomputation or a micro-batch only
 * when they were given, TP within the scale-up domain, PP; and `wanka plan` when the model
 * has a name. */
static const char *fit_advice(work_ctx *x, const hw_cluster *c, const work_job *j,
                              const work_result *r, const train_args *a, char *buf, size_t n) {
  char tries[512] = "", what[64];
  size_t k = 0;
  int fits = 0;
  double now = r->mem.total;
  int z = zero_to_try(x, j);
  if (z > 0) {
    work_job alt = *j;
    alt.zero = z;
    snprintf(what, sizeof what, "--zero %d", z);
    fits |= try_fit(x, &alt, now, what, tries, sizeof tries, &k);
  }
  if (j->recompute != WORK_RECOMPUTE_AUTO && j->recompute != WORK_RECOMPUTE_FULL) {
    work_job alt = *j;
    alt.recompute = WORK_RECOMPUTE_FULL;
    fits |= try_fit(x, &alt, now, "--recompute full", tries, sizeof tries, &k);
  }
  if (j->mbs > 1) {
    work_job alt = *j;
    alt.mbs = 1;
    fits |= try_fit(x, &alt, now, "--mbs 1", tries, sizeof tries, &k);
  }
  uint32_t dom = hw_level_cards(c, HW_LEVEL_SUPERNODE), cards = work_job_cards(j);
  if ((uint32_t)j->tp * 2 <= dom && j->dp % 2 == 0) { /* same cards: DP gives way */
    work_job alt = *j;
    alt.tp *= 2;
    alt.dp /= 2;
    if (a->dp) snprintf(what, sizeof what, "--tp %d --dp %d", alt.tp, alt.dp);
    else snprintf(what, sizeof what, "--tp %d", alt.tp); /* --cards holds: DP follows */
    fits |= try_fit(x, &alt, now, what, tries, sizeof tries, &k);
  }
  if (j->dp % 2 == 0 && j->pp * 2 <= j->model.layers) {
    work_job alt = *j;
    alt.pp *= 2;
    alt.dp /= 2;
    alt.vpp = 0;
    alt.pp_first = alt.pp_last = 0;
    if (a->dp) snprintf(what, sizeof what, "--pp %d --dp %d", alt.pp, alt.dp);
    else snprintf(what, sizeof what, "--pp %d", alt.pp); /* --cards holds: DP follows */
    fits |= try_fit(x, &alt, now, what, tries, sizeof tries, &k);
  }
  size_t m = strlen(work_fit_advice(j, r, buf, n));
  if (k && m < n)
    m += (size_t)snprintf(buf + m, n - m, "; changed alone, %s", tries);
  if (!fits && a->model && m < n)
    snprintf(buf + m, n - m, "; 'wanka plan --cluster %s --model %s --cards %u --seq %d --gbs %d' "
             "searches every layout", a->cluster, a->model, cards, j->seq, j->gbs);
  else if (!k && m < n)
    snprintf(buf + m, n - m, "; use more cards, a shorter --seq or a card with more HBM");
  return buf;
}

/* What-ifs the hardware contradicts but the model can still answer: one line each (stderr, and
 * "notes" in the JSON). Returns how many were written to notes[]. */
static int train_notes(const hw_cluster *c, const work_job *j, char notes[][256]) {
  const hw_config *cfg = hw_cfg(c);
  int n = 0;
  uint32_t dom = hw_level_cards(c, HW_LEVEL_SUPERNODE);
  if ((uint32_t)j->tp > dom) {
    char nic[32], bus[32];
    snprintf(notes[n++], 256,
             "TP %d spans %u scale-up domains of %u cards: its collectives cross the NICs (%s "
             "per card) instead of the scale-up bus (%s)",
             j->tp, ((uint32_t)j->tp + dom - 1) / dom, dom,
             wk_fmt_si(cfg->nics_per_card * cfg->nic_bytes_per_s, "B/s", nic, sizeof nic),
             dom > 1 ? wk_fmt_si(cfg->scaleup_bytes_per_s, "B/s", bus, sizeof bus) : "none");
  }
  return n;
}

/* The report of one step: its figures, its breakdown and its memory. Takes rep_out; 0 or 2. */
static int train_report(cli_report *rep_out, const work_job *j, const work_result *r,
                        const char *cluster) {
  char title[256], sub[256], name[96], b[64];
  snprintf(title, sizeof title, "wanka train: %s on %s", j->model.name, cluster);
  snprintf(name, sizeof name, "TP %d PP %d VPP %d DP %d CP %d EP %d", j->tp, j->pp, r->vpp, j->dp,
           j->cp, j->ep);
  snprintf(sub, sizeof sub, "%lld cards, %s, micro-batch %d, recompute %s", (long long)work_job_cards(j),
           name, r->mbs, work_recompute_name(r->recompute));
  rp_report *rep = rp_report_new(title, sub);
  rp_report_section(rep, "One training step", NULL);
  rp_report_table(rep, NULL, 2, (const char *const[]){"figure", "value"});
  snprintf(b, sizeof b, "%.4g s", r->step_time_s);
  rp_report_row(rep, (const char *const[]){"step time", b});
  snprintf(b, sizeof b, "%.4g", r->tokens_per_s);
  rp_report_row(rep, (const char *const[]){"tokens per second", b});
  snprintf(b, sizeof b, "%.1f", r->tflops_per_card);
  rp_report_row(rep, (const char *const[]){"TFLOP/s per card (hardware)", b});
  snprintf(b, sizeof b, "%.1f %%", 100 * r->mfu);
  rp_report_row(rep, (const char *const[]){"MFU", b});
  snprintf(b, sizeof b, "%.1f of %.1f GB", r->mem.total / 1e9, r->hbm_bytes / 1e9);
  rp_report_row(rep, (const char *const[]){"memory per card", b});
  const char *names[1] = {name};
  const work_result *res[1] = {r};
  cli_report_steps(rep, names, res, 1);
  int rc = cli_report_commit(rep_out, rep);
  rp_report_free(rep);
  return rc;
}

/* Which settings were chosen by the model (not given). */
typedef struct train_chosen {
  int mbs, recompute, vpp, split;
  int attn;         /* flash was asked for: the kernel is the best the card has */
  work_attn kernel; /* the attention kernel that runs (flash resolved) */
} train_chosen;

/* "7 + 14 x 8 + 7" (first, middle stages x layers, last) or "8 each" when the stages are equal. */
static void stage_text(const work_job *j, const work_result *r, char *buf, size_t n) {
  int f = r->layers_first, mid = r->layers_mid, l = r->layers_last, p = j->pp;
  if (p == 1) snprintf(buf, n, "%d", f);
  else if (f == l && (p == 2 || mid == f)) snprintf(buf, n, "%d each", f);
  else if (p == 2) snprintf(buf, n, "%d + %d", f, l);
  else snprintf(buf, n, "%d + %d x %d + %d", f, p - 2, mid, l);
}

static void print_json(const work_job *j, const work_result *r, const char *cluster,
                       const train_chosen *ch, char notes[][256], int nnotes) {
  json_t *o = json_object(), *lay = json_object(), *mem = json_object(), *mod = json_object();
  json_object_set_new(o, "cluster", json_string(cluster));
  json_object_set_new(mod, "name", json_string(j->model.name));
  json_object_set_new(mod, "layers", json_integer(j->model.layers));
  json_object_set_new(mod, "hidden", json_integer(j->model.hidden));
  json_object_set_new(mod, "heads", json_integer(j->model.heads));
  json_object_set_new(mod, "params", json_real(work_model_params(&j->model)));
  json_object_set_new(mod, "active_params", json_real(work_model_active_params(&j->model)));
  json_object_set_new(o, "model", mod);
  json_object_set_new(o, "step_time_s", json_real(r->step_time_s));
  json_object_set_new(o, "tokens_per_s", json_real(r->tokens_per_s));
  json_object_set_new(o, "tflops_per_card", json_real(r->tflops_per_card));
  json_object_set_new(o, "mfu", json_real(r->mfu));
  json_object_set_new(o, "memory_bytes_per_card", json_real(r->mem.total));
  json_object_set_new(o, "hbm_bytes_per_card", json_real(r->hbm_bytes));
  json_object_set_new(o, "fits", json_boolean(r->fits));
  cli_put_breakdown(o, &r->b);
  json_object_set_new(mem, "weights", json_real(r->mem.weights));
  json_object_set_new(mem, "grads", json_real(r->mem.grads));
  json_object_set_new(mem, "optimizer", json_real(r->mem.optimizer));
  json_object_set_new(mem, "activations", json_real(r->mem.activations));
  json_object_set_new(mem, "other", json_real(r->mem.other));
  json_object_set_new(o, "memory", mem);
  json_object_set_new(lay, "cards", json_integer(work_job_cards(j)));
  json_object_set_new(lay, "tp", json_integer(j->tp));
  json_object_set_new(lay, "pp", json_integer(j->pp));
  json_object_set_new(lay, "vpp", json_integer(r->vpp));
  json_object_set_new(lay, "vpp_chosen", json_boolean(ch->vpp));
  json_t *stages = json_array();
  for (int d = 0; d < j->pp; d++)
    json_array_append_new(stages, json_integer(work_stage_layers(r, j->pp, d)));
  json_object_set_new(lay, "stage_layers", stages);
  json_object_set_new(lay, "stage_layers_chosen", json_boolean(ch->split));
  json_object_set_new(lay, "dp", json_integer(j->dp));
  json_object_set_new(lay, "cp", json_integer(j->cp));
  json_object_set_new(lay, "ep", json_integer(j->ep));
  json_object_set_new(lay, "cp_comm", json_string(work_cp_comm_name(j->cp_comm)));
  json_object_set_new(lay, "mbs", json_integer(r->mbs));
  json_object_set_new(lay, "mbs_chosen", json_boolean(ch->mbs));
  json_object_set_new(lay, "microbatches", json_integer(r->microbatches));
  json_object_set_new(lay, "recompute", json_string(work_recompute_name(r->recompute)));
  json_object_set_new(lay, "recompute_chosen", json_boolean(ch->recompute));
  json_object_set_new(lay, "zero", json_integer(j->zero));
  json_object_set_new(lay, "sequence_parallel", json_boolean(j->seq_par && j->tp > 1));
  json_object_set_new(lay, "dtype", json_string(work_dtype_name(j->dtype)));
  json_object_set_new(lay, "attention", json_string(work_attn_name(ch->kernel)));
  json_object_set_new(lay, "attention_chosen", json_boolean(ch->attn));
  json_object_set_new(o, "layout", lay);
  json_object_set_new(o, "level", json_integer(j->level));
  json_object_set_new(o, "dp_contention", json_boolean(j->dp_contention));
  if (j->model.experts) {
    json_t *moe = json_object();
    json_object_set_new(moe, "imbalance", json_real(j->moe_imbalance));
    json_object_set_new(moe, "capacity_factor", json_real(j->capacity_factor));
    json_object_set_new(moe, "load", json_real(r->moe_load));
    json_object_set_new(moe, "dropped", json_real(r->moe_dropped));
    json_object_set_new(moe, "overlap", json_boolean(j->moe_overlap));
    json_object_set_new(o, "moe", moe);
  }
  json_t *na = json_array();
  for (int i = 0; i < nnotes; i++) json_array_append_new(na, json_string(notes[i]));
  json_object_set_new(o, "notes", na);
  cli_print_json(o, 8);
}

static void print_text(const work_job *j, const work_result *r, const hw_cluster *c,
                       const char *cluster, const train_chosen *ch) {
  const work_model *m = &j->model;
  double st = r->step_time_s, pc = 100 / st;
  printf("model      %s: %d layers, hidden %d, %d heads (%d KV), %.1f B params", m->name,
         m->layers, m->hidden, m->heads, m->kv_heads, work_model_params(m) / 1e9);
  if (m->experts)
    printf(" (%.1f B active; %d experts, top-%d)", work_model_active_params(m) / 1e9, m->experts,
           m->top_k);
  printf("\ncluster    %s, %u cards; job on cards 0-%u (packed)\n", cluster, hw_cards(c),
         work_job_cards(j) - 1);
  char stages[64];
  stage_text(j, r, stages, sizeof stages);
  printf("layout     TP %d x PP %d (VPP %d%s; layers per stage %s%s) x DP %d x CP %d, EP %d; "
         "seq %d, global batch %d\n",
         j->tp, j->pp, r->vpp, ch->vpp && j->pp > 1 ? ", chosen" : "", stages,
         ch->split ? ", balanced" : "", j->dp, j->cp, j->ep, j->seq, j->gbs);
  printf("           micro-batch %d%s, %d micro-batches; recompute %s%s; ZeRO %d; SP %s; %s; "
         "attention %s%s\n",
         r->mbs, ch->mbs ? " (chosen: fastest that fits)" : "", r->microbatches,
         work_recompute_name(r->recompute), ch->recompute ? " (chosen: fastest that fits)" : "",
         j->zero, j->seq_par && j->tp > 1 ? "on" : "off", work_dtype_name(j->dtype),
         work_attn_name(ch->kernel), ch->attn ? " (flash: the best the card has)" : "");
  if (j->cp > 1)
    printf("           CP: K,V %s\n",
           j->cp_comm == WORK_CP_ALLGATHER
               ? "all-gathered before the attention, gradients reduce-scattered (exposed)"
               : "passed around the ring behind the attention (p2p; --cp-comm allgather: "
                 "gathered first, exposed)");
  if (j->dp_contention && j->level > 0)
    printf("           DP%s%s collectives timed with every group at once, sharing the fabric "
           "(%d DP groups; --no-contention: one alone)\n",
           j->cp > 1 ? ", CP" : "", j->ep > 1 ? ", EP" : "", j->tp * j->pp * j->cp);
  if (m->experts && j->ep > 1) {
    char cap[64] = "dropless";
    if (j->capacity_factor > 0)
      snprintf(cap, sizeof cap, "capacity factor %g, %.1f %% of its tokens dropped",
               j->capacity_factor, 100 * r->moe_dropped);
    printf("           MoE: busiest EP rank %.3g x the mean tokens (imbalance %g, %s); EP "
           "all-to-all %s\n",
           r->moe_load, j->moe_imbalance, cap,
           j->moe_overlap ? "overlapped with compute (DualPipe-style)" : "blocking");
  }
  printf("step       %.4g s per iteration, %.4g tokens/s\n", st, r->tokens_per_s);
  printf("per card   %.1f TFLOP/s (hardware, incl. recompute), MFU %.1f %%\n", r->tflops_per_card,
         100 * r->mfu);
  printf("memory     %.1f GB of %.1f GB per card (weights %.1f, grads %.1f, optimizer %.1f, "
         "activations %.1f, other %.1f): %s\n",
         r->mem.total / 1e9, r->hbm_bytes / 1e9, r->mem.weights / 1e9, r->mem.grads / 1e9,
         r->mem.optimizer / 1e9, r->mem.activations / 1e9, r->mem.other / 1e9,
         r->fits ? "fits" : "DOES NOT FIT");
  const work_breakdown *b = &r->b;
  printf("breakdown  compute %.4g s (%.1f %%), exposed TP %.3g s (%.1f %%), PP %.3g s (%.1f %%), "
         "DP %.3g s (%.1f %%), EP %.3g s (%.1f %%), CP %.3g s (%.1f %%), bubble %.3g s (%.1f %%), "
         "optimizer %.3g s (%.1f %%), overlap slowdown %.3g s (%.1f %%)\n",
         b->compute, b->compute * pc, b->tp, b->tp * pc, b->pp, b->pp * pc, b->dp, b->dp * pc,
         b->ep, b->ep * pc, b->cp, b->cp * pc, b->bubble, b->bubble * pc, b->optimizer,
         b->optimizer * pc, b->overlap, b->overlap * pc);
}

int cmd_train(int argc, char **argv) {
  train_args a = {0};
  a.zero = a.vpp = a.pp_first = a.pp_last = -1; /* -1: not given */
  a.imbalance = a.capacity = -1;
  const cli_opt train_opts[] = {
      {"cluster", CLI_STR, &a.cluster, "C", "cluster preset or YAML file (NAME[:key=value,...])",
       0, 0},
      {"model", CLI_STR, &a.model, "M", "model preset (e.g. gpt3-175b, llama3-70b) or YAML file",
       0, 0},
      {"layers", CLI_INT, &a.layers, "L", "...or the shape: layers", 1, 100000},
      {"hidden", CLI_INT, &a.hidden, "H", "hidden size", 1, 1 << 20},
      {"heads", CLI_INT, &a.heads, "A", "attention heads", 1, 1 << 16},
      {"kv-heads", CLI_INT, &a.kv, "K", "key/value heads (GQA; default = heads)", 1, 1 << 16},
      {"ffn-hidden", CLI_INT, &a.ffn, "F", "MLP hidden size (default 4 x hidden)", 1, 1 << 24},
      {"vocab", CLI_INT, &a.vocab, "V", "vocabulary (default 51200)", 1, 1 << 24},
      {"experts", CLI_INT, &a.experts, "E", "routed experts (MoE)", 0, 1 << 16},
      {"top-k", CLI_INT, &a.topk, "k", "experts per token", 1, 1 << 16},
      {"seq", CLI_INT, &a.seq, "S", "sequence length (tokens)", 1, 1 << 24},
      {"gbs", CLI_INT, &a.gbs, "G", "global batch (sequences per step)", 1, 1 << 24},
      {"mbs", CLI_INT, &a.mbs, "M", "micro-batch (default: the fastest that fits)", 1, 1 << 20},
      {"tp", CLI_INT, &a.tp, "T", "tensor parallel size", 1, 1 << 16},
      {"pp", CLI_INT, &a.pp, "P", "pipeline parallel size", 1, 1024},
      {"vpp", CLI_INT, &a.vpp, "V",
       "virtual stages per device (interleaved 1F1B; default: the fastest that fits; 1 = 1F1B)",
       1, 1024},
      {"pp-first-layers", CLI_INT, &a.pp_first, "N",
       "layers on the first pipeline stage (default: even, or balanced when uneven)", 1, 100000},
      {"pp-last-layers", CLI_INT, &a.pp_last, "N",
       "layers on the last pipeline stage (the rest even over the middle stages)", 1, 100000},
      {"dp", CLI_INT, &a.dp, "D", "data parallel size (default cards / (tp pp cp))", 1, 1 << 24},
      {"cp", CLI_INT, &a.cp, "C", "context parallel size (default 1)", 1, 1 << 16},
      {"ep", CLI_INT, &a.ep, "E", "expert parallel size (default 1; carved out of DP)", 1, 1 << 16},
      {"cards", CLI_INT, &a.cards, "N", "cards of the job (default tp pp dp cp)", 1, CLI_MAX_CARDS},
      {"recompute", CLI_STR, &a.recompute, "R", "none|selective|full (default: fastest that fits)",
       0, 0},
      {"zero", CLI_INT, &a.zero, "Z", "0 none, 1 distributed optimizer (default), 2, 3", 0, 3},
      {"dtype", CLI_STR, &a.dtype, "D", "bf16|fp16|fp8 (default bf16)", 0, 0},
      {"attention", CLI_STR, &a.attn, "A",
       "flash2|flash3|unfused, or flash (default): flash3 where the card has its published "
       "speeds (H100, H800), else flash2", 0, 0},
      {"cp-comm", CLI_STR, &a.cp_comm, "M",
       "context parallelism: p2p (ring attention, overlapped; default) or allgather (K,V "
       "gathered before the attention, exposed: Llama 3)", 0, 0},
      {"no-seq-par", CLI_FLAG, &a.nosp, NULL, "turn off sequence parallelism", 0, 0},
      {"no-overlap", CLI_FLAG, &a.nooverlap, NULL, "reduce gradients after the backward pass",
       0, 0},
      {"dp-contention", CLI_FLAG, &a.dpcont, NULL,
       "time DP, CP and EP collectives with every group at once, sharing the fabric (the "
       "default at level 1, 2)", 0, 0},
      {"no-contention", CLI_FLAG, &a.nocont, NULL,
       "time each DP, CP and EP collective for one group alone on the fabric", 0, 0},
      {"moe-imbalance", CLI_DOUBLE, &a.imbalance, "F",
       "MoE: the busiest EP rank's routed tokens over the mean (default 1, balanced; >= 1)", 0,
       1e6},
      {"capacity-factor", CLI_DOUBLE, &a.capacity, "F",
       "MoE: expert capacity in mean loads, tokens beyond it dropped (default: dropless; > 0)",
       0, 1e6},
      {"moe-overlap", CLI_FLAG, &a.moe_overlap, NULL,
       "MoE: overlap the EP all-to-all with another micro-batch's compute (DualPipe-style)", 0,
       0},
      {"level", CLI_INT, &a.level, "0|1|2", "collective fidelity level (default 0)", CLI_LEVELS},
      {"json", CLI_FLAG, &a.json, NULL, "print one JSON object", 0, 0},
      {"timeline", CLI_STR, &a.timeline, "FILE",
       "write a Chrome trace-event timeline (Perfetto; - is stdout)", 0, 0},
      {"report", CLI_STR, &a.report, "FILE.html",
       "write an HTML report (the step's breakdown and memory) and FILE.data.json", 0, 0},
      {0},
  };
  const cli_cmd train_cmd = {
      "train",
      "wanka train --cluster C (--model M | --layers L --hidden H --heads A ...) --seq S --gbs G "
      "--tp T --pp P [--dp D | --cards N] [options]",
      "Time one training step (one global batch) of a transformer under TP/PP/DP/CP/EP.", train_opts};
  char *pos[1];
  int npos, r;
  if ((r = cli_parse(&train_cmd, argc, argv, pos, 0, &npos))) return r == 1 ? 0 : r;
  if (!a.cluster) return cli_fail("train needs --cluster (a preset such as dgx-a100, or a YAML file)");
  work_job j;
  work_job_init(&j);
  wk_err err;
  int shape = a.layers || a.hidden || a.heads;
  if (a.model && shape) return cli_fail("give --model or the shape (--layers/--hidden/--heads), not both");
  if (a.model) {
    if (work_model_get(&j.model, a.model, &err)) return cli_fail_model(&err, a.model);
  } else {
    if (!a.layers || !a.hidden || !a.heads)
      return cli_fail("train needs --model, or --layers, --hidden and --heads");
    snprintf(j.model.name, sizeof j.model.name, "custom");
    j.model.layers = (int)a.layers;
    j.model.hidden = (int)a.hidden;
    j.model.heads = (int)a.heads;
    j.model.kv_heads = (int)a.kv;
    j.model.ffn_hidden = (int)a.ffn;
    j.model.vocab = (int)a.vocab;
    j.model.experts = (int)a.experts;
    j.model.top_k = (int)a.topk;
    j.model.tied_embeddings = 1;
    if (work_model_check(&j.model, &err)) return cli_fail_err(&err);
  }
  if (!a.seq || !a.gbs) return cli_fail("train needs --seq and --gbs");
  if (!a.tp || !a.pp) return cli_fail("train needs --tp and --pp");
  j.seq = (int)a.seq;
  j.gbs = (int)a.gbs;
  j.mbs = (int)a.mbs;
  j.tp = (int)a.tp;
  j.pp = (int)a.pp;
  j.vpp = a.vpp == -1 ? 0 : (int)a.vpp; /* 0: chosen */
  j.pp_first = a.pp_first == -1 ? 0 : (int)a.pp_first;
  j.pp_last = a.pp_last == -1 ? 0 : (int)a.pp_last;
  j.cp = a.cp ? (int)a.cp : 1;
  j.ep = a.ep ? (int)a.ep : 1;
  j.level = (int)a.level;
  if (a.zero != -1) j.zero = (int)a.zero;
  j.seq_par = !a.nosp;
  j.overlap_dp = !a.nooverlap;
  if (a.dpcont && !a.level)
    return cli_fail("--dp-contention needs --level 1 or 2: level 0 has no fabric to share");
  if (a.dpcont && a.nocont) return cli_fail("give --dp-contention or --no-contention, not both");
  j.dp_contention = a.level > 0 && !a.nocont; /* the default at levels 1 and 2 */
  if (a.imbalance >= 0 && a.imbalance < 1)
    return cli_fail("--moe-imbalance %g: the busiest expert rank takes at least the mean (give "
                    "1 or more; 1 = balanced)", a.imbalance);
  if (a.capacity >= 0 && !(a.capacity > 0))
    return cli_fail("--capacity-factor %g: give a capacity factor > 0 (tokens an expert takes, "
                    "in mean loads; leave it out for dropless)", a.capacity);
  if ((a.imbalance >= 0 || a.capacity >= 0 || a.moe_overlap) && !j.model.experts)
    return cli_fail("--moe-imbalance, --capacity-factor and --moe-overlap need a model with "
                    "experts (%s has none)", j.model.name);
  if (a.imbalance >= 0) j.moe_imbalance = a.imbalance;
  if (a.capacity >= 0) j.capacity_factor = a.capacity;
  j.moe_overlap = a.moe_overlap;
  if (a.recompute && work_recompute_parse(a.recompute, &j.recompute))
    return cli_fail_unknown("--recompute", a.recompute, cli_recomputes);
  if (a.dtype && work_dtype_parse(a.dtype, &j.dtype))
    return cli_fail_unknown("--dtype", a.dtype, cli_dtypes);
  if (a.attn && work_attn_parse(a.attn, &j.attn))
    return cli_fail_unknown("--attention", a.attn, cli_attentions);
  if (a.cp_comm && work_cp_comm_parse(a.cp_comm, &j.cp_comm))
    return cli_fail_unknown("--cp-comm", a.cp_comm, cli_cp_comms);
  int64_t base = (int64_t)j.tp * j.pp * j.cp;
  if (a.dp) {
    j.dp = (int)a.dp;
    if (a.cards && a.cards != base * j.dp)
      return cli_fail("cards != tp * pp * dp * cp: --cards %lld but %d x %d x %d x %d = %lld",
                      (long long)a.cards, j.tp, j.pp, j.dp, j.cp, (long long)(base * j.dp));
  } else if (a.cards) {
    if (a.cards % base)
      return cli_fail("cards %% (tp * pp * cp) != 0: %lld cards over TP %d x PP %d x CP %d",
                      (long long)a.cards, j.tp, j.pp, j.cp);
    j.dp = (int)(a.cards / base);
  } else {
    return cli_fail("give --cards N or --dp D (the job's size)");
  }
  cli_out *tl = NULL; /* the timeline's and the report's paths are checked before any work */
  if (a.timeline && !(tl = cli_out_new(a.timeline))) return 2;
  cli_report *rep_out = NULL;
  if (a.report && !(rep_out = cli_report_new(a.report))) {
    cli_out_abort(tl);
    return 2;
  }
  hw_cluster *c = hw_load(a.cluster, &err);
  if (!c) {
    cli_out_abort(tl);
    cli_report_abort(rep_out);
    return cli_fail_cluster(&err, a.cluster);
  }
  if (cli_check_dtype(c, a.cluster, (int)j.dtype) || cli_check_attn(c, a.cluster, (int)j.attn)) {
    cli_out_abort(tl);
    cli_report_abort(rep_out);
    hw_free(c);
    return 2;
  }
  char notes[4][256];
  int nnotes = train_notes(c, &j, notes);
  work_ctx *x = work_ctx_new(c);
  work_result res;
  int rc = 0;
  train_chosen ch = {j.mbs == 0, j.recompute == WORK_RECOMPUTE_AUTO, j.vpp == 0, 0,
                     j.attn == WORK_ATTN_FLASH, work_attn_kernel(&hw_cfg(c)->accel, j.attn)};
  if (work_train_step(x, &j, &res, &err)) {
    rc = cli_fail("%s", err.msg);
  } else if (!res.fits) {
    char adv[1536];
    rc = cli_fail("%s", fit_advice(x, c, &j, &res, &a, adv, sizeof adv));
  } else {
    if (tl) {
      FILE *f = cli_out_begin(tl);
      if (!f) {
        rc = 2;
      } else {
        work_train_timeline(x, &j, &res, f); /* a write error stays in f: commit reports it */
        rc = cli_out_commit(&tl, 1);
      }
      tl = NULL; /* freed by begin (on failure) or commit */
    }
    if (!rc && rep_out) {
      rc = train_report(rep_out, &j, &res, a.cluster);
      rep_out = NULL;
    }
    if (!rc) {
      /* balanced: neither end given and the stages unequal */
      ch.split = !j.pp_first && !j.pp_last && j.pp > 1 && j.model.layers % (j.pp * res.vpp);
      /* the cluster as given, tweaks included, so that runs on tweaked clusters differ */
      for (int i = 0; i < nnotes; i++) fprintf(stderr, "note: %s\n", notes[i]);
      if (a.json) print_json(&j, &res, a.cluster, &ch, notes, nnotes);
      else print_text(&j, &res, c, a.cluster, &ch);
    }
  }
  cli_out_abort(tl); /* still held when the step failed: the old timeline stays */
  cli_report_abort(rep_out);
  work_ctx_free(x);
  hw_free(c);
  return rc;
}
