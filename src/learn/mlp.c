#include "learn/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/modelfile.h"
#include "learn/optim.h"
#include "learn/parallel.h"
#include "learn/rng.h"

/* Every minibatch is computed as this many fixed halves (see mlp.h). */
#define SHARDS 2
#define PREDICT_CHUNK 256

ps_mlp_opts ps_mlp_defaults(void)
{
    ps_mlp_opts o = {0};
    o.hidden[0] = 256;
    o.hidden[1] = 64;
    o.n_hidden = 2;
    o.dropout = 0.1f;
    o.lr = 1e-3f;
    o.l2 = 1e-4f;
    o.batch = 64;
    o.max_epochs = 200;
    o.patience = 15;
    o.sigmoid_out = 1;
    o.standardize = 1;
    o.seed = 1;
    o.threads = 2;
    return o;
}

void ps_mlp_free(ps_mlp *m)
{
    for (size_t l = 0; l < PS_MLP_MAX_LAYERS; l++) {
        free(m->W[l]);
        free(m->b[l]);
    }
    free(m->mean);
    free(m->scale);
    memset(m, 0, sizeof *m);
}

static size_t wcount(const ps_mlp *m, size_t l)
{
    return m->sizes[l + 1] * m->sizes[l];
}

/* Activations and gradients for up to `cap` rows. */
typedef struct shard {
    size_t cap, n;
    float *act[PS_MLP_MAX_LAYERS + 1];  /* act[0] = inputs, act[L] = output z */
    float *grad[PS_MLP_MAX_LAYERS + 1]; /* d loss / d act */
    float *gW[PS_MLP_MAX_LAYERS], *gb[PS_MLP_MAX_LAYERS];
    float *y;      /* targets of the rows */
    double sse;    /* squared error of the last forward pass */
    uint64_t seed; /* dropout stream of this step */
} shard;

static void shard_init(shard *s, const ps_mlp *m, size_t cap, int with_grads)
{
    memset(s, 0, sizeof *s);
    s->cap = cap;
    for (size_t l = 0; l <= m->n_layers; l++) {
        s->act[l] = ps_xmalloc(cap * m->sizes[l] * sizeof(float));
        if (with_grads)
            s->grad[l] = ps_xmalloc(cap * m->sizes[l] * sizeof(float));
    }
    if (with_grads) {
        for (size_t l = 0; l < m->n_layers; l++) {
            s->gW[l] = ps_xmalloc(wcount(m, l) * sizeof(float));
            s->gb[l] = ps_xmalloc(m->sizes[l + 1] * sizeof(float));
        }
        s->y = ps_xmalloc(cap * sizeof(float));
    }
}

static void shard_free(shard *s)
{
    for (size_t l = 0; l <= PS_MLP_MAX_LAYERS; l++) {
        free(s->act[l]);
        free(s->grad[l]);
    }
    for (size_t l = 0; l < PS_MLP_MAX_LAYERS; l++) {
        free(s->gW[l]);
        free(s->gb[l]);
    }
    free(s->y);
}

