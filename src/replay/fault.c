/* fault.c — the faults a what-if study injects (--fail): their grammar, checked against the
 * cluster so that a switch, leaf, pod or link it lacks is refused by name. */
#include "replay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a whole number in [0, limit) from s into *v; 0 or -1. */
static int index_in(const char *s, uint64_t limit, uint32_t *v) {
  int64_t x;
  if (wk_parse_i64(s, &x) || x < 0 || (uint64_t)x >= limit) return -1;
  *v = (uint32_t)x;
  return 0;
}

wk_errcode replay_fault_parse(const char *spec, const hw_cluster *c, const char *name,
                              replay_fault *out, wk_err *err) {
  memset(out, 0, sizeof *out);
  char buf[256], what[64];
  if (strlen(spec) >= sizeof buf)
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%.40s...' is too long", spec);
  strcpy(buf, spec);
  char *at = strchr(buf, '@'), *colon = strchr(buf, ':');
  if (!at || !colon || colon > at)
    return wk_err_set(err, WK_EVALUE, "", 0, 0,
                      "--fail '%s': write KIND:WHERE@TIME[+DURATION], e.g. spine:3@2d+6h "
                      "(kinds: spine, switch, leaf-uplinks, pod, cable)", spec);
  *colon = *at = 0;
  char *plus = strchr(at + 1, '+');
  if (plus) *plus = 0;
  snprintf(what, sizeof what, "%.63s", buf);
  const hw_config *cfg = hw_cfg(c);
  const char *cname = name ? name : cfg->name; /* as the user gave it, tweaks included */
  if (cfg->topology != HW_TOPO_CLOS)
    return wk_err_set(err, WK_EVALUE, "", 0, 0,
                      "--fail '%s': faults are named on Clos fabrics; %s is a %s", spec, cname,
                      cfg->topology == HW_TOPO_DRAGONFLY ? "dragonfly" : "torus");
  hw_summary sm;
  hw_summarize(c, &sm);
  const char *where = colon + 1;
  if (!strcmp(what, "spine") || !strcmp(what, "switch")) {
    out->kind = REPLAY_FAULT_SWITCH;
    out->tier = sm.switch_tiers;
    const char *num = where;
    if (what[1] == 'w') { /* switch:T.N */
      const char *dot = strchr(where, '.');
      char tb[16];
      if (!dot || (size_t)(dot - where) >= sizeof tb)
        return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': a switch is TIER.INDEX, e.g. switch:2.17", spec);
      memcpy(tb, where, (size_t)(dot - where));
      tb[dot - where] = 0;
      int64_t t;
      if (wk_parse_i64(tb, &t) || t < 1 || t > sm.switch_tiers)
        return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': %s has switch tiers 1 to %d", spec,
                          cname, sm.switch_tiers);
      out->tier = (int)t;
      num = dot + 1;
    }
    uint64_t nsw = sm.switches_per_tier[out->tier - 1];
    if (index_in(num, nsw, &out->index))
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': tier %d of %s has switches 0 to %llu",
                        spec, out->tier, cname, (unsigned long long)nsw - 1);
  } else if (!strcmp(what, "leaf-uplinks")) {
    out->kind = REPLAY_FAULT_LEAF_UPLINKS;
    out->tier = 1;
    if (sm.switch_tiers < 2)
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': %s has one switch tier, no uplinks", spec, cname);
    if (index_in(where, sm.switches_per_tier[0], &out->index))
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': %s has leaves 0 to %llu", spec,
                        cname, (unsigned long long)sm.switches_per_tier[0] - 1);
  } else if (!strcmp(what, "pod")) {
    out->kind = REPLAY_FAULT_POD;
    uint32_t pods = hw_level_domains(c, HW_LEVEL_POD);
    if (index_in(where, pods, &out->index))
      return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': %s has pods 0 to %u", spec, cname, pods - 1);
  } else if (!strcmp(what, "cable")) {
    out->kind = REPLAY_FAULT_CABLE;
    if (index_in(where, hw_nlinks(c), &out->index) || hw_link_kind_of(c, out->index) != HW_LINK_FABRIC)
      return wk_err_set(err, WK_EVALUE, "", 0, 0,
                        "--fail '%s': not a switch-to-switch link of %s (links between switches have ids "
                        "from tier 1's first uplink on; `wanka cluster show` gives the counts)",
                        spec, cname);
  } else {
    return wk_err_set(err, WK_EUNKNOWN_NAME, "", 0, 0,
                      "--fail '%s': unknown kind '%s' (spine, switch, leaf-uplinks, pod, cable)", spec, what);
  }
  if (wk_parse_duration_s(at + 1, &out->at_s) || !(out->at_s >= 0))
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': '%s' is not a time such as 2d or 36h", spec, at + 1);
  out->for_s = 3600;
  if (plus && (wk_parse_duration_s(plus + 1, &out->for_s) || !(out->for_s > 0)))
    return wk_err_set(err, WK_EVALUE, "", 0, 0, "--fail '%s': '%s' is not a duration such as 6h", spec, plus + 1);
  return WK_OK;
}

