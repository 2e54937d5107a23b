/* Tests for learn/metrics on hand-computed examples (worked out in the
 * comments), against an O(n^2) Kendall written here, and the tie rules of
 * the retrieval metrics. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "learn/metrics.h"
#include "learn/rng.h"
#include "test.h"

TEST(regression_metrics_by_hand)
{
    /* errors 0, -1, 1: MSE = MAE = 2/3; y has mean 2, SST = 2, SSE = 2 -> R2 0 */
    float p[3] = {1, 2, 3}, y[3] = {1, 3, 2};
    CHECK_NEAR(ps_mse(p, y, 3), 2.0 / 3, 1e-12);
    CHECK_NEAR(ps_mae(p, y, 3), 2.0 / 3, 1e-12);
    CHECK_NEAR(ps_r2(p, y, 3), 0.0, 1e-12);
    CHECK_NEAR(ps_r2(y, y, 3), 1.0, 1e-12);
    float c[3] = {5, 5, 5};
    CHECK(isnan(ps_r2(p, c, 3)));
    CHECK(isnan(ps_mse(p, y, 0)));
}

TEST(pearson_and_spearman_by_hand)
{
    float x[4] = {1, 2, 3, 4}, up[4] = {2, 4, 6, 8}, down[4] = {8, 6, 4, 2}, flat[4] = {1, 1, 1, 1};
    CHECK_NEAR(ps_pearson(x, up, 4), 1.0, 1e-12);
    CHECK_NEAR(ps_pearson(x, down, 4), -1.0, 1e-12);
    CHECK(isnan(ps_pearson(x, flat, 4)));
    /* x = [1,2,2,3] has mean ranks [1, 2.5, 2.5, 4]; y ranks [1,2,3,4].
     * Centered: [-1.5,0,0,1.5] and [-1.5,-.5,.5,1.5]: sxy = 4.5, sxx = 4.5,
     * syy = 5 -> 4.5 / sqrt(22.5) = 0.9486832980505138 (scipy spearmanr). */
    float tx[4] = {1, 2, 2, 3};
    CHECK_NEAR(ps_spearman(tx, x, 4), 0.9486832980505138, 1e-12);
    /* Spearman sees only order: a monotone transform keeps 1. */
    float ex[4] = {1, 10, 100, 1000};
    CHECK_NEAR(ps_spearman(x, ex, 4), 1.0, 1e-12);
    float nanv[4] = {1, NAN, 3, 4};
    CHECK(isnan(ps_spearman(x, nanv, 4)));
}

TEST(kendall_by_hand_with_ties)
{
    ps_kendall k;
    /* x = [1,2,2,3], y = [1,2,3,4]: of the 6 pairs, 5 are concordant and
     * one is tied in x.  tau_b = 5 / sqrt((6-1)(6-0)) = 5/sqrt(30)
     * = 0.9128709291752769 (scipy kendalltau); m = min(3, 4) = 3 distinct,
     * tau_c = 2*5 / (16 * 2/3) = 0.9375. */
    float x1[4] = {1, 2, 2, 3}, y1[4] = {1, 2, 3, 4};
    ps_kendall_tau(x1, y1, 4, &k);
    CHECK_INT(k.concordant, 5);
    CHECK_INT(k.discordant, 0);
    CHECK_INT(k.ties_x, 1);
    CHECK_NEAR(k.tau_b, 0.9128709291752769, 1e-12);
    CHECK_NEAR(k.tau_c, 0.9375, 1e-12);
    /* (x,y) = a(1,2) b(1,1) c(2,1) d(3,3) e(3,3) f(4,2):
     * concordant ad ae bd be bf cd ce cf = 8, discordant ac df ef = 3,
     * tied: ab (x), af (y), bc (y), de (both).  n0 = 15, n1 = 2 (ab, de),
     * n2 = 3 (af, bc, de), n3 = 1.
     * tau_b = 5 / sqrt(13 * 12) = 0.4003203845127179;
     * m = min(4 distinct x, 3 distinct y) = 3: tau_c = 10 / (36 * 2/3)
     * = 0.41666... */
    float x2[6] = {1, 1, 2, 3, 3, 4}, y2[6] = {2, 1, 1, 3, 3, 2};
    ps_kendall_tau(x2, y2, 6, &k);
    CHECK_INT(k.concordant, 8);
    CHECK_INT(k.discordant, 3);
    CHECK_INT(k.ties_x, 2);
    CHECK_INT(k.ties_y, 3);
    CHECK_INT(k.ties_xy, 1);
    CHECK_NEAR(k.tau_b, 0.4003203845127179, 1e-12);
    CHECK_NEAR(k.tau_c, 10.0 / 24.0, 1e-12);
    /* Perfect reversal. */
    float x3[5] = {1, 2, 3, 4, 5}, y3[5] = {5, 4, 3, 2, 1};
    ps_kendall_tau(x3, y3, 5, &k);
    CHECK_NEAR(k.tau_b, -1.0, 1e-12);
    CHECK_NEAR(k.tau_c, -1.0, 1e-12); /* 2*(-10) / (25 * 4/5) */
    /* Undefined cases. */
    float flat[5] = {2, 2, 2, 2, 2};
    ps_kendall_tau(x3, flat, 5, &k);
    CHECK(isnan(k.tau_b) && isnan(k.tau_c));
    ps_kendall_tau(x3, y3, 1, &k);
    CHECK(isnan(k.tau_b));
}