static float sigmoidf(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

/* Forward pass over s->n rows already in act[0].  With dropout > 0, hidden
 * units are zeroed with that probability and the rest scaled up. */
static void forward(const ps_mlp *m, shard *s, float dropout)
{
    ps_rng rng;
    ps_rng_seed(&rng, s->seed);
    float keep_scale = dropout > 0 ? 1.0f / (1.0f - dropout) : 1.0f;
    size_t n = s->n, L = m->n_layers;
    for (size_t l = 0; l < L; l++) {
        size_t in = m->sizes[l], out = m->sizes[l + 1];
        float *o = s->act[l + 1];
        ps_gemm_nt(s->act[l], in, m->W[l], in, o, out, n, out, in);
        for (size_t i = 0; i < n; i++) {
            float *oi = o + i * out;
            for (size_t j = 0; j < out; j++) {
                float v = oi[j] + m->b[l][j];
                if (l + 1 < L) {
                    v = v > 0 ? v : 0;
                    if (dropout > 0)
                        v = ps_rng_uniform(&rng) < dropout ? 0 : v * keep_scale;
                }
                oi[j] = v;
            }
        }
    }
}

static float output_of(const ps_mlp *m, float z)
{
    return m->sigmoid_out ? sigmoidf(z) : z;
}

/* Backward pass for the loss sum((pred - y)^2) / batch_total. */
static void backward(const ps_mlp *m, shard *s, size_t batch_total, float dropout)
{
    size_t n = s->n, L = m->n_layers;
    float keep_scale = dropout > 0 ? 1.0f / (1.0f - dropout) : 1.0f;
    s->sse = 0;
    for (size_t i = 0; i < n; i++) {
        float p = output_of(m, s->act[L][i]), e = p - s->y[i];
        s->sse += (double)e * e;
        float g = 2.0f * e / (float)batch_total;
        s->grad[L][i] = m->sigmoid_out ? g * p * (1.0f - p) : g;
    }
    for (size_t l = L; l-- > 0;) {
        size_t in = m->sizes[l], out = m->sizes[l + 1];
        const float *go = s->grad[l + 1];
        memset(s->gW[l], 0, wcount(m, l) * sizeof(float));
        ps_gemm_tn_acc(go, out, s->act[l], in, s->gW[l], in, out, in, n);
        memset(s->gb[l], 0, out * sizeof(float));
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < out; j++)
                s->gb[l][j] += go[i * out + j];
        if (l == 0)
            break; /* no gradient needed for the inputs */
        float *gi = s->grad[l];
        memset(gi, 0, n * in * sizeof(float));
        ps_gemm_nn_acc(go, out, m->W[l], in, gi, in, n, in, out);
        const float *a = s->act[l];
        for (size_t k = 0; k < n * in; k++)
            gi[k] = a[k] > 0 ? gi[k] * keep_scale : 0.0f;
    }
}

/* The chosen rows one after another, standardized unless mean is NULL. */
static float *gather_rows(const ps_rows *X, const size_t *idx, size_t n, const float *mean,
                          const float *scale)
{
    size_t d = X->cols;
    float *out = ps_xmalloc((n ? n : 1) * d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float *r = out + i * d;
        ps_rows_get(X, idx ? idx[i] : i, r);
        for (size_t j = 0; mean && j < d; j++)
            r[j] = (r[j] - mean[j]) / scale[j];
    }
    return out;
}

/* Predictions for n standardized rows. */
static void predict_dense(const ps_mlp *m, const float *Xs, size_t n, float *out)
{
    shard s;
    shard_init(&s, m, PREDICT_CHUNK, 0);
    size_t d = m->sizes[0];
    for (size_t i0 = 0; i0 < n; i0 += PREDICT_CHUNK) {
        s.n = n - i0 < PREDICT_CHUNK ? n - i0 : PREDICT_CHUNK;
        memcpy(s.act[0], Xs + i0 * d, s.n * d * sizeof(float));
        forward(m, &s, 0);
        for (size_t i = 0; i < s.n; i++)
            out[i0 + i] = output_of(m, s.act[m->n_layers][i]);
    }
    shard_free(&s);
}

void ps_mlp_predict(const ps_mlp *m, const ps_rows *X, const size_t *idx, size_t n, float *out)
{
    for (size_t i0 = 0; i0 < n; i0 += PREDICT_CHUNK) {
        size_t k = n - i0 < PREDICT_CHUNK ? n - i0 : PREDICT_CHUNK;
        size_t *sub = ps_xmalloc(k * sizeof(size_t));
        for (size_t i = 0; i < k; i++)
            sub[i] = idx ? idx[i0 + i] : i0 + i;
        float *Xs = gather_rows(X, sub, k, m->mean, m->scale);
        predict_dense(m, Xs, k, out + i0);
        free(Xs);
        free(sub);
    }
}

