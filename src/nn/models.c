/*
 * models.c - MobileNetV2 classifier, MobileNetV1 embedder and DeepLabV3
 * segmenter on the interpreter.
 *
 * The tensors picseek needs besides the graph outputs are found by the
 * graph's structure, not by name: the classifier's feature is the input of
 * the convolution whose result flows (through RESHAPE) into the SOFTMAX; the
 * segmenter's logits are the input of its ARG_MAX.  They are marked "keep"
 * so the memory plan does not reuse their space.
 */
#include "nn/models.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/paths.h"

typedef struct model_info {
    const char *name;
    const char *file;
    const char *sha256;
    const char *labels;
    const char *labels_sha256;
    int side;
    int classes;
    int features;
} model_info;

/* Checksums of the files in shared/models (SHA256SUMS), pinned here so that a
 * different model version is refused rather than silently misread. */
static const model_info INFO[] = {
    {"mobilenet_v2", "mobilenet_v2_1.0_224_quant.tflite",
     "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", "imagenet_labels.txt",
     "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1", 224, 1001, 1280},
    {"mobilenet_v1_embedding", "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
     "f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319", NULL, NULL, 224, 0,
     1024},
    {"deeplab", "deeplabv3_mnv2_pascal_quant.tflite",
     "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398",
     "pascal_voc_segmentation_labels.txt",
     "7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e", 513, 21, 0},
};

struct ps_model {
    ps_model_kind kind;
    const model_info *info;
    ps_nn_model *net;
    char **labels;
    int feature_tensor;  /* dequantized into `features` */
    int output_tensor;   /* graph output */
    int logits_tensor;   /* segmenter: ARG_MAX input */
    char *label_data;
};

const char *ps_model_file(ps_model_kind kind)
{
    return (unsigned)kind < 3 ? INFO[kind].file : NULL;
}

int ps_model_kind_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, INFO[i].name) == 0)
            return i;
    if (strcmp(name, "mobilenet_v1") == 0 || strcmp(name, "embedding") == 0)
        return PS_MODEL_EMBEDDER;
    if (strcmp(name, "deeplabv3") == 0)
        return PS_MODEL_SEGMENTER;
    return -1;
}

/* The first `n` lines of a label file, each non-empty. */
static int load_labels(ps_model *m, const char *dir, ps_error *err)
{
    const model_info *in = m->info;
    if (ps_verify_asset(dir, in->labels, in->labels_sha256, err) != 0)
        return -1;
    char *path = ps_path_join(dir, in->labels);
    size_t len;
    m->label_data = ps_read_file(path, 1 << 20, &len, err);
    if (!m->label_data) {
        free(path);
        return -1;
    }
    m->labels = ps_xcalloc((size_t)in->classes, sizeof *m->labels);
    char *p = m->label_data;
    for (int i = 0; i < in->classes; i++) {
        char *nl = strchr(p, '\n');
        if (!nl && !*p) {
            ps_errorf(err, "%s: has %d lines, expected at least %d labels", path, i, in->classes);
            free(path);
            return -1;
        }
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        if (l == 0) {
            ps_errorf(err, "%s:%d: empty label", path, i + 1);
            free(path);
            return -1;
        }
        m->labels[i] = p;
        p = nl ? nl + 1 : p + l;
    }
    free(path);
    return 0;
}

/* The classifier's feature: SOFTMAX <- [RESHAPE <-] CONV_2D <- feature. */
static int find_classifier_feature(const ps_tfl_model *t, int *feature)
{
    for (int i = 0; i < t->nops; i++) {
        if (t->ops[i].code != PS_TFL_OP_SOFTMAX)
            continue;
        int x = t->ops[i].inputs[0];
        int p = ps_tfl_producer(t, x);
        if (p >= 0 && t->ops[p].code == PS_TFL_OP_RESHAPE)
            p = ps_tfl_producer(t, t->ops[p].inputs[0]);
        if (p >= 0 && t->ops[p].code == PS_TFL_OP_CONV_2D) {
            *feature = t->ops[p].inputs[0];
            return 0;
        }
    }
    return -1;
}

static int find_argmax_input(const ps_tfl_model *t, int *logits)
{
    for (int i = 0; i < t->nops; i++)
        if (t->ops[i].code == PS_TFL_OP_ARG_MAX) {
            *logits = t->ops[i].inputs[0];
            return 0;
        }
    return -1;
}

