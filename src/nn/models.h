/*
 * models.h - the three pretrained networks picseek uses, on top of the
 * interpreter (interp.h).
 *
 *   PS_MODEL_CLASSIFIER  MobileNetV2 (ImageNet): 224x224 RGB -> 1001 class
 *                        probabilities (class 0 = background) and the
 *                        1280-value pre-logits feature (the pooled tensor
 *                        that feeds the final 1x1 logits convolution).
 *   PS_MODEL_EMBEDDER    MobileNetV1 embedding extractor: 224x224 RGB ->
 *                        1024-value pooled embedding.
 *   PS_MODEL_SEGMENTER   DeepLabV3 (Pascal VOC): 513x513 RGB -> per-pixel
 *                        class (21 classes), reduced to the share of pixels
 *                        of each class.
 *
 * Inputs are uint8 RGB tensors, NHWC, side x side x 3 bytes (the preprocessing
 * - center crop and resize - is the image layer's job).  Outputs are
 * dequantized to float.  Loading checks each file's SHA-256 against the
 * checksum pinned here, so a damaged or different model is refused with a
 * message saying what was expected.
 *
 * A ps_model is immutable after loading and may be shared by threads; each
 * thread runs it with its own workspace (ps_model_workspace).
 *
 * Ownership: ps_model_load returns a model freed by ps_model_free; the
 * workspace is freed with ps_nn_workspace_free before the model.
 */
#ifndef PS_NN_MODELS_H
#define PS_NN_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/interp.h"

typedef enum ps_model_kind {
    PS_MODEL_CLASSIFIER = 0,
    PS_MODEL_EMBEDDER = 1,
    PS_MODEL_SEGMENTER = 2,
} ps_model_kind;

typedef struct ps_model ps_model;

/* Load and verify a model from models_dir (NULL: ps_models_dir(NULL), that
 * is $PICSEEK_MODELS, $PICSEEK_SHARED/models or ../shared/models).  opt may
 * be NULL (TFLite's reference arithmetic). */
ps_model *ps_model_load(ps_model_kind kind, const char *models_dir, const ps_nn_options *opt,
                        ps_error *err);
void ps_model_free(ps_model *m);

ps_model_kind ps_model_get_kind(const ps_model *m);
/* "mobilenet_v2", "mobilenet_v1_embedding", "deeplab". */
const char *ps_model_name(const ps_model *m);
/* The model's file name, e.g. "mobilenet_v2_1.0_224_quant.tflite". */
const char *ps_model_file(ps_model_kind kind);
/* Parse a name as ps_model_name gives it ("mobilenet_v2", "deeplab", ...);
 * -1 if unknown. */
int ps_model_kind_parse(const char *name);

/* Side of the square input (224 or 513) and its size in bytes (side*side*3). */
int ps_model_input_side(const ps_model *m);
size_t ps_model_input_bytes(const ps_model *m);
/* Number of classes (1001, 0 for the embedder, 21) and their labels. */
int ps_model_num_classes(const ps_model *m);
const char *ps_model_label(const ps_model *m, int i);
/* Length of the feature vector (1280, 1024, 0 for the segmenter). */
int ps_model_feature_dim(const ps_model *m);

const ps_nn_model *ps_model_net(const ps_model *m);
/* A workspace for this model (threads <= 0: ps_nn_default_threads()). */
ps_nn_workspace *ps_model_workspace(const ps_model *m, int threads);

/* Run on one input tensor (exactly ps_model_input_bytes bytes).
 *   scores   (num_classes floats, may be NULL): class probabilities for the
 *            classifier, pixel fractions for the segmenter.
 *   features (feature_dim floats, may be NULL): pre-logits / embedding.
 * Returns 0, or -1 with a message. */
int ps_model_run(const ps_model *m, ps_nn_workspace *ws, const uint8_t *input, size_t len,
                 float *scores, float *features, ps_error *err);

/* After a run: the raw uint8 bytes of the main output (classifier softmax,
 * embedder embedding) or of the segmenter's logits (the 513x513x21 tensor
 * that feeds its ARG_MAX), and the segmenter's per-pixel classes (one byte
 * per pixel).  NULL when the model has no such tensor.  The class map is
 * written into `classes` (side*side bytes). */
const uint8_t *ps_model_raw_output(const ps_model *m, const ps_nn_workspace *ws, size_t *n);
const uint8_t *ps_model_raw_logits(const ps_model *m, const ps_nn_workspace *ws, size_t *n);
int ps_model_class_map(const ps_model *m, const ps_nn_workspace *ws, uint8_t *classes,
                       size_t n, ps_error *err);
/* The fraction of the n pixels of a class map (from ps_model_class_map) in
 * each class: num_classes floats into `shares`, as ps_model_run's scores
 * for the segmenter. */
void ps_model_class_shares(const ps_model *m, const uint8_t *classes, size_t n, float *shares);

/* Indices of the k largest of n scores, largest first (ties: lower index
 * first).  Returns how many were written (min(k, n)). */
int ps_top_k(const float *scores, int n, int k, int *idx);

#endif