TEST(kendall_matches_quadratic_count_on_random_ties)
{
    ps_rng r;
    ps_rng_seed(&r, 8);
    enum { N = 400 };
    static float x[N], y[N];
    for (int rep = 0; rep < 5; rep++) {
        for (int i = 0; i < N; i++) {
            /* Few levels: plenty of ties in x, in y and in both. */
            x[i] = (float)ps_rng_below(&r, 7 + (uint64_t)rep * 5);
            y[i] = (float)ps_rng_below(&r, 4) + (rep % 2 ? x[i] * 0.5f : 0);
        }
        int64_t c = 0, d = 0, tx = 0, ty = 0, txy = 0;
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                double a = (double)x[i] - x[j], b = (double)y[i] - y[j];
                if (a == 0 && b == 0)
                    txy++;
                if (a == 0)
                    tx++;
                if (b == 0)
                    ty++;
                if (a * b > 0)
                    c++;
                else if (a * b < 0)
                    d++;
            }
        ps_kendall k;
        ps_kendall_tau(x, y, N, &k);
        CHECK_INT(k.concordant, c);
        CHECK_INT(k.discordant, d);
        CHECK_INT(k.ties_x, tx);
        CHECK_INT(k.ties_y, ty);
        CHECK_INT(k.ties_xy, txy);
        double n0 = N * (N - 1) / 2.0;
        CHECK_NEAR(k.tau_b, (double)(c - d) / sqrt((n0 - (double)tx) * (n0 - (double)ty)), 1e-12);
    }
}

TEST(retrieval_ranks_with_each_tie_rule)
{
    /* q0: correct 0 scores best        -> above 0, tied 0
     * q1: correct 1 ties with 2 others -> above 0, tied 2
     * q2: correct 3 scores worst       -> above 3, tied 0 */
    float s[12] = {0.9f, 0.1f, 0.5f, 0.3f, 0.2f, 0.8f, 0.8f, 0.8f, 0.7f, 0.6f, 0.9f, 0.1f};
    size_t correct[3] = {0, 1, 3};
    ps_rank r[3];
    ps_error err;
    CHECK_INT(ps_rank_queries(s, 3, 4, correct, r, &err), 0);
    CHECK_INT(r[1].above, 0);
    CHECK_INT(r[1].tied, 2);
    CHECK_INT(r[2].above, 3);
    /* Ranks: pessimistic 1,3,4; optimistic 1,1,4; average 1,2,4. */
    CHECK_NEAR(ps_recall_at_k(r, 3, 1, PS_TIES_PESSIMISTIC), 1.0 / 3, 1e-12);
    CHECK_NEAR(ps_recall_at_k(r, 3, 1, PS_TIES_OPTIMISTIC), 2.0 / 3, 1e-12);
    /* average: q1 is in the top 1 with probability 1/3 -> (1 + 1/3) / 3 */
    CHECK_NEAR(ps_recall_at_k(r, 3, 1, PS_TIES_AVERAGE), 4.0 / 9, 1e-12);
    CHECK_NEAR(ps_recall_at_k(r, 3, 2, PS_TIES_AVERAGE), 5.0 / 9, 1e-12);
    CHECK_NEAR(ps_recall_at_k(r, 3, 4, PS_TIES_PESSIMISTIC), 1.0, 1e-12);
    /* MRR: (1 + 1/3 + 1/4)/3 = 19/36; (1 + 1 + 1/4)/3 = 3/4;
     * average: q1 = (1 + 1/2 + 1/3)/3 = 11/18 -> (1 + 11/18 + 1/4)/3 = 67/108 */
    CHECK_NEAR(ps_mean_reciprocal_rank(r, 3, PS_TIES_PESSIMISTIC), 19.0 / 36, 1e-12);
    CHECK_NEAR(ps_mean_reciprocal_rank(r, 3, PS_TIES_OPTIMISTIC), 0.75, 1e-12);
    CHECK_NEAR(ps_mean_reciprocal_rank(r, 3, PS_TIES_AVERAGE), 67.0 / 108, 1e-12);
    CHECK_NEAR(ps_median_rank(r, 3, PS_TIES_PESSIMISTIC), 3, 1e-12);
    CHECK_NEAR(ps_median_rank(r, 3, PS_TIES_AVERAGE), 2, 1e-12);
    CHECK_NEAR(ps_median_rank(r, 3, PS_TIES_OPTIMISTIC), 1, 1e-12);
    CHECK_NEAR(ps_median_rank(r, 2, PS_TIES_PESSIMISTIC), 2, 1e-12); /* (1 + 3) / 2 */
}

TEST(retrieval_nan_scores_and_bad_indices)
{
    float s[3] = {NAN, 0.5f, NAN};
    size_t c0 = 0, c1 = 1, bad = 3;
    ps_rank r;
    ps_error err;
    CHECK_INT(ps_rank_queries(s, 1, 3, &c0, &r, &err), 0);
    CHECK_INT(r.above, 1); /* NaN ranks below 0.5 ... */
    CHECK_INT(r.tied, 1);  /* ... and level with the other NaN */
    CHECK_INT(ps_rank_queries(s, 1, 3, &c1, &r, &err), 0);
    CHECK_INT(r.above, 0);
    CHECK_INT(r.tied, 0);
    CHECK_INT(ps_rank_queries(s, 1, 3, &bad, &r, &err), -1);
    CHECK_CONTAINS(err.msg, "query 0: correct candidate 3 is out of range (3 candidates)");
}

int main(void)
{
    RUN(regression_metrics_by_hand);
    RUN(pearson_and_spearman_by_hand);
    RUN(kendall_by_hand_with_ties);
    RUN(kendall_matches_quadratic_count_on_random_ties);
    RUN(retrieval_ranks_with_each_tie_rule);
    RUN(retrieval_nan_scores_and_bad_indices);
    return test_summary();
}