static int check_tensor(const ps_tfl_model *t, int idx, size_t count, int type, const char *what,
                        ps_error *err)
{
    const ps_tfl_tensor *x = &t->tensors[idx];
    if (x->count != count || x->type != type)
        return ps_errorf(err, "%s: %s tensor '%.64s' has %zu %s values, expected %zu %s", t->path,
                         what, x->name, x->count, ps_tfl_type_name(x->type), count,
                         ps_tfl_type_name(type));
    return 0;
}

ps_model *ps_model_load(ps_model_kind kind, const char *models_dir, const ps_nn_options *opt,
                        ps_error *err)
{
    if ((unsigned)kind > PS_MODEL_SEGMENTER) {
        ps_errorf(err, "unknown model kind %d", (int)kind);
        return NULL;
    }
    char *dir = ps_models_dir(models_dir, err);
    if (!dir)
        return NULL;
    ps_model *m = ps_xcalloc(1, sizeof *m);
    m->kind = kind;
    m->info = &INFO[kind];
    m->feature_tensor = m->logits_tensor = -1;
    char *path = ps_path_join(dir, m->info->file);
    ps_tfl_model *t = NULL;
    if (ps_verify_asset(dir, m->info->file, m->info->sha256, err) != 0 ||
        (m->info->labels && load_labels(m, dir, err) != 0) || !(t = ps_tfl_read(path, err)))
        goto fail;

    const int side = m->info->side;
    int in = t->inputs[0];
    if (check_tensor(t, in, (size_t)side * side * 3, PS_TFL_UINT8, "input", err) != 0)
        goto fail;
    m->output_tensor = t->outputs[0];
    ps_nn_options o = {0};
    if (opt)
        o = *opt;
    o.nkeep = 0;
    if (kind == PS_MODEL_CLASSIFIER) {
        if (find_classifier_feature(t, &m->feature_tensor) != 0) {
            ps_errorf(err, "%s: no SOFTMAX fed by a final convolution: not a MobileNet "
                      "classifier", path);
            goto fail;
        }
        if (check_tensor(t, m->feature_tensor, 1280, PS_TFL_UINT8, "pre-logits", err) != 0 ||
            check_tensor(t, m->output_tensor, 1001, PS_TFL_UINT8, "output", err) != 0)
            goto fail;
        o.keep[o.nkeep++] = m->feature_tensor;
    } else if (kind == PS_MODEL_EMBEDDER) {
        m->feature_tensor = m->output_tensor;
        if (check_tensor(t, m->output_tensor, 1024, PS_TFL_UINT8, "output", err) != 0)
            goto fail;
    } else {
        if (find_argmax_input(t, &m->logits_tensor) != 0) {
            ps_errorf(err, "%s: no ARG_MAX: not a segmentation model", path);
            goto fail;
        }
        if (check_tensor(t, m->logits_tensor, (size_t)side * side * 21, PS_TFL_UINT8, "logits",
                         err) != 0 ||
            check_tensor(t, m->output_tensor, (size_t)side * side, t->tensors[m->output_tensor].type,
                         "output", err) != 0)
            goto fail;
        o.keep[o.nkeep++] = m->logits_tensor;
    }
    if (m->feature_tensor >= 0 && !t->tensors[m->feature_tensor].quantized) {
        ps_errorf(err, "%s: feature tensor is not quantized", path);
        goto fail;
    }
    m->net = ps_nn_model_new(t, &o, err);
    t = NULL; /* owned (or freed) by ps_nn_model_new */
    if (!m->net)
        goto fail;
    free(path);
    free(dir);
    return m;
fail:
    ps_tfl_free(t);
    free(path);
    free(dir);
    ps_model_free(m);
    return NULL;
}

void ps_model_free(ps_model *m)
{
    if (!m)
        return;
    ps_nn_model_free(m->net);
    free(m->labels);
    free(m->label_data);
    free(m);
}

ps_model_kind ps_model_get_kind(const ps_model *m) { return m->kind; }
const char *ps_model_name(const ps_model *m) { return m->info->name; }
int ps_model_input_side(const ps_model *m) { return m->info->side; }
int ps_model_num_classes(const ps_model *m) { return m->info->classes; }
int ps_model_feature_dim(const ps_model *m) { return m->info->features; }
const ps_nn_model *ps_model_net(const ps_model *m) { return m->net; }

size_t ps_model_input_bytes(const ps_model *m)
{
    return (size_t)m->info->side * m->info->side * 3;
}