/* ---- training ----------------------------------------------------------------------------- */

typedef struct step_job {
    const ps_mlp *m;
    shard *sh;
    size_t batch_total;
    float dropout;
} step_job;

static void shard_task(void *ctx, size_t k)
{
    step_job *j = ctx;
    shard *s = &j->sh[k];
    if (s->n == 0)
        return;
    forward(j->m, s, j->dropout);
    backward(j->m, s, j->batch_total, j->dropout);
}

static int check_opts(const ps_mlp_opts *o, ps_error *err)
{
    if (o->n_hidden > PS_MLP_MAX_HIDDEN)
        return ps_errorf(err, "mlp: at most %d hidden layers, got %zu", PS_MLP_MAX_HIDDEN, o->n_hidden);
    for (size_t l = 0; l < o->n_hidden; l++)
        if (o->hidden[l] == 0 || o->hidden[l] > 65536)
            return ps_errorf(err, "mlp: hidden layer %zu has %zu units (1..65536 allowed)", l,
                             o->hidden[l]);
    if (!(o->dropout >= 0 && o->dropout < 1))
        return ps_errorf(err, "mlp: dropout must lie in [0, 1), not %g", o->dropout);
    if (!(o->lr > 0) || !(o->l2 >= 0) || o->batch == 0 || o->max_epochs == 0)
        return ps_errorf(err, "mlp: the learning rate, batch size and epoch count must be positive "
                              "and L2 non-negative");
    return 0;
}

/* Input statistics and the initial weights. */
static void init_model(ps_mlp *m, const ps_mlp_opts *o, size_t d, const float *Xraw, size_t n,
                       const float *y, ps_rng *rng)
{
    m->n_layers = o->n_hidden + 1;
    m->sizes[0] = d;
    for (size_t l = 0; l < o->n_hidden; l++)
        m->sizes[l + 1] = o->hidden[l];
    m->sizes[m->n_layers] = 1;
    m->sigmoid_out = o->sigmoid_out;
    m->mean = ps_xmalloc(d * sizeof(float));
    m->scale = ps_xmalloc(d * sizeof(float));
    ps_mat raw = {n, d, (float *)Xraw};
    ps_column_stats(&raw, NULL, o->standardize, m->mean, m->scale);
    /* He initialization for ReLU layers, 1/fan_in for the output. */
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->sizes[l], cnt = wcount(m, l);
        double sd = sqrt((l + 1 < m->n_layers ? 2.0 : 1.0) / (double)in);
        m->W[l] = ps_xmalloc(cnt * sizeof(float));
        m->b[l] = ps_xcalloc(m->sizes[l + 1], sizeof(float));
        for (size_t k = 0; k < cnt; k++)
            m->W[l][k] = (float)(sd * ps_rng_normal(rng));
    }
    /* Start the output at the mean target: the first epochs then learn
     * structure instead of the offset. */
    double ym = 0;
    for (size_t i = 0; i < n; i++)
        ym += y[i];
    ym /= (double)n;
    if (m->sigmoid_out) {
        double p = ym < 1e-3 ? 1e-3 : ym > 1 - 1e-3 ? 1 - 1e-3 : ym;
        ym = log(p / (1 - p));
    }
    m->b[m->n_layers - 1][0] = (float)ym;
}

typedef struct adam_state {
    float *mW[PS_MLP_MAX_LAYERS], *vW[PS_MLP_MAX_LAYERS];
    float *mb[PS_MLP_MAX_LAYERS], *vb[PS_MLP_MAX_LAYERS];
} adam_state;

static void copy_weights(ps_mlp *dst, const ps_mlp *src)
{
    for (size_t l = 0; l < src->n_layers; l++) {
        memcpy(dst->W[l], src->W[l], wcount(src, l) * sizeof(float));
        memcpy(dst->b[l], src->b[l], src->sizes[l + 1] * sizeof(float));
    }
}

