/*
 * labels.h - turn the raw annotations into one relevance target per
 * (image, caption) pair, the way the proof of concept did, with every
 * choice in ps_label_opts:
 *
 *   expert_score  the three expert scores (1..4) combined by expert_mode -
 *                 MAJORITY (default): the value given by at least two
 *                 experts; three different scores = no majority = the pair
 *                 is dropped (counted in expert_no_majority); MEAN; MEDIAN -
 *                 then scaled (s - 1) / 3 into [0, 1];
 *   crowd_ratio   agree_ratio of CrowdAnnotations.tsv joined on (image,
 *                 caption_id); crowd_missing (default 0) when absent;
 *   target        w_expert * expert_score + (1 - w_expert) * crowd_ratio,
 *                 w_expert 0.6 by default.
 *
 * query_text is joined from train_dataset.csv on the (image, caption_id)
 * pair; rows without one are kept with query_text NULL and counted.
 * `blocked` applies the content rule (policy/policy.h) to the caption text
 * when a policy is given (NULL: nothing is classified, blocked is false).
 *
 * Statistics (the names match `picseek dataset stats --json`):
 *   train_captions          distinct query_id values in train_dataset.csv
 *   train_captions_blocked  of those, the ones whose text the policy blocks
 *   train_pairs_allowed     expert-kept pairs that have a query text and
 *                           whose text is not blocked - the pairs a model
 *                           may be trained on where the rule applies
 *
 * Ownership: ps_labels owns its row array; the strings in the rows are
 * borrowed from the ps_dataset, which must outlive the labels.
 */
#ifndef PS_DATA_LABELS_H
#define PS_DATA_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "data/dataset.h"
#include "policy/policy.h"

typedef enum ps_expert_mode {
    PS_EXPERT_MAJORITY,
    PS_EXPERT_MEAN,
    PS_EXPERT_MEDIAN,
} ps_expert_mode;

typedef struct ps_label_opts {
    ps_expert_mode expert_mode;  /* default PS_EXPERT_MAJORITY */
    double w_expert;             /* weight of the expert score, in [0,1]; default 0.6 */
    double crowd_missing;        /* crowd value when a pair has no crowd row; default 0 */
} ps_label_opts;

void ps_label_opts_default(ps_label_opts *o);

/* "majority", "mean", "median" <-> the mode; parse returns -1 if unknown. */
const char *ps_expert_mode_name(ps_expert_mode m);
int ps_expert_mode_parse(const char *s, ps_expert_mode *m);

/* Combine three scores (each 1..4) into [0,1].  Returns 0, or -1 when mode
 * is MAJORITY and all three differ (or a score is outside 1..4). */
int ps_expert_aggregate(const int score[3], ps_expert_mode mode, double *out01);

typedef struct ps_label_row {
    const char *image, *caption_id;
    const char *query_text;   /* NULL when train_dataset.csv lacks the pair */
    int expert[3];
    double expert_score;      /* [0,1] */
    double crowd_ratio;       /* [0,1]: agree_ratio, or crowd_missing */
    bool has_crowd;
    double target;            /* [0,1] */
    bool blocked;
} ps_label_row;

typedef struct ps_label_stats {
    size_t expert_rows;           /* rows of ExpertAnnotations.tsv loaded */
    size_t expert_no_majority;    /* dropped: no majority (MAJORITY mode only) */
    size_t expert_kept;           /* = number of label rows */
    size_t crowd_rows;
    size_t expert_with_crowd;     /* kept pairs that have a crowd row */
    size_t expert_all_with_crowd; /* all expert pairs (kept or not) with a crowd row */
    size_t rows_without_text;     /* kept pairs with no train_dataset.csv row */
    size_t train_rows;
    size_t train_captions;
    bool classified;              /* a policy was applied */
    size_t train_captions_blocked;
    size_t train_pairs_allowed;
    size_t pairs_blocked;         /* kept pairs whose text is blocked */
    double target_mean, target_std;  /* over kept pairs (population std) */
} ps_label_stats;

typedef struct ps_labels {
    ps_label_row *rows;       /* in ExpertAnnotations.tsv order */
    size_t n;
    ps_label_stats stats;
} ps_labels;

/* Build the merged table.  opts NULL = defaults; policy NULL = don't
 * classify.  Fails on invalid options or if the policy rejects a text. */
int ps_labels_build(const ps_dataset *ds, const ps_label_opts *opts, const ps_policy *policy,
                    ps_labels *out, ps_error *err);
void ps_labels_free(ps_labels *l);

#endif
