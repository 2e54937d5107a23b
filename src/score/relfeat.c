/*
 * relfeat.c - photo, text and pair features for the learned scores.
 */
#include "score/relfeat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"

static const char *const PHOTO_NAMES[] = {"mnv2", "mnv1", "logprob", "voc", "zs", NULL};
static const char *const TEXT_NAMES[] = {"glove", "zs", NULL};
static const char *const EXTRA_NAMES[] = {"zs",        "zsclass", "zsvec", "zsconcept",
                                           "zsvoc",     "zscolor", NULL};

static const char *const *names_of(int side)
{
    return side == PS_RF_PHOTO ? PHOTO_NAMES : side == PS_RF_TEXT ? TEXT_NAMES : EXTRA_NAMES;
}

int ps_relfeat_parse(int side, const char *s, unsigned *mask, ps_error *err)
{
    const char *const *names = names_of(side);
    *mask = 0;
    if (strcmp(s, "none") == 0)
        return 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        int found = 0;
        for (int i = 0; names[i]; i++)
            if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0) {
                *mask |= 1u << i;
                found = 1;
            }
        if (!found) {
            ps_buf known = {0};
            for (int i = 0; names[i]; i++)
                ps_buf_printf(&known, "%s%s", i ? ", " : "", names[i]);
            ps_errorf(err, "unknown feature block '%.*s' (known: %s, or none)", (int)n, s,
                      known.data);
            ps_buf_free(&known);
            return -1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

void ps_relfeat_format(int side, unsigned mask, char *out, size_t size)
{
    const char *const *names = names_of(side);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; names[i]; i++)
        if (mask & (1u << i)) {
            int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", names[i]);
            if (w < 0 || (size_t)w >= size - used)
                return;
            used += (size_t)w;
        }
    if (!used)
        snprintf(out, size, "none");
}

size_t ps_relfeat_photo_dim(unsigned mask, size_t zdim)
{
    size_t d = 0;
    if (mask & PS_PF_MNV2)
        d += PS_MNV2_FEATURE_DIM;
    if (mask & PS_PF_MNV1)
        d += PS_MNV1_EMBED_DIM;
    if (mask & PS_PF_LOGPROB)
        d += PS_IMAGENET_CLASSES;
    if (mask & PS_PF_VOC)
        d += PS_VOC_CLASSES;
    if (mask & PS_PF_ZS)
        d += zdim;
    return d;
}

size_t ps_relfeat_text_dim(unsigned mask, size_t zdim, size_t gdim)
{
    return (mask & PS_TF_GLOVE ? gdim : 0) + (mask & PS_TF_ZS ? zdim : 0);
}

size_t ps_relfeat_extra_dim(unsigned mask)
{
    size_t n = 0;
    for (unsigned m = mask & PS_EF_ALL; m; m &= m - 1)
        n++;
    return n;
}

void ps_relfeat_photo(unsigned mask, const ps_features *f, const float *zs_photo, size_t zdim,
                      float *out)
{
    if (mask & PS_PF_MNV2) {
        memcpy(out, f->mnv2, sizeof f->mnv2);
        out += PS_MNV2_FEATURE_DIM;
    }
    if (mask & PS_PF_MNV1) {
        memcpy(out, f->mnv1, sizeof f->mnv1);
        out += PS_MNV1_EMBED_DIM;
    }
    if (mask & PS_PF_LOGPROB) {
        /* Probabilities span orders of magnitude; their logarithm is what
         * a linear map can use. */
        for (int i = 0; i < PS_IMAGENET_CLASSES; i++) {
            float p = f->class_prob[i];
            out[i] = logf((p > 0 ? p : 0) + 1e-4f);
        }
        out += PS_IMAGENET_CLASSES;
    }
    if (mask & PS_PF_VOC) {
        memcpy(out, f->voc_area, sizeof f->voc_area);
        out += PS_VOC_CLASSES;
    }
    if (mask & PS_PF_ZS)
        memcpy(out, zs_photo, zdim * sizeof(float));
}

void ps_relfeat_text(unsigned mask, const ps_query *q, size_t gdim, const float *zs_query,
                     size_t zdim, float *out)
{
    if (mask & PS_TF_GLOVE) {
        if (q->has_vector && q->dim == gdim)
            memcpy(out, q->vec, gdim * sizeof(float));
        else
            memset(out, 0, gdim * sizeof(float));
        out += gdim;
    }
    if (mask & PS_TF_ZS) {
        if (zs_query)
            memcpy(out, zs_query, zdim * sizeof(float));
        else
            memset(out, 0, zdim * sizeof(float));
    }
}

void ps_relfeat_extra_range(const ps_zeroshot *z, unsigned mask, size_t k, size_t *lo,
                            size_t *hi)
{
    const ps_bridge *br = ps_zeroshot_bridge(z);
    size_t nd = ps_bridge_ndims(br), nc = ps_bridge_nconcepts(br), dim = ps_zeroshot_dim(z);
    size_t vo = ps_zeroshot_vector_offset(z);
    /* [lo, hi) of each block: all, all but the vector, vector, concepts, VOC,
     * colours. */
    const size_t range[6][2] = {{0, dim}, {0, vo}, {vo, dim}, {0, nc}, {nc, nd}, {nd, vo}};
    size_t seen = 0;
    for (int bit = 0; bit < 6; bit++) {
        if (!(mask & (1u << bit)))
            continue;
        if (seen++ != k)
            continue;
        *lo = range[bit][0];
        *hi = range[bit][1];
        return;
    }
    *lo = *hi = 0;
}

void ps_relfeat_extra(unsigned mask, const ps_zeroshot *z, const float *zs_query,
                      const float *zs_photo, float *out)
{
    size_t n = ps_relfeat_extra_dim(mask);
    for (size_t k = 0; k < n; k++) {
        size_t lo, hi;
        ps_relfeat_extra_range(z, mask, k, &lo, &hi);
        out[k] = ps_dot_f32(zs_query + lo, zs_photo + lo, hi - lo);
    }
}
