#include "learn/optim.h"

#include <math.h>

void ps_adam_init(ps_adam *a, float lr)
{
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->t = 0;
    a->corr1 = a->corr2 = 1.0f;
}

void ps_adam_next(ps_adam *a)
{
    a->t++;
    a->corr1 = (float)(1.0 - pow(a->beta1, (double)a->t));
    a->corr2 = (float)(1.0 - pow(a->beta2, (double)a->t));
}

void ps_adam_update(const ps_adam *a, float *w, const float *g, float *m, float *v, size_t n,
                    float l2)
{
    const float b1 = a->beta1, b2 = a->beta2;
    const float step = a->lr / a->corr1, inv_c2 = 1.0f / a->corr2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= step * m[i] / (sqrtf(v[i] * inv_c2) + a->eps);
    }
}