static void alloc_like(ps_mlp *dst, const ps_mlp *src)
{
    *dst = (ps_mlp){0};
    dst->n_layers = src->n_layers;
    memcpy(dst->sizes, src->sizes, sizeof src->sizes);
    for (size_t l = 0; l < src->n_layers; l++) {
        dst->W[l] = ps_xmalloc(wcount(src, l) * sizeof(float));
        dst->b[l] = ps_xmalloc(src->sizes[l + 1] * sizeof(float));
    }
}

int ps_mlp_train(ps_mlp *m, const ps_rows *X, const float *y, const size_t *train, size_t n_train,
                 const size_t *val, size_t n_val, const ps_mlp_opts *opts, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_mlp_opts o = opts ? *opts : ps_mlp_defaults();
    if (check_opts(&o, err) != 0)
        return -1;
    if (n_train < 2)
        return ps_errorf(err, "mlp: needs at least 2 training rows, got %zu", n_train);
    if (ps_rows_check(X, train, n_train, err) != 0 || ps_rows_check(X, val, n_val, err) != 0)
        return ps_error_prefix(err, "mlp");
    size_t d = X->cols;

    /* Raw training rows first (for the statistics), standardized in place. */
    float *Xtr = gather_rows(X, train, n_train, NULL, NULL);
    float *ytr = ps_xmalloc(n_train * sizeof(float));
    for (size_t i = 0; i < n_train; i++) {
        ytr[i] = y[train ? train[i] : i];
        int bad = !isfinite(ytr[i]);
        for (size_t j = 0; j < d && !bad; j++)
            bad = !isfinite(Xtr[i * d + j]);
        if (bad) {
            free(Xtr);
            free(ytr);
            return ps_errorf(err, "mlp: row %zu: a feature or the target is not a finite number",
                             train ? train[i] : i);
        }
    }
    ps_rng rng;
    ps_rng_seed(&rng, o.seed);
    init_model(m, &o, d, Xtr, n_train, ytr, &rng);
    for (size_t i = 0; i < n_train; i++)
        for (size_t j = 0; j < d; j++)
            Xtr[i * d + j] = (Xtr[i * d + j] - m->mean[j]) / m->scale[j];
    float *Xval = gather_rows(X, val, n_val, m->mean, m->scale);
    float *yval = ps_xmalloc((n_val ? n_val : 1) * sizeof(float));
    float *pval = ps_xmalloc((n_val ? n_val : 1) * sizeof(float));
    for (size_t i = 0; i < n_val; i++)
        yval[i] = y[val ? val[i] : i];

    size_t B = o.batch < n_train ? o.batch : n_train;
    shard sh[SHARDS];
    for (int k = 0; k < SHARDS; k++)
        shard_init(&sh[k], m, (B + SHARDS - 1) / SHARDS, 1);
    adam_state st;
    for (size_t l = 0; l < m->n_layers; l++) {
        st.mW[l] = ps_xcalloc(wcount(m, l), sizeof(float));
        st.vW[l] = ps_xcalloc(wcount(m, l), sizeof(float));
        st.mb[l] = ps_xcalloc(m->sizes[l + 1], sizeof(float));
        st.vb[l] = ps_xcalloc(m->sizes[l + 1], sizeof(float));
    }
    ps_mlp best;
    alloc_like(&best, m);
    copy_weights(&best, m);
    ps_adam adam;
    ps_adam_init(&adam, o.lr);
    size_t *order = ps_xmalloc(n_train * sizeof(size_t));
    for (size_t i = 0; i < n_train; i++)
        order[i] = i;
    m->best_val_mse = INFINITY;
    size_t since_best = 0;

    for (size_t epoch = 1; epoch <= o.max_epochs; epoch++) {
        ps_rng_shuffle(&rng, order, n_train);
        double train_sse = 0;
        for (size_t s0 = 0; s0 < n_train; s0 += B) {
            size_t nb = n_train - s0 < B ? n_train - s0 : B, half = (nb + 1) / 2;
            for (int k = 0; k < SHARDS; k++) {
                size_t from = s0 + (k ? half : 0);
                sh[k].n = k ? nb - half : half;
                sh[k].seed = ps_rng_u64(&rng);
                for (size_t i = 0; i < sh[k].n; i++) {
                    memcpy(sh[k].act[0] + i * d, Xtr + order[from + i] * d, d * sizeof(float));
                    sh[k].y[i] = ytr[order[from + i]];
                }
            }
            step_job job = {m, sh, nb, o.dropout};
            ps_parallel_run(o.threads, SHARDS, shard_task, &job);
            ps_adam_next(&adam);
            for (size_t l = 0; l < m->n_layers; l++) {
                if (sh[1].n) {
                    for (size_t k = 0; k < wcount(m, l); k++)
                        sh[0].gW[l][k] += sh[1].gW[l][k];
                    for (size_t k = 0; k < m->sizes[l + 1]; k++)
                        sh[0].gb[l][k] += sh[1].gb[l][k];
                }
                ps_adam_update(&adam, m->W[l], sh[0].gW[l], st.mW[l], st.vW[l], wcount(m, l), o.l2);
                ps_adam_update(&adam, m->b[l], sh[0].gb[l], st.mb[l], st.vb[l], m->sizes[l + 1], 0);
            }
            train_sse += sh[0].sse + (sh[1].n ? sh[1].sse : 0);
        }
        m->epochs_run = epoch;
        double val_mse = NAN;
        if (n_val) {
            predict_dense(m, Xval, n_val, pval);
            double s = 0;
            for (size_t i = 0; i < n_val; i++)
                s += ((double)pval[i] - yval[i]) * ((double)pval[i] - yval[i]);
            val_mse = s / (double)n_val;
            if (val_mse < m->best_val_mse) {
                m->best_val_mse = val_mse;
                m->best_epoch = epoch;
                copy_weights(&best, m);
                since_best = 0;
            } else {
                since_best++;
            }
        }
        if (o.log)
            fprintf(o.log, "mlp: epoch %zu train_mse %.6f val_mse %.6f\n", epoch,
                    train_sse / (double)n_train, val_mse);
        if (n_val && since_best >= o.patience)
            break;
    }
    if (n_val)
        copy_weights(m, &best);
    else
        m->best_epoch = m->epochs_run;

    free(order);
    ps_mlp_free(&best);
    for (size_t l = 0; l < m->n_layers; l++) {
        free(st.mW[l]);
        free(st.vW[l]);
        free(st.mb[l]);
        free(st.vb[l]);
    }
    for (int k = 0; k < SHARDS; k++)
        shard_free(&sh[k]);
    free(Xtr);
    free(ytr);
    free(Xval);
    free(yval);
    free(pval);
    return 0;
}

