#include "learn/bilinear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/modelfile.h"
#include "learn/optim.h"
#include "learn/rng.h"

#define CHUNK 256

ps_bilinear_opts ps_bilinear_defaults(void)
{
    ps_bilinear_opts o = {0};
    o.rank = 16;
    o.use_linear = 1;
    o.sigmoid_out = 1;
    o.standardize = 1;
    o.lr = 3e-4f;
    o.l2 = 1e-2f;
    o.batch = 64;
    o.max_epochs = 200;
    o.patience = 15;
    o.rank_weight = 0.0f;
    o.rank_margin = 0.05f;
    o.seed = 1;
    return o;
}

void ps_bilinear_free(ps_bilinear *m)
{
    free(m->U);
    free(m->V);
    free(m->we);
    free(m->t_mean);
    free(m->t_scale);
    free(m->p_mean);
    free(m->p_scale);
    free(m->e_mean);
    free(m->e_scale);
    memset(m, 0, sizeof *m);
}

static float sigmoidf(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

static float out_of(const ps_bilinear *m, float z)
{
    return m->sigmoid_out ? sigmoidf(z) : z;
}

/* log(1 + exp(x)) without overflow. */
static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static void standardize_row(const float *x, const float *mean, const float *scale, size_t d,
                            float *out)
{
    for (size_t j = 0; j < d; j++)
        out[j] = (x[j] - mean[j]) / scale[j];
}

/* Standardized copy of a whole matrix. */
static ps_mat standardized(const ps_mat *M, const float *mean, const float *scale)
{
    ps_mat S = ps_mat_new(M->rows, M->cols);
    for (size_t i = 0; i < M->rows; i++)
        standardize_row(ps_mat_row(M, i), mean, scale, M->cols, ps_mat_row(&S, i));
    return S;
}

/* ---- batches ------------------------------------------------------------------------------- */

typedef struct batch {
    size_t cap, n;
    float *T, *P, *E;  /* gathered standardized rows */
    float *Ut, *Vp;    /* n x (rank + 1) projections */
    float *z, *y, *dz;
    uint32_t *q;       /* text index of each row (the ranking groups) */
    float *Gt, *Gp;    /* n x (rank + 1) gradient factors */
} batch;

static void batch_init(batch *b, const ps_bilinear *m, size_t cap)
{
    size_t r1 = m->rank + 1;
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->T = ps_xmalloc(cap * m->dt * sizeof(float));
    b->P = ps_xmalloc(cap * m->dp * sizeof(float));
    b->E = ps_xmalloc(cap * (m->n_extra ? m->n_extra : 1) * sizeof(float));
    b->Ut = ps_xmalloc(cap * r1 * sizeof(float));
    b->Vp = ps_xmalloc(cap * r1 * sizeof(float));
    b->Gt = ps_xmalloc(cap * r1 * sizeof(float));
    b->Gp = ps_xmalloc(cap * r1 * sizeof(float));
    b->z = ps_xmalloc(cap * sizeof(float));
    b->y = ps_xmalloc(cap * sizeof(float));
    b->dz = ps_xmalloc(cap * sizeof(float));
    b->q = ps_xmalloc(cap * sizeof(uint32_t));
}

static void batch_free(batch *b)
{
    free(b->T);
    free(b->P);
    free(b->E);
    free(b->Ut);
    free(b->Vp);
    free(b->Gt);
    free(b->Gp);
    free(b->z);
    free(b->y);
    free(b->dz);
    free(b->q);
}

/* The training-time view of the data: standardized features. */
typedef struct data {
    const ps_pairs *p;
    ps_mat Ts, Ps, Es; /* Es has no rows when there are no extras */
    const float *y;
} data;

static void gather(const ps_bilinear *m, const data *D, const size_t *list, size_t n, batch *b)
{
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t k = list[i];
        memcpy(b->T + i * m->dt, ps_mat_row(&D->Ts, D->p->text_idx[k]), m->dt * sizeof(float));
        memcpy(b->P + i * m->dp, ps_mat_row(&D->Ps, D->p->photo_idx[k]), m->dp * sizeof(float));
        if (m->n_extra)
            memcpy(b->E + i * m->n_extra, ps_mat_row(&D->Es, k), m->n_extra * sizeof(float));
        b->q[i] = D->p->text_idx[k];
        b->y[i] = D->y ? D->y[k] : 0.0f;
    }
}

