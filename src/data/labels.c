#include "data/labels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "data/pairmap.h"

void ps_label_opts_default(ps_label_opts *o)
{
    o->expert_mode = PS_EXPERT_MAJORITY;
    o->w_expert = 0.6;
    o->crowd_missing = 0.0;
}

static const char *const MODE_NAMES[] = {"majority", "mean", "median"};

const char *ps_expert_mode_name(ps_expert_mode m)
{
    return (unsigned)m < 3 ? MODE_NAMES[m] : "?";
}

int ps_expert_mode_parse(const char *s, ps_expert_mode *m)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, MODE_NAMES[i]) == 0) {
            *m = (ps_expert_mode)i;
            return 0;
        }
    return -1;
}

int ps_expert_aggregate(const int score[3], ps_expert_mode mode, double *out01)
{
    int a = score[0], b = score[1], c = score[2];
    for (int i = 0; i < 3; i++)
        if (score[i] < 1 || score[i] > 4)
            return -1;
    double s;
    switch (mode) {
    case PS_EXPERT_MAJORITY:
        if (a == b || a == c)
            s = a;
        else if (b == c)
            s = b;
        else
            return -1;
        break;
    case PS_EXPERT_MEAN:
        s = (a + b + c) / 3.0;
        break;
    case PS_EXPERT_MEDIAN:
        /* the median of three is the sum minus the extremes */
        s = a + b + c - (a < b ? (a < c ? a : c) : (b < c ? b : c)) -
            (a > b ? (a > c ? a : c) : (b > c ? b : c));
        break;
    default:
        return -1;
    }
    *out01 = (s - 1.0) / 3.0;
    return 0;
}

/* Per distinct train caption: is its text blocked?  Indexed like the
 * caption map's values. */
typedef struct captions {
    ps_pairmap map;      /* caption id -> index into blocked[] */
    bool *blocked;
    size_t n;
} captions;

static int classify_captions(const ps_dataset *ds, const ps_policy *policy, captions *c,
                             ps_label_stats *st, ps_error *err)
{
    c->blocked = ps_xcalloc(ds->ntrain ? ds->ntrain : 1, sizeof *c->blocked);
    for (size_t i = 0; i < ds->ntrain; i++) {
        const ps_train_row *t = &ds->train[i];
        if (ps_pairmap_put(&c->map, t->query_id, "", c->n, NULL) != 0)
            continue; /* dataset.c guarantees one text per caption id */
        bool blocked = false;
        if (policy) {
            ps_policy_result res;
            if (ps_policy_check(policy, t->query_text, strlen(t->query_text), &res, err) != 0)
                return ps_error_prefix(err, "%s/%s:%zu: column 3", ds->dir,
                                       ps_dataset_file_name(PS_DS_TRAIN), t->line);
            blocked = res.blocked;
        }
        c->blocked[c->n++] = blocked;
        st->train_captions_blocked += blocked;
    }
    st->train_captions = c->n;
    return 0;
}

int ps_labels_build(const ps_dataset *ds, const ps_label_opts *opts, const ps_policy *policy,
                    ps_labels *out, ps_error *err)
{
    ps_label_opts def;
    ps_label_opts_default(&def);
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    if (!(opts->w_expert >= 0 && opts->w_expert <= 1))
        return ps_errorf(err, "the expert weight must be between 0 and 1, not %g", opts->w_expert);
    if (!(opts->crowd_missing >= 0 && opts->crowd_missing <= 1))
        return ps_errorf(err, "the value for a missing crowd ratio must be between 0 and 1, not %g",
                         opts->crowd_missing);
    if ((unsigned)opts->expert_mode > PS_EXPERT_MEDIAN)
        return ps_errorf(err, "unknown expert aggregation mode %d", (int)opts->expert_mode);

    ps_label_stats *st = &out->stats;
    st->expert_rows = ds->nexpert;
    st->crowd_rows = ds->ncrowd;
    st->train_rows = ds->ntrain;
    st->classified = policy != NULL;

    captions caps = {0};
    ps_pairmap crowd = {0}, train = {0};
    int rc = classify_captions(ds, policy, &caps, st, err);
    for (size_t i = 0; i < ds->ncrowd; i++)
        ps_pairmap_put(&crowd, ds->crowd[i].image, ds->crowd[i].caption_id, i, NULL);
    for (size_t i = 0; i < ds->ntrain; i++)
        ps_pairmap_put(&train, ds->train[i].image, ds->train[i].query_id, i, NULL);

    out->rows = ps_xcalloc(ds->nexpert ? ds->nexpert : 1, sizeof *out->rows);
    double sum = 0, sum2 = 0;
    for (size_t i = 0; rc == 0 && i < ds->nexpert; i++) {
        const ps_expert_row *e = &ds->expert[i];
        size_t ci, ti;
        bool has_crowd = ps_pairmap_get(&crowd, e->image, e->caption_id, &ci);
        st->expert_all_with_crowd += has_crowd;
        double es;
        if (ps_expert_aggregate(e->score, opts->expert_mode, &es) != 0) {
            st->expert_no_majority++;
            continue;
        }
        ps_label_row *r = &out->rows[out->n++];
        r->image = e->image;
        r->caption_id = e->caption_id;
        memcpy(r->expert, e->score, sizeof r->expert);
        r->expert_score = es;
        r->has_crowd = has_crowd;
        r->crowd_ratio = has_crowd ? ds->crowd[ci].ratio : opts->crowd_missing;
        r->target = opts->w_expert * es + (1 - opts->w_expert) * r->crowd_ratio;
        st->expert_with_crowd += has_crowd;
        if (ps_pairmap_get(&train, e->image, e->caption_id, &ti)) {
            r->query_text = ds->train[ti].query_text;
            size_t k;
            if (ps_pairmap_get(&caps.map, e->caption_id, "", &k))
                r->blocked = caps.blocked[k];
            st->pairs_blocked += r->blocked;
            st->train_pairs_allowed += !r->blocked;
        } else {
            st->rows_without_text++;
        }
        sum += r->target;
        sum2 += r->target * r->target;
    }
    st->expert_kept = out->n;
    if (out->n) {
        st->target_mean = sum / (double)out->n;
        double var = sum2 / (double)out->n - st->target_mean * st->target_mean;
        st->target_std = var > 0 ? sqrt(var) : 0;
    }
    ps_pairmap_free(&caps.map);
    free(caps.blocked);
    ps_pairmap_free(&crowd);
    ps_pairmap_free(&train);
    if (rc != 0)
        ps_labels_free(out);
    return rc;
}

void ps_labels_free(ps_labels *l)
{
    free(l->rows);
    memset(l, 0, sizeof *l);
}