/* ---- files ------------------------------------------------------------------------------------ */

void ps_mlp_put(const ps_mlp *m, ps_modelfile *f, const char *prefix)
{
    char nm[PS_MODEL_NAME_MAX];
    float sizes[PS_MLP_MAX_LAYERS + 1];
    for (size_t l = 0; l <= m->n_layers; l++)
        sizes[l] = (float)m->sizes[l];
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "sizes"), sizes, m->n_layers + 1);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "sigmoid_out"), m->sigmoid_out);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "input_mean"), m->mean, m->sizes[0]);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "input_scale"), m->scale, m->sizes[0]);
    for (size_t l = 0; l < m->n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "W%zu", l);
        ps_modelfile_add_mat(f, ps_model_key(nm, prefix, name), m->W[l], m->sizes[l + 1],
                             m->sizes[l]);
        snprintf(name, sizeof name, "b%zu", l);
        ps_modelfile_add_vec(f, ps_model_key(nm, prefix, name), m->b[l], m->sizes[l + 1]);
    }
}

int ps_mlp_save(const ps_mlp *m, const char *path, ps_error *err)
{
    ps_modelfile f;
    ps_modelfile_init(&f, "mlp");
    ps_mlp_put(m, &f, "");
    int rc = ps_modelfile_save(&f, path, err);
    ps_modelfile_free(&f);
    return rc;
}

