/* models.c — the built-in transformer presets (one row per models/NAME.yaml file, which the unit
 * test checks agree), a reader for model YAML files (flat key: value, via libyaml so errors
 * carry line and column), and parameter counts. Sources are cited in each row's `source`. */
#include "work.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* name, layers, hidden, heads, kv_heads, ffn_hidden, vocab, gated_mlp, experts, top_k,
 * shared_experts, moe_ffn_hidden, dense_layers, tied_embeddings, source[, expert_groups,
 * group_topk[, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim,
 * mtp_layers]]. */
const work_model work_models[] = {
    {"gpt3-175b", 96, 12288, 96, 96, 49152, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Brown et al. 2020 (GPT-3) Table 2.1; Megatron vocab padded to 51200", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-1.7b", 24, 2304, 24, 24, 9216, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-3.6b", 30, 3072, 32, 32, 12288, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-7.5b", 36, 4096, 32, 32, 16384, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-18.4b", 40, 6144, 48, 48, 24576, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-39.1b", 48, 8192, 64, 64, 32768, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-76.1b", 60, 10240, 80, 80, 40960, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-145.6b", 80, 12288, 96, 96, 49152, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-310.1b", 96, 16384, 128, 128, 65536, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-529.6b", 105, 20480, 128, 128, 81920, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-1t", 128, 25600, 160, 160, 102400, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings", 0, 0, 0, 0, 0, 0, 0, 0},
    {"megatron-22b", 48, 6144, 64, 64, 24576, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Korthikanti et al. 2022 (arXiv 2205.05198) Table 5", 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3-8b", 32, 4096, 32, 8, 14336, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3", 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3-70b", 80, 8192, 64, 8, 28672, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3", 0, 0, 0, 0, 0, 0, 0, 0},
    {"llama3-405b", 126, 16384, 128, 8, 53248, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3", 0, 0, 0, 0, 0, 0, 0, 0},
    {"pangu-ultra-135b", 94, 12288, 96, 8, 28672, 153376, 1, 0, 0, 0, 0, 0, 0,
     "Pangu Ultra (arXiv 2504.07866) Sec. 2: 94 layers, hidden 12288, 96 heads, GQA 8 KV, SwiGLU 28672, vocab 153376", 0, 0, 0, 0, 0, 0, 0, 0},
    {"deepseek-v3", 61, 7168, 128, 128, 18432, 129280, 1, 256, 8, 1, 2048, 3, 0,
     "DeepSeek-V3 report (arXiv 2412.19437) sec 4.2: MLA (q/kv ranks 1536/512, heads 128+64 / 128), 1 MTP module, node-limited routing: 8 groups, top 4", 8, 4,
     1536, 512, 128, 64, 128, 1},
    {"", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", 0, 0, 0, 0, 0, 0, 0, 0},
};

const work_model *work_model_find(const char *name) {
  for (const work_model *m = work_models; m->name[0]; m++)
    if (!strcmp(m->name, name)) return m;
  return NULL;
}

/* Where each key sat in a model file (1-based; 0 = not from a file), so errors found when the
 * whole model is checked point at the line that needs changing. */
enum {
  K_LAYERS, K_HIDDEN, K_HEADS, K_KV_HEADS, K_FFN_HIDDEN, K_VOCAB, K_GATED_MLP, K_EXPERTS, K_TOP_K,
  K_SHARED_EXPERTS, K_MOE_FFN_HIDDEN, K_DENSE_LAYERS, K_TIED_EMBEDDINGS, K_EXPERT_GROUPS,
  K_GROUP_TOPK, K_Q_LORA_RANK, K_KV_LORA_RANK, K_QK_NOPE_HEAD_DIM, K_QK_ROPE_HEAD_DIM,
  K_V_HEAD_DIM, K_MTP_LAYERS, K_NAME, K_SOURCE, K_KEYS
};
typedef struct key_pos {
  int line[K_KEYS], col[K_KEYS];
} key_pos;

/* The integer keys, their largest allowed values (work.h) and where they live in a model. */
static const struct {
  const char *key;
  size_t off;
  int max;
  int boolean; /* 1: a flag, also written true/false; the counts take only digits */
} int_keys[] = {
    [K_LAYERS] = {"layers", offsetof(work_model, layers), WORK_MAX_LAYERS, 0},
    [K_HIDDEN] = {"hidden", offsetof(work_model, hidden), WORK_MAX_HIDDEN, 0},
    [K_HEADS] = {"heads", offsetof(work_model, heads), WORK_MAX_HEADS, 0},
    [K_KV_HEADS] = {"kv_heads", offsetof(work_model, kv_heads), WORK_MAX_HEADS, 0},
    [K_FFN_HIDDEN] = {"ffn_hidden", offsetof(work_model, ffn_hidden), WORK_MAX_FFN_HIDDEN, 0},
    [K_VOCAB] = {"vocab", offsetof(work_model, vocab), WORK_MAX_VOCAB, 0},
    [K_GATED_MLP] = {"gated_mlp", offsetof(work_model, gated_mlp), 1, 1},
    [K_EXPERTS] = {"experts", offsetof(work_model, experts), WORK_MAX_EXPERTS, 0},
    [K_TOP_K] = {"top_k", offsetof(work_model, top_k), WORK_MAX_EXPERTS, 0},
    [K_SHARED_EXPERTS] = {"shared_experts", offsetof(work_model, shared_experts), WORK_MAX_EXPERTS, 0},
    [K_MOE_FFN_HIDDEN] = {"moe_ffn_hidden", offsetof(work_model, moe_ffn_hidden), WORK_MAX_FFN_HIDDEN, 0},
    [K_DENSE_LAYERS] = {"dense_layers", offsetof(work_model, dense_layers), WORK_MAX_LAYERS, 0},
    [K_TIED_EMBEDDINGS] = {"tied_embeddings", offsetof(work_model, tied_embeddings), 1, 1},
    [K_EXPERT_GROUPS] = {"expert_groups", offsetof(work_model, expert_groups), WORK_MAX_EXPERTS, 0},
    [K_GROUP_TOPK] = {"group_topk", offsetof(work_model, group_topk), WORK_MAX_EXPERTS, 0},
    [K_Q_LORA_RANK] = {"q_lora_rank", offsetof(work_model, q_lora_rank), WORK_MAX_HIDDEN, 0},
    [K_KV_LORA_RANK] = {"kv_lora_rank", offsetof(work_model, kv_lora_rank), WORK_MAX_HIDDEN, 0},
    [K_QK_NOPE_HEAD_DIM] = {"qk_nope_head_dim", offsetof(work_model, qk_nope_head_dim), WORK_MAX_HEAD_DIM, 0},
    [K_QK_ROPE_HEAD_DIM] = {"qk_rope_head_dim", offsetof(work_model, qk_rope_head_dim), WORK_MAX_HEAD_DIM, 0},
    [K_V_HEAD_DIM] = {"v_head_dim", offsetof(work_model, v_head_dim), WORK_MAX_HEAD_DIM, 0},
    [K_MTP_LAYERS] = {"mtp_layers", offsetof(work_model, mtp_layers), WORK_MAX_MTP_LAYERS, 0},
};
#define N_INT_KEYS ((int)(sizeof int_keys / sizeof int_keys[0]))

static int *int_field(work_model *m, int k) { return (int *)(void *)((char *)m + int_keys[k].off); }

/* Sets *err at key k's position in the file when known (pos may be NULL), else with no
 * position; path may be NULL. */
static wk_errcode model_err(wk_err *err, const char *path, const key_pos *pos, int k,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static wk_errcode model_err(wk_err *err, const char *path, const key_pos *pos, int k,
                            const char *fmt, ...) {
  int line = pos && k >= 0 ? pos->line[k] : 0, col = pos && k >= 0 ? pos->col[k] : 0;
  va_list ap;
  va_start(ap, fmt);
  wk_errcode rc = wk_err_vset(err, WK_EVALUE, path, line, col, fmt, ap);
  va_end(ap);
  return rc;
}

/* The first of keys a, b that the file gave (to point an error about both at one), else a. */
static int given(const key_pos *pos, int a, int b) {
  return pos && !pos->line[a] && pos->line[b] ? b : a;
}

static wk_errcode model_check_at(work_model *m, const char *path, const key_pos *pos,
                                 wk_err *err) {
  if (!m->kv_heads) m->kv_heads = m->heads;
  if (!m->ffn_hidden) m->ffn_hidden = 4 * m->hidden; /* <= 2^22: no overflow */
  if (!m->vocab) m->vocab = 51200;
  if (m->experts && !m->moe_ffn_hidden) m->moe_ffn_hidden = m->ffn_hidden;
  if (m->experts && !m->top_k) m->top_k = 1;
  const int required[] = {K_LAYERS, K_HIDDEN, K_HEADS};
  for (int i = 0; i < 3; i++)
    if (*int_field(m, required[i]) <= 0)
      return model_err(err, path, pos, required[i],
                       "model '%s': layers, hidden and heads must be positive ('%s' is %d)",
                       m->name, int_keys[required[i]].key, *int_field(m, required[i]));
  for (int k = 0; k < N_INT_KEYS; k++) {
    int v = *int_field(m, k);
    if (v < 0 || (v == 0 && (k == K_KV_HEADS || k == K_FFN_HIDDEN || k == K_VOCAB)))
      return model_err(err, path, pos, k, "model '%s': sizes must be positive ('%s' is %d)",
                       m->name, int_keys[k].key, v);
    /* the limits keep every model physical and bound the planner's work (plan.c) */
    if (v > int_keys[k].max)
      return model_err(err, path, pos, k, "model '%s': '%s' %d is too large (at most %d)",
                       m->name, int_keys[k].key, v, int_keys[k].max);
  }
  if (m->hidden % m->heads)
    return model_err(err, path, pos, given(pos, K_HEADS, K_HIDDEN),
                     "model '%s': hidden %d is not a multiple of heads %d", m->name, m->hidden,
                     m->heads);
  if (m->heads % m->kv_heads)
    return model_err(err, path, pos, given(pos, K_KV_HEADS, K_HEADS),
                     "model '%s': heads %d is not a multiple of kv-heads %d", m->name, m->heads,
                     m->kv_heads);
  if (m->experts && m->top_k > m->experts)
    return model_err(err, path, pos, given(pos, K_TOP_K, K_EXPERTS),
                     "model '%s': top-k %d exceeds experts %d", m->name, m->top_k, m->experts);
  if (m->dense_layers > m->layers)
    return model_err(err, path, pos, given(pos, K_DENSE_LAYERS, K_LAYERS),
                     "model '%s': dense_layers exceeds layers", m->name);
  if ((m->expert_groups > 0) != (m->group_topk > 0))
    return model_err(err, path, pos, given(pos, K_EXPERT_GROUPS, K_GROUP_TOPK),
                     "model '%s': expert_groups %d and group_topk %d go together (both 0: no "
                     "group-limited routing)", m->name, m->expert_groups, m->group_topk);
  if (m->kv_lora_rank && m->kv_heads != m->heads)
    return model_err(err, path, pos, given(pos, K_KV_HEADS, K_KV_LORA_RANK),
                     "model '%s': with MLA (kv_lora_rank %d) every head has its own key and "
                     "value: kv_heads %d must be the heads %d", m->name, m->kv_lora_rank,
                     m->kv_heads, m->heads);
  if (m->q_lora_rank && !m->kv_lora_rank)
    return model_err(err, path, pos, K_Q_LORA_RANK,
                     "model '%s': q_lora_rank %d needs MLA (kv_lora_rank > 0)", m->name,
                     m->q_lora_rank);
  if (m->expert_groups && (!m->experts || m->experts % m->expert_groups ||
                           m->group_topk > m->expert_groups))
    return model_err(err, path, pos, K_EXPERT_GROUPS,
                     "model '%s': expert_groups %d must divide the %d experts and be at least "
                     "group_topk %d", m->name, m->expert_groups, m->experts, m->group_topk);
  return WK_OK;
}

wk_errcode work_model_check(work_model *m, wk_err *err) { return model_check_at(m, NULL, NULL, err); }

double work_model_qk_dim(const work_model *m) {
  double dn = m->qk_nope_head_dim ? m->qk_nope_head_dim : (double)m->hidden / m->heads;
  return dn + m->qk_rope_head_dim;
}
double work_model_v_dim(const work_model *m) {
  return m->v_head_dim ? m->v_head_dim
                       : m->qk_nope_head_dim ? m->qk_nope_head_dim : (double)m->hidden / m->heads;
}

/* Weights of one layer's attention (Q, K, V with grouped KV, or MLA's down- and
 * up-projections; output projection) and MLP; biases and layer norms are left out (under
 * 0.1 % at these sizes). MLA (DeepSeek-V2 Sec. 2.1): h -> q_lora_rank -> heads x dqk for the
 * queries, h -> kv_lora_rank + rope for the latent and the shared rotary key, kv_lora_rank
 * -> heads x (nope + dv) for the keys' other part and the values. */
double work_model_attn_params(const work_model *m) {
  double h = m->hidden, a = m->heads, dqk = work_model_qk_dim(m), dv = work_model_v_dim(m);
  double out = a * dv * h;
  if (!m->kv_lora_rank) return h * (a * dqk + m->kv_heads * (dqk + dv)) + out;
  double rq = m->q_lora_rank, rkv = m->kv_lora_rank, dr = m->qk_rope_head_dim;
  double q = rq > 0 ? h * rq + rq * a * dqk : h * a * dqk;
  return q + h * (rkv + dr) + rkv * a * (dqk - dr + dv) + out;
}
static double mlp_params(const work_model *m, double ffn) {
  return (m->gated_mlp ? 3.0 : 2.0) * m->hidden * ffn;
}

static double params_with(const work_model *m, int experts_counted) {
  double emb = (double)m->vocab * m->hidden * (m->tied_embeddings ? 1 : 2);
  int moe_layers = m->experts ? m->layers - m->dense_layers : 0;
  int dense_layers = m->layers - moe_layers;
  double p = emb + m->layers * work_model_attn_params(m) + dense_layers * mlp_params(m, m->ffn_hidden);
  if (moe_layers)
    p += moe_layers * ((double)(experts_counted + m->shared_experts) *
                           mlp_params(m, m->moe_ffn_hidden) +
                       (double)m->hidden * m->experts /* router */);
  return p;
}
double work_model_params(const work_model *m) { return params_with(m, m->experts); }
double work_model_active_params(const work_model *m) { return params_with(m, m->top_k); }

/* ---- YAML ----------------------------------------------------------------------------------- */
/* 0, or -1 (not a non-negative whole number, or for a boolean key not true/false/0/1: the
 * message says so), or -2 (above max). true/false only for boolean keys: `layers: true` is a
 * mistake, not 1 layer. */
static int parse_int(const char *v, int max, int boolean, int *out) {
  if (boolean && !strcmp(v, "true")) return *out = 1, 0;
  if (boolean && !strcmp(v, "false")) return *out = 0, 0;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (end == v || *end || v[0] == '-' || x < 0) return -1;
  if (errno == ERANGE || x > max) return -2;
  if (errno) return -1;
  *out = (int)x;
  return 0;
}

wk_errcode work_model_parse(work_model *m, const char *yaml, size_t len, const char *path,
                            wk_err *err) {
  memset(m, 0, sizeof *m);
  key_pos pos;
  memset(&pos, 0, sizeof pos);
  yaml_parser_t p;
  yaml_event_t ev;
  if (!yaml_parser_initialize(&p)) return wk_err_set(err, WK_EIO, path, 0, 0, "libyaml init failed");
  yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
  char key[64] = "";
  int depth = 0, have_key = 0, key_line = 0, key_col = 0;
  wk_errcode rc = WK_OK;
  for (;;) {
    if (!yaml_parser_parse(&p, &ev)) {
      rc = hw_yaml_error(&p, yaml, len, path, err);
      break;
    }
    int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
    yaml_event_type_t t = ev.type;
    if (t == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT) {
      if (depth || t == YAML_SEQUENCE_START_EVENT) {
        rc = wk_err_set(err, WK_EPARSE, path, line, col,
                        "a model file is a flat mapping of key: value");
        yaml_event_delete(&ev);
        break;
      }
      depth++;
    } else if (t == YAML_SCALAR_EVENT) {
      const char *v = (const char *)ev.data.scalar.value;
      if (!depth) {
        rc = wk_err_set(err, WK_EPARSE, path, line, col, "a model file is a mapping of key: value");
      } else if (!have_key) {
        snprintf(key, sizeof key, "%s", v);
        have_key = 1;
        key_line = line;
        key_col = col;
      } else {
        have_key = 0;
        int found = -1;
        if (!strcmp(key, "name")) {
          snprintf(m->name, sizeof m->name, "%s", v);
          found = K_NAME;
        } else if (!strcmp(key, "source")) {
          snprintf(m->source, sizeof m->source, "%s", v);
          found = K_SOURCE;
        }
        for (int i = 0; found < 0 && i < N_INT_KEYS; i++)
          if (!strcmp(key, int_keys[i].key)) {
            found = i;
            int r = parse_int(v, int_keys[i].max, int_keys[i].boolean, int_field(m, i));
            if (r == -2)
              rc = wk_err_set(err, WK_EVALUE, path, line, col,
                              "model key '%s': '%s' is too large (at most %d)", key, v,
                              int_keys[i].max);
            else if (r && int_keys[i].boolean)
              rc = wk_err_set(err, WK_EVALUE, path, line, col,
                              "model key '%s': '%s' is not true or false", key, v);
            else if (r)
              rc = wk_err_set(err, WK_EVALUE, path, line, col,
                              "model key '%s': '%s' is not a non-negative integer", key, v);
          }
        if (found < 0) {
          char keys[512] = "name, source"; /* from the table, so the list cannot go stale */
          for (int i = 0; i < N_INT_KEYS; i++) {
            size_t kl = strlen(keys);
            snprintf(keys + kl, sizeof keys - kl, ", %s", int_keys[i].key);
          }
          rc = wk_err_set(err, WK_EUNKNOWN_KEY, path, key_line, key_col,
                          "unknown model key '%s' (keys: %s)", key, keys);
        } else {
          pos.line[found] = key_line;
          pos.col[found] = key_col;
        }
      }
    }
    yaml_event_delete(&ev);
    if (rc) break;
  }
  yaml_parser_delete(&p);
  if (rc) return rc;
  if (!m->name[0]) snprintf(m->name, sizeof m->name, "%s", "custom");
  return model_check_at(m, path, &pos, err);
}

wk_errcode work_model_load(work_model *m, const char *path, wk_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wk_err_set(err, WK_EIO, path, 0, 0, "cannot open model file");
  char *buf = NULL;
  size_t len = 0, cap = 0, got;
  do {
    if (len + 4096 > cap) buf = wk_realloc(buf, cap = 2 * cap + 4096);
    got = fread(buf + len, 1, cap - len, f);
    len += got;
  } while (got);
  int bad = ferror(f);
  fclose(f);
  wk_errcode rc = bad ? wk_err_set(err, WK_EIO, path, 0, 0, "cannot read model file")
                      : work_model_parse(m, buf, len, path, err);
  wk_free(buf);
  return rc;
}

wk_errcode work_model_get(work_model *m, const char *spec, wk_err *err) {
  const work_model *p = work_model_find(spec);
  if (p) {
    *m = *p;
    return WK_OK;
  }
  FILE *f = fopen(spec, "rb");
  if (f) {
    fclose(f);
    return work_model_load(m, spec, err);
  }
  char names[600];
  size_t k = 0;
  for (p = work_models; p->name[0] && k + 70 < sizeof names; p++)
    k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", p->name);
  return wk_err_set(err, WK_EUNKNOWN_NAME, NULL, 0, 0,
                    "unknown model '%s': not a preset (%s) nor a readable YAML file", spec, names);
}
