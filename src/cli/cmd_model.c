/* cmd_model.c — `wanka model list|show`: the transformer models train, plan and the replay's
 * workloads accept by name (models/NAME.yaml mirror them), as a table or JSON, and one model
 * (a preset or a YAML file of the user's) in full, the way the training model reads it. */
#include "cli.h"
#include "work/work.h"

#include <jansson.h>
#include <string.h>

/* One model as a JSON object: its shape, parameter counts and source (owned by the caller). */
static json_t *model_json(const work_model *m) {
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(m->name));
  json_object_set_new(o, "params", json_real(work_model_params(m)));
  json_object_set_new(o, "active_params", json_real(work_model_active_params(m)));
  json_object_set_new(o, "layers", json_integer(m->layers));
  json_object_set_new(o, "hidden", json_integer(m->hidden));
  json_object_set_new(o, "heads", json_integer(m->heads));
  json_object_set_new(o, "kv_heads", json_integer(m->kv_heads));
  json_object_set_new(o, "ffn_hidden", json_integer(m->ffn_hidden));
  json_object_set_new(o, "vocab", json_integer(m->vocab));
  json_object_set_new(o, "gated_mlp", json_boolean(m->gated_mlp));
  json_object_set_new(o, "tied_embeddings", json_boolean(m->tied_embeddings));
  json_object_set_new(o, "experts", json_integer(m->experts));
  json_object_set_new(o, "top_k", json_integer(m->top_k));
  json_object_set_new(o, "shared_experts", json_integer(m->shared_experts));
  json_object_set_new(o, "moe_ffn_hidden", json_integer(m->moe_ffn_hidden));
  json_object_set_new(o, "dense_layers", json_integer(m->dense_layers));
  json_object_set_new(o, "source", json_string(m->source));
  return o;
}

/* "175.0 B" or "8.0 B (37.5 B active)" into buf. */
static const char *params_text(const work_model *m, char *buf, size_t n) {
  double p = work_model_params(m), a = work_model_active_params(m);
  if (m->experts) snprintf(buf, n, "%.1f B (%.1f B active)", p / 1e9, a / 1e9);
  else snprintf(buf, n, "%.1f B", p / 1e9);
  return buf;
}

static int list(int json) {
  json_t *arr = json ? json_array() : NULL;
  if (!json)
    printf("%-18s %-24s %6s %6s %5s %4s  %s\n", "model", "params", "layers", "hidden", "heads",
           "kv", "experts");
  for (const work_model *m = work_models; m->name[0]; m++) {
    if (arr) {
      json_array_append_new(arr, model_json(m));
      continue;
    }
    char p[64], e[32] = "-";
    if (m->experts) snprintf(e, sizeof e, "%d, top-%d", m->experts, m->top_k);
    printf("%-18s %-24s %6d %6d %5d %4d  %s\n", m->name, params_text(m, p, sizeof p), m->layers,
           m->hidden, m->heads, m->kv_heads, e);
  }
  if (arr) {
    json_t *o = json_object();
    json_object_set_new(o, "models", arr);
    cli_print_json(o, 10);
  }
  return 0;
}

static int show(const char *spec, int json) {
  work_model m;
  wk_err err;
  if (work_model_get(&m, spec, &err)) return cli_fail_model(&err, spec);
  if (json) {
    cli_print_json(model_json(&m), 10);
    return 0;
  }
  char p[64];
  printf("model        %s\n", m.name);
  printf("params       %s\n", params_text(&m, p, sizeof p));
  printf("layers       %d, hidden %d, FFN %d%s\n", m.layers, m.hidden, m.ffn_hidden,
         m.gated_mlp ? " (gated, SwiGLU)" : "");
  printf("attention    %d heads, %d KV heads%s\n", m.heads, m.kv_heads,
         m.kv_heads < m.heads ? " (GQA)" : "");
  printf("vocabulary   %d%s\n", m.vocab, m.tied_embeddings ? " (embeddings tied)" : "");
  if (m.experts) {
    printf("experts      %d routed, top-%d, %d shared, FFN %d each; %d dense layers first\n",
           m.experts, m.top_k, m.shared_experts, m.moe_ffn_hidden, m.dense_layers);
    if (m.expert_groups)
      printf("routing      %d groups, a token's experts from its best %d\n", m.expert_groups,
             m.group_topk);
  }
  if (m.source[0]) printf("source       %s\n", m.source);
  return 0;
}

int cmd_model(int argc, char **argv) {
  int json = 0;
  const cli_opt opts[] = {
      {"json", CLI_FLAG, &json, NULL, "print JSON instead of the table", 0, 0},
      {0},
  };
  const cli_cmd list_cmd = {"list", "wanka model list [--json]",
                            "List the built-in models (train, plan and the replay's workloads "
                            "take them by name).", opts};
  const cli_cmd show_cmd = {"show", "wanka model show MODEL [--json]",
                            "Print a model (a built-in name or a YAML file) as the training model\n"
                            "reads it: shape, parameters, experts, source.", opts};
  const cli_cmd top = {"model", "wanka model list|show ...",
                       "Transformer models: 'list' the built-in ones, 'show' one (a name or a "
                       "YAML file;\nthe keys are in docs/training.md).", NULL};
  int r = cli_sub_help(&top, argc, argv);
  if (r >= 0) return r;
  const char *sub = argv[0];
  static const char *const subs[] = {"list", "show", NULL};
  const cli_cmd *cmd = !strcmp(sub, "list") ? &list_cmd : !strcmp(sub, "show") ? &show_cmd : NULL;
  if (!cmd) return cli_fail_unknown("model command", sub, subs);
  char *pos[1];
  int npos;
  if ((r = cli_parse(cmd, argc - 1, argv + 1, pos, cmd == &show_cmd, &npos)))
    return r == 1 ? 0 : r;
  if (cmd == &list_cmd) return list(json);
  if (npos != 1) return cli_fail("name a model: a built-in one ('wanka model list') or a YAML file");
  return show(pos[0], json);
}
