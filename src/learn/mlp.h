/*
 * mlp.h - a small fully connected network for regression.
 *
 * input (standardized) -> [Linear -> ReLU -> dropout] x hidden -> Linear
 * -> sigmoid (targets in [0, 1]) or identity, trained on mean squared
 * error with Adam, minibatches, L2 on the weights, and early stopping on a
 * validation set: after each epoch the validation MSE is measured and the
 * best weights so far are kept; training stops after `patience` epochs
 * without improvement.
 *
 * Deterministic: the seed fixes initialization, shuffling and dropout.
 * Every minibatch is split into two fixed halves whose gradients are summed
 * in a fixed order, so `threads` = 1 or 2 give identical bytes.
 *
 * At picseek's size (4,000 training rows of 2,400 features, hidden
 * [256, 64]) an epoch costs about 0.35 s of CPU.  The model owns all its
 * arrays.
 */
#ifndef PS_LEARN_MLP_H
#define PS_LEARN_MLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "learn/matrix.h"

#define PS_MLP_MAX_HIDDEN 4
#define PS_MLP_MAX_LAYERS (PS_MLP_MAX_HIDDEN + 1)

typedef struct ps_mlp_opts {
    size_t hidden[PS_MLP_MAX_HIDDEN]; /* default {256, 64} */
    size_t n_hidden;                  /* 0 .. PS_MLP_MAX_HIDDEN (0 = linear model) */
    float dropout;                    /* on hidden units; default 0.1 */
    float lr;                         /* Adam step; default 1e-3 */
    float l2;                         /* on weights, not biases; default 1e-4 */
    size_t batch;                     /* default 64 */
    size_t max_epochs;                /* default 200 */
    size_t patience;                  /* default 15 */
    int sigmoid_out;                  /* default 1 */
    int standardize;                  /* standardize inputs; default 1 */
    uint64_t seed;                    /* default 1 */
    int threads;                      /* 1 or 2; default 2 */
    FILE *log;                        /* one line per epoch, or NULL (default) */
} ps_mlp_opts;

typedef struct ps_mlp {
    size_t n_layers;                      /* weight layers = hidden layers + 1 */
    size_t sizes[PS_MLP_MAX_LAYERS + 1];  /* sizes[0] = inputs, sizes[n_layers] = 1 */
    float *W[PS_MLP_MAX_LAYERS];          /* sizes[l+1] x sizes[l], row-major */
    float *b[PS_MLP_MAX_LAYERS];          /* sizes[l+1] */
    float *mean, *scale;                  /* input standardization: (x - mean) / scale */
    int sigmoid_out;
    /* Training summary (not saved). */
    size_t epochs_run, best_epoch;
    double best_val_mse;
} ps_mlp;

ps_mlp_opts ps_mlp_defaults(void);

/* Train on rows train[0..n_train) of X, stopping early on rows
 * val[0..n_val) (n_val = 0: run max_epochs, keep the last weights).
 * y is indexed by row number of X.  *m is overwritten. */
int ps_mlp_train(ps_mlp *m, const ps_rows *X, const float *y, const size_t *train, size_t n_train,
                 const size_t *val, size_t n_val, const ps_mlp_opts *opts, ps_error *err);

/* out[i] = prediction for row idx[i] (idx NULL = row i). */
void ps_mlp_predict(const ps_mlp *m, const ps_rows *X, const size_t *idx, size_t n, float *out);

int ps_mlp_save(const ps_mlp *m, const char *path, ps_error *err);
int ps_mlp_load(ps_mlp *m, const char *path, ps_error *err);
void ps_mlp_free(ps_mlp *m);

#endif