static void forward(const ps_bilinear *m, batch *b)
{
    size_t r = m->rank, r1 = r + 1;
    ps_gemm_nt(b->T, m->dt, m->U, m->dt, b->Ut, r1, b->n, r1, m->dt);
    ps_gemm_nt(b->P, m->dp, m->V, m->dp, b->Vp, r1, b->n, r1, m->dp);
    for (size_t i = 0; i < b->n; i++) {
        const float *u = b->Ut + i * r1, *v = b->Vp + i * r1;
        float z = ps_dot_f32(u, v, r) + u[r] + v[r] + m->b;
        if (m->n_extra)
            z += ps_dot_f32(m->we, b->E + i * m->n_extra, m->n_extra);
        b->z[i] = z;
    }
}

typedef struct order_item {
    uint32_t q;
    size_t i;
} order_item;

static int cmp_order(const void *pa, const void *pb)
{
    const order_item *a = pa, *b = pb;
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The objective over n rows: MSE + weight * mean ranking loss.  Writes
 * d objective / d z into dz when it is not NULL. */
static double objective(const ps_bilinear *m, const float *z, const float *y, const uint32_t *q,
                        size_t n, float weight, float margin, float *dz)
{
    double mse = 0;
    for (size_t i = 0; i < n; i++) {
        float p = out_of(m, z[i]), e = p - y[i];
        mse += (double)e * e;
        if (dz) {
            float g = 2.0f * e / (float)n;
            dz[i] = m->sigmoid_out ? g * p * (1.0f - p) : g;
        }
    }
    mse /= (double)n;
    if (!(weight > 0))
        return mse;
    order_item *o = ps_xmalloc(n * sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = (order_item){q[i], i};
    qsort(o, n, sizeof *o, cmp_order);
    /* First count the pairs, so each gradient term is scaled once. */
    size_t npairs = 0;
    for (int pass = 0; pass < 2; pass++) {
        double loss = 0;
        for (size_t s = 0; s < n;) {
            size_t e = s + 1;
            while (e < n && o[e].q == o[s].q)
                e++;
            for (size_t a = s; a < e; a++)
                for (size_t c = s; c < e; c++) {
                    size_t i = o[a].i, j = o[c].i;
                    if (!(y[i] > y[j] + margin))
                        continue;
                    if (pass == 0) {
                        npairs++;
                        continue;
                    }
                    double diff = (double)z[i] - z[j];
                    loss += softplus(-diff);
                    if (dz) {
                        /* d softplus(-diff) / d diff = -sigmoid(-diff) */
                        float g = (float)(weight / (1.0 + exp(diff)) / (double)npairs);
                        dz[i] -= g;
                        dz[j] += g;
                    }
                }
            s = e;
        }
        if (pass == 1) {
            free(o);
            return mse + weight * loss / (double)npairs;
        }
        if (npairs == 0)
            break;
    }
    free(o);
    return mse;
}

typedef struct grads {
    float *U, *V, *we;
    float b;
} grads;

static void backward(const ps_bilinear *m, batch *b, grads *g, int use_linear)
{
    size_t r = m->rank, r1 = r + 1, n = b->n;
    for (size_t i = 0; i < n; i++) {
        float d = b->dz[i];
        const float *u = b->Ut + i * r1, *v = b->Vp + i * r1;
        float *gt = b->Gt + i * r1, *gp = b->Gp + i * r1;
        for (size_t k = 0; k < r; k++) {
            gt[k] = d * v[k];
            gp[k] = d * u[k];
        }
        gt[r] = gp[r] = use_linear ? d : 0.0f;
    }
    memset(g->U, 0, r1 * m->dt * sizeof(float));
    memset(g->V, 0, r1 * m->dp * sizeof(float));
    ps_gemm_tn_acc(b->Gt, r1, b->T, m->dt, g->U, m->dt, r1, m->dt, n);
    ps_gemm_tn_acc(b->Gp, r1, b->P, m->dp, g->V, m->dp, r1, m->dp, n);
    g->b = 0;
    for (size_t k = 0; k < m->n_extra; k++)
        g->we[k] = 0;
    for (size_t i = 0; i < n; i++) {
        g->b += b->dz[i];
        for (size_t k = 0; k < m->n_extra; k++)
            g->we[k] += b->dz[i] * b->E[i * m->n_extra + k];
    }
}

/* z for a list of pairs, in chunks. */
static void predict_list(const ps_bilinear *m, const data *D, const size_t *list, size_t n,
                         float *z, uint32_t *q)
{
    batch b;
    batch_init(&b, m, CHUNK);
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        size_t k = n - i0 < CHUNK ? n - i0 : CHUNK;
        gather(m, D, list + i0, k, &b);
        forward(m, &b);
        memcpy(z + i0, b.z, k * sizeof(float));
        if (q)
            memcpy(q + i0, b.q, k * sizeof(uint32_t));
    }
    batch_free(&b);
}

/* ---- training ------------------------------------------------------------------------------- */

static int check(const ps_pairs *p, const float *y, const size_t *train, size_t n_train,
                 const size_t *val, size_t n_val, const ps_bilinear_opts *o, ps_error *err)
{
    if (ps_pairs_check(p, err) != 0)
        return ps_error_prefix(err, "bilinear");
    if (o->rank == 0 || o->rank > 4096)
        return ps_errorf(err, "bilinear: rank must lie in 1..4096, not %zu", o->rank);
    if (!(o->lr > 0) || !(o->l2 >= 0) || o->batch == 0 || o->max_epochs == 0 ||
        !(o->rank_weight >= 0) || !(o->rank_margin >= 0))
        return ps_errorf(err, "bilinear: the learning rate, batch size and epoch count must be "
                              "positive, L2 and the ranking weight and margin non-negative");
    if (n_train < 2)
        return ps_errorf(err, "bilinear: needs at least 2 training pairs, got %zu", n_train);
    for (int side = 0; side < 2; side++) {
        const size_t *list = side ? val : train;
        size_t n = side ? n_val : n_train;
        for (size_t i = 0; i < n; i++) {
            size_t k = list ? list[i] : i;
            if (k >= p->n)
                return ps_errorf(err, "bilinear: %s entry %zu: pair %zu is out of range (%zu pairs)",
                                 side ? "validation" : "training", i, k, p->n);
            int bad = !isfinite(y[k]);
            const float *t = ps_mat_row(p->text, p->text_idx[k]);
            const float *ph = ps_mat_row(p->photo, p->photo_idx[k]);
            for (size_t j = 0; j < p->text->cols && !bad; j++)
                bad = !isfinite(t[j]);
            for (size_t j = 0; j < p->photo->cols && !bad; j++)
                bad = !isfinite(ph[j]);
            for (size_t j = 0; p->extra && j < p->extra->cols && !bad; j++)
                bad = !isfinite(ps_mat_row(p->extra, k)[j]);
            if (bad)
                return ps_errorf(err, "bilinear: pair %zu: a feature or the target is not a finite number",
                                 k);
        }
    }
    return 0;
}

static size_t *index_list(const size_t *list, size_t n)
{
    size_t *out = ps_xmalloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        out[i] = list ? list[i] : i;
    return out;
}

/* Statistics of the training rows, standardized copies, initial weights. */
static void setup(ps_bilinear *m, data *D, const ps_pairs *p, const float *y, const size_t *tr,
                  size_t n_tr, const ps_bilinear_opts *o, ps_rng *rng)
{
    m->dt = p->text->cols;
    m->dp = p->photo->cols;
    m->n_extra = p->extra ? p->extra->cols : 0;
    m->rank = o->rank;
    m->sigmoid_out = o->sigmoid_out;
    unsigned char *ut = ps_xcalloc(p->text->rows ? p->text->rows : 1, 1);
    unsigned char *up = ps_xcalloc(p->photo->rows ? p->photo->rows : 1, 1);
    unsigned char *ue = ps_xcalloc(p->n ? p->n : 1, 1);
    for (size_t i = 0; i < n_tr; i++) {
        ut[p->text_idx[tr[i]]] = 1;
        up[p->photo_idx[tr[i]]] = 1;
        ue[tr[i]] = 1;
    }
    size_t ne = m->n_extra ? m->n_extra : 1;
    m->t_mean = ps_xmalloc(m->dt * sizeof(float));
    m->t_scale = ps_xmalloc(m->dt * sizeof(float));
    m->p_mean = ps_xmalloc(m->dp * sizeof(float));
    m->p_scale = ps_xmalloc(m->dp * sizeof(float));
    m->e_mean = ps_xmalloc(ne * sizeof(float));
    m->e_scale = ps_xmalloc(ne * sizeof(float));
    ps_column_stats(p->text, ut, o->standardize, m->t_mean, m->t_scale);
    ps_column_stats(p->photo, up, o->standardize, m->p_mean, m->p_scale);
    if (p->extra)
        ps_column_stats(p->extra, ue, o->standardize, m->e_mean, m->e_scale);
    free(ut);
    free(up);
    free(ue);
    D->p = p;
    D->y = y;
    D->Ts = standardized(p->text, m->t_mean, m->t_scale);
    D->Ps = standardized(p->photo, m->p_mean, m->p_scale);
    D->Es = p->extra ? standardized(p->extra, m->e_mean, m->e_scale) : (ps_mat){0, 0, NULL};

    /* Each side's projection starts with variance ~1/(4 sqrt(rank)) per
     * component, so z starts small; the linear rows start at zero. */
    size_t r = m->rank, r1 = r + 1;
    double su = 0.5 / sqrt((double)m->dt) / pow((double)r, 0.25);
    double sv = 0.5 / sqrt((double)m->dp) / pow((double)r, 0.25);
    m->U = ps_xcalloc(r1 * m->dt, sizeof(float));
    m->V = ps_xcalloc(r1 * m->dp, sizeof(float));
    for (size_t k = 0; k < r * m->dt; k++)
        m->U[k] = (float)(su * ps_rng_normal(rng));
    for (size_t k = 0; k < r * m->dp; k++)
        m->V[k] = (float)(sv * ps_rng_normal(rng));
    m->we = ps_xcalloc(m->n_extra ? m->n_extra : 1, sizeof(float));
    double ym = 0;
    for (size_t i = 0; i < n_tr; i++)
        ym += y[tr[i]];
    ym /= (double)n_tr;
    if (m->sigmoid_out) {
        double q = ym < 1e-3 ? 1e-3 : ym > 1 - 1e-3 ? 1 - 1e-3 : ym;
        ym = log(q / (1 - q));
    }
    m->b = (float)ym;
}

/* Training pairs grouped by text: group g holds pairs grp[start[g] .. start[g+1]). */
typedef struct groups {
    size_t n;
    size_t *start, *pairs, *order;
} groups;

static void group_by_text(const ps_pairs *p, const size_t *tr, size_t n_tr, groups *g)
{
    order_item *o = ps_xmalloc(n_tr * sizeof *o);
    for (size_t i = 0; i < n_tr; i++)
        o[i] = (order_item){p->text_idx[tr[i]], tr[i]};
    qsort(o, n_tr, sizeof *o, cmp_order);
    g->pairs = ps_xmalloc(n_tr * sizeof(size_t));
    g->start = ps_xmalloc((n_tr + 1) * sizeof(size_t));
    g->n = 0;
    for (size_t i = 0; i < n_tr; i++) {
        if (i == 0 || o[i].q != o[i - 1].q)
            g->start[g->n++] = i;
        g->pairs[i] = o[i].i;
    }
    g->start[g->n] = n_tr;
    g->order = ps_xmalloc(g->n * sizeof(size_t));
    for (size_t i = 0; i < g->n; i++)
        g->order[i] = i;
    free(o);
}

typedef struct params_copy {
    float *U, *V, *we, b;
} params_copy;

static void save_params(const ps_bilinear *m, params_copy *c)
{
    size_t r1 = m->rank + 1;
    memcpy(c->U, m->U, r1 * m->dt * sizeof(float));
    memcpy(c->V, m->V, r1 * m->dp * sizeof(float));
    memcpy(c->we, m->we, m->n_extra * sizeof(float));
    c->b = m->b;
}

static void restore_params(ps_bilinear *m, const params_copy *c)
{
    size_t r1 = m->rank + 1;
    memcpy(m->U, c->U, r1 * m->dt * sizeof(float));
    memcpy(m->V, c->V, r1 * m->dp * sizeof(float));
    memcpy(m->we, c->we, m->n_extra * sizeof(float));
    m->b = c->b;
}

int ps_bilinear_train(ps_bilinear *m, const ps_pairs *p, const float *y, const size_t *train,
                      size_t n_train, const size_t *val, size_t n_val,
                      const ps_bilinear_opts *opts, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_bilinear_opts o = opts ? *opts : ps_bilinear_defaults();
    if (check(p, y, train, n_train, val, n_val, &o, err) != 0)
        return -1;
    size_t *tr = index_list(train, n_train), *va = index_list(val, n_val);
    ps_rng rng;
    ps_rng_seed(&rng, o.seed);
    data D;
    setup(m, &D, p, y, tr, n_train, &o, &rng);
    groups G;
    group_by_text(p, tr, n_train, &G);
    size_t biggest = 0;
    for (size_t g = 0; g < G.n; g++)
        if (G.start[g + 1] - G.start[g] > biggest)
            biggest = G.start[g + 1] - G.start[g];

    size_t r1 = m->rank + 1, ne = m->n_extra ? m->n_extra : 1;
    batch b;
    batch_init(&b, m, o.batch + biggest);
    grads g = {ps_xmalloc(r1 * m->dt * sizeof(float)), ps_xmalloc(r1 * m->dp * sizeof(float)),
               ps_xmalloc(ne * sizeof(float)), 0};
    float *mU = ps_xcalloc(r1 * m->dt, sizeof(float)), *vU = ps_xcalloc(r1 * m->dt, sizeof(float));
    float *mV = ps_xcalloc(r1 * m->dp, sizeof(float)), *vV = ps_xcalloc(r1 * m->dp, sizeof(float));
    float *me = ps_xcalloc(ne, sizeof(float)), *ve = ps_xcalloc(ne, sizeof(float));
    float mb = 0, vb = 0;
    params_copy best = {ps_xmalloc(r1 * m->dt * sizeof(float)),
                        ps_xmalloc(r1 * m->dp * sizeof(float)), ps_xmalloc(ne * sizeof(float)), 0};
    save_params(m, &best);
    size_t *list = ps_xmalloc((o.batch + biggest) * sizeof(size_t));
    float *zval = ps_xmalloc((n_val ? n_val : 1) * sizeof(float));
    float *yval = ps_xmalloc((n_val ? n_val : 1) * sizeof(float));
    uint32_t *qval = ps_xmalloc((n_val ? n_val : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < n_val; i++)
        yval[i] = y[va[i]];
    ps_adam adam;
    ps_adam_init(&adam, o.lr);
    m->best_val_loss = INFINITY;
    size_t since_best = 0;

    for (size_t epoch = 1; epoch <= o.max_epochs; epoch++) {
        ps_rng_shuffle(&rng, G.order, G.n);
        double train_loss = 0;
        size_t steps = 0;
        for (size_t gi = 0; gi < G.n;) {
            size_t n = 0;
            while (gi < G.n && n < o.batch) {
                size_t grp = G.order[gi++];
                for (size_t k = G.start[grp]; k < G.start[grp + 1]; k++)
                    list[n++] = G.pairs[k];
            }
            gather(m, &D, list, n, &b);
            forward(m, &b);
            train_loss += objective(m, b.z, b.y, b.q, n, o.rank_weight, o.rank_margin, b.dz);
            steps++;
            backward(m, &b, &g, o.use_linear);
            ps_adam_next(&adam);
            ps_adam_update(&adam, m->U, g.U, mU, vU, r1 * m->dt, o.l2);
            ps_adam_update(&adam, m->V, g.V, mV, vV, r1 * m->dp, o.l2);
            ps_adam_update(&adam, m->we, g.we, me, ve, m->n_extra, o.l2);
            ps_adam_update(&adam, &m->b, &g.b, &mb, &vb, 1, 0);
        }
        m->epochs_run = epoch;
        double val_loss = NAN;
        if (n_val) {
            predict_list(m, &D, va, n_val, zval, qval);
            val_loss = objective(m, zval, yval, qval, n_val, o.rank_weight, o.rank_margin, NULL);
            if (val_loss < m->best_val_loss) {
                m->best_val_loss = val_loss;
                m->best_epoch = epoch;
                save_params(m, &best);
                since_best = 0;
            } else {
                since_best++;
            }
        }
        if (o.log)
            fprintf(o.log, "bilinear: epoch %zu train_loss %.6f val_loss %.6f\n", epoch,
                    train_loss / (double)steps, val_loss);
        if (n_val && since_best >= o.patience)
            break;
    }
    if (n_val)
        restore_params(m, &best);
    else
        m->best_epoch = m->epochs_run;

    free(best.U);
    free(best.V);
    free(best.we);
    free(mU);
    free(vU);
    free(mV);
    free(vV);
    free(me);
    free(ve);
    free(g.U);
    free(g.V);
    free(g.we);
    free(list);
    free(zval);
    free(yval);
    free(qval);
    batch_free(&b);
    free(G.start);
    free(G.pairs);
    free(G.order);
    ps_mat_free(&D.Ts);
    ps_mat_free(&D.Ps);
    ps_mat_free(&D.Es);
    free(tr);
    free(va);
    return 0;
}

/* ---- scoring ---------------------------------------------------------------------------------- */

void ps_bilinear_predict(const ps_bilinear *m, const ps_pairs *p, const size_t *idx, size_t n,
                         float *out)
{
    /* Standardize only the rows a chunk needs: gather raw rows into the
     * batch, then scale them there. */
    batch b;
    batch_init(&b, m, CHUNK);
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        size_t k = n - i0 < CHUNK ? n - i0 : CHUNK;
        b.n = k;
        for (size_t i = 0; i < k; i++) {
            size_t pr = idx ? idx[i0 + i] : i0 + i;
            standardize_row(ps_mat_row(p->text, p->text_idx[pr]), m->t_mean, m->t_scale, m->dt,
                            b.T + i * m->dt);
            standardize_row(ps_mat_row(p->photo, p->photo_idx[pr]), m->p_mean, m->p_scale, m->dp,
                            b.P + i * m->dp);
            if (m->n_extra)
                standardize_row(ps_mat_row(p->extra, pr), m->e_mean, m->e_scale, m->n_extra,
                                b.E + i * m->n_extra);
        }
        forward(m, &b);
        for (size_t i = 0; i < k; i++)
            out[i0 + i] = out_of(m, b.z[i]);
    }
    batch_free(&b);
}

void ps_bilinear_embed_text(const ps_bilinear *m, const float *t, float *out)
{
    float *ts = ps_xmalloc(m->dt * sizeof(float));
    standardize_row(t, m->t_mean, m->t_scale, m->dt, ts);
    ps_gemm_nt(ts, m->dt, m->U, m->dt, out, m->rank + 1, 1, m->rank + 1, m->dt);
    free(ts);
}

ps_mat ps_bilinear_embed_photos(const ps_bilinear *m, const ps_mat *P)
{
    size_t r1 = m->rank + 1;
    ps_mat out = ps_mat_new(P->rows, r1);
    float *ps = ps_xmalloc(CHUNK * m->dp * sizeof(float));
    for (size_t i0 = 0; i0 < P->rows; i0 += CHUNK) {
        size_t k = P->rows - i0 < CHUNK ? P->rows - i0 : CHUNK;
        for (size_t i = 0; i < k; i++)
            standardize_row(ps_mat_row(P, i0 + i), m->p_mean, m->p_scale, m->dp, ps + i * m->dp);
        ps_gemm_nt(ps, m->dp, m->V, m->dp, ps_mat_row(&out, i0), r1, k, r1, m->dp);
    }
    free(ps);
    return out;
}

void ps_bilinear_score_embedded(const ps_bilinear *m, const float *text_emb,
                                const ps_mat *photo_emb, const ps_mat *extra, float *out)
{
    size_t r = m->rank;
    for (size_t j = 0; j < photo_emb->rows; j++) {
        const float *v = ps_mat_row(photo_emb, j);
        float z = ps_dot_f32(text_emb, v, r) + text_emb[r] + v[r] + m->b;
        for (size_t k = 0; extra && k < m->n_extra; k++)
            z += m->we[k] * ((ps_mat_row(extra, j)[k] - m->e_mean[k]) / m->e_scale[k]);
        out[j] = out_of(m, z);
    }
}

void ps_bilinear_rescale(ps_bilinear *m, float a, float c)
{
    size_t r = m->rank;
    for (size_t k = 0; k < (r + 1) * m->dt; k++)
        m->U[k] *= a;
    for (size_t j = 0; j < m->dp; j++)
        m->V[r * m->dp + j] *= a;
    for (size_t k = 0; k < m->n_extra; k++)
        m->we[k] *= a;
    m->b = a * m->b + c;
}

/* ---- files ------------------------------------------------------------------------------------ */

void ps_bilinear_put(const ps_bilinear *m, ps_modelfile *f, const char *prefix)
{
    char nm[PS_MODEL_NAME_MAX];
    float dims[4] = {(float)m->dt, (float)m->dp, (float)m->n_extra, (float)m->rank};
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "dims"), dims, 4);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "sigmoid_out"), m->sigmoid_out);
    ps_modelfile_add_mat(f, ps_model_key(nm, prefix, "U"), m->U, m->rank + 1, m->dt);
    ps_modelfile_add_mat(f, ps_model_key(nm, prefix, "V"), m->V, m->rank + 1, m->dp);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "we"), m->we, m->n_extra);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "b"), m->b);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "t_mean"), m->t_mean, m->dt);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "t_scale"), m->t_scale, m->dt);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "p_mean"), m->p_mean, m->dp);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "p_scale"), m->p_scale, m->dp);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "e_mean"), m->e_mean, m->n_extra);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "e_scale"), m->e_scale, m->n_extra);
}

