/*
 * interp.h - run a uint8-quantized TensorFlow Lite graph.
 *
 * ps_nn_model is a prepared model: the parsed file (tflite.h), every
 * operator's shapes checked against its inputs, its quantized multipliers
 * and clamps computed, its weights packed for the AVX2 kernels, and one
 * activation memory plan (tensors share arena space when their lifetimes do
 * not overlap).  It is immutable after loading, so any number of threads may
 * run it at once, each with its own ps_nn_workspace (the arena, per-thread
 * scratch and a small thread pool that splits big operators).
 *
 *   ps_nn_model *m = ps_nn_model_load("model.tflite", NULL, &err);
 *   ps_nn_workspace *ws = ps_nn_workspace_new(m, 0);
 *   ps_nn_run(m, ws, pixels, nbytes, &err);
 *   const uint8_t *probs = ps_nn_tensor_data(m, ws, ps_nn_output(m, 0));
 *
 * Only the values of graph outputs, constants and tensors listed in
 * ps_nn_options.keep survive a run; everything else is overwritten by later
 * operators.
 *
 * Ownership: the model owns the parsed file; the workspace must be freed
 * before its model.
 */
#ifndef PS_NN_INTERP_H
#define PS_NN_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/tflite.h"

typedef struct ps_nn_model ps_nn_model;
typedef struct ps_nn_workspace ps_nn_workspace;

#define PS_NN_MAX_KEEP 8

typedef struct ps_nn_options {
    int keep[PS_NN_MAX_KEEP]; /* extra tensors whose values must survive a run */
    int nkeep;
    int softmax_table;        /* 1: SOFTMAX through a float exp table, as TFLite's optimized
                                 uint8 kernel; 0 (default): the gemmlowp fixed-point exp of
                                 TFLite's reference kernel */
    int xnnpack;              /* 1: the arithmetic of XNNPACK, the CPU delegate of current
                                 TFLite runtimes: CONV_2D and DEPTHWISE_CONV_2D rescale in
                                 float32 with round-to-nearest-even, ADD uses 21-bit
                                 multipliers, QUANTIZE a 1/256 multiplier.  With
                                 softmax_table = 1 the outputs of the three picseek models
                                 are byte-identical to LiteRT's (tests/data/litert).
                                 0 (default): TFLite's reference fixed-point kernels.
                                 Both are faithful uint8 executions; bytes differ by
                                 rounding (a quantum here and there). */
    int armnn;                /* 1: the arithmetic of Arm NN 20.08's CpuRef backend, which
                                 computed shared/golden: every operator dequantizes to
                                 float32, computes in float in Arm NN's summation order and
                                 quantizes with round-half-away-from-zero; fused
                                 activations are separate float clamps.  Overrides
                                 xnnpack and softmax_table.  Slower than the integer
                                 modes (float MACs, 8-16 lanes per AVX2 instruction). */
} ps_nn_options;

/* Prepare a parsed model; takes ownership of tfl (freed on failure too).
 * opt may be NULL for the defaults. */
ps_nn_model *ps_nn_model_new(ps_tfl_model *tfl, const ps_nn_options *opt, ps_error *err);
/* ps_tfl_read + ps_nn_model_new. */
ps_nn_model *ps_nn_model_load(const char *path, const ps_nn_options *opt, ps_error *err);
void ps_nn_model_free(ps_nn_model *m);

/* The parsed file, for looking at tensors (shapes, quantization, names). */
const ps_tfl_model *ps_nn_model_tfl(const ps_nn_model *m);
/* Tensor index of the graph's i-th input / output. */
int ps_nn_input(const ps_nn_model *m, int i);
int ps_nn_output(const ps_nn_model *m, int i);
/* Bytes of activation memory one workspace holds. */
size_t ps_nn_arena_bytes(const ps_nn_model *m);

/* A workspace for running m; threads <= 0 picks ps_nn_default_threads(). */
ps_nn_workspace *ps_nn_workspace_new(const ps_nn_model *m, int threads);
void ps_nn_workspace_free(ps_nn_workspace *ws);
int ps_nn_workspace_threads(const ps_nn_workspace *ws);
/* 1: use the plain C reference kernels (for tests); 0: the fast ones. */
void ps_nn_workspace_set_reference(ps_nn_workspace *ws, int on);

/* Run the graph on one input tensor (the first graph input, exactly its
 * byte size).  Returns 0, or -1 with a message. */
int ps_nn_run(const ps_nn_model *m, ps_nn_workspace *ws, const void *input, size_t len,
              ps_error *err);

/* The bytes of tensor t after a run: a graph output, a kept tensor or a
 * constant; NULL for any other tensor.  *nbytes (if non-NULL) gets its size. */
const void *ps_nn_tensor_data(const ps_nn_model *m, const ps_nn_workspace *ws, int t,
                              size_t *nbytes);

#endif
