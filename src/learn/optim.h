/*
 * optim.h - the Adam optimizer shared by the MLP and the bilinear model.
 *
 * The caller owns the parameter, gradient and moment arrays (m and v start
 * zeroed, one of each per parameter array).  Call ps_adam_next once per
 * step, then ps_adam_update for each parameter array.
 */
#ifndef PS_LEARN_OPTIM_H
#define PS_LEARN_OPTIM_H

#include <stddef.h>

typedef struct ps_adam {
    float lr, beta1, beta2, eps;
    long t;            /* steps taken */
    float corr1, corr2; /* bias corrections of step t */
} ps_adam;

void ps_adam_init(ps_adam *a, float lr);
void ps_adam_next(ps_adam *a);
/* w -= lr * mhat / (sqrt(vhat) + eps) for the gradient g + l2 * w. */
void ps_adam_update(const ps_adam *a, float *w, const float *g, float *m, float *v, size_t n,
                    float l2);

#endif