int ps_bilinear_save(const ps_bilinear *m, const char *path, ps_error *err)
{
    ps_modelfile f;
    ps_modelfile_init(&f, "bilinear");
    ps_bilinear_put(m, &f, "");
    int rc = ps_modelfile_save(&f, path, err);
    ps_modelfile_free(&f);
    return rc;
}

/* A copy of array prefix+name shaped d0 (x d1); with `positive`, every
 * value must be > 0 (a scale). */
static float *take(const ps_modelfile *f, const char *prefix, const char *name, uint32_t ndim,
                   size_t d0, size_t d1, int positive, ps_error *err)
{
    char nm[PS_MODEL_NAME_MAX];
    ps_model_key(nm, prefix, name);
    uint64_t dims[2] = {d0, d1};
    float *c = ps_modelfile_take(f, nm, ndim, dims, err);
    size_t n = d0 * (ndim == 2 ? d1 : 1);
    for (size_t i = 0; c && positive && i < n; i++)
        if (!(c[i] > 0)) {
            ps_errorf(err, "%s: byte offset %zu: %s[%zu] must be positive", f->source,
                      ps_modelfile_find(f, nm)->offset, nm, i);
            free(c);
            return NULL;
        }
    return c;
}

int ps_bilinear_get(ps_bilinear *m, const ps_modelfile *f, const char *prefix, ps_error *err)
{
    memset(m, 0, sizeof *m);
    char nm[PS_MODEL_NAME_MAX];
    uint64_t four[1] = {4};
    const float *dims = ps_modelfile_array(f, ps_model_key(nm, prefix, "dims"), 1, four, err);
    long sig;
    double b;
    if (!dims ||
        ps_modelfile_int(f, ps_model_key(nm, prefix, "sigmoid_out"), 0, 1, &sig, err) != 0 ||
        ps_modelfile_scalar(f, ps_model_key(nm, prefix, "b"), &b, err) != 0)
        goto fail;
    for (int k = 0; k < 4; k++)
        if (dims[k] != floorf(dims[k]) || dims[k] < (k == 2 ? 0 : 1) || dims[k] > 1e7f) {
            ps_errorf(err, "%s: byte offset %zu: dimension %d (%g) is invalid", f->source,
                      ps_modelfile_find(f, ps_model_key(nm, prefix, "dims"))->offset, k, dims[k]);
            goto fail;
        }
    m->dt = (size_t)dims[0];
    m->dp = (size_t)dims[1];
    m->n_extra = (size_t)dims[2];
    m->rank = (size_t)dims[3];
    m->sigmoid_out = (int)sig;
    m->b = (float)b;
    if (!(m->U = take(f, prefix, "U", 2, m->rank + 1, m->dt, 0, err)) ||
        !(m->V = take(f, prefix, "V", 2, m->rank + 1, m->dp, 0, err)) ||
        !(m->we = take(f, prefix, "we", 1, m->n_extra, 0, 0, err)) ||
        !(m->t_mean = take(f, prefix, "t_mean", 1, m->dt, 0, 0, err)) ||
        !(m->t_scale = take(f, prefix, "t_scale", 1, m->dt, 0, 1, err)) ||
        !(m->p_mean = take(f, prefix, "p_mean", 1, m->dp, 0, 0, err)) ||
        !(m->p_scale = take(f, prefix, "p_scale", 1, m->dp, 0, 1, err)) ||
        !(m->e_mean = take(f, prefix, "e_mean", 1, m->n_extra, 0, 0, err)) ||
        !(m->e_scale = take(f, prefix, "e_scale", 1, m->n_extra, 0, 1, err)))
        goto fail;
    return 0;
fail:
    ps_bilinear_free(m);
    return -1;
}

int ps_bilinear_load(ps_bilinear *m, const char *path, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_modelfile f;
    if (ps_modelfile_load(path, "bilinear", &f, err) != 0)
        return -1;
    int rc = ps_bilinear_get(m, &f, "", err);
    ps_modelfile_free(&f);
    return rc;
}