static float *take(const ps_modelfile *f, const char *name, uint32_t ndim, uint64_t d0, uint64_t d1,
                   ps_error *err)
{
    uint64_t dims[2] = {d0, d1};
    return ps_modelfile_take(f, name, ndim, dims, err);
}

int ps_mlp_get(ps_mlp *m, const ps_modelfile *f, const char *prefix, ps_error *err)
{
    memset(m, 0, sizeof *m);
    char nm[PS_MODEL_NAME_MAX];
    const char *path = f->source;
    size_t ns = 0;
    long sig;
    const float *sizes = ps_modelfile_vec(f, ps_model_key(nm, prefix, "sizes"), &ns, err);
    if (!sizes ||
        ps_modelfile_int(f, ps_model_key(nm, prefix, "sigmoid_out"), 0, 1, &sig, err) != 0)
        goto fail;
    if (ns < 2 || ns > PS_MLP_MAX_LAYERS + 1) {
        ps_errorf(err, "%s: byte offset %zu: '%ssizes' has %zu entries, expected 2..%d", path,
                  ps_modelfile_find(f, ps_model_key(nm, prefix, "sizes"))->offset, prefix, ns,
                  PS_MLP_MAX_LAYERS + 1);
        goto fail;
    }
    for (size_t l = 0; l < ns; l++) {
        if (sizes[l] != floorf(sizes[l]) || sizes[l] < 1 || sizes[l] > 1e7f ||
            (l == ns - 1 && sizes[l] != 1)) {
            ps_errorf(err, "%s: byte offset %zu: layer size %zu (%g) is invalid", path,
                      ps_modelfile_find(f, ps_model_key(nm, prefix, "sizes"))->offset, l,
                      sizes[l]);
            goto fail;
        }
        m->sizes[l] = (size_t)sizes[l];
    }
    m->n_layers = ns - 1;
    m->sigmoid_out = (int)sig;
    m->mean = take(f, ps_model_key(nm, prefix, "input_mean"), 1, m->sizes[0], 0, err);
    m->scale = m->mean ? take(f, ps_model_key(nm, prefix, "input_scale"), 1, m->sizes[0], 0, err)
                       : NULL;
    if (!m->scale)
        goto fail;
    for (size_t j = 0; j < m->sizes[0]; j++)
        if (!(m->scale[j] > 0)) {
            ps_errorf(err, "%s: byte offset %zu: %sinput_scale[%zu] must be positive", path,
                      ps_modelfile_find(f, ps_model_key(nm, prefix, "input_scale"))->offset,
                      prefix, j);
            goto fail;
        }
    for (size_t l = 0; l < m->n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "W%zu", l);
        m->W[l] = take(f, ps_model_key(nm, prefix, name), 2, m->sizes[l + 1], m->sizes[l], err);
        snprintf(name, sizeof name, "b%zu", l);
        m->b[l] = m->W[l] ? take(f, ps_model_key(nm, prefix, name), 1, m->sizes[l + 1], 0, err)
                          : NULL;
        if (!m->b[l])
            goto fail;
    }
    return 0;
fail:
    ps_mlp_free(m);
    return -1;
}

int ps_mlp_load(ps_mlp *m, const char *path, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_modelfile f;
    if (ps_modelfile_load(path, "mlp", &f, err) != 0)
        return -1;
    int rc = ps_mlp_get(m, &f, "", err);
    ps_modelfile_free(&f);
    return rc;
}
