/* models.c — the built-in transformer presets (one row per models/NAME.yaml file, which the unit
 * test checks agree), a reader for model YAML files (flat key: value, via libyaml so errors
 * carry line and column), and parameter counts. Sources are cited in each row's `source`. */
#include "work.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* name, layers, hidden, heads, kv_heads, ffn_hidden, vocab, gated_mlp, experts, top_k,
 * shared_experts, moe_ffn_hidden, dense_layers, tied_embeddings, source. */
const work_model work_models[] = {
    {"gpt3-175b", 96, 12288, 96, 96, 49152, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Brown et al. 2020 (GPT-3) Table 2.1; Megatron vocab padded to 51200"},
    {"megatron-1.7b", 24, 2304, 24, 24, 9216, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-3.6b", 30, 3072, 32, 32, 12288, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-7.5b", 36, 4096, 32, 32, 16384, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-18.4b", 40, 6144, 48, 48, 24576, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-39.1b", 48, 8192, 64, 64, 32768, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-76.1b", 60, 10240, 80, 80, 40960, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-145.6b", 80, 12288, 96, 96, 49152, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-310.1b", 96, 16384, 128, 128, 65536, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-529.6b", 105, 20480, 128, 128, 81920, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-1t", 128, 25600, 160, 160, 102400, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Narayanan et al. SC'21 (arXiv 2104.04473) Table 1; GPT, V=51200, tied embeddings"},
    {"megatron-22b", 48, 6144, 64, 64, 24576, 51200, 0, 0, 0, 0, 0, 0, 1,
     "Korthikanti et al. 2022 (arXiv 2205.05198) Table 5"},
    {"llama3-8b", 32, 4096, 32, 8, 14336, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3"},
    {"llama3-70b", 80, 8192, 64, 8, 28672, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3"},
    {"llama3-405b", 126, 16384, 128, 8, 53248, 128256, 1, 0, 0, 0, 0, 0, 0,
     "Llama 3 herd (arXiv 2407.21783) Table 3"},
    {"deepseek-v3", 61, 7168, 128, 128, 18432, 129280, 1, 256, 8, 1, 2048, 3, 0,
     "DeepSeek-V3 report (arXiv 2412.19437) sec 4.2; MLA approximated as standard multi-head attention (128 heads of 56), MTP module left out"},
    {"", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ""},
};

const work_model *work_model_find(const char *name) {
  for (const work_model *m = work_models; m->name[0]; m++)
    if (!strcmp(m->name, name)) return m;
  return NULL;
}

wk_errcode work_model_check(work_model *m, wk_err *err) {
  if (!m->kv_heads) m->kv_heads = m->heads;
  if (!m->ffn_hidden) m->ffn_hidden = 4 * m->hidden;
  if (!m->vocab) m->vocab = 51200;
  if (m->experts && !m->moe_ffn_hidden) m->moe_ffn_hidden = m->ffn_hidden;
  if (m->experts && !m->top_k) m->top_k = 1;
  if (m->layers <= 0 || m->hidden <= 0 || m->heads <= 0)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "model '%s': layers, hidden and heads must be positive", m->name);
  if (m->kv_heads <= 0 || m->ffn_hidden <= 0 || m->vocab <= 0 || m->experts < 0 ||
      m->top_k < 0 || m->shared_experts < 0 || m->dense_layers < 0 || m->moe_ffn_hidden < 0)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "model '%s': sizes must be positive", m->name);
  if (m->hidden % m->heads)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "model '%s': hidden %d is not a multiple of heads %d", m->name, m->hidden,
                      m->heads);
  if (m->heads % m->kv_heads)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0,
                      "model '%s': heads %d is not a multiple of kv-heads %d", m->name, m->heads,
                      m->kv_heads);
  if (m->experts && m->top_k > m->experts)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "model '%s': top-k %d exceeds experts %d",
                      m->name, m->top_k, m->experts);
  if (m->dense_layers > m->layers)
    return wk_err_set(err, WK_EVALUE, NULL, 0, 0, "model '%s': dense_layers exceeds layers",
                      m->name);
  return WK_OK;
}

/* Weights of one layer's attention (QKV with grouped KV, output projection) and MLP; biases
 * and layer norms are left out (under 0.1 % at these sizes). */