const char *ps_model_label(const ps_model *m, int i)
{
    return m->labels && i >= 0 && i < m->info->classes ? m->labels[i] : NULL;
}

ps_nn_workspace *ps_model_workspace(const ps_model *m, int threads)
{
    return ps_nn_workspace_new(m->net, threads);
}

static void dequantize(const ps_tfl_tensor *t, const uint8_t *q, float *out)
{
    for (size_t i = 0; i < t->count; i++)
        out[i] = t->scale * (float)((int32_t)q[i] - t->zero_point);
}

int ps_model_class_map(const ps_model *m, const ps_nn_workspace *ws, uint8_t *classes, size_t n,
                       ps_error *err)
{
    if (m->kind != PS_MODEL_SEGMENTER)
        return ps_errorf(err, "%s has no class map", m->info->name);
    const ps_tfl_tensor *t = &ps_nn_model_tfl(m->net)->tensors[m->output_tensor];
    const void *data = ps_nn_tensor_data(m->net, ws, m->output_tensor, NULL);
    if (!data || n != t->count)
        return ps_errorf(err, "class map needs %zu bytes", t->count);
    for (size_t i = 0; i < n; i++) {
        int64_t c;
        if (t->type == PS_TFL_INT64) {
            memcpy(&c, (const char *)data + 8 * i, 8);
        } else {
            int32_t c32;
            memcpy(&c32, (const char *)data + 4 * i, 4);
            c = c32;
        }
        if (c < 0 || c >= m->info->classes)
            return ps_errorf(err, "pixel %zu has class %lld", i, (long long)c);
        classes[i] = (uint8_t)c;
    }
    return 0;
}

int ps_model_run(const ps_model *m, ps_nn_workspace *ws, const uint8_t *input, size_t len,
                 float *scores, float *features, ps_error *err)
{
    if (ps_nn_run(m->net, ws, input, len, err) != 0)
        return -1;
    const ps_tfl_model *t = ps_nn_model_tfl(m->net);
    if (features && m->feature_tensor >= 0)
        dequantize(&t->tensors[m->feature_tensor],
                   ps_nn_tensor_data(m->net, ws, m->feature_tensor, NULL), features);
    if (!scores)
        return 0;
    if (m->kind == PS_MODEL_CLASSIFIER) {
        dequantize(&t->tensors[m->output_tensor],
                   ps_nn_tensor_data(m->net, ws, m->output_tensor, NULL), scores);
    } else if (m->kind == PS_MODEL_SEGMENTER) {
        size_t n = t->tensors[m->output_tensor].count;
        uint8_t *classes = ps_xmalloc(n);
        if (ps_model_class_map(m, ws, classes, n, err) != 0) {
            free(classes);
            return -1;
        }
        ps_model_class_shares(m, classes, n, scores);
        free(classes);
    }
    return 0;
}

void ps_model_class_shares(const ps_model *m, const uint8_t *classes, size_t n, float *shares)
{
    size_t counts[256] = {0};
    for (size_t i = 0; i < n; i++)
        counts[classes[i]]++;
    for (int c = 0; c < m->info->classes; c++)
        shares[c] = (float)((double)counts[c] / (double)n);
}

const uint8_t *ps_model_raw_output(const ps_model *m, const ps_nn_workspace *ws, size_t *n)
{
    if (m->kind == PS_MODEL_SEGMENTER)
        return NULL;
    return ps_nn_tensor_data(m->net, ws, m->output_tensor, n);
}

const uint8_t *ps_model_raw_logits(const ps_model *m, const ps_nn_workspace *ws, size_t *n)
{
    if (m->logits_tensor < 0)
        return NULL;
    return ps_nn_tensor_data(m->net, ws, m->logits_tensor, n);
}

int ps_top_k(const float *scores, int n, int k, int *idx)
{
    if (k > n)
        k = n;
    int have = 0;
    for (int i = 0; i < n; i++) {
        /* Insertion into the sorted prefix; a later index never displaces an
         * equal score, so ties keep the lower index first. */
        int pos = have;
        while (pos > 0 && scores[idx[pos - 1]] < scores[i])
            pos--;
        if (pos >= k)
            continue;
        int last = have < k ? have : k - 1;
        for (int j = last; j > pos; j--)
            idx[j] = idx[j - 1];
        idx[pos] = i;
        if (have < k)
            have++;
    }
    return have;
}
