/* sched_int.h — what the files of sched/ share and nothing outside sees: the tenant list's
 * layout (tenants.c builds it, sched.c reads quotas and priorities from it). */
#ifndef WK_SCHED_INT_H
#define WK_SCHED_INT_H

#include "sched.h"

typedef struct sched_tenant_def {
  char *name;
  double quota_cards;    /* >= 0: cards; < 0: use quota_fraction */
  double quota_fraction; /* of the cluster's cards */
  int32_t priority;
  char **pat[3]; /* NULL-terminated glob lists: users, groups, queues */
  int is_default;
} sched_tenant_def;

struct sched_tenants {
  wk_arena *arena; /* names and patterns */
  sched_tenant_def *t;
  uint32_t n, cap;
  double halflife_s;
};

#endif