static double attn_params(const work_model *m) {
  double h = m->hidden, dh = h / m->heads;
  return h * (h + 2.0 * m->kv_heads * dh) + h * h;
}
static double mlp_params(const work_model *m, double ffn) {
  return (m->gated_mlp ? 3.0 : 2.0) * m->hidden * ffn;
}

static double params_with(const work_model *m, int experts_counted) {
  double emb = (double)m->vocab * m->hidden * (m->tied_embeddings ? 1 : 2);
  int moe_layers = m->experts ? m->layers - m->dense_layers : 0;
  int dense_layers = m->layers - moe_layers;
  double p = emb + m->layers * attn_params(m) + dense_layers * mlp_params(m, m->ffn_hidden);
  if (moe_layers)
    p += moe_layers * ((double)(experts_counted + m->shared_experts) *
                           mlp_params(m, m->moe_ffn_hidden) +
                       (double)m->hidden * m->experts /* router */);
  return p;
}
double work_model_params(const work_model *m) { return params_with(m, m->experts); }
double work_model_active_params(const work_model *m) { return params_with(m, m->top_k); }

/* ---- YAML ----------------------------------------------------------------------------------- */
static int parse_int(const char *v, int *out) {
  if (!strcmp(v, "true")) return *out = 1, 0;
  if (!strcmp(v, "false")) return *out = 0, 0;
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < 0 || x > 1L << 28) return -1; /* 4 * hidden fits an int */
  *out = (int)x;
  return 0;
}

wk_errcode work_model_parse(work_model *m, const char *yaml, size_t len, const char *path,
                            wk_err *err) {
  memset(m, 0, sizeof *m);
  yaml_parser_t p;
  yaml_event_t ev;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
  char key[64] = "";
  int depth = 0, have_key = 0, key_line = 0, key_col = 0;
  wk_errcode rc = WK_OK;
  for (;;) {
    if (!yaml_parser_parse(&p, &ev)) {
      rc = wk_err_set(err, WK_EPARSE, path, (int)p.problem_mark.line + 1,
                      (int)p.problem_mark.column + 1, "%s", p.problem ? p.problem : "bad YAML");
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
        struct { const char *k; int *dst; } ints[] = {
            {"layers", &m->layers}, {"hidden", &m->hidden}, {"heads", &m->heads},
            {"kv_heads", &m->kv_heads}, {"ffn_hidden", &m->ffn_hidden}, {"vocab", &m->vocab},
            {"gated_mlp", &m->gated_mlp}, {"experts", &m->experts}, {"top_k", &m->top_k},
            {"shared_experts", &m->shared_experts}, {"moe_ffn_hidden", &m->moe_ffn_hidden},
            {"dense_layers", &m->dense_layers}, {"tied_embeddings", &m->tied_embeddings}};
        int found = 0;
        if (!strcmp(key, "name")) {
          snprintf(m->name, sizeof m->name, "%s", v);
          found = 1;
        } else if (!strcmp(key, "source")) {
          snprintf(m->source, sizeof m->source, "%s", v);
          found = 1;
        }
        for (size_t i = 0; !found && i < sizeof ints / sizeof ints[0]; i++)
          if (!strcmp(key, ints[i].k)) {
            found = 1;
            if (parse_int(v, ints[i].dst))
              rc = wk_err_set(err, WK_EVALUE, path, line, col,
                              "model key '%s': '%s' is not a non-negative integer", key, v);
          }
        if (!found)
          rc = wk_err_set(err, WK_EUNKNOWN_KEY, path, key_line, key_col,
                          "unknown model key '%s' (keys: name, layers, hidden, heads, kv_heads, "
                          "ffn_hidden, vocab, gated_mlp, experts, top_k, shared_experts, "
                          "moe_ffn_hidden, dense_layers, tied_embeddings)",
                          key);
      }
    }
    yaml_event_delete(&ev);
    if (rc) break;
  }
  yaml_parser_delete(&p);
  if (rc) return rc;
  if (!m->name[0]) snprintf(m->name, sizeof m->name, "%s", "custom");
  rc = work_model_check(m, err);
  if (rc && err) snprintf(err->path, sizeof err->path, "%s", path);
  return rc;
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
