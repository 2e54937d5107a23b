/*
 * rule.h - how the index layer asks the content rule about a text.
 *
 * The index does not load the rule itself: the caller passes the check as
 * a function and a context, e.g. an adapter around ps_policy_check with a
 * loaded ps_policy as ctx.  This keeps the index testable with a stand-in
 * rule and lets the server share one loaded policy.
 */
#ifndef PS_INDEX_RULE_H
#define PS_INDEX_RULE_H

#include <stddef.h>

#include "core/error.h"
#include "policy/policy.h"

typedef struct ps_rule {
    /* Same contract as ps_policy_check: fills *out; fails only for invalid
     * UTF-8.  Must be safe to call from several threads at once. */
    int (*check)(const void *ctx, const char *text, size_t len, ps_policy_result *out, ps_error *err);
    const void *ctx;
} ps_rule;

#endif
