/* Tests for principal component analysis (src/learn/pca.h). */
#include "test.h"

#include "learn/pca.h"
#include "learn/rng.h"

/* n rows of d columns: three latent factors with variances 9, 4, 1 along
 * random directions, plus a little noise. */
static ps_mat make_data(size_t n, size_t d, uint64_t seed)
{
    ps_rng r;
    ps_rng_seed(&r, seed);
    ps_mat X = ps_mat_new(n, d);
    float dir[3][64];
    for (int f = 0; f < 3; f++)
        for (size_t j = 0; j < d; j++)
            dir[f][j] = (float)ps_rng_normal(&r);
    const double sd[3] = {3, 2, 1};
    for (size_t i = 0; i < n; i++) {
        double z[3];
        for (int f = 0; f < 3; f++)
            z[f] = sd[f] * ps_rng_normal(&r);
        for (size_t j = 0; j < d; j++) {
            double v = 0.1 * ps_rng_normal(&r) + 5.0 * (double)j;
            for (int f = 0; f < 3; f++)
                v += z[f] * dir[f][j];
            ps_mat_row(&X, i)[j] = (float)v;
        }
    }
    return X;
}

/* The covariance of the standardized columns, d x d, by definition. */
static double *std_cov(const ps_mat *X)
{
    size_t n = X->rows, d = X->cols;
    double *mu = calloc(d, sizeof *mu), *sd = calloc(d, sizeof *sd), *C = calloc(d * d, sizeof *C);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            mu[j] += ps_mat_row(X, i)[j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double c = ps_mat_row(X, i)[j] - mu[j];
            sd[j] += c * c / (double)n;
        }
    for (size_t j = 0; j < d; j++)
        sd[j] = sqrt(sd[j]);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                C[a * d + b] += (ps_mat_row(X, i)[a] - mu[a]) / sd[a] *
                                (ps_mat_row(X, i)[b] - mu[b]) / sd[b] / (double)n;
    free(mu);
    free(sd);
    return C;
}

TEST(pca_finds_the_top_direction)
{
    size_t n = 300, d = 24;
    ps_mat X = make_data(n, d, 5);
    ps_pca p;
    ps_error err;
    CHECK_INT(ps_pca_fit(&p, &X, NULL, n, 5, 1, &err), 0);
    CHECK_INT(p.k, 5);
    CHECK_INT(p.d, d);
    /* Power iteration on the covariance, computed independently. */
    double *C = std_cov(&X), v[64], t[64];
    for (size_t j = 0; j < d; j++)
        v[j] = 1;
    double lambda = 0;
    for (int it = 0; it < 500; it++) {
        double norm = 0;
        for (size_t a = 0; a < d; a++) {
            t[a] = 0;
            for (size_t b = 0; b < d; b++)
                t[a] += C[a * d + b] * v[b];
            norm += t[a] * t[a];
        }
        norm = sqrt(norm);
        lambda = norm;
        for (size_t a = 0; a < d; a++)
            v[a] = t[a] / norm;
    }
    double dot = 0;
    for (size_t j = 0; j < d; j++)
        dot += v[j] * p.components[j];
    CHECK_NEAR(fabs(dot), 1.0, 1e-4);
    CHECK_NEAR(p.variance[0], lambda, 1e-3 * lambda);
    /* Ordered variances, orthonormal components, sign rule. */
    for (size_t i = 0; i < p.k; i++) {
        if (i)
            CHECK(p.variance[i] <= p.variance[i - 1]);
        size_t big = 0;
        for (size_t j = 0; j < d; j++)
            if (fabsf(p.components[i * d + j]) > fabsf(p.components[i * d + big]))
                big = j;
        CHECK(p.components[i * d + big] > 0);
        for (size_t k = 0; k <= i; k++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (double)p.components[i * d + j] * p.components[k * d + j];
            CHECK_NEAR(s, i == k ? 1.0 : 0.0, 1e-4);
        }
    }
    /* Scores have the variance of their component and mean zero. */
    ps_mat S = ps_pca_transform(&p, &X);
    double m = 0, v0 = 0;
    for (size_t i = 0; i < n; i++)
        m += ps_mat_row(&S, i)[0] / (double)n;
    for (size_t i = 0; i < n; i++)
        v0 += (ps_mat_row(&S, i)[0] - m) * (ps_mat_row(&S, i)[0] - m) / (double)n;
    CHECK_NEAR(m, 0.0, 1e-3);
    CHECK_NEAR(v0, p.variance[0], 1e-3 * p.variance[0]);
    free(C);
    ps_mat_free(&S);
    ps_pca_free(&p);
    ps_mat_free(&X);
}

TEST(pca_is_deterministic_and_round_trips)
{
    ps_mat X = make_data(120, 30, 9);
    size_t rows[80];
    for (size_t i = 0; i < 80; i++)
        rows[i] = i + 40;
    ps_pca a, b, c;
    ps_error err;
    CHECK_INT(ps_pca_fit(&a, &X, rows, 80, 8, 3, &err), 0);
    CHECK_INT(ps_pca_fit(&b, &X, rows, 80, 8, 3, &err), 0);
    CHECK(memcmp(a.components, b.components, 8 * 30 * sizeof(float)) == 0);
    ps_modelfile f;
    ps_modelfile_init(&f, "test");
    ps_pca_put(&a, &f, "p.");
    CHECK_INT(ps_pca_get(&c, &f, "p.", &err), 0);
    CHECK_INT(c.k, 8);
    CHECK(memcmp(a.components, c.components, 8 * 30 * sizeof(float)) == 0);
    float sa[8], sc[8];
    ps_pca_transform_row(&a, ps_mat_row(&X, 3), sa);
    ps_pca_transform_row(&c, ps_mat_row(&X, 3), sc);
    CHECK(memcmp(sa, sc, sizeof sa) == 0);
    ps_pca none;
    CHECK_INT(ps_pca_get(&none, &f, "q.", &err), -1);
    CHECK_CONTAINS(err.msg, "q.components");
    ps_modelfile_free(&f);
    ps_pca_free(&a);
    ps_pca_free(&b);
    ps_pca_free(&c);
    ps_mat_free(&X);
}

TEST(pca_rejects_impossible_sizes)
{
    ps_mat X = make_data(10, 4, 1);
    ps_pca p;
    ps_error err;
    CHECK_INT(ps_pca_fit(&p, &X, NULL, 10, 5, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "at most 4 columns");
    CHECK_INT(ps_pca_fit(&p, &X, NULL, 10, 0, 1, &err), -1);
    size_t rows[2] = {1, 99};
    CHECK_INT(ps_pca_fit(&p, &X, rows, 2, 1, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "out of range");
    ps_mat_free(&X);
}

int main(void)
{
    RUN(pca_finds_the_top_direction);
    RUN(pca_is_deterministic_and_round_trips);
    RUN(pca_rejects_impossible_sizes);
    return test_summary();
}