/* The directed links fault f fails (OUT links, count returned; both ways of every cable) and
 * the cards it cuts off (OUT cards, *ncards). Buffers grow as needed (wk_realloc). O(links)
 * for a switch (hw_switch_links scans them). */
uint32_t replay_fault_links(const hw_cluster *c, const replay_fault *f, uint32_t **links,
                            uint32_t **cards, uint32_t *ncards) {
  uint32_t n = 0, cap = 0;
  *ncards = 0;
  *links = NULL;
  *cards = NULL;
  if (f->kind == REPLAY_FAULT_CABLE) {
    *links = wk_malloc(2 * sizeof(uint32_t));
    (*links)[n++] = f->index;
    (*links)[n++] = hw_link_reverse(c, f->index);
    return n;
  }
  /* switches: the one, or the pod's leaves and tier-2 switches */
  uint32_t first = f->index, count = 1;
  int tier = f->tier;
  hw_summary sm;
  hw_summarize(c, &sm);
  for (int pass = 0; pass < (f->kind == REPLAY_FAULT_POD ? 2 : 1); pass++) {
    if (f->kind == REPLAY_FAULT_POD) { /* the pod's switches of tiers 1 and 2, by their links */
      tier = pass + 1;
      uint32_t pods = hw_level_domains(c, HW_LEVEL_POD);
      count = (uint32_t)((sm.switches_per_tier[tier - 1] + pods - 1) / pods);
      first = f->index * count;
      if (tier > sm.switch_tiers) break;
    }
    for (uint32_t s = first; s < first + count && s < sm.switches_per_tier[tier - 1]; s++) {
      int m = hw_switch_links(c, tier, s, NULL, 0);
      if (m <= 0) continue;
      if (n + (uint32_t)m > cap) {
        cap = 2 * (n + (uint32_t)m);
        *links = wk_realloc(*links, sizeof(uint32_t) * cap);
      }
      hw_switch_links(c, tier, s, *links + n, (uint32_t)m);
      uint32_t w = n;
      for (uint32_t i = n; i < n + (uint32_t)m; i++) /* switch-to-switch links only: NICs stay */
        if (hw_link_kind_of(c, (*links)[i]) == HW_LINK_FABRIC) (*links)[w++] = (*links)[i];
      n = w;
    }
  }
  /* a leaf without uplinks, or a pod, leaves its cards no way out */
  if (f->kind == REPLAY_FAULT_LEAF_UPLINKS || (f->kind == REPLAY_FAULT_SWITCH && f->tier == 1)) {
    int m = hw_leaf_cards(c, f->index, NULL, 0);
    if (m > 0) {
      *cards = wk_malloc(sizeof(uint32_t) * (uint32_t)m);
      *ncards = (uint32_t)hw_leaf_cards(c, f->index, *cards, (uint32_t)m);
    }
  } else if (f->kind == REPLAY_FAULT_POD) {
    uint32_t sz = hw_level_cards(c, HW_LEVEL_POD), lo = f->index * sz;
    uint32_t hi = lo + sz < hw_cards(c) ? lo + sz : hw_cards(c);
    *cards = wk_malloc(sizeof(uint32_t) * (hi - lo + 1));
    for (uint32_t x = lo; x < hi; x++) (*cards)[(*ncards)++] = x;
  }
  if (f->kind == REPLAY_FAULT_LEAF_UPLINKS) { /* only the leaf's uplinks (both ways) */
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++)
      if (hw_link_tier(c, (*links)[i]) == 1) (*links)[w++] = (*links)[i];
    n = w;
  }
  return n;
}
