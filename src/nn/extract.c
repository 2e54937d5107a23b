/*
 * extract.c - the three models run one after the other on one photo.
 */
#include "nn/extract.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "image/color.h"

struct ps_extractor {
    ps_model *m[3];
};

struct ps_extractor_ws {
    ps_nn_workspace *ws[3];
    uint8_t *class_map; /* 513 x 513 segmenter classes, for the colour shares */
};

ps_extractor *ps_extractor_load(const char *models_dir, const ps_nn_options *opt, ps_error *err)
{
    ps_extractor *x = ps_xcalloc(1, sizeof *x);
    for (int k = 0; k < 3; k++) {
        x->m[k] = ps_model_load((ps_model_kind)k, models_dir, opt, err);
        if (!x->m[k]) {
            ps_extractor_free(x);
            return NULL;
        }
    }
    return x;
}

void ps_extractor_free(ps_extractor *x)
{
    if (!x)
        return;
    for (int k = 0; k < 3; k++)
        ps_model_free(x->m[k]);
    free(x);
}

const ps_model *ps_extractor_model(const ps_extractor *x, ps_model_kind kind)
{
    return (unsigned)kind < 3 ? x->m[kind] : NULL;
}

ps_extractor_ws *ps_extractor_workspace(const ps_extractor *x, int threads)
{
    ps_extractor_ws *w = ps_xcalloc(1, sizeof *w);
    for (int k = 0; k < 3; k++)
        w->ws[k] = ps_model_workspace(x->m[k], threads);
    int side = ps_model_input_side(x->m[PS_MODEL_SEGMENTER]);
    w->class_map = ps_xmalloc((size_t)side * side);
    return w;
}

void ps_extractor_ws_free(ps_extractor_ws *w)
{
    if (!w)
        return;
    for (int k = 0; k < 3; k++)
        ps_nn_workspace_free(w->ws[k]);
    free(w->class_map);
    free(w);
}

int ps_extract(const ps_extractor *x, ps_extractor_ws *w, const uint8_t *rgb224,
               const uint8_t *rgb513, ps_features *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const size_t n224 = 224 * 224 * 3, n513 = 513 * 513 * 3;
    if (ps_model_run(x->m[PS_MODEL_CLASSIFIER], w->ws[PS_MODEL_CLASSIFIER], rgb224, n224,
                     out->class_prob, out->mnv2, err) != 0 ||
        ps_model_run(x->m[PS_MODEL_EMBEDDER], w->ws[PS_MODEL_EMBEDDER], rgb224, n224, NULL,
                     out->mnv1, err) != 0)
        return -1;
    if (!rgb513) {
        ps_color_shares(rgb224, 224 * 224, NULL, out->colors[PS_COLOR_ALL], NULL);
        return 0;
    }
    const ps_model *seg = x->m[PS_MODEL_SEGMENTER];
    ps_nn_workspace *sw = w->ws[PS_MODEL_SEGMENTER];
    /* Scores NULL: the class map is read once, here, for both the class
     * shares and the colours. */
    if (ps_model_run(seg, sw, rgb513, n513, NULL, NULL, err) != 0 ||
        ps_model_class_map(seg, sw, w->class_map, 513 * 513, err) != 0)
        return -1;
    ps_model_class_shares(seg, w->class_map, 513 * 513, out->voc_area);
    /* Class 0 is background: the class map selects the foreground. */
    ps_color_shares(rgb513, 513 * 513, w->class_map, out->colors[PS_COLOR_ALL],
                    out->colors[PS_COLOR_FOREGROUND]);
    return 0;
}
